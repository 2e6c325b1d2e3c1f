/**
 * Prometheus metrics of `hookflash serve` (prom-client), in a Registry of their own so that two
 * servers in one process (tests) or a host application's own metrics never mix:
 *
 *   hookflash_registrations            gauge   live bindings in the store (read at scrape time)
 *   hookflash_transactions             gauge   live SIP transactions
 *   hookflash_calls_active             gauge   calls between INVITE 2xx and BYE through this node
 *   hookflash_sip_requests_total       counter requests received, by method
 *   hookflash_sip_responses_total      counter responses sent or forwarded, by code and method
 *   hookflash_dropped_total            counter requests refused by the guard (rate, block, sanity...), by reason
 *   hookflash_blocked_sources          gauge   source addresses on the block list
 *   process_*, nodejs_*                        prom-client's default process metrics
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** What the gauges read when scraped. */
export interface MetricsSource {
  registrations(): Promise<number>;
  transactions(): number;
  activeCalls(): number;
  /** Source addresses blocked now (the request guard); absent: 0. */
  blockedSources?(): number;
}

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method'>;
  private readonly responses: Counter<'code' | 'method'>;
  private readonly drops: Counter<'reason'>;

  constructor(source: MetricsSource, labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    new Gauge({
      name: 'hookflash_registrations', help: 'Live registrations (bindings) in the store', registers,
      async collect() {
        this.set(await source.registrations());
      },
    });
    new Gauge({
      name: 'hookflash_transactions', help: 'Live SIP transactions', registers,
      collect() {
        this.set(source.transactions());
      },
    });
    new Gauge({
      name: 'hookflash_calls_active', help: 'Calls established through this node and not yet ended', registers,
      collect() {
        this.set(source.activeCalls());
      },
    });
    new Gauge({
      name: 'hookflash_blocked_sources', help: 'Source addresses on the block list', registers,
      collect() {
        this.set(source.blockedSources?.() ?? 0);
      },
    });
    this.drops = new Counter({ name: 'hookflash_dropped_total', help: 'Requests refused before any work, by reason', labelNames: ['reason'], registers });
    this.requests = new Counter({ name: 'hookflash_sip_requests_total', help: 'SIP requests received', labelNames: ['method'], registers });
    this.responses = new Counter({
      name: 'hookflash_sip_responses_total', help: 'SIP responses sent or forwarded', labelNames: ['code', 'method'], registers,
    });
  }

  request(method: string): void {
    this.requests.inc({ method });
  }

  /** A request refused by the guard (dropped or answered 503/400/403 without a transaction). */
  dropped(reason: string): void {
    this.drops.inc({ reason });
  }

  response(code: number, method: string): void {
    this.responses.inc({ code: String(code), method });
  }

  /** The text exposition format and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}

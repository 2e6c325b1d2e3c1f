/**
 * bench:transactions, throughput: hookflash as a closed-loop UAC. A window of N OPTIONS client
 * transactions is kept outstanding: each final response (or failure) starts the next one, until
 * the run's end. Only transactions that complete inside the measured interval (after warm-up)
 * count; their rate is the result.
 */
import { createRequest, createResponse, type SipRequest, type SipResponse } from '../../src/message/index.js';
import type { ClientTransaction, ClientTransactionListener, InviteServerTransaction, ServerTransaction, TransactionError } from '../../src/transaction/index.js';
import type { Source, Target } from '../../src/transport/index.js';
import { startStack, type StackCounters } from './stack.js';

export interface UacPhaseHooks {
  /** Called when warm-up ends and measuring starts (reset the peer's counters here). */
  measureStart?(): Promise<void> | void;
  /** Called when measuring ends, before the drain (read the peer's counters here). */
  measureEnd?(): Promise<void> | void;
}

export interface HookflashUacResult {
  window: number;
  measuredMs: number;
  /** Final responses 200 received inside the measured interval. */
  completed: number;
  /** completed per second of the measured interval. */
  rate: number;
  /** Final responses other than 200 inside the measured interval. */
  non200: number;
  /** Timer F fired (whole run, drain included). Timer F is 64*T1 = 32 s: longer than a run. */
  timeouts: number;
  /** Transport errors and other failures (whole run). */
  errors: number;
  /** Transactions started over the whole run (warm-up and measured interval). */
  started: number;
  /** Request retransmissions (Timer E) handed to the transport over the whole run, drain included. */
  retransmissions: number;
  /** Still without a final response when the drain gave up (they would end in Timer F). */
  unfinished: number;
  /** UAC CPU time (user + system) per completed transaction in the measured interval, µs. */
  cpuUsPerTx: number;
  /** Latency, ms, of the transactions completed in the measured interval. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** Live client transactions at the end of the measured interval (Completed ones wait for Timer K, T4). */
  liveAtEnd: number;
  timerHeapAtEnd: number;
  counters: StackCounters;
  transportWarnings: number;
  transportErrors: number;
  firstLogLines: string[];
}

const FROM = '<sip:bench@127.0.0.1>';

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/**
 * Runs the UAC against 127.0.0.1:`port`: `warmupMs` unmeasured, `durationMs` measured, then at most
 * `drainMs` for the outstanding ones to finish.
 */
export async function runHookflashUac(o: { port: number; window: number; warmupMs: number; durationMs: number; drainMs: number; method?: 'OPTIONS' | 'MESSAGE'; hooks?: UacPhaseHooks }): Promise<HookflashUacResult> {
  const method = o.method ?? 'OPTIONS';
  const stack = await startStack({
    onRequest(request: SipRequest, tx: ServerTransaction): void {
      // The UAC takes no requests; anything that comes is refused.
      tx.respond(createResponse(request, 405));
    },
    onAck(_ack: SipRequest, _source: Source, _tx: InviteServerTransaction | undefined): void {},
  });
  const target: Target = { protocol: 'UDP', address: '127.0.0.1', port: o.port };
  const uri = `sip:uas@127.0.0.1:${o.port}`;
  const to = `<${uri}>`;

  let measuring = false;
  let stopping = false;
  let outstanding = 0;
  let started = 0;
  let completed = 0;
  let non200 = 0;
  let timeouts = 0;
  let errors = 0;
  const latencies: number[] = [];
  const startedAt = new Map<ClientTransaction, number>();
  let drained: (() => void) | undefined;

  const launch = (): void => {
    const request = createRequest(
      method === 'MESSAGE'
        ? { method, uri, from: FROM, to, cseq: 1, body: 'bench', contentType: 'text/plain' }
        : { method, uri, from: FROM, to, cseq: 1 },
    );
    const tx = stack.layer.sendRequest(request, target, { listener });
    startedAt.set(tx, performance.now());
    started++;
    outstanding++;
  };
  const finish = (tx: ClientTransaction, outcome: 'ok' | 'other' | 'timeout' | 'error'): void => {
    const t0 = startedAt.get(tx);
    startedAt.delete(tx);
    outstanding--;
    if (outcome === 'timeout') timeouts++;
    else if (outcome === 'error') errors++;
    else if (measuring) {
      if (outcome === 'ok') {
        completed++;
        if (t0 !== undefined) latencies.push(performance.now() - t0);
      } else non200++;
    }
    if (!stopping) launch();
    else if (outstanding === 0) drained?.();
  };
  const listener: ClientTransactionListener = {
    onResponse(response: SipResponse, tx: ClientTransaction): void {
      if (response.status >= 200) finish(tx, response.status === 200 ? 'ok' : 'other');
    },
    onError(error: TransactionError, tx: ClientTransaction): void {
      finish(tx, error.code === 'ERR_TIMEOUT' ? 'timeout' : 'error');
    },
  };

  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < o.window; i++) launch();
  await sleep(o.warmupMs);

  await o.hooks?.measureStart?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await sleep(o.durationMs);
  measuring = false;
  const measuredMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  stopping = true;
  const liveAtEnd = stack.layer.clientCount;
  const timerHeapAtEnd = stack.layer.timerCount;
  await o.hooks?.measureEnd?.();

  if (outstanding > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, o.drainMs);
      drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  const unfinished = outstanding;
  const counters = { ...stack.counters };
  await stack.close();

  const sorted = Float64Array.from(latencies).sort();
  return {
    window: o.window,
    measuredMs,
    completed,
    rate: completed / (measuredMs / 1000),
    non200,
    timeouts,
    errors,
    started,
    retransmissions: counters.requestsOut - started,
    unfinished,
    cpuUsPerTx: completed > 0 ? (cpu.user + cpu.system) / completed : NaN,
    latencyP50Ms: percentile(sorted, 0.5),
    latencyP99Ms: percentile(sorted, 0.99),
    latencyMaxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
    liveAtEnd,
    timerHeapAtEnd,
    counters,
    transportWarnings: stack.logger.warnings,
    transportErrors: stack.logger.errors,
    firstLogLines: stack.logger.first,
  };
}

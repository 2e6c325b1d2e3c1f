/**
 * Keeps a node routing when its shared binding store (Redis) is unreachable: every successful
 * lookup is remembered (bounded, most recent kept); a lookup that fails is answered from what was
 * remembered for that AOR, bindings past their expiry left out. While the store is failing, for
 * `downMs` after each failure, remembered AORs are answered at once instead of waiting for the
 * store's retries; an AOR never seen still asks the store (and fails with it). When the store
 * answers again, its answers replace the remembered ones: the node catches up by itself.
 *
 * What this does not do: registrations made while the store is down fail (the registrar answers
 * 500 and the phone retries); they are not written locally and synced later.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Binding, LocationService } from '../registrar/binding.js';

export interface LocationCacheOptions {
  /** The clock of the "store is down" window (monotonic). */
  clock: Clock;
  logger?: Logger;
  /** AORs remembered at most. Default 100 000. */
  maxEntries?: number;
  /** After a failure, answer remembered AORs without asking the store for this long, ms. Default 1000. */
  downMs?: number;
}

export class LocationCache implements LocationService {
  private readonly store: LocationService;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly max: number;
  private readonly downMs: number;
  private readonly entries = new Map<string, Binding[]>();
  private downUntil = -Infinity;
  private failing = false;
  /** Lookups answered from memory because the store failed. */
  served = 0;

  constructor(store: LocationService, options: LocationCacheOptions) {
    this.store = store;
    this.clock = options.clock;
    this.logger = options.logger;
    this.max = Math.max(1, options.maxEntries ?? 100_000);
    this.downMs = options.downMs ?? 1000;
  }

  get size(): number {
    return this.entries.size;
  }

  async lookup(aor: string, now: number): Promise<Binding[]> {
    const remembered = this.entries.get(aor);
    if (remembered !== undefined && this.clock.now() < this.downUntil) return this.fromMemory(remembered, now);
    try {
      const bindings = await this.store.lookup(aor, now);
      this.remember(aor, bindings);
      if (this.failing) {
        this.failing = false;
        this.logger?.warn({}, 'binding store reachable again: lookups from the store');
      }
      return bindings;
    } catch (err) {
      this.downUntil = this.clock.now() + this.downMs;
      if (!this.failing) {
        this.failing = true;
        this.logger?.error({ err }, 'binding store unreachable: routing from remembered lookups');
      }
      const fallback = this.entries.get(aor);
      if (fallback === undefined) throw err;
      return this.fromMemory(fallback, now);
    }
  }

  private fromMemory(bindings: Binding[], now: number): Binding[] {
    this.served++;
    return bindings.filter((b) => b.expiresAt > now);
  }

  private remember(aor: string, bindings: Binding[]): void {
    this.entries.delete(aor);
    if (bindings.length === 0) return;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(aor, bindings);
  }
}

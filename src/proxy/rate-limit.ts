/**
 * Rate-limit primitives for the server's request guard: token buckets filed by key (a source
 * address, a user) in a table bounded in size, and a block list whose entries expire. Everything
 * is driven by the injected Clock's `now()`; nothing arms a timer, so an idle server costs nothing
 * and a FakeClock test is exact.
 *
 * Memory stays bounded under a flood from spoofed addresses: a table never holds more than
 * `maxKeys` entries; past that, the oldest entry (by first use) is forgotten, which at worst gives
 * a forgotten sender a full bucket again.
 */

/** A token bucket: `rate` tokens a second, at most `burst` saved up. */
export interface BucketSpec {
  /** Tokens added per second; 0 disables the limit (every take succeeds). */
  rate: number;
  /** Most tokens held (the largest burst allowed). Default 2 × rate. */
  burst?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets by key. `take(key)` is O(1). */
export class BucketTable {
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(spec: BucketSpec, maxKeys = 100_000) {
    if (!(spec.rate >= 0) || !Number.isFinite(spec.rate)) throw new RangeError('rate must be a finite number ≥ 0');
    this.rate = spec.rate;
    this.burst = Math.max(1, spec.burst ?? spec.rate * 2);
    this.maxKeys = Math.max(1, maxKeys);
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes `n` tokens from `key`'s bucket at time `now` (ms): false when it has fewer. */
  take(key: string, now: number, n = 1): boolean {
    if (this.rate === 0) return true;
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else if (now > b.at) {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.rate) / 1000);
      b.at = now;
    }
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }

  /**
   * Like take, but says how full the bucket is left: the fraction of the burst (0 to 1) after
   * taking, or -1 when it had too few tokens (nothing taken). 1 when the limit is off.
   */
  takeLevel(key: string, now: number, n = 1): number {
    if (this.rate === 0) return 1;
    if (!this.take(key, now, n)) return -1;
    return this.buckets.get(key)!.tokens / this.burst;
  }

  /** Forgets buckets that have refilled (they behave exactly as a new one would). */
  sweep(now: number): void {
    const full = (this.burst * 1000) / this.rate;
    for (const [k, b] of this.buckets) if (now - b.at >= full) this.buckets.delete(k);
  }

  private evict(now: number): void {
    this.sweep(now);
    while (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}

/**
 * Counts events by key in a fixed window (started by the key's first event): `hit` returns how
 * many events the key had in its current window, this one included.
 */
export class WindowCounter {
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly counts = new Map<string, { n: number; start: number }>();

  constructor(windowMs: number, maxKeys = 100_000) {
    this.windowMs = windowMs;
    this.maxKeys = Math.max(1, maxKeys);
  }

  get size(): number {
    return this.counts.size;
  }

  hit(key: string, now: number): number {
    let c = this.counts.get(key);
    if (c === undefined || now - c.start >= this.windowMs) {
      if (c !== undefined) this.counts.delete(key);
      else if (this.counts.size >= this.maxKeys) this.evict(now);
      c = { n: 0, start: now };
      this.counts.set(key, c);
    }
    return ++c.n;
  }

  /** The events of `key` in its current window (0 when none or the window is over). */
  count(key: string, now: number): number {
    const c = this.counts.get(key);
    return c === undefined || now - c.start >= this.windowMs ? 0 : c.n;
  }

  reset(key: string): void {
    this.counts.delete(key);
  }

  sweep(now: number): void {
    for (const [k, c] of this.counts) {
      // Insertion order is window-start order (a new window re-inserts), so the first live one ends it.
      if (now - c.start < this.windowMs) break;
      this.counts.delete(k);
    }
  }

  private evict(now: number): void {
    this.sweep(now);
    while (this.counts.size >= this.maxKeys) this.counts.delete(this.counts.keys().next().value as string);
  }
}

/** Keys blocked until a time; expired entries are dropped when met or swept. */
export class BlockList {
  private readonly until = new Map<string, number>();
  private readonly maxKeys: number;

  constructor(maxKeys = 100_000) {
    this.maxKeys = Math.max(1, maxKeys);
  }

  /** Blocks `key` until `now + ms` (extends, never shortens, an existing block). */
  block(key: string, now: number, ms: number): void {
    const end = now + ms;
    const old = this.until.get(key);
    if (old !== undefined && old >= end) return;
    if (old === undefined && this.until.size >= this.maxKeys) {
      this.sweep(now);
      while (this.until.size >= this.maxKeys) this.until.delete(this.until.keys().next().value as string);
    }
    this.until.delete(key);
    this.until.set(key, end);
  }

  /** The time (ms, on the clock) `key` is blocked until, or undefined when it is not blocked. */
  blockedUntil(key: string, now: number): number | undefined {
    const end = this.until.get(key);
    if (end === undefined) return undefined;
    if (end <= now) {
      this.until.delete(key);
      return undefined;
    }
    return end;
  }

  unblock(key: string): void {
    this.until.delete(key);
  }

  /** Entries still blocked at `now` (sweeps the expired ones). */
  count(now: number): number {
    this.sweep(now);
    return this.until.size;
  }

  sweep(now: number): void {
    for (const [k, end] of this.until) if (end <= now) this.until.delete(k);
  }
}

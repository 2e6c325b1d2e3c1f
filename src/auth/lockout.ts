/**
 * Authentication lockout: after `maxFailures` failed Digest checks for one user name (or
 * `maxSourceFailures` from one source address) within `windowMs`, that user (or source) is locked
 * out for `lockoutMs`: its requests are refused before any credential is checked.
 *
 * A user name is counted whether or not such a user exists, so the lockout itself tells an
 * attacker nothing about which names are real. Bounded in memory (oldest entries forgotten).
 * Time comes from the injected Clock; no timer is armed.
 */
import type { Clock } from '../core/clock.js';

export interface LockoutOptions {
  clock: Clock;
  /** Failures per user name within the window that lock it; 0 disables. Default 10. */
  maxFailures?: number;
  /** Failures per source address within the window that lock it; 0 disables. Default 30. */
  maxSourceFailures?: number;
  /** Window the failures are counted in, ms. Default 60 000. */
  windowMs?: number;
  /** How long a lockout lasts, ms. Default 300 000. */
  lockoutMs?: number;
  /** Most user names and addresses tracked each. Default 100 000. */
  maxKeys?: number;
}

export type LockoutVerdict = { locked: false } | { locked: true; by: 'user' | 'source'; until: number };

interface Entry {
  failures: number;
  start: number;
  lockedUntil: number;
}

class Counter {
  private readonly map = new Map<string, Entry>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly lockoutMs: number;
  private readonly maxKeys: number;

  constructor(max: number, windowMs: number, lockoutMs: number, maxKeys: number) {
    this.max = max;
    this.windowMs = windowMs;
    this.lockoutMs = lockoutMs;
    this.maxKeys = Math.max(1, maxKeys);
  }

  get size(): number {
    return this.map.size;
  }

  lockedUntil(key: string, now: number): number | undefined {
    const e = this.map.get(key);
    return e !== undefined && e.lockedUntil > now ? e.lockedUntil : undefined;
  }

  /** Counts a failure; true when it locks the key now. */
  fail(key: string, now: number): boolean {
    if (this.max <= 0) return false;
    let e = this.map.get(key);
    if (e === undefined || (now - e.start >= this.windowMs && e.lockedUntil <= now)) {
      if (e !== undefined) this.map.delete(key);
      else if (this.map.size >= this.maxKeys) this.evict(now);
      e = { failures: 0, start: now, lockedUntil: 0 };
      this.map.set(key, e);
    }
    if (e.lockedUntil > now) return false;
    e.failures++;
    if (e.failures < this.max) return false;
    e.lockedUntil = now + this.lockoutMs;
    e.failures = 0;
    e.start = now;
    return true;
  }

  clear(key: string): void {
    this.map.delete(key);
  }

  locked(now: number): number {
    let n = 0;
    for (const e of this.map.values()) if (e.lockedUntil > now) n++;
    return n;
  }

  private evict(now: number): void {
    for (const [k, e] of this.map) if (now - e.start >= this.windowMs && e.lockedUntil <= now) this.map.delete(k);
    while (this.map.size >= this.maxKeys) this.map.delete(this.map.keys().next().value as string);
  }
}

export class AuthLockout {
  private readonly clock: Clock;
  private readonly users: Counter;
  private readonly sources: Counter;

  constructor(options: LockoutOptions) {
    this.clock = options.clock;
    const windowMs = options.windowMs ?? 60_000;
    const lockoutMs = options.lockoutMs ?? 300_000;
    const maxKeys = options.maxKeys ?? 100_000;
    this.users = new Counter(options.maxFailures ?? 10, windowMs, lockoutMs, maxKeys);
    this.sources = new Counter(options.maxSourceFailures ?? 30, windowMs, lockoutMs, maxKeys);
  }

  /** Whether a request by `user` (its credentials' user name, when it has any) from `address` must be refused. */
  check(user: string | undefined, address: string): LockoutVerdict {
    const now = this.clock.now();
    const bySource = this.sources.lockedUntil(address, now);
    if (bySource !== undefined) return { locked: true, by: 'source', until: bySource };
    const byUser = user === undefined ? undefined : this.users.lockedUntil(user.toLowerCase(), now);
    if (byUser !== undefined) return { locked: true, by: 'user', until: byUser };
    return { locked: false };
  }

  /** A failed check (credentials given and wrong): what it locked, if anything. */
  failure(user: string | undefined, address: string): { user: boolean; source: boolean } {
    const now = this.clock.now();
    return {
      user: user === undefined ? false : this.users.fail(user.toLowerCase(), now),
      source: this.sources.fail(address, now),
    };
  }

  /** A successful check: the user's failure count starts again (the source's does not). */
  success(user: string): void {
    this.users.clear(user.toLowerCase());
  }

  /** User names and source addresses locked out now. */
  lockedCount(): { users: number; sources: number } {
    const now = this.clock.now();
    return { users: this.users.locked(now), sources: this.sources.locked(now) };
  }
}

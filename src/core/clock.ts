/**
 * Time, injected. Every timer in the stack goes through a Clock so tests step time by hand
 * (FakeClock) and never sleep.
 */
export interface TimerHandle {
  /** Opaque; pass back to Clock.clearTimeout. */
  readonly id: number;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: performance.now() and node's timers (unref'd, so they never hold the process open). */
/**
 * Real time. `now()` is monotonic (performance.now(): ms since this process started), right for
 * intervals and timers but meaningless across processes. Use WallClock for times that are stored
 * or shared between nodes (registration expiry in SQLite or Redis).
 */
export class RealClock implements Clock {
  private next = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  now(): number {
    return performance.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    t.unref();
    this.timers.set(id, t);
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    const t = this.timers.get(handle.id);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(handle.id);
    }
  }
}

/** Real time whose `now()` is the Unix epoch in ms (Date.now()): comparable across restarts and nodes. */
export class WallClock extends RealClock {
  override now(): number {
    return Date.now();
  }
}

/** A clock for tests: time moves only when `advance` is called; due timers run in time order. */
export class FakeClock implements Clock {
  private time = 0;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }
  /** Moves time forward by `ms`, running every timer that falls due, in order (ties in creation order). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let dueId = -1;
      let dueAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at <= target && (t.at < dueAt || (t.at === dueAt && id < dueId))) {
          dueAt = t.at;
          dueId = id;
        }
      }
      if (dueId < 0) break;
      const t = this.timers.get(dueId)!;
      this.timers.delete(dueId);
      this.time = Math.max(this.time, t.at);
      t.fn();
    }
    this.time = target;
  }
  /** Timers still pending (tests assert none are left). */
  get pending(): number {
    return this.timers.size;
  }
}

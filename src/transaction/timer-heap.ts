/**
 * The transaction layer's one scheduler: a binary min-heap of deadlines driven by a single
 * Clock timer set for the earliest one.
 *
 * Why a heap and not a Clock timer per SIP timer: RFC 3261 §17 gives every transaction one to
 * three live timers (A/B, E/F, G/H, the 100 Trying delay...), and a retransmitting transaction
 * re-arms one every few hundred milliseconds. With 100k live transactions that would be 100k node
 * timers and a closure per retransmission. Here the transaction object itself is the heap entry
 * (it carries `deadline` and `heapIndex`), so scheduling, moving and cancelling allocate nothing,
 * cost O(log n), and the Clock holds at most one timer for the whole layer.
 */
import type { Clock, TimerHandle } from '../core/clock.js';

/** Something the heap can schedule. The heap owns both fields; the owner only reads them. */
export interface Scheduled {
  /** Position in the heap, -1 when not scheduled. */
  heapIndex: number;
  /** Clock time at which `onDeadline` is due (Infinity when not scheduled). */
  deadline: number;
  /** Called once when `deadline` has passed; may schedule itself (or anything) again. */
  onDeadline(now: number): void;
}

/** A min-heap of `Scheduled` items keyed by deadline, woken by one Clock timer. */
export class TimerHeap {
  private readonly clock: Clock;
  private readonly items: Scheduled[] = [];
  private handle: TimerHandle | undefined = undefined;
  /** When the armed Clock timer fires (Infinity when none is armed). */
  private wakeAt = Infinity;
  private running = false;
  /** The one callback handed to the Clock, bound once. */
  private readonly wake = (): void => this.run();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Items scheduled. */
  get size(): number {
    return this.items.length;
  }

  /** Schedules `item` at clock time `at`, or moves it there when already scheduled. */
  schedule(item: Scheduled, at: number): void {
    const i = item.heapIndex;
    item.deadline = at;
    if (i < 0) {
      item.heapIndex = this.items.length;
      this.items.push(item);
      this.up(item.heapIndex);
    } else {
      this.up(i);
      this.down(item.heapIndex);
    }
    this.arm();
  }

  /** Removes `item` when scheduled; harmless otherwise. */
  cancel(item: Scheduled): void {
    const i = item.heapIndex;
    if (i < 0) return;
    this.removeAt(i);
    this.arm();
  }

  /** Drops every item and the Clock timer. */
  close(): void {
    for (const item of this.items) {
      item.heapIndex = -1;
      item.deadline = Infinity;
    }
    this.items.length = 0;
    this.disarm();
  }

  private run(): void {
    this.handle = undefined;
    this.wakeAt = Infinity;
    this.running = true;
    try {
      const now = this.clock.now();
      // Items due at the same instant run in heap order; a transaction handles its own ties.
      while (this.items.length > 0 && this.items[0]!.deadline <= now) {
        const item = this.items[0]!;
        this.removeAt(0);
        item.onDeadline(now);
      }
    } finally {
      this.running = false;
      this.arm();
    }
  }

  /** Keeps the Clock timer on the earliest deadline; none when the heap is empty (tests check). */
  private arm(): void {
    if (this.running) return;
    if (this.items.length === 0) {
      this.disarm();
      return;
    }
    const next = this.items[0]!.deadline;
    // An earlier wake than needed is harmless (it finds nothing due and re-arms), so the Clock
    // timer moves only when the earliest deadline comes closer: far fewer Clock calls under load.
    if (next >= this.wakeAt) return;
    this.disarm();
    this.wakeAt = next;
    this.handle = this.clock.setTimeout(this.wake, Math.max(0, next - this.clock.now()));
  }

  private disarm(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.wakeAt = Infinity;
  }

  private removeAt(i: number): void {
    const items = this.items;
    const item = items[i]!;
    const last = items.pop()!;
    item.heapIndex = -1;
    item.deadline = Infinity;
    if (last === item) return;
    items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (p.deadline <= item.deadline) break;
      items[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && items[right]!.deadline < items[left]!.deadline ? right : left;
      const c = items[child]!;
      if (c.deadline >= item.deadline) break;
      items[i] = c;
      c.heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}

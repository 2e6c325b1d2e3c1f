import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { TimerHeap, type Scheduled } from '../../../src/transaction/timer-heap.js';

class Item implements Scheduled {
  heapIndex = -1;
  deadline = Infinity;
  constructor(readonly name: string, private readonly fired: Array<[string, number]>) {}
  onDeadline(now: number): void {
    this.fired.push([this.name, now]);
  }
}

test('TimerHeap fires items in deadline order on one Clock timer', () => {
  const clock = new FakeClock();
  const heap = new TimerHeap(clock);
  const fired: Array<[string, number]> = [];
  const deadlines = [700, 100, 400, 100, 900, 250, 50, 600];
  deadlines.forEach((d, i) => heap.schedule(new Item(`i${i}`, fired), d));
  assert.equal(heap.size, deadlines.length);
  assert.equal(clock.pending, 1);
  clock.advance(1000);
  assert.deepEqual(fired.map(([, at]) => at), [...deadlines].sort((a, b) => a - b));
  assert.equal(heap.size, 0);
  assert.equal(clock.pending, 0);
});

test('TimerHeap moves and cancels items, and drops its Clock timer when empty', () => {
  const clock = new FakeClock();
  const heap = new TimerHeap(clock);
  const fired: Array<[string, number]> = [];
  const a = new Item('a', fired);
  const b = new Item('b', fired);
  const c = new Item('c', fired);
  heap.schedule(a, 100);
  heap.schedule(b, 200);
  heap.schedule(c, 300);
  heap.schedule(c, 50);
  heap.schedule(a, 400);
  heap.cancel(b);
  heap.cancel(b);
  assert.equal(b.heapIndex, -1);
  clock.advance(1000);
  assert.deepEqual(fired, [['c', 50], ['a', 400]]);
  heap.schedule(a, 2000);
  heap.cancel(a);
  assert.equal(clock.pending, 0, 'nothing scheduled, no Clock timer');
});

test('TimerHeap lets an item reschedule itself from onDeadline', () => {
  const clock = new FakeClock();
  const heap = new TimerHeap(clock);
  const times: number[] = [];
  const item: Scheduled = {
    heapIndex: -1,
    deadline: Infinity,
    onDeadline(now: number): void {
      times.push(now);
      if (times.length < 4) heap.schedule(item, now + 100 * times.length);
    },
  };
  heap.schedule(item, 100);
  clock.advance(10_000);
  assert.deepEqual(times, [100, 200, 400, 700]);
  assert.equal(clock.pending, 0);
});

test('TimerHeap keeps order over many random deadlines', () => {
  const clock = new FakeClock();
  const heap = new TimerHeap(clock);
  const fired: Array<[string, number]> = [];
  const items: Item[] = [];
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 100_000;
  for (let i = 0; i < 2000; i++) {
    const item = new Item(String(i), fired);
    items.push(item);
    heap.schedule(item, rand());
  }
  const live = new Set(items);
  for (let i = 0; i < 2000; i += 3) {
    heap.cancel(items[i]!);
    live.delete(items[i]!);
  }
  for (let i = 1; i < 2000; i += 7) {
    heap.schedule(items[i]!, rand());
    live.add(items[i]!);
  }
  assert.equal(clock.pending, 1);
  clock.advance(100_000);
  const at = fired.map(([, t]) => t);
  assert.deepEqual(at, [...at].sort((x, y) => x - y));
  assert.equal(fired.length, live.size);
  assert.equal(clock.pending, 0);
});

test('TimerHeap.close() drops every item and the Clock timer', () => {
  const clock = new FakeClock();
  const heap = new TimerHeap(clock);
  const fired: Array<[string, number]> = [];
  const a = new Item('a', fired);
  heap.schedule(a, 10);
  heap.close();
  assert.equal(a.heapIndex, -1);
  assert.equal(clock.pending, 0);
  clock.advance(100);
  assert.deepEqual(fired, []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DtmfReceiver, DtmfSender, parseTelephoneEvent, type DtmfEvent } from '../../../src/media/telephone-event.js';

test('a digit is a series: marker first, growing duration, E bit on the last three (RFC 4733 §2.5.1)', () => {
  const s = new DtmfSender({ durationMs: 100, gapMs: 40 });
  s.enqueue('5');
  const packets = [];
  for (let i = 0; i < 12 && s.busy; i++) {
    const p = s.tick();
    if (p !== undefined) packets.push({ ...p, te: parseTelephoneEvent(p.payload)! });
  }
  assert.deepEqual(packets.map((p) => p.marker), [true, false, false, false, false, false, false]);
  assert.deepEqual(packets.map((p) => p.te.duration), [160, 320, 480, 640, 800, 800, 800]);
  assert.deepEqual(packets.map((p) => p.te.end), [false, false, false, false, true, true, true]);
  assert.ok(packets.every((p) => p.te.event === 5));
  assert.throws(() => s.enqueue('5x'), RangeError);
});

test('the receiver reports each event once, even with retransmitted ends; a lost end is reported when the next starts (RFC 4733 §2.5.2)', () => {
  const got: DtmfEvent[] = [];
  const r = new DtmfReceiver((e) => got.push(e));
  const s = new DtmfSender();
  s.enqueue('1#');
  let ts = 1000;
  let start = 0;
  for (let i = 0; i < 40; i++, ts += 160) {
    const p = s.tick();
    if (p === undefined) continue;
    if (p.eventStart) start = ts;
    r.receive(start, p.payload);
  }
  assert.deepEqual(got.map((e) => e.digit), ['1', '#']);
  assert.equal(got[0]!.durationMs, 100);
  const lost: DtmfEvent[] = [];
  const r2 = new DtmfReceiver((e) => lost.push(e));
  r2.receive(10, Buffer.from([7, 10, 0, 160]));
  r2.receive(10, Buffer.from([7, 10, 1, 64]));
  assert.equal(lost.length, 0);
  r2.receive(5000, Buffer.from([8, 10, 0, 160]));
  assert.deepEqual(lost.map((e) => e.digit), ['7']);
  r2.receive(10, Buffer.from([7, 0x8a, 1, 64]));
  assert.equal(lost.length, 1, 'a late end of a reported event is not a new digit');
  r2.receive(20, Buffer.from([1]));
  assert.equal(lost.length, 1, 'a short payload is ignored');
});

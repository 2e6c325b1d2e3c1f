import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRtcp, parseRtcp, type ReportBlock } from '../../../src/media/rtcp-packet.js';
import { ReceiverStats, ntpFromUnixMs, roundTripMs } from '../../../src/media/receiver-stats.js';

const block: ReportBlock = { ssrc: 0x1234, fractionLost: 64, cumulativeLost: -3, extendedHighestSequence: 0x10005, jitter: 77, lastSr: 0xabcd0000, delaySinceLastSr: 65536 };

test('compound SR + SDES CNAME + BYE round-trips (RFC 3550 §6.4.1, §6.5.1, §6.6)', () => {
  const buf = buildRtcp([
    { type: 'sr', ssrc: 9, sender: { ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 }, reports: [block] },
    { type: 'sdes', chunks: [{ ssrc: 9, items: [{ type: 1, text: 'user@host' }] }] },
    { type: 'bye', ssrcs: [9], reason: 'done' },
  ]);
  assert.equal(buf.length % 4, 0);
  const r = parseRtcp(buf);
  assert.ok(r.ok);
  assert.deepEqual(r.packets.map((p) => p.type), ['sr', 'sdes', 'bye']);
  const sr = r.packets[0]!;
  assert.ok(sr.type === 'sr');
  assert.deepEqual(sr.reports[0], block);
  assert.equal(sr.sender.octetCount, 5);
  const sdes = r.packets[1]!;
  assert.ok(sdes.type === 'sdes');
  assert.deepEqual(sdes.chunks, [{ ssrc: 9, items: [{ type: 1, text: 'user@host' }] }]);
  const bye = r.packets[2]!;
  assert.ok(bye.type === 'bye');
  assert.deepEqual(bye.ssrcs, [9]);
  assert.equal(bye.reason, 'done');
});

test('a compound not starting with SR or RR, or with lengths that do not add up, is refused (RFC 3550 A.2)', () => {
  const sdesOnly = buildRtcp([{ type: 'sdes', chunks: [{ ssrc: 1, items: [] }] }]);
  assert.deepEqual(parseRtcp(sdesOnly), { ok: false, reason: 'not-sr-or-rr-first' });
  const rr = buildRtcp([{ type: 'rr', ssrc: 1, reports: [block] }]);
  assert.deepEqual(parseRtcp(rr.subarray(0, rr.length - 4)), { ok: false, reason: 'bad-length' });
  const bad = Buffer.from(rr);
  bad[0] = 0x80 | 2; // claims two blocks, holds one
  bad.writeUInt16BE(7, 2);
  assert.equal(parseRtcp(bad.subarray(0, 32)).ok, false);
});

function feed(stats: ReceiverStats, seqs: number[]): void {
  for (const s of seqs) stats.updateSeq(s & 0xffff);
}

test('extended highest sequence counts wrap-arounds; cumulative loss and fraction lost per interval (RFC 3550 A.1, A.3)', () => {
  const start = 65530;
  const st = new ReceiverStats(1, start);
  const seqs: number[] = [];
  for (let i = 0; i < 20; i++) if (i !== 10 && i !== 11) seqs.push(start + i); // two lost, across the wrap
  feed(st, seqs);
  assert.equal(st.extendedMax, 65536 + ((start + 19) & 0xffff));
  assert.equal(st.cumulativeLost, 2);
  const b1 = st.reportBlock(0);
  assert.equal(b1.cumulativeLost, 2);
  // first interval: the probation packet is not counted, so expected = 18 from base, lost 2
  assert.equal(b1.fractionLost, Math.floor((2 * 256) / st.expected));
  feed(st, [start + 20, start + 21, start + 22, start + 23]);
  const b2 = st.reportBlock(0);
  assert.equal(b2.fractionLost, 0, 'nothing lost in the second interval');
  assert.equal(b2.cumulativeLost, 2);
});

test('duplicates make loss negative, reordering is not loss (RFC 3550 §6.4.1)', () => {
  const st = new ReceiverStats(1, 100);
  feed(st, [100, 101, 102, 104, 103, 105, 105, 105]);
  assert.equal(st.cumulativeLost, -2);
});

test('jitter follows J += (|D| - J)/16 (RFC 3550 A.8)', () => {
  const st = new ReceiverStats(1, 0);
  // packets every 160 units; arrival alternately 0 and 40 units late → |D| = 40 each time
  for (let i = 0; i < 400; i++) st.updateJitter(i * 160, i * 160 + (i % 2 === 0 ? 0 : 40));
  assert.ok(Math.abs(st.jitter - 40) <= 1, `jitter ${st.jitter}`);
  const steady = new ReceiverStats(2, 0);
  for (let i = 0; i < 100; i++) steady.updateJitter(i * 160, 5000 + i * 160);
  assert.equal(steady.jitter, 0);
});

test('RTT = A - LSR - DLSR (RFC 3550 §6.4.1)', () => {
  const sent = ntpFromUnixMs(1_700_000_000_000);
  const arrival = ntpFromUnixMs(1_700_000_000_000 + 150);
  // the peer held our SR for 100 ms before answering: RTT is 50 ms
  const rtt = roundTripMs({ ...block, lastSr: sent.middle, delaySinceLastSr: Math.round(0.1 * 65536) }, arrival.middle);
  assert.ok(rtt !== undefined && Math.abs(rtt - 50) < 0.1, `rtt ${rtt}`);
  assert.equal(roundTripMs({ ...block, lastSr: 0 }, arrival.middle), undefined);
});

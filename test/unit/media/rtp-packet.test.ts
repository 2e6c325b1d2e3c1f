import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRtp, parseRtp } from '../../../src/media/rtp-packet.js';
import { buildRtcp, parseRtcp } from '../../../src/media/rtcp-packet.js';

const SEED = Number(process.env['FC_SEED'] ?? 7);

test('RTP fixed header round-trips: marker, payload type, sequence, timestamp, SSRC, CSRCs (RFC 3550 §5.1)', () => {
  const payload = Buffer.from('abcdef');
  const buf = buildRtp({ payloadType: 8, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, marker: true, csrc: [1, 2], payload });
  assert.equal(buf.length, 12 + 8 + 6);
  assert.equal(buf[0], 0x82);
  const r = parseRtp(buf);
  assert.ok(r.ok);
  assert.equal(r.packet.marker, true);
  assert.equal(r.packet.payloadType, 8);
  assert.equal(r.packet.sequenceNumber, 65535);
  assert.equal(r.packet.timestamp, 0xfffffff0);
  assert.equal(r.packet.ssrc, 0xdeadbeef);
  assert.deepEqual(r.packet.csrc, [1, 2]);
  assert.deepEqual(r.packet.payload, payload);
});

test('RTP header extension and padding are skipped to find the payload (RFC 3550 §5.1, §5.3.1)', () => {
  const buf = buildRtp({
    payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: Buffer.from([9, 9, 9]),
    headerExtension: { profile: 0xbede, data: Buffer.from([1, 2, 3, 4, 5]) }, paddingBytes: 5,
  });
  const r = parseRtp(buf);
  assert.ok(r.ok);
  assert.equal(r.packet.extension, true);
  assert.equal(r.packet.padding, true);
  assert.equal(r.packet.headerExtension?.profile, 0xbede);
  assert.equal(r.packet.headerExtension?.data.length, 8);
  assert.deepEqual([...r.packet.payload], [9, 9, 9]);
});

test('malformed RTP is a typed failure: short, version, CSRC, extension, padding (RFC 3550 A.1)', () => {
  assert.deepEqual(parseRtp(Buffer.alloc(11)), { ok: false, reason: 'too-short' });
  const v1 = buildRtp({ payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: Buffer.alloc(4) });
  v1[0] = 0x40;
  assert.deepEqual(parseRtp(v1), { ok: false, reason: 'bad-version' });
  const cc = Buffer.alloc(16);
  cc[0] = 0x83; // 3 CSRCs announced, room for one
  assert.deepEqual(parseRtp(cc), { ok: false, reason: 'truncated-csrc' });
  const ext = Buffer.alloc(16);
  ext[0] = 0x90;
  ext.writeUInt16BE(10, 14); // 10 words of extension announced
  assert.deepEqual(parseRtp(ext), { ok: false, reason: 'truncated-extension' });
  const pad = buildRtp({ payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: Buffer.alloc(4) });
  pad[0] = pad[0]! | 0x20;
  pad[pad.length - 1] = 200;
  assert.deepEqual(parseRtp(pad), { ok: false, reason: 'bad-padding' });
  pad[pad.length - 1] = 0;
  assert.deepEqual(parseRtp(pad), { ok: false, reason: 'bad-padding' });
});

test('random and mutated datagrams never throw out of the RTP and RTCP parsers (fuzz)', () => {
  const valid = buildRtcp([
    { type: 'rr', ssrc: 1, reports: [{ ssrc: 2, fractionLost: 3, cumulativeLost: -4, extendedHighestSequence: 5, jitter: 6, lastSr: 7, delaySinceLastSr: 8 }] },
    { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, text: 'a@b' }] }] },
    { type: 'bye', ssrcs: [1], reason: 'bye' },
  ]);
  const rtp = buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1, csrc: [5], payload: Buffer.alloc(20) });
  const mutated = (base: Buffer) => fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { maxLength: 6 }).chain((edits) =>
    fc.nat(base.length).map((cut) => {
      const b = Buffer.from(base);
      for (const [i, v] of edits) b[i] = v;
      return b.subarray(0, cut);
    }));
  const anyBuffer = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
  fc.assert(fc.property(fc.oneof(anyBuffer, mutated(valid), mutated(rtp)), (buf) => {
    const a = parseRtp(buf);
    const b = parseRtcp(buf);
    assert.equal(typeof a.ok, 'boolean');
    assert.equal(typeof b.ok, 'boolean');
    if (a.ok) assert.ok(a.packet.payload.length <= buf.length - 12);
  }), { seed: SEED, numRuns: 3000 });
});

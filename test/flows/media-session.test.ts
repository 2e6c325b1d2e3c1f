/**
 * RTP sessions end to end on loopback (issue 7): real UDP sockets, a FakeClock driving the 20 ms
 * send clock, SDP from the offer/answer the user agent would have negotiated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { FakeClock } from '../../src/core/clock.js';
import { MediaEngine } from '../../src/media/media-engine.js';
import type { RtpSession } from '../../src/media/rtp-session.js';
import { ToneSource } from '../../src/media/audio-source.js';
import { WavRecorder } from '../../src/media/audio-sinks.js';
import { toneRatio } from '../../src/media/goertzel.js';
import { formatCryptoAttribute, newCryptoAttribute } from '../../src/media/sdes-crypto.js';
import type { DtmfEvent } from '../../src/media/telephone-event.js';
import { buildRtp } from '../../src/media/rtp-packet.js';
import { DropRelay, audioSdp, pump, settle, waitFor, type SdpOptions } from '../unit/media/session-helpers.js';

async function setup(t: { after(fn: () => void): void }, rtcpMux = false, rtcpIntervalMs = 5000): Promise<{ clock: FakeClock; engine: MediaEngine; a: RtpSession; b: RtpSession }> {
  const clock = new FakeClock();
  const engine = new MediaEngine({ clock, portMin: 30000, portMax: 39999 });
  const a = await engine.createSession({ rtcpMux, rtcpIntervalMs });
  const b = await engine.createSession({ rtcpMux, rtcpIntervalMs });
  t.after(() => {
    engine.close();
    assert.equal(engine.size, 0);
    assert.equal(clock.pending, 0, 'no timer left');
  });
  return { clock, engine, a, b };
}

/** Negotiates A (offerer) with B (answerer): each side's update() gets its own and the peer's SDP. */
function negotiate(a: RtpSession, b: RtpSession, ao: SdpOptions, bo: SdpOptions): void {
  const offer = audioSdp(a.localPort, ao);
  const answer = audioSdp(b.localPort, bo);
  assert.ok(a.update(offer, answer).ok);
  assert.ok(b.update(answer, offer).ok);
}

test('a 440 Hz tone sent by one session is recorded by the other and found by Goertzel, not at 1000 Hz', async (t) => {
  const { clock, a, b } = await setup(t);
  const rec = new WavRecorder(undefined);
  a.setSource(new ToneSource({ frequency: 440, amplitude: 0.5 }));
  b.setSink(rec);
  negotiate(a, b, { direction: 'sendonly' }, { direction: 'recvonly' });
  await pump(clock, 50, () => b.stats().packetsReceived);
  const pcm = rec.samples();
  assert.equal(pcm.length, 51 * 160, 'first packet on update, then one per tick');
  assert.ok(toneRatio(pcm, 440) > 0.9, `440 Hz share ${toneRatio(pcm, 440)}`);
  assert.ok(toneRatio(pcm, 1000) < 0.01);
  const sa = a.stats();
  const sb = b.stats();
  assert.equal(sa.packetsSent, 51);
  assert.equal(sa.bytesSent, 51 * 160);
  assert.equal(sb.packetsReceived, 51);
  assert.equal(sb.packetsSent, 0, 'recvonly never sends');
  assert.equal(sb.codec, 'PCMU');
  assert.equal(sb.packetsLost, 0);
  assert.ok(sb.mos > 4.3);
});

test('direction matrix: hold (sendonly/recvonly) stops the held side only; inactive stops both; resume restores both (RFC 3264 §8.4)', async (t) => {
  const { clock, a, b } = await setup(t);
  const total = () => a.stats().packetsReceived + b.stats().packetsReceived;
  negotiate(a, b, { direction: 'sendrecv' }, { direction: 'sendrecv' });
  await pump(clock, 10, total, 2);
  let sa = a.stats();
  let sb = b.stats();
  assert.ok(sa.packetsSent >= 10 && sb.packetsSent >= 10 && sa.packetsReceived >= 10 && sb.packetsReceived >= 10);

  // A holds B: A sendonly (music on hold), B recvonly.
  negotiate(a, b, { direction: 'sendonly' }, { direction: 'recvonly' });
  await settle();
  const [aSent, bSent, aRecv] = [a.stats().packetsSent, b.stats().packetsSent, a.stats().packetsReceived];
  await pump(clock, 10, () => b.stats().packetsReceived);
  sa = a.stats();
  sb = b.stats();
  assert.equal(sb.packetsSent, bSent, 'held side sends nothing');
  assert.ok(sa.packetsSent >= aSent + 10, 'holder keeps sending');
  assert.equal(sa.packetsReceived, aRecv);
  assert.equal(sa.direction, 'sendonly');
  assert.equal(sb.direction, 'recvonly');

  // A peer that ignores the hold and keeps sending: the holder (sendonly) drops what arrives.
  b.configure({ ...b.streamParams!, direction: 'sendrecv' });
  await pump(clock, 5, () => a.stats().packetsIgnored);
  assert.equal(a.stats().packetsReceived, aRecv, 'sendonly ignores what arrives');
  assert.ok(a.stats().packetsIgnored >= 5);

  // Inactive: nothing flows either way.
  negotiate(a, b, { direction: 'inactive' }, { direction: 'inactive' });
  await settle();
  const frozen = [a.stats().packetsSent, b.stats().packetsSent];
  clock.advance(200);
  await settle();
  assert.deepEqual([a.stats().packetsSent, b.stats().packetsSent], frozen);

  // Resume.
  negotiate(a, b, { direction: 'sendrecv' }, { direction: 'sendrecv' });
  const before = total();
  await pump(clock, 5, total, 2);
  assert.ok(total() >= before + 10);
  assert.ok(a.stats().packetsSent > frozen[0]! && b.stats().packetsSent > frozen[1]!);
});

test('DTMF both ways as RFC 4733 events on the negotiated payload type, each digit reported once', async (t) => {
  const clock = new FakeClock();
  const engine = new MediaEngine({ clock, portMin: 30000, portMax: 39999 });
  const gotA: DtmfEvent[] = [];
  const gotB: DtmfEvent[] = [];
  const a = await engine.createSession({ onDtmf: (e) => gotA.push(e) });
  const b = await engine.createSession({ onDtmf: (e) => gotB.push(e) });
  t.after(() => engine.close());
  negotiate(a, b, {}, {});
  assert.equal(a.streamParams?.telephoneEventPayloadType, 101);
  assert.ok(a.sendDtmf('12#'));
  assert.ok(b.sendDtmf('9*'));
  assert.equal(a.sendDtmf('x'), false);
  await pump(clock, 60, () => a.stats().packetsReceived + b.stats().packetsReceived, 2);
  assert.deepEqual(gotB.map((e) => e.digit), ['1', '2', '#']);
  assert.deepEqual(gotA.map((e) => e.digit), ['9', '*']);
  assert.equal(a.stats().dtmfSent, 3);
  assert.equal(b.stats().dtmfReceived, 3);
  // without telephone-event in the answer, no DTMF can be sent
  negotiate(a, b, { formats: '0' }, { formats: '0' });
  assert.equal(a.sendDtmf('1'), false);
});

test('update() to a new remote port mid-stream moves the media (re-INVITE, RFC 3264 §8.3.1)', async (t) => {
  const { clock, engine, a, b } = await setup(t);
  const c = await engine.createSession();
  negotiate(a, b, { direction: 'sendonly' }, { direction: 'recvonly' });
  await pump(clock, 5, () => b.stats().packetsReceived);
  const bBefore = b.stats().packetsReceived;
  negotiate(a, c, { direction: 'sendonly' }, { direction: 'recvonly' });
  await pump(clock, 5, () => c.stats().packetsReceived);
  await settle();
  assert.ok(c.stats().packetsReceived >= 5);
  assert.equal(b.stats().packetsReceived, bBefore, 'the old address gets nothing more');
  assert.equal(a.stats().remote, `127.0.0.1:${c.localPort}`);
});

test('symmetric RTP: the session answers to where packets come from, not to the SDP port (RFC 4961)', async (t) => {
  const { clock, a, b } = await setup(t);
  // B's SDP names a port nobody listens on; B's packets come from its real port.
  const offer = audioSdp(a.localPort);
  const answer = audioSdp(9, {});
  a.update(offer, answer);
  b.update(audioSdp(b.localPort), offer);
  await pump(clock, 3, () => a.stats().packetsReceived);
  assert.equal(a.stats().remote, `127.0.0.1:${b.localPort}`);
  await pump(clock, 3, () => b.stats().packetsReceived);
  assert.ok(b.stats().packetsReceived >= 3);
});

test('malformed and truncated datagrams are counted, never thrown; an unnegotiated payload type does not steal the stream', async (t) => {
  const { clock, a, b } = await setup(t);
  negotiate(a, b, {}, {});
  await pump(clock, 2, () => a.stats().packetsReceived + b.stats().packetsReceived, 2);
  const raw = createSocket('udp4');
  t.after(() => raw.close());
  await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
  const junk = [
    Buffer.alloc(0), Buffer.from([0x80]), Buffer.alloc(12, 0x40), Buffer.from([0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
    buildRtp({ payloadType: 127, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: Buffer.alloc(4) }),
    Buffer.from([0x80, 200, 0xff, 0xff, 0, 0, 0, 0]),
  ];
  for (const j of junk) raw.send(j, a.localPort, '127.0.0.1');
  for (const j of junk) raw.send(j, a.localPort + 1, '127.0.0.1');
  await waitFor(() => a.stats().malformed >= 10, 2000, 'junk counted');
  assert.equal(a.stats().remote, `127.0.0.1:${b.localPort}`, 'still sending to B');
  const before = b.stats().packetsReceived;
  await pump(clock, 5, () => a.stats().packetsReceived + b.stats().packetsReceived, 2);
  assert.ok(b.stats().packetsReceived >= before + 5);
});

test('SRTP session pair with SDES keys (RFC 4568, RFC 3711): audio arrives; forged packets fail authentication', async (t) => {
  const { clock, a, b } = await setup(t);
  const rec = new WavRecorder(undefined);
  b.setSink(rec);
  a.setSource(new ToneSource({ frequency: 1000 }));
  const ka = formatCryptoAttribute(newCryptoAttribute(1));
  const kb = formatCryptoAttribute(newCryptoAttribute(1));
  negotiate(a, b, { direction: 'sendonly', crypto: ka }, { direction: 'recvonly', crypto: kb });
  assert.ok(a.streamParams?.srtp !== undefined);
  await pump(clock, 20, () => b.stats().packetsReceived);
  assert.ok(toneRatio(rec.samples(), 1000) > 0.9);
  const raw = createSocket('udp4');
  t.after(() => raw.close());
  await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
  raw.send(Buffer.concat([buildRtp({ payloadType: 0, sequenceNumber: 5, timestamp: 5, ssrc: 5, payload: Buffer.alloc(160) }), Buffer.alloc(10)]), b.localPort, '127.0.0.1');
  await waitFor(() => b.stats().srtpFailures >= 1);
  // SDP without a key for SAVP is refused with a reason, and media stops
  const r = a.update(audioSdp(a.localPort, { crypto: ka }), audioSdp(b.localPort, { crypto: '2 AES_CM_128_HMAC_SHA1_80 inline:AAAA' }));
  assert.deepEqual(r, { ok: false, reason: 'srtp-keys-missing' });
  assert.equal(a.stats().direction, 'inactive');
});

test('RTCP: loss introduced by a relay shows in fraction lost both ends and lowers MOS; RTT from LSR/DLSR (RFC 3550 §6.4)', async (t) => {
  // Reports every 0.5-1.5 s, so that several fall within the run.
  const { clock, a, b } = await setup(t, true, 1000);
  const relay = await DropRelay.start({ address: '127.0.0.1', port: b.localPort }, 5);
  t.after(() => relay.close());
  // Each side is told the relay's address (as a media relay would rewrite the SDP).
  a.update(audioSdp(a.localPort, { rtcpMux: true }), audioSdp(relay.port, { rtcpMux: true }));
  b.update(audioSdp(b.localPort, { rtcpMux: true }), audioSdp(relay.port, { rtcpMux: true }));
  await pump(clock, 400, () => b.stats().packetsReceived + relay.dropped);
  await settle();
  assert.ok(a.stats().remoteReport !== undefined && a.stats().rttMs !== undefined, 'a report from B with our LSR');
  const sa = a.stats();
  const sb = b.stats();
  assert.ok(relay.dropped >= 70, `dropped ${relay.dropped}`);
  assert.ok(Math.abs(sb.lossRatio - 0.2) < 0.02, `B measured loss ${sb.lossRatio}`);
  assert.ok(sb.packetsLost >= 70);
  assert.ok(Math.abs(sa.remoteReport!.fractionLost - 0.2) < 0.03, `A told ${sa.remoteReport!.fractionLost}`);
  assert.ok(sa.rttMs! >= 0 && sa.rttMs! < 1000, `rtt ${sa.rttMs}`);
  assert.ok(sb.mos < 3.5, `MOS with 20% loss ${sb.mos}`);
  assert.ok(sa.mos < 3.5, `A's MOS uses the peer's report ${sa.mos}`);
  assert.ok(sa.rtcpSent >= 1 && sb.rtcpSent >= 1 && sa.rtcpReceived >= 1);
});

test('RTCP on RTP port + 1 without rtcp-mux: SR from the sender, RR with LSR/DLSR from the receiver, RTT measured (RFC 3550 §6.4, §11)', async (t) => {
  const { clock, a, b } = await setup(t, false, 1000);
  negotiate(a, b, { direction: 'sendonly' }, { direction: 'recvonly' });
  await pump(clock, 200, () => b.stats().packetsReceived);
  await settle();
  const sa = a.stats();
  const sb = b.stats();
  assert.ok(sa.rtcpSent >= 2 && sb.rtcpSent >= 2, `${sa.rtcpSent} ${sb.rtcpSent}`);
  assert.ok(sa.rtcpReceived >= 1 && sb.rtcpReceived >= 1);
  assert.ok(sa.remoteReport !== undefined);
  assert.equal(sa.remoteReport.fractionLost, 0);
  assert.ok(sa.rttMs !== undefined && sa.rttMs < 100, `rtt ${sa.rttMs}`);
  assert.equal(sb.malformed, 0);
});

/**
 * Calls with media (issue 7): UserAgents with MediaEngine factories on loopback, real UDP RTP on
 * the RealClock (every wait is a poll of counters bounded by a deadline). A tone played by one
 * side is found by Goertzel in the other's recording; hold stops the held side and the holder
 * plays music on hold; resume brings both back; inactive stops both; DTMF both ways; a blind
 * transfer gives the transferee's new call its own media and closes the old session.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RealClock } from '../../src/core/clock.js';
import { MediaEngine } from '../../src/media/media-engine.js';
import { ToneSource } from '../../src/media/audio-source.js';
import { WavRecorder } from '../../src/media/audio-sinks.js';
import { toneRatio } from '../../src/media/goertzel.js';
import { UserAgent, type Call, type UserAgentOptions } from '../../src/ua/index.js';
import { engineMediaFactory } from '../../src/app/media-factory.js';
import { assertSocketsBack, openSockets } from '../helpers/endpoints.js';

/** Every wait in these tests is bounded by this. */
const BOUND_MS = 5000;
/** 8000 samples a second: 0.4 s of audio. */
const WINDOW = 3200;

export interface Party {
  ua: UserAgent;
  engine: MediaEngine;
  /** Everything this party's calls received. */
  recorder: WavRecorder;
  uri: string;
}

/** A UserAgent on UDP loopback with a MediaEngine factory recording what it receives. */
export async function party(t: TestContext, name: string, options: Partial<UserAgentOptions> = {}): Promise<Party> {
  const clock = new RealClock();
  const engine = new MediaEngine({ clock, address: '127.0.0.1', portMin: 40000, portMax: 49999 });
  const recorder = new WavRecorder(undefined);
  const ua = await UserAgent.create({
    uri: `sip:${name}@127.0.0.1`,
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    clock,
    mediaFactory: engineMediaFactory(engine, { sink: () => recorder }),
    ...options,
  });
  t.after(async () => {
    await ua.close();
    assert.equal(engine.size, 0, `${name}: every media session closed with its call`);
    engine.close();
  });
  return { ua, engine, recorder, uri: `sip:${name}@127.0.0.1:${ua.endpoint.listeners[0]!.port}` };
}

/** Polls `cond` every 10 ms until it holds; fails after BOUND_MS. */
export async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${BOUND_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Calls `callee` from `caller`; the callee answers. */
export async function connect(caller: Party, callee: Party): Promise<{ a: Call; b: Call }> {
  const incoming = callee.ua.next('incoming');
  const a = caller.ua.call(callee.uri);
  const b = await incoming;
  const [ao, bo] = await Promise.all([a.established, b.answer()]);
  assert.deepEqual(ao, { ok: true });
  assert.deepEqual(bo, { ok: true });
  return { a, b };
}

/** The last `n` samples a recorder holds, once it has `n` more than `from`. */
async function recorded(rec: WavRecorder, from: number, n = WINDOW): Promise<Int16Array> {
  await until(`${n} samples recorded`, () => rec.samples().length >= from + n);
  const all = rec.samples();
  return all.subarray(all.length - n);
}

/** Waits until `count()` has grown by `by`. */
async function grows(what: string, count: () => number, by = 10): Promise<void> {
  const start = count();
  await until(what, () => count() >= start + by);
}

test('a 440 Hz tone crosses the call; hold plays music on hold and silences the held side; resume; inactive; DTMF both ways', async (t) => {
  const sockets = openSockets();
  const alice = await party(t, 'alice', { audioSource: () => new ToneSource({ frequency: 440, amplitude: 0.5 }) });
  const bob = await party(t, 'bob', { musicOnHold: () => new ToneSource({ frequency: 1000, amplitude: 0.5 }) });
  const { a, b } = await connect(alice, bob);

  // The SDP ports are the media sessions' (not 49170), and both sessions are up.
  assert.equal(a.localDescription?.media[0]?.port, a.mediaSession?.localPort);
  assert.equal(b.localDescription?.media[0]?.port, b.mediaSession?.localPort);
  assert.notEqual(a.mediaSession?.localPort, 49170);
  assert.equal(alice.engine.size, 1);
  assert.equal(bob.engine.size, 1);

  // Alice's tone is in Bob's recording; Bob sends silence (no audio source), so no 440 Hz at Alice.
  const atBob = await recorded(bob.recorder, bob.recorder.samples().length);
  assert.ok(toneRatio(atBob, 440) > 0.8, `440 Hz share at Bob ${toneRatio(atBob, 440)}`);
  assert.ok(toneRatio(atBob, 1000) < 0.05);
  assert.equal(a.stats()?.direction, 'sendrecv');
  const before = b.stats()!;
  assert.ok(before.packetsReceived >= 20 && before.bytesReceived === 160 * before.packetsReceived);
  assert.equal(before.packetsLost, 0);
  assert.ok(before.mos > 4.3, `MOS ${before.mos}`);

  // Bob holds (sendonly) with music on hold: Alice hears 1000 Hz; Alice (recvonly) sends nothing.
  assert.deepEqual(await b.hold(), { ok: true });
  assert.equal(b.localHold, true);
  assert.equal(a.remoteHold, true);
  assert.equal(a.stats()?.direction, 'recvonly');
  assert.equal(b.stats()?.direction, 'sendonly');
  const heldRec = new WavRecorder(undefined);
  a.mediaSession!.setSink(heldRec);
  const moh = await recorded(heldRec, 0);
  assert.ok(toneRatio(moh, 1000) > 0.8, `music on hold (1000 Hz) share at Alice ${toneRatio(moh, 1000)}`);
  assert.ok(toneRatio(moh, 440) < 0.05);
  const aliceSent = a.stats()!.packetsSent;
  const bobReceived = b.stats()!.packetsReceived;
  await grows('Alice keeps receiving the music', () => a.stats()!.packetsReceived, 15);
  assert.equal(a.stats()!.packetsSent, aliceSent, 'the held side (recvonly) sends nothing');
  assert.equal(b.stats()!.packetsReceived, bobReceived, 'the holder (sendonly) takes nothing in');

  // Resume: both flow again; Bob hears the tone, Alice gets Bob's normal source (silence) again.
  assert.deepEqual(await b.resume(), { ok: true });
  assert.equal(a.stats()?.direction, 'sendrecv');
  await grows('Alice sends again', () => a.stats()!.packetsSent);
  await grows('Bob sends again', () => b.stats()!.packetsSent);
  const afterResume = await recorded(bob.recorder, bob.recorder.samples().length);
  assert.ok(toneRatio(afterResume, 440) > 0.8);
  const resumedRec = new WavRecorder(undefined);
  a.mediaSession!.setSink(resumedRec);
  const normal = await recorded(resumedRec, 0, 1600);
  assert.ok(normal.every((s) => Math.abs(s) < 64), 'no music on hold once resumed');

  // Inactive: Bob holds, then Alice holds too: her offer is inactive; neither sends.
  assert.deepEqual(await b.hold(), { ok: true });
  assert.deepEqual(await a.hold(), { ok: true });
  assert.equal(a.stats()?.direction, 'inactive');
  assert.equal(b.stats()?.direction, 'inactive');
  const sent = [a.stats()!.packetsSent, b.stats()!.packetsSent];
  // A negative can only be watched for a while: 200 ms is 10 packet times.
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual([a.stats()!.packetsSent, b.stats()!.packetsSent], sent, 'inactive: nothing sent either way');
  assert.equal(a.sendDtmf('1'), false, 'no DTMF while we do not send');
  assert.deepEqual(await a.resume(), { ok: true });
  assert.deepEqual(await b.resume(), { ok: true });
  assert.equal(a.stats()?.direction, 'sendrecv');
  assert.equal(b.stats()?.direction, 'sendrecv');

  // DTMF both ways (RFC 4733), reported as the call's 'dtmf' events.
  const atB: string[] = [];
  const atA: string[] = [];
  b.on('dtmf', ({ digit }) => atB.push(digit));
  a.on('dtmf', ({ digit }) => atA.push(digit));
  assert.equal(a.sendDtmf('12#'), true);
  assert.equal(b.sendDtmf('9*'), true);
  await until('DTMF at Bob', () => atB.length >= 3);
  await until('DTMF at Alice', () => atA.length >= 2);
  assert.deepEqual(atB, ['1', '2', '#']);
  assert.deepEqual(atA, ['9', '*']);

  // Stats: counters each way, no loss on loopback, a good MOS.
  const sa = a.stats()!;
  const sb = b.stats()!;
  assert.ok(sa.packetsSent > 50 && sb.packetsReceived > 50);
  assert.ok(sa.bytesSent >= 160 * (sa.packetsSent - 40), 'bytes: 160 a G.711 packet (DTMF packets are 4)');
  // Loopback loses nothing; only packets in flight as a hold begins are dropped by a side that no
  // longer receives, and count as lost (a handful at most).
  assert.ok(sb.packetsLost <= 5, `lost ${sb.packetsLost}`);
  assert.ok(sb.lossRatio < 0.05, `loss ratio ${sb.lossRatio}`);
  assert.ok(sb.mos >= 1 && sb.mos <= 4.5);
  assert.equal(sb.dtmfReceived, 3);
  assert.equal(sa.dtmfSent, 3);

  // Hang up: both sessions close with the call.
  assert.deepEqual(await a.hangup(), { ok: true });
  await until('Bob sees the BYE', () => b.state === 'ended');
  assert.equal(alice.engine.size, 0);
  assert.equal(bob.engine.size, 0);
  t.after(() => assertSocketsBack(sockets));
});

test('without a media factory calls stay signalling only (SDP on media.port, no stats, no DTMF)', async (t) => {
  const ua1 = await UserAgent.create({ uri: 'sip:x@127.0.0.1', listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
  const ua2 = await UserAgent.create({ uri: 'sip:y@127.0.0.1', listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }], media: { address: '127.0.0.1', port: 5004 } });
  t.after(async () => {
    await ua1.close();
    await ua2.close();
  });
  const incoming = ua2.next('incoming');
  const a = ua1.call(`sip:y@127.0.0.1:${ua2.endpoint.listeners[0]!.port}`);
  const b = await incoming;
  await Promise.all([a.established, b.answer()]);
  assert.equal(a.localDescription?.media[0]?.port, 49170);
  assert.equal(b.localDescription?.media[0]?.port, 5004);
  assert.equal(a.mediaSession, undefined);
  assert.equal(a.stats(), undefined);
  assert.equal(a.sendDtmf('1'), false);
  await a.hangup();
});

test('blind transfer: the transferee\'s new call to the target carries media; the old call\'s session is closed', async (t) => {
  const alice = await party(t, 'alice');
  const bob = await party(t, 'bob', { audioSource: () => new ToneSource({ frequency: 440, amplitude: 0.5 }) });
  const carol = await party(t, 'carol');
  carol.ua.on('incoming', (call) => void call.answer());
  const { a, b } = await connect(alice, bob);
  await recorded(alice.recorder, 0, 800);
  const oldSession = b.mediaSession!;
  const transferred = b.next('transferred');
  assert.deepEqual(await a.transfer(carol.uri), { ok: true, outcome: 'transferred' });
  const { callId } = await transferred;
  const newCall = bob.ua.calls.find((c) => c.id === callId);
  assert.ok(newCall !== undefined && newCall.state === 'answered');
  await until('the old call ends', () => a.state === 'ended' && b.state === 'ended');
  assert.equal(alice.engine.size, 0, 'the transferor\'s session closed');
  assert.equal(bob.engine.size, 1, 'the transferee keeps one session: the new call\'s');
  assert.notEqual(newCall.mediaSession, oldSession);
  assert.notEqual(newCall.mediaSession!.localPort, oldSession.localPort);
  // Bob's tone reaches Carol over the new call.
  const atCarol = await recorded(carol.recorder, 0);
  assert.ok(toneRatio(atCarol, 440) > 0.8, `440 Hz share at Carol ${toneRatio(atCarol, 440)}`);
  await grows('Carol sends to Bob', () => newCall.stats()!.packetsReceived);
  await newCall.hangup();
  await until('sessions closed', () => bob.engine.size === 0 && carol.engine.size === 0);
});

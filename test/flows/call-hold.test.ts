/**
 * RFC 5359 §2.1 (Call Hold) end to end, as the seed (../shared/seed/) shows it: Alice calls Bob
 * over TLS with the seed's SDP offer, Bob holds with a re-INVITE a=sendonly, resumes with
 * a=sendrecv, Alice hangs up. Then the hard cases of RFC 3264 §8.4 and RFC 3261 §14: both sides
 * holding, a refused re-INVITE, glare. Two UserAgents on loopback, real sockets; every test checks
 * that nothing is left open.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, SipRequest, SipResponse } from '../../src/message/index.js';
import { PCMU, parseSdp, type SessionDescription } from '../../src/sdp/index.js';
import { FakeClock, type Clock } from '../../src/core/clock.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import { Call, UserAgent } from '../../src/ua/index.js';
import { assertReleased, assertSocketsBack, MessageCapture, openSockets, TrackingClock, type Captured } from '../helpers/endpoints.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed';
const CALL_ID = '12345601@atlanta.example.com';

let bobPki: NamedPki | undefined;
let alicePki: NamedPki | undefined;
before(() => {
  if (skip !== false) return;
  bobPki = makeNamedPki(['biloxi.example.com', 'client.biloxi.example.com']);
  alicePki = makeNamedPki(['atlanta.example.com', 'client.atlanta.example.com']);
});
after(() => {
  bobPki?.cleanup();
  alicePki?.cleanup();
});

interface Pair<C extends Clock> {
  alice: UserAgent;
  bob: UserAgent;
  capture: MessageCapture;
  aliceClock: C;
  bobClock: C;
}

/**
 * Alice and Bob with the seed's names and SDP capabilities, TLS only; closed and checked after
 * the test. With `makeClock`, each gets a clock of the test's (a FakeClock), else a TrackingClock.
 */
async function pair(t: TestContext): Promise<Pair<TrackingClock>>;
async function pair<C extends Clock & { readonly pending: number }>(t: TestContext, makeClock: () => C): Promise<Pair<C>>;
async function pair(t: TestContext, makeClock?: () => Clock & { readonly pending: number }): Promise<Pair<Clock & { readonly pending: number }>> {
  const sockets = openSockets();
  const capture = new MessageCapture();
  const bobClock = makeClock?.() ?? new TrackingClock();
  const aliceClock = makeClock?.() ?? new TrackingClock();
  const bob = await UserAgent.create({
    uri: 'sips:bob@biloxi.example.com',
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: bobPki!.cert, key: bobPki!.key } }],
    tls: { ca: alicePki!.ca },
    resolver: new StaticResolver({}),
    media: { address: 'client.biloxi.example.com', port: 3456, codecs: [PCMU] },
    clock: bobClock,
  });
  const bobPort = bob.endpoint.listeners[0]!.port;
  const alice = await UserAgent.create({
    uri: 'sips:alice@atlanta.example.com',
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: alicePki!.cert, key: alicePki!.key } }],
    tls: { ca: bobPki!.ca },
    // biloxi.example.com is Bob's listener; the certificate Bob shows is checked for that name (RFC 5922).
    resolver: new StaticResolver({ 'biloxi.example.com': [{ protocol: 'TLS', address: '127.0.0.1', port: bobPort }] }),
    media: { address: 'client.atlanta.example.com', port: 49170, codecs: [PCMU] },
    clock: aliceClock,
  });
  t.after(async () => {
    capture.stop();
    await alice.close();
    await bob.close();
    for (const [ua, clock] of [[alice, aliceClock], [bob, bobClock]] as const) {
      if (clock instanceof TrackingClock) assertReleased(ua.endpoint, clock);
      assert.equal(ua.endpoint.transactions.size, 0, 'transactions left');
      assert.equal(clock.pending, 0, 'clock timers left');
    }
    await assertSocketsBack(sockets);
  });
  return { alice, bob, capture, aliceClock, bobClock };
}

/** Alice calls Bob; Bob answers. Resolves with both ends of the call, answered. */
async function establish(p: Pair<Clock>): Promise<{ a: Call; b: Call }> {
  const incoming = p.bob.next('incoming');
  const a = p.alice.call('sips:bob@biloxi.example.com', { callId: CALL_ID });
  const ringing = a.next('ringing');
  const b = await incoming;
  assert.equal((await ringing).status, 180);
  assert.equal(a.state, 'ringing');
  const [aOut, bOut] = await Promise.all([a.established, b.answer()]);
  assert.deepEqual(aOut, { ok: true });
  assert.deepEqual(bOut, { ok: true });
  assert.equal(a.state, 'answered');
  assert.equal(b.state, 'answered');
  return { a, b };
}

/** The messages received (each once) of the call, parsed. */
function received(capture: MessageCapture): Array<SipRequest | SipResponse> {
  return capture.messages
    .filter((c: Captured) => c.direction === 'in' && c.callId === CALL_ID)
    .map((c) => parseMessage(Buffer.from(c.text)) as SipRequest | SipResponse);
}

/** The n-th INVITE received in the call (0: the initial one) and the 200 that answered it. */
function inviteExchange(capture: MessageCapture, n: number): { offer: SessionDescription; answer: SessionDescription; offerText: string } {
  const messages = received(capture);
  const invites = messages.filter((m): m is SipRequest => m.isRequest && m.method === 'INVITE');
  const invite = invites[n];
  assert.ok(invite, `INVITE #${n} received`);
  const ok = messages.find((m): m is SipResponse => !m.isRequest && m.status === 200 && m.cseq.method === 'INVITE' && m.cseq.seq === invite.cseq.seq);
  assert.ok(ok, `a 200 to INVITE #${n}`);
  return { offer: parseSdp(invite.bodyText), answer: parseSdp(ok.bodyText), offerText: invite.bodyText };
}

/** The direction attribute written for the audio stream (media level, else session level); undefined when none. */
function direction(sdp: SessionDescription): string | undefined {
  return sdp.media[0]!.direction ?? sdp.direction;
}

function connection(sdp: SessionDescription): string {
  const c = sdp.media[0]!.connection ?? sdp.connection;
  return `${c?.addrType} ${c?.address}`;
}

test('THE SEED: RFC 5359 §2.1 over TLS: Alice calls Bob, Bob holds (sendonly/recvonly), resumes (sendrecv), Alice hangs up', { skip }, async (t) => {
  const p = await pair(t);
  const { a, b } = await establish(p);

  // F1: Alice's offer is the seed's media: one PCMU audio stream on 49170 at client.atlanta.example.com.
  const initial = inviteExchange(p.capture, 0);
  assert.match(initial.offerText, /^o=alice \d+ \d+ IN IP4 client\.atlanta\.example\.com\r$/m);
  assert.match(initial.offerText, /^c=IN IP4 client\.atlanta\.example\.com\r$/m);
  assert.match(initial.offerText, /^m=audio 49170 RTP\/AVP 0\r\na=rtpmap:0 PCMU\/8000\r$/m);
  assert.equal(initial.answer.media[0]!.port, 3456);

  // F10: Bob holds. The re-INVITE's SDP: a=sendonly, the same c= address, o= version + 1 (RFC 3264 §8.4, §8).
  const events: string[] = [];
  for (const event of ['held', 'resumed', 'remote-held', 'remote-resumed'] as const) {
    a.on(event, () => events.push(`alice:${event}`));
    b.on(event, () => events.push(`bob:${event}`));
  }
  assert.deepEqual(await b.hold(), { ok: true });
  const hold = inviteExchange(p.capture, 1);
  assert.equal(direction(hold.offer), 'sendonly');
  assert.equal(connection(hold.offer), connection(initial.answer));
  assert.equal(hold.offer.origin.sessionId, initial.answer.origin.sessionId);
  assert.equal(hold.offer.origin.sessionVersion, initial.answer.origin.sessionVersion + 1n);
  // RFC 3264 §6.1: sendonly offered is answered recvonly.
  assert.equal(direction(hold.answer), 'recvonly');
  assert.equal(hold.answer.origin.sessionVersion, initial.offer.origin.sessionVersion + 1n);
  assert.deepEqual(events, ['alice:remote-held', 'bob:held']);
  assert.equal(b.localHold, true);
  assert.equal(b.remoteHold, false);
  assert.equal(a.remoteHold, true);
  assert.equal(a.localHold, false);

  // Bob resumes: a=sendrecv both ways, o= version + 1 again.
  events.length = 0;
  assert.deepEqual(await b.resume(), { ok: true });
  const resume = inviteExchange(p.capture, 2);
  assert.equal(direction(resume.offer) ?? 'sendrecv', 'sendrecv');
  assert.equal(direction(resume.answer) ?? 'sendrecv', 'sendrecv');
  assert.equal(connection(resume.offer), connection(initial.answer));
  assert.equal(resume.offer.origin.sessionVersion, hold.offer.origin.sessionVersion + 1n);
  assert.deepEqual(events, ['alice:remote-resumed', 'bob:resumed']);
  assert.equal(b.localHold, false);
  assert.equal(a.remoteHold, false);

  // Alice hangs up: BYE, 200, ended on both sides.
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  assert.equal((await bEnded).cause, 'remote-bye');
  assert.equal(a.endReason?.cause, 'local-bye');
  assert.equal(a.state, 'ended');
  assert.equal(b.state, 'ended');

  const ladder = received(p.capture).map((m) => (m.isRequest ? m.method : String(m.status))).filter((l) => l !== '100');
  assert.deepEqual(ladder, ['INVITE', '180', '200', 'ACK', 'INVITE', '200', 'ACK', 'INVITE', '200', 'ACK', 'BYE', '200']);
  // Every message crossed TLS.
  assert.ok(p.capture.messages.filter((c) => c.callId === CALL_ID).every((c) => c.protocol === 'TLS'));
  assert.equal(p.alice.calls.length, 0);
  assert.equal(p.bob.calls.length, 0);
});

test('hold while held: both sides hold (inactive both ways), then each resumes only its own half (RFC 3264 §8.4)', { skip }, async (t) => {
  const p = await pair(t);
  const { a, b } = await establish(p);
  assert.deepEqual(await b.hold(), { ok: true });
  // Alice holds a call Bob holds: she offers inactive, he answers inactive.
  const aliceHeld = a.next('held');
  const bobRemoteHeld = b.next('remote-held');
  assert.deepEqual(await a.hold(), { ok: true });
  await Promise.all([aliceHeld, bobRemoteHeld]);
  const both = inviteExchange(p.capture, 2);
  assert.equal(direction(both.offer), 'inactive');
  assert.equal(direction(both.answer), 'inactive');
  assert.deepEqual([a.localHold, a.remoteHold, b.localHold, b.remoteHold], [true, true, true, true]);

  // Bob resumes while Alice still holds: he offers recvonly, she answers sendonly; her hold stays.
  assert.deepEqual(await b.resume(), { ok: true });
  const bobBack = inviteExchange(p.capture, 3);
  assert.equal(direction(bobBack.offer), 'recvonly');
  assert.equal(direction(bobBack.answer), 'sendonly');
  assert.deepEqual([a.localHold, a.remoteHold, b.localHold, b.remoteHold], [true, false, false, true]);

  // Alice resumes: sendrecv both ways, nobody holds.
  assert.deepEqual(await a.resume(), { ok: true });
  const aliceBack = inviteExchange(p.capture, 4);
  assert.equal(direction(aliceBack.offer) ?? 'sendrecv', 'sendrecv');
  assert.equal(direction(aliceBack.answer) ?? 'sendrecv', 'sendrecv');
  assert.deepEqual([a.localHold, a.remoteHold, b.localHold, b.remoteHold], [false, false, false, false]);
  await b.hangup();
  await a.ended;
});

test('a re-INVITE refused with 488 leaves the session and the hold state as they were (RFC 3261 §14.1)', { skip }, async (t) => {
  const p = await pair(t);
  const { a, b } = await establish(p);
  const versionBefore = b.localDescription!.origin.sessionVersion;
  const bobLocal = b.localDescription;
  const bobRemote = b.remoteDescription;
  const aliceLocal = a.localDescription;
  const events: string[] = [];
  for (const event of ['held', 'remote-held'] as const) {
    a.on(event, () => events.push(`alice:${event}`));
    b.on(event, () => events.push(`bob:${event}`));
  }
  a.onOffer = () => 488;
  assert.deepEqual(await b.hold(), { ok: false, status: 488, reason: 'Not Acceptable Here' });
  assert.deepEqual(events, []);
  assert.deepEqual([b.localHold, a.remoteHold], [false, false]);
  assert.equal(b.localDescription, bobLocal);
  assert.equal(b.remoteDescription, bobRemote);
  assert.equal(a.localDescription, aliceLocal);
  assert.equal(b.state, 'answered');

  // A 500 changes nothing either; the next hold that is accepted is o= version + 1, not + 3.
  a.onOffer = () => 500;
  assert.equal((await b.hold()).ok, false);
  a.onOffer = undefined;
  assert.deepEqual(await b.hold(), { ok: true });
  assert.equal(b.localDescription!.origin.sessionVersion, versionBefore + 1n);
  assert.deepEqual([b.localHold, a.remoteHold], [true, true]);
  assert.deepEqual(events, ['alice:remote-held', 'bob:held']);
  await a.hangup();
  await b.ended;
});

test('hold() during a pending re-INVITE is queued, not refused: both go out, in order (RFC 3261 §14.1)', { skip }, async (t) => {
  const p = await pair(t);
  const { a, b } = await establish(p);
  const outcomes = await Promise.all([b.hold(), b.resume(), b.hold()]);
  assert.deepEqual(outcomes, [{ ok: true }, { ok: true }, { ok: true }]);
  assert.equal(direction(inviteExchange(p.capture, 1).offer), 'sendonly');
  assert.equal(direction(inviteExchange(p.capture, 2).offer) ?? 'sendrecv', 'sendrecv');
  assert.equal(direction(inviteExchange(p.capture, 3).offer), 'sendonly');
  assert.deepEqual([b.localHold, a.remoteHold], [true, true]);
  await a.hangup();
  await b.ended;
});

/** Waits (in real time, briefly) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 2000; !condition();) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('glare on a FakeClock: no retry before its time; the non-owner of the Call-ID retries within 0-2 s, the owner within 2.1-4 s (RFC 3261 §14.1)', { skip }, async (t) => {
  const p = await pair(t, () => new FakeClock());
  const { a, b } = await establish(p);
  assert.deepEqual(await b.hold(), { ok: true });
  assert.deepEqual(await b.resume(), { ok: true });
  const count = (label: string): number => p.capture.ladder((c) => c.callId === CALL_ID).filter((l) => l === label).length;
  const invitesBefore = count('INVITE');
  const settled: string[] = [];
  const aliceHold = a.hold().then((o) => {
    settled.push('alice');
    return o;
  });
  const bobHold = b.hold().then((o) => {
    settled.push('bob');
    return o;
  });
  await until(() => count('491') === 2, 'both 491s');
  // Each side has rolled back and waits; time has not moved, so nothing more is sent.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(count('INVITE'), invitesBefore + 2);
  assert.deepEqual([a.localHold, b.localHold], [false, false]);

  // Bob (not the owner) retries within 2 s of his clock; Alice has not retried before 2.1 s.
  p.bobClock.advance(2000);
  p.aliceClock.advance(2099);
  assert.deepEqual(await bobHold, { ok: true });
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(settled, ['bob']);
  assert.equal(count('INVITE'), invitesBefore + 3);
  assert.deepEqual([b.localHold, a.remoteHold], [true, true]);

  // By 4 s Alice has retried; Bob holds her already, so she offers inactive.
  p.aliceClock.advance(1901);
  assert.deepEqual(await aliceHold, { ok: true });
  assert.equal(count('INVITE'), invitesBefore + 4);
  const last = received(p.capture).filter((m): m is SipRequest => m.isRequest && m.method === 'INVITE').at(-1)!;
  assert.equal(direction(parseSdp(last.bodyText)), 'inactive');
  assert.deepEqual([a.localHold, a.remoteHold, b.localHold, b.remoteHold], [true, true, true, true]);
  await a.hangup();
  await b.ended;
});

/**
 * Setting calls up and tearing them down with two UserAgents over TLS on loopback (RFC 3261
 * §9, §12.2.2, §13, §15): CANCEL before the answer, rejection, BYE from the callee, 481 for a
 * BYE outside any dialog, OPTIONS left to the endpoint. Nothing is left open after each test.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { createRequest, createResponse } from '../../src/message/index.js';
import { PCMU } from '../../src/sdp/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import { UserAgent, type Call } from '../../src/ua/index.js';
import { assertReleased, assertSocketsBack, MessageCapture, openSockets, startEndpoint, TrackingClock } from '../helpers/endpoints.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed';

let bobPki: NamedPki | undefined;
let alicePki: NamedPki | undefined;
before(() => {
  if (skip !== false) return;
  bobPki = makeNamedPki(['biloxi.example.com']);
  alicePki = makeNamedPki(['atlanta.example.com']);
});
after(() => {
  bobPki?.cleanup();
  alicePki?.cleanup();
});

async function pair(t: TestContext): Promise<{ alice: UserAgent; bob: UserAgent; capture: MessageCapture }> {
  const sockets = openSockets();
  const capture = new MessageCapture();
  const bobClock = new TrackingClock();
  const aliceClock = new TrackingClock();
  const bob = await UserAgent.create({
    uri: 'sips:bob@biloxi.example.com',
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: bobPki!.cert, key: bobPki!.key } }],
    tls: { ca: alicePki!.ca },
    resolver: new StaticResolver({}),
    media: { address: '127.0.0.1', port: 3456, codecs: [PCMU] },
    clock: bobClock,
  });
  const bobPort = bob.endpoint.listeners[0]!.port;
  const alice = await UserAgent.create({
    uri: 'sips:alice@atlanta.example.com',
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: alicePki!.cert, key: alicePki!.key } }],
    tls: { ca: bobPki!.ca },
    resolver: new StaticResolver({ 'biloxi.example.com': [{ protocol: 'TLS', address: '127.0.0.1', port: bobPort }] }),
    media: { address: '127.0.0.1', port: 49170, codecs: [PCMU] },
    clock: aliceClock,
  });
  t.after(async () => {
    capture.stop();
    await alice.close();
    await bob.close();
    assertReleased(alice.endpoint, aliceClock);
    assertReleased(bob.endpoint, bobClock);
    await assertSocketsBack(sockets);
  });
  return { alice, bob, capture };
}

test('CANCEL before the answer: 200 to the CANCEL, 487 to the INVITE, both calls end "cancelled" (RFC 3261 §9.1, §9.2)', { skip }, async (t) => {
  const { alice, bob, capture } = await pair(t);
  const incoming = bob.next('incoming');
  const a = alice.call('sips:bob@biloxi.example.com');
  await a.next('ringing');
  const b = await incoming;
  assert.equal(b.state, 'ringing');
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  assert.deepEqual(a.endReason, { cause: 'cancelled', status: 487, text: '487 Request Terminated' });
  assert.equal((await bEnded).cause, 'cancelled');
  assert.deepEqual(await a.established, { ok: false, status: 487, reason: '487 Request Terminated' });
  // The ACK for the 487 leaves Alice as the call ends there; wait for it to reach Bob.
  const ladderNow = (): string[] => capture.ladder((c) => c.callId === a.id).filter((l) => l !== '100');
  for (const end = Date.now() + 2000; !ladderNow().includes('ACK') && Date.now() < end;) await new Promise((r) => setTimeout(r, 5));
  const ladder = ladderNow();
  // The 200 to the CANCEL and the 487 may cross; the ACK for the 487 is the transaction's (§17.1.1.3).
  assert.deepEqual(ladder.slice(0, 3), ['INVITE', '180', 'CANCEL']);
  assert.deepEqual([...ladder.slice(3, 5)].sort(), ['200', '487']);
  assert.equal(ladder[5], 'ACK');
  assert.equal(ladder.length, 6);
  await assert.rejects(b.answer(), { code: 'ERR_INVALID_STATE' });
});

test('an incoming call rejected with 486 ends the caller\'s call with that status (RFC 3261 §13.3.1.3)', { skip }, async (t) => {
  const { alice, bob } = await pair(t);
  bob.on('incoming', (call) => void call.reject(486));
  const a = alice.call('sips:bob@biloxi.example.com');
  const reason = await a.ended;
  assert.equal(reason.cause, 'rejected');
  assert.equal(reason.status, 486);
  assert.deepEqual(await a.established, { ok: false, status: 486, reason: '486 Busy Here' });
});

test('the callee hangs up: BYE from the UAS side, 200, both ended (RFC 3261 §15.1)', { skip }, async (t) => {
  const { alice, bob, capture } = await pair(t);
  bob.on('incoming', (call) => void call.answer());
  const a = alice.call('sips:bob@biloxi.example.com');
  assert.deepEqual(await a.established, { ok: true });
  const b = bob.calls[0]!;
  await b.established;
  assert.deepEqual(await b.hangup(), { ok: true });
  assert.equal((await a.ended).cause, 'remote-bye');
  assert.equal(b.endReason?.cause, 'local-bye');
  assert.deepEqual(capture.ladder((c) => c.callId === a.id).filter((l) => l !== '100'), ['INVITE', '180', '200', 'ACK', 'BYE', '200']);
  // Hanging up again does nothing; hold() on an ended call says so.
  assert.deepEqual(await b.hangup(), { ok: true });
  assert.deepEqual(await b.hold(), { ok: false, status: 481, reason: 'the call has ended' });
});

test('a BYE for a dialog nobody knows gets 481; OPTIONS stays with the endpoint (RFC 3261 §12.2.2, §15.1.2, §11.2)', { skip }, async (t) => {
  const { alice } = await pair(t);
  const bye = createRequest({
    method: 'BYE',
    uri: 'sips:bob@biloxi.example.com',
    from: '<sips:alice@atlanta.example.com>;tag=a1',
    to: '<sips:bob@biloxi.example.com>;tag=nobody',
    callId: 'no-such-call@atlanta.example.com',
    cseq: 7,
  });
  assert.equal((await alice.endpoint.request(bye)).status, 481);
  const untagged = createRequest({
    method: 'BYE',
    uri: 'sips:bob@biloxi.example.com',
    from: '<sips:alice@atlanta.example.com>;tag=a2',
    to: '<sips:bob@biloxi.example.com>',
    callId: 'no-such-call-2@atlanta.example.com',
    cseq: 8,
  });
  assert.equal((await alice.endpoint.request(untagged)).status, 481);
  const options = createRequest({
    method: 'OPTIONS',
    uri: 'sips:bob@biloxi.example.com',
    from: '<sips:alice@atlanta.example.com>',
    to: '<sips:bob@biloxi.example.com>',
    cseq: 9,
  });
  const res = await alice.endpoint.request(options);
  assert.equal(res.status, 200);
  assert.match(res.get('allow') ?? '', /INVITE/);
});

test('an offerless INVITE: the callee offers in its 200, the caller answers in the ACK; hold works after (RFC 3261 §13.2.1, RFC 3264 §2)', { skip }, async (t) => {
  const { alice, bob, capture } = await pair(t);
  bob.on('incoming', (call) => void call.answer());
  const a = alice.call('sips:bob@biloxi.example.com', { offerless: true });
  assert.deepEqual(await a.established, { ok: true });
  const b = bob.calls[0]!;
  assert.deepEqual(await b.established, { ok: true });
  const messages = capture.messages.filter((c) => c.direction === 'in' && c.callId === a.id);
  const invite = messages.find((c) => c.label === 'INVITE')!;
  const ok = messages.find((c) => c.label === '200')!;
  const ack = messages.find((c) => c.label === 'ACK')!;
  assert.match(invite.text, /Content-Length: 0\r\n/i);
  assert.match(ok.text, /^m=audio 3456 RTP\/AVP 0\r$/m);
  assert.match(ack.text, /^m=audio 49170 RTP\/AVP 0\r$/m);
  assert.equal(a.remoteDescription?.media[0]?.port, 3456);
  assert.equal(b.remoteDescription?.media[0]?.port, 49170);
  assert.deepEqual(await a.hold(), { ok: true });
  assert.deepEqual([a.localHold, b.remoteHold], [true, true]);
  await a.hangup();
  await b.ended;
});

test('a CANCEL that crosses the 200: the 200 is ACKed, then the call is ended with a BYE (RFC 3261 §9.1, §15)', { skip }, async (t) => {
  const { alice, bob, capture } = await pair(t);
  // Bob answers at once: his 180 and 200 leave together, so Alice's CANCEL (sent on the 180) meets the 200.
  bob.on('incoming', (call) => void call.answer());
  const incoming = bob.next('incoming');
  const a = alice.call('sips:bob@biloxi.example.com');
  a.on('ringing', () => void a.hangup());
  const reason = await a.ended;
  assert.equal(reason.cause, 'cancelled');
  assert.equal(reason.status, 200);
  assert.equal((await (await incoming).ended).cause, 'remote-bye');
  const ladder = capture.ladder((c) => c.callId === a.id).filter((l) => l !== '100');
  assert.ok(ladder.includes('CANCEL'));
  assert.deepEqual(ladder.filter((l) => l === 'ACK' || l === 'BYE'), ['ACK', 'BYE']);
  // The INVITE was answered, so the CANCEL gets 200 and changes nothing (§9.2); no 487.
  assert.ok(!ladder.includes('487'));
});

/** Waits (in real time, briefly) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 2000; !condition();) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('UserAgent.close() hangs its calls up: BYE for an answered call, 480 for one ringing here (RFC 3261 §15.1.1)', { skip }, async (t) => {
  const { alice, bob } = await pair(t);
  const autoAnswer = (call: Call): void => void call.answer();
  bob.on('incoming', autoAnswer);
  const a = alice.call('sips:bob@biloxi.example.com');
  assert.deepEqual(await a.established, { ok: true });
  const b = bob.calls[0]!;
  await b.established;
  // Bob now leaves a second call from Alice ringing, and closes.
  bob.off('incoming', autoAnswer);
  const ringing = bob.next('incoming');
  const second = alice.call('sips:bob@biloxi.example.com');
  await ringing;
  await bob.close();
  assert.equal((await a.ended).cause, 'remote-bye');
  assert.equal(b.endReason?.cause, 'local-bye');
  const reason = await second.ended;
  assert.deepEqual([reason.cause, reason.status], ['rejected', 480]);
  assert.equal(bob.calls.length, 0);
});

test('no ACK for our 2xx within 64*T1: the callee ends the call with a BYE (RFC 3261 §13.3.1.4), on a FakeClock', async (t) => {
  const sockets = openSockets();
  const clock = new FakeClock();
  const bob = await UserAgent.create({
    uri: 'sip:bob@127.0.0.1',
    listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({}),
    clock,
  });
  const peer = await startEndpoint({ protocols: ['TCP'] });
  t.after(async () => {
    await bob.close();
    await peer.close();
    assert.equal(bob.endpoint.transactions.size, 0, 'transactions left');
    assert.equal(clock.pending, 0, 'clock timers left');
    await assertSocketsBack(sockets);
  });
  const byes: string[] = [];
  peer.endpoint.onRequest((request, tx) => {
    if (request.method !== 'BYE' || tx === undefined) return false;
    byes.push(request.callId);
    tx.respond(createResponse(request, 200));
    return true;
  });
  bob.on('incoming', (call) => void call.answer());
  const peerPort = peer.target('TCP').port;
  const invite = createRequest({
    method: 'INVITE',
    uri: `sip:bob@127.0.0.1:${bob.endpoint.listeners[0]!.port};transport=tcp`,
    from: '<sip:alice@127.0.0.1>',
    to: '<sip:bob@127.0.0.1>',
    cseq: 1,
    contact: `<sip:alice@127.0.0.1:${peerPort};transport=tcp>`,
    body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n',
    contentType: 'application/sdp',
  });
  const response = await peer.endpoint.request(invite);
  assert.equal(response.status, 200);
  const call = bob.calls[0]!;
  assert.equal(call.state, 'ringing');
  // The peer never ACKs. At 64*T1 (32 s) Bob gives up on the ACK and sends BYE.
  clock.advance(31_999);
  assert.equal(call.state, 'ringing');
  clock.advance(1);
  const reason = await call.ended;
  assert.deepEqual([reason.cause, reason.status], ['failed', 408]);
  assert.deepEqual(await call.established, { ok: false, status: 408, reason: reason.text });
  await until(() => byes.length === 1, 'the BYE');
  assert.equal(byes[0], invite.callId);
});

test('the callee sends 183 Session Progress before answering; the caller sees each provisional (RFC 3261 §13.3.1.1)', { skip }, async (t) => {
  const { alice, bob, capture } = await pair(t);
  bob.on('incoming', (call) => {
    call.progress(183);
    assert.throws(() => call.progress(200), /101 to 199/);
    void call.answer();
  });
  const a = alice.call('sips:bob@biloxi.example.com');
  assert.deepEqual(await a.established, { ok: true });
  await a.hangup();
  const ladder = capture.ladder((c) => c.callId === a.id).filter((l) => l !== '100');
  assert.deepEqual(ladder, ['INVITE', '180', '183', '200', 'ACK', 'BYE', '200']);
});

/**
 * A forked INVITE as the UAC sees it (RFC 3261 §12.1.2, §13.2.2.4; RFC 6026 §7.2): a "forking
 * UAS" built on SipEndpoint answers one INVITE as two forks would reach us through a forking
 * proxy: 180 (tag A), 180 (tag B), 200 (tag A), then a second final, 200 (tag B), sent on the
 * same server transaction (RFC 6026 §7.1, "2xx from TU / send response" in Accepted). Alice, a
 * UserAgent, keeps both early dialogs, rings once, takes the call with A, and ACKs and BYEs B.
 * Real UDP sockets on loopback; nothing is left open after each test.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, parseMessage, type SipRequest, type SipResponse } from '../../src/message/index.js';
import { PCMU } from '../../src/sdp/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import { UserAgent, type UasTransaction } from '../../src/ua/index.js';
import { assertReleased, assertSocketsBack, MessageCapture, openSockets, startEndpoint, TrackingClock, type TestEndpoint } from '../helpers/endpoints.js';

const TAG_A = 'fork-a-7f3e';
const TAG_B = 'fork-b-91c2';

/** An SDP answer to Alice's PCMU offer, with a port of the fork's own so the test can tell them apart. */
function answer(port: number): string {
  return [
    'v=0', `o=fork${port} 1 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', '',
  ].join('\r\n');
}

interface Forks {
  alice: UserAgent;
  fork: TestEndpoint;
  capture: MessageCapture;
  /** Every message of the call received by either side, as "LABEL to-tag", 100 Trying left out. */
  ladder(callId: string): string[];
  /** The requests the forking UAS received, as "METHOD to-tag". */
  received: string[];
}

/**
 * Alice (a UserAgent on UDP) and the forking UAS (a bare SipEndpoint): every INVITE gets 180 A,
 * 180 B, 200 A and 200 B at once; ACKs are noted and BYEs answered 200, whichever fork they are for.
 */
async function forks(t: TestContext): Promise<Forks> {
  const sockets = openSockets();
  const capture = new MessageCapture();
  const fork = await startEndpoint({ protocols: ['UDP'] });
  const port = fork.endpoint.listeners[0]!.port;
  const contact = (tag: string): string => `<sip:${tag}@127.0.0.1:${port}>`;
  const received: string[] = [];
  fork.endpoint.onRequest((request: SipRequest, uas: UasTransaction | undefined) => {
    received.push(`${request.method} ${request.toTag ?? ''}`);
    if (uas === undefined) return true; // an ACK for a 2xx
    if (request.method === 'BYE') {
      uas.respond(createResponse(request, 200));
      return true;
    }
    if (request.method !== 'INVITE') return false;
    // Fork A goes through the UasTransaction (which keeps one To tag, §8.2.6.2, and resends its
    // 2xx until ACKed); fork B is another UAS behind the proxy, so its responses go straight to
    // the server transaction with their own To tag.
    const raw = (status: number, tag: string, body?: string): SipResponse =>
      createResponse(request, status, { toTag: tag, headers: [['Contact', contact(tag)]], ...(body === undefined ? {} : { body, contentType: 'application/sdp' }) });
    assert.equal(uas.respond(raw(180, TAG_A)), true);
    assert.equal(uas.transaction.respond(raw(180, TAG_B)), true);
    assert.equal(uas.respond(raw(200, TAG_A, answer(4000))), true);
    // The deliberate second final: RFC 6026 §7.1 lets a 2xx through in Accepted.
    assert.equal(uas.transaction.respond(raw(200, TAG_B, answer(5000))), true);
    return true;
  });
  const clock = new TrackingClock();
  const alice = await UserAgent.create({
    uri: 'sip:alice@atlanta.example.com',
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({ 'forks.example.com': [{ protocol: 'UDP', address: '127.0.0.1', port }] }),
    media: { address: '127.0.0.1', port: 49170, codecs: [PCMU] },
    clock,
  });
  t.after(async () => {
    capture.stop();
    await alice.close();
    assertReleased(alice.endpoint, clock);
    await fork.close();
    await assertSocketsBack(sockets);
  });
  const ladder = (callId: string): string[] => capture.messages
    .filter((c) => c.direction === 'in' && c.callId === callId && c.label !== '100')
    .map((c) => {
      const m = parseMessage(Buffer.from(c.text)) as SipRequest | SipResponse;
      return `${c.label} ${m.toTag ?? ''}`;
    });
  return { alice, fork, capture, ladder, received };
}

/** Waits (in real time, briefly) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 3000; !condition();) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a forked INVITE: two early dialogs ring once, the first 2xx answers the call, the second fork\'s 2xx is ACKed then BYEd (RFC 3261 §12.1.2, §13.2.2.4)', async (t) => {
  const { alice, fork, ladder, received } = await forks(t);
  const a = alice.call('sip:bob@forks.example.com');
  let ringing = 0;
  a.on('ringing', () => ringing++);
  assert.deepEqual(await a.established, { ok: true });
  assert.equal(a.state, 'answered');
  // The call is fork A's: its SDP, and (below) its dialog for the BYE.
  assert.equal(a.remoteDescription?.media[0]?.port, 4000);

  // Fork B: its own ACK, then a BYE from its own dialog, answered 200.
  await until(() => ladder(a.id).includes(`200 ${TAG_B}`) && ladder(a.id).filter((l) => l === `200 ${TAG_B}`).length >= 2, 'the 200 to the BYE of fork B');
  await until(() => received.includes(`ACK ${TAG_A}`), 'the ACK of fork A');
  assert.equal(ringing, 1, "'ringing' comes once, however many early dialogs");
  assert.deepEqual(received.filter((r) => r.endsWith(TAG_B)), [`ACK ${TAG_B}`, `BYE ${TAG_B}`]);
  assert.deepEqual(received.filter((r) => r.endsWith(TAG_A)), [`ACK ${TAG_A}`]);
  // The call is untouched by the end of fork B.
  assert.equal(a.state, 'answered');
  assert.equal(alice.calls.length, 1);

  assert.deepEqual(await a.hangup(), { ok: true });
  assert.equal(a.endReason?.cause, 'local-bye');
  assert.deepEqual(received.filter((r) => r.startsWith('BYE')), [`BYE ${TAG_B}`, `BYE ${TAG_A}`]);
  const rungs = ladder(a.id);
  // The ladder, as each side received it (the ACK of A may cross the second 200 in flight).
  assert.deepEqual(rungs.slice(0, 4), ['INVITE ', `180 ${TAG_A}`, `180 ${TAG_B}`, `200 ${TAG_A}`]);
  assert.deepEqual([...rungs.slice(4, -2)].sort(), [`200 ${TAG_B}`, `200 ${TAG_B}`, `ACK ${TAG_A}`, `ACK ${TAG_B}`, `BYE ${TAG_B}`].sort());
  assert.ok(rungs.indexOf(`200 ${TAG_B}`) < rungs.indexOf(`ACK ${TAG_B}`), 'the ACK of fork B answers its 200');
  assert.ok(rungs.indexOf(`ACK ${TAG_B}`) < rungs.indexOf(`BYE ${TAG_B}`), 'fork B is ACKed before its BYE');
  assert.deepEqual(rungs.slice(-2), [`BYE ${TAG_A}`, `200 ${TAG_A}`]);
  // Nothing left open: no call, no 2xx waiting for its ACK on either side.
  assert.equal(alice.calls.length, 0);
  assert.equal(alice.endpoint.unacknowledged, 0);
  assert.equal(fork.endpoint.unacknowledged, 0);
});

test('hanging up while only early dialogs exist CANCELs; the 2xx of each fork that still arrives is ACKed and BYEd (RFC 3261 §9.1, §13.2.2.4)', async (t) => {
  const { alice, fork, ladder, received } = await forks(t);
  const a = alice.call('sip:bob@forks.example.com');
  // The CANCEL leaves on the first 180, while both 200s are already on their way.
  a.on('ringing', () => void a.hangup());
  const reason = await a.ended;
  assert.equal(reason.cause, 'cancelled');
  assert.equal(reason.status, 200);
  assert.deepEqual(await a.established, { ok: false, status: 200, reason: reason.text });
  await until(() => received.includes(`BYE ${TAG_A}`) && received.includes(`BYE ${TAG_B}`), 'a BYE for each fork');
  await until(() => ladder(a.id).filter((l) => l.startsWith('200 ')).length >= 5, 'the 200s to the CANCEL and both BYEs');
  for (const tag of [TAG_A, TAG_B]) {
    assert.deepEqual(received.filter((r) => r.endsWith(tag)), [`ACK ${tag}`, `BYE ${tag}`], `fork ${tag}: ACK then BYE`);
  }
  assert.ok(ladder(a.id).some((l) => l.startsWith('CANCEL')));
  // The INVITE was answered before the CANCEL came, so there is no 487 (§9.2).
  assert.ok(!ladder(a.id).some((l) => l.startsWith('487')));
  assert.equal(alice.calls.length, 0);
  assert.equal(alice.endpoint.unacknowledged, 0);
  assert.equal(fork.endpoint.unacknowledged, 0);
});

/**
 * UPDATE (RFC 3311) and INFO (RFC 6086) received by a UserAgent, from a scripted peer (a bare
 * SipEndpoint with a Dialog of its own) over TCP on loopback: hold by UPDATE, an UPDATE without a
 * body, glare with a pending re-INVITE (491), INFO in and out of a dialog. Also the session
 * refresh by re-INVITE for a peer that does not allow UPDATE (RFC 4028 §10).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { Dialog } from '../../src/dialog/index.js';
import { createRequest, createResponse, type SipRequest } from '../../src/message/index.js';
import { parseSdp } from '../../src/sdp/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import { UserAgent, type Call, type InfoEvent, type UasTransaction } from '../../src/ua/index.js';
import { assertSocketsBack, openSockets, startEndpoint, type TestEndpoint } from '../helpers/endpoints.js';

const SDP = 'application/sdp';

function sdp(version: number, direction: string): string {
  return `v=0\r\no=- 1 ${version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=${direction}\r\n`;
}

interface Setup {
  bob: UserAgent;
  peer: TestEndpoint;
  clock: FakeClock;
  /** The peer's side of the dialog. */
  dialog: Dialog;
  b: Call;
  /** Bob's re-INVITEs as they reach the peer, unanswered. */
  reinvites: UasTransaction[];
  /** ACKs of Bob's reaching the peer. */
  acks: SipRequest[];
}

/** The peer calls Bob (Allow without UPDATE); Bob answers; the peer ACKs. */
async function setup(t: TestContext): Promise<Setup> {
  const sockets = openSockets();
  const clock = new FakeClock();
  const bob = await UserAgent.create({
    uri: 'sip:bob@127.0.0.1',
    listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({}),
    clock,
    sessionTimer: { expires: 120 },
  });
  const peer = await startEndpoint({ protocols: ['TCP'] });
  t.after(async () => {
    await bob.close();
    await peer.close();
    assert.equal(bob.endpoint.transactions.size, 0, 'transactions left');
    assert.equal(clock.pending, 0, 'clock timers left');
    await assertSocketsBack(sockets);
  });
  const reinvites: UasTransaction[] = [];
  const acks: SipRequest[] = [];
  peer.endpoint.onRequest((request, tx) => {
    if (tx === undefined) {
      acks.push(request);
      return false;
    }
    if (request.method === 'INVITE') {
      reinvites.push(tx);
      return true;
    }
    if (request.method === 'BYE') {
      tx.respond(createResponse(request, 200));
      return true;
    }
    return false;
  });
  const incoming = bob.next('incoming');
  incoming.then((call) => void call.answer(), () => undefined);
  const peerPort = peer.target('TCP').port;
  const invite = createRequest({
    method: 'INVITE',
    uri: `sip:bob@127.0.0.1:${bob.endpoint.listeners[0]!.port};transport=tcp`,
    from: '<sip:alice@127.0.0.1>',
    to: '<sip:bob@127.0.0.1>',
    cseq: 1,
    contact: `<sip:alice@127.0.0.1:${peerPort};transport=tcp>`,
    headers: [['Allow', 'INVITE, ACK, CANCEL, BYE, INFO']],
    body: sdp(1, 'sendrecv'),
    contentType: SDP,
  });
  const response = await peer.endpoint.request(invite);
  assert.equal(response.status, 200);
  // The peer did not say Supported: timer, so Bob refreshes (RFC 4028 §9) and nothing is required.
  assert.deepEqual([response.sessionExpires?.deltaSeconds, response.sessionExpires?.refresher], [120, 'uas']);
  assert.equal(response.require.includes('timer'), false);
  const dialog = Dialog.forUac(invite, response);
  await peer.endpoint.ack(response, { request: dialog.createAck(invite.cseq.seq, response, { invite }) });
  const b = await incoming;
  assert.deepEqual(await b.established, { ok: true });
  return { bob, peer, clock, dialog, b, reinvites, acks };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 3000; !condition();) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function direction(text: string): string | undefined {
  const d = parseSdp(text);
  return d.media[0]!.direction ?? d.direction;
}

async function hangup(s: Setup): Promise<void> {
  const bye = s.dialog.createRequest('BYE');
  assert.equal((await s.peer.endpoint.request(bye)).status, 200);
  assert.equal((await s.b.ended).cause, 'remote-bye');
}

test('UPDATE with an offer a=sendonly: answered recvonly in the 200, Bob is remote-held; an UPDATE without a body gets 200 (RFC 3311 §5.2)', async (t) => {
  const s = await setup(t);
  const remoteHeld = s.b.next('remote-held');
  const hold = s.dialog.createRequest('UPDATE', { body: sdp(2, 'sendonly'), contentType: SDP });
  const ok = await s.peer.endpoint.request(hold);
  assert.equal(ok.status, 200);
  assert.equal(direction(ok.bodyText), 'recvonly');
  assert.equal(ok.sessionExpires?.deltaSeconds, 120);
  await remoteHeld;
  assert.equal(s.b.remoteHold, true);

  const resumed = s.b.next('remote-resumed');
  const resume = s.dialog.createRequest('UPDATE', { body: sdp(3, 'sendrecv'), contentType: SDP });
  const ok2 = await s.peer.endpoint.request(resume);
  assert.equal(direction(ok2.bodyText) ?? 'sendrecv', 'sendrecv');
  await resumed;

  const bare = s.dialog.createRequest('UPDATE');
  const ok3 = await s.peer.endpoint.request(bare);
  assert.equal(ok3.status, 200);
  assert.equal(ok3.body.length, 0);
  assert.equal(s.b.state, 'answered');
  await hangup(s);
});

test('UPDATE with an offer while Bob\'s re-INVITE is pending: 491, and the re-INVITE then completes (RFC 3311 §5.2)', async (t) => {
  const s = await setup(t);
  const holding = s.b.hold();
  await until(() => s.reinvites.length === 1, 'Bob\'s re-INVITE');
  const reinvite = s.reinvites[0]!;
  assert.equal(direction(reinvite.request.bodyText), 'sendonly');
  const update = s.dialog.createRequest('UPDATE', { body: sdp(2, 'sendonly'), contentType: SDP });
  const glare = await s.peer.endpoint.request(update);
  assert.equal(glare.status, 491);
  assert.equal(s.b.remoteHold, false);

  s.dialog.receiveRequest(reinvite.request);
  reinvite.respond(createResponse(reinvite.request, 200, { body: sdp(2, 'recvonly'), contentType: SDP, headers: [['Contact', `<sip:alice@127.0.0.1:${s.peer.target('TCP').port};transport=tcp>`]] }));
  assert.deepEqual(await holding, { ok: true });
  assert.equal(s.b.localHold, true);
  await hangup(s);
});

test('INFO in the dialog: 200 and an info event with the content type and body; INFO outside any dialog: 481 (RFC 6086)', async (t) => {
  const s = await setup(t);
  const info = s.b.next('info');
  const request = s.dialog.createRequest('INFO', { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' });
  assert.equal((await s.peer.endpoint.request(request)).status, 200);
  const event: InfoEvent = await info;
  assert.equal(event.contentType, 'application/dtmf-relay');
  assert.equal(event.body, 'Signal=5\r\nDuration=160\r\n');

  const stray: SipRequest = createRequest({
    method: 'INFO',
    uri: `sip:bob@127.0.0.1:${s.bob.endpoint.listeners[0]!.port};transport=tcp`,
    from: '<sip:alice@127.0.0.1>',
    to: '<sip:bob@127.0.0.1>',
    cseq: 1,
  });
  assert.equal((await s.peer.endpoint.request(stray)).status, 481);
  await hangup(s);
});

test('a peer without UPDATE in Allow: Bob refreshes by re-INVITE at half the interval, the session unchanged (RFC 4028 §10)', async (t) => {
  const s = await setup(t);
  const version = s.b.localDescription!.origin.sessionVersion;
  s.clock.advance(59_999);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(s.reinvites.length, 0);
  s.clock.advance(1);
  await until(() => s.reinvites.length === 1, 'the refresh re-INVITE');
  const reinvite = s.reinvites[0]!;
  assert.deepEqual([reinvite.request.sessionExpires?.deltaSeconds, reinvite.request.sessionExpires?.refresher], [120, 'uac']);
  assert.equal(direction(reinvite.request.bodyText) ?? 'sendrecv', 'sendrecv');
  s.dialog.receiveRequest(reinvite.request);
  reinvite.respond(createResponse(reinvite.request, 200, { body: sdp(1, 'sendrecv'), contentType: SDP, headers: [['Contact', `<sip:alice@127.0.0.1:${s.peer.target('TCP').port};transport=tcp>`]] }));
  await until(() => s.acks.length === 1, 'the ACK of the refresh');
  // RFC 3264 §8: nothing changed, so the o= version did not move.
  assert.equal(s.b.localDescription!.origin.sessionVersion, version);
  // The refresh moved Bob's deadline (88 s) on: at 100 s the call is still up.
  s.clock.advance(40_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(s.b.state, 'answered');
  await hangup(s);
});

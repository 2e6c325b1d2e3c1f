/**
 * Unit tests of Dialog (RFC 3261 §12): creation as UAC and UAS from the seed INVITE through two
 * record-routing proxies, in-dialog requests (§12.2.1.1), CSeq (§8.1.1.5, §12.2.2), target refresh
 * (§12.2.1.2, §12.2.2), the secure flag, the ACK for a 2xx (§13.2.2.4) and the dialog's states.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipError } from '../../../src/core/errors.js';
import { createRequest, createResponse, formatUri, type SipRequest } from '../../../src/message/index.js';
import { Dialog } from '../../../src/dialog/index.js';
import {
  ALICE_CONTACT, ALICE_TAG, BOB_CONTACT, BOB_TAG, CALL_ID, P1, P2,
  aliceInvite, bobResponse, inviteAtBob, seed, sipUri, uris, wire,
} from './helpers.js';

const P1_URI = 'sips:p1.atlanta.example.com;lr';
const P2_URI = 'sips:p2.biloxi.example.com;lr';
const HOLD_SDP = seed('seed-reinvite-hold.sip').bodyText;

/** Alice's dialog: she sent the seed INVITE, Bob answered 200 through P1 and P2. */
function aliceDialog(): { dialog: Dialog; invite: SipRequest } {
  const invite = aliceInvite();
  const ok = bobResponse(inviteAtBob(), 200);
  return { dialog: Dialog.forUac(invite, ok, { transport: 'TLS' }), invite };
}

/** Bob's dialog: he received the seed INVITE through P1 and P2 and answers 200. */
function bobDialog(recordRoute: readonly string[] = [P1, P2]): { dialog: Dialog; invite: SipRequest } {
  const invite = inviteAtBob(recordRoute);
  return { dialog: Dialog.forUas(invite, bobResponse(invite, 200), { transport: 'TLS' }), invite };
}

/** A request from the peer in the dialog: Bob to Alice (`toAlice`) or Alice to Bob. */
function peerRequest(method: string, cseq: number, toAlice: boolean, contact?: string): SipRequest {
  const alice = `Alice <sips:alice@atlanta.example.com>;tag=${ALICE_TAG}`;
  const bob = `Bob <sips:bob@biloxi.example.com>;tag=${BOB_TAG}`;
  return wire(createRequest({
    method,
    uri: toAlice ? ALICE_CONTACT : BOB_CONTACT,
    from: toAlice ? bob : alice,
    to: toAlice ? alice : bob,
    callId: CALL_ID,
    cseq,
    contact,
    via: { transport: 'TLS', host: toAlice ? 'client.biloxi.example.com' : 'client.atlanta.example.com', port: 5061 },
  }));
}

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SipError, `expected a SipError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message !== undefined) assert.match(e.message, message);
    return true;
  });
}

// ---- creation ----

test('UAC: a 2xx to the seed INVITE through two proxies creates a confirmed dialog with the state of RFC 3261 §12.1.2', () => {
  const { dialog } = aliceDialog();
  assert.equal(dialog.role, 'uac');
  assert.equal(dialog.method, 'INVITE');
  assert.equal(dialog.state, 'confirmed');
  assert.deepEqual(dialog.id, { callId: CALL_ID, localTag: ALICE_TAG, remoteTag: BOB_TAG });
  assert.equal(formatUri(dialog.localUri), 'sips:alice@atlanta.example.com');
  assert.equal(formatUri(dialog.remoteUri), 'sips:bob@biloxi.example.com');
  assert.equal(formatUri(dialog.remoteTarget), BOB_CONTACT);
  assert.equal(formatUri(dialog.localTarget!), ALICE_CONTACT);
  assert.deepEqual(uris(dialog.routeSet.routes), [P1_URI, P2_URI]);
  // §12.1.2: local sequence number from the request's CSeq; remote one empty.
  assert.equal(dialog.localSeq, 1);
  assert.equal(dialog.remoteSeq, undefined);
  assert.equal(dialog.secure, true);
});

test('UAS: answering the seed INVITE received through two proxies creates a dialog with the state of RFC 3261 §12.1.1', () => {
  const { dialog } = bobDialog();
  assert.equal(dialog.role, 'uas');
  assert.equal(dialog.state, 'confirmed');
  assert.deepEqual(dialog.id, { callId: CALL_ID, localTag: BOB_TAG, remoteTag: ALICE_TAG });
  assert.equal(formatUri(dialog.localUri), 'sips:bob@biloxi.example.com');
  assert.equal(formatUri(dialog.remoteUri), 'sips:alice@atlanta.example.com');
  assert.equal(formatUri(dialog.remoteTarget), ALICE_CONTACT);
  assert.equal(formatUri(dialog.localTarget!), BOB_CONTACT);
  assert.deepEqual(uris(dialog.routeSet.routes), [P2_URI, P1_URI]);
  // §12.1.1: remote sequence number from the request's CSeq; local one empty.
  assert.equal(dialog.remoteSeq, 1);
  assert.equal(dialog.localSeq, undefined);
  assert.equal(dialog.secure, true);
});

test('a provisional response with a To tag creates an early dialog; 100 and tagless ones create none (RFC 3261 §12.1)', () => {
  const invite = aliceInvite();
  const ringing = bobResponse(inviteAtBob(), 180);
  assert.equal(Dialog.forUac(invite, ringing).state, 'early');
  const trying = wire(createResponse(aliceInvite(), 100));
  throwsCode(() => Dialog.forUac(invite, trying), 'ERR_INVALID_ARGUMENT', /creates no dialog/);
  const tagless = wire(createResponse(aliceInvite(), 180));
  tagless.set('To', 'Bob <sips:bob@biloxi.example.com>');
  throwsCode(() => Dialog.forUac(invite, tagless), 'ERR_INVALID_ARGUMENT', /without a To tag/);
  throwsCode(() => Dialog.forUac(invite, bobResponse(inviteAtBob(), 486)), 'ERR_INVALID_ARGUMENT', /creates no dialog/);
});

test('a response to another request cannot create the dialog', () => {
  const other = aliceInvite();
  other.set('CSeq', '2 INVITE');
  throwsCode(() => Dialog.forUac(other, bobResponse(inviteAtBob(), 200)), 'ERR_INVALID_ARGUMENT', /does not answer/);
});

test('a dialog-creating request without Contact cannot make a UAS dialog (RFC 3261 §8.1.1.8: the UA answers 400)', () => {
  const invite = inviteAtBob();
  invite.removeAll('Contact');
  throwsCode(() => Dialog.forUas(invite, bobResponse(invite, 200)), 'ERR_INVALID_ARGUMENT', /Contact/);
});

test('a 2xx without Contact leaves the Request-URI as the remote target (DEVIATION from RFC 3261 §12.1.2)', () => {
  const dialog = Dialog.forUac(aliceInvite(), bobResponse(inviteAtBob(), 200, { contact: '' }));
  assert.equal(formatUri(dialog.remoteTarget), 'sips:bob@biloxi.example.com');
});

test('a 2xx without a To tag (RFC 2543) makes a dialog with an empty remote tag, and requests in it carry no To tag (RFC 3261 §12.1.2)', () => {
  const ok = bobResponse(inviteAtBob(), 200);
  ok.set('To', 'Bob <sips:bob@biloxi.example.com>');
  const dialog = Dialog.forUac(aliceInvite(), wire(ok));
  assert.equal(dialog.id.remoteTag, '');
  const bye = dialog.createRequest('BYE');
  assert.equal(bye.toTag, undefined);
  assert.equal(bye.fromTag, ALICE_TAG);
});

// ---- the secure flag ----

test('secure flag: a sips: Request-URI over TLS makes the dialog secure (RFC 3261 §12.1.1, §12.1.2)', () => {
  const invite = aliceInvite();
  const ok = bobResponse(inviteAtBob(), 200);
  assert.equal(Dialog.forUac(invite, ok, { transport: 'TLS' }).secure, true);
  assert.equal(Dialog.forUac(invite, ok, { transport: 'WSS' }).secure, true);
  assert.equal(Dialog.forUas(inviteAtBob(), ok, { transport: 'TLS' }).secure, true);
  // hookflash sends sips: only over TLS: a UAC that does not say is secure with a sips: URI.
  assert.equal(Dialog.forUac(invite, ok).secure, true);
});

test('secure flag: sips: over TCP, or sip: over TLS, is not secure (RFC 3261 §12.1.1)', () => {
  const ok = bobResponse(inviteAtBob(), 200);
  assert.equal(Dialog.forUas(inviteAtBob(), ok, { transport: 'TCP' }).secure, false);
  const sipInvite = inviteAtBob();
  sipInvite.uri = 'sip:bob@biloxi.example.com';
  assert.equal(Dialog.forUas(sipInvite, ok, { transport: 'TLS' }).secure, false);
});

// ---- in-dialog requests ----

test('a BYE from the UAC follows the route set to the remote target, with the dialog\'s From, To, Call-ID and the next CSeq (RFC 3261 §12.2.1.1)', () => {
  const { dialog } = aliceDialog();
  const bye = wire(dialog.createRequest('BYE'));
  assert.equal(bye.method, 'BYE');
  assert.equal(bye.uriText, BOB_CONTACT);
  assert.deepEqual(uris(bye.route), [P1_URI, P2_URI]);
  assert.equal(bye.get('From'), `Alice <sips:alice@atlanta.example.com>;tag=${ALICE_TAG}`);
  assert.equal(bye.get('To'), `Bob <sips:bob@biloxi.example.com>;tag=${BOB_TAG}`);
  assert.equal(bye.callId, CALL_ID);
  assert.deepEqual(bye.cseq, { seq: 2, method: 'BYE' });
  assert.equal(bye.maxForwards, 70);
  // BYE is no target refresh: no Contact. No Via either: the transaction layer adds it.
  assert.equal(bye.contact, undefined);
  assert.equal(bye.via.length, 0);
  assert.equal(dialog.localSeq, 2);
});

test('the peer accepts the UAC\'s BYE as a request of its own dialog (RFC 3261 §12.2.1.1, §12.2.2)', () => {
  const alice = aliceDialog().dialog;
  const bob = bobDialog().dialog;
  const bye = wire(alice.createRequest('BYE'));
  assert.deepEqual(bob.receiveRequest(bye), { accept: true, targetRefreshed: false });
  assert.equal(bob.remoteSeq, 2);
});

test('Bob\'s dialog rebuilds the seed\'s hold re-INVITE: Request-URI, Route <sips:ss1.example.com;lr>, From, To, Call-ID and Contact (RFC 3261 §12.2.1.1, seed)', () => {
  const { dialog } = bobDialog(['<sips:ss1.example.com;lr>']);
  const seedHold = seed('seed-reinvite-hold.sip');
  const hold = wire(dialog.createRequest('INVITE', { body: HOLD_SDP, contentType: 'application/sdp' }));
  assert.equal(hold.uriText, seedHold.uriText);
  assert.deepEqual(hold.getAll('Route'), seedHold.getAll('Route'));
  for (const name of ['From', 'To', 'Call-ID', 'Contact', 'Max-Forwards', 'Content-Type']) {
    assert.equal(hold.get(name), seedHold.get(name), name);
  }
  assert.equal(hold.bodyText, seedHold.bodyText);
  assert.equal(hold.cseq.method, 'INVITE');
});

test('the UAS\'s first request starts its empty local sequence number at a random value below 2^31, then counts up by one (RFC 3261 §12.2.1.1, §8.1.1.5)', () => {
  const starts = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const { dialog } = bobDialog();
    const first = dialog.createRequest('INFO').cseq.seq;
    assert.ok(Number.isInteger(first) && first >= 1 && first < 2 ** 31, String(first));
    assert.equal(dialog.localSeq, first);
    assert.equal(dialog.createRequest('BYE').cseq.seq, first + 1);
    starts.add(first);
  }
  assert.ok(starts.size > 1, 'the start is random');
});

test('target refresh requests carry the local Contact; others carry one only when asked (RFC 3261 §12.2.1.1)', () => {
  const { dialog } = aliceDialog();
  for (const method of ['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']) {
    assert.equal(dialog.createRequest(method).get('Contact'), `<${ALICE_CONTACT}>`, method);
  }
  for (const method of ['BYE', 'INFO', 'MESSAGE', 'OPTIONS', 'PRACK']) {
    assert.equal(dialog.createRequest(method).has('Contact'), false, method);
  }
  const moved = dialog.createRequest('INVITE', { contact: '<sips:alice@192.0.2.7:5061>' });
  assert.equal(moved.get('Contact'), '<sips:alice@192.0.2.7:5061>');
});

test('a target refresh request without a known local Contact is refused rather than sent without one (RFC 3261 §12.2.1.1)', () => {
  const invite = inviteAtBob();
  const ok = bobResponse(invite, 200, { contact: '' });
  const dialog = Dialog.forUas(invite, ok);
  assert.equal(dialog.localTarget, undefined);
  throwsCode(() => dialog.createRequest('INVITE'), 'ERR_INVALID_ARGUMENT', /Contact/);
  assert.equal(dialog.localSeq, undefined, 'a refused request uses no CSeq number');
  assert.equal(dialog.createRequest('INVITE', { contact: `<${BOB_CONTACT}>` }).get('Contact'), `<${BOB_CONTACT}>`);
});

test('Max-Forwards, extra headers and a body are passed through (RFC 3261 §8.1.1.6)', () => {
  const { dialog } = aliceDialog();
  const info = wire(dialog.createRequest('INFO', { maxForwards: 10, headers: [['Info-Package', 'dtmf']], body: 'Signal=5', contentType: 'application/dtmf-relay' }));
  assert.equal(info.maxForwards, 10);
  assert.equal(info.get('Info-Package'), 'dtmf');
  assert.equal(info.bodyText, 'Signal=5');
  assert.equal(info.get('Content-Type'), 'application/dtmf-relay');
});

test('strict routing in a dialog: the first route is the Request-URI and the remote target the last Route (RFC 3261 §12.2.1.1)', () => {
  // A strict router next to Alice (RFC 2543: no lr), P2 next to Bob.
  const strict = '<sips:strict.atlanta.example.com>';
  const alice = Dialog.forUac(aliceInvite(), bobResponse(inviteAtBob([strict, P2]), 200));
  assert.equal(alice.routeSet.isLoose, false);
  const bye = wire(alice.createRequest('BYE'));
  assert.equal(bye.uriText, 'sips:strict.atlanta.example.com');
  assert.deepEqual(uris(bye.route), [P2_URI, BOB_CONTACT]);
  // Bob's first route is P2, which is loose: his requests go to Alice's Contact.
  const { dialog: bob } = bobDialog([strict, P2]);
  assert.deepEqual(uris(bob.routeSet.routes), [P2_URI, 'sips:strict.atlanta.example.com']);
  const bobBye = wire(bob.createRequest('BYE'));
  assert.equal(bobBye.uriText, ALICE_CONTACT);
  assert.deepEqual(uris(bobBye.route), [P2_URI, 'sips:strict.atlanta.example.com']);
});

test('ACK and CANCEL are not built by createRequest: they take no CSeq number of their own (RFC 3261 §13.2.2.4, §9.1)', () => {
  const { dialog } = aliceDialog();
  throwsCode(() => dialog.createRequest('ACK'), 'ERR_INVALID_ARGUMENT', /createAck/);
  throwsCode(() => dialog.createRequest('CANCEL'), 'ERR_INVALID_ARGUMENT', /§9\.1/);
  assert.equal(dialog.localSeq, 1);
});

// ---- the ACK for a 2xx ----

test('the ACK for a 2xx has the INVITE\'s CSeq number with method ACK, the dialog\'s route, and no Via of the INVITE (RFC 3261 §13.2.2.4)', () => {
  const { dialog, invite } = aliceDialog();
  const ok = bobResponse(inviteAtBob(), 200);
  const ack = wire(dialog.createAck(1, ok));
  assert.equal(ack.method, 'ACK');
  assert.deepEqual(ack.cseq, { seq: 1, method: 'ACK' });
  assert.equal(ack.uriText, BOB_CONTACT);
  assert.deepEqual(uris(ack.route), [P1_URI, P2_URI]);
  assert.equal(ack.get('From'), invite.get('From'));
  assert.equal(ack.toTag, BOB_TAG);
  assert.equal(ack.callId, CALL_ID);
  // No Via at all: the transaction layer's sendAck adds one with a new branch (§17.1.1.3).
  assert.equal(ack.via.length, 0);
  assert.equal(ack.has('Contact'), false);
  assert.equal(dialog.localSeq, 1, 'an ACK does not move the local sequence number');
  // A re-INVITE later is acknowledged with its own number.
  const reinvite = dialog.createRequest('INVITE');
  const reOk = wire(createResponse(reinvite, 200, { headers: [['Contact', `<${BOB_CONTACT}>`]] }));
  dialog.receiveResponse(reOk);
  assert.deepEqual(dialog.createAck(reinvite.cseq.seq, reOk).cseq, { seq: 2, method: 'ACK' });
  assert.equal(dialog.localSeq, 2);
});

test('the ACK carries the INVITE\'s credentials and the answer when the 2xx held the offer (RFC 3261 §13.2.2.4)', () => {
  const invite = aliceInvite();
  invite.append('Proxy-Authorization', 'Digest username="alice", realm="atlanta.example.com", nonce="n", uri="sips:bob@biloxi.example.com", response="r"');
  const dialog = Dialog.forUac(invite, bobResponse(inviteAtBob(), 200));
  const ack = wire(dialog.createAck(1, bobResponse(inviteAtBob(), 200), { invite, body: HOLD_SDP, contentType: 'application/sdp' }));
  assert.equal(ack.get('Proxy-Authorization'), invite.get('Proxy-Authorization'));
  assert.equal(ack.bodyText, HOLD_SDP);
});

test('only a 2xx to that INVITE in this dialog is acknowledged by createAck (RFC 3261 §13.2.2.4, §17.1.1.3)', () => {
  const { dialog } = aliceDialog();
  throwsCode(() => dialog.createAck(1, bobResponse(inviteAtBob(), 486)), 'ERR_INVALID_ARGUMENT', /only a 2xx/);
  throwsCode(() => dialog.createAck(7, bobResponse(inviteAtBob(), 200)), 'ERR_INVALID_ARGUMENT', /not 7 INVITE/);
  throwsCode(() => dialog.createAck(1, bobResponse(inviteAtBob(), 200, { toTag: 'other-fork' })), 'ERR_INVALID_ARGUMENT', /not a response of dialog/);
});

test('an early dialog is not acknowledged until its 2xx is applied; a terminated one still acknowledges a retransmitted 2xx (RFC 3261 §13.2.2.4)', () => {
  const invite = aliceInvite();
  const dialog = Dialog.forUac(invite, bobResponse(inviteAtBob(), 180));
  const ok = bobResponse(inviteAtBob(), 200);
  throwsCode(() => dialog.createAck(1, ok), 'ERR_INVALID_STATE', /early/);
  dialog.receiveResponse(ok);
  dialog.createRequest('BYE');
  dialog.terminate();
  assert.equal(dialog.createAck(1, ok).cseq.seq, 1);
});

// ---- remote CSeq (§12.2.2) ----

test('a request with a CSeq lower than the remote sequence number gets the verdict 500 and changes nothing (RFC 3261 §12.2.2)', () => {
  const { dialog } = bobDialog();
  assert.deepEqual(dialog.receiveRequest(peerRequest('INFO', 5, false)), { accept: true, targetRefreshed: false });
  assert.equal(dialog.remoteSeq, 5, 'a gap is no error: the numbers in between may have been used by requests that did not reach us');
  const late = dialog.receiveRequest(peerRequest('INVITE', 3, false, '<sips:alice@192.0.2.99>'));
  assert.equal(late.accept, false);
  assert.ok(!late.accept && late.status === 500);
  assert.equal(dialog.remoteSeq, 5);
  assert.equal(formatUri(dialog.remoteTarget), ALICE_CONTACT, 'the out-of-order request refreshed nothing');
  assert.equal(dialog.receiveRequest(peerRequest('BYE', 6, false)).accept, true);
});

test('an empty remote sequence number takes the first request\'s CSeq, whatever it is (RFC 3261 §12.2.2, seed)', () => {
  const { dialog } = aliceDialog();
  assert.equal(dialog.remoteSeq, undefined);
  // The seed's hold re-INVITE from Bob starts his numbering at 1, below Alice's own 1 INVITE: fine.
  const verdict = dialog.receiveRequest(seed('seed-reinvite-hold.sip'));
  assert.deepEqual(verdict, { accept: true, targetRefreshed: true });
  assert.equal(dialog.remoteSeq, 1);
});

test('ACK and CANCEL reuse their INVITE\'s CSeq number and are never out of order (RFC 3261 §12.2.2, §13.2.2.4)', () => {
  const { dialog } = bobDialog();
  dialog.receiveRequest(peerRequest('INFO', 4, false));
  assert.deepEqual(dialog.receiveRequest(peerRequest('ACK', 1, false)), { accept: true, targetRefreshed: false });
  assert.equal(dialog.remoteSeq, 4);
});

test('a request of another dialog is refused as a misuse (DialogTable.match finds the dialog first)', () => {
  const { dialog } = bobDialog();
  const stranger = peerRequest('BYE', 9, false);
  stranger.set('From', 'Alice <sips:alice@atlanta.example.com>;tag=someone-else');
  throwsCode(() => dialog.receiveRequest(stranger), 'ERR_INVALID_ARGUMENT', /not a request of dialog/);
});

// ---- target refresh ----

test('a received re-INVITE (and UPDATE) with a Contact replaces the remote target; a BYE or INFO with one does not (RFC 3261 §12.2.2)', () => {
  const { dialog } = aliceDialog();
  assert.deepEqual(dialog.receiveRequest(peerRequest('INVITE', 10, true, '<sips:bob@192.0.2.20:5061>')), { accept: true, targetRefreshed: true });
  assert.equal(formatUri(dialog.remoteTarget), 'sips:bob@192.0.2.20:5061');
  dialog.receiveRequest(peerRequest('UPDATE', 11, true, '<sips:bob@192.0.2.21:5061>'));
  assert.equal(formatUri(dialog.remoteTarget), 'sips:bob@192.0.2.21:5061');
  assert.deepEqual(dialog.receiveRequest(peerRequest('INFO', 12, true, '<sips:bob@192.0.2.22:5061>')), { accept: true, targetRefreshed: false });
  assert.equal(formatUri(dialog.remoteTarget), 'sips:bob@192.0.2.21:5061');
  // A target refresh without Contact keeps the target.
  assert.deepEqual(dialog.receiveRequest(peerRequest('INVITE', 13, true)), { accept: true, targetRefreshed: false });
  // The next request goes to the new target, still through the route set.
  const bye = dialog.createRequest('BYE');
  assert.equal(bye.uriText, 'sips:bob@192.0.2.21:5061');
  assert.deepEqual(uris(bye.route), [P1_URI, P2_URI]);
});

test('a 2xx to a re-INVITE or UPDATE this UA sent replaces the remote target; a failure does not (RFC 3261 §12.2.1.2)', () => {
  const { dialog } = aliceDialog();
  const reinvite = wire(dialog.createRequest('INVITE'));
  dialog.receiveResponse(wire(createResponse(reinvite, 488, { headers: [['Contact', '<sips:bob@192.0.2.30>']] })));
  assert.equal(formatUri(dialog.remoteTarget), BOB_CONTACT, 'a rejected re-INVITE leaves the dialog as it was');
  const again = wire(dialog.createRequest('INVITE'));
  dialog.receiveResponse(wire(createResponse(again, 200, { headers: [['Contact', '<sips:bob@192.0.2.31>']] })));
  assert.equal(formatUri(dialog.remoteTarget), 'sips:bob@192.0.2.31');
  const update = wire(dialog.createRequest('UPDATE'));
  dialog.receiveResponse(wire(createResponse(update, 200, { headers: [['Contact', '<sips:bob@192.0.2.32>']] })));
  assert.equal(formatUri(dialog.remoteTarget), 'sips:bob@192.0.2.32');
  const info = wire(dialog.createRequest('INFO'));
  dialog.receiveResponse(wire(createResponse(info, 200, { headers: [['Contact', '<sips:bob@192.0.2.33>']] })));
  assert.equal(formatUri(dialog.remoteTarget), 'sips:bob@192.0.2.32', 'INFO is no target refresh');
  // The route set stays what the dialog was created with (§12.2.1.2 changes only the target).
  assert.deepEqual(uris(dialog.routeSet.routes), [P1_URI, P2_URI]);
});

test('a 2xx the UAS sends to a re-INVITE with a new Contact becomes its local target (RFC 3261 §12.2.2)', () => {
  const { dialog } = bobDialog();
  const reinvite = peerRequest('INVITE', 2, false, `<${ALICE_CONTACT}>`);
  dialog.receiveRequest(reinvite);
  dialog.sendingResponse(wire(createResponse(reinvite, 200, { headers: [['Contact', '<sips:bob@192.0.2.40:5061>']] })));
  assert.equal(formatUri(dialog.localTarget!), 'sips:bob@192.0.2.40:5061');
  assert.equal(dialog.createRequest('INVITE').get('Contact'), '<sips:bob@192.0.2.40:5061>');
});

// ---- states ----

test('UAC: a 2xx confirms the early dialog and recomputes its route set and remote target from the 2xx (RFC 3261 §13.2.2.4)', () => {
  const invite = aliceInvite();
  // The 180 came back through P2 only (say P1 did not record-route it); the 2xx through both.
  const ringing = bobResponse(inviteAtBob([P2]), 180, { contact: '<sips:bob@192.0.2.50>' });
  const dialog = Dialog.forUac(invite, ringing);
  assert.equal(dialog.state, 'early');
  assert.deepEqual(uris(dialog.routeSet.routes), [P2_URI]);
  dialog.receiveResponse(bobResponse(inviteAtBob([P2]), 183, { contact: '<sips:bob@192.0.2.51>' }));
  assert.equal(formatUri(dialog.remoteTarget), 'sips:bob@192.0.2.51');
  dialog.receiveResponse(bobResponse(inviteAtBob(), 200));
  assert.equal(dialog.state, 'confirmed');
  assert.deepEqual(uris(dialog.routeSet.routes), [P1_URI, P2_URI]);
  assert.equal(formatUri(dialog.remoteTarget), BOB_CONTACT);
  // A retransmitted 2xx changes nothing, nor does a stray provisional response.
  dialog.receiveResponse(bobResponse(inviteAtBob([P2]), 180, { contact: '<sips:bob@192.0.2.52>' }));
  assert.equal(formatUri(dialog.remoteTarget), BOB_CONTACT);
  assert.equal(dialog.state, 'confirmed');
});

test('UAC: a non-2xx final response ends the early dialog (RFC 3261 §12.3)', () => {
  const dialog = Dialog.forUac(aliceInvite(), bobResponse(inviteAtBob(), 180));
  dialog.receiveResponse(bobResponse(inviteAtBob(), 486));
  assert.equal(dialog.state, 'terminated');
});

test('UAS: the dialog is early after a 1xx, confirmed when the 2xx goes out, and ended by a non-2xx final (RFC 3261 §12.1.1, §12.3)', () => {
  const invite = inviteAtBob();
  const early = Dialog.forUas(invite, bobResponse(invite, 180));
  assert.equal(early.state, 'early');
  early.sendingResponse(bobResponse(invite, 183));
  assert.equal(early.state, 'early');
  early.sendingResponse(bobResponse(invite, 200, { contact: '<sips:bob@192.0.2.60>' }));
  assert.equal(early.state, 'confirmed');
  assert.equal(formatUri(early.localTarget!), 'sips:bob@192.0.2.60');
  const rejected = Dialog.forUas(invite, bobResponse(invite, 180));
  rejected.sendingResponse(bobResponse(invite, 603));
  assert.equal(rejected.state, 'terminated');
});

test('a 481 to a request in the dialog ends it; a 408 leaves that to the UA (RFC 3261 §12.2.1.2, RFC 5057)', () => {
  const { dialog } = aliceDialog();
  const info = wire(dialog.createRequest('INFO'));
  dialog.receiveResponse(wire(createResponse(info, 408)));
  assert.equal(dialog.state, 'confirmed');
  const bye = wire(dialog.createRequest('BYE'));
  dialog.receiveResponse(wire(createResponse(bye, 481)));
  assert.equal(dialog.state, 'terminated');
});

test('a terminated dialog sends nothing more and answers requests 481 (RFC 3261 §12.2.2, §15)', () => {
  const { dialog } = bobDialog();
  dialog.terminate();
  assert.equal(dialog.state, 'terminated');
  throwsCode(() => dialog.createRequest('BYE'), 'ERR_INVALID_STATE', /terminated/);
  const verdict = dialog.receiveRequest(peerRequest('BYE', 2, false));
  assert.ok(!verdict.accept && verdict.status === 481);
});

test('the dialog keeps the display names of From and To, and no tag of the creating messages besides its own (RFC 3261 §12.2.1.1)', () => {
  const { dialog } = bobDialog();
  assert.equal(dialog.localIdentity.displayName, 'Bob');
  assert.equal(dialog.remoteIdentity.displayName, 'Alice');
  assert.equal(dialog.localIdentity.params.tag, undefined);
  const bye = dialog.createRequest('BYE');
  assert.equal(bye.get('From'), `Bob <sips:bob@biloxi.example.com>;tag=${BOB_TAG}`);
  assert.equal(bye.get('To'), `Alice <sips:alice@atlanta.example.com>;tag=${ALICE_TAG}`);
  assert.equal(sipUri(bye.uri).scheme, 'sips');
});

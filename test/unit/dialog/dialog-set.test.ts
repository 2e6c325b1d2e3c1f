/**
 * Unit tests of DialogSet: the dialogs one INVITE leads to when a proxy forks it (RFC 3261
 * §12.1.2, §13.2.2.4, §12.3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipError } from '../../../src/core/errors.js';
import { createResponse, formatUri } from '../../../src/message/index.js';
import { DialogSet, DialogTable, type Dialog } from '../../../src/dialog/index.js';
import { ALICE_TAG, CALL_ID, P1, P2, aliceInvite, bobResponse, inviteAtBob, uris, wire } from './helpers.js';

/** A response from one fork: its own tag and Contact, through P1 and the fork's own proxy. */
function fork(status: number, tag: string, host: string, recordRoute: readonly string[] = [P1, P2]) {
  return bobResponse(inviteAtBob(recordRoute), status, { toTag: tag, contact: `<sips:bob@${host}>` });
}

test('two provisional responses with different To tags make two early dialogs of one set (RFC 3261 §12.1.2, §13.2.2.4)', () => {
  const created: Dialog[] = [];
  const set = new DialogSet(aliceInvite(), { onDialog: (d) => created.push(d) });
  assert.equal(set.callId, CALL_ID);
  assert.equal(set.localTag, ALICE_TAG);
  const desk = set.receiveResponse(fork(180, 'desk', 'desk.biloxi.example.com'))!;
  const mobile = set.receiveResponse(fork(183, 'mobile', 'mobile.biloxi.example.com'))!;
  assert.notEqual(desk, mobile);
  assert.deepEqual(created, [desk, mobile]);
  assert.deepEqual(set.dialogs, [desk, mobile]);
  for (const d of [desk, mobile]) {
    assert.equal(d.state, 'early');
    assert.equal(d.id.callId, CALL_ID);
    assert.equal(d.id.localTag, ALICE_TAG);
  }
  assert.equal(desk.id.remoteTag, 'desk');
  assert.equal(mobile.id.remoteTag, 'mobile');
  assert.equal(formatUri(desk.remoteTarget), 'sips:bob@desk.biloxi.example.com');
  assert.equal(formatUri(mobile.remoteTarget), 'sips:bob@mobile.biloxi.example.com');
  assert.equal(set.get('DESK'), desk, 'tags compare case-insensitively');
});

test('100 Trying and a provisional response without To tag create no dialog (RFC 3261 §12.1)', () => {
  const set = new DialogSet(aliceInvite());
  assert.equal(set.receiveResponse(wire(createResponse(aliceInvite(), 100))), undefined);
  const tagless = fork(180, 'x', 'desk.biloxi.example.com');
  tagless.set('To', 'Bob <sips:bob@biloxi.example.com>');
  assert.equal(set.receiveResponse(wire(tagless)), undefined);
  assert.equal(set.dialogs.length, 0);
});

test('a later response with the same To tag goes to the same dialog (RFC 3261 §12.1.2)', () => {
  const set = new DialogSet(aliceInvite());
  const first = set.receiveResponse(fork(180, 'desk', 'desk.biloxi.example.com'));
  const again = set.receiveResponse(fork(183, 'DeSk', 'desk2.biloxi.example.com'));
  assert.equal(again, first);
  assert.equal(set.dialogs.length, 1);
  assert.equal(formatUri(first!.remoteTarget), 'sips:bob@desk2.biloxi.example.com');
});

test('a 2xx confirms the early dialog of its To tag with the 2xx\'s route set; the other fork stays early (RFC 3261 §13.2.2.4)', () => {
  const set = new DialogSet(aliceInvite());
  const desk = set.receiveResponse(fork(180, 'desk', 'desk.biloxi.example.com', [P2]))!;
  const mobile = set.receiveResponse(fork(180, 'mobile', 'mobile.biloxi.example.com', [P2]))!;
  assert.deepEqual(uris(desk.routeSet.routes), ['sips:p2.biloxi.example.com;lr']);
  assert.equal(set.receiveResponse(fork(200, 'desk', 'desk.biloxi.example.com')), desk);
  assert.equal(desk.state, 'confirmed');
  assert.deepEqual(uris(desk.routeSet.routes), ['sips:p1.atlanta.example.com;lr', 'sips:p2.biloxi.example.com;lr']);
  assert.equal(mobile.state, 'early');
  assert.deepEqual(set.confirmed, [desk]);
});

test('each fork that answers 2xx gets its own confirmed dialog, with or without an early one first (RFC 3261 §13.2.2.4)', () => {
  const table = new DialogTable();
  const set = new DialogSet(aliceInvite(), { onDialog: (d) => table.add(d) });
  set.receiveResponse(fork(180, 'desk', 'desk.biloxi.example.com'));
  const desk = set.receiveResponse(fork(200, 'desk', 'desk.biloxi.example.com'))!;
  const mobile = set.receiveResponse(fork(200, 'mobile', 'mobile.biloxi.example.com'))!;
  assert.equal(mobile.state, 'confirmed');
  assert.deepEqual(set.confirmed, [desk, mobile]);
  assert.equal(table.size, 2);
  // The UA acknowledges both 2xx, each in its own dialog, and may end the extra one with a BYE.
  assert.equal(desk.createAck(1, fork(200, 'desk', 'desk.biloxi.example.com')).uriText, 'sips:bob@desk.biloxi.example.com');
  const ack = mobile.createAck(1, fork(200, 'mobile', 'mobile.biloxi.example.com'));
  assert.equal(ack.uriText, 'sips:bob@mobile.biloxi.example.com');
  assert.equal(ack.toTag, 'mobile');
  // Each forked dialog counts its own CSeq from the INVITE's.
  assert.equal(mobile.createRequest('BYE').cseq.seq, 2);
  assert.equal(desk.createRequest('BYE').cseq.seq, 2);
});

test('a non-2xx final response ends every early dialog of the set, and later provisional responses create none (RFC 3261 §12.3)', () => {
  const set = new DialogSet(aliceInvite());
  const desk = set.receiveResponse(fork(180, 'desk', 'desk.biloxi.example.com'))!;
  const mobile = set.receiveResponse(fork(180, 'mobile', 'mobile.biloxi.example.com'))!;
  assert.equal(set.receiveResponse(fork(486, 'mobile', 'mobile.biloxi.example.com')), undefined);
  assert.equal(desk.state, 'terminated');
  assert.equal(mobile.state, 'terminated');
  assert.equal(set.failed, true);
  assert.equal(set.receiveResponse(fork(180, 'late', 'late.biloxi.example.com')), undefined);
  assert.equal(set.dialogs.length, 2);
});

test('a 199 ends the early dialog of its fork and creates none for an unknown tag (RFC 6228)', () => {
  const set = new DialogSet(aliceInvite());
  const desk = set.receiveResponse(fork(180, 'desk', 'desk.biloxi.example.com'))!;
  const mobile = set.receiveResponse(fork(180, 'mobile', 'mobile.biloxi.example.com'))!;
  assert.equal(set.receiveResponse(fork(199, 'desk', 'desk.biloxi.example.com')), desk);
  assert.equal(desk.state, 'terminated');
  assert.equal(mobile.state, 'early');
  assert.equal(set.receiveResponse(fork(199, 'tablet', 'tablet.biloxi.example.com')), undefined);
  assert.equal(set.dialogs.length, 2);
});

test('a response to another request is refused', () => {
  const set = new DialogSet(aliceInvite());
  const other = aliceInvite();
  other.set('CSeq', '2 INVITE');
  assert.throws(() => set.receiveResponse(bobResponse(other, 180)), (e: unknown) => e instanceof SipError && e.code === 'ERR_INVALID_ARGUMENT');
});

test('terminate() ends every dialog of the set', () => {
  const set = new DialogSet(aliceInvite());
  set.receiveResponse(fork(180, 'desk', 'desk.biloxi.example.com'));
  set.receiveResponse(fork(200, 'mobile', 'mobile.biloxi.example.com'));
  set.terminate();
  assert.ok(set.dialogs.every((d) => d.state === 'terminated'));
});

/**
 * Unit tests of DialogTable: matching incoming in-dialog requests (RFC 3261 §12.2.2, 481 when
 * nothing matches) and INVITEs with Replaces (RFC 3891 §3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipError } from '../../../src/core/errors.js';
import { createRequest, createResponse, isSipUri, parseReplaces } from '../../../src/message/index.js';
import { Dialog, DialogTable } from '../../../src/dialog/index.js';
import { ALICE_TAG, BOB_TAG, CALL_ID, aliceInvite, bobResponse, inviteAtBob, seed, wire } from './helpers.js';

function aliceDialog(): Dialog {
  return Dialog.forUac(aliceInvite(), bobResponse(inviteAtBob(), 200));
}

function bobDialog(status = 200): Dialog {
  const invite = inviteAtBob();
  return Dialog.forUas(invite, bobResponse(invite, status));
}

test('an incoming in-dialog request finds its dialog by Call-ID, To tag (local) and From tag (remote) (RFC 3261 §12.2.2, seed)', () => {
  const alice = aliceDialog();
  const bob = bobDialog();
  const aliceTable = new DialogTable();
  aliceTable.add(alice);
  const bobTable = new DialogTable();
  bobTable.add(bob);
  // The seed's hold re-INVITE (Bob to Alice) and REFER (Alice to Bob).
  assert.equal(aliceTable.match(seed('seed-reinvite-hold.sip')), alice);
  assert.equal(bobTable.match(seed('seed-refer.sip')), bob);
  // Neither belongs to the other side's table: the tags are the other way round there.
  assert.equal(aliceTable.match(seed('seed-refer.sip')), undefined);
  assert.equal(bobTable.match(seed('seed-reinvite-hold.sip')), undefined);
});

test('a request with a To tag that matches no dialog is not matched: the UA answers 481 (RFC 3261 §12.2.2)', () => {
  const table = new DialogTable();
  table.add(bobDialog());
  const refer = seed('seed-refer.sip');
  refer.set('To', 'Bob <sips:bob@biloxi.example.com>;tag=unknown');
  assert.equal(table.match(wire(refer)), undefined);
  const otherCall = seed('seed-refer.sip');
  otherCall.set('Call-ID', '12345601@ATLANTA.example.com');
  assert.equal(table.match(wire(otherCall)), undefined, 'Call-IDs compare byte by byte (§20.8)');
  const otherFrom = seed('seed-refer.sip');
  otherFrom.set('From', 'Alice <sips:alice@atlanta.example.com>;tag=7654321');
  assert.equal(table.match(wire(otherFrom)), undefined);
});

test('tags match case-insensitively (RFC 3261 §7.3.1)', () => {
  const table = new DialogTable();
  const dialog = Dialog.forUac(aliceInvite(), bobResponse(inviteAtBob(), 200, { toTag: 'AbCdEf' }));
  table.add(dialog);
  const request = wire(createRequest({
    method: 'BYE', uri: 'sips:alice@client.atlanta.example.com', callId: CALL_ID, cseq: 9,
    from: 'Bob <sips:bob@biloxi.example.com>;tag=abcdef', to: `Alice <sips:alice@atlanta.example.com>;tag=${ALICE_TAG}`,
  }));
  assert.equal(table.match(request), dialog);
});

test('a request without To tag is outside any dialog: match returns nothing (RFC 3261 §12.2.2, §8.2)', () => {
  const table = new DialogTable();
  table.add(bobDialog());
  assert.equal(table.match(inviteAtBob()), undefined);
});

test('a terminated dialog matches no request any more: 481 (RFC 3261 §12.2.2)', () => {
  const table = new DialogTable();
  const bob = bobDialog();
  table.add(bob);
  bob.terminate();
  assert.equal(table.match(seed('seed-refer.sip')), undefined);
  assert.equal(table.get(bob.id), bob, 'it stays filed until removed');
  assert.equal(table.remove(bob), true);
  assert.equal(table.get(bob.id), undefined);
  assert.equal(table.remove(bob), false);
});

test('a response to a request the UA sent finds its dialog by From tag (local) and To tag (remote)', () => {
  const table = new DialogTable();
  const alice = aliceDialog();
  table.add(alice);
  const bye = wire(alice.createRequest('BYE'));
  assert.equal(table.matchResponse(wire(createResponse(bye, 200))), alice);
  assert.equal(table.matchResponse(bobResponse(inviteAtBob(), 200, { toTag: 'other-fork' })), undefined);
});

test('a second dialog with the same id is refused; the same one again is harmless', () => {
  const table = new DialogTable();
  const bob = bobDialog();
  table.add(bob);
  table.add(bob);
  assert.equal(table.size, 1);
  assert.throws(() => table.add(bobDialog()), (e: unknown) => e instanceof SipError && e.code === 'ERR_INVALID_ARGUMENT');
  assert.deepEqual([...table], [bob]);
});

test('Replaces finds the dialog with to-tag as local tag and from-tag as remote tag (RFC 3891 §3)', () => {
  // Alice transfers Bob to Carol (attended): Carol sends Bob an INVITE naming Bob's dialog with
  // Alice as Bob sees it, built from a Refer-To URI header as RFC 3891 §6 allows.
  const refer = seed('seed-refer.sip');
  refer.set('Refer-To', `<sips:bob@client.biloxi.example.com?Replaces=${encodeURIComponent(`${CALL_ID};to-tag=${BOB_TAG};from-tag=${ALICE_TAG}`)}>`);
  const target = wire(refer).referTo!.uri;
  assert.ok(isSipUri(target));
  const replaces = parseReplaces(target.headers.Replaces!);
  const table = new DialogTable();
  const bob = bobDialog();
  table.add(bob);
  assert.deepEqual(table.matchReplaces(replaces), { dialog: bob });
  // The same value names nothing in Alice's table: there the tags are the other way round.
  const aliceTable = new DialogTable();
  aliceTable.add(aliceDialog());
  assert.deepEqual(aliceTable.matchReplaces(replaces), { status: 481, reason: 'Call/Transaction Does Not Exist' });
  assert.ok('dialog' in aliceTable.matchReplaces(parseReplaces(`${CALL_ID};to-tag=${ALICE_TAG};from-tag=${BOB_TAG}`)));
});

test('Replaces of a confirmed dialog with early-only is refused 486 (RFC 3891 §3)', () => {
  const table = new DialogTable();
  table.add(bobDialog());
  const result = table.matchReplaces(parseReplaces(`${CALL_ID};to-tag=${BOB_TAG};from-tag=${ALICE_TAG};early-only`));
  assert.deepEqual(result, { status: 486, reason: 'Busy Here' });
});

test('Replaces of a terminated dialog is declined 603 (RFC 3891 §3)', () => {
  const table = new DialogTable();
  const bob = bobDialog();
  table.add(bob);
  bob.terminate();
  assert.deepEqual(table.matchReplaces(parseReplaces(`${CALL_ID};to-tag=${BOB_TAG};from-tag=${ALICE_TAG}`)), { status: 603, reason: 'Decline' });
});

test('Replaces of an early dialog: 481 when this UA is its UAS, the dialog when this UA initiated it (RFC 3891 §3)', () => {
  const bobTable = new DialogTable();
  bobTable.add(bobDialog(180));
  const early = bobTable.matchReplaces(parseReplaces(`${CALL_ID};to-tag=${BOB_TAG};from-tag=${ALICE_TAG};early-only`));
  assert.deepEqual(early, { status: 481, reason: 'Call/Transaction Does Not Exist' });
  const aliceTable = new DialogTable();
  const alice = Dialog.forUac(aliceInvite(), bobResponse(inviteAtBob(), 180));
  aliceTable.add(alice);
  assert.deepEqual(aliceTable.matchReplaces(parseReplaces(`${CALL_ID};to-tag=${ALICE_TAG};from-tag=${BOB_TAG};early-only`)), { dialog: alice });
});

test('Replaces of a dialog not created by INVITE is refused 481 (RFC 3891 §3)', () => {
  const subscribe = wire(createRequest({
    method: 'SUBSCRIBE', uri: 'sips:bob@biloxi.example.com', callId: 'sub-1', cseq: 1,
    from: `<sips:alice@atlanta.example.com>;tag=${ALICE_TAG}`, to: '<sips:bob@biloxi.example.com>',
    contact: '<sips:alice@client.atlanta.example.com>', headers: [['Event', 'presence']],
  }));
  const ok = wire(createResponse(subscribe, 200, { toTag: BOB_TAG, headers: [['Contact', '<sips:bob@client.biloxi.example.com>']] }));
  const table = new DialogTable();
  table.add(Dialog.forUac(subscribe, ok));
  assert.deepEqual(table.matchReplaces(parseReplaces(`sub-1;to-tag=${ALICE_TAG};from-tag=${BOB_TAG}`)), { status: 481, reason: 'Call/Transaction Does Not Exist' });
});

test('a Replaces tag of 0 matches the empty tag of an RFC 2543 peer (RFC 3891 §6.1)', () => {
  const invite = inviteAtBob();
  invite.set('From', 'Alice <sips:alice@atlanta.example.com>');
  const bob = Dialog.forUas(wire(invite), bobResponse(wire(invite), 200));
  assert.equal(bob.id.remoteTag, '');
  const table = new DialogTable();
  table.add(bob);
  assert.deepEqual(table.matchReplaces(parseReplaces(`${CALL_ID};to-tag=${BOB_TAG};from-tag=0`)), { dialog: bob });
});

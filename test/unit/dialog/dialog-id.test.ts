/** Unit tests of dialog ids (RFC 3261 §12, §12.1.1, §12.1.2, §12.2.2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest } from '../../../src/message/index.js';
import { dialogIdOf, dialogKey, sameDialog } from '../../../src/dialog/index.js';
import { ALICE_TAG, BOB_TAG, CALL_ID, aliceInvite, bobResponse, inviteAtBob, seed, wire } from './helpers.js';

test('the UAC\'s dialog id is Call-ID, From tag as local tag and the response\'s To tag as remote tag (RFC 3261 §12.1.2)', () => {
  const ok = bobResponse(aliceInvite(), 200);
  assert.deepEqual(dialogIdOf(ok, 'uac'), { callId: CALL_ID, localTag: ALICE_TAG, remoteTag: BOB_TAG });
});

test('the UAS\'s dialog id is Call-ID, its To tag as local tag and the From tag as remote tag (RFC 3261 §12.1.1)', () => {
  const ok = bobResponse(inviteAtBob(), 200);
  assert.deepEqual(dialogIdOf(ok, 'uas'), { callId: CALL_ID, localTag: BOB_TAG, remoteTag: ALICE_TAG });
});

test('an in-dialog request received names the receiver\'s dialog: To tag local, From tag remote (RFC 3261 §12.2.2, seed)', () => {
  // The seed's hold re-INVITE goes from Bob to Alice: it names Alice's dialog as her UAC dialog.
  const hold = seed('seed-reinvite-hold.sip');
  const aliceDialog = dialogIdOf(bobResponse(aliceInvite(), 200), 'uac');
  assert.deepEqual(dialogIdOf(hold, 'uas'), aliceDialog);
  // The seed's REFER goes from Alice to Bob: it names Bob's UAS dialog.
  const refer = seed('seed-refer.sip');
  assert.deepEqual(dialogIdOf(refer, 'uas'), dialogIdOf(bobResponse(inviteAtBob(), 200), 'uas'));
  // and the request a UA sends names its own dialog from the UAC side.
  assert.deepEqual(dialogIdOf(refer, 'uac'), { callId: CALL_ID, localTag: ALICE_TAG, remoteTag: BOB_TAG });
});

test('a missing tag (an RFC 2543 peer) is the empty tag (RFC 3261 §12.1.2: "a value of null")', () => {
  const invite = aliceInvite();
  assert.deepEqual(dialogIdOf(invite, 'uac'), { callId: CALL_ID, localTag: ALICE_TAG, remoteTag: '' });
  const noFromTag = wire(createRequest({ method: 'INVITE', uri: 'sip:bob@biloxi.example.com', from: '<sip:a@atlanta.example.com>;tag=x', to: '<sip:bob@biloxi.example.com>', callId: 'c1' }));
  noFromTag.set('From', '<sip:a@atlanta.example.com>');
  assert.equal(dialogIdOf(noFromTag, 'uas').remoteTag, '');
});

test('dialog keys compare Call-IDs byte by byte and tags case-insensitively (RFC 3261 §20.8, §7.3.1)', () => {
  const id = { callId: 'AbC@host', localTag: 'Tag1', remoteTag: 'tAG2' };
  assert.equal(dialogKey(id), dialogKey({ callId: 'AbC@host', localTag: 'tag1', remoteTag: 'TAG2' }));
  assert.ok(sameDialog(id, { callId: 'AbC@host', localTag: 'TAG1', remoteTag: 'tag2' }));
  assert.ok(!sameDialog(id, { callId: 'abc@host', localTag: 'Tag1', remoteTag: 'tAG2' }));
  // local and remote are not interchangeable: the two ends of one dialog file it under different keys.
  assert.ok(!sameDialog(id, { callId: 'AbC@host', localTag: 'tAG2', remoteTag: 'Tag1' }));
  // An empty tag cannot be confused with a neighbour's field.
  assert.notEqual(dialogKey({ callId: 'a', localTag: 'b', remoteTag: '' }), dialogKey({ callId: 'a', localTag: '', remoteTag: 'b' }));
});

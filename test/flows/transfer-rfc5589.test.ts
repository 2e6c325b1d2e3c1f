/**
 * The RFC 5589 flows not covered by transfer-flows.test.ts / transfer-more.test.ts, each named by
 * its section: transfer with consultation hold with the target exposed (§7.1) and protected
 * (§7.2), recovery when a party does not take REFER (§7.4), and the transferee ending the
 * original call itself when the transferor's BYE does not come (§6), with Bob on a FakeClock.
 * Alice (transferor), Bob (transferee) and Carol (target) over TLS on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { parseSipfrag } from '../../src/message/index.js';
import { referTarget } from '../../src/ua/call/transfer.js';
import type { Call } from '../../src/ua/index.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';
import { aliceAndBob, BOB, CALL_ID, CAROL, consult, received, responses, trio, type Pkis } from './transfer-trio.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed';
const made: NamedPki[] = [];
let pki: Pkis;
before(() => {
  if (skip !== false) return;
  const alice = makeNamedPki(['atlanta.example.com', 'client.atlanta.example.com']);
  const bob = makeNamedPki(['biloxi.example.com', 'client.biloxi.example.com']);
  const carol = makeNamedPki(['chicago.example.com', 'client.chicago.example.com']);
  made.push(alice, bob, carol);
  pki = { alice, bob, carol };
});
after(() => {
  for (const p of made) p.cleanup();
});

/** Whoever holds `call`'s peer hangs up the new call, and both ends see it end. */
async function endBetween(mine: Call, theirs: Call): Promise<void> {
  const ended = theirs.ended;
  assert.deepEqual(await mine.hangup(), { ok: true });
  assert.equal((await ended).cause, 'remote-bye');
}

test('transfer with consultation hold, target exposed (RFC 5589 §7.1): Alice holds Bob, consults Carol, ends the consultation, then REFERs Bob to Carol\'s own URI; Bob calls Carol, Alice BYEs', { skip }, async (t) => {
  const p = await trio(t, pki);
  const { a, b } = await aliceAndBob(p);
  const { a2, c2 } = await consult(p);
  assert.equal(a.localHold, true);
  // §7.1: the transferor ends the consultation call before it transfers.
  await endBetween(a2, c2);

  const carolIncoming = p.carol.next('incoming');
  carolIncoming.then((c) => void c.answer(), () => undefined);
  const bobTransferred = b.next('transferred');
  const bEnded = b.ended;
  let bobReplaced = false;
  p.carol.on('replaced', () => {
    bobReplaced = true;
  });
  assert.deepEqual(await a.transfer(CAROL), { ok: true, outcome: 'transferred' });

  // The target is exposed: the Refer-To is Carol's own URI, with no Replaces.
  const refer = received(p, 'REFER')[0]!;
  assert.equal(refer.get('refer-to'), `<${CAROL}>`);
  assert.deepEqual(referTarget(refer), { target: CAROL, replaces: undefined });
  const c = await carolIncoming;
  assert.equal(c.remoteUri, BOB);
  assert.equal(c.referredBy?.uri.scheme, 'sips');
  const invite = received(p, 'INVITE', c.id)[0]!;
  assert.equal(invite.has('replaces'), false);
  assert.equal(bobReplaced, false);
  assert.equal((await bobTransferred).callId, c.id);
  assert.equal((await bEnded).cause, 'remote-bye');
  assert.equal(a.endReason?.cause, 'local-bye');
  assert.deepEqual(received(p, 'NOTIFY').map((n) => parseSipfrag(n.bodyText).status), [100, 180, 200]);
  assert.equal(p.alice.calls.length, 0);
  const bc = p.bob.calls.find((call) => call.id === c.id)!;
  await endBetween(bc, c);
});

test('transfer with consultation hold, target protected (RFC 5589 §7.2): Alice reverses the roles and REFERs Carol (in the consultation call) to Bob with Replaces of the Alice-Bob call; Carol\'s INVITE replaces it at Bob; Alice BYEs the consultation', { skip }, async (t) => {
  const p = await trio(t, pki);
  const { a, b } = await aliceAndBob(p);
  const { a2, c2 } = await consult(p);
  const original = a.dialogId!;
  let bobIncoming = false;
  p.bob.on('incoming', () => {
    bobIncoming = true;
  });
  const uaReplaced = p.bob.next('replaced');
  const bReplaced = b.next('replaced');
  const carolTransferred = c2.next('transferred');
  const aEnded = a.ended;
  const c2Ended = c2.ended;
  const progress: number[] = [];
  a2.on('transfer-progress', ({ status }) => progress.push(status));

  assert.deepEqual(await a2.transfer(a), { ok: true, outcome: 'transferred' });
  assert.equal(progress.at(-1), 200);

  // The REFER went to Carol, in the consultation dialog: Refer-To Bob's URI with the Replaces of
  // the original dialog as Bob sees it (his tag is the to-tag, RFC 3891 §3).
  const refer = received(p, 'REFER', a2.id)[0]!;
  assert.equal(received(p, 'REFER').length, 0);
  assert.deepEqual(referTarget(refer), { target: BOB, replaces: `${CALL_ID};to-tag=${original.remoteTag};from-tag=${original.localTag}` });
  assert.equal(refer.get('referred-by'), '"Alice" <sips:alice@atlanta.example.com>');

  // Bob: Carol's INVITE replaced his call with Alice (no `incoming`); he answered, then BYEd Alice.
  const { call: b3, replaced } = await uaReplaced;
  assert.equal(replaced, b);
  assert.equal((await bReplaced).callId, b3.id);
  assert.equal(bobIncoming, false);
  assert.equal(b3.remoteUri, CAROL);
  assert.equal(b3.referredBy?.uri.scheme, 'sips');
  assert.equal((await aEnded).cause, 'remote-bye');
  assert.equal(b.endReason?.cause, 'local-bye');
  const invite = received(p, 'INVITE', b3.id)[0]!;
  assert.deepEqual(invite.replaces, { callId: CALL_ID, toTag: original.remoteTag, fromTag: original.localTag, earlyOnly: false, params: invite.replaces?.params });
  const ok = responses(p, 'INVITE', b3.id).find((r) => r.status === 200)!;
  assert.match(ok.get('supported') ?? '', /\breplaces\b/);

  // Carol (the transferee here) reported success; Alice then BYEd the consultation call.
  assert.equal((await carolTransferred).callId, b3.id);
  assert.equal((await c2Ended).cause, 'remote-bye');
  assert.equal(a2.endReason?.cause, 'local-bye');
  assert.equal(p.alice.calls.length, 0);
  const cc = p.carol.calls.find((call) => call.id === b3.id)!;
  assert.equal(cc.state, 'answered');
  await endBetween(cc, b3);
});

test('recovery when one party does not take REFER (RFC 5589 §7.4): Bob refuses the REFER (501), the transfer resolves "rejected" with the call still held; Alice then transfers the other way (Carol to Bob with Replaces)', { skip }, async (t) => {
  const p = await trio(t, pki);
  const { a, b } = await aliceAndBob(p);
  const { a2, c2 } = await consult(p);
  // Bob stands for a UA without REFER: its application answers 501 Not Implemented.
  p.bob.onRefer = () => 501;
  const failed = a.next('transfer-failed');
  assert.deepEqual(await a.transfer(a2), { ok: false, outcome: 'rejected', status: 501, reason: 'Not Implemented' });
  assert.deepEqual(await failed, { status: 501, reason: 'Not Implemented' });
  // Nothing moved: the call is as Alice left it (held), nobody was called, no NOTIFY.
  assert.equal(a.state, 'answered');
  assert.equal(a.localHold, true);
  assert.equal(b.localHold, false);
  assert.equal(received(p, 'NOTIFY').length, 0);
  assert.equal(p.bob.calls.length, 1);

  const uaReplaced = p.bob.next('replaced');
  const aEnded = a.ended;
  const c2Ended = c2.ended;
  assert.deepEqual(await a2.transfer(a), { ok: true, outcome: 'transferred' });
  const { call: b3, replaced } = await uaReplaced;
  assert.equal(replaced, b);
  assert.equal((await aEnded).cause, 'remote-bye');
  assert.equal((await c2Ended).cause, 'remote-bye');
  const cc = p.carol.calls.find((call) => call.id === b3.id)!;
  await endBetween(b3, cc);
});

test('the transferee ends the original call itself when no BYE comes within byeWaitMs of the success NOTIFY (RFC 5589 §6), on a FakeClock', { skip }, async (t) => {
  const clock = new FakeClock();
  const BYE_WAIT = 5000;
  const p = await trio(t, pki, { bobClock: clock, bobTransfer: { byeWaitMs: BYE_WAIT } });
  const { a, b } = await aliceAndBob(p);
  p.carol.on('incoming', (c) => void c.answer());
  const bobTransferred = b.next('transferred');
  // Refer-Sub: false: Alice learns nothing of the new call, so she sends no BYE (RFC 4488 §4).
  assert.deepEqual(await a.transfer(CAROL, { referSub: false }), { ok: true, outcome: 'accepted', subscription: false });
  const { callId } = await bobTransferred;
  let bEnded = false;
  void b.ended.then(() => {
    bEnded = true;
  });
  clock.advance(BYE_WAIT - 1);
  // Let any message a wrongly early timer sent make its way.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(bEnded, false);
  assert.equal(b.state, 'answered');
  assert.equal(received(p, 'BYE').length, 0);
  const aEnded = a.ended;
  clock.advance(1);
  assert.equal((await b.ended).cause, 'local-bye');
  assert.equal((await aEnded).cause, 'remote-bye');
  assert.equal(received(p, 'BYE').length, 1);
  const bc = p.bob.calls.find((call) => call.id === callId)!;
  assert.equal(bc.state, 'answered');
  const c = p.carol.calls.find((call) => call.id === callId)!;
  await endBetween(c, bc);
});

test('failed transfer, the target does not answer (RFC 5589 §6.2.2): after answerTimeoutMs Bob CANCELs his INVITE; the final NOTIFY says 487, the transfer fails and Bob takes the call off hold (Bob on a FakeClock)', { skip }, async (t) => {
  const clock = new FakeClock();
  const ANSWER = 20_000;
  const p = await trio(t, pki, { bobClock: clock, bobTransfer: { answerTimeoutMs: ANSWER } });
  const { a, b } = await aliceAndBob(p);
  const carolIncoming = p.carol.next('incoming');
  const progress: number[] = [];
  a.on('transfer-progress', ({ status }) => progress.push(status));
  const bobFailed = b.next('transfer-failed');
  const bobResumed = b.next('resumed');
  const transfer = a.transfer(CAROL);
  const c = await carolIncoming;
  const cEnded = c.ended;
  // Carol lets it ring; Bob holds the original call meanwhile (RFC 5589 §6).
  for (let i = 0; i < 300 && (progress.length < 2 || !b.localHold); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(progress, [100, 180]);
  assert.equal(b.localHold, true);
  clock.advance(ANSWER - 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(c.state, 'ringing');
  clock.advance(1);
  assert.equal((await cEnded).cause, 'cancelled');
  assert.deepEqual(await transfer, { ok: false, outcome: 'failed', status: 487, reason: 'Request Terminated' });
  assert.deepEqual(progress, [100, 180, 487]);
  assert.deepEqual(await bobFailed, { status: 487, reason: 'Request Terminated' });
  await bobResumed;
  assert.equal(b.localHold, false);
  const notifies = received(p, 'NOTIFY');
  assert.equal(notifies.at(-1)!.subscriptionState?.state, 'terminated');
  assert.equal(received(p, 'CANCEL', c.id).length, 1);
  // The original call is recovered.
  assert.equal(a.state, 'answered');
  assert.deepEqual(await a.resume(), { ok: true });
  await endBetween(a, b);
});

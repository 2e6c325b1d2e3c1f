/**
 * More call transfer flows (RFC 4488 Refer-Sub: false; RFC 5589 §7 attended transfer falling back
 * to basic transfer). Alice, Bob and Carol UserAgents over TLS on loopback, as in transfer-flows.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, parseSipfrag, SipRequest, SipResponse } from '../../src/message/index.js';
import { Call } from '../../src/ua/index.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';
import { aliceAndBob, CALL_ID, CAROL, received, responses, trio, type Pkis, type Trio } from './transfer-trio.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed';

let alicePki: NamedPki | undefined;
let bobPki: NamedPki | undefined;
let carolPki: NamedPki | undefined;
before(() => {
  if (skip !== false) return;
  alicePki = makeNamedPki(['atlanta.example.com', 'client.atlanta.example.com']);
  bobPki = makeNamedPki(['biloxi.example.com', 'client.biloxi.example.com']);
  carolPki = makeNamedPki(['chicago.example.com', 'client.chicago.example.com']);
});
after(() => {
  alicePki?.cleanup();
  bobPki?.cleanup();
  carolPki?.cleanup();
});

const pkis = (): Pkis => ({ alice: alicePki!, bob: bobPki!, carol: carolPki! });


test('Refer-Sub: false (RFC 4488): the REFER asks for no subscription, the 202 echoes it, no NOTIFY; the transfer settles on the 202 and Alice decides when to BYE', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  const progress: number[] = [];
  a.on('transfer-progress', ({ status }) => progress.push(status));
  const carolIncoming = p.carol.next('incoming');
  const bobTransferred = b.next('transferred');

  const outcome = await a.transfer(CAROL, { referSub: false });
  assert.deepEqual(outcome, { ok: true, outcome: 'accepted', subscription: false });
  // The original call is not ended by the transfer: the transferor learns nothing more.
  assert.equal(a.state, 'answered');

  const refer = received(p, 'REFER')[0]!;
  assert.equal(refer.get('refer-sub'), 'false');
  assert.equal(refer.referSub?.value, false);
  assert.match(refer.get('supported') ?? '', /\bnorefersub\b/);
  assert.equal(refer.has('require'), false);
  assert.equal(refer.get('refer-to'), `<${CAROL}>`);
  const accepted = responses(p, 'REFER').filter((r) => r.status !== 100);
  assert.deepEqual(accepted.map((r) => r.status), [202]);
  assert.equal(accepted[0]!.get('refer-sub'), 'false');

  // Bob (the transferee) honours it: he calls Carol with Referred-By, and sends no NOTIFY.
  const c = await carolIncoming;
  assert.equal(c.referredBy?.uri.scheme, 'sips');
  assert.deepEqual(await c.answer(), { ok: true });
  assert.equal((await bobTransferred).callId, c.id);
  assert.equal(received(p, 'NOTIFY').length, 0);
  assert.deepEqual(progress, []);

  // Alice ends the original call when she sees fit.
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  assert.equal((await bEnded).cause, 'remote-bye');
  const bc = p.bob.calls.find((call) => call.id === c.id)!;
  assert.equal(bc.state, 'answered');
  const cEnded = c.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  assert.equal((await cEnded).cause, 'remote-bye');
});

test('Refer-Sub: false with a failing target: the transfer still settles on the 202; Bob takes the call back off hold by himself', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  p.carol.on('incoming', (c) => void c.reject(486));
  const bobFailed = b.next('transfer-failed');
  const bobResumed = b.next('resumed');
  assert.deepEqual(await a.transfer(CAROL, { referSub: false }), { ok: true, outcome: 'accepted', subscription: false });
  assert.deepEqual(await bobFailed, { status: 486, reason: 'Busy Here' });
  await bobResumed;
  assert.equal(b.localHold, false);
  assert.equal(received(p, 'NOTIFY').length, 0);
  assert.equal(a.state, 'answered');
  assert.deepEqual(await a.resume(), { ok: true });
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  assert.equal((await bEnded).cause, 'remote-bye');
});

/** Alice's consultation call with Carol, answered, then ended by Carol's BYE. */
async function goneConsultation(p: Trio): Promise<Call> {
  const carolIncoming = p.carol.next('incoming');
  const a2 = p.alice.call(CAROL);
  const c2 = await carolIncoming;
  await Promise.all([a2.established, c2.answer()]);
  const a2Ended = a2.ended;
  assert.deepEqual(await c2.hangup(), { ok: true });
  assert.equal((await a2Ended).cause, 'remote-bye');
  return a2;
}

test('attended transfer whose consultation call is gone: Bob\'s INVITE with Replaces gets 481, the final NOTIFY says 481, the transfer fails and the call is kept', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  const a2 = await goneConsultation(p);
  let carolIncoming = false;
  p.carol.on('incoming', () => {
    carolIncoming = true;
  });
  const bobFailed = b.next('transfer-failed');
  const bobResumed = b.next('resumed');
  const outcome = await a.transfer(a2);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.ok ? 0 : outcome.status, 481);
  assert.equal((await bobFailed).status, 481);
  await bobResumed;
  assert.equal(carolIncoming, false);
  const notifies = received(p, 'NOTIFY');
  assert.equal(parseSipfrag(notifies.at(-1)!.bodyText).status, 481);
  assert.equal(notifies.at(-1)!.subscriptionState?.state, 'terminated');
  assert.equal(received(p, 'REFER').length, 1);
  assert.equal(a.state, 'answered');
  assert.equal(b.state, 'answered');
  assert.deepEqual(await a.resume(), { ok: true });
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  assert.equal((await bEnded).cause, 'remote-bye');
});

test('attended transfer falling back to basic transfer (RFC 5589 §7): 481 for the Replaces, then a blind REFER to Carol\'s URI; Bob calls Carol, Alice BYEs', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  const a2 = await goneConsultation(p);
  const carolIncoming = p.carol.next('incoming');
  carolIncoming.then((c) => setTimeout(() => void c.answer(), 20), () => undefined);
  const progress: number[] = [];
  a.on('transfer-progress', ({ status }) => progress.push(status));
  let aliceFailed = false;
  a.on('transfer-failed', () => {
    aliceFailed = true;
  });
  const bEnded = b.ended;

  assert.deepEqual(await a.transfer(a2, { fallbackToBlind: true }), { ok: true, outcome: 'transferred' });
  assert.equal(aliceFailed, false);
  // The first REFER's NOTIFYs end with 481, the second's with 200.
  assert.equal(progress[0], 100);
  assert.ok(progress.includes(481));
  assert.deepEqual(progress.slice(progress.indexOf(481) + 1).filter((s) => s !== 180), [100, 200]);

  const refers = received(p, 'REFER');
  assert.equal(refers.length, 2);
  assert.match(refers[0]!.get('refer-to') ?? '', /\?Replaces=/);
  assert.equal(refers[1]!.get('refer-to'), `<${CAROL}>`);
  assert.ok(refers[1]!.cseq.seq > refers[0]!.cseq.seq);
  const notifies = received(p, 'NOTIFY');
  assert.deepEqual(notifies.filter((n) => n.subscriptionState?.state === 'terminated').map((n) => [n.event?.params.id, parseSipfrag(n.bodyText).status]), [
    [String(refers[0]!.cseq.seq), 481],
    [String(refers[1]!.cseq.seq), 200],
  ]);

  // Carol got a plain INVITE (no Replaces) from Bob, referred by Alice; Alice's BYE ended the original call.
  const c = await carolIncoming;
  assert.equal(c.remoteUri, 'sips:bob@biloxi.example.com');
  assert.equal(c.referredBy?.uri.scheme, 'sips');
  const invite = p.capture.messages
    .filter((m) => m.direction === 'in' && m.callId === c.id && m.label === 'INVITE')
    .map((m) => parseMessage(Buffer.from(m.text)) as SipRequest)[0]!;
  assert.equal(invite.has('replaces'), false);
  assert.equal((await bEnded).cause, 'remote-bye');
  assert.equal(a.endReason?.cause, 'local-bye');
  const bc = p.bob.calls.find((call) => call.id === c.id)!;
  assert.equal(bc.state, 'answered');
  const cEnded = c.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  assert.equal((await cEnded).cause, 'remote-bye');
});

test('REFER outside the dialog with Target-Dialog (RFC 4538): Bob takes it as a REFER in his call with Alice; 202 and NOTIFYs in the REFER\'s own dialog; Alice BYEs the call', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  const policy: Call[] = [];
  p.bob.onRefer = (_refer, call) => {
    policy.push(call);
    return undefined;
  };
  const carolIncoming = p.carol.next('incoming');
  carolIncoming.then((c) => setTimeout(() => void c.answer(), 20), () => undefined);
  const bobTransferred = b.next('transferred');
  const bEnded = b.ended;
  const progress: number[] = [];

  const outcome = await p.alice.refer('sips:bob@biloxi.example.com', CAROL, { targetDialog: a, onProgress: (f) => progress.push(f.status) });
  assert.deepEqual(outcome, { ok: true, outcome: 'transferred' });
  assert.deepEqual(progress, [100, 180, 200]);
  assert.deepEqual(policy, [b]);

  // The REFER: a new Call-ID, no To tag, Target-Dialog naming the call as Bob sees it.
  const refer = p.capture.messages
    .filter((m) => m.direction === 'in' && m.label === 'REFER')
    .map((m) => parseMessage(Buffer.from(m.text)) as SipRequest)[0]!;
  assert.notEqual(refer.callId, CALL_ID);
  assert.equal(refer.toTag, undefined);
  const invite200 = responses(p, 'INVITE').find((r) => r.status === 200)!;
  assert.deepEqual(refer.targetDialog, { callId: CALL_ID, localTag: invite200.toTag, remoteTag: invite200.fromTag, params: refer.targetDialog?.params });
  assert.match(refer.get('require') ?? '', /\btdialog\b/);
  assert.match(refer.get('supported') ?? '', /\btdialog\b/);
  assert.equal(refer.get('refer-to'), `<${CAROL}>`);
  assert.equal(refer.get('referred-by'), '"Alice" <sips:alice@atlanta.example.com>');

  // The 202 and the NOTIFYs: in the dialog the REFER created (its Call-ID, Bob's tag, Alice's tag).
  const inReferDialog = p.capture.messages.filter((m) => m.direction === 'in' && m.callId === refer.callId);
  const accepted = inReferDialog.filter((m) => m.label === '202').map((m) => parseMessage(Buffer.from(m.text)) as SipResponse);
  assert.equal(accepted.length, 1);
  const bobTag = accepted[0]!.toTag;
  assert.ok(bobTag !== undefined && bobTag !== '');
  assert.ok(accepted[0]!.get('contact') !== undefined);
  const notifies = inReferDialog.filter((m) => m.label === 'NOTIFY').map((m) => parseMessage(Buffer.from(m.text)) as SipRequest);
  assert.deepEqual(notifies.map((n) => parseSipfrag(n.bodyText).status), [100, 180, 200]);
  for (const n of notifies) {
    assert.equal(n.toTag, refer.fromTag);
    assert.equal(n.fromTag, bobTag);
    assert.equal(n.event?.params.id, String(refer.cseq.seq));
  }
  assert.equal(notifies.at(-1)!.subscriptionState?.state, 'terminated');
  const notifyOks = inReferDialog.filter((m) => /^\d+$/.test(m.label)).map((m) => parseMessage(Buffer.from(m.text)) as SipResponse).filter((r) => r.cseq.method === 'NOTIFY');
  assert.deepEqual(notifyOks.map((r) => r.status), [200, 200, 200]);
  // None in the original call's dialog.
  assert.equal(received(p, 'NOTIFY').length, 0);

  const c = await carolIncoming;
  assert.equal((await bobTransferred).callId, c.id);
  assert.equal((await bEnded).cause, 'remote-bye');
  assert.equal(a.endReason?.cause, 'local-bye');
  const bc = p.bob.calls.find((call) => call.id === c.id)!;
  const cEnded = c.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  assert.equal((await cEnded).cause, 'remote-bye');
});

test('REFER outside a dialog whose Target-Dialog matches no call gets 481; no policy asked, no call placed', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a } = await aliceAndBob(p);
  const bEnded = p.bob.calls[0]!.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  await bEnded;
  let asked = false;
  p.bob.onRefer = () => {
    asked = true;
    return undefined;
  };
  let carolCalled = false;
  p.carol.on('incoming', () => {
    carolCalled = true;
  });
  const outcome = await p.alice.refer('sips:bob@biloxi.example.com', CAROL, { targetDialog: a });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.ok ? '' : outcome.outcome, 'rejected');
  assert.equal(outcome.ok ? 0 : outcome.status, 481);
  assert.equal(asked, false);
  assert.equal(carolCalled, false);
});

test('subscription refresh (RFC 3515 §2.4.6): the target rings longer than the interval; Alice refreshes by SUBSCRIBE, Bob answers 200 and NOTIFYs the new expires; the transfer completes', { skip }, async (t) => {
  const p = await trio(t, pkis(), { aliceTransfer: { subscriptionExpires: 2 }, bobTransfer: { subscriptionExpires: 2 } });
  const { a, b } = await aliceAndBob(p);
  const carolIncoming = p.carol.next('incoming');
  // Answered half way between two refreshes (each 1 s, half the 2 s interval).
  carolIncoming.then((c) => setTimeout(() => void c.answer(), 2500), () => undefined);
  const bEnded = b.ended;
  const progress: number[] = [];
  a.on('transfer-progress', ({ status }) => progress.push(status));

  assert.deepEqual(await a.transfer(CAROL), { ok: true, outcome: 'transferred' });
  assert.equal(progress[0], 100);
  assert.equal(progress.at(-1), 200);

  const refer = received(p, 'REFER')[0]!;
  const subscribes = received(p, 'SUBSCRIBE');
  assert.ok(subscribes.length >= 2, `${subscribes.length} SUBSCRIBEs`);
  for (const sub of subscribes) {
    assert.equal(sub.event?.type, 'refer');
    assert.equal(sub.event?.params.id, String(refer.cseq.seq));
    assert.equal(sub.expires, 2);
    assert.equal(sub.toTag, refer.toTag);
  }
  // Each refresh is answered 200 with the interval; only one crossing the final NOTIFY on the wire
  // finds the subscription over (481, RFC 6665 §4.1.2.2).
  const subAnswers = responses(p, 'SUBSCRIBE').map((r) => r.status);
  const refreshes = subAnswers.filter((s) => s === 200).length;
  assert.ok(refreshes >= 2);
  assert.deepEqual(subAnswers.slice(0, refreshes), subscribes.slice(0, refreshes).map(() => 200));
  assert.ok(subAnswers.length - refreshes <= 1 && subAnswers.slice(refreshes).every((s) => s === 481));
  assert.ok(responses(p, 'SUBSCRIBE').filter((r) => r.status === 200).every((r) => r.expires === 2));
  // Each refresh got a NOTIFY at once, still active, with the new interval and the last status (180).
  const notifies = received(p, 'NOTIFY');
  assert.equal(notifies.length, 3 + refreshes);
  const refreshed = notifies.filter((n, i) => i > 0 && n.subscriptionState?.state === 'active' && parseSipfrag(n.bodyText).status === 180).slice(1);
  assert.equal(refreshed.length, refreshes);
  assert.ok(refreshed.every((n) => n.subscriptionState?.expires === 2));
  assert.equal(notifies.at(-1)!.subscriptionState?.state, 'terminated');
  assert.equal(parseSipfrag(notifies.at(-1)!.bodyText).status, 200);
  // The order on the wire: each SUBSCRIBE's NOTIFY follows it.
  const order = p.capture.messages.filter((m) => m.direction === 'in' && m.callId === CALL_ID && (m.label === 'NOTIFY' || m.label === 'SUBSCRIBE')).map((m) => m.label);
  assert.equal(order[0], 'NOTIFY');
  for (let i = 0; i < order.length && i < order.lastIndexOf('NOTIFY'); i++) if (order[i] === 'SUBSCRIBE') assert.equal(order[i + 1], 'NOTIFY');

  const c = await carolIncoming;
  assert.equal((await bEnded).cause, 'remote-bye');
  const bc = p.bob.calls.find((call) => call.id === c.id)!;
  const cEnded = c.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  assert.equal((await cEnded).cause, 'remote-bye');
});

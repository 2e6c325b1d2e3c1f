/**
 * Call transfer by REFER (RFC 5589 §6, §7; RFC 3515, RFC 3892, RFC 3891). Blind transfer is the second half of the seed
 * (../shared/seed/): Alice and Bob are on a call and Alice transfers Bob to Carol with
 * `REFER ... Refer-To: <sips:carol@chicago.example.com>` and Referred-By. Three UserAgents over TLS
 * on loopback with certificates for atlanta, biloxi and chicago.example.com; real sockets.
 * Also: the target busy (486 in the NOTIFY, the original call recovered), and a REFER refused by
 * the transferee's policy (603), attended transfer with Replaces, and a Replaces matching nothing (481).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, parseSipfrag, SipRequest, SipResponse } from '../../src/message/index.js';
import { Call } from '../../src/ua/index.js';
import { referTarget } from '../../src/ua/call/transfer.js';
import { formatNameAddr } from '../../src/message/index.js';
import { readFileSync } from 'node:fs';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';
import { aliceAndBob, CALL_ID, CAROL, received, responses, trio, type Pkis } from './transfer-trio.js';

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

test('THE SEED: Alice transfers Bob to Carol (RFC 5589 §6): REFER, 202, NOTIFYs 100/180/200, Bob calls Carol with Referred-By, Alice BYEs', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  const progress: string[] = [];
  a.on('transfer-progress', ({ status, reason }) => progress.push(`${status} ${reason}`));
  const bobTransferred = b.next('transferred');
  const carolIncoming = p.carol.next('incoming');
  const bEnded = b.ended;
  carolIncoming.then((c) => setTimeout(() => void c.answer(), 20), () => undefined);

  const outcome = await a.transfer(CAROL);
  assert.deepEqual(outcome, { ok: true, outcome: 'transferred' });
  assert.deepEqual(progress, ['100 Trying', '180 Ringing', '200 OK']);

  // Carol got Bob's INVITE with Alice's Referred-By (RFC 3892), a proper sips: URI.
  const c = await carolIncoming;
  assert.equal(c.remoteUri, 'sips:bob@biloxi.example.com');
  assert.equal(c.referredBy?.uri.scheme, 'sips');
  assert.equal(c.referredBy?.displayName, 'Alice');
  assert.match(`${c.referredBy?.uri.scheme}:${c.referredBy && 'user' in c.referredBy.uri ? c.referredBy.uri.user : ''}`, /^sips:alice$/);

  // Bob's side: the transfer succeeded with the new call up; Alice's BYE ended the original call.
  const transferred = await bobTransferred;
  assert.equal(transferred.target, CAROL);
  assert.equal(transferred.callId, c.id);
  assert.equal((await bEnded).cause, 'remote-bye');
  assert.equal(a.endReason?.cause, 'local-bye');
  const bc = p.bob.calls.find((call) => call.id === c.id);
  assert.ok(bc);
  assert.equal(bc.state, 'answered');
  assert.equal(c.state, 'answered');

  // The REFER as Bob received it: Refer-To, Referred-By with Alice's AOR, in the dialog.
  const refers = received(p, 'REFER');
  assert.equal(refers.length, 1);
  const refer = refers[0]!;
  assert.equal(refer.get('refer-to'), `<${CAROL}>`);
  assert.equal(refer.get('referred-by'), '"Alice" <sips:alice@atlanta.example.com>');
  assert.equal(refer.referredBy?.uri.scheme, 'sips');
  assert.ok(refer.toTag !== undefined && refer.fromTag !== undefined);
  assert.deepEqual(responses(p, 'REFER').map((r) => r.status).filter((s) => s !== 100), [202]);

  // The NOTIFYs as Alice received them: Event refer;id=<the REFER's CSeq>, active then terminated,
  // message/sipfrag bodies in order (RFC 3515 §2.4.4-§2.4.7, RFC 3420).
  const notifies = received(p, 'NOTIFY');
  assert.deepEqual(notifies.map((n) => parseSipfrag(n.bodyText).status), [100, 180, 200]);
  for (const n of notifies) {
    assert.equal(n.event?.type, 'refer');
    assert.equal(n.event?.params.id, String(refer.cseq.seq));
    assert.equal(`${n.contentType?.type}/${n.contentType?.subtype}`, 'message/sipfrag');
  }
  assert.deepEqual(notifies.map((n) => n.subscriptionState?.state), ['active', 'active', 'terminated']);
  assert.ok((notifies[0]!.subscriptionState?.expires ?? 0) > 0);
  assert.equal(notifies[2]!.subscriptionState?.reason, 'noresource');
  assert.deepEqual(responses(p, 'NOTIFY').map((r) => r.status), [200, 200, 200]);
  // The BYE came after the final NOTIFY.
  const order = p.capture.messages.filter((m) => m.direction === 'in' && m.callId === CALL_ID && (m.label === 'NOTIFY' || m.label === 'BYE')).map((m) => m.label);
  assert.deepEqual(order, ['NOTIFY', 'NOTIFY', 'NOTIFY', 'BYE']);
  assert.ok(p.capture.messages.filter((m) => m.callId === CALL_ID).every((m) => m.protocol === 'TLS'));

  const cEnded = c.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  assert.equal((await cEnded).cause, 'remote-bye');
});

test('transfer to a busy target (RFC 5589 §6.2.1): 486 in the final NOTIFY, the transfer fails, both keep the call and Alice resumes it', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  p.carol.on('incoming', (c) => void c.reject(486));
  const progress: number[] = [];
  a.on('transfer-progress', ({ status }) => progress.push(status));
  const bobFailed = b.next('transfer-failed');
  const bobResumed = b.next('resumed');

  const outcome = await a.transfer(CAROL);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.ok ? 0 : outcome.status, 486);
  assert.equal(outcome.ok ? '' : outcome.outcome, 'failed');
  assert.deepEqual(progress.at(-1), 486);
  assert.ok(progress.includes(100));
  assert.deepEqual(await bobFailed, { status: 486, reason: 'Busy Here' });
  await bobResumed;
  assert.equal(b.localHold, false);
  assert.equal(a.state, 'answered');
  assert.equal(b.state, 'answered');
  const notifies = received(p, 'NOTIFY');
  assert.equal(parseSipfrag(notifies.at(-1)!.bodyText).status, 486);
  assert.equal(notifies.at(-1)!.subscriptionState?.state, 'terminated');

  // The original call is recovered: Alice takes it off hold and the media flows both ways again.
  assert.deepEqual(await a.resume(), { ok: true });
  assert.equal(a.localHold, false);
  assert.equal(a.remoteHold, false);
  assert.equal(p.bob.calls.length, 1);
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  assert.equal((await bEnded).cause, 'remote-bye');
});

test('REFER rejected (RFC 5589 §6, RFC 3515 §2.4.2): refused by the transferee\'s policy with 603 Decline: no NOTIFY, no new call, the call goes on', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  const seen: string[] = [];
  p.bob.onRefer = (refer, call) => {
    assert.equal(call, b);
    seen.push(refer.get('refer-to') ?? '');
    return 603;
  };
  let carolCalled = false;
  p.carol.on('incoming', () => {
    carolCalled = true;
  });
  const failed = a.next('transfer-failed');
  const outcome = await a.transfer(CAROL);
  assert.deepEqual(outcome, { ok: false, outcome: 'rejected', status: 603, reason: 'Decline' });
  assert.deepEqual(await failed, { status: 603, reason: 'Decline' });
  assert.deepEqual(seen, [`<${CAROL}>`]);
  assert.equal(carolCalled, false);
  assert.equal(received(p, 'NOTIFY').length, 0);
  assert.equal(a.state, 'answered');
  assert.equal(b.state, 'answered');
  assert.equal(b.localHold, false);
  assert.deepEqual(await a.resume(), { ok: true });
  assert.deepEqual(await b.hangup(), { ok: true });
});

test('attended transfer (RFC 5589 §7.3): Refer-To with ?Replaces= of Alice\'s call with Carol; Bob\'s INVITE replaces it; Carol answers, then BYEs the replaced call', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  // Consultation: Alice calls Carol, Carol answers.
  const carolIncoming = p.carol.next('incoming');
  const a2 = p.alice.call(CAROL);
  const c2 = await carolIncoming;
  await Promise.all([a2.established, c2.answer()]);
  const a2Dialog = p.capture.messages.find((m) => m.direction === 'in' && m.callId === a2.id && m.label === '200');
  assert.ok(a2Dialog);
  const ok = parseMessage(Buffer.from(a2Dialog.text)) as SipResponse;
  const carolTag = ok.toTag!;
  const aliceTag = ok.fromTag!;

  const replacedEvent = c2.next('replaced');
  const uaReplaced = p.carol.next('replaced');
  const a2Ended = a2.ended;
  const bEnded = b.ended;
  const bobTransferred = b.next('transferred');
  const progress: number[] = [];
  a.on('transfer-progress', ({ status }) => progress.push(status));
  assert.deepEqual(await a.transfer(a2), { ok: true, outcome: 'transferred' });
  assert.deepEqual(progress, [100, 180, 200]);

  // The Refer-To: Carol's AOR with the Replaces of the Alice-Carol dialog as Carol sees it, escaped.
  const refer = received(p, 'REFER')[0]!;
  assert.equal(refer.get('refer-to'), `<${CAROL}?Replaces=${a2.id.replace(/@/g, '%40')}%3Bto-tag%3D${carolTag}%3Bfrom-tag%3D${aliceTag}>`);
  assert.equal(refer.referTo?.uri.scheme, 'sips');

  // Carol: the new call replaced the consultation call, which ended by Carol's BYE (after the answer).
  const { call: c3, replaced } = await uaReplaced;
  assert.equal(replaced, c2);
  assert.equal((await replacedEvent).callId, c3.id);
  assert.equal((await a2Ended).cause, 'remote-bye');
  assert.equal(c2.endReason?.cause, 'local-bye');
  assert.equal(c3.state, 'answered');
  assert.equal(c3.referredBy?.uri.scheme, 'sips');
  const invite = p.capture.messages
    .filter((m) => m.direction === 'in' && m.callId === c3.id && m.label === 'INVITE')
    .map((m) => parseMessage(Buffer.from(m.text)) as SipRequest)[0]!;
  assert.deepEqual(invite.replaces, { callId: a2.id, toTag: carolTag, fromTag: aliceTag, earlyOnly: false, params: invite.replaces?.params });
  const inviteOk = p.capture.messages.find((m) => m.direction === 'in' && m.callId === c3.id && m.label === '200');
  assert.match(inviteOk!.text, /^Supported: .*replaces/m);

  // Bob: transferred to the new call; Alice's BYE ended the original one.
  assert.equal((await bobTransferred).callId, c3.id);
  assert.equal((await bEnded).cause, 'remote-bye');
  assert.equal(p.alice.calls.length, 0);
  const bc = p.bob.calls.find((call) => call.id === c3.id)!;
  const c3Ended = c3.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  assert.equal((await c3Ended).cause, 'remote-bye');
});

test('an INVITE whose Replaces matches no dialog gets 481 (RFC 3891 §3); no incoming call is raised', { skip }, async (t) => {
  const p = await trio(t, pkis());
  let raised = false;
  p.carol.on('incoming', () => {
    raised = true;
  });
  const call = p.bob.call(CAROL, { headers: [['Replaces', 'nothing@atlanta.example.com;to-tag=1;from-tag=2']] });
  const outcome = await call.established;
  assert.equal(outcome.ok, false);
  assert.equal(outcome.ok ? 0 : outcome.status, 481);
  assert.equal(raised, false);
  assert.equal(p.carol.calls.length, 0);
});

test('the seed\'s REFER as the transferee reads it: the target, no Replaces, and the scheme-less Referred-By re-emitted with a scheme', () => {
  const text = readFileSync(new URL('../../../test/fixtures/seed/seed-refer.sip', import.meta.url), 'utf8').replace(/\r?\n/g, '\r\n');
  const refer = parseMessage(Buffer.from(text)) as SipRequest;
  assert.deepEqual(referTarget(refer), { target: CAROL, replaces: undefined });
  assert.equal(formatNameAddr(refer.referredBy!), '<sip:alice@atlanta.example.com>');
  refer.set('Refer-To', '<sips:carol@chicago.example.com?Replaces=abc%40atlanta.example.com%3Bto-tag%3D1%3Bfrom-tag%3D2&Subject=x>');
  assert.deepEqual(referTarget(refer), { target: CAROL, replaces: 'abc@atlanta.example.com;to-tag=1;from-tag=2' });
  refer.set('Refer-To', '<sips:carol@chicago.example.com?Replaces=abc>');
  assert.equal((referTarget(refer) as { status: number }).status, 400);
  refer.set('Refer-To', '<tel:+15555550100>');
  assert.equal((referTarget(refer) as { status: number }).status, 416);
});

test('no final NOTIFY in time: the transfer times out (408), the call is kept and resumable', { skip }, async (t) => {
  const p = await trio(t, pkis(), { aliceTransfer: { notifyTimeoutMs: 1500 } });
  const { a, b } = await aliceAndBob(p);
  // Carol lets it ring: Bob NOTIFYs 100 and 180, never a final status.
  const carolRinging = p.carol.next('incoming');
  const progress: number[] = [];
  a.on('transfer-progress', ({ status }) => progress.push(status));
  const outcome = await a.transfer(CAROL);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.ok ? 0 : outcome.status, 408);
  assert.equal(outcome.ok ? '' : outcome.outcome, 'timeout');
  assert.deepEqual(progress, [100, 180]);
  await carolRinging;
  assert.equal(a.state, 'answered');
  assert.deepEqual(await a.resume(), { ok: true });
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  assert.equal((await bEnded).cause, 'remote-bye');
});

test('REFER rejected (RFC 5589 §6, RFC 3515 §2.4.2): refused with 403 by the transferee\'s policy, the outcome "rejected" carries it', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a } = await aliceAndBob(p);
  p.bob.onRefer = () => 403;
  assert.deepEqual(await a.transfer(CAROL), { ok: false, outcome: 'rejected', status: 403, reason: 'Forbidden' });
  assert.equal(a.state, 'answered');
});

test('the transferor hangs up before the NOTIFYs end (RFC 5589 §6): its transfer settles (487), the transferee\'s new call is not broken', { skip }, async (t) => {
  const p = await trio(t, pkis());
  const { a, b } = await aliceAndBob(p);
  const carolIncoming = p.carol.next('incoming');
  const bobTransferred = b.next('transferred');
  const transfer = a.transfer(CAROL);
  const c = await carolIncoming;
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  const outcome = await transfer;
  assert.equal(outcome.ok, false);
  assert.equal(outcome.ok ? 0 : outcome.status, 487);
  assert.equal(outcome.ok ? '' : outcome.outcome, 'failed');
  assert.equal((await bEnded).cause, 'remote-bye');
  assert.deepEqual(await c.answer(), { ok: true });
  const transferred = await bobTransferred;
  assert.equal(transferred.callId, c.id);
  const bc = p.bob.calls.find((call) => call.id === c.id)!;
  assert.equal(bc.state, 'answered');
  const cEnded = c.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  assert.equal((await cEnded).cause, 'remote-bye');
});

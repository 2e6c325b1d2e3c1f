/**
 * The transfer target's side of Replaces (RFC 3891 §3) with `UserAgent.onReplaces`: a confirmed
 * dialog is replaced only when the replacing INVITE is authorised, which by default means its From
 * or its Referred-By (RFC 3892) is the replaced dialog's peer (see replacesAuthorised in
 * src/ua/call/replaces.ts); the hook can accept (true), refuse (false: 403) or answer a status of
 * its own (603); `early-only` against a confirmed dialog is 486. Carol is the target, her call with
 * Alice the one to replace; Bob or Alice sends the replacing INVITE. Over TLS on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Call, ReplacesCheck } from '../../src/ua/index.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';
import { CAROL, consult, received, responses, trio, type Pkis, type Trio } from './transfer-trio.js';

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

/** The Replaces naming Alice's call with Carol as Carol sees it (to-tag Carol's, from-tag Alice's). */
function replacesOf(a2: Call, extra = ''): string {
  const id = a2.dialogId!;
  return `${id.callId};to-tag=${id.remoteTag};from-tag=${id.localTag}${extra}`;
}

/** Bob calls Carol with `headers`; resolves with the call and its outcome. */
async function bobCalls(p: Trio, headers: Array<[string, string]>): Promise<{ call: Call; status: number }> {
  const call = p.bob.call(CAROL, { headers });
  const outcome = await call.established;
  return { call, status: outcome.ok ? 200 : outcome.status };
}

function noIncoming(p: Trio): () => boolean {
  let raised = false;
  p.carol.on('incoming', () => {
    raised = true;
  });
  return () => raised;
}

test('Replaces of a confirmed dialog from a party that is neither its peer nor referred by it: 403 (RFC 3891 §3, not authorised); the replaced call goes on', { skip }, async (t) => {
  const p = await trio(t, pki);
  const { a2, c2 } = await consult(p);
  const raised = noIncoming(p);
  const checks: ReplacesCheck[] = [];
  p.carol.onReplaces = (_invite, replaced, check) => {
    assert.equal(replaced, c2);
    checks.push(check);
    return undefined;
  };
  const { status, call } = await bobCalls(p, [['Replaces', replacesOf(a2)]]);
  assert.equal(status, 403);
  assert.equal(call.state, 'ended');
  assert.deepEqual(checks, [{ early: false, authorised: false }]);
  const refused = responses(p, 'INVITE', call.id).find((r) => r.status === 403)!;
  assert.equal(refused.reasonPhrase, 'Replaces Not Authorised');
  assert.equal(raised(), false);
  assert.equal(c2.state, 'answered');
  assert.equal(a2.state, 'answered');
  assert.deepEqual(p.carol.calls, [c2]);
  const ended = c2.ended;
  assert.deepEqual(await a2.hangup(), { ok: true });
  assert.equal((await ended).cause, 'remote-bye');
});

test('Replaces authorised by a Referred-By naming the replaced dialog\'s peer (the seed\'s scheme-less form): answered with Supported: replaces, then the replaced call is BYEd (RFC 3891 §3, RFC 3892)', { skip }, async (t) => {
  const p = await trio(t, pki);
  const { a2, c2 } = await consult(p);
  const raised = noIncoming(p);
  const uaReplaced = p.carol.next('replaced');
  const a2Ended = a2.ended;
  const { status, call } = await bobCalls(p, [['Replaces', replacesOf(a2)], ['Referred-By', '<alice@atlanta.example.com>']]);
  assert.equal(status, 200);
  const { call: c3, replaced } = await uaReplaced;
  assert.equal(replaced, c2);
  assert.equal(c3.id, call.id);
  assert.equal(raised(), false);
  assert.equal((await a2Ended).cause, 'remote-bye');
  assert.equal(c2.endReason?.cause, 'local-bye');
  const ok = responses(p, 'INVITE', call.id).find((r) => r.status === 200)!;
  assert.match(ok.get('supported') ?? '', /\breplaces\b/);
  // The BYE of the replaced call came after the new call's 2xx (RFC 3891 §3: "only then").
  const order = p.capture.messages.filter((m) => m.direction === 'in' && ((m.callId === call.id && m.label === '200') || (m.callId === a2.id && m.label === 'BYE'))).map((m) => m.label);
  assert.deepEqual(order.slice(0, 2), ['200', 'BYE']);
  const ended = c3.ended;
  assert.deepEqual(await call.hangup(), { ok: true });
  assert.equal((await ended).cause, 'remote-bye');
});

test('Replaces from the replaced dialog\'s own peer (its From) is authorised: Alice replaces her own call with Carol (RFC 3891 §3)', { skip }, async (t) => {
  const p = await trio(t, pki);
  const { a2, c2 } = await consult(p);
  const uaReplaced = p.carol.next('replaced');
  const a2Ended = a2.ended;
  const a3 = p.alice.call(CAROL, { headers: [['Replaces', replacesOf(a2)]] });
  assert.deepEqual(await a3.established, { ok: true });
  const { replaced } = await uaReplaced;
  assert.equal(replaced, c2);
  assert.equal((await a2Ended).cause, 'remote-bye');
  assert.equal(a3.state, 'answered');
  const c3 = p.carol.calls.find((c) => c.id === a3.id)!;
  const ended = c3.ended;
  assert.deepEqual(await a3.hangup(), { ok: true });
  assert.equal((await ended).cause, 'remote-bye');
});

test('onReplaces: true accepts an INVITE our rule would refuse; a status (603) declines even an authorised one; false refuses 403 (RFC 3891 §3)', { skip }, async (t) => {
  const p = await trio(t, pki);
  const { a2, c2 } = await consult(p);
  const raised = noIncoming(p);
  // 603 for an authorised one (Referred-By Alice).
  p.carol.onReplaces = (_invite, _replaced, check) => (check.authorised ? 603 : undefined);
  assert.equal((await bobCalls(p, [['Replaces', replacesOf(a2)], ['Referred-By', '<sips:alice@atlanta.example.com>']])).status, 603);
  // false for one it would have accepted.
  p.carol.onReplaces = () => false;
  assert.equal((await bobCalls(p, [['Replaces', replacesOf(a2)], ['Referred-By', '<sips:alice@atlanta.example.com>']])).status, 403);
  assert.equal(c2.state, 'answered');
  assert.equal(raised(), false);
  // true for an unauthorised one (Bob, no Referred-By).
  p.carol.onReplaces = (_invite, _replaced, check) => {
    assert.deepEqual(check, { early: false, authorised: false });
    return true;
  };
  const uaReplaced = p.carol.next('replaced');
  const a2Ended = a2.ended;
  const { status, call } = await bobCalls(p, [['Replaces', replacesOf(a2)]]);
  assert.equal(status, 200);
  assert.equal((await uaReplaced).replaced, c2);
  assert.equal((await a2Ended).cause, 'remote-bye');
  const c3 = p.carol.calls.find((c) => c.id === call.id)!;
  const ended = c3.ended;
  assert.deepEqual(await call.hangup(), { ok: true });
  assert.equal((await ended).cause, 'remote-bye');
});

test('Replaces with early-only against a confirmed dialog: 486 (RFC 3891 §3), even when authorised; the call goes on', { skip }, async (t) => {
  const p = await trio(t, pki);
  const { a2, c2 } = await consult(p);
  const raised = noIncoming(p);
  let asked = false;
  p.carol.onReplaces = () => {
    asked = true;
    return true;
  };
  const { status } = await bobCalls(p, [['Replaces', replacesOf(a2, ';early-only')], ['Referred-By', '<sips:alice@atlanta.example.com>']]);
  assert.equal(status, 486);
  assert.equal(asked, false);
  assert.equal(raised(), false);
  assert.equal(c2.state, 'answered');
  assert.equal(received(p, 'BYE', a2.id).length, 0);
  const ended = c2.ended;
  assert.deepEqual(await a2.hangup(), { ok: true });
  assert.equal((await ended).cause, 'remote-bye');
});

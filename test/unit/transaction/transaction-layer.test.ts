import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { MAGIC_COOKIE } from '../../../src/core/ids.js';
import { createRequest, createResponse, parseMessage, type SipRequest } from '../../../src/message/index.js';
import { InviteServerTransaction } from '../../../src/transaction/invite-server-transaction.js';
import { NonInviteServerTransaction } from '../../../src/transaction/non-invite-server-transaction.js';
import type { TransactionStateChange } from '../../../src/transaction/transaction.js';
import {
  RecordingListener, T1, T4, ackFor, assertDrained, closeAndCheck, incoming, outgoing, reply, setup, source, target,
} from './helpers.js';

/** The CANCEL a UAC builds for `invite` (RFC 3261 §9.1): same top Via, Request-URI, Call-ID, From, To, CSeq number. */
function cancelFor(invite: SipRequest): SipRequest {
  const cancel = createRequest({
    method: 'CANCEL',
    uri: invite.uriText,
    from: invite.get('from')!,
    to: invite.get('to')!,
    callId: invite.callId,
    cseq: invite.cseq.seq,
  });
  cancel.prepend('Via', invite.get('via')!);
  return cancel;
}

test('sendRequest adds a top Via with the transport\'s sent-by, a magic-cookie branch and rport (RFC 3261 §8.1.1.7)', () => {
  const env = setup();
  const request = outgoing('OPTIONS');
  const tx = env.layer.sendRequest(request, target('TCP'), { connectionId: 'c1' });
  const via = request.topVia!;
  assert.equal(via.transport, 'TCP');
  assert.equal(via.host, '192.0.2.10');
  assert.equal(via.port, 5060);
  assert.ok(via.params.branch!.startsWith(MAGIC_COOKIE));
  assert.ok('rport' in via.params);
  assert.equal(tx.branch, via.params.branch);
  assert.equal(env.transport.sent[0]!.connectionId, 'c1', 'the TU\'s connection is used');
  const other = env.layer.sendRequest(outgoing('OPTIONS'), target());
  assert.notEqual(other.branch, tx.branch, 'each transaction its own branch');
  closeAndCheck(env);
});

test('sendRequest refuses an ACK, a kept Via without branch, a branch in use, and sends after close', () => {
  const env = setup();
  assert.throws(() => env.layer.sendRequest(outgoing('ACK'), target()), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => env.layer.sendRequest(outgoing('MESSAGE'), target(), { via: 'keep' }), { code: 'ERR_INVALID_ARGUMENT' });
  const first = outgoing('MESSAGE');
  first.prepend('Via', 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKmine');
  env.layer.sendRequest(first, target(), { via: 'keep' });
  const second = outgoing('MESSAGE');
  second.prepend('Via', 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKmine');
  assert.throws(() => env.layer.sendRequest(second, target(), { via: 'keep' }), { code: 'ERR_TRANSACTION_EXISTS' });
  closeAndCheck(env);
  assert.throws(() => env.layer.sendRequest(outgoing('OPTIONS'), target()), { code: 'ERR_CLOSED' });
});

test('responses match by branch and CSeq method: the CANCEL\'s 200 and the INVITE\'s 487 reach their own transactions (RFC 3261 §17.1.3)', async () => {
  const env = setup();
  const inviteListener = new RecordingListener();
  const invite = outgoing('INVITE');
  const ict = env.layer.sendRequest(invite, target(), { listener: inviteListener });
  env.layer.onMessage(reply(invite, 180), source());
  const cancelListener = new RecordingListener();
  const cancel = cancelFor(invite);
  const nict = env.layer.sendRequest(cancel, target(), { listener: cancelListener });
  assert.equal(nict.branch, ict.branch, 'a CANCEL keeps its INVITE\'s branch (§9.1)');
  env.layer.onMessage(reply(cancel, 200), source());
  assert.deepEqual(cancelListener.statuses, [200]);
  assert.deepEqual(inviteListener.statuses, [180]);
  assert.equal(ict.state, 'proceeding');
  env.layer.onMessage(reply(invite, 487), source());
  assert.deepEqual(inviteListener.statuses, [180, 487]);
  assert.equal((await ict.finalResponse()).status, 487);
  env.clock.advance(32_000);
  assertDrained(env);
});

test('a response matching no transaction goes to onStrayResponse, or nowhere (RFC 6026 §8.9)', () => {
  const env = setup();
  const request = outgoing('OPTIONS');
  request.prepend('Via', 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnotours');
  env.layer.onMessage(reply(request, 200), source());
  assert.equal(env.user.strays.length, 1);
  const quiet = setup({ user: { onRequest: () => {}, onAck: () => {} } });
  quiet.layer.onMessage(reply(request, 200), source());
  assertDrained(env);
  assertDrained(quiet);
});

test('findInviteForCancel matches a CANCEL to its INVITE by branch and sent-by; the CANCEL has its own transaction (RFC 3261 §9.2)', () => {
  const env = setup();
  const invite = incoming('INVITE');
  env.layer.onMessage(invite, source());
  const ist = env.user.requests[0]!.transaction;
  const cancel = incoming('CANCEL');
  env.layer.onMessage(cancel, source());
  const cancelTx = env.user.requests[1]!.transaction;
  assert.ok(cancelTx instanceof NonInviteServerTransaction, 'the CANCEL is a request of its own');
  assert.notEqual(cancelTx, ist);
  assert.equal(env.layer.findInviteForCancel(cancel), ist);
  assert.equal(env.layer.findInviteForCancel(incoming('CANCEL', { sentBy: 'elsewhere.example.com' })), undefined);
  assert.equal(env.layer.findInviteForCancel(incoming('CANCEL', { branch: 'z9hG4bKother' })), undefined);
  cancelTx.respond(createResponse(cancel, 200));
  ist.respond(createResponse(ist.request, 487));
  env.layer.onMessage(ackFor(ist.request, ist.response!), source());
  env.clock.advance(64 * T1);
  assertDrained(env);
});

test('requests with the same branch but another sent-by or method are different transactions (RFC 3261 §17.2.3)', () => {
  // Merged-request detection off: the copies share From tag, Call-ID and CSeq (§8.2.2.2 would 482 them).
  const env = setup({ rejectMergedRequests: false });
  env.layer.onMessage(incoming('OPTIONS'), source());
  env.layer.onMessage(incoming('OPTIONS', { sentBy: 'pc34.atlanta.example.com:5060' }), source());
  env.layer.onMessage(incoming('INFO', { toTag: 'x', cseqMethod: 'INFO' }), source());
  env.layer.onMessage(incoming('OPTIONS'), source());
  assert.equal(env.user.requests.length, 3);
  assert.equal(env.layer.serverCount, 3);
  closeAndCheck(env);
});

test('an ACK matching no transaction (the ACK for a 2xx) goes to the TU (RFC 3261 §17.2.3, §13.3.1.4)', () => {
  const env = setup();
  env.layer.onMessage(incoming('ACK', { branch: 'z9hG4bKack2xx', toTag: 'bt' }), source());
  assert.equal(env.user.acks.length, 1);
  assert.equal(env.user.acks[0]!.transaction, undefined);
  assertDrained(env);
});

test('RFC 2543 requests without the magic cookie match by Request-URI, tags, Call-ID, CSeq and top Via (RFC 3261 §17.2.3)', () => {
  const env = setup({ rejectMergedRequests: false });
  const old = { branch: '' };
  env.layer.onMessage(incoming('INVITE', old), source());
  env.layer.onMessage(incoming('INVITE', old), source());
  assert.equal(env.user.requests.length, 1, 'the retransmission matched');
  env.layer.onMessage(incoming('INVITE', { ...old, uri: 'sip:carol@192.0.2.10' }), source());
  env.layer.onMessage(incoming('INVITE', { ...old, cseq: 2 }), source());
  env.layer.onMessage(incoming('INVITE', { ...old, sentBy: 'other.example.com' }), source());
  assert.equal(env.user.requests.length, 4, 'another Request-URI, CSeq or Via is another transaction');
  const ist = env.user.requests[0]!.transaction;
  assert.ok(ist instanceof InviteServerTransaction);

  const cancel = incoming('CANCEL', old);
  assert.equal(env.layer.findInviteForCancel(cancel), ist, 'a 2543 CANCEL finds its INVITE (§9.2)');

  ist.respond(createResponse(ist.request, 486, { toTag: 'uas1' }));
  env.layer.onMessage(incoming('ACK', { ...old, toTag: 'someoneelse' }), source());
  assert.equal(ist.state, 'completed', 'an ACK with another To tag is not this transaction\'s');
  assert.equal(env.user.acks.length, 1);
  env.layer.onMessage(incoming('ACK', { ...old, toTag: 'uas1' }), source());
  assert.equal(ist.state, 'confirmed');
  closeAndCheck(env);
});

test('a merged request is answered 482 by the layer and never reaches the TU (RFC 3261 §8.2.2.2)', () => {
  const env = setup();
  env.layer.onMessage(incoming('INVITE', { branch: 'z9hG4bKpath1' }), source());
  env.layer.onMessage(incoming('INVITE', { branch: 'z9hG4bKpath2', sentBy: 'proxy2.example.com' }), source('UDP', '203.0.113.9'));
  assert.equal(env.user.requests.length, 1);
  assert.deepEqual(env.transport.ladder(), ['482']);
  assert.equal(env.transport.sent[0]!.source!.remoteAddress, '203.0.113.9');
  // The merged copy's retransmission is absorbed by its own transaction (the 482 resent).
  env.layer.onMessage(incoming('INVITE', { branch: 'z9hG4bKpath2', sentBy: 'proxy2.example.com' }), source('UDP', '203.0.113.9'));
  assert.deepEqual(env.transport.ladder(), ['482', '482']);
  // A request with a To tag is in a dialog: never merged.
  env.layer.onMessage(incoming('INVITE', { branch: 'z9hG4bKpath3', toTag: 'dlg' }), source());
  assert.equal(env.user.requests.length, 2);
  closeAndCheck(env);
});

test('merged-request detection is off for proxies (rejectMergedRequests: false)', () => {
  const env = setup({ rejectMergedRequests: false });
  env.layer.onMessage(incoming('MESSAGE', { branch: 'z9hG4bKpath1' }), source());
  env.layer.onMessage(incoming('MESSAGE', { branch: 'z9hG4bKpath2' }), source());
  assert.equal(env.user.requests.length, 2);
  assert.deepEqual(env.transport.ladder(), []);
  closeAndCheck(env);
});

test('a request equal to a finished one is no longer merged once that transaction ends (RFC 3261 §8.2.2.2)', () => {
  const env = setup();
  env.user.answer = (request, tx) => tx.respond(createResponse(request, 200));
  env.layer.onMessage(incoming('MESSAGE', { branch: 'z9hG4bKa', transport: 'TCP' }), source('TCP'));
  env.layer.onMessage(incoming('MESSAGE', { branch: 'z9hG4bKb', transport: 'TCP' }), source('TCP'));
  assert.equal(env.user.requests.length, 2, 'the first ended at once over TCP (Timer J = 0)');
  assertDrained(env);
});

test('sendAck sends an ACK for a 2xx outside any transaction (RFC 3261 §13.2.2.4)', async () => {
  const env = setup();
  const ack = outgoing('ACK');
  await env.layer.sendAck(ack, target());
  assert.ok(ack.topVia!.params.branch!.startsWith(MAGIC_COOKIE));
  assert.deepEqual(env.transport.ladder(), ['ACK']);
  await env.layer.sendAck(ack, target(), { via: 'keep' });
  assert.equal(ack.via.length, 1);
  assert.throws(() => env.layer.sendAck(outgoing('BYE'), target()), { code: 'ERR_INVALID_ARGUMENT' });
  assert.equal(env.layer.size, 0);
  assertDrained(env);
});

test('a message whose headers fail their lazy parse is dropped (RFC 3261 §18.1.2, §18.2.1)', () => {
  const env = setup();
  const text = incoming('OPTIONS').toString().replace('CSeq: 314159 OPTIONS', 'CSeq: x OPTIONS');
  env.layer.onMessage(parseMessage(text, { lazy: true }), source());
  assert.equal(env.user.requests.length, 0);
  assertDrained(env);
});

test('onTransactionTerminated hears of every transaction; state changes are traced on hookflash:transaction:state', () => {
  const env = setup();
  const changes: string[] = [];
  const onChange = (message: unknown): void => {
    const c = message as TransactionStateChange;
    changes.push(`${c.transaction.request.method}:${c.from}>${c.to}`);
  };
  subscribe('hookflash:transaction:state', onChange);
  try {
    const request = outgoing('OPTIONS');
    const client = env.layer.sendRequest(request, target());
    env.layer.onMessage(reply(request, 200), source());
    env.user.answer = (req, tx) => tx.respond(createResponse(req, 200));
    env.layer.onMessage(incoming('OPTIONS'), source());
    env.clock.advance(64 * T1);
    assert.equal(env.user.terminated.length, 2);
    assert.equal(env.user.terminated[0], client);
    assert.deepEqual(changes, ['OPTIONS:trying>completed', 'OPTIONS:trying>completed', 'OPTIONS:completed>terminated', 'OPTIONS:completed>terminated']);
  } finally {
    unsubscribe('hookflash:transaction:state', onChange);
  }
  assertDrained(env);
});

test('10,000 retransmitting transactions share one clock timer and all drain (RFC 3261 §17)', () => {
  const env = setup();
  for (let i = 0; i < 5000; i++) env.layer.sendRequest(outgoing('OPTIONS', { cseq: i + 1 }), target());
  for (let i = 0; i < 5000; i++) env.layer.onMessage(incoming('INVITE', { branch: `z9hG4bKbulk${i}`, callId: `bulk${i}` }), source());
  assert.equal(env.layer.size, 10_000);
  assert.equal(env.clock.pending, 1);
  env.clock.advance(1000);
  assert.equal(env.transport.responses().length, 5000, 'each INVITE got its 100 Trying');
  for (const { transaction } of env.user.requests) transaction.respond(createResponse(transaction.request, 486));
  env.clock.advance(64 * T1 + T4);
  assert.equal(env.user.errors.length, 5000, 'Timer H reports every unacknowledged 486');
  assertDrained(env);
});

test('close() ends every transaction, leaves no clock timer and ignores later messages', async () => {
  const env = setup();
  const tx = env.layer.sendRequest(outgoing('INVITE'), target());
  const final = tx.finalResponse();
  env.layer.onMessage(incoming('INVITE'), source());
  env.layer.onMessage(incoming('MESSAGE'), source());
  assert.equal(env.layer.size, 3);
  closeAndCheck(env);
  await assert.rejects(final, { code: 'ERR_TERMINATED' });
  assert.equal(env.user.terminated.length, 0, 'closing notifies nobody');
  env.layer.onMessage(incoming('OPTIONS'), source());
  assert.equal(env.user.requests.length, 2);
  env.clock.advance(100_000);
  assert.equal(env.transport.sent.length, 1, 'nothing more is sent');
});

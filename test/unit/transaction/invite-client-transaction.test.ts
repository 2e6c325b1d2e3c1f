import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InviteClientTransaction } from '../../../src/transaction/invite-client-transaction.js';
import { TransactionError, shouldFailOver } from '../../../src/transaction/transaction-error.js';
import {
  RecordingListener, T1, assertDrained, closeAndCheck, flush, outgoing, reply, setup, source, target,
} from './helpers.js';

function invite(env: ReturnType<typeof setup>, protocol: 'UDP' | 'TCP' = 'UDP', route?: string[]) {
  const listener = new RecordingListener();
  const request = outgoing('INVITE', route === undefined ? {} : { route });
  const tx = env.layer.sendRequest(request, target(protocol), { listener });
  assert.ok(tx instanceof InviteClientTransaction);
  return { tx, listener, request };
}

test('ICT retransmits INVITE at T1, 2T1, 4T1 over UDP (RFC 3261 §17.1.1.2)', () => {
  const env = setup();
  const { tx } = invite(env);
  assert.equal(tx.state, 'calling');
  env.clock.advance(31_999);
  // Sent at 0, then T1, 2T1, 4T1... after each previous send, with no T2 cap for INVITE.
  assert.deepEqual(env.transport.times('INVITE'), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.equal(env.clock.pending, 1, 'one clock timer for the whole layer');
  closeAndCheck(env);
});

test('ICT Timer B fires at 64*T1 in Calling: ERR_TIMEOUT, no ACK (RFC 3261 §17.1.1.2)', async () => {
  const env = setup();
  const { tx, listener } = invite(env);
  const final = tx.finalResponse();
  env.clock.advance(64 * T1);
  assert.equal(tx.state, 'terminated');
  await assert.rejects(final, (e: unknown) => e instanceof TransactionError && e.code === 'ERR_TIMEOUT' && e.timer === 'B');
  assert.equal(listener.errors.length, 1);
  assert.equal(listener.errors[0]!.code, 'ERR_TIMEOUT');
  assert.ok(shouldFailOver(listener.errors[0]), 'a timeout asks for the next target (RFC 3263 §4.3)');
  assert.deepEqual(env.transport.requests('ACK'), []);
  assert.deepEqual(env.user.terminated, [tx]);
  assertDrained(env);
});

test('ICT over TCP sends no retransmissions but Timer B still fires (RFC 3261 §17.1.1.2)', () => {
  const env = setup();
  const { tx, listener } = invite(env, 'TCP');
  env.clock.advance(64 * T1 - 1);
  assert.deepEqual(env.transport.times('INVITE'), [0]);
  assert.equal(tx.state, 'calling');
  env.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(listener.errors[0]!.code, 'ERR_TIMEOUT');
  assertDrained(env);
});

test('ICT moves to Proceeding on 1xx, stops retransmitting and Timer B, passes 1xx to the TU (RFC 3261 §17.1.1.2)', () => {
  const env = setup();
  const { tx, listener, request } = invite(env);
  env.clock.advance(600);
  env.layer.onMessage(reply(request, 100), source());
  assert.equal(tx.state, 'proceeding');
  env.layer.onMessage(reply(request, 180), source());
  assert.deepEqual(listener.statuses, [100, 180]);
  env.clock.advance(10 * 64 * T1);
  assert.deepEqual(env.transport.times('INVITE'), [0, 500], 'no retransmission in Proceeding');
  assert.equal(tx.state, 'proceeding', 'Timer B does not apply in Proceeding');
  assert.equal(env.clock.pending, 0, 'Proceeding arms no timer');
  env.layer.onMessage(reply(request, 486), source());
  assert.equal(tx.state, 'completed');
  env.clock.advance(32_000);
  assertDrained(env);
});

test('ICT ACKs a 3xx-6xx final with the ACK of §17.1.1.3 and passes the response up once (RFC 3261 §17.1.1.3)', async () => {
  const env = setup();
  const { tx, listener, request } = invite(env, 'UDP', ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  const busy = reply(request, 486);
  env.layer.onMessage(busy, source());
  assert.equal(tx.state, 'completed');
  assert.deepEqual(listener.statuses, [486]);
  const final = await tx.finalResponse();
  assert.equal(final.status, 486, 'a non-2xx final is an outcome, not an error');
  const [ack] = env.transport.requests('ACK');
  assert.ok(ack);
  assert.equal(ack.uriText, request.uriText);
  assert.equal(ack.callId, request.callId);
  assert.equal(ack.get('from'), request.get('from'));
  assert.deepEqual(ack.cseq, { seq: request.cseq.seq, method: 'ACK' });
  assert.equal(ack.via.length, 1, 'the top Via only');
  assert.equal(ack.topVia!.params.branch, request.topVia!.params.branch, 'same branch as the INVITE');
  assert.equal(ack.topVia!.host, request.topVia!.host);
  assert.equal(ack.to.params.tag, 'bobtag1', 'To from the response');
  assert.deepEqual(ack.getAll('route'), request.getAll('route'));
  assert.equal(env.transport.sent.at(-1)!.target!.address, '192.0.2.20', 'the ACK goes where the INVITE went');
  env.clock.advance(32_000);
  assertDrained(env);
});

test('ICT Timer D absorbs retransmitted 3xx-6xx with an ACK each, then ends after 32 s over UDP (RFC 3261 §17.1.1.2)', () => {
  const env = setup();
  const { tx, listener, request } = invite(env);
  const notFound = reply(request, 404);
  env.layer.onMessage(notFound, source());
  env.clock.advance(1000);
  env.layer.onMessage(reply(request, 404), source());
  env.clock.advance(2000);
  env.layer.onMessage(reply(request, 404), source());
  assert.equal(env.transport.requests('ACK').length, 3, 'an ACK for each copy');
  assert.deepEqual(listener.statuses, [404], 'the TU sees the final once');
  env.clock.advance(32_000 - 3000 - 1);
  assert.equal(tx.state, 'completed');
  env.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assertDrained(env);
});

test('ICT over TCP ends right after the ACK: Timer D is zero (RFC 3261 §17.1.1.2)', () => {
  const env = setup();
  const { tx, request } = invite(env, 'TCP');
  env.layer.onMessage(reply(request, 603), source('TCP'));
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(env.transport.ladder(), ['INVITE', 'ACK']);
  assertDrained(env);
});

test('ICT enters Accepted on 2xx and passes each 2xx to the TU until Timer M, sending no ACK (RFC 6026 §7.2)', async () => {
  const env = setup();
  const { tx, listener, request } = invite(env);
  env.layer.onMessage(reply(request, 180), source());
  env.layer.onMessage(reply(request, 200), source());
  assert.equal(tx.state, 'accepted');
  assert.equal((await tx.finalResponse()).status, 200);
  env.clock.advance(500);
  env.layer.onMessage(reply(request, 200), source());
  env.layer.onMessage(reply(request, 200, { toTag: 'fork2' }), source());
  env.layer.onMessage(reply(request, 183), source());
  assert.deepEqual(listener.statuses, [180, 200, 200, 200], 'each 2xx, retransmitted or forked, reaches the TU');
  assert.equal(listener.responses[3]!.to.params.tag, 'fork2');
  assert.deepEqual(env.transport.ladder(), ['INVITE'], 'the TU, not the transaction, ACKs a 2xx');
  env.clock.advance(64 * T1 - 500 - 1);
  assert.equal(tx.state, 'accepted');
  env.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  env.layer.onMessage(reply(request, 200), source());
  assert.equal(listener.responses.length, 4, 'after Timer M, a 2xx matches nothing');
  assert.equal(env.user.strays.length, 1);
  assertDrained(env);
});

test('ICT reports a transport failure and terminates (RFC 3261 §17.1.4)', async () => {
  const env = setup();
  env.transport.failRequests = true;
  const { tx, listener } = invite(env);
  const rejected = assert.rejects(tx.finalResponse(), (e: unknown) => e instanceof TransactionError && e.code === 'ERR_TRANSPORT');
  await flush();
  assert.equal(tx.state, 'terminated');
  await rejected;
  assert.equal(listener.errors.length, 1);
  assert.ok(shouldFailOver(listener.errors[0]));
  assertDrained(env);
});

test('ICT resolves a 503 as an outcome that asks for failover (RFC 3263 §4.3)', async () => {
  const env = setup();
  const { tx, request } = invite(env, 'TCP');
  env.layer.onMessage(reply(request, 503), source('TCP'));
  const final = await tx.finalResponse();
  assert.equal(final.status, 503);
  assert.ok(shouldFailOver(final));
  assert.ok(!shouldFailOver(reply(request, 486)));
  assertDrained(env);
});

test('ICT terminate() ends it at once; finalResponse rejects with ERR_TERMINATED (RFC 3261 §9.1)', async () => {
  const env = setup();
  const { tx, listener, request } = invite(env);
  env.layer.onMessage(reply(request, 180), source());
  const final = tx.finalResponse();
  tx.terminate();
  await assert.rejects(final, (e: unknown) => e instanceof TransactionError && e.code === 'ERR_TERMINATED');
  assert.equal(listener.errors.length, 0, 'the TU ended it; nothing to report');
  assertDrained(env);
});

test('ICT goes from Calling straight to Accepted on a 2xx and stops Timer A (RFC 6026 §7.2)', () => {
  const env = setup();
  const { tx, listener, request } = invite(env);
  env.clock.advance(700);
  env.layer.onMessage(reply(request, 200), source());
  assert.equal(tx.state, 'accepted');
  assert.deepEqual(listener.statuses, [200]);
  env.clock.advance(64 * T1);
  assert.deepEqual(env.transport.times('INVITE'), [0, 500]);
  assert.equal(tx.state, 'terminated');
  assertDrained(env);
});

test('ICT in Completed reports an ACK the transport could not send and terminates (RFC 3261 §17.1.4)', async () => {
  const env = setup();
  const { tx, listener, request } = invite(env);
  env.transport.failRequests = true;
  env.layer.onMessage(reply(request, 480), source());
  assert.equal(tx.state, 'completed');
  await flush();
  assert.equal(tx.state, 'terminated');
  assert.equal(listener.errors[0]!.code, 'ERR_TRANSPORT');
  assert.equal((await tx.finalResponse()).status, 480, 'the outcome stays the final response');
  assertDrained(env);
});

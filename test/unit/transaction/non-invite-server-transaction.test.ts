import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, type SipRequest } from '../../../src/message/index.js';
import { NonInviteServerTransaction } from '../../../src/transaction/non-invite-server-transaction.js';
import { T1, assertDrained, flush, incoming, setup, source, type Env } from './helpers.js';

function receive(env: Env, request: SipRequest = incoming('OPTIONS'), protocol: 'UDP' | 'TCP' = 'UDP'): NonInviteServerTransaction {
  env.layer.onMessage(request, source(protocol));
  const tx = env.user.requests.at(-1)!.transaction;
  assert.ok(tx instanceof NonInviteServerTransaction);
  return tx;
}

test('NIST absorbs retransmissions in Trying without sending anything (RFC 3261 §17.2.2)', () => {
  const env = setup();
  const tx = receive(env);
  assert.equal(tx.state, 'trying');
  env.clock.advance(500);
  env.layer.onMessage(incoming('OPTIONS'), source());
  env.clock.advance(1000);
  env.layer.onMessage(incoming('OPTIONS'), source());
  assert.deepEqual(env.transport.ladder(), [], 'no 100 Trying for non-INVITE, nothing resent');
  assert.equal(env.user.requests.length, 1);
  assert.equal(env.clock.pending, 0, 'Trying arms no timer');
  tx.terminate();
  assertDrained(env);
});

test('NIST resends the last provisional response in Proceeding, then completes on the final (RFC 3261 §17.2.2)', () => {
  const env = setup();
  const tx = receive(env);
  tx.respond(createResponse(tx.request, 100));
  assert.equal(tx.state, 'proceeding');
  tx.respond(createResponse(tx.request, 183, { toTag: 't' }));
  env.layer.onMessage(incoming('OPTIONS'), source());
  assert.deepEqual(env.transport.ladder(), ['100', '183', '183']);
  assert.ok(tx.respond(createResponse(tx.request, 200, { toTag: 't' })));
  assert.equal(tx.state, 'completed', 'Proceeding to Completed on the final');
  env.clock.advance(64 * T1);
  assertDrained(env);
});

test('NIST resends the final in Completed, discards later TU responses, ends at Timer J = 64*T1 over UDP (RFC 3261 §17.2.2)', () => {
  const env = setup();
  const tx = receive(env);
  assert.ok(tx.respond(createResponse(tx.request, 200)));
  assert.equal(tx.state, 'completed');
  env.clock.advance(500);
  env.layer.onMessage(incoming('OPTIONS'), source());
  assert.equal(tx.respond(createResponse(tx.request, 500)), false, 'further finals MUST be discarded');
  assert.equal(tx.respond(createResponse(tx.request, 180)), false);
  assert.deepEqual(env.transport.times('200'), [0, 500]);
  assert.deepEqual(env.transport.ladder(), ['200', '200']);
  env.clock.advance(64 * T1 - 500 - 1);
  assert.equal(tx.state, 'completed');
  env.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  env.layer.onMessage(incoming('OPTIONS'), source());
  assert.equal(env.user.requests.length, 2, 'after Timer J the request is new again');
  env.user.requests[1]!.transaction.terminate();
  assertDrained(env);
});

test('NIST over TCP ends as soon as the final is sent: Timer J is zero (RFC 3261 §17.2.2)', () => {
  const env = setup();
  env.user.answer = (request, tx) => tx.respond(createResponse(request, 200));
  const tx = receive(env, incoming('REGISTER', { transport: 'TCP' }), 'TCP');
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(env.transport.ladder(), ['200']);
  assertDrained(env);
});

test('NIST transport error in Proceeding ends the transaction and informs the TU (RFC 3261 §17.2.4)', async () => {
  const env = setup();
  env.transport.failResponses = true;
  const tx = receive(env);
  tx.respond(createResponse(tx.request, 180));
  await flush();
  assert.equal(tx.state, 'terminated');
  assert.equal(env.user.errors.length, 1);
  assert.equal(env.user.errors[0]!.transaction, tx);
  assert.equal(env.user.errors[0]!.error.code, 'ERR_TRANSPORT');
  assertDrained(env);
});

test('NIST transport error in Completed ends the transaction and informs the TU (RFC 3261 §17.2.4)', async () => {
  const env = setup();
  env.transport.failResponses = true;
  const tx = receive(env);
  tx.respond(createResponse(tx.request, 404));
  await flush();
  assert.equal(tx.state, 'terminated');
  assert.equal(env.user.errors[0]!.error.code, 'ERR_TRANSPORT');
  assertDrained(env);
});

test('NIST over TCP still reports a final response that could not be sent (RFC 3261 §17.2.4)', async () => {
  const env = setup();
  env.transport.failResponses = true;
  env.user.answer = (request, tx) => tx.respond(createResponse(request, 200));
  receive(env, incoming('BYE', { transport: 'TCP', toTag: 'x' }), 'TCP');
  await flush();
  assert.equal(env.user.errors.length, 1);
  assertDrained(env);
});

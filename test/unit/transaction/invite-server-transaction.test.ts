import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, type SipRequest } from '../../../src/message/index.js';
import { InviteServerTransaction } from '../../../src/transaction/invite-server-transaction.js';
import { T1, T4, ackFor, assertDrained, flush, incoming, setup, source, type Env } from './helpers.js';

/** Delivers an INVITE from the network and returns the server transaction the TU got. */
function receiveInvite(env: Env, request: SipRequest = incoming('INVITE'), protocol: 'UDP' | 'TCP' = 'UDP'): InviteServerTransaction {
  env.layer.onMessage(request, source(protocol));
  const tx = env.user.requests.at(-1)!.transaction;
  assert.ok(tx instanceof InviteServerTransaction);
  return tx;
}

test('IST sends 100 Trying after 200 ms when the TU is silent (RFC 3261 §17.2.1)', () => {
  const env = setup();
  const tx = receiveInvite(env);
  assert.equal(tx.state, 'proceeding');
  env.clock.advance(199);
  assert.deepEqual(env.transport.ladder(), []);
  env.clock.advance(1);
  assert.deepEqual(env.transport.ladder(), ['100']);
  assert.equal(env.transport.sent[0]!.source!.remoteAddress, '198.51.100.1', 'back to where the INVITE came from');
  tx.respond(createResponse(tx.request, 480));
  env.layer.onMessage(ackFor(tx.request, tx.response!), source());
  env.clock.advance(T4);
  assertDrained(env);
});

test('IST sends no 100 Trying when the TU answers within 200 ms (RFC 3261 §17.2.1)', () => {
  const env = setup();
  env.user.answer = (request, tx) => tx.respond(createResponse(request, 180));
  const tx = receiveInvite(env);
  env.clock.advance(1000);
  assert.deepEqual(env.transport.ladder(), ['180']);
  tx.terminate();
  assertDrained(env);
});

test('IST resends the last provisional response for a retransmitted INVITE in Proceeding (RFC 3261 §17.2.1)', () => {
  const env = setup();
  const tx = receiveInvite(env);
  env.layer.onMessage(incoming('INVITE'), source());
  assert.deepEqual(env.transport.ladder(), [], 'nothing to resend yet');
  env.clock.advance(200);
  env.layer.onMessage(incoming('INVITE'), source());
  tx.respond(createResponse(tx.request, 180, { toTag: 'bt' }));
  env.layer.onMessage(incoming('INVITE'), source());
  assert.deepEqual(env.transport.ladder(), ['100', '100', '180', '180']);
  assert.equal(env.user.requests.length, 1, 'retransmissions never reach the TU');
  tx.terminate();
  assertDrained(env);
});

test('IST Timer G resends 3xx-6xx at T1 doubling to T2 until Timer H reports the missing ACK (RFC 3261 §17.2.1)', () => {
  const env = setup();
  const tx = receiveInvite(env);
  assert.ok(tx.respond(createResponse(tx.request, 486)));
  assert.equal(tx.state, 'completed');
  env.clock.advance(64 * T1 - 1);
  assert.deepEqual(env.transport.times('486'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(tx.state, 'completed');
  env.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(env.user.errors.length, 1);
  assert.equal(env.user.errors[0]!.error.code, 'ERR_TIMEOUT');
  assert.equal(env.user.errors[0]!.error.timer, 'H');
  assertDrained(env);
});

test('IST resends the final response for a retransmitted INVITE in Completed (RFC 3261 §17.2.1)', () => {
  const env = setup();
  const tx = receiveInvite(env);
  tx.respond(createResponse(tx.request, 404));
  env.clock.advance(100);
  env.layer.onMessage(incoming('INVITE'), source());
  assert.deepEqual(env.transport.times('404'), [0, 100]);
  assert.equal(tx.respond(createResponse(tx.request, 500)), false, 'a second final is discarded');
  env.layer.onMessage(ackFor(tx.request, tx.response!), source());
  env.clock.advance(T4);
  assertDrained(env);
});

test('IST ACK moves Completed to Confirmed; Timer I absorbs ACKs for T4 over UDP (RFC 3261 §17.2.1)', () => {
  const env = setup();
  const tx = receiveInvite(env);
  tx.respond(createResponse(tx.request, 486));
  env.clock.advance(700);
  env.layer.onMessage(ackFor(tx.request, tx.response!), source());
  assert.equal(tx.state, 'confirmed');
  env.clock.advance(10_000 - 700);
  assert.equal(tx.state, 'terminated', 'Timer I is T4');
  // Timer G stopped at the ACK: the final went out at 0 and 500 only.
  assert.deepEqual(env.transport.times('486'), [0, 500]);
  assert.equal(env.user.acks.length, 0, 'the ACK for a non-2xx is the transaction\'s');
  assertDrained(env);
});

test('IST Confirmed absorbs retransmitted ACKs until Timer I (RFC 3261 §17.2.1)', () => {
  const env = setup();
  const tx = receiveInvite(env);
  tx.respond(createResponse(tx.request, 486));
  const ack = ackFor(tx.request, tx.response!);
  env.layer.onMessage(ack, source());
  env.clock.advance(T4 - 1);
  env.layer.onMessage(ackFor(tx.request, tx.response!), source());
  assert.equal(tx.state, 'confirmed');
  assert.equal(env.user.acks.length, 0);
  env.clock.advance(1);
  assertDrained(env);
});

test('IST over TCP: no Timer G, and Timer I is zero (RFC 3261 §17.2.1)', () => {
  const env = setup();
  const tx = receiveInvite(env, incoming('INVITE', { transport: 'TCP' }), 'TCP');
  tx.respond(createResponse(tx.request, 603));
  env.clock.advance(20_000);
  assert.deepEqual(env.transport.times('603'), [0]);
  env.layer.onMessage(ackFor(tx.request, tx.response!, { transport: 'TCP' }), source('TCP'));
  assert.equal(tx.state, 'terminated');
  assertDrained(env);
});

test('IST Accepted absorbs INVITE retransmissions, sends the TU\'s 2xx, passes ACKs up, ends at Timer L (RFC 6026 §7.1)', () => {
  const env = setup();
  const tx = receiveInvite(env);
  const ok = createResponse(tx.request, 200, { toTag: 'bt' });
  tx.respond(ok);
  assert.equal(tx.state, 'accepted');
  env.layer.onMessage(incoming('INVITE'), source());
  assert.deepEqual(env.transport.ladder(), ['200'], 'the retransmitted INVITE is absorbed, not answered');
  assert.equal(env.user.requests.length, 1, 'and is not mistaken for a new request');
  env.clock.advance(T1);
  assert.ok(tx.respond(ok), 'the TU retransmits its 2xx through the transaction');
  assert.equal(tx.respond(createResponse(tx.request, 486)), false, 'no non-2xx after a 2xx');
  assert.deepEqual(env.transport.ladder(), ['200', '200']);
  const ack = ackFor(tx.request, ok);
  env.layer.onMessage(ack, source());
  assert.equal(env.user.acks.length, 1);
  assert.equal(env.user.acks[0]!.transaction, tx, 'an ACK matching in Accepted goes to the TU');
  assert.equal(tx.state, 'accepted');
  env.clock.advance(64 * T1 - T1 - 1);
  assert.equal(tx.state, 'accepted');
  env.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(env.user.errors.length, 0);
  assertDrained(env);
});

test('IST reports transport errors to the TU and keeps its state (RFC 6026 §7.1 figure 5)', async () => {
  const env = setup();
  env.transport.failResponses = true;
  const tx = receiveInvite(env);
  tx.respond(createResponse(tx.request, 180));
  await flush();
  assert.equal(tx.state, 'proceeding');
  assert.equal(env.user.errors[0]!.error.code, 'ERR_TRANSPORT');
  tx.respond(createResponse(tx.request, 500));
  await flush();
  assert.equal(tx.state, 'completed');
  assert.equal(env.user.errors.length, 2);
  env.transport.failResponses = false;
  env.clock.advance(64 * T1);
  assert.equal(tx.state, 'terminated', 'Timer H still ends it');
  assertDrained(env);
});

test('IST respond() refuses a status outside 100-699', () => {
  const env = setup();
  const tx = receiveInvite(env);
  const bad = createResponse(tx.request, 200);
  Object.defineProperty(bad, 'status', { value: 700 });
  assert.throws(() => tx.respond(bad), { code: 'ERR_INVALID_ARGUMENT' });
  tx.terminate();
  assertDrained(env);
});

test('IST in Accepted reports a 2xx the transport could not send and stays until Timer L (RFC 6026 §7.1 figure 5)', async () => {
  const env = setup();
  env.transport.failResponses = true;
  const tx = receiveInvite(env);
  tx.respond(createResponse(tx.request, 200));
  await flush();
  assert.equal(tx.state, 'accepted');
  assert.equal(env.user.errors.length, 1);
  assert.equal(env.user.errors[0]!.error.code, 'ERR_TRANSPORT');
  env.clock.advance(64 * T1);
  assert.equal(tx.state, 'terminated');
  assertDrained(env);
});

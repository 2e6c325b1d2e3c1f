import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NonInviteClientTransaction } from '../../../src/transaction/non-invite-client-transaction.js';
import { TransactionError } from '../../../src/transaction/transaction-error.js';
import {
  RecordingListener, T1, T2, T4, assertDrained, flush, outgoing, reply, setup, source, target,
} from './helpers.js';

function options(env: ReturnType<typeof setup>, protocol: 'UDP' | 'TCP' = 'UDP') {
  const listener = new RecordingListener();
  const request = outgoing('OPTIONS');
  const tx = env.layer.sendRequest(request, target(protocol), { listener });
  assert.ok(tx instanceof NonInviteClientTransaction);
  return { tx, listener, request };
}

test('NICT Timer E doubles from T1 up to T2 in Trying, then Timer F times out at 64*T1 (RFC 3261 §17.1.2.2)', async () => {
  const env = setup();
  const { tx, listener } = options(env);
  assert.equal(tx.state, 'trying');
  const final = tx.finalResponse();
  env.clock.advance(64 * T1);
  assert.deepEqual(env.transport.times('OPTIONS'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(tx.state, 'terminated');
  await assert.rejects(final, (e: unknown) => e instanceof TransactionError && e.code === 'ERR_TIMEOUT' && e.timer === 'F');
  assert.equal(listener.errors[0]!.timer, 'F');
  assertDrained(env);
});

test('NICT retransmits every T2 in Proceeding and Timer F still bounds it (RFC 3261 §17.1.2.2)', () => {
  const env = setup();
  const { tx, listener, request } = options(env);
  env.clock.advance(600);
  env.layer.onMessage(reply(request, 100), source());
  assert.equal(tx.state, 'proceeding');
  assert.deepEqual(listener.statuses, [100]);
  env.clock.advance(64 * T1 - 600);
  // E was due at 1500 (armed in Trying); from then on every T2.
  assert.deepEqual(env.transport.times('OPTIONS'), [0, 500, 1500, 1500 + T2, 1500 + 2 * T2, 1500 + 3 * T2, 1500 + 4 * T2, 1500 + 5 * T2, 1500 + 6 * T2, 1500 + 7 * T2]);
  assert.equal(tx.state, 'terminated');
  assert.equal(listener.errors[0]!.code, 'ERR_TIMEOUT');
  assertDrained(env);
});

test('NICT Timer K absorbs retransmitted finals for T4 over UDP (RFC 3261 §17.1.2.2)', async () => {
  const env = setup();
  const { tx, listener, request } = options(env);
  env.layer.onMessage(reply(request, 200), source());
  assert.equal(tx.state, 'completed');
  assert.equal((await tx.finalResponse()).status, 200);
  env.layer.onMessage(reply(request, 200), source());
  env.layer.onMessage(reply(request, 180), source());
  assert.deepEqual(listener.statuses, [200], 'retransmissions are absorbed');
  env.clock.advance(T4 - 1);
  assert.equal(tx.state, 'completed');
  assert.deepEqual(env.transport.times('OPTIONS'), [0], 'no retransmission once Completed');
  env.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assertDrained(env);
});

test('NICT over TCP: no Timer E, and Timer K is zero (RFC 3261 §17.1.2.2)', () => {
  const env = setup();
  const { tx, request } = options(env, 'TCP');
  env.clock.advance(10_000);
  assert.deepEqual(env.transport.times('OPTIONS'), [0]);
  env.layer.onMessage(reply(request, 404), source('TCP'));
  assert.equal(tx.state, 'terminated');
  assertDrained(env);
});

test('NICT over TCP still times out with Timer F (RFC 3261 §17.1.2.2)', () => {
  const env = setup();
  const { tx, listener } = options(env, 'TCP');
  env.clock.advance(64 * T1);
  assert.equal(tx.state, 'terminated');
  assert.equal(listener.errors[0]!.code, 'ERR_TIMEOUT');
  assertDrained(env);
});

test('NICT reports a transport failure and terminates (RFC 3261 §17.1.4)', async () => {
  const env = setup();
  env.transport.failRequests = true;
  const { tx, listener } = options(env);
  await flush();
  assert.equal(tx.state, 'terminated');
  assert.equal(listener.errors.length, 1);
  assert.equal(listener.errors[0]!.code, 'ERR_TRANSPORT');
  assertDrained(env);
});

test('NICT honours a configured T1 and T2 (RFC 3261 §17.1.1.1)', () => {
  const env = setup({ t1: 100, t2: 300 });
  const { tx } = options(env);
  env.clock.advance(64 * 100);
  assert.deepEqual(env.transport.times('OPTIONS').slice(0, 6), [0, 100, 300, 600, 900, 1200]);
  assert.equal(tx.state, 'terminated');
  assertDrained(env);
});

test('NICT goes from Proceeding to Completed on a final response, then Timer K ends it (RFC 3261 §17.1.2.2)', () => {
  const env = setup();
  const { tx, listener, request } = options(env);
  env.layer.onMessage(reply(request, 100), source());
  env.layer.onMessage(reply(request, 180), source());
  assert.equal(tx.state, 'proceeding');
  env.clock.advance(2000);
  env.layer.onMessage(reply(request, 202), source());
  assert.equal(tx.state, 'completed');
  assert.deepEqual(listener.statuses, [100, 180, 202]);
  env.clock.advance(T4);
  assert.equal(tx.state, 'terminated');
  assertDrained(env);
});

test('NICT for a UDP target whose large request the transport moved to TCP runs as over TCP: no Timer E, Timer K zero (RFC 3261 §18.1.1, §17.1.2.2)', async () => {
  const env = setup();
  // What SipTransportLayer does with a request over 1300 bytes: TCP, and the top Via says so.
  const send = env.transport.sendRequest.bind(env.transport);
  env.transport.sendRequest = (request, to, connectionId) => {
    const via = request.get('via')!;
    request.removeFirst('via');
    request.prepend('Via', via.replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
    return send(request, to, connectionId);
  };
  const { tx, listener, request } = options(env);
  await flush();
  assert.equal(tx.reliable, true);
  env.clock.advance(10 * T1);
  assert.deepEqual(env.transport.times('OPTIONS'), [0], 'no retransmission over TCP');
  env.layer.onMessage(reply(request, 200), source('TCP'));
  assert.deepEqual(listener.statuses, [200]);
  assert.equal(tx.state, 'terminated', 'Timer K is zero over a reliable transport');
  assertDrained(env);
});

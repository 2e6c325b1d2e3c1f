/**
 * Transfer through the SipServer (RFC 5589 §6 over RFC 3261 §16): Alice, Bob and Carol registered
 * at the server; Alice calls Bob, holds, and transfers him to Carol's AOR. The REFER, its NOTIFYs
 * and Alice's BYE travel in the first dialog (routed by the server's Record-Route); Bob's INVITE
 * to Carol is a new call the server routes by the location service.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, type SipRequest } from '../../src/message/index.js';
import { assertSocketsBack, MessageCapture, openSockets } from '../helpers/endpoints.js';
import { startPhone, startServer } from './server-helpers.js';

const DOMAIN = 'example.com';
const CAROL = `sip:carol@${DOMAIN}`;

test('alice transfers bob to carol through the server: REFER, NOTIFYs, the new call, BYE all routed by it (RFC 5589 §6, RFC 3261 §16)', async (t) => {
  const sockets = openSockets();
  const s = await startServer(t, DOMAIN);
  const alice = await startPhone(t, s, 'alice', DOMAIN);
  const bob = await startPhone(t, s, 'bob', DOMAIN);
  const carol = await startPhone(t, s, 'carol', DOMAIN);
  t.after(() => assertSocketsBack(sockets));
  const capture = new MessageCapture();
  t.after(() => capture.stop());

  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const b = await incoming;
  await Promise.all([a.established, b.answer()]);
  assert.deepEqual(await a.hold(), { ok: true });

  const progress: number[] = [];
  a.on('transfer-progress', ({ status }) => progress.push(status));
  const bobTransferred = b.next('transferred');
  const carolIncoming = carol.ua.next('incoming');
  carolIncoming.then((c) => setTimeout(() => void c.answer(), 20), () => undefined);
  const bEnded = b.ended;
  assert.deepEqual(await a.transfer(CAROL), { ok: true, outcome: 'transferred' });
  assert.deepEqual(progress, [100, 180, 200]);
  const c = await carolIncoming;
  const transferred = await bobTransferred;
  assert.equal(transferred.callId, c.id);
  assert.equal((await bEnded).cause, 'remote-bye');

  const firstCall = a.id;
  const bobPort = bob.ua.endpoint.listeners[0]!.port;
  const alicePort = alice.ua.endpoint.listeners[0]!.port;
  const carolPort = carol.ua.endpoint.listeners[0]!.port;
  const serverPort = s.target('UDP').port;
  const requestsAt = (port: number, callId: string) => capture.messages
    .filter((m) => m.direction === 'in' && m.port === port && m.callId === callId && !/^\d/.test(m.label))
    .map((m) => parseMessage(Buffer.from(m.text)) as SipRequest);
  // Every request of both calls reached its UA through the server (its Via under the sender's).
  const atBob = requestsAt(bobPort, firstCall);
  const atAlice = requestsAt(alicePort, firstCall);
  const atCarol = requestsAt(carolPort, c.id);
  assert.deepEqual(atBob.map((r) => r.method), ['INVITE', 'ACK', 'INVITE', 'ACK', 'REFER', 'BYE']);
  assert.deepEqual(atAlice.map((r) => r.method).filter((m) => m === 'NOTIFY').length >= 2, true);
  assert.equal(atCarol[0]!.method, 'INVITE');
  for (const r of [...atBob, ...atAlice, ...atCarol]) {
    assert.equal(r.via.length, 2, `${r.method} passed the server`);
    assert.equal(r.via[0]!.port, serverPort, `${r.method}: the server's Via on top`);
  }
  // The new call is record-routed too; the REFER and NOTIFYs, being in a dialog, are not.
  assert.deepEqual(atCarol[0]!.getAll('record-route'), [`<sip:127.0.0.1:${serverPort};lr>`]);
  assert.equal(atBob.find((r) => r.method === 'REFER')!.has('record-route'), false);
  assert.ok(atAlice.filter((r) => r.method === 'NOTIFY').every((r) => !r.has('record-route')));
  const bc = bob.ua.calls.find((call) => call.id === c.id)!;
  const cEnded = c.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  await cEnded;
});

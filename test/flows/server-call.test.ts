/**
 * SipServer end to end: Alice and Bob register through the server (the real Registrar over a
 * MemoryBindingStore) and call each other through it (RFC 3261 §16): INVITE, 180, 200, ACK,
 * re-INVITE hold and resume, BYE; the server record-routes, so every in-dialog request passes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, type SipRequest, type SipResponse } from '../../src/message/index.js';
import { assertSocketsBack, MessageCapture, openSockets } from '../helpers/endpoints.js';
import { startPhone, startServer } from './server-helpers.js';

const DOMAIN = 'example.com';

/** Polls (network arrival, not a timer of ours) until `cond` holds, for up to two seconds. */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition reached');
}

test('alice calls bob through the server: registered targets, Record-Route, hold, resume, BYE (RFC 3261 §16)', async (t) => {
  const sockets = openSockets();
  const s = await startServer(t, DOMAIN);
  const alice = await startPhone(t, s, 'alice', DOMAIN);
  const bob = await startPhone(t, s, 'bob', DOMAIN);
  t.after(() => assertSocketsBack(sockets));
  const capture = new MessageCapture();
  t.after(() => capture.stop());
  const starts: string[] = [];
  const ends: string[] = [];
  s.server.on('call-start', (e) => starts.push(e.callId));
  s.server.on('call-end', (e) => ends.push(e.callId));

  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const b = await incoming;
  const [aOut, bOut] = await Promise.all([a.established, b.answer()]);
  assert.deepEqual(aOut, { ok: true });
  assert.deepEqual(bOut, { ok: true });
  assert.equal(s.server.stats.activeCalls, 1);

  assert.deepEqual(await b.hold(), { ok: true });
  assert.equal(a.remoteHold, true);
  assert.deepEqual(await b.resume(), { ok: true });
  assert.equal(a.remoteHold, false);

  // Bob's ACK of the resume goes its own way (no transaction): let it reach Alice before the BYE.
  await until(() => capture.messages.filter((c) => c.direction === 'in' && c.label === 'ACK' && c.port === alice.ua.endpoint.listeners[0]!.port).length === 2);
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  await bEnded;

  const callId = a.dialogId!.callId;
  const serverPort = s.target('UDP').port;
  const bobPort = bob.ua.endpoint.listeners[0]!.port;
  const alicePort = alice.ua.endpoint.listeners[0]!.port;
  const at = (port: number) => capture.messages
    .filter((c) => c.direction === 'in' && c.callId === callId && c.port === port)
    .map((c) => parseMessage(Buffer.from(c.text)) as SipRequest | SipResponse);
  const label = (m: SipRequest | SipResponse) => (m.isRequest ? m.method : String(m.status));
  // What Bob received: every request of the call went through the server.
  // Bob holds and resumes (his re-INVITEs, their 200s come back to him); Alice hangs up.
  assert.deepEqual(at(bobPort).map(label), ['INVITE', 'ACK', '200', '200', 'BYE']);
  if (process.env.DBG) capture.save('/tmp/server-call.txt');
  assert.deepEqual(at(alicePort).map(label).filter((l) => l !== '100'), ['180', '200', 'INVITE', 'ACK', 'INVITE', 'ACK', '200']);
  if (process.env.DBG) capture.save('/tmp/server-call.txt');
  const invite = at(bobPort)[0] as SipRequest;
  // §16.6: two Vias (the server's on top), Record-Route with lr, Max-Forwards less one.
  assert.equal(invite.via.length, 2);
  assert.equal(invite.via[0]!.port, serverPort);
  assert.deepEqual(invite.getAll('record-route'), [`<sip:127.0.0.1:${serverPort};lr>`]);
  assert.equal(invite.maxForwards, 69);
  assert.equal(invite.uriText, `sip:bob@127.0.0.1:${bobPort}`);
  // In-dialog requests at Bob: no Route left (the server popped its own), no Record-Route added.
  for (const m of [...at(bobPort), ...at(alicePort)].filter((x) => x.isRequest && x.cseq.method !== 'INVITE' || x.isRequest && x.toTag !== undefined)) {
    const r = m as SipRequest;
    assert.equal(r.getAll('route').length, 0, `${r.method} has no Route left`);
    assert.equal(r.via.length, 2, `${r.method} came through the server`);
  }
  assert.deepEqual(starts, [callId]);
  assert.deepEqual(ends, [callId]);
  assert.equal(s.server.stats.activeCalls, 0);
});

test('alice cancels a ringing call: the server answers the CANCEL 200 and the INVITE 487, and cancels the branch (RFC 3261 §16.10)', async (t) => {
  const sockets = openSockets();
  const s = await startServer(t, DOMAIN);
  const alice = await startPhone(t, s, 'alice', DOMAIN);
  const bob = await startPhone(t, s, 'bob', DOMAIN);
  t.after(() => assertSocketsBack(sockets));
  const capture = new MessageCapture();
  t.after(() => capture.stop());

  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const ringing = a.next('ringing');
  const b = await incoming;
  await ringing;
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  const reason = await bEnded;
  assert.equal(reason.cause, 'cancelled');
  assert.equal(a.state, 'ended');
  const bobPort = bob.ua.endpoint.listeners[0]!.port;
  const alicePort = alice.ua.endpoint.listeners[0]!.port;
  const callId = b.dialogId?.callId ?? capture.messages.find((c) => c.label === 'INVITE')!.callId;
  const ladder = (port: number) => capture.ladder((c) => c.port === port && c.callId === callId).filter((l) => l !== '100');
  await until(() => ladder(bobPort).includes('ACK'));
  assert.deepEqual(ladder(bobPort), ['INVITE', 'CANCEL', 'ACK']);
  assert.deepEqual(ladder(alicePort), ['180', '200', '487']);
});

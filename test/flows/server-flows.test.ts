/**
 * The SipServer's flows and life cycle: a phone registered over TCP is reached over its
 * registration's connection (RFC 5626 §5.3, the Path with our flow token, RFC 3327) even when its
 * Contact cannot be reached, with a double Record-Route for UDP in / TCP out (RFC 5658); drain()
 * refuses new calls with 503 and Retry-After, lets the dialogs finish, and resolves when no
 * transaction is left; the events and stats the dashboard reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, type SipRequest } from '../../src/message/index.js';
import { assertSocketsBack, MessageCapture, openSockets } from '../helpers/endpoints.js';
import { startPhone, startServer } from './server-helpers.js';

const DOMAIN = 'example.com';

test('a phone registered over TCP is called over its registration connection, whatever its Contact (RFC 5626 §5.3, RFC 3327, RFC 5658)', async (t) => {
  const sockets = openSockets();
  const s = await startServer(t, DOMAIN);
  const alice = await startPhone(t, s, 'alice', DOMAIN);
  // Port 9 (discard) takes no SIP: only the flow reaches Bob.
  const bob = await startPhone(t, s, 'bob', DOMAIN, { protocol: 'TCP', contact: '<sip:bob@127.0.0.1:9;transport=tcp>' });
  t.after(() => assertSocketsBack(sockets));
  const [binding] = await s.store.lookup(`sip:bob@${DOMAIN}`, s.clock.now());
  assert.ok(binding);
  assert.equal(binding.path.length, 1);
  assert.match(binding.path[0]!, new RegExp(`^<sip:[^@]+@127\\.0\\.0\\.1:${s.target('TCP').port};transport=tcp;lr;ob>$`));
  const capture = new MessageCapture();
  t.after(() => capture.stop());

  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const b = await incoming;
  await Promise.all([a.established, b.answer()]);
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  await bEnded;
  const invite = capture.messages
    .filter((m) => m.direction === 'in' && m.label === 'INVITE' && m.callId === a.id && m.protocol === 'TCP')
    .map((m) => parseMessage(Buffer.from(m.text)) as SipRequest)[0]!;
  assert.equal(invite.uriText, 'sip:bob@127.0.0.1:9;transport=tcp');
  // Alice's ACK and BYE carry both entries as Route; the server pops both at once (RFC 5658 §3),
  // so they reach Bob in one hop, not by a spiral through the server's other listener.
  const inDialog = capture.messages
    .filter((m) => m.direction === 'in' && (m.label === 'ACK' || m.label === 'BYE') && m.callId === a.id && m.protocol === 'TCP')
    .map((m) => parseMessage(Buffer.from(m.text)) as SipRequest);
  assert.deepEqual(inDialog.map((r) => r.method), ['ACK', 'BYE']);
  for (const r of inDialog) {
    assert.equal(r.via.length, 2, `${r.method}: one hop through the server`);
    assert.equal(r.has('route'), false);
  }
  assert.deepEqual(invite.getAll('route'), [], 'the Path of our own was consumed, not sent');
  // RFC 5658 double Record-Route; the entry facing Bob names his flow (RFC 5626 §5.3), so the
  // dialog's requests to him take it too.
  const rr = invite.getAll('record-route');
  assert.equal(rr.length, 2);
  assert.match(rr[0]!, new RegExp(`^<sip:[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+@127\\.0\\.0\\.1:${s.target('TCP').port};transport=tcp;lr>$`));
  assert.equal(rr[1], `<sip:127.0.0.1:${s.target('UDP').port};lr>`);
});

test('drain(): new calls get 503 with Retry-After, a running call goes on to its BYE, and drain resolves when no transaction is left; events and stats', async (t) => {
  const sockets = openSockets();
  const s = await startServer(t, DOMAIN, { t1: 10, t4: 50 });
  const alice = await startPhone(t, s, 'alice', DOMAIN);
  const bob = await startPhone(t, s, 'bob', DOMAIN);
  t.after(() => assertSocketsBack(sockets));
  const requests: string[] = [];
  const responses: string[] = [];
  s.server.on('request', (e) => requests.push(e.method));
  s.server.on('response', (e) => responses.push(`${e.status} ${e.method}`));

  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const b = await incoming;
  await Promise.all([a.established, b.answer()]);
  assert.equal(s.server.stats.activeCalls, 1);

  let drained = false;
  const draining = s.server.drain().then(() => {
    drained = true;
  });
  assert.equal(s.server.isDraining, true);
  const refused = alice.ua.call(`sip:bob@${DOMAIN}`);
  const outcome = await refused.established;
  assert.deepEqual(outcome.ok ? 0 : outcome.status, 503);
  assert.equal(drained, false, 'the dialog still has transactions to come');
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  await bEnded;
  await draining;
  assert.equal(s.server.transactions.size, 0);
  assert.equal(s.server.stats.activeCalls, 0);
  // The ACK of the 503 ends in its server transaction (§17.2.1): the TU never sees it.
  assert.deepEqual(requests, ['INVITE', 'ACK', 'INVITE', 'BYE']);
  assert.deepEqual(responses.filter((r) => !r.startsWith('100')), ['180 INVITE', '200 INVITE', '503 INVITE', '200 BYE']);
});

test('a WebSocket phone with an unreachable Contact gets its calls and the requests inside them over its connection (RFC 7118 §5, RFC 5626 §5.3)', async (t) => {
  const sockets = openSockets();
  const s = await startServer(t, DOMAIN, { listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }, { protocol: 'WS', host: '127.0.0.1', port: 0 }] });
  const bob = await startPhone(t, s, 'bob', DOMAIN);
  const contact = '<sip:alice@alice-browser.invalid;transport=ws>';
  const alice = await startPhone(t, s, 'alice', DOMAIN, { protocol: 'WS', contact, ua: { contact } });
  t.after(() => assertSocketsBack(sockets));

  // Alice (a browser, say) calls Bob with a Contact nobody can reach: Bob's re-INVITE and BYE,
  // addressed to alice-browser.invalid, reach her only by the flow token the server put in its
  // Record-Route entry facing her WebSocket.
  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const b = await incoming;
  await Promise.all([a.established, b.answer()]);
  assert.deepEqual(await b.hold(), { ok: true });
  assert.equal(a.remoteHold, true);
  const aEnded = a.ended;
  assert.deepEqual(await b.hangup(), { ok: true });
  assert.equal((await aEnded).cause, 'remote-bye');
});

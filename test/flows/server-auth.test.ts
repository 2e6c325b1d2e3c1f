/**
 * Digest at the SipServer (RFC 3261 §22, RFC 7616) with the real DigestAuthenticator: REGISTER
 * is challenged 401 (WWW-Authenticate) before the registrar sees it; an INVITE from one of our
 * users is challenged 407 (Proxy-Authenticate) before it is proxied; a user who proves another
 * identity than its From is refused 403; requests inside a dialog are not challenged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestAuthenticator, DigestClient } from '../../src/auth/index.js';
import { requestWithAuth } from '../../src/ua/auth-retry.js';
import { RealClock } from '../../src/core/clock.js';
import { createRequest } from '../../src/message/index.js';
import { userRecord } from '../../src/store/index.js';
import type { UserRecord, UserStore } from '../../src/auth/index.js';
import { assertSocketsBack, MessageCapture, openSockets } from '../helpers/endpoints.js';
import { startPhone, startServer } from './server-helpers.js';

const DOMAIN = 'example.com';
const PASSWORDS: Record<string, string> = { alice: 'wonderland', bob: 'builder' };

const users: UserStore = {
  async find(username: string, realm: string): Promise<UserRecord | undefined> {
    const pw = PASSWORDS[username];
    return pw === undefined ? undefined : userRecord(username, realm, pw);
  },
  async close(): Promise<void> {},
};

test('REGISTER is challenged 401 and INVITE 407; with credentials both go through; in-dialog requests are not challenged (RFC 3261 §22)', async (t) => {
  const sockets = openSockets();
  const s = await startServer(t, DOMAIN, { authenticator: new DigestAuthenticator({ users, realm: DOMAIN, clock: new RealClock() }) });
  const nobody = await startPhone(t, s, 'alice', DOMAIN, { register: false });
  const denied = await nobody.registration.register();
  assert.equal(denied.ok, false);
  assert.equal(denied.status, 401);
  const alice = await startPhone(t, s, 'alice', DOMAIN, { password: PASSWORDS.alice });
  const bob = await startPhone(t, s, 'bob', DOMAIN, { password: PASSWORDS.bob });
  t.after(() => assertSocketsBack(sockets));
  const capture = new MessageCapture();
  t.after(() => capture.stop());

  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const b = await incoming;
  await Promise.all([a.established, b.answer()]);
  assert.deepEqual(await b.hold(), { ok: true });
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  await bEnded;
  const callId = a.id;
  const alicePort = alice.ua.endpoint.listeners[0]!.port;
  const toAlice = capture.ladder((c) => c.port === alicePort && c.callId === callId).filter((l) => l !== '100');
  // The first INVITE was challenged 407, the second (with Proxy-Authorization) went through; no
  // 401/407 inside the dialog (re-INVITE, BYE).
  assert.deepEqual(toAlice, ['407', '180', '200', 'INVITE', 'ACK', '200']);
});

test('an authenticated user claiming another From is refused 403 (RFC 3261 §22.3)', async (t) => {
  const sockets = openSockets();
  const s = await startServer(t, DOMAIN, { authenticator: new DigestAuthenticator({ users, realm: DOMAIN, clock: new RealClock() }) });
  const alice = await startPhone(t, s, 'alice', DOMAIN, { password: PASSWORDS.alice });
  t.after(() => assertSocketsBack(sockets));
  const ep = alice.ua.endpoint;
  const msg = () => createRequest({ method: 'MESSAGE', uri: `sip:bob@${DOMAIN}`, from: `<sip:bob@${DOMAIN}>`, to: `<sip:bob@${DOMAIN}>`, body: 'hi', contentType: 'text/plain' });
  const r = await requestWithAuth(ep, msg(), new DigestClient({ username: 'alice', password: PASSWORDS.alice! }));
  assert.equal(r.status, 403);
  assert.match(r.reasonPhrase, /From/);
  const challenged = await ep.request(msg(), { target: s.target('UDP') });
  assert.equal(challenged.status, 407);
  assert.match(challenged.get('proxy-authenticate') ?? '', /realm="example.com"/);
});

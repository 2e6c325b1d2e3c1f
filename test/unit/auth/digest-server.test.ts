/**
 * DigestAuthenticator (RFC 3261 §22; RFC 7616 §3.3-3.5; RFC 8760 §2.4) answered by the project's
 * own DigestClient: MD5 and SHA-256, nonce-count replay, stale nonces, wrong password, unknown user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { createRequest, createResponse, parseAuth, type SipRequest, type SipResponse } from '../../../src/message/index.js';
import { DigestClient, type AuthorizationHeader } from '../../../src/auth/digest-client.js';
import { DigestAuthenticator, type AuthOutcome } from '../../../src/auth/digest-server.js';
import { FileUserStore } from '../../../src/store/file-user-store.js';
import type { DigestAlgorithm } from '../../../src/auth/digest.js';

const REALM = 'example.com';

function setup(algorithms?: DigestAlgorithm[]): { clock: FakeClock; auth: DigestAuthenticator } {
  const clock = new FakeClock();
  const users = new FileUserStore([{ user: 'alice', password: 'wonderland' }], { realm: REALM });
  return { clock, auth: new DigestAuthenticator({ users, realm: REALM, clock, algorithms }) };
}

let cseq = 0;
function register(auth: AuthorizationHeader[] = []): SipRequest {
  const req = createRequest({ method: 'REGISTER', uri: 'sip:example.com', from: '<sip:alice@example.com>', to: '<sip:alice@example.com>', callId: 'reg-1', cseq: ++cseq });
  for (const h of auth) req.append(h.name, h.value);
  return req;
}

function toResponse(req: SipRequest, outcome: AuthOutcome): SipResponse {
  assert.equal(outcome.kind, 'challenge', JSON.stringify(outcome));
  if (outcome.kind !== 'challenge') throw new Error('unreachable');
  return createResponse(req, outcome.status, { headers: outcome.headers });
}

/** The client registers: challenged once, then answers. Returns the authenticated request. */
async function login(auth: DigestAuthenticator, client: DigestClient, kind: 'www' | 'proxy' = 'www'): Promise<{ req: SipRequest; outcome: AuthOutcome }> {
  const first = register();
  const challenge = toResponse(first, await auth.check(first, kind));
  const header = client.respond(first, challenge);
  assert.ok(header, 'the client answers the challenge');
  const req = register([header]);
  return { req, outcome: await auth.check(req, kind) };
}

test('challenges with SHA-256 first, then MD5, qop=auth, one nonce (RFC 8760 §2.4)', async () => {
  const { auth } = setup();
  const outcome = await auth.check(register(), 'www');
  assert.equal(outcome.kind, 'challenge');
  if (outcome.kind !== 'challenge') return;
  assert.equal(outcome.status, 401);
  assert.deepEqual(outcome.headers.map(([n]) => n), ['WWW-Authenticate', 'WWW-Authenticate']);
  const values = outcome.headers.map(([, v]) => parseAuth(v));
  assert.deepEqual(values.map((v) => v.params.algorithm), ['SHA-256', 'MD5']);
  assert.ok(values.every((v) => v.params.qop === 'auth' && v.params.realm === REALM && v.params.stale === undefined));
  assert.equal(values[0]!.params.nonce, values[1]!.params.nonce);
  const proxy = await setup(['MD5', 'SHA-256']).auth.check(register(), 'proxy');
  assert.ok(proxy.kind === 'challenge' && proxy.status === 407 && proxy.headers[0]![0] === 'Proxy-Authenticate');
  assert.equal(proxy.kind === 'challenge' && parseAuth(proxy.headers[0]![1]).params.algorithm, 'SHA-256');
});

test('accepts SHA-256 credentials from DigestClient', async () => {
  const { auth } = setup();
  const { req, outcome } = await login(auth, new DigestClient({ username: 'alice', password: 'wonderland' }));
  assert.deepEqual(outcome, { kind: 'ok', username: 'alice' });
  assert.equal(req.authorization[0]!.params.algorithm, 'SHA-256');
});

test('accepts MD5 credentials when only MD5 is offered', async () => {
  const { auth } = setup(['MD5']);
  const { req, outcome } = await login(auth, new DigestClient({ username: 'alice', password: 'wonderland' }));
  assert.deepEqual(outcome, { kind: 'ok', username: 'alice' });
  assert.equal(req.authorization[0]!.params.algorithm, 'MD5');
});

test('Proxy-Authorization for kind proxy (407 flow)', async () => {
  const { auth } = setup();
  const { outcome } = await login(auth, new DigestClient({ username: 'alice', password: 'wonderland' }), 'proxy');
  assert.deepEqual(outcome, { kind: 'ok', username: 'alice' });
});

test('a replayed request (same nonce count) is challenged again, the next nonce count is accepted (RFC 7616 §3.4)', async () => {
  const { auth } = setup();
  const client = new DigestClient({ username: 'alice', password: 'wonderland' });
  const { req, outcome } = await login(auth, client);
  assert.equal(outcome.kind, 'ok');
  const replay = await auth.check(req, 'www');
  assert.equal(replay.kind, 'challenge');
  assert.equal(replay.kind === 'challenge' && replay.reason, 'nonce count replayed');
  const next = register();
  for (const h of client.authorize(next)) next.append(h.name, h.value);
  assert.equal(next.authorization[0]!.params.nc, '00000002');
  assert.deepEqual(await auth.check(next, 'www'), { kind: 'ok', username: 'alice' });
  assert.equal((await auth.check(next, 'www')).kind, 'challenge', 'nc 2 twice');
  assert.equal(auth.trackedNonces, 1);
});

test('an expired nonce with the right password gets stale=true; the client retries and is accepted (RFC 7616 §3.3)', async () => {
  const { clock, auth } = setup();
  const client = new DigestClient({ username: 'alice', password: 'wonderland' });
  assert.equal((await login(auth, client)).outcome.kind, 'ok');
  clock.advance(300_001);
  const later = register();
  for (const h of client.authorize(later)) later.append(h.name, h.value);
  const outcome = await auth.check(later, 'www');
  assert.ok(outcome.kind === 'challenge' && outcome.reason === 'nonce expired');
  const challenge = toResponse(later, outcome);
  assert.ok(challenge.wwwAuthenticate.every((c) => c.params.stale === 'true'));
  const header = client.respond(later, challenge);
  assert.ok(header);
  assert.deepEqual(await auth.check(register([header]), 'www'), { kind: 'ok', username: 'alice' });
  assert.equal(auth.trackedNonces, 1, 'the expired nonce\'s count was forgotten');
});

test('a wrong password is challenged again without stale, and the client gives up', async () => {
  const { clock, auth } = setup();
  const client = new DigestClient({ username: 'alice', password: 'looking-glass' });
  const { req, outcome } = await login(auth, client);
  assert.ok(outcome.kind === 'challenge' && outcome.status === 401);
  assert.ok(outcome.headers.every(([, v]) => parseAuth(v).params.stale === undefined));
  assert.equal(client.respond(req, toResponse(req, outcome)), undefined);
  clock.advance(300_001);
  const stale = await auth.check(req, 'www');
  assert.ok(stale.kind === 'challenge' && stale.headers.every(([, v]) => parseAuth(v).params.stale === undefined), 'no stale hint for a wrong password');
});

test('an unknown user is challenged exactly like a wrong password', async () => {
  const { auth } = setup();
  const { outcome } = await login(auth, new DigestClient({ username: 'mallory', password: 'wonderland' }));
  assert.ok(outcome.kind === 'challenge' && outcome.status === 401 && outcome.reason === 'credentials rejected');
});

test('credentials for another realm, or without qop (RFC 2069), are challenged; a digest-uri for another request is forbidden', async () => {
  const { auth } = setup();
  const other = new DigestClient({ username: 'alice', password: 'wonderland' });
  const first = register();
  const foreign = createResponse(first, 401, { headers: [['WWW-Authenticate', 'Digest realm="elsewhere.org", nonce="abc", qop="auth", algorithm=SHA-256']] });
  const h = other.respond(first, foreign)!;
  const r1 = await auth.check(register([h]), 'www');
  assert.ok(r1.kind === 'challenge' && r1.reason === 'no credentials for this realm');

  const noQop = createResponse(first, 401, { headers: [['WWW-Authenticate', `Digest realm="${REALM}", nonce="abc", algorithm=MD5`]] });
  const h2 = new DigestClient({ username: 'alice', password: 'wonderland' }).respond(first, noQop)!;
  const r2 = await auth.check(register([h2]), 'www');
  assert.ok(r2.kind === 'challenge' && /qop/.test(r2.reason));

  const client = new DigestClient({ username: 'alice', password: 'wonderland' });
  const req = register();
  const h3 = client.respond(req, toResponse(req, await auth.check(req, 'www')))!;
  const moved = createRequest({ method: 'REGISTER', uri: 'sip:other.example.com', from: '<sip:alice@example.com>', to: '<sip:alice@example.com>' });
  moved.append(h3.name, h3.value);
  assert.deepEqual(await auth.check(moved, 'www'), { kind: 'forbidden', status: 403, reason: 'Malformed credentials (uri)' });
});

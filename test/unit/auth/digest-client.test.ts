/** DigestClient (RFC 3261 §22.2, §22.3; RFC 7616 §3.4, §3.6): retries, nonce reuse, stale, giving up. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { createRequest, createResponse, formatAuth, parseAuth, type SipRequest, type SipResponse } from '../../../src/message/index.js';
import { createChallenge, NonceIssuer, verifyCredentials } from '../../../src/auth/digest.js';
import { DigestClient, type AuthorizationHeader } from '../../../src/auth/digest-client.js';

let cseq = 0;
function register(auth: AuthorizationHeader[] = []): SipRequest {
  const req = createRequest({ method: 'REGISTER', uri: 'sip:biloxi.com', from: '<sip:bob@biloxi.com>', to: '<sip:bob@biloxi.com>', callId: 'c1', cseq: ++cseq });
  for (const h of auth) req.append(h.name, h.value);
  return req;
}

function challenge(req: SipRequest, nonce: string, options: { stale?: boolean; status?: 401 | 407; realm?: string } = {}): SipResponse {
  const status = options.status ?? 401;
  const name = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
  const realm = options.realm ?? 'biloxi.com';
  return createResponse(req, status, {
    headers: [
      [name, formatAuth(createChallenge({ realm, nonce, algorithm: 'MD5', stale: options.stale }), 'challenge')],
      [name, formatAuth(createChallenge({ realm, nonce, algorithm: 'SHA-256', stale: options.stale }), 'challenge')],
    ],
  });
}

const verify = (req: SipRequest, password = 'zanzibar'): boolean =>
  verifyCredentials(req.authorization[0]!, { method: req.method, uri: req.uriText, realm: 'biloxi.com', password }).ok;

test('answers a 401 with Authorization for the SHA-256 challenge, then reuses the nonce with nc incremented', () => {
  const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
  const first = register();
  const h = client.respond(first, challenge(first, 'n1'))!;
  assert.equal(h.name, 'Authorization');
  assert.equal(h.realm, 'biloxi.com');
  const cred = parseAuth(h.value);
  assert.equal(cred.params.algorithm, 'SHA-256');
  assert.equal(cred.params.nc, '00000001');
  assert.equal(cred.params.nonce, 'n1');
  const retry = register([h]);
  assert.ok(verify(retry));

  const [next] = client.authorize(register());
  assert.ok(next);
  assert.equal(parseAuth(next.value).params.nc, '00000002');
  assert.equal(parseAuth(next.value).params.nonce, 'n1');
  assert.equal(parseAuth(client.authorize(register())[0]!.value).params.nc, '00000003');
  assert.deepEqual(client.knownRealms, ['biloxi.com']);
});

test('answers a 407 with Proxy-Authorization', () => {
  const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
  const req = register();
  const h = client.respond(req, challenge(req, 'p1', { status: 407, realm: 'proxy.biloxi.com' }))!;
  assert.equal(h.name, 'Proxy-Authorization');
  assert.equal(h.realm, 'proxy.biloxi.com');
});

test('a challenge after our credentials without stale: the password is wrong, give up', () => {
  const client = new DigestClient({ username: 'bob', password: 'wrong' });
  const first = register();
  const h = client.respond(first, challenge(first, 'n1'))!;
  const retry = register([h]);
  assert.equal(verify(retry), false);
  assert.equal(client.respond(retry, challenge(retry, 'n2')), undefined, 'new nonce, not stale');
  assert.equal(client.respond(retry, challenge(retry, 'n1', { stale: true })), undefined, 'same nonce, even stale');
  assert.deepEqual(client.knownRealms, []);
});

test('stale=true: one retry with the new nonce, nc from 1; stale twice in a row gives up; stale later is honoured again', () => {
  const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
  const first = register();
  const retry = register([client.respond(first, challenge(first, 'n1'))!]);
  const later = register(client.authorize(register()));
  const h = client.respond(later, challenge(later, 'n2', { stale: true }));
  assert.ok(h, 'stale: retried without asking anything');
  assert.equal(parseAuth(h.value).params.nonce, 'n2');
  assert.equal(parseAuth(h.value).params.nc, '00000001');
  const staleRetry = register([h]);
  assert.equal(client.respond(staleRetry, challenge(staleRetry, 'n3', { stale: true })), undefined, 'stale again right away: give up');
  void retry;

  const c2 = new DigestClient({ username: 'bob', password: 'zanzibar' });
  const a = register();
  const b = register([c2.respond(a, challenge(a, 'm1'))!]);
  const c = register(c2.authorize(register()));
  const d = register([c2.respond(c, challenge(c, 'm2', { stale: true }))!]);
  // d was answered 200: the next request reuses m2, and a later stale is a fresh event.
  const e = register(c2.authorize(register()));
  assert.equal(e.authorization[0]!.params.nonce, 'm2');
  assert.ok(c2.respond(e, challenge(e, 'm3', { stale: true })));
  void b;
  void d;
});

test('no usable challenge, a realm the credentials are not for, or another status: undefined', () => {
  const client = new DigestClient({ username: 'bob', password: 'zanzibar', realm: 'atlanta.com' });
  const req = register();
  assert.equal(client.respond(req, challenge(req, 'n1')), undefined);
  assert.equal(client.respond(req, createResponse(req, 401, { headers: [['WWW-Authenticate', 'Basic realm="x"']] })), undefined);
  assert.equal(client.respond(req, createResponse(req, 403)), undefined);
  assert.throws(() => new DigestClient({ username: 'bob' }), TypeError);
});

test('round trip with a NonceIssuer: expiry gives a stale challenge the client answers', () => {
  const clock = new FakeClock();
  const nonces = new NonceIssuer({ clock, lifetimeMs: 1000 });
  const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
  const server = (req: SipRequest): SipResponse => {
    const cred = req.authorization[0];
    if (cred !== undefined) {
      const v = verifyCredentials(cred, { method: req.method, uri: req.uriText, realm: 'biloxi.com', password: 'zanzibar', nonces });
      if (v.ok) return createResponse(req, 200);
      return challenge(req, nonces.issue(), { stale: v.stale });
    }
    return challenge(req, nonces.issue());
  };
  const r1 = register();
  const r2 = register([client.respond(r1, server(r1))!]);
  assert.equal(server(r2).status, 200);
  clock.advance(2000);
  const r3 = register(client.authorize(register()));
  const res3 = server(r3);
  assert.equal(res3.status, 401);
  assert.equal(res3.wwwAuthenticate[0]!.params.stale, 'true');
  const r4 = register([client.respond(r3, res3)!]);
  assert.equal(server(r4).status, 200);
});

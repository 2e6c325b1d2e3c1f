/**
 * Registration (RFC 3261 §10.2) between two SipEndpoints on loopback: A registers through
 * `Registration`, B is a small registrar written here that challenges with Digest (SHA-256 and
 * MD5 side by side, RFC 8760 §2.4), checks with verifyCredentials and stateless nonces, asks once
 * for a longer interval (423, §10.2.8) and answers 200 with the bindings and their expires.
 * The registration and the registrar's nonces share a FakeClock, so a refresh comes when the test
 * says, and finds its nonce expired (stale=true, RFC 7616 §3.3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { createResponse, formatAuth, formatNameAddr, type NameAddr, type SipRequest } from '../../src/message/index.js';
import { createChallenge, NonceIssuer, verifyCredentials } from '../../src/auth/digest.js';
import { Registration, type RegistrationEvent } from '../../src/ua/registration.js';
import { assertSocketsBack, openSockets, startEndpoint, type TestEndpoint } from '../helpers/endpoints.js';

const REALM = 'example.com';
const MIN_EXPIRES = 120;
const NONCE_LIFETIME_MS = 60_000;

interface Seen {
  request: SipRequest;
  status: number;
}

/** B as a registrar for example.com: user alice, password "wonderland". */
function registrar(b: TestEndpoint, clock: FakeClock): { seen: Seen[]; bindings: Map<string, NameAddr> } {
  const nonces = new NonceIssuer({ clock, lifetimeMs: NONCE_LIFETIME_MS });
  const seen: Seen[] = [];
  const bindings = new Map<string, NameAddr>();
  let sent423 = false;
  b.endpoint.onRequest((req, tx) => {
    if (tx === undefined || req.method !== 'REGISTER') return false;
    const answer = (status: number, headers: [string, string][] = []): void => {
      seen.push({ request: req, status });
      tx.respond(createResponse(req, status, { headers }));
    };
    const challenge = (stale: boolean): void => {
      const nonce = nonces.issue(REALM);
      answer(401, (['MD5', 'SHA-256'] as const).map((algorithm) =>
        ['WWW-Authenticate', formatAuth(createChallenge({ realm: REALM, nonce, algorithm, stale, opaque: 'op-1' }), 'challenge')]));
    };
    const credentials = req.authorization.find((c) => c.params.realm === REALM);
    if (credentials === undefined) return challenge(false);
    const verdict = verifyCredentials(credentials, {
      method: req.method, uri: req.uriText, realm: REALM, password: 'wonderland', nonces, nonceBind: REALM,
    });
    if (!verdict.ok) return challenge(verdict.stale);
    const contact = req.contact;
    const headerExpires = req.expires ?? 3600;
    if (contact === '*') {
      bindings.clear();
      return answer(200);
    }
    for (const c of contact ?? []) {
      const e = c.params.expires;
      const expires = typeof e === 'string' ? Number(e) : headerExpires;
      if (expires > 0 && expires < MIN_EXPIRES && !sent423) {
        sent423 = true;
        return answer(423, [['Min-Expires', String(MIN_EXPIRES)]]);
      }
    }
    for (const c of contact ?? []) {
      const e = c.params.expires;
      const expires = typeof e === 'string' ? Number(e) : headerExpires;
      const key = formatNameAddr({ uri: c.uri, params: {} });
      if (expires === 0) bindings.delete(key);
      else bindings.set(key, { uri: c.uri, params: { expires: String(Math.max(expires, MIN_EXPIRES)) } });
    }
    answer(200, [...bindings.values()].map((b) => ['Contact', formatNameAddr(b)]));
  });
  return { seen, bindings };
}

function nextEvent(reg: Registration): Promise<RegistrationEvent> {
  return new Promise((resolve) => {
    const off = reg.on((e) => {
      off();
      resolve(e);
    });
  });
}

async function pair(t: { after(fn: () => Promise<void>): void }): Promise<{ a: TestEndpoint; b: TestEndpoint }> {
  const sockets = openSockets();
  const b = await startEndpoint({ protocols: ['UDP'] });
  const a = await startEndpoint({ protocols: ['UDP'] });
  t.after(async () => {
    await a.close();
    await b.close();
    await assertSocketsBack(sockets);
  });
  return { a, b };
}

test('register with Digest (SHA-256 chosen over MD5) and 423, refresh before expiry on a stale nonce, unregister', async (t) => {
  const { a, b } = await pair(t);
  const clock = new FakeClock();
  const { seen, bindings } = registrar(b, clock);
  const port = a.endpoint.listeners[0]!.port;
  const contacts = [`<sip:alice@127.0.0.1:${port}>`, `"Alice desk" <sip:alice@127.0.0.1:${port};transport=tcp>`];
  const reg = new Registration(a.endpoint, {
    aor: 'Alice <sip:alice@example.com>', contacts, expires: 60, clock,
    credentials: { username: 'alice', password: 'wonderland' }, target: b.target('UDP'),
  });
  t.after(() => reg.close());
  const events: RegistrationEvent[] = [];
  reg.on((e) => events.push(e));

  const outcome = await reg.register();
  assert.equal(outcome.ok, true, outcome.reason);
  assert.equal(outcome.status, 200);
  assert.equal(outcome.expires, MIN_EXPIRES, '423 then Min-Expires granted');
  assert.equal(outcome.bindings.length, 2);
  assert.equal(reg.state, 'registered');
  assert.equal(reg.expires, MIN_EXPIRES);
  assert.deepEqual(seen.map((s) => s.status), [401, 423, 200]);
  assert.equal(bindings.size, 2);

  // §10.2: Request-URI the domain, To and From the AOR, one Call-ID, CSeq up by one each time.
  const requests = seen.map((s) => s.request);
  for (const r of requests) {
    assert.equal(r.uriText, 'sip:example.com');
    assert.equal(formatNameAddr({ uri: r.to.uri, params: {} }), '<sip:alice@example.com>');
    assert.equal(formatNameAddr({ uri: r.from.uri, params: {} }), '<sip:alice@example.com>');
    assert.equal(r.callId, reg.callId);
    assert.equal(r.fromTag, requests[0]!.fromTag);
  }
  assert.deepEqual(requests.map((r) => r.cseq.seq), [1, 2, 3]);
  assert.equal(requests[0]!.expires, 60);
  assert.equal(requests[0]!.authorization.length, 0);
  const auth = requests[1]!.authorization[0]!;
  assert.equal(auth.params.algorithm, 'SHA-256', 'RFC 8760 §2.4: SHA-256 preferred over MD5');
  assert.equal(auth.params.opaque, 'op-1');
  assert.equal(auth.params.nc, '00000001');
  assert.equal(auth.params.uri, 'sip:example.com');
  const third = requests[2]!;
  assert.equal(third.expires, MIN_EXPIRES);
  assert.equal(third.authorization[0]!.params.nonce, auth.params.nonce, 'the nonce reused after the 423');
  assert.equal(third.authorization[0]!.params.nc, '00000002', 'with the next nonce count');
  const contact = third.contact;
  assert.ok(Array.isArray(contact) && contact.length === 2);
  assert.ok(contact.every((c) => c.params.expires === String(MIN_EXPIRES)));
  assert.equal(events.length, 1);
  assert.deepEqual([events[0]!.type, events[0]!.type === 'registered' && events[0]!.refresh], ['registered', false]);

  // Refresh: due at 120 - 32 = 88 s, not before. The nonce (60 s) has expired by then.
  clock.advance(87_000);
  assert.equal(seen.length, 3, 'no refresh before it is due');
  const refreshed = nextEvent(reg);
  clock.advance(1_000);
  const event = await refreshed;
  assert.equal(event.type, 'registered');
  assert.equal(event.type === 'registered' && event.refresh, true);
  assert.deepEqual(seen.slice(3).map((s) => s.status), [401, 200], 'stale nonce: one retry, no giving up');
  const [staleTry, retry] = seen.slice(3).map((s) => s.request);
  assert.equal(staleTry!.authorization[0]!.params.nc, '00000003');
  assert.notEqual(retry!.authorization[0]!.params.nonce, staleTry!.authorization[0]!.params.nonce);
  assert.equal(retry!.authorization[0]!.params.nc, '00000001');
  assert.deepEqual(seen.slice(3).map((s) => s.request.cseq.seq), [4, 5]);
  assert.ok(seen.slice(3).every((s) => s.request.callId === reg.callId && s.request.expires === MIN_EXPIRES));

  // Unregister: Expires 0 on each contact, the refresh timer stopped.
  const before = seen.length;
  const gone = await reg.unregister();
  assert.equal(gone.ok, true, gone.reason);
  assert.equal(reg.state, 'unregistered');
  assert.equal(reg.expires, 0);
  assert.equal(bindings.size, 0);
  assert.equal(gone.bindings.length, 0);
  const last = seen[seen.length - 1]!.request;
  assert.equal(last.expires, 0);
  assert.ok(Array.isArray(last.contact) && last.contact.every((c) => c.params.expires === '0'));
  assert.equal(seen.length - before, 1, 'the nonce was still fresh: no challenge');
  assert.equal(clock.pending, 0, 'no refresh pending after unregister');
  assert.equal(events[events.length - 1]!.type, 'unregistered');
});

test('a wrong password gives up after one retry', async (t) => {
  const { a, b } = await pair(t);
  const clock = new FakeClock();
  const { seen, bindings } = registrar(b, clock);
  const reg = new Registration(a.endpoint, {
    aor: 'sip:alice@example.com', expires: 300, clock,
    credentials: { username: 'alice', password: 'looking-glass' }, target: b.target('UDP'),
  });
  t.after(() => reg.close());
  const failed = nextEvent(reg);
  const outcome = await reg.register();
  assert.equal(outcome.ok, false);
  assert.equal(outcome.status, 401);
  assert.match(outcome.reason ?? '', /authentication failed/);
  assert.equal(reg.state, 'failed');
  assert.equal((await failed).type, 'failed');
  assert.deepEqual(seen.map((s) => s.status), [401, 401]);
  assert.equal(seen[1]!.request.authorization.length, 1);
  assert.equal(bindings.size, 0);
  assert.equal(clock.pending, 0, 'no refresh scheduled');
  // The default contact is the endpoint's own listener.
  const contact = seen[0]!.request.contact;
  assert.ok(Array.isArray(contact));
  assert.equal(formatNameAddr({ uri: contact[0]!.uri, params: {} }), `<sip:alice@127.0.0.1:${a.endpoint.listeners[0]!.port}>`);
});

test('without credentials a challenge is a failure; close() stops the refresh', async (t) => {
  const { a, b } = await pair(t);
  const clock = new FakeClock();
  const { seen } = registrar(b, clock);
  const bare = new Registration(a.endpoint, { aor: 'sip:alice@example.com', clock, target: b.target('UDP') });
  const outcome = await bare.register();
  assert.equal(outcome.ok, false);
  assert.match(outcome.reason ?? '', /no credentials/);
  assert.equal(seen.length, 1);

  const reg = new Registration(a.endpoint, {
    aor: 'sip:alice@example.com', expires: 600, clock, credentials: { username: 'alice', password: 'wonderland' }, target: b.target('UDP'),
  });
  assert.equal((await reg.register()).ok, true);
  assert.equal(clock.pending, 1);
  reg.close();
  assert.equal(reg.state, 'closed');
  assert.equal(clock.pending, 0);
  const count = seen.length;
  clock.advance(3_600_000);
  assert.equal(seen.length, count);
  assert.equal((await reg.register()).reason, 'the registration is closed');
});

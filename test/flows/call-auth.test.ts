/**
 * Digest for a call's requests (RFC 3261 §22.2, RFC 7616, RFC 8760): Alice (a UserAgent with
 * credentials) calls a UAS written here on a SipEndpoint that challenges every request without
 * good credentials: the INVITE with 407 (MD5 and SHA-256 offered side by side), the re-INVITE
 * and the BYE with 401. Each request goes again once, with a higher CSeq (in the dialog, the
 * dialog's next one), and succeeds. With a wrong password the call ends with the 407.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RealClock } from '../../src/core/clock.js';
import { newTag } from '../../src/core/ids.js';
import { createResponse, formatAuth, type AuthValue, type SipRequest } from '../../src/message/index.js';
import { createChallenge, NonceIssuer, verifyCredentials } from '../../src/auth/digest.js';
import { OfferAnswer } from '../../src/sdp/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import { UserAgent } from '../../src/ua/index.js';
import { assertSocketsBack, openSockets, startEndpoint, type TestEndpoint } from '../helpers/endpoints.js';

const PROXY_REALM = 'proxy.example.com';
const REALM = 'bob.example.com';
const PASSWORD = 'wonderland';

interface Seen {
  method: string;
  seq: number;
  /** The response status; 0 for an ACK. */
  status: number;
  credentials: AuthValue | undefined;
}

/**
 * B as a UAS for sip:bob@bob.example.com: an INVITE outside a dialog needs Proxy-Authorization
 * (realm proxy.example.com, 407), every other request Authorization (realm bob.example.com, 401).
 */
function challengingUas(b: TestEndpoint): Seen[] {
  const nonces = new NonceIssuer({ clock: new RealClock() });
  const seen: Seen[] = [];
  const toTag = newTag();
  const port = b.endpoint.listeners[0]!.port;
  const offerAnswer = new OfferAnswer({ address: '127.0.0.1', media: [{ type: 'audio', port: 4000 }] });
  b.endpoint.onRequest((req: SipRequest, tx) => {
    const proxy = req.method === 'INVITE' && req.toTag === undefined;
    const realm = proxy ? PROXY_REALM : REALM;
    const credentials = (proxy ? req.proxyAuthorization : req.authorization).find((c) => c.params.realm === realm);
    if (tx === undefined) {
      seen.push({ method: req.method, seq: req.cseq.seq, status: 0, credentials });
      return;
    }
    const answer = (status: number, options: { headers?: [string, string][]; body?: string } = {}): void => {
      seen.push({ method: req.method, seq: req.cseq.seq, status, credentials });
      tx.respond(createResponse(req, status, {
        toTag,
        headers: options.headers ?? [],
        ...(options.body === undefined ? {} : { body: options.body, contentType: 'application/sdp' }),
      }));
    };
    const verdict = credentials === undefined ? undefined : verifyCredentials(credentials, {
      method: req.method, uri: req.uriText, realm, password: PASSWORD, nonces, nonceBind: realm,
    });
    if (verdict === undefined || !verdict.ok) {
      const nonce = nonces.issue(realm);
      const header = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
      const stale = verdict?.stale === true;
      answer(proxy ? 407 : 401, {
        headers: (['MD5', 'SHA-256'] as const).map((algorithm) => [header, formatAuth(createChallenge({ realm, nonce, algorithm, stale }), 'challenge')]),
      });
      return;
    }
    switch (req.method) {
      case 'INVITE':
        offerAnswer.setRemoteOffer(req.bodyText);
        answer(200, { headers: [['Contact', `<sip:bob@127.0.0.1:${port}>`]], body: offerAnswer.createAnswer() });
        return;
      case 'BYE':
        answer(200);
        return;
      default:
        return false;
    }
  });
  return seen;
}

async function setup(t: TestContext, password: string): Promise<{ alice: UserAgent; seen: Seen[] }> {
  const sockets = openSockets();
  const b = await startEndpoint({ protocols: ['UDP'] });
  const seen = challengingUas(b);
  const alice = await UserAgent.create({
    uri: 'sip:alice@127.0.0.1',
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({ 'bob.example.com': [b.target('UDP')] }),
    credentials: { username: 'alice', password },
  });
  t.after(async () => {
    await alice.close();
    await b.close();
    assert.equal(alice.endpoint.transactions.size, 0, 'transactions left');
    await assertSocketsBack(sockets);
  });
  return { alice, seen };
}

test('INVITE (407), re-INVITE and BYE (401) are each sent again once with credentials, CSeq going up', async (t) => {
  const { alice, seen } = await setup(t, PASSWORD);
  const call = alice.call('sip:bob@bob.example.com');
  assert.deepEqual(await call.established, { ok: true });
  assert.equal(call.state, 'answered');
  assert.deepEqual(await call.hold(), { ok: true });
  assert.equal(call.localHold, true);
  assert.deepEqual(await call.hangup(), { ok: true });
  assert.equal(call.endReason?.cause, 'local-bye');

  const ladder = seen.map((s) => `${s.method} ${s.status}`);
  assert.deepEqual(ladder, [
    'INVITE 407', 'INVITE 200', 'ACK 0',
    'INVITE 401', 'INVITE 200', 'ACK 0',
    'BYE 401', 'BYE 200',
  ]);
  // §22.2: each retry has CSeq+1; in the dialog the numbers go on from there.
  const requests = seen.filter((s) => s.method !== 'ACK');
  const first = requests[0]!.seq;
  assert.deepEqual(requests.map((s) => s.seq - first), [0, 1, 2, 3, 4, 5]);
  // The ACK of each 2xx has its INVITE's CSeq and credentials (§13.2.2.4).
  const acks = seen.filter((s) => s.method === 'ACK');
  assert.deepEqual(acks.map((s) => s.seq - first), [1, 3]);
  assert.ok(acks[1]!.credentials !== undefined, 'the re-INVITE ACK carries its Authorization');
  // No credentials before a challenge; the retries answer with SHA-256, chosen over MD5 (RFC 8760 §2.4).
  for (const s of requests.filter((_, i) => i % 2 === 0)) assert.equal(s.credentials, undefined);
  for (const s of requests.filter((_, i) => i % 2 === 1)) {
    assert.equal(s.credentials?.params.algorithm, 'SHA-256');
    assert.equal(s.credentials?.params.qop, 'auth');
    assert.equal(s.credentials?.params.nc, '00000001');
  }
  assert.equal(requests[1]!.credentials?.params.realm, PROXY_REALM);
  assert.equal(requests[3]!.credentials?.params.realm, REALM);
});

test('a wrong password: the INVITE is sent again once, and the call ends with the 407', async (t) => {
  const { alice, seen } = await setup(t, 'not the password');
  const call = alice.call('sip:bob@bob.example.com');
  const outcome = await call.established;
  assert.equal(outcome.ok, false);
  assert.equal(outcome.ok === false ? outcome.status : 0, 407);
  assert.equal(call.state, 'ended');
  assert.equal(call.endReason?.cause, 'rejected');
  assert.equal(call.endReason?.status, 407);
  assert.deepEqual(seen.map((s) => `${s.method} ${s.status}`), ['INVITE 407', 'INVITE 407']);
  assert.equal(seen[1]!.seq, seen[0]!.seq + 1);
  assert.equal(alice.calls.length, 0);
});

test('without credentials a challenge ends the call with it', async (t) => {
  const sockets = openSockets();
  const b = await startEndpoint({ protocols: ['UDP'] });
  const seen = challengingUas(b);
  const alice = await UserAgent.create({
    uri: 'sip:alice@127.0.0.1',
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({ 'bob.example.com': [b.target('UDP')] }),
  });
  t.after(async () => {
    await alice.close();
    await b.close();
    await assertSocketsBack(sockets);
  });
  const call = alice.call('sip:bob@bob.example.com');
  const outcome = await call.established;
  assert.deepEqual(outcome.ok ? 0 : outcome.status, 407);
  assert.deepEqual(seen.map((s) => `${s.method} ${s.status}`), ['INVITE 407']);
});

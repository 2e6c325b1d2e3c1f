/**
 * THE SEED's topology (test/fixtures/seed): two SipServers, ss1 for atlanta.example.com and ss2 for
 * biloxi.example.com, over TLS only, with certificates made at test time and checked by name
 * (RFC 5922). Alice registers at ss1 and Bob at ss2; Alice calls `sips:bob@biloxi.example.com`:
 * alice -> ss1 -> ss2 -> bob (over Bob's registration flow, RFC 5626), and back. Each message's
 * Via, Route and Record-Route is checked where Alice and Bob receive it (RFC 3261 §16.6, §16.7,
 * §12.1).
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, type SipRequest, type SipResponse } from '../../src/message/index.js';
import { SipServer } from '../../src/proxy/index.js';
import { MemoryBindingStore, Registrar } from '../../src/registrar/index.js';
import { PCMU } from '../../src/sdp/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import type { Target } from '../../src/transport/index.js';
import { Registration } from '../../src/ua/registration.js';
import { UserAgent } from '../../src/ua/index.js';
import { assertReleased, assertSocketsBack, MessageCapture, openSockets, TrackingClock } from '../helpers/endpoints.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed';
const NAMES = ['atlanta.example.com', 'biloxi.example.com', 'client.atlanta.example.com', 'client.biloxi.example.com'];
let pki: NamedPki | undefined;
before(() => {
  if (skip === false) pki = makeNamedPki(NAMES);
});
after(() => pki?.cleanup());

const tls = (port: number, serverName?: string): Target => ({ protocol: 'TLS', address: '127.0.0.1', port, ...(serverName === undefined ? {} : { serverName }) });

async function proxyFor(t: TestContext, domain: string, resolver: StaticResolver): Promise<SipServer> {
  const store = new MemoryBindingStore();
  const clock = new TrackingClock();
  let server: SipServer | undefined;
  const registrar = new Registrar({ store, clock, isLocalDomain: (h) => h === domain, pathFor: (s) => server?.registrarPathFor(s) });
  server = await SipServer.create({
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, viaHost: domain, tls: { cert: pki!.cert, key: pki!.key } }],
    tls: { ca: pki!.ca },
    domains: [domain],
    location: store,
    registrar,
    resolver,
    clock,
  });
  const s = server;
  t.after(async () => {
    await s.close();
    assert.equal(s.transactions.size, 0);
    assert.equal(clock.pending, 0, `${domain}: timers left`);
  });
  return s;
}

async function phone(t: TestContext, user: string, domain: string, resolver: StaticResolver): Promise<UserAgent> {
  const clock = new TrackingClock();
  const ua = await UserAgent.create({
    uri: `sips:${user}@${domain}`,
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, viaHost: `client.${domain}`, tls: { cert: pki!.cert, key: pki!.key } }],
    tls: { ca: pki!.ca },
    contact: `<sips:${user}@client.${domain}>`,
    resolver,
    media: { address: `client.${domain}`, port: 49170, codecs: [PCMU] },
    clock,
  });
  const reg = new Registration(ua.endpoint, { aor: `sips:${user}@${domain}`, contacts: [`<sips:${user}@client.${domain}>`], expires: 300, clock });
  t.after(async () => {
    reg.close();
    await ua.close();
    assertReleased(ua.endpoint, clock);
  });
  const outcome = await reg.register();
  assert.equal(outcome.ok, true, `${user} registers at ${domain}: ${outcome.reason ?? ''}`);
  return ua;
}

test('THE SEED through two proxies over TLS: alice -> ss1 (atlanta) -> ss2 (biloxi) -> bob, Via / Route / Record-Route at each end (RFC 3261 §16)', { skip }, async (t) => {
  const sockets = openSockets();
  const r1 = new StaticResolver({});
  const r2 = new StaticResolver({});
  const ss1 = await proxyFor(t, 'atlanta.example.com', r1);
  const ss2 = await proxyFor(t, 'biloxi.example.com', r2);
  const p1 = ss1.listeners[0]!.port;
  const p2 = ss2.listeners[0]!.port;
  r1.set('biloxi.example.com', [tls(p2)]);
  r2.set('atlanta.example.com', [tls(p1)]);
  // Alice's UA sends everything to ss1 (her outbound proxy), Bob's to ss2.
  const aliceResolver = new StaticResolver({ 'atlanta.example.com': [tls(p1)], 'biloxi.example.com': [tls(p1, 'atlanta.example.com')] });
  const bobResolver = new StaticResolver({ 'biloxi.example.com': [tls(p2)], 'atlanta.example.com': [tls(p2, 'biloxi.example.com')] });
  const alice = await phone(t, 'alice', 'atlanta.example.com', aliceResolver);
  const bob = await phone(t, 'bob', 'biloxi.example.com', bobResolver);
  r1.set('client.atlanta.example.com', [tls(alice.endpoint.listeners[0]!.port)]);
  r2.set('client.biloxi.example.com', [tls(bob.endpoint.listeners[0]!.port)]);
  t.after(() => assertSocketsBack(sockets));
  const capture = new MessageCapture();
  t.after(() => capture.stop());

  const incoming = bob.next('incoming');
  const a = alice.call('sips:bob@biloxi.example.com');
  const b = await incoming;
  await Promise.all([a.established, b.answer()]);
  const bEnded = b.ended;
  assert.deepEqual(await a.hangup(), { ok: true });
  await bEnded;

  const callId = a.id;
  const atBob = received(capture, callId, 'bob');
  const atAlice = received(capture, callId, 'alice');
  const label = (m: SipRequest | SipResponse) => (m.isRequest ? m.method : String(m.status));
  assert.deepEqual(atBob.map(label), ['INVITE', 'ACK', 'BYE']);
  assert.deepEqual(atAlice.map(label).filter((l) => l !== '100'), ['180', '200', '200']);
  // ss2 delivers over Bob's registration flow, so its Record-Route is doubled (RFC 5658) and the
  // entry facing Bob carries the flow token (RFC 5626 §5.3); ss1 needs one entry (TLS both ways).
  const checkRR = (values: string[], what: string) => {
    assert.equal(values.length, 3, `${what}: three Record-Route entries`);
    assert.match(values[0]!, new RegExp(`^<sips:[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+@biloxi\\.example\\.com:${p2};lr>$`), what);
    assert.deepEqual(values.slice(1), [`<sips:biloxi.example.com:${p2};lr>`, `<sips:atlanta.example.com:${p1};lr>`], what);
  };

  const invite = atBob[0] as SipRequest;
  assert.deepEqual(invite.via.map((v) => `${v.transport} ${v.host}:${v.port ?? ''}`), [`TLS biloxi.example.com:${p2}`, `TLS atlanta.example.com:${p1}`, 'TLS client.atlanta.example.com:' + alice.endpoint.listeners[0]!.port]);
  checkRR(invite.getAll('record-route'), 'INVITE at Bob');
  assert.equal(invite.has('route'), false);
  assert.equal(invite.maxForwards, 68);
  assert.equal(invite.uriText, 'sips:bob@client.biloxi.example.com');
  for (const m of atBob.slice(1) as SipRequest[]) {
    assert.equal(m.via.length, 3, `${m.method} at Bob passed both proxies`);
    assert.equal(m.via[0]!.host, 'biloxi.example.com');
    assert.equal(m.via[1]!.host, 'atlanta.example.com');
    assert.equal(m.has('route'), false, `${m.method}: both proxies popped their Route`);
    assert.equal(m.has('record-route'), false);
  }
  for (const m of atAlice as SipResponse[]) {
    assert.equal(m.via.length, 1, `${m.status} at Alice carries only her Via`);
    assert.equal(m.via[0]!.host, 'client.atlanta.example.com');
    if (m.cseq.method === 'INVITE' && m.status > 100) checkRR(m.getAll('record-route'), `${m.status} at Alice`);
  }
});

/** The call's messages received by `who`'s UA (its listener or its own connections), from the capture's text. */
function received(capture: MessageCapture, callId: string, who: 'alice' | 'bob'): Array<SipRequest | SipResponse> {
  const host = who === 'alice' ? 'client.atlanta.example.com' : 'client.biloxi.example.com';
  return capture.messages
    .filter((m) => m.direction === 'in' && m.callId === callId)
    .map((m) => parseMessage(Buffer.from(m.text)) as SipRequest | SipResponse)
    .filter((m) => {
      // A response is Alice's when its only Via is hers; a request is Bob's when it is addressed to him.
      if (!m.isRequest) return m.via.length === 1 && m.via[0]!.host === host;
      return who === 'bob' ? m.via.length === 3 && m.via[2]!.host === 'client.atlanta.example.com' : m.via.length === 3 && m.via[2]!.host === 'client.biloxi.example.com';
    });
}

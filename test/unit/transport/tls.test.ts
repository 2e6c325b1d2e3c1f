import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { SipError } from '../../../src/core/errors.js';
import { createResponse } from '../../../src/message/build.js';
import type { Target } from '../../../src/transport/types.js';
import { makeTestPki, opensslVersion, type TestPki } from '../../helpers/certs.js';
import { listenerOf, MemoryLogger, optionsFor, startLayer, targetOf } from './support.js';

const skip = opensslVersion() === undefined ? 'the openssl CLI is not installed' : false;
let pki: TestPki;

before(() => {
  if (skip === false) pki = makeTestPki();
});
after(() => pki?.cleanup());

/** B: a TLS listener with the given certificate. A: trusts the test CA. */
async function pair(serverCert: 'server' | 'wildcard' | 'untrusted' = 'server', aOptions: { tlsInsecure?: boolean; logger?: MemoryLogger } = {}) {
  const pairOf = pki[serverCert];
  const b = await startLayer([{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: pairOf.cert, key: pairOf.key } }]);
  const a = await startLayer([], { tlsClient: { ca: pki.ca }, ...aOptions });
  return { a, b, close: () => Promise.all([a.layer.close(), b.layer.close()]) };
}

function isTransportError(e: unknown): boolean {
  return e instanceof SipError && e.code === 'ERR_TRANSPORT';
}

test('TLS round trip with the peer verified for its SIP domain (RFC 5922 §7)', { skip }, async (t) => {
  const { a, b, close } = await pair();
  t.after(close);
  const target = targetOf(b.layer, 'TLS', 4, 'ss1.example.com');
  await a.layer.sendRequest(optionsFor(a.layer, target, { uri: 'sips:bob@ss1.example.com' }), target);
  const got = await b.inbox.nextRequest();
  assert.equal(got.source.protocol, 'TLS');
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  assert.equal((await a.inbox.nextResponse()).message.status, 200);
  assert.equal(a.layer.connections.size, 1);
});

test('a target reached by IP literal is checked against the certificate\'s IP address entries', { skip }, async (t) => {
  const { a, b, close } = await pair();
  t.after(close);
  const target = targetOf(b.layer, 'TLS');
  await a.layer.sendRequest(optionsFor(a.layer, target), target);
  await b.inbox.nextRequest();
});

test('verification fails for a name the certificate does not carry (RFC 5922 §7.2)', { skip }, async (t) => {
  const { a, b, close } = await pair();
  t.after(close);
  const target = targetOf(b.layer, 'TLS', 4, 'biloxi.example.com');
  await assert.rejects(a.layer.sendRequest(optionsFor(a.layer, target), target), (e: unknown) =>
    isTransportError(e) && /does not identify SIP domain biloxi\.example\.com/.test(String((e as SipError).message)));
  assert.equal(a.layer.connections.size, 0);
});

test('verification fails for a certificate from an untrusted CA', { skip }, async (t) => {
  const { a, b, close } = await pair('untrusted');
  t.after(close);
  const target = targetOf(b.layer, 'TLS', 4, 'ss1.example.com');
  await assert.rejects(a.layer.sendRequest(optionsFor(a.layer, target), target), isTransportError);
});

test('a wildcard dNSName does not match a SIP domain (RFC 5922 §7.2)', { skip }, async (t) => {
  const { a, b, close } = await pair('wildcard');
  t.after(close);
  const target = targetOf(b.layer, 'TLS', 4, 'ss1.example.com');
  await assert.rejects(a.layer.sendRequest(optionsFor(a.layer, target), target), isTransportError);
});

test('tlsInsecure connects to an unverifiable peer and warns', { skip }, async (t) => {
  const logger = new MemoryLogger();
  const { a, b, close } = await pair('untrusted', { tlsInsecure: true, logger });
  t.after(close);
  assert.ok(logger.has('warn', /tlsInsecure/));
  const target = targetOf(b.layer, 'TLS', 4, 'anything.example.net');
  await a.layer.sendRequest(optionsFor(a.layer, target), target);
  await b.inbox.nextRequest();
});

test('a sips: request never leaves over a non-TLS transport (RFC 3261 §26.2.2)', { skip }, async (t) => {
  const a = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }, { protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => a.layer.close());
  for (const protocol of ['UDP', 'TCP', 'WS'] as const) {
    const target: Target = { protocol, address: '127.0.0.1', port: listenerOf(a.layer, protocol === 'WS' ? 'TCP' : protocol).port };
    await assert.rejects(a.layer.sendRequest(optionsFor(a.layer, target, { uri: 'sips:bob@biloxi.example.com' }), target), /sips/);
  }
  assert.equal(a.layer.connections.size, 0);
});

test('certificate and key are read from files; TLS works over IPv6 loopback', { skip }, async (t) => {
  const b = await startLayer([{ protocol: 'TLS', host: '::1', port: 0, tls: { cert: pki.server.certFile, key: pki.server.keyFile } }]);
  const a = await startLayer([], { tlsClient: { ca: pki.caFile } });
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const target = targetOf(b.layer, 'TLS', 6, 'atlanta.example.com');
  await a.layer.sendRequest(optionsFor(a.layer, target), target);
  assert.equal((await b.inbox.nextRequest()).source.remoteAddress, '::1');
});

test('SNI carries the server name; a verified connection is reused only for names its certificate holds (RFC 5922 §4)', { skip }, async (t) => {
  const names: string[] = [];
  const server = createTlsServer({
    cert: pki.server.cert,
    key: pki.server.key,
    // Called with the SNI name during every handshake, including ones the client then aborts.
    SNICallback: (name, cb) => {
      names.push(name);
      cb(null);
    },
  }, (s: TLSSocket) => s.on('error', () => undefined));
  server.on('tlsClientError', () => undefined);
  const sockets: TLSSocket[] = [];
  server.on('secureConnection', (s: TLSSocket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = await startLayer([], { tlsClient: { ca: pki.ca } });
  t.after(async () => {
    await a.layer.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  const port = (server.address() as { port: number }).port;
  const to = (serverName: string): Target => ({ protocol: 'TLS', address: '127.0.0.1', port, serverName });
  await a.layer.sendRequest(optionsFor(a.layer, to('ss1.example.com')), to('ss1.example.com'));
  await a.layer.sendRequest(optionsFor(a.layer, to('atlanta.example.com')), to('atlanta.example.com'));
  assert.deepEqual(names, ['ss1.example.com']);
  assert.equal(a.layer.connections.size, 1);
  await assert.rejects(a.layer.sendRequest(optionsFor(a.layer, to('biloxi.example.com')), to('biloxi.example.com')), isTransportError);
  assert.deepEqual(names.length, 2, 'a new connection was tried for the other name');
});

test('over mutually authenticated TLS, an alias by name lets requests come back on the connection (RFC 5923 §5.3)', { skip }, async (t) => {
  const creds = { cert: pki.server.cert, key: pki.server.key, ca: pki.ca };
  const a = await startLayer([{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: creds, viaHost: 'atlanta.example.com' }]);
  const b = await startLayer([{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: creds }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const toB = targetOf(b.layer, 'TLS', 4, 'ss1.example.com');
  await a.layer.sendRequest(optionsFor(a.layer, toB, { alias: true }), toB);
  const first = await b.inbox.nextRequest();
  assert.equal(first.message.topVia!.host, 'atlanta.example.com');
  const toA: Target = { protocol: 'TLS', address: '127.0.0.1', port: listenerOf(a.layer, 'TLS').port, serverName: 'atlanta.example.com' };
  await b.layer.sendRequest(optionsFor(b.layer, toA), toA);
  const back = await a.inbox.nextRequest();
  assert.equal(back.source.connectionId, a.layer.connections.connections()[0]!.id);
  assert.equal(a.layer.connections.size, 1);
  assert.equal(b.layer.connections.size, 1);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { SipError } from '../../../src/core/errors.js';
import { createResponse } from '../../../src/message/build.js';
import { parseMessage } from '../../../src/message/parse-message.js';
import type { SipResponse } from '../../../src/message/message.js';
import { makeTestPki, opensslVersion, type TestPki } from '../../helpers/certs.js';
import { listenerOf, optionsFor, rawRequest, startLayer, targetOf, waitFor } from './support.js';

const noOpenssl = opensslVersion() === undefined ? 'the openssl CLI is not installed' : false;
let pki: TestPki | undefined;

before(() => {
  if (noOpenssl === false) pki = makeTestPki();
});
after(() => pki?.cleanup());

/** A bare `ws` client standing in for a browser: what it received, as text. */
async function browser(port: number, protocols: string[] = ['sip']): Promise<{ ws: WebSocket; received: string[]; close(): Promise<void> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, protocols);
  const received: string[] = [];
  ws.on('message', (d) => received.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    received,
    close: () => new Promise<void>((r) => {
      if (ws.readyState === ws.CLOSED) r();
      else {
        ws.once('close', () => r());
        ws.terminate();
      }
    }),
  };
}

test('WS round trip, one SIP message per WebSocket message, response on the same connection (RFC 7118 §5)', async (t) => {
  const a = await startLayer([{ protocol: 'WS', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'WS', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const target = targetOf(b.layer, 'WS');
  const req = optionsFor(a.layer, target);
  assert.equal(req.topVia!.transport, 'WS');
  await a.layer.sendRequest(req, target);
  const got = await b.inbox.nextRequest();
  assert.equal(got.source.protocol, 'WS');
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  assert.equal((await a.inbox.nextResponse()).message.status, 200);
  assert.equal(a.layer.connections.size, 1);
  assert.equal(b.layer.connections.size, 1);
});

test('a browser-like client: Via with a .invalid host, the response goes back over its WebSocket (RFC 7118 §5.2)', async (t) => {
  const b = await startLayer([{ protocol: 'WS', host: '127.0.0.1', port: 0 }]);
  const c = await browser(listenerOf(b.layer, 'WS').port);
  t.after(() => Promise.all([c.close(), b.layer.close()]));
  assert.equal(c.ws.protocol, 'sip');
  c.ws.send(rawRequest({ method: 'REGISTER', uri: 'sip:example.com', via: 'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKws;rport' }));
  const got = await b.inbox.nextRequest();
  assert.equal(got.message.topVia!.params.received, '127.0.0.1');
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  await waitFor(() => c.received.length === 1, 2000, 'response');
  assert.equal((parseMessage(c.received[0]!) as SipResponse).status, 200);
  // Once that WebSocket is gone, there is no way back to the client.
  await c.close();
  await waitFor(() => b.layer.connections.size === 0);
  await assert.rejects(b.layer.sendResponse(createResponse(got.message, 200), got.source), (e: unknown) => e instanceof SipError && e.code === 'ERR_TRANSPORT');
});

test('a WebSocket handshake without the sip subprotocol is refused (RFC 7118 §4)', async (t) => {
  const b = await startLayer([{ protocol: 'WS', host: '127.0.0.1', port: 0 }]);
  t.after(() => b.layer.close());
  const ws = new WebSocket(`ws://127.0.0.1:${listenerOf(b.layer, 'WS').port}/`, ['chat']);
  const status = await new Promise<number>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('opened')));
    ws.once('error', () => undefined);
  });
  ws.terminate();
  assert.equal(status, 400);
  assert.equal(b.layer.connections.size, 0);
});

test('CRLF keep-alives over WebSocket: a CRLF CRLF ping gets a CRLF pong (RFC 5626 §4.4.1)', async (t) => {
  const b = await startLayer([{ protocol: 'WS', host: '127.0.0.1', port: 0 }]);
  const c = await browser(listenerOf(b.layer, 'WS').port);
  t.after(() => Promise.all([c.close(), b.layer.close()]));
  c.ws.send('\r\n\r\n');
  await waitFor(() => c.received.length === 1, 2000, 'pong');
  assert.equal(c.received[0], '\r\n');
  assert.equal(b.inbox.arrivals.length, 0);
});

test('a malformed message over WebSocket is answered 400 and the connection stays open', async (t) => {
  const b = await startLayer([{ protocol: 'WS', host: '127.0.0.1', port: 0 }]);
  const c = await browser(listenerOf(b.layer, 'WS').port);
  t.after(() => Promise.all([c.close(), b.layer.close()]));
  c.ws.send(rawRequest({ via: 'SIP/2.0/WS x.invalid;branch=z9hG4bK1', extra: ['From: broken <'] }).replace(/From: <[^\r]*\r\n/, ''));
  await waitFor(() => c.received.length === 1, 2000, '400');
  assert.match(c.received[0]!, /^SIP\/2\.0 400 /);
  c.ws.send(rawRequest({ via: 'SIP/2.0/WS x.invalid;branch=z9hG4bK2' }));
  assert.equal((await b.inbox.nextRequest()).message.topVia!.params.branch, 'z9hG4bK2');
  assert.equal(c.ws.readyState, c.ws.OPEN);
});

test('WSS round trip with the server certificate verified (RFC 7118 §5, RFC 5922)', { skip: noOpenssl }, async (t) => {
  const b = await startLayer([{ protocol: 'WSS', host: '127.0.0.1', port: 0, tls: { cert: pki!.server.cert, key: pki!.server.key } }]);
  const a = await startLayer([], { tlsClient: { ca: pki!.ca } });
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const target = targetOf(b.layer, 'WSS', 4, 'ss1.example.com');
  await a.layer.sendRequest(optionsFor(a.layer, target, { uri: 'sips:bob@ss1.example.com' }), target);
  const got = await b.inbox.nextRequest();
  assert.equal(got.source.protocol, 'WSS');
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  assert.equal((await a.inbox.nextResponse()).message.status, 200);
  const wrong = targetOf(b.layer, 'WSS', 4, 'biloxi.example.com');
  await assert.rejects(a.layer.sendRequest(optionsFor(a.layer, wrong), wrong), (e: unknown) => e instanceof SipError && e.code === 'ERR_TRANSPORT');
});

test('WS over IPv6 loopback, and a WS and a TCP listener side by side', async (t) => {
  const b = await startLayer([{ protocol: 'WS', host: '::1', port: 0 }, { protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const a = await startLayer([]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const ws = targetOf(b.layer, 'WS', 6);
  await a.layer.sendRequest(optionsFor(a.layer, ws), ws);
  assert.equal((await b.inbox.nextRequest()).source.remoteAddress, '::1');
  const tcp = targetOf(b.layer, 'TCP');
  await a.layer.sendRequest(optionsFor(a.layer, tcp), tcp);
  assert.equal((await b.inbox.nextRequest()).source.protocol, 'TCP');
});

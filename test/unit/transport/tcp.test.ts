import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { FakeClock } from '../../../src/core/clock.js';
import { SipError } from '../../../src/core/errors.js';
import { createResponse } from '../../../src/message/build.js';
import { parseMessage } from '../../../src/message/parse-message.js';
import type { SipResponse } from '../../../src/message/message.js';
import { listenerOf, MemoryLogger, optionsFor, rawRequest, startLayer, targetOf, waitFor } from './support.js';

/** A raw TCP client: what it received so far, and whether the server closed it. */
async function rawClient(port: number, host = '127.0.0.1'): Promise<{ socket: Socket; data: () => string; closed: () => boolean; end(): Promise<void> }> {
  const socket = connect({ port, host });
  let received = '';
  let closed = false;
  socket.on('data', (d) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    data: () => received,
    closed: () => closed,
    end: () => new Promise<void>((r) => (closed ? r() : (socket.once('close', () => r()), socket.destroy()))),
  };
}

test('TCP round trip; the response goes back over the request\'s connection (RFC 3261 §18.2.2)', async (t) => {
  const a = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const target = targetOf(b.layer, 'TCP');
  await a.layer.sendRequest(optionsFor(a.layer, target), target);
  const got = await b.inbox.nextRequest();
  assert.equal(got.source.protocol, 'TCP');
  assert.ok(got.source.connectionId);
  assert.equal(got.message.topVia!.params.rport, String(got.source.remotePort));
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  const res = await a.inbox.nextResponse();
  assert.equal(res.message.status, 200);
  // One connection each side: the response did not open a second one.
  assert.equal(a.layer.connections.size, 1);
  assert.equal(b.layer.connections.size, 1);
  assert.equal(res.source.connectionId, a.layer.connections.connections()[0]!.id);
});

test('two requests to one target share one TCP connection', async (t) => {
  const a = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const target = targetOf(b.layer, 'TCP');
  // Sent together: the second send waits for the first one's connect instead of dialling again.
  await Promise.all([
    a.layer.sendRequest(optionsFor(a.layer, target), target),
    a.layer.sendRequest(optionsFor(a.layer, target), target),
  ]);
  const r1 = await b.inbox.nextRequest();
  const r2 = await b.inbox.nextRequest();
  assert.equal(r1.source.connectionId, r2.source.connectionId);
  assert.equal(a.layer.connections.size, 1);
  assert.equal(b.layer.connections.size, 1);
});

test('with its connection gone, a response opens a new one to received and the sent-by port (RFC 3261 §18.2.2)', async (t) => {
  const a = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const target = targetOf(b.layer, 'TCP');
  await a.layer.sendRequest(optionsFor(a.layer, target), target);
  const got = await b.inbox.nextRequest();
  b.layer.connections.get(got.source.connectionId!)!.destroy();
  await waitFor(() => a.layer.connections.size === 0 && b.layer.connections.size === 0, 2000, 'connection closed');
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  const res = await a.inbox.nextResponse();
  assert.equal(res.message.status, 200);
  assert.equal(res.source.localPort, listenerOf(a.layer, 'TCP').port);
});

test('a request back to a peer that connected with Via alias reuses its connection (RFC 5923 §5)', async (t) => {
  const a = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const toB = targetOf(b.layer, 'TCP');
  await a.layer.sendRequest(optionsFor(a.layer, toB, { alias: true }), toB);
  const first = await b.inbox.nextRequest();
  // B now sends a request to A's advertised sent-by (its listener): the aliased connection carries it.
  const toA = targetOf(a.layer, 'TCP');
  await b.layer.sendRequest(optionsFor(b.layer, toA), toA);
  const back = await a.inbox.nextRequest();
  assert.equal(back.source.connectionId, a.layer.connections.connections()[0]!.id);
  assert.equal(a.layer.connections.size, 1);
  assert.equal(b.layer.connections.size, 1);
  assert.equal(b.layer.connections.connections()[0]!.id, first.source.connectionId);
});

test('without alias, a request to the peer\'s listener opens a new connection; to its source port it reuses the inbound one', async (t) => {
  const a = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const toB = targetOf(b.layer, 'TCP');
  await a.layer.sendRequest(optionsFor(a.layer, toB), toB);
  const first = await b.inbox.nextRequest();
  const back = { protocol: 'TCP' as const, address: first.source.remoteAddress, port: first.source.remotePort };
  await b.layer.sendRequest(optionsFor(b.layer, back), back);
  assert.equal((await a.inbox.nextRequest()).source.connectionId, a.layer.connections.connections()[0]!.id);
  assert.equal(b.layer.connections.size, 1);
  const toA = targetOf(a.layer, 'TCP');
  await b.layer.sendRequest(optionsFor(b.layer, toA), toA);
  await a.inbox.nextRequest();
  assert.equal(b.layer.connections.size, 2);
});

test('sendRequest with a connectionId uses that connection (RFC 5626 flows)', async (t) => {
  const a = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const toB = targetOf(b.layer, 'TCP');
  await a.layer.sendRequest(optionsFor(a.layer, toB), toB);
  const first = await b.inbox.nextRequest();
  const unreachable = { protocol: 'TCP' as const, address: '127.0.0.1', port: 9 };
  await b.layer.sendRequest(optionsFor(b.layer, unreachable), unreachable, first.source.connectionId);
  await a.inbox.nextRequest();
  assert.equal(b.layer.connections.size, 1);
});

test('a CRLF CRLF ping is answered with a CRLF pong (RFC 5626 §4.4.1)', async (t) => {
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const c = await rawClient(listenerOf(b.layer, 'TCP').port);
  t.after(() => Promise.all([c.end(), b.layer.close()]));
  c.socket.write('\r\n\r\n');
  await waitFor(() => c.data() === '\r\n', 2000, 'pong');
  assert.equal(c.closed(), false);
});

test('a client flow sends a ping when idle, and the pong keeps it (RFC 5626 §4.4.1)', async (t) => {
  const clock = new FakeClock();
  const a = await startLayer([], { clock, limits: { keepAliveIntervalMs: 30_000, pongTimeoutMs: 10_000, idleTimeoutMs: 0 } });
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const toB = targetOf(b.layer, 'TCP');
  await a.layer.sendRequest(optionsFor(a.layer, toB), toB);
  await b.inbox.nextRequest();
  const flow = a.layer.connections.connections()[0]!;
  clock.advance(23_999);
  assert.equal(flow.pingSentAt, undefined, 'not before 80% of the interval');
  clock.advance(6_001);
  assert.notEqual(flow.pingSentAt, undefined);
  await waitFor(() => flow.pingSentAt === undefined, 2000, 'pong from the peer');
  clock.advance(10_000);
  assert.equal(flow.isOpen, true);
  // Inbound flows do not ping: B's side of the connection stays quiet.
  assert.equal(b.layer.connections.connections()[0]!.pingSentAt, undefined);
});

test('a ping not answered within pongTimeoutMs fails the flow (RFC 5626 §4.4.1)', async (t) => {
  const clock = new FakeClock();
  const a = await startLayer([], { clock, limits: { keepAliveIntervalMs: 30_000, pongTimeoutMs: 10_000, idleTimeoutMs: 0 } });
  // A server that takes bytes and never answers.
  const muteSockets: Socket[] = [];
  const mute = createServer((s) => {
    s.on('error', () => undefined);
    muteSockets.push(s);
  });
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
  t.after(async () => {
    await a.layer.close();
    for (const s of muteSockets) s.destroy();
    await new Promise((r) => mute.close(r));
  });
  const toMute = { protocol: 'TCP' as const, address: '127.0.0.1', port: (mute.address() as { port: number }).port };
  await a.layer.sendRequest(optionsFor(a.layer, toMute), toMute);
  const dead = a.layer.connections.find(toMute)!;
  clock.advance(30_000);
  const pingAt = dead.pingSentAt;
  assert.notEqual(pingAt, undefined);
  clock.advance(pingAt! + 9_999 - clock.now());
  assert.equal(dead.isOpen, true);
  clock.advance(1);
  await dead.closed;
  assert.equal(a.layer.connections.find(toMute), undefined);
  assert.equal(clock.pending, 0);
});

test('an idle connection is closed after idleTimeoutMs', async (t) => {
  const clock = new FakeClock();
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }], { clock, limits: { idleTimeoutMs: 5000 } });
  const c = await rawClient(listenerOf(b.layer, 'TCP').port);
  t.after(() => Promise.all([c.end(), b.layer.close()]));
  await waitFor(() => b.layer.connections.size === 1, 2000, 'accept');
  clock.advance(4000);
  c.socket.write('\r\n\r\n');
  await waitFor(() => c.data() === '\r\n', 2000, 'pong');
  clock.advance(4000);
  assert.equal(b.layer.connections.size, 1, 'traffic at 4 s moved the deadline');
  clock.advance(1000);
  await waitFor(() => c.closed(), 2000, 'close');
  assert.equal(b.layer.connections.size, 0);
  assert.equal(clock.pending, 0);
});

test('connections beyond the per-peer limit are refused', async (t) => {
  const logger = new MemoryLogger();
  const b = await startLayer([{ protocol: 'TCP', host: '::', port: 0 }], { logger, limits: { maxConnectionsPerPeer: 2 } });
  const port = listenerOf(b.layer, 'TCP', 6).port;
  const c1 = await rawClient(port);
  const c2 = await rawClient(port);
  const c3 = await rawClient(port);
  const v6 = await rawClient(port, '::1');
  t.after(() => Promise.all([c1.end(), c2.end(), c3.end(), v6.end(), b.layer.close()]));
  await waitFor(() => c3.closed(), 2000, 'third connection refused');
  assert.equal(c1.closed(), false);
  assert.equal(v6.closed(), false, 'another peer (::1) is not counted against 127.0.0.1');
  await waitFor(() => b.layer.connections.size === 3);
  assert.ok(logger.has('warn', /limit reached/));
});

test('connections beyond the total limit are refused, inbound and outbound', async (t) => {
  const a = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }], { limits: { maxConnections: 2 } });
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const port = listenerOf(a.layer, 'TCP').port;
  const c1 = await rawClient(port);
  const c2 = await rawClient(port);
  t.after(() => Promise.all([c1.end(), c2.end()]));
  await waitFor(() => a.layer.connections.size === 2);
  const c3 = await rawClient(port);
  await waitFor(() => c3.closed(), 2000, 'third refused');
  const toB = targetOf(b.layer, 'TCP');
  await assert.rejects(a.layer.sendRequest(optionsFor(a.layer, toB), toB), (e: unknown) => e instanceof SipError && e.code === 'ERR_TRANSPORT');
});

test('a TCP stream with garbage closes that connection only; others carry on (RFC 3261 §18.3)', async (t) => {
  const logger = new MemoryLogger();
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }], { logger });
  const port = listenerOf(b.layer, 'TCP').port;
  const bad = await rawClient(port);
  const good = await rawClient(port);
  t.after(() => Promise.all([bad.end(), good.end(), b.layer.close()]));
  bad.socket.write('GARBAGE\nMORE GARBAGE\n\n');
  await waitFor(() => bad.closed(), 2000, 'bad connection closed');
  good.socket.write(rawRequest({ via: 'SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKok' }));
  const got = await b.inbox.nextRequest();
  assert.equal(got.message.topVia!.params.branch, 'z9hG4bKok');
  assert.equal(good.closed(), false);
  assert.ok(logger.has('warn', /framing failed/));
});

test('a stream request without Content-Length is answered 400 with the reason, then its connection closed (RFC 3261 §18.3)', async (t) => {
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const c = await rawClient(listenerOf(b.layer, 'TCP').port);
  t.after(() => Promise.all([c.end(), b.layer.close()]));
  c.socket.write(rawRequest({ via: 'SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKnocl', noContentLength: true }));
  await waitFor(() => c.closed(), 2000, 'close');
  const res = parseMessage(Buffer.from(c.data(), 'latin1')) as SipResponse;
  assert.equal(res.status, 400);
  assert.match(res.reasonPhrase, /Content-Length/);
});

test('a framed but malformed request is answered 400 and the connection stays open', async (t) => {
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const c = await rawClient(listenerOf(b.layer, 'TCP').port);
  t.after(() => Promise.all([c.end(), b.layer.close()]));
  c.socket.write(rawRequest({ via: 'SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKa', extra: ['CSeq: x'] }).replace(/CSeq: 1 OPTIONS\r\n/, ''));
  await waitFor(() => c.data().includes('\r\n\r\n'), 2000, '400');
  assert.match(c.data(), /^SIP\/2\.0 400 /);
  c.socket.write(rawRequest({ via: 'SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKb' }));
  assert.equal((await b.inbox.nextRequest()).message.topVia!.params.branch, 'z9hG4bKb');
  assert.equal(c.closed(), false);
});

test('a sender that does not finish its message in time is dropped; others are not', async (t) => {
  const clock = new FakeClock();
  const logger = new MemoryLogger();
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }], { clock, logger, limits: { messageTimeoutMs: 2000 } });
  const port = listenerOf(b.layer, 'TCP').port;
  const slow = await rawClient(port);
  const other = await rawClient(port);
  t.after(() => Promise.all([slow.end(), other.end(), b.layer.close()]));
  const whole = rawRequest({ via: 'SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKslow' });
  slow.socket.write(whole.slice(0, 40));
  await waitFor(() => b.layer.connections.connections().some((c) => c.messageStartedAt !== undefined), 2000, 'message start');
  clock.advance(1999);
  assert.equal(slow.closed(), false);
  clock.advance(1);
  await waitFor(() => slow.closed(), 2000, 'slow sender closed');
  other.socket.write(rawRequest({ via: 'SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKquick' }));
  assert.equal((await b.inbox.nextRequest()).message.topVia!.params.branch, 'z9hG4bKquick');
  assert.ok(logger.has('warn', /slow sender/));
});

test('TCP over IPv6 loopback', async (t) => {
  const a = await startLayer([{ protocol: 'TCP', host: '::1', port: 0 }]);
  const b = await startLayer([{ protocol: 'TCP', host: '::1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const target = targetOf(b.layer, 'TCP', 6);
  await a.layer.sendRequest(optionsFor(a.layer, target), target);
  const got = await b.inbox.nextRequest();
  assert.equal(got.source.remoteAddress, '::1');
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  assert.equal((await a.inbox.nextResponse()).message.status, 200);
});

test('a failed connect rejects with ERR_TRANSPORT and leaves nothing behind', async (t) => {
  const a = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  t.after(() => a.layer.close());
  const free = createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
  const port = (free.address() as { port: number }).port;
  await new Promise((r) => free.close(r));
  const target = { protocol: 'TCP' as const, address: '127.0.0.1', port };
  await assert.rejects(a.layer.sendRequest(optionsFor(a.layer, target), target), (e: unknown) => e instanceof SipError && e.code === 'ERR_TRANSPORT');
  assert.equal(a.layer.connections.size, 0);
});

test('close() resolves with every socket closed, and later sends reject', async () => {
  const a = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }, { protocol: 'UDP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const target = targetOf(b.layer, 'TCP');
  await a.layer.sendRequest(optionsFor(a.layer, target), target);
  await b.inbox.nextRequest();
  await Promise.all([a.layer.close(), b.layer.close()]);
  assert.equal(a.layer.connections.size, 0);
  assert.equal(b.layer.connections.size, 0);
  await assert.rejects(a.layer.sendRequest(optionsFor(a.layer, target), target), /closed/);
});

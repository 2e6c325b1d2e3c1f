import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createResponse } from '../../../src/message/build.js';
import { parseMessage } from '../../../src/message/parse-message.js';
import type { SipResponse } from '../../../src/message/message.js';
import { freePort, listenerOf, MemoryLogger, optionsFor, rawRequest, startLayer, targetOf } from './support.js';

/** A plain UDP socket standing in for a peer, with a queue of what it receives. */
async function rawPeer(type: 'udp4' | 'udp6' = 'udp4'): Promise<{ socket: Socket; port: number; next(ms?: number): Promise<Buffer>; close(): Promise<void> }> {
  const socket = createSocket(type);
  const queue: Buffer[] = [];
  const waiters: Array<(b: Buffer) => void> = [];
  socket.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  await new Promise<void>((r) => socket.bind(0, type === 'udp6' ? '::1' : '127.0.0.1', () => r()));
  return {
    socket,
    port: socket.address().port,
    next: (ms = 2000) => {
      const q = queue.shift();
      if (q) return Promise.resolve(q);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no datagram')), ms);
        waiters.push((b) => {
          clearTimeout(t);
          resolve(b);
        });
      });
    },
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

function send(peer: Socket, text: string, port: number, host = '127.0.0.1'): void {
  peer.send(Buffer.from(text, 'latin1'), port, host);
}

test('UDP round trip: request in with received/rport stamped, response back to rport (RFC 3261 §18.2, RFC 3581 §4)', async (t) => {
  const a = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const req = optionsFor(a.layer, targetOf(b.layer, 'UDP'));
  await a.layer.sendRequest(req, targetOf(b.layer, 'UDP'));
  const got = await b.inbox.nextRequest();
  assert.equal(got.message.method, 'OPTIONS');
  assert.equal(got.source.protocol, 'UDP');
  assert.equal(got.source.remotePort, listenerOf(a.layer, 'UDP').port);
  const via = got.message.topVia!;
  // RFC 3581 §4: rport filled, and received added although it equals sent-by.
  assert.equal(via.params.rport, String(listenerOf(a.layer, 'UDP').port));
  assert.equal(via.params.received, '127.0.0.1');
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  const res = await a.inbox.nextResponse();
  assert.equal(res.message.status, 200);
  assert.equal(res.message.cseq.method, 'OPTIONS');
});

test('received is added for a sent-by name, and the response follows received:rport, not sent-by (RFC 3261 §18.2.1, RFC 3581 §4)', async (t) => {
  const b = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }]);
  const peer = await rawPeer();
  t.after(() => Promise.all([b.layer.close(), peer.close()]));
  send(peer.socket, rawRequest({ via: 'SIP/2.0/UDP client.atlanta.example.com:5999;branch=z9hG4bKname1;rport' }), listenerOf(b.layer, 'UDP').port);
  const got = await b.inbox.nextRequest();
  const via = got.message.topVia!;
  assert.equal(via.host, 'client.atlanta.example.com');
  assert.equal(via.params.received, '127.0.0.1');
  assert.equal(via.params.rport, String(peer.port));
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  const res = parseMessage(await peer.next()) as SipResponse;
  assert.equal(res.status, 200);
  assert.match(res.get('via')!, /received=127\.0\.0\.1/);
});

test('a Via whose sent-by is the source address and has no rport is left as it was (RFC 3261 §18.2.1)', async (t) => {
  const b = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }]);
  const peer = await rawPeer();
  t.after(() => Promise.all([b.layer.close(), peer.close()]));
  const via = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKsame`;
  send(peer.socket, rawRequest({ via }), listenerOf(b.layer, 'UDP').port);
  const got = await b.inbox.nextRequest();
  assert.equal(got.message.get('via'), via);
  await b.layer.sendResponse(createResponse(got.message, 486), got.source);
  assert.equal((parseMessage(await peer.next()) as SipResponse).status, 486);
});

test('UDP over IPv6 loopback: [::1] sent-by, rport and response (RFC 5118)', async (t) => {
  const b = await startLayer([{ protocol: 'UDP', host: '::1', port: 0 }]);
  const peer = await rawPeer('udp6');
  t.after(() => Promise.all([b.layer.close(), peer.close()]));
  send(peer.socket, rawRequest({ via: `SIP/2.0/UDP [::1]:${peer.port};branch=z9hG4bKv6;rport` }), listenerOf(b.layer, 'UDP', 6).port, '::1');
  const got = await b.inbox.nextRequest();
  assert.equal(got.source.remoteAddress, '::1');
  assert.equal(got.message.topVia!.params.received, '::1');
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  assert.equal((parseMessage(await peer.next()) as SipResponse).status, 200);
});

test('two layers talk over IPv6 UDP with Via from viaFor', async (t) => {
  const a = await startLayer([{ protocol: 'UDP', host: '::1', port: 0 }]);
  const b = await startLayer([{ protocol: 'UDP', host: '::1', port: 0 }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const target = targetOf(b.layer, 'UDP', 6);
  assert.equal(a.layer.viaFor(target).host, '[::1]');
  await a.layer.sendRequest(optionsFor(a.layer, target), target);
  const got = await b.inbox.nextRequest();
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  assert.equal((await a.inbox.nextResponse()).message.status, 200);
});

test('a malformed datagram request gets a 400 naming the fault, and the listener keeps working', async (t) => {
  const logger = new MemoryLogger();
  const b = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }], { logger });
  const peer = await rawPeer();
  t.after(() => Promise.all([b.layer.close(), peer.close()]));
  const port = listenerOf(b.layer, 'UDP').port;

  // A bad Via value: the parse is lazy, the transport's Via check finds it.
  send(peer.socket, rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx;;bad' }), port);
  const r1 = parseMessage(await peer.next(), { lazy: true }) as SipResponse;
  assert.equal(r1.status, 400);
  assert.match(r1.reasonPhrase, /Via/);

  // Content-Length larger than the datagram: parseMessage refuses it; the header section is salvaged.
  const long = rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKcl`, body: 'abc' }).replace('Content-Length: 3', 'Content-Length: 300');
  send(peer.socket, long, port);
  const r2 = parseMessage(await peer.next()) as SipResponse;
  assert.equal(r2.status, 400);
  assert.match(r2.reasonPhrase, /Content-Length/);

  // Plain garbage and a malformed ACK get nothing back; a good request after them is delivered
  // and answered, and that answer is the next thing the peer receives.
  b.inbox.onArrival = (a) => {
    if (a.message.isRequest) void b.layer.sendResponse(createResponse(a.message, 200), a.source);
  };
  send(peer.socket, '\x00\x01garbage\xff', port);
  send(peer.socket, rawRequest({ method: 'ACK', via: 'SIP/2.0/UDP ;;' }), port);
  send(peer.socket, rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKgood` }), port);
  const got = await b.inbox.nextRequest();
  assert.equal(got.message.topVia!.params.branch, 'z9hG4bKgood');
  const r3 = parseMessage(await peer.next()) as SipResponse;
  assert.equal(r3.status, 200);
  assert.equal(r3.topVia!.params.branch, 'z9hG4bKgood');
  assert.ok(logger.has('info', /unparseable message dropped/));
  assert.ok(logger.has('info', /no response possible/));
});

test('a request of another SIP version is answered 505 (RFC 3261 §21.5.6)', async (t) => {
  const b = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }]);
  const peer = await rawPeer();
  t.after(() => Promise.all([b.layer.close(), peer.close()]));
  send(peer.socket, rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK7` }).replace(' SIP/2.0\r\n', ' SIP/7.0\r\n'), listenerOf(b.layer, 'UDP').port);
  assert.equal((parseMessage(await peer.next()) as SipResponse).status, 505);
});

test('a handler that throws costs nothing but a log line', async (t) => {
  const logger = new MemoryLogger();
  const b = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }], { logger });
  const peer = await rawPeer();
  t.after(() => Promise.all([b.layer.close(), peer.close()]));
  let calls = 0;
  b.inbox.onArrival = () => {
    calls++;
    if (calls === 1) throw new Error('boom');
  };
  const port = listenerOf(b.layer, 'UDP').port;
  send(peer.socket, rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKt1` }), port);
  send(peer.socket, rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKt2` }), port);
  await b.inbox.next();
  await b.inbox.next();
  assert.equal(calls, 2);
  assert.ok(logger.has('error', /handler threw/));
});

test('a response whose top Via is not our sent-by is discarded (RFC 3261 §18.1.2)', async (t) => {
  const a = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }]);
  const peer = await rawPeer();
  t.after(() => Promise.all([a.layer.close(), peer.close()]));
  const port = listenerOf(a.layer, 'UDP').port;
  const response = (via: string): string =>
    `SIP/2.0 200 OK\r\nVia: ${via}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
  send(peer.socket, response('SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKother'), port);
  send(peer.socket, response(`SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKours`), port);
  const got = await a.inbox.nextResponse();
  assert.equal(got.message.topVia!.params.branch, 'z9hG4bKours');
  assert.equal(a.inbox.arrivals.length, 0);
});

test('a UDP request over 1300 bytes goes over TCP, its Via changed to TCP (RFC 3261 §18.1.1)', async (t) => {
  const port = await freePort();
  const a = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }, { protocol: 'TCP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port }, { protocol: 'TCP', host: '127.0.0.1', port }]);
  t.after(() => Promise.all([a.layer.close(), b.layer.close()]));
  const target = targetOf(b.layer, 'UDP');

  await a.layer.sendRequest(optionsFor(a.layer, target, { body: 'x'.repeat(100) }), target);
  const small = await b.inbox.nextRequest();
  assert.equal(small.source.protocol, 'UDP');

  const big = optionsFor(a.layer, target, { body: 'x'.repeat(1500) });
  const branch = big.topVia!.params.branch;
  await a.layer.sendRequest(big, target);
  const got = await b.inbox.nextRequest();
  assert.equal(got.source.protocol, 'TCP');
  assert.equal(got.message.topVia!.transport, 'TCP');
  assert.equal(got.message.topVia!.port, listenerOf(a.layer, 'TCP').port);
  assert.equal(got.message.topVia!.params.branch, branch);
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  assert.equal((await a.inbox.nextResponse()).source.protocol, 'TCP');
});

test('a large request stays on UDP when the target takes no TCP, or when the switch is off (RFC 3261 §18.1.1)', async (t) => {
  const a = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }]);
  const c = await startLayer([{ protocol: 'UDP', host: '127.0.0.1', port: 0 }], { limits: { udpMaxRequestSize: 0 } });
  t.after(() => Promise.all([a.layer.close(), b.layer.close(), c.layer.close()]));
  const target = targetOf(b.layer, 'UDP');
  await a.layer.sendRequest(optionsFor(a.layer, target, { body: 'y'.repeat(3000) }), target);
  const got = await b.inbox.nextRequest();
  assert.equal(got.source.protocol, 'UDP');
  assert.equal(got.message.topVia!.transport, 'UDP');
  assert.equal(got.message.body.length, 3000);
  await c.layer.sendRequest(optionsFor(c.layer, target, { body: 'z'.repeat(3000) }), target);
  assert.equal((await b.inbox.nextRequest()).source.protocol, 'UDP');
});

test('several UDP listeners at once, IPv4 and IPv6, each answering from itself (RFC 3581 §4)', async (t) => {
  const b = await startLayer([
    { protocol: 'UDP', host: '127.0.0.1', port: 0 },
    { protocol: 'UDP', host: '127.0.0.1', port: 0 },
    { protocol: 'UDP', host: '::1', port: 0 },
  ]);
  const peer = await rawPeer();
  t.after(() => Promise.all([b.layer.close(), peer.close()]));
  const second = b.layer.listeners[1]!;
  send(peer.socket, rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKm;rport` }), second.port);
  const got = await b.inbox.nextRequest();
  assert.equal(got.source.localPort, second.port);
  await b.layer.sendResponse(createResponse(got.message, 200), got.source);
  const rinfo = await new Promise<number>((resolve) => peer.socket.once('message', (_m, r) => resolve(r.port)));
  assert.equal(rinfo, second.port);
});

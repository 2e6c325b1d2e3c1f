/**
 * Large requests (RFC 3261 §18.1.1: over 1300 bytes they go over TCP, to the same port) and the
 * IPv6 loopback (RFC 5118 addresses in Via and Contact).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, createResponse, type SipRequest } from '../../src/message/index.js';
import type { Source } from '../../src/transport/types.js';
import { createDialogRequest } from '../../src/ua/dialog-request.js';
import { MessageCapture, startEndpoint, type TestEndpoint } from '../helpers/endpoints.js';

function message(bytes: number): SipRequest {
  return createRequest({
    method: 'MESSAGE', uri: 'sip:bob@biloxi.example.com', from: 'Alice <sip:alice@atlanta.example.com>', to: 'Bob <sip:bob@biloxi.example.com>',
    body: 'x'.repeat(bytes), contentType: 'text/plain',
  });
}

/** B answers MESSAGE 200 and records where each came from. */
function recordSources(b: TestEndpoint, into: Array<{ req: SipRequest; source: Source }>): void {
  b.endpoint.onRequest((req, tx, source) => {
    into.push({ req, source });
    tx?.respond(createResponse(req, 200));
  });
}

test('a request over 1300 bytes sent to a UDP target goes over TCP to the same port; a small one stays on UDP (RFC 3261 §18.1.1)', async (t) => {
  const b = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  const a = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const seen: Array<{ req: SipRequest; source: Source }> = [];
  recordSources(b, seen);
  const target = b.target('UDP');
  const large = await a.endpoint.request(message(2000), { target });
  assert.equal(large.status, 200);
  const small = await a.endpoint.request(message(200), { target });
  assert.equal(small.status, 200);
  assert.equal(seen.length, 2);
  assert.equal(seen[0]!.source.protocol, 'TCP');
  assert.equal(seen[0]!.req.topVia?.transport, 'TCP', 'the Via names the transport actually used');
  assert.equal(seen[0]!.req.body.length, 2000);
  assert.equal(seen[1]!.source.protocol, 'UDP');
  assert.equal(a.endpoint.transport.connections.size, 1);
});

test('a large request moved to TCP is not retransmitted: Timer E runs over unreliable transports only (RFC 3261 §17.1.2.2, §18.1.1)', async (t) => {
  const capture = new MessageCapture();
  const b = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  const a = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  t.after(async () => {
    capture.stop();
    await a.close();
    await b.close();
  });
  // B takes its time: over UDP, Timer E would resend the request at 500 and 1500 ms.
  b.endpoint.onRequest((req, tx) => {
    setTimeout(() => tx?.respond(createResponse(req, 200)), 1200);
  });
  const req = message(2000);
  assert.equal((await a.endpoint.request(req, { target: b.target('UDP') })).status, 200);
  const arrivals = capture.messages.filter((c) => c.direction === 'in' && c.callId === req.callId && c.label === 'MESSAGE');
  assert.deepEqual(arrivals.map((c) => c.protocol), ['TCP']);
  // Timer K is zero over TCP: the transaction is gone as soon as the response is in.
  assert.equal(a.endpoint.transactions.clientCount, 0);
});

test('a large request to a target that takes no TCP connection goes over UDP after all (RFC 3261 §18.1.1)', async (t) => {
  const b = await startEndpoint({ protocols: ['UDP'] });
  const a = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const seen: Array<{ req: SipRequest; source: Source }> = [];
  recordSources(b, seen);
  assert.equal((await a.endpoint.request(message(1800), { target: b.target('UDP') })).status, 200);
  assert.equal(seen[0]!.source.protocol, 'UDP');
});

test('a large INVITE with its 2xx, ACK and BYE over TCP: a 2xx over 1300 bytes comes back on the same connection (RFC 3261 §18.2.2)', async (t) => {
  const capture = new MessageCapture();
  const b = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  const a = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  t.after(async () => {
    capture.stop();
    await a.close();
    await b.close();
  });
  const bigSdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' + 'a=x-filler:0123456789abcdef\r\n'.repeat(60);
  b.endpoint.onRequest((req, tx) => {
    if (tx === undefined) return;
    tx.respond(createResponse(req, 200, req.method === 'INVITE' ? { body: bigSdp, contentType: 'application/sdp' } : {}));
  });
  const invite = createRequest({
    method: 'INVITE', uri: 'sip:bob@biloxi.example.com', from: '<sip:alice@atlanta.example.com>', to: '<sip:bob@biloxi.example.com>',
    contact: '<sip:alice@127.0.0.1>', body: bigSdp, contentType: 'application/sdp',
  });
  const res = await a.endpoint.request(invite, { target: b.target('UDP') });
  assert.equal(res.status, 200);
  assert.equal(res.bodyText, bigSdp);
  await a.endpoint.ack(res);
  assert.equal((await a.endpoint.request(createDialogRequest(invite, res, 'BYE'))).status, 200);
  const tcp = capture.messages.filter((c) => c.callId === invite.callId && c.direction === 'in');
  assert.deepEqual(tcp.map((c) => `${c.label}/${c.protocol}`), ['INVITE/TCP', '200/TCP', 'ACK/TCP', 'BYE/TCP', '200/TCP']);
  assert.equal(a.endpoint.transport.connections.size, 1);
});

test('a large INVITE moved to TCP and answered 486: the ACK goes over TCP too, where the INVITE went (RFC 3261 §17.1.1.3, §18.1.1)', async (t) => {
  const capture = new MessageCapture();
  const b = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  const a = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  t.after(async () => {
    capture.stop();
    await a.close();
    await b.close();
  });
  b.endpoint.onRequest((req, tx) => {
    tx?.respond(createResponse(req, 486));
  });
  const invite = createRequest({
    method: 'INVITE', uri: 'sip:bob@biloxi.example.com', from: '<sip:alice@atlanta.example.com>', to: '<sip:bob@biloxi.example.com>',
    contact: '<sip:alice@127.0.0.1>', body: 'v=0\r\n' + 'a=x-filler:0123456789abcdef\r\n'.repeat(60), contentType: 'application/sdp',
  });
  assert.equal((await a.endpoint.request(invite, { target: b.target('UDP') })).status, 486);
  await new Promise((r) => setTimeout(r, 50));
  const seen = capture.messages.filter((c) => c.callId === invite.callId && c.direction === 'in');
  assert.deepEqual(seen.map((c) => `${c.label}/${c.protocol}`), ['INVITE/TCP', '486/TCP', 'ACK/TCP']);
  // The ACK matched B's server transaction, which is done with it (Timer I is zero over TCP).
  assert.equal(b.endpoint.transactions.serverCount, 0);
});

for (const protocol of ['UDP', 'TCP'] as const) {
  test(`INVITE, 200, ACK, BYE between endpoints on the IPv6 loopback over ${protocol} (RFC 5118)`, async (t) => {
    const capture = new MessageCapture();
    const b = await startEndpoint({ protocols: ['UDP', 'TCP'], host: '::1' });
    const a = await startEndpoint({ protocols: ['UDP', 'TCP'], host: '::1' });
    t.after(async () => {
      capture.stop();
      await a.close();
      await b.close();
    });
    const seen: Array<{ req: SipRequest; source: Source }> = [];
    b.endpoint.onRequest((req, tx, source) => {
      seen.push({ req, source });
      tx?.respond(createResponse(req, 200));
    });
    const invite = createRequest({
      method: 'INVITE', uri: 'sip:bob@[::1]', from: '<sip:alice@[::1]>', to: '<sip:bob@[::1]>', contact: '<sip:alice@[::1]>',
    });
    const res = await a.endpoint.request(invite, { target: b.target(protocol, 6) });
    assert.equal(res.status, 200);
    const via = seen[0]!.req.topVia!;
    assert.equal(via.host, '[::1]');
    assert.equal(via.port, a.target(protocol, 6).port);
    assert.equal(seen[0]!.source.remoteAddress, '::1');
    // The 2xx's Contact is B's IPv6 listener, bracketed (RFC 3261 §19.1.1, RFC 5118 §4.1).
    const contact = res.get('contact') ?? '';
    assert.ok(contact.includes(`[::1]:${b.target(protocol, 6).port}`), contact);
    await a.endpoint.ack(res);
    assert.equal((await a.endpoint.request(createDialogRequest(invite, res, 'BYE'))).status, 200);
    assert.deepEqual(capture.ladder((c) => c.callId === invite.callId), ['INVITE', '200', 'ACK', 'BYE', '200']);
  });
}

/**
 * Two SipEndpoints on loopback, real sockets: request/response round trips over every transport,
 * the UA core's defaults (OPTIONS, 501, validation, CANCEL), and RFC 3263 failover.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, createResponse, type SipRequest } from '../../src/message/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import type { TransportProtocol } from '../../src/transport/types.js';
import { TransactionError } from '../../src/transaction/transaction-error.js';
import { SipError } from '../../src/core/errors.js';
import { createDialogRequest } from '../../src/ua/dialog-request.js';
import { assertSocketsBack, MessageCapture, openSockets, startEndpoint, type TestEndpoint } from '../helpers/endpoints.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';

const skipTls = haveOpenssl() ? false : 'the openssl CLI is not installed';
let pki: NamedPki | undefined;
before(() => {
  if (skipTls === false) pki = makeNamedPki(['biloxi.example.com']);
});
after(() => pki?.cleanup());

const SDP = 'v=0\r\no=bob 2890844527 2890844527 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

function options(uri = 'sip:bob@biloxi.example.com'): SipRequest {
  return createRequest({ method: 'OPTIONS', uri, from: 'Alice <sip:alice@atlanta.example.com>', to: 'Bob <sip:bob@biloxi.example.com>' });
}

function invite(uri = 'sip:bob@biloxi.example.com'): SipRequest {
  return createRequest({
    method: 'INVITE', uri, from: 'Alice <sip:alice@atlanta.example.com>', to: 'Bob <sip:bob@biloxi.example.com>',
    contact: '<sip:alice@127.0.0.1>', body: SDP.replace('bob', 'alice'), contentType: 'application/sdp',
  });
}

/** B as a small UAS: INVITE gets 180 then 200 with SDP; BYE 200; the rest goes to the defaults. */
function answerCalls(b: TestEndpoint, acks: SipRequest[] = []): void {
  b.endpoint.onRequest((req, tx) => {
    if (tx === undefined) {
      acks.push(req);
      return;
    }
    if (req.method === 'INVITE') {
      tx.respond(createResponse(req, 180));
      tx.respond(createResponse(req, 200, { body: SDP, contentType: 'application/sdp' }));
      return;
    }
    if (req.method === 'BYE') {
      tx.respond(createResponse(req, 200));
      return;
    }
    return false;
  });
}

async function pair(protocols: TransportProtocol[]): Promise<{ a: TestEndpoint; b: TestEndpoint; close: () => Promise<void> }> {
  const credentials = pki === undefined ? undefined : { cert: pki.cert, key: pki.key };
  const b = await startEndpoint({ protocols, credentials });
  const a = await startEndpoint({ protocols: ['UDP', 'TCP'], tls: pki === undefined ? undefined : { ca: pki.ca } });
  return { a, b, close: async () => { await a.close(); await b.close(); } };
}

for (const protocol of ['UDP', 'TCP', 'TLS', 'WS', 'WSS'] as const) {
  const secure = protocol === 'TLS' || protocol === 'WSS';
  test(`OPTIONS over ${protocol} is answered 200 with Allow, Accept and Supported (RFC 3261 §11.2)`, { skip: secure ? skipTls : false }, async (t) => {
    const sockets = openSockets();
    const { a, b, close } = await pair([protocol]);
    t.after(async () => {
      await close();
      await assertSocketsBack(sockets);
    });
    const res = await a.endpoint.request(options(), { target: b.target(protocol) });
    assert.equal(res.status, 200);
    assert.match(res.get('allow') ?? '', /INVITE, ACK, CANCEL, OPTIONS, BYE/);
    assert.match(res.get('accept') ?? '', /application\/sdp/);
    assert.ok(res.has('supported'));
    if (protocol !== 'UDP') {
      // The response came back over the connection the request went out on (§18.2.2).
      assert.equal(a.endpoint.transport.connections.size, 1);
      assert.equal(b.endpoint.transport.connections.size, 1);
    }
  });

  test(`INVITE, 180, 200, ACK, BYE, 200 over ${protocol} (RFC 3261 §13, §15)`, { skip: secure ? skipTls : false }, async (t) => {
    const capture = new MessageCapture();
    const { a, b, close } = await pair([protocol]);
    t.after(async () => {
      capture.stop();
      await close();
    });
    const acks: SipRequest[] = [];
    answerCalls(b, acks);
    const provisional: number[] = [];
    const inv = invite(secure ? 'sips:bob@biloxi.example.com' : 'sip:bob@biloxi.example.com');
    const target = b.target(protocol);
    const res = await a.endpoint.request(inv, { target, onProvisional: (r) => provisional.push(r.status) });
    assert.equal(res.status, 200);
    assert.deepEqual(provisional, [180]);
    assert.equal(res.bodyText, SDP);
    // §12.1.1: the endpoint gave the 2xx a Contact for the listener the INVITE came in on.
    assert.ok(res.has('contact'));
    await a.endpoint.ack(res);
    const bye = createDialogRequest(inv, res, 'BYE');
    assert.equal((await a.endpoint.request(bye)).status, 200);
    const callId = inv.callId;
    assert.deepEqual(capture.ladder((c) => c.callId === callId), ['INVITE', '180', '200', 'ACK', 'BYE', '200']);
    assert.equal(acks.length, 1);
    assert.equal(acks[0]!.cseq.seq, 1);
    // The ACK stopped B's 2xx retransmissions (§13.3.1.4).
    assert.equal(b.endpoint.unacknowledged, 0);
  });
}

test('a known method without a handler is answered 405 with Allow (RFC 3261 §8.2.1)', async (t) => {
  const { a, b, close } = await pair(['UDP']);
  t.after(close);
  const req = createRequest({ method: 'MESSAGE', uri: 'sip:bob@biloxi.example.com', from: '<sip:alice@atlanta.example.com>', to: '<sip:bob@biloxi.example.com>', body: 'hi', contentType: 'text/plain' });
  const res = await a.endpoint.request(req, { target: b.target('UDP') });
  assert.equal(res.status, 405);
  assert.ok(res.has('allow'));
});

test('an unknown method is answered 501 with Allow (RFC 3261 §21.5.2)', async (t) => {
  const { a, b, close } = await pair(['UDP']);
  t.after(close);
  const req = createRequest({ method: 'FROBNICATE', uri: 'sip:bob@biloxi.example.com', from: '<sip:alice@atlanta.example.com>', to: '<sip:bob@biloxi.example.com>' });
  const res = await a.endpoint.request(req, { target: b.target('UDP') });
  assert.equal(res.status, 501);
  assert.ok(res.has('allow'));
});

test('a request that fails validation gets the status it names and never reaches the handler (RFC 3261 §8.2)', async (t) => {
  const { a, b, close } = await pair(['TCP']);
  t.after(close);
  let seen = 0;
  b.endpoint.onRequest(() => {
    seen++;
  });
  const bad = options();
  bad.set('Require', 'foo-ext');
  const res = await a.endpoint.request(bad, { target: b.target('TCP') });
  assert.equal(res.status, 420);
  assert.equal(res.get('unsupported'), 'foo-ext');
  // Max-Forwards above 255 fails its (lazy) parse: a syntax error, 400 (RFC 4475 §3.1.2.4).
  const hops = options();
  hops.set('Max-Forwards', '300');
  const malformed = await a.endpoint.request(hops, { target: b.target('TCP') });
  assert.equal(malformed.status, 400);
  assert.match(malformed.reasonPhrase, /Max-Forwards/);
  // §8.2.2.1: a Request-URI scheme the UAS does not serve: 416.
  const urn = createRequest({ method: 'OPTIONS', uri: 'urn:service:sos', from: '<sip:alice@atlanta.example.com>', to: '<sip:bob@biloxi.example.com>' });
  assert.equal((await a.endpoint.request(urn, { target: b.target('TCP') })).status, 416);
  assert.equal(seen, 0);
});

test('a handler that throws gets its request answered 500', async (t) => {
  const { a, b, close } = await pair(['UDP']);
  t.after(close);
  b.endpoint.onRequest(() => {
    throw new Error('boom');
  });
  assert.equal((await a.endpoint.request(options(), { target: b.target('UDP') })).status, 500);
});

test('CANCEL of a pending INVITE: 200 to the CANCEL, 487 to the INVITE, ACKed in the transaction (RFC 3261 §9.2)', async (t) => {
  const capture = new MessageCapture();
  const { a, b, close } = await pair(['UDP']);
  t.after(async () => {
    capture.stop();
    await close();
  });
  let cancelledSeen: (() => boolean) | undefined;
  b.endpoint.onRequest((req, tx) => {
    if (req.method !== 'INVITE' || tx === undefined) return false;
    tx.respond(createResponse(req, 180));
    cancelledSeen = () => tx.cancelled;
    return undefined;
  });
  const inv = invite();
  const target = b.target('UDP');
  const result: number[] = [];
  const ringing = new Promise<void>((resolve) => {
    void a.endpoint.request(inv, { target, onProvisional: () => resolve() }).then((res) => result.push(res.status));
  });
  await ringing;
  // §9.1: the CANCEL has the INVITE's Request-URI, Call-ID, From, To, CSeq number and top Via.
  const cancel = createRequest({ method: 'CANCEL', uri: inv.uriText, from: inv.get('from')!, to: inv.get('to')!, callId: inv.callId, cseq: inv.cseq.seq });
  cancel.prepend('Via', inv.get('via')!);
  const res = await a.endpoint.request(cancel, { target });
  assert.equal(res.status, 200);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(result, [487]);
  assert.equal(cancelledSeen?.(), true);
  assert.deepEqual(capture.ladder((c) => c.callId === inv.callId), ['INVITE', '180', 'CANCEL', '200', '487', 'ACK']);
});

test('a CANCEL that matches nothing is answered 481 (RFC 3261 §9.2)', async (t) => {
  const { a, b, close } = await pair(['UDP']);
  t.after(close);
  const cancel = createRequest({ method: 'CANCEL', uri: 'sip:bob@biloxi.example.com', from: '<sip:alice@atlanta.example.com>', to: '<sip:bob@biloxi.example.com>' });
  // A CANCEL keeps the Via it is given (§9.1); this one names A's listener and an INVITE nobody sent.
  cancel.prepend('Via', `SIP/2.0/UDP 127.0.0.1:${a.target('UDP').port};branch=z9hG4bKnothing;rport`);
  assert.equal((await a.endpoint.request(cancel, { target: b.target('UDP') })).status, 481);
});

test('failover: a target that refuses the connection, then one that answers 503, then one that answers (RFC 3263 §4.3)', async (t) => {
  const down = await startEndpoint({ protocols: ['TCP'] });
  const downTarget = down.target('TCP');
  await down.close();
  const busy = await startEndpoint({ protocols: ['TCP'] });
  busy.endpoint.onRequest((req, tx) => {
    tx?.respond(createResponse(req, 503));
  });
  const good = await startEndpoint({ protocols: ['TCP'] });
  const resolver = new StaticResolver({ 'biloxi.example.com': [downTarget, busy.target('TCP'), good.target('TCP')] });
  const a = await startEndpoint({ protocols: ['TCP'], resolver });
  t.after(async () => {
    await a.close();
    await busy.close();
    await good.close();
  });
  const res = await a.endpoint.request(options('sip:bob@biloxi.example.com;transport=tcp'));
  assert.equal(res.status, 200);
  assert.equal(res.topVia?.port, a.target('TCP').port);
});

test('the last target\'s 503 is the outcome when every target fails over', async (t) => {
  const busy = await startEndpoint({ protocols: ['UDP'] });
  busy.endpoint.onRequest((req, tx) => {
    tx?.respond(createResponse(req, 503));
  });
  const resolver = new StaticResolver({ 'biloxi.example.com': [busy.target('UDP')] });
  const a = await startEndpoint({ protocols: ['UDP'], resolver });
  t.after(async () => {
    await a.close();
    await busy.close();
  });
  assert.equal((await a.endpoint.request(options())).status, 503);
});

test('a name that resolves to nothing rejects with ERR_UNRESOLVABLE; a dead TCP target with ERR_TRANSPORT', async (t) => {
  const down = await startEndpoint({ protocols: ['TCP'] });
  const downTarget = down.target('TCP');
  await down.close();
  const a = await startEndpoint({ protocols: ['UDP'], resolver: new StaticResolver({}) });
  t.after(() => a.close());
  await assert.rejects(a.endpoint.request(options()), (e: unknown) => e instanceof SipError && e.code === 'ERR_UNRESOLVABLE');
  await assert.rejects(a.endpoint.request(options(), { target: downTarget }), (e: unknown) => e instanceof TransactionError && e.code === 'ERR_TRANSPORT');
});

test('close() rejects the requests still pending and refuses new ones', async (t) => {
  const silent = await startEndpoint({ protocols: ['UDP'] });
  silent.endpoint.onRequest(() => undefined);
  const a = await startEndpoint({ protocols: ['UDP'] });
  t.after(() => silent.close());
  const pending = a.endpoint.request(options(), { target: silent.target('UDP') });
  await new Promise((r) => setTimeout(r, 20));
  await a.close();
  await assert.rejects(pending, (e: unknown) => e instanceof TransactionError && e.code === 'ERR_TERMINATED');
  await assert.rejects(a.endpoint.request(options(), { target: silent.target('UDP') }), (e: unknown) => e instanceof SipError && e.code === 'ERR_CLOSED');
});

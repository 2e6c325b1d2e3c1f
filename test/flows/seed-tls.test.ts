/**
 * THE SEED: the seed's INVITE (`INVITE sips:bob@biloxi.example.com`, test/fixtures/seed) sent over
 * TLS from one SipEndpoint to another on loopback. A StaticResolver maps biloxi.example.com (and
 * ss1.example.com, for the Route variant) to B's TLS listener, whose certificate is made for those
 * names and verified by A (RFC 5922). The 180 and 200 come back over the connection the INVITE
 * went out on (RFC 3261 §18.2.2), and the ACK and BYE reuse it: one connection on each side.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createResponse, parseMessage, SipRequest } from '../../src/message/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import { createDialogRequest } from '../../src/ua/dialog-request.js';
import { referTarget } from '../../src/ua/call/transfer.js';
import { formatNameAddr, isSipUri } from '../../src/message/index.js';
import { assertSocketsBack, MessageCapture, openSockets, startEndpoint, type TestEndpoint } from '../helpers/endpoints.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed';
const seedFile = fileURLToPath(new URL('../../../test/fixtures/seed/seed-invite.sip', import.meta.url));
const seedReferFile = fileURLToPath(new URL('../../../test/fixtures/seed/seed-refer.sip', import.meta.url));
const BOB_SDP = 'v=0\r\no=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com\r\ns=\r\nc=IN IP4 host.biloxi.example.com\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

let bob: NamedPki | undefined;
let alice: NamedPki | undefined;
before(() => {
  if (skip !== false) return;
  bob = makeNamedPki(['biloxi.example.com', 'ss1.example.com', 'client.biloxi.example.com']);
  alice = makeNamedPki(['client.atlanta.example.com']);
});
after(() => {
  bob?.cleanup();
  alice?.cleanup();
});

/** The seed INVITE as Alice's UA has it before sending: the fixture's Via is the one her transport writes, so it is left to A. */
function seedInvite(): SipRequest {
  const message = parseMessage(readFileSync(seedFile));
  assert.ok(message instanceof SipRequest);
  message.removeAll('via');
  return message;
}

interface Call {
  a: TestEndpoint;
  b: TestEndpoint;
  capture: MessageCapture;
  received: SipRequest[];
}

/**
 * B (Bob, and in the Route variant ss1 too) answers 180 then 200 with SDP; A (Alice's UA) has a TLS
 * listener advertised as client.atlanta.example.com:5061, the seed's sent-by.
 */
async function setUp(table: (bTarget: { protocol: 'TLS'; address: string; port: number }) => Record<string, Array<{ protocol: 'TLS'; address: string; port: number }>>,
  recordRoute?: string): Promise<Call> {
  const b = await startEndpoint({ protocols: ['TLS'], credentials: { cert: bob!.cert, key: bob!.key } });
  const received: SipRequest[] = [];
  b.endpoint.onRequest((req, tx) => {
    received.push(req);
    if (tx === undefined) return;
    if (req.method === 'INVITE') {
      const headers: Array<[string, string]> = [['Contact', '<sips:bob@biloxi.example.com>']];
      // §12.1.1: a UAS copies the request's Record-Route into its 2xx; the Route variant stands
      // in for ss1 having record-routed.
      if (recordRoute !== undefined) headers.push(['Record-Route', recordRoute]);
      tx.respond(createResponse(req, 180, { headers }));
      tx.respond(createResponse(req, 200, { headers, body: BOB_SDP, contentType: 'application/sdp' }));
      return;
    }
    if (req.method === 'BYE') tx.respond(createResponse(req, 200));
    // RFC 3515 §2.4.2: the seed's REFER is accepted.
    if (req.method === 'REFER') tx.respond(createResponse(req, 202));
  });
  const bTarget = { protocol: 'TLS' as const, address: '127.0.0.1', port: b.target('TLS').port };
  const capture = new MessageCapture();
  const a = await startEndpoint({
    protocols: ['TLS'],
    credentials: { cert: alice!.cert, key: alice!.key },
    viaHost: 'client.atlanta.example.com',
    viaPort: 5061,
    resolver: new StaticResolver(table(bTarget)),
    tls: { ca: bob!.ca },
  }).catch((e: unknown) => {
    capture.stop();
    throw e;
  });
  return { a, b, capture, received };
}

async function runSeed(call: Call, invite: SipRequest): Promise<void> {
  const { a, b, capture, received } = call;
  const provisional: number[] = [];
  const res = await a.endpoint.request(invite, { onProvisional: (r) => provisional.push(r.status) });
  assert.equal(res.status, 200);
  assert.deepEqual(provisional, [180]);
  assert.equal(res.bodyText, BOB_SDP);
  // The INVITE arrived as the seed wrote it: Request-URI, dialog identifiers, body.
  const got = received[0]!;
  assert.equal(got.uriText, 'sips:bob@biloxi.example.com');
  assert.equal(got.callId, '12345601@atlanta.example.com');
  assert.equal(got.fromTag, '1234567');
  assert.equal(got.body.length, 165);
  // A wrote the Via the seed has (its listener advertises the seed's sent-by), with a branch of its own.
  assert.equal(got.topVia?.transport, 'TLS');
  assert.equal(got.topVia?.host, 'client.atlanta.example.com');
  assert.equal(got.topVia?.port, 5061);
  await a.endpoint.ack(res);
  const bye = createDialogRequest(invite, res, 'BYE');
  assert.equal((await a.endpoint.request(bye)).status, 200);

  // One TLS connection each way, and every message of the call crossed it.
  const aConnections = a.endpoint.transport.connections.connections();
  const bConnections = b.endpoint.transport.connections.connections();
  assert.equal(aConnections.length, 1);
  assert.equal(bConnections.length, 1);
  assert.equal(aConnections[0]!.protocol, 'TLS');
  const ours = new Set([aConnections[0]!.id, bConnections[0]!.id]);
  const callMessages = capture.messages.filter((c) => c.callId === invite.callId && c.direction === 'in');
  assert.ok(callMessages.every((c) => c.protocol === 'TLS' && ours.has(c.connectionId ?? '')), 'every message on the one connection');
  const responses = callMessages.filter((c) => /^\d/.test(c.label));
  assert.ok(responses.every((c) => c.connectionId === aConnections[0]!.id), 'responses on the INVITE\'s connection');
  assert.deepEqual(capture.ladder((c) => c.callId === invite.callId), ['INVITE', '180', '200', 'ACK', 'BYE', '200']);
}

test('THE SEED: the seed INVITE over TLS to biloxi.example.com; 180 and 200 back over the same connection (RFC 3261 §18.2.2, RFC 5922)', { skip }, async (t) => {
  const sockets = openSockets();
  const call = await setUp((target) => ({ 'biloxi.example.com': [target] }));
  t.after(async () => {
    call.capture.stop();
    await call.a.close();
    await call.b.close();
    await assertSocketsBack(sockets);
  });
  await runSeed(call, seedInvite());
});

test('THE SEED, Route variant: the seed INVITE with Route <sips:ss1.example.com;lr> goes to ss1 over TLS; ACK and BYE follow the route set (RFC 3261 §8.1.2, §12.2.1.1)', { skip }, async (t) => {
  const sockets = openSockets();
  // biloxi.example.com resolves to nothing here: only the Route can have taken the requests there.
  const call = await setUp((target) => ({ 'ss1.example.com': [target] }), '<sips:ss1.example.com;lr>');
  t.after(async () => {
    call.capture.stop();
    await call.a.close();
    await call.b.close();
    await assertSocketsBack(sockets);
  });
  const invite = seedInvite();
  invite.prepend('Route', '<sips:ss1.example.com;lr>');
  await runSeed(call, invite);
  const [, ack, bye] = call.received;
  assert.equal(ack?.method, 'ACK');
  assert.equal(ack?.get('route'), '<sips:ss1.example.com;lr>');
  assert.equal(ack?.uriText, 'sips:bob@biloxi.example.com');
  assert.equal(bye?.get('route'), '<sips:ss1.example.com;lr>');
});

test('THE SEED: the seed REFER (Alice to Bob, Refer-To <sips:carol@chicago.example.com>, scheme-less Referred-By) over TLS to client.biloxi.example.com; its headers arrive as written and read right; 202 back on the connection (RFC 3515 §2.4.2, RFC 3892, RFC 5589 §6)', { skip }, async (t) => {
  const sockets = openSockets();
  const call = await setUp((target) => ({ 'client.biloxi.example.com': [target] }));
  t.after(async () => {
    call.capture.stop();
    await call.a.close();
    await call.b.close();
    await assertSocketsBack(sockets);
  });
  const refer = parseMessage(readFileSync(seedReferFile).toString('utf8').replace(/\r?\n/g, '\r\n'));
  assert.ok(refer instanceof SipRequest);
  // The fixture's Via is the one A's transport writes.
  refer.removeAll('via');
  const res = await call.a.endpoint.request(refer);
  assert.equal(res.status, 202);

  const got = call.received[0]!;
  assert.equal(got.method, 'REFER');
  assert.equal(got.uriText, 'sips:bob@client.biloxi.example.com');
  assert.equal(got.callId, '12345601@atlanta.example.com');
  assert.equal(got.fromTag, '1234567');
  assert.equal(got.toTag, '314159');
  assert.deepEqual([got.cseq.seq, got.cseq.method], [101, 'REFER']);
  assert.equal(got.get('contact'), '<sips:alice@client.atlanta.example.com>');
  // Refer-To as the seed wrote it, and read: a sips: URI to carol at chicago, no Replaces.
  assert.equal(got.get('refer-to'), '<sips:carol@chicago.example.com>');
  const to = got.referTo?.uri;
  assert.ok(to !== undefined && isSipUri(to));
  assert.deepEqual([to.scheme, to.user, to.host], ['sips', 'carol', 'chicago.example.com']);
  assert.deepEqual(referTarget(got), { target: 'sips:carol@chicago.example.com', replaces: undefined });
  // Referred-By as the seed wrote it (no scheme), accepted and read as alice@atlanta.example.com;
  // re-emitted with a scheme when the transferee copies it (RFC 3892 §3).
  assert.equal(got.get('referred-by'), '<alice@atlanta.example.com>');
  const by = got.referredBy?.uri;
  assert.ok(by !== undefined && isSipUri(by));
  assert.deepEqual([by.user, by.host], ['alice', 'atlanta.example.com']);
  assert.equal(formatNameAddr(got.referredBy!), '<sip:alice@atlanta.example.com>');
  // Over TLS, with A's Via, the 202 on the REFER's connection.
  assert.equal(got.topVia?.transport, 'TLS');
  assert.equal(got.topVia?.host, 'client.atlanta.example.com');
  const aConnections = call.a.endpoint.transport.connections.connections();
  assert.equal(aConnections.length, 1);
  const inbound = call.capture.messages.filter((c) => c.callId === refer.callId && c.direction === 'in');
  assert.ok(inbound.every((c) => c.protocol === 'TLS'));
  assert.ok(inbound.filter((c) => /^\d/.test(c.label)).every((c) => c.connectionId === aConnections[0]!.id));
  assert.deepEqual(call.capture.ladder((c) => c.callId === refer.callId), ['REFER', '202']);
});

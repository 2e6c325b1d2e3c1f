/**
 * RFC 3261 §16.3-§16.6 at a real SipServer on loopback: validation outcomes (483, 420), loop
 * detection (482) against spirals, loose and strict routing (§16.4), which URIs are ours (§16.5),
 * and Record-Route (§16.6 step 4, RFC 5658).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, type SipRequest } from '../../../src/message/index.js';
import { StaticResolver } from '../../../src/transport/static-resolver.js';
import type { Target } from '../../../src/transport/index.js';
import { newBranch } from '../../../src/core/ids.js';
import { createCancel } from '../../../src/ua/call/cancel.js';
import { DOMAIN, harness } from './harness.js';

const udp = (port: number): Target => ({ protocol: 'UDP', address: '127.0.0.1', port });

test('Max-Forwards 0 is answered 483; an OPTIONS with Max-Forwards 0 to the server itself is answered 200 (RFC 3261 §16.3 step 3)', async (t) => {
  const h = await harness(t);
  const target = udp(h.port());
  const refused = await h.uac.endpoint.request(h.request('MESSAGE', 'sip:bob@example.net', [], { maxForwards: 0 }), { target });
  assert.equal(refused.status, 483);
  const options = await h.uac.endpoint.request(h.request('OPTIONS', `sip:${DOMAIN}`, [], { maxForwards: 0 }), { target });
  assert.equal(options.status, 200);
  assert.match(options.get('allow') ?? '', /INVITE/);
  const toUser = await h.uac.endpoint.request(h.request('OPTIONS', `sip:bob@${DOMAIN}`, [], { maxForwards: 0 }), { target });
  assert.equal(toUser.status, 483);
});

test('Proxy-Require with an extension we lack is answered 420 with Unsupported (RFC 3261 §16.3 step 5)', async (t) => {
  const h = await harness(t);
  const r = await h.uac.endpoint.request(h.request('MESSAGE', 'sip:bob@example.net', [['Proxy-Require', 'foo, bar']]), { target: udp(h.port()) });
  assert.equal(r.status, 420);
  assert.deepEqual(r.unsupported, ['foo', 'bar']);
});

test('a request that comes back unchanged is a loop (482); one whose Request-URI changed is a spiral and goes on (RFC 3261 §16.3 step 4)', async (t) => {
  const resolver = new StaticResolver({});
  const h = await harness(t, { server: { resolver } });
  resolver.set('loop.example.net', [udp(h.port())]);
  const loop = await h.uac.endpoint.request(h.request('MESSAGE', 'sip:x@loop.example.net'), { target: udp(h.port()) });
  assert.equal(loop.status, 482);

  // Spiral: bob@example.com is bound to a URI of the server's own, which is bound to the UAS.
  const uas = await h.uas();
  const seen: SipRequest[] = [];
  uas.endpoint.onRequest((req, tx) => {
    seen.push(req);
    tx?.respond(createResponse(req, 200));
  });
  h.location.add(`sip:bob@${DOMAIN}`, `sip:bob@127.0.0.1:${h.port()}`);
  h.location.add('sip:bob@127.0.0.1', `sip:bob@127.0.0.1:${uas.target('UDP').port}`);
  const spiral = await h.uac.endpoint.request(h.request('MESSAGE', `sip:bob@${DOMAIN}`), { target: udp(h.port()) });
  assert.equal(spiral.status, 200);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.via.length, 3, 'the UAC\'s Via and the server\'s twice');
  assert.equal(seen[0]!.maxForwards, 68);
});

test('loose routing: the server pops its own Route and forwards by the next one, Request-URI untouched (RFC 3261 §16.4, §16.6 step 6)', async (t) => {
  const h = await harness(t);
  const uas = await h.uas();
  const seen: SipRequest[] = [];
  uas.endpoint.onRequest((req, tx) => {
    seen.push(req);
    tx?.respond(createResponse(req, 200));
  });
  const uasPort = uas.target('UDP').port;
  const req = h.request('MESSAGE', 'sip:bob@elsewhere.example.org', [
    ['Route', `<sip:127.0.0.1:${h.port()};lr>`],
    ['Route', `<sip:127.0.0.1:${uasPort};lr;x=1>`],
  ]);
  const r = await h.uac.endpoint.request(req, { target: udp(h.port()) });
  assert.equal(r.status, 200);
  assert.equal(seen[0]!.uriText, 'sip:bob@elsewhere.example.org');
  assert.deepEqual(seen[0]!.getAll('route'), [`<sip:127.0.0.1:${uasPort};lr;x=1>`]);
});

test('strict routing upstream: a Request-URI we record-routed is replaced by the last Route (RFC 3261 §16.4)', async (t) => {
  const h = await harness(t);
  const uas = await h.uas();
  const seen: SipRequest[] = [];
  uas.endpoint.onRequest((req, tx) => {
    seen.push(req);
    tx?.respond(createResponse(req, 200));
  });
  const uasPort = uas.target('UDP').port;
  const req = h.request('MESSAGE', `sip:127.0.0.1:${h.port()};lr`, [['Route', `<sip:bob@127.0.0.1:${uasPort}>`]]);
  const r = await h.uac.endpoint.request(req, { target: udp(h.port()) });
  assert.equal(r.status, 200);
  assert.equal(seen[0]!.uriText, `sip:bob@127.0.0.1:${uasPort}`);
  assert.equal(seen[0]!.has('route'), false);
});

test('a URI is ours by domain, or by address with our port: sip:bob@127.0.0.1:OTHER is forwarded, not looked up (RFC 3261 §16.5)', async (t) => {
  const h = await harness(t);
  const uas = await h.uas();
  const seen: SipRequest[] = [];
  uas.endpoint.onRequest((req, tx) => {
    seen.push(req);
    tx?.respond(createResponse(req, 202));
  });
  const uasPort = uas.target('UDP').port;
  const target = udp(h.port());
  const direct = await h.uac.endpoint.request(h.request('MESSAGE', `sip:bob@127.0.0.1:${uasPort}`), { target });
  assert.equal(direct.status, 202);
  assert.equal(seen[0]!.uriText, `sip:bob@127.0.0.1:${uasPort}`);
  // Our address and our port: the location service, which knows no bob@127.0.0.1.
  const ours = await h.uac.endpoint.request(h.request('MESSAGE', `sip:bob@127.0.0.1:${h.port()}`), { target });
  assert.equal(ours.status, 480);
  // Our domain: the location service; the Contact becomes the Request-URI.
  h.location.add(`sip:carol@${DOMAIN}`, `sip:carol@127.0.0.1:${uasPort};ob`);
  const carol = await h.uac.endpoint.request(h.request('MESSAGE', `sip:carol@${DOMAIN}`), { target });
  assert.equal(carol.status, 202);
  assert.equal(seen[1]!.uriText, `sip:carol@127.0.0.1:${uasPort};ob`);
  const nobody = await h.uac.endpoint.request(h.request('MESSAGE', `sip:nobody@${DOMAIN}`), { target });
  assert.equal(nobody.status, 480);
});

test('Record-Route: one entry when both sides use one listener, two when the transports differ (RFC 3261 §16.6 step 4, RFC 5658); none in a dialog', async (t) => {
  const h = await harness(t, { protocols: ['UDP', 'TCP'] });
  const uas = await h.uas({ protocols: ['UDP', 'TCP'] });
  const seen: SipRequest[] = [];
  uas.endpoint.onRequest((req, tx) => {
    seen.push(req);
    tx?.respond(createResponse(req, 486));
  });
  const uasPort = uas.target('UDP').port;
  h.location.add(`sip:u@${DOMAIN}`, `sip:u@127.0.0.1:${uasPort}`);
  h.location.add(`sip:t@${DOMAIN}`, `sip:t@127.0.0.1:${uasPort};transport=tcp`);
  const target = udp(h.port('UDP'));
  assert.equal((await h.uac.endpoint.request(h.request('INVITE', `sip:u@${DOMAIN}`), { target })).status, 486);
  assert.deepEqual(seen[0]!.getAll('record-route'), [`<sip:127.0.0.1:${h.port('UDP')};lr>`]);
  assert.equal((await h.uac.endpoint.request(h.request('INVITE', `sip:t@${DOMAIN}`), { target })).status, 486);
  assert.deepEqual(seen[1]!.getAll('record-route'), [`<sip:127.0.0.1:${h.port('TCP')};transport=tcp;lr>`, `<sip:127.0.0.1:${h.port('UDP')};lr>`]);
  // Not on MESSAGE (no dialog), nor on a request inside a dialog (a To tag).
  assert.equal((await h.uac.endpoint.request(h.request('MESSAGE', `sip:u@${DOMAIN}`), { target })).status, 486);
  assert.equal(seen[2]!.has('record-route'), false);
  assert.equal((await h.uac.endpoint.request(h.request('INVITE', `sip:u@127.0.0.1:${uasPort}`, [], { toTag: 'abc' }), { target })).status, 486);
  assert.equal(seen[3]!.has('record-route'), false);
  assert.equal(seen[3]!.maxForwards, 69);
});

test('a next hop with several RFC 3263 targets: a refused connection moves the branch to the next target (RFC 3263 §4.3, RFC 3261 §16.7)', async (t) => {
  const resolver = new StaticResolver({});
  const h = await harness(t, { server: { resolver } });
  const uas = await h.uas();
  const seen: SipRequest[] = [];
  uas.endpoint.onRequest((req, tx) => {
    seen.push(req);
    tx?.respond(createResponse(req, 200));
  });
  // Port 9 over TCP refuses the connection; the UAS's UDP listener is next.
  resolver.set('multi.example.net', [{ protocol: 'TCP', address: '127.0.0.1', port: 9 }, udp(uas.target('UDP').port)]);
  const r = await h.uac.endpoint.request(h.request('MESSAGE', 'sip:bob@multi.example.net'), { target: udp(h.port()) });
  assert.equal(r.status, 200);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.via[0]!.transport, 'UDP');
  // No target at all: the branch ends with our own 404, which goes up.
  const none = await h.uac.endpoint.request(h.request('MESSAGE', 'sip:bob@nowhere.example.net'), { target: udp(h.port()) });
  assert.equal(none.status, 404);
  assert.equal(none.reasonPhrase, 'Unresolvable destination');
});

test('a 3xx is a final like any other: it goes up, the proxy does not recurse (RFC 3261 §16.7 step 4)', async (t) => {
  const h = await harness(t);
  const uas = await h.uas();
  uas.endpoint.onRequest((req, tx) => {
    tx?.respond(createResponse(req, 302, { headers: [['Contact', '<sip:elsewhere@192.0.2.99>']] }));
  });
  h.location.add(`sip:moved@${DOMAIN}`, `sip:moved@127.0.0.1:${uas.target('UDP').port}`);
  const r = await h.uac.endpoint.request(h.request('INVITE', `sip:moved@${DOMAIN}`), { target: udp(h.port()) });
  assert.equal(r.status, 302);
  assert.equal(r.get('contact'), '<sip:elsewhere@192.0.2.99>');
  assert.equal(r.via.length, 1, 'the server\'s Via was taken off');
});

test('a CANCEL for an INVITE the server answered itself gets 200 and goes nowhere; one matching nothing is forwarded by its route (RFC 3261 §16.10)', async (t) => {
  const h = await harness(t);
  const target = udp(h.port());
  const invite = h.request('INVITE', `sip:nobody@${DOMAIN}`);
  const r = await h.uac.endpoint.request(invite, { target });
  assert.equal(r.status, 480);
  const c = await h.uac.endpoint.request(createCancel(invite), { target });
  assert.equal(c.status, 200);
  // A CANCEL for nothing we know, to a user nowhere registered: forwarded, so the 480 comes back.
  const stray = h.request('CANCEL', `sip:nobody@${DOMAIN}`);
  stray.prepend('Via', `SIP/2.0/UDP 127.0.0.1:${h.uac.target('UDP').port};branch=${newBranch()};rport`);
  const s = await h.uac.endpoint.request(stray, { target });
  assert.equal(s.status, 480);
});

test('WebSocket in, UDP out: two Record-Route entries, the WS one with transport=ws and the client\'s flow token, and the answer goes back over the WebSocket (RFC 5658, RFC 7118, RFC 5626)', async (t) => {
  const h = await harness(t, { protocols: ['UDP', 'WS'] });
  const uas = await h.uas();
  const seen: SipRequest[] = [];
  uas.endpoint.onRequest((req, tx) => {
    seen.push(req);
    tx?.respond(createResponse(req, 486));
  });
  h.location.add(`sip:u@${DOMAIN}`, `sip:u@127.0.0.1:${uas.target('UDP').port}`);
  const ws = await h.uas({ protocols: ['WS'] });
  const r = await ws.endpoint.request(h.request('INVITE', `sip:u@${DOMAIN}`), { target: { protocol: 'WS', address: '127.0.0.1', port: h.port('WS') } });
  assert.equal(r.status, 486);
  // The WS side's entry carries the client's flow token: requests toward it must take its
  // connection (RFC 5626 §5.3, RFC 7118 §5).
  const rr = seen[0]!.getAll('record-route');
  assert.equal(rr[0], `<sip:127.0.0.1:${h.port('UDP')};lr>`);
  assert.match(rr[1]!, new RegExp(`^<sip:[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+@127\\.0\\.0\\.1:${h.port('WS')};transport=ws;lr>$`));
  assert.equal(rr.length, 2);
  assert.equal(seen[0]!.via[0]!.transport, 'UDP');
  assert.equal(seen[0]!.via[1]!.transport, 'WS');
});

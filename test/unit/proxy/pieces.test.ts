/**
 * The proxy's pure parts: best-response choice (RFC 3261 §16.7 steps 6-7), which URIs and Vias
 * are ours, the loop hash (§16.3 step 4), flow tokens (RFC 5626), Record-Route URIs (RFC 5658),
 * target groups by q (§16.6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, createResponse, parseMessage, parseUri, SipRequest, type SipResponse } from '../../../src/message/index.js';
import { chooseBest, convert503, mergeChallenges } from '../../../src/proxy/best-response.js';
import { FlowTokens } from '../../../src/proxy/flow-token.js';
import { LocalDomains } from '../../../src/proxy/local-domains.js';
import { isLoop, loopHash, proxyBranch } from '../../../src/proxy/loop-detection.js';
import { listenerUri, needsDoubleRecordRoute } from '../../../src/proxy/record-route.js';
import { lookupKey, targetGroups } from '../../../src/proxy/target-set.js';
import type { Binding } from '../../../src/registrar/binding.js';
import type { BoundListener } from '../../../src/transport/index.js';
import type { SipUri } from '../../../src/message/index.js';

function request(headers: Array<[string, string]> = [], uri = 'sip:bob@example.com'): SipRequest {
  const r = createRequest({ method: 'INVITE', uri, from: '<sip:alice@example.com>;tag=ft1', to: '<sip:bob@example.com>', callId: 'c1', via: { transport: 'UDP', host: '192.0.2.1', port: 5060 }, headers });
  return parseMessage(r.toBuffer(), { lazy: true }) as SipRequest;
}
function responses(...statuses: number[]): SipResponse[] {
  const r = request();
  return statuses.map((s) => createResponse(r, s));
}

test('chooseBest: a 6xx wins, else the lowest class, 401/407/415/420/484 preferred in 4xx, first received on ties; none → undefined (RFC 3261 §16.7 step 6)', () => {
  assert.equal(chooseBest(responses(486, 603, 302))!.status, 603);
  assert.equal(chooseBest(responses(503, 404, 302))!.status, 302);
  assert.equal(chooseBest(responses(503, 486, 404))!.status, 486);
  assert.equal(chooseBest(responses(486, 407, 401))!.status, 401);
  assert.equal(chooseBest(responses(500, 503))!.status, 500);
  assert.equal(chooseBest([]), undefined);
});

test('convert503 turns a chosen 503 into a 500 with the same To tag (RFC 3261 §16.7 step 6)', () => {
  const req = request();
  const r503 = createResponse(req, 503, { toTag: 'x1' });
  const out = convert503(r503, req);
  assert.equal(out.status, 500);
  assert.equal(out.toTag, 'x1');
  const r404 = createResponse(req, 404);
  assert.equal(convert503(r404, req), r404);
});

test('mergeChallenges copies every other 401/407 challenge into the chosen one, unmodified (RFC 3261 §16.7 step 7)', () => {
  const req = request();
  const a = createResponse(req, 401, { headers: [['WWW-Authenticate', 'Digest realm="a", nonce="1"']] });
  const b = createResponse(req, 407, { headers: [['Proxy-Authenticate', 'Digest realm="b", nonce="2"'], ['Proxy-Authenticate', 'Digest realm="b", nonce="3", algorithm=SHA-256']] });
  const c = createResponse(req, 486);
  mergeChallenges(a, [a, b, c]);
  assert.deepEqual(a.getAll('www-authenticate'), ['Digest realm="a", nonce="1"']);
  assert.deepEqual(a.getAll('proxy-authenticate'), ['Digest realm="b", nonce="2"', 'Digest realm="b", nonce="3", algorithm=SHA-256']);
});

const listener = (protocol: 'UDP' | 'TCP', host: string, port: number): BoundListener => ({ protocol, host, port, family: 4, viaHost: undefined, viaPort: port });

test('LocalDomains: domains at any port; our addresses only with no port or one of our ports (RFC 3261 §16.4, §16.5)', () => {
  const d = new LocalDomains(['Example.COM'], [listener('UDP', '127.0.0.1', 5060), listener('TCP', '127.0.0.1', 5062)]);
  const ours = (u: string): boolean => d.isOurs(parseUri(u));
  assert.equal(ours('sip:bob@example.com'), true);
  assert.equal(ours('sip:bob@EXAMPLE.com:7000'), true);
  assert.equal(ours('sip:bob@127.0.0.1'), true);
  assert.equal(ours('sip:bob@127.0.0.1:5060'), true);
  assert.equal(ours('sip:bob@127.0.0.1:5062;transport=tcp'), true);
  assert.equal(ours('sip:bob@127.0.0.1:5080'), false);
  assert.equal(ours('sip:bob@127.0.0.2:5060'), false);
  assert.equal(ours('sip:bob@example.net'), false);
  assert.equal(ours('tel:+15551234'), false);
  assert.equal(d.isOwnSentBy('127.0.0.1', 5060), true);
  assert.equal(d.isOwnSentBy('127.0.0.1', 5999), false);
  assert.equal(d.isOwnSentBy('example.com', 5060), false, 'a domain name is no sent-by of ours');
  // serve's default domains include its listen addresses: an address domain is ours only at our ports.
  const byAddress = new LocalDomains(['127.0.0.1', 'localhost'], [listener('UDP', '127.0.0.1', 5060)]);
  assert.equal(byAddress.isOurs(parseUri('sip:bob@127.0.0.1')), true);
  assert.equal(byAddress.isOurs(parseUri('sip:bob@127.0.0.1:5060')), true);
  assert.equal(byAddress.isOurs(parseUri('sip:127.0.0.1:5092')), false, "a phone's Contact next to us is not us");
  assert.equal(byAddress.isOurs(parseUri('sip:alice@127.0.0.1:5091')), false);
  assert.equal(byAddress.isOurs(parseUri('sip:bob@localhost:5091')), true, 'a domain name is ours at any port');
});

test('loop hash: the same for the same routing fields whatever the Via, different when the Request-URI, Route or Proxy-Require change (RFC 3261 §16.6 step 8)', () => {
  const base = loopHash(request());
  assert.match(base, /^[0-9a-f]{16}$/);
  const other = request();
  other.prepend('Via', 'SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKother');
  assert.equal(loopHash(other), base);
  assert.notEqual(loopHash(request([], 'sip:bob@192.0.2.9')), base);
  assert.notEqual(loopHash(request([['Route', '<sip:p.example.net;lr>']])), base);
  assert.notEqual(loopHash(request([['Proxy-Require', 'foo']])), base);
  const branch = proxyBranch(base);
  assert.ok(branch.startsWith('z9hG4bK'));
  assert.notEqual(proxyBranch(base), branch, 'each copy has its own branch');
});

test('isLoop: only a Via of ours carrying the same hash is a loop (RFC 3261 §16.3 step 4)', () => {
  const req = request();
  const hash = loopHash(req);
  const ours = (host: string, port: number | undefined): boolean => host === '192.0.2.50' && port === 5060;
  const looped = request();
  looped.prepend('Via', `SIP/2.0/UDP 192.0.2.50:5060;branch=${proxyBranch(hash)}`);
  assert.equal(isLoop(looped, loopHash(looped), ours), true);
  const foreign = request();
  foreign.prepend('Via', `SIP/2.0/UDP 192.0.2.77:5060;branch=${proxyBranch(hash)}`);
  assert.equal(isLoop(foreign, loopHash(foreign), ours), false);
  const spiral = request([], 'sip:bob@192.0.2.9');
  spiral.prepend('Via', `SIP/2.0/UDP 192.0.2.50:5060;branch=${proxyBranch(hash)}`);
  assert.equal(isLoop(spiral, loopHash(spiral), ours), false);
});

test('flow tokens name the connection and node, and a forged or altered one is refused (RFC 5626 §5.2)', () => {
  const tokens = new FlowTokens('k1');
  const token = tokens.encode({ protocol: 'TCP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.8', remotePort: 40123, connectionId: 'c42' }, 'node-a');
  assert.match(token, /^[A-Za-z0-9_.-]+$/, 'a token is made of SIP user characters');
  assert.deepEqual(tokens.decode(token), { protocol: 'TCP', address: '192.0.2.8', port: 40123, connectionId: 'c42', node: 'node-a', kind: 'rr' });
  const path = tokens.encode({ protocol: 'TCP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.8', remotePort: 40123 }, 'node-a', 'path');
  assert.equal(tokens.decode(path)?.kind, 'path', 'a Path token says so: requests routed by it skip a second Digest check');
  assert.notEqual(path.slice(0, path.lastIndexOf('.')), token.slice(0, token.lastIndexOf('.')));
  assert.equal(new FlowTokens('k2').decode(token), undefined);
  assert.equal(tokens.decode(token.slice(1)), undefined);
  assert.equal(tokens.decode('bob'), undefined);
});

test('listenerUri: sip or sips, the transport parameter per listener, lr (and ob for Path) (RFC 3261 §16.6 step 4, RFC 5658, RFC 7118)', () => {
  assert.equal(listenerUri({ transport: 'UDP', host: '192.0.2.1', port: 5060 }), '<sip:192.0.2.1:5060;lr>');
  assert.equal(listenerUri({ transport: 'TCP', host: '192.0.2.1', port: 5060 }), '<sip:192.0.2.1:5060;transport=tcp;lr>');
  assert.equal(listenerUri({ transport: 'TLS', host: 'p.example.com', port: 5061 }), '<sip:p.example.com:5061;transport=tls;lr>');
  assert.equal(listenerUri({ transport: 'TLS', host: 'p.example.com', port: 5061 }, { sips: true }), '<sips:p.example.com:5061;lr>');
  assert.equal(listenerUri({ transport: 'WSS', host: 'p.example.com', port: 443 }), '<sip:p.example.com:443;transport=wss;lr>');
  assert.equal(listenerUri({ transport: 'TCP', host: '[::1]', port: 5060 }, { user: 'tok', ob: true }), '<sip:tok@[::1]:5060;transport=tcp;lr;ob>');
  assert.equal(needsDoubleRecordRoute({ transport: 'UDP', host: 'a', port: 1 }, { transport: 'UDP', host: 'a', port: 1 }), false);
  assert.equal(needsDoubleRecordRoute({ transport: 'TLS', host: 'a', port: 2 }, { transport: 'UDP', host: 'a', port: 1 }), true);
});

test('targetGroups: by q, highest first, equal q together in store order; a GRUU picks its instance (RFC 3261 §16.6, RFC 5627)', () => {
  const b = (contact: string, q: number, instanceId?: string): Binding => ({
    aor: 'sip:bob@example.com', contact, q, expiresAt: 1, callId: 'c', cseq: 1, path: [], updatedAt: 0, ...(instanceId === undefined ? {} : { instanceId }),
  });
  const groups = targetGroups([b('sip:a@h', 0.5), b('sip:b@h', 1), b('sip:c@h', 0.5), b('sip:d@h', 1, '<urn:uuid:1>')]);
  assert.deepEqual(groups.map((g) => g.map((t) => t.uri)), [['sip:b@h', 'sip:d@h'], ['sip:a@h', 'sip:c@h']]);
  const key = lookupKey(parseUri('sip:bob@Example.com;gr=urn:uuid:1') as SipUri);
  assert.deepEqual(key, { aor: 'sip:bob@example.com', instance: 'urn:uuid:1' });
  assert.deepEqual(targetGroups([b('sip:a@h', 1), b('sip:d@h', 1, '<urn:uuid:1>')], key.instance).map((g) => g.map((t) => t.uri)), [['sip:d@h']]);
  assert.deepEqual(lookupKey(parseUri('sips:Bob@EXAMPLE.com:5061') as SipUri), { aor: 'sip:Bob@example.com' });
});

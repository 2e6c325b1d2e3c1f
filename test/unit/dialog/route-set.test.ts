/**
 * Unit tests of the route set (RFC 3261 §12.1.1, §12.1.2) and of the Request-URI and Route of
 * in-dialog requests (§12.2.1.1), loose (§16.12) and strict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatUri, parseNameAddrList, parseUri } from '../../../src/message/index.js';
import { RouteSet } from '../../../src/dialog/index.js';
import { BOB_CONTACT, P1, P2, aliceInvite, bobResponse, inviteAtBob, sipUri, uris } from './helpers.js';

const P1_URI = 'sips:p1.atlanta.example.com;lr';
const P2_URI = 'sips:p2.biloxi.example.com;lr';

test('the UAC\'s route set is the Record-Route of the response in reverse order (RFC 3261 §12.1.2)', () => {
  const ok = bobResponse(inviteAtBob(), 200);
  assert.deepEqual(uris(ok.recordRoute), [P2_URI, P1_URI]);
  const set = RouteSet.forUac(ok);
  assert.deepEqual(uris(set.routes), [P1_URI, P2_URI]);
  assert.equal(set.isLoose, true);
});

test('the UAS\'s route set is the Record-Route of the request in order (RFC 3261 §12.1.1)', () => {
  const set = RouteSet.forUas(inviteAtBob());
  assert.deepEqual(uris(set.routes), [P2_URI, P1_URI]);
});

test('Record-Route values are read across lines and commas, with every URI and header parameter kept (RFC 3261 §12.1.1, §12.2.1.1)', () => {
  const invite = aliceInvite();
  invite.prepend('Record-Route', '<sips:p1.atlanta.example.com;lr;transport=tcp>;x=1');
  invite.prepend('Record-Route', '<sips:p3.example.com;lr>, "Two" <sips:p2.biloxi.example.com;lr;ftag=abc>');
  const set = RouteSet.forUas(invite);
  assert.deepEqual(uris(set.routes), ['sips:p3.example.com;lr', 'sips:p2.biloxi.example.com;lr;ftag=abc', 'sips:p1.atlanta.example.com;lr;transport=tcp']);
  assert.equal(set.routes[1]!.displayName, 'Two');
  assert.equal(set.routes[2]!.params.x, '1');
});

test('with an empty route set the request goes to the remote target and has no Route (RFC 3261 §12.2.1.1)', () => {
  const set = RouteSet.forUac(bobResponse(aliceInvite(), 200));
  assert.ok(set.isEmpty);
  const target = set.requestTarget(parseUri(BOB_CONTACT));
  assert.equal(formatUri(target.requestUri), BOB_CONTACT);
  assert.deepEqual(target.route, []);
});

test('loose routing: the first route has lr, so the Request-URI is the remote target and Route is the whole set (RFC 3261 §12.2.1.1, §16.12)', () => {
  const set = RouteSet.of(parseNameAddrList(`${P1}, ${P2}`));
  const target = set.requestTarget(parseUri(BOB_CONTACT));
  assert.equal(formatUri(target.requestUri), BOB_CONTACT);
  assert.deepEqual(uris(target.route), [P1_URI, P2_URI]);
});

test('strict routing: a first route without lr becomes the Request-URI and the remote target the last Route (RFC 3261 §12.2.1.1)', () => {
  const set = RouteSet.of(parseNameAddrList('<sip:strict.example.com;transport=udp;method=INVITE>, <sip:p2.example.com;lr>'));
  assert.equal(set.isLoose, false);
  const target = set.requestTarget(parseUri('sip:bob@client.biloxi.example.com;transport=tcp'));
  // §12.2.1.1 strips what a Request-URI may not hold (§19.1.1: method); the rest stays.
  assert.equal(formatUri(target.requestUri), 'sip:strict.example.com;transport=udp');
  assert.deepEqual(uris(target.route), ['sip:p2.example.com;lr', 'sip:bob@client.biloxi.example.com;transport=tcp']);
});

test('strict routing with a single route: Route holds only the remote target (RFC 3261 §12.2.1.1)', () => {
  const set = RouteSet.of(parseNameAddrList('<sip:strict.example.com>'));
  const target = set.requestTarget(parseUri('sip:bob@192.0.2.4:5062'));
  assert.equal(formatUri(target.requestUri), 'sip:strict.example.com');
  assert.deepEqual(uris(target.route), ['sip:bob@192.0.2.4:5062']);
});

test('a URI first in the route set that is not sip: or sips: cannot carry lr and is routed strictly (RFC 3261 §12.2.1.1)', () => {
  const set = RouteSet.of(parseNameAddrList('<tel:+15551234567>, <sip:p2.example.com;lr>'));
  assert.equal(set.isLoose, false);
});

test('the Request-URI drops the method parameter and URI headers of the remote target (RFC 3261 §19.1.1 table)', () => {
  const set = RouteSet.of(parseNameAddrList(P1));
  const target = set.requestTarget(parseUri('sips:bob@client.biloxi.example.com;method=REGISTER?Subject=hi'));
  const uri = sipUri(target.requestUri);
  assert.equal(formatUri(uri), BOB_CONTACT);
  assert.deepEqual(uri.headers, {});
});

test('the route set is a copy: building a request cannot change the message it came from, nor the set', () => {
  const invite = inviteAtBob();
  const set = RouteSet.forUas(invite);
  const target = set.requestTarget(parseUri(BOB_CONTACT));
  target.route[0]!.params.changed = 'yes';
  assert.equal(set.routes[0]!.params.changed, undefined);
  assert.equal(invite.recordRoute[0]!.params.changed, undefined);
  assert.ok(Object.isFrozen(set.routes));
});

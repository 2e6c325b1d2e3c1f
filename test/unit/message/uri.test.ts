import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SipParseError } from '../../../src/core/errors.js';
import type { AbsoluteUri, SipUri, TelUri, Uri } from '../../../src/message/types.js';
import { formatUri, isSipUri, parseSipUriLenient, parseUri, uriEquals } from '../../../src/message/uri.js';
import { newParams } from '../../../src/message/params.js';

function sip(text: string): SipUri {
  const u = parseUri(text);
  assert.ok(isSipUri(u), `${text} should be a SIP URI`);
  return u;
}

function tel(text: string): TelUri {
  const u = parseUri(text);
  assert.equal(u.scheme, 'tel');
  assert.ok('number' in u);
  return u;
}

function opaque(text: string): AbsoluteUri {
  const u = parseUri(text);
  assert.ok('opaque' in u, `${text} should be opaque`);
  return u;
}

/** Params and headers have no prototype; spread them to compare with literals. */
function plain<V>(o: Record<string, V>): Record<string, V> {
  return { ...o };
}

function isParse400(e: unknown): boolean {
  return e instanceof SipParseError && e.status === 400;
}

function rejects(text: string, parse: (s: string) => Uri = parseUri): void {
  assert.throws(() => parse(text), isParse400, `${JSON.stringify(text)} should be rejected with 400`);
}

function roundTrips(text: string): void {
  const u = parseUri(text);
  assert.deepEqual(parseUri(formatUri(u)), u, `round trip of ${text}`);
}

// ---- sip: / sips: structure (RFC 3261 §19.1.1, §25.1) ----------------------------------------

test('sip URI components are split into user, password, host, port, params and headers (RFC 3261 §19.1.1)', () => {
  const u = sip('sip:alice:secretword@atlanta.com:5070;transport=tcp;lr?subject=project%20x&priority=urgent');
  assert.equal(u.scheme, 'sip');
  assert.equal(u.user, 'alice');
  assert.equal(u.password, 'secretword');
  assert.equal(u.host, 'atlanta.com');
  assert.equal(u.hostType, 'name');
  assert.equal(u.port, 5070);
  assert.deepEqual(plain(u.params), { transport: 'tcp', lr: null });
  assert.deepEqual(plain(u.headers), { subject: 'project x', priority: 'urgent' });
});

test('absent components are absent properties, not undefined values (RFC 3261 §19.1.1)', () => {
  const u = sip('sip:example.com');
  assert.equal('user' in u, false);
  assert.equal('password' in u, false);
  assert.equal('port' in u, false);
  assert.deepEqual(plain(u.params), {});
  assert.deepEqual(plain(u.headers), {});
});

test('every example URI of RFC 3261 §19.1.3 parses', () => {
  const cases: Array<[string, Partial<SipUri>]> = [
    ['sip:alice@atlanta.com', { user: 'alice', host: 'atlanta.com' }],
    ['sip:alice:secretword@atlanta.com;transport=tcp', { user: 'alice', password: 'secretword' }],
    ['sips:alice@atlanta.com?subject=project%20x&priority=urgent', { scheme: 'sips', host: 'atlanta.com' }],
    ['sip:+1-212-555-1212:1234@gateway.com;user=phone', { user: '+1-212-555-1212', password: '1234' }],
    ['sips:1212@gateway.com', { scheme: 'sips', user: '1212' }],
    ['sip:alice@192.0.2.4', { host: '192.0.2.4', hostType: 'ipv4' }],
    ['sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com', { host: 'atlanta.com' }],
    ['sip:alice;day=tuesday@atlanta.com', { user: 'alice;day=tuesday', host: 'atlanta.com' }],
  ];
  for (const [text, expected] of cases) {
    const u = sip(text);
    for (const [k, v] of Object.entries(expected)) assert.equal(u[k as keyof SipUri], v, `${text}: ${k}`);
  }
  assert.equal(sip('sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com').headers.to, 'alice@atlanta.com');
});

test('scheme is case-insensitive and stored lower-case; host names are lower-cased, user case kept (RFC 3261 §19.1.4)', () => {
  const u = sip('SIP:ALICE@AtLanTa.CoM;Transport=udp');
  assert.equal(u.scheme, 'sip');
  assert.equal(u.user, 'ALICE');
  assert.equal(u.host, 'atlanta.com');
  assert.deepEqual(plain(u.params), { transport: 'udp' });
  assert.equal(sip('SiPs:x@Y.example').scheme, 'sips');
});

test('a user part with ";" before "@" belongs to the user (RFC 4475 §3.1.1.10 semiuri)', () => {
  const u = sip('sip:user;par=u%40example.net@example.com');
  assert.equal(u.user, 'user;par=u@example.net');
  assert.equal(u.host, 'example.com');
  assert.deepEqual(plain(u.params), {});
});

test('the unusual user and password of RFC 4475 §3.1.1.2 intmeth parse', () => {
  const u = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
  assert.equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  assert.equal(u.host, 'example.com');
  const to = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
  assert.equal(to.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal('password' in to, false);
});

test('an empty password is kept as an empty string (RFC 3261 §25.1 password = *(...))', () => {
  const u = sip('sip:alice:@atlanta.com');
  assert.equal(u.password, '');
  assert.equal(formatUri(u), 'sip:alice:@atlanta.com');
});

// ---- escapes (RFC 3261 §19.1.2, §25.1; RFC 4475 esc01, escnull) --------------------------------

test('an escaped user unescapes to characters that would otherwise be delimiters (RFC 4475 §3.1.1.7 esc01)', () => {
  assert.equal(sip('sip:sips%3Auser%40example.com@example.net').user, 'sips:user@example.com');
  assert.equal(sip('sip:%75se%72@example.com').user, 'user');
  assert.equal(sip('sip:I%20have%20spaces@example.net').user, 'I have spaces');
});

test('uri-parameter names and values are unescaped exactly once (RFC 4475 §3.1.1.7 esc01)', () => {
  const u = sip('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
  assert.equal(u.user, 'caller');
  assert.deepEqual(plain(u.params), { lr: null, name: 'value%41' });
});

test('an escaped NUL in the user part becomes a real NUL char (RFC 4475 §3.1.1.8 escnull)', () => {
  const u = sip('sip:null-%00-null@example.com');
  assert.equal(u.user, 'null-\u0000-null');
  assert.equal(u.user?.length, 11);
  assert.equal(sip('sip:%00@host5.example.com').user, '\u0000');
  assert.equal(sip('sip:%00%00@host5.example.com').user, '\u0000\u0000');
  assert.equal(formatUri(u), 'sip:null-%00-null@example.com');
});

test('URI header values are unescaped (RFC 3261 §19.1.1 headers; RFC 3891 Replaces in Refer-To)', () => {
  const u = sip('sip:bob@biloxi.example.com?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2');
  assert.equal(u.headers.Replaces, 'abc@host;to-tag=1;from-tag=2');
  const r = sip('sip:user@example.com?Route=%3Csip:sip.example.com%3E');
  assert.equal(r.headers.Route, '<sip:sip.example.com>');
});

test('URI header names keep their spelling; a repeated header joins its values with "," (RFC 3261 §7.3.1)', () => {
  const u = sip('sip:a@b.example?Route=%3Csip:p1%3E&route=%3Csip:p2%3E&body=');
  assert.deepEqual(plain(u.headers), { Route: '<sip:p1>,<sip:p2>', body: '' });
});

test('bad % escapes are rejected with 400 (RFC 3261 §25.1 escaped)', () => {
  for (const bad of ['sip:%Z4@example.com', 'sip:%4@example.com', 'sip:user%@example.com', 'sip:h.example;a=%G1', 'sip:h.example?a=%', 'x:ab%2'])
    rejects(bad);
});

// ---- hosts, IPv4, IPv6 (RFC 3261 §19.1.1, RFC 5118) ---------------------------------------------

test('a bracketed IPv6 reference is the host and keeps its brackets (RFC 5118 §4.1 ipv6-good)', () => {
  const u = sip('sip:[2001:db8::10]');
  assert.equal(u.host, '[2001:db8::10]');
  assert.equal(u.hostType, 'ipv6');
  assert.equal('port' in u, false);
  assert.equal(sip('sip:caller@[2001:db8::1]').host, '[2001:db8::1]');
});

test('a port after the closing bracket is the port (RFC 5118 §4.3 port-unambiguous)', () => {
  const u = sip('sip:[2001:db8::10]:5070');
  assert.equal(u.host, '[2001:db8::10]');
  assert.equal(u.port, 5070);
});

test('digits inside the brackets are part of the address, not a port (RFC 5118 §4.3 port-ambiguous)', () => {
  const u = sip('sip:[2001:db8::10:5070]');
  assert.equal(u.host, '[2001:db8::10:5070]');
  assert.equal('port' in u, false);
});

test('an IPv4-mapped IPv6 reference parses (RFC 5118 §4.7)', () => {
  assert.equal(sip('sip:[::ffff:192.0.2.10]').host, '[::ffff:192.0.2.10]');
  assert.equal(sip('sip:ted@[::ffff:192.0.2.2]').hostType, 'ipv6');
});

test('the two-colon and the tolerated three-colon IPv4-suffix forms parse (RFC 5118 §4.10)', () => {
  assert.equal(sip('sip:user@[2001:db8::192.0.2.1]').host, '[2001:db8::192.0.2.1]');
  assert.equal(sip('sip:user@[2001:db8:::192.0.2.1]').host, '[2001:db8:::192.0.2.1]');
});

test('an IPv6 address without brackets is rejected with 400 (RFC 5118 §4.2 ipv6-bad)', () => {
  rejects('sip:2001:db8::10');
  rejects('sip:user@2001:db8::10');
  rejects('sip:user@db8::10');
});

test('malformed IPv6 references are rejected with 400 (RFC 4291 §2.2)', () => {
  for (const bad of [
    'sip:[2001:db8::10',
    'sip:[]',
    'sip:[1::2::3]',
    'sip:[12345::1]',
    'sip:[1:2:3:4:5:6:7:8:9]',
    'sip:[1:2:3:4:5:6:7]',
    'sip:[1:2:3:4:5:6:7:8::]',
    'sip:[:1::2]',
    'sip:[1::2:]',
    'sip:[2001:db8:::1]',
    'sip:[g::1]',
    'sip:[::1.2.3]',
    'sip:[::1]x',
    'sip:[::1]:',
  ])
    rejects(bad);
  for (const good of ['sip:[::]', 'sip:[::1]', 'sip:[1::]', 'sip:[1:2:3:4:5:6:7:8]', 'sip:[1:2:3:4:5:6::8]', 'sip:[1:2:3:4:5:6:1.2.3.4]'])
    assert.equal(sip(good).hostType, 'ipv6', good);
});

test('dotted-quad hosts are IPv4 and each part must be 0-255 (RFC 3261 §25.1 IPv4address)', () => {
  assert.equal(sip('sip:192.0.2.4').hostType, 'ipv4');
  rejects('sip:256.0.2.4');
  rejects('sip:1.2.3');
  rejects('sip:1.2.3.4.5');
  rejects('sip:1234.2.3.4');
});

test('host names follow the hostname grammar (RFC 3261 §25.1 hostname)', () => {
  assert.equal(sip('sip:3com.example.com.').host, '3com.example.com.');
  assert.equal(sip('sip:a-b.c').host, 'a-b.c');
  for (const bad of ['sip:-a.example.com', 'sip:a-.example.com', 'sip:a..example.com', 'sip:a.1com', 'sip:under_score.example.com', 'sip:.example.com'])
    rejects(bad);
});

test('ports 0 to 65535 parse; larger, empty and non-numeric ports are rejected (RFC 3261 §25.1 port)', () => {
  assert.equal(sip('sip:h.example:0').port, 0);
  assert.equal(sip('sip:h.example:65535').port, 65535);
  for (const bad of ['sip:h.example:65536', 'sip:h.example:', 'sip:h.example:5o60', 'sip:h.example:99999999999999999999', 'sip:h.example:-1'])
    rejects(bad);
});

// ---- rejections ---------------------------------------------------------------------------------

test('spaces, angle brackets, empty hosts and empty parts are rejected with 400 (RFC 3261 §25.1; RFC 4475 §3.1.2)', () => {
  for (const bad of [
    '',
    'sip:',
    'sip:@example.com',
    'sip::pw@example.com',
    'sip:user@',
    'sip:user@example.com; lr',
    ' sip:user@example.com',
    'sip:user@example.com ',
    '<sip:user@example.com>',
    'sip:user@example.com>',
    'sip:us<er@example.com',
    'sip:user name@example.com',
    'sip:user@example.com;;lr',
    'sip:user@example.com;',
    'sip:user@example.com;a=',
    'sip:user@example.com;=b',
    'sip:user@example.com?',
    'sip:user@example.com?a',
    'sip:user@example.com?a=b&',
    'sip:user@example.com?=b',
    'sip:a@b@example.com',
    'sip:a:b:c@example.com',
    'sip:user@example.com#frag',
    'sip:user@exa mple.com',
  ])
    rejects(bad);
});

test('a uri-parameter may appear only once, names compared case-insensitively (RFC 3261 §19.1.1)', () => {
  rejects('sip:a@b.example;lr;lr');
  rejects('sip:a@b.example;transport=tcp;Transport=udp');
});

test('a text without a valid scheme is rejected with 400 (RFC 3986 §3.1)', () => {
  for (const bad of ['alice@atlanta.com', '1abc:x', ':x', 'a_b:x', 'noscheme']) rejects(bad);
});

// ---- tel: (RFC 3966) ----------------------------------------------------------------------------

test('a global tel number keeps its visual separators; parameters are parsed (RFC 3966 §3)', () => {
  const u = tel('tel:+358-555-1234567;postd=pp22');
  assert.equal(u.number, '+358-555-1234567');
  assert.deepEqual(plain(u.params), { postd: 'pp22' });
  const e = tel('TEL:+1-201-555-0123;EXT=1234;isub=%41b');
  assert.deepEqual(plain(e.params), { ext: '1234', isub: 'Ab' });
});

test('a local tel number with phone-context parses (RFC 3966 §5.1.5)', () => {
  const u = tel('tel:7042;phone-context=example.com');
  assert.equal(u.number, '7042');
  assert.equal(u.params['phone-context'], 'example.com');
  assert.equal(tel('tel:*67#;phone-context=+1-212').number, '*67#');
});

test('malformed tel URIs are rejected with 400 (RFC 3966 §3)', () => {
  for (const bad of ['tel:', 'tel:+', 'tel:+-', 'tel:+12 34', 'tel:+1234;', 'tel:+1234;;a', 'tel:+1234;a=', 'tel:+12x4', 'tel:+1234;ext=1;ext=2', 'tel:+1234;a_b=1', 'tel:12@host'])
    rejects(bad);
});

// ---- other schemes (RFC 3986; RFC 4475 unkscm, novelsc) ---------------------------------------

test('unknown schemes parse as opaque absolute URIs (RFC 4475 §3.3.2 unkscm, §3.3.3 novelsc)', () => {
  const u = opaque('nobodyKnowsThisScheme:totallyopaquecontent');
  assert.equal(u.scheme, 'nobodyknowsthisscheme');
  assert.equal(u.opaque, 'totallyopaquecontent');
  assert.equal(opaque('soap.beep://192.0.2.103:3002').opaque, '//192.0.2.103:3002');
  assert.equal(opaque('http://www.example.com').scheme, 'http');
  assert.equal(opaque('isbn:2983792873').opaque, '2983792873');
  assert.equal(opaque('name:John_Smith').opaque, 'John_Smith');
  assert.equal(opaque('urn:service:sos').opaque, 'service:sos');
  assert.equal(opaque('http://[2001:db8::1]:80/a?b=c%20d#f').opaque, '//[2001:db8::1]:80/a?b=c%20d#f');
});

test('opaque URIs with spaces, angle brackets, quotes or bad escapes are rejected (RFC 3986 §2)', () => {
  for (const bad of ['http://a b', 'http://a<b', 'x:"q"', 'x:%zz', 'x:', 'x:a\\b']) rejects(bad);
});

// ---- lenient scheme-less form ------------------------------------------------------------------

test('parseSipUriLenient reads a scheme-less user@host as sip:', () => {
  const u = parseSipUriLenient('alice@atlanta.example.com');
  assert.ok(isSipUri(u));
  assert.equal(u.scheme, 'sip');
  assert.equal(u.user, 'alice');
  assert.equal(u.host, 'atlanta.example.com');
  assert.equal(formatUri(u), 'sip:alice@atlanta.example.com');
  assert.deepEqual(parseSipUriLenient('sips:bob@b.example'), parseUri('sips:bob@b.example'));
  assert.equal(parseSipUriLenient('tel:+1234').scheme, 'tel');
  rejects('alice@', parseSipUriLenient);
  rejects('', parseSipUriLenient);
});

test('isSipUri is true for sip: and sips: only', () => {
  assert.equal(isSipUri(parseUri('sip:a@b.example')), true);
  assert.equal(isSipUri(parseUri('sips:a@b.example')), true);
  assert.equal(isSipUri(parseUri('tel:+1234')), false);
  assert.equal(isSipUri(parseUri('http://b.example')), false);
});

// ---- formatting (RFC 3261 §25.1 escaping) -------------------------------------------------------

test('formatUri escapes each component with its own unreserved set (RFC 3261 §25.1)', () => {
  const u = sip('sip:x@h.example');
  u.user = 'a:b@c;d?e/f&=+$,';
  u.password = 'p;w:d';
  u.params = Object.assign(newParams(), { 'na=me': 'v;a?l[]/:&+$', lr: null });
  u.headers = Object.assign(newParams() as Record<string, string>, { 'Sub ject': 'a&b=c?[]:+$ %' });
  const text = formatUri(u);
  assert.equal(
    text,
    'sip:a%3Ab%40c;d?e/f&=+$,:p%3Bw%3Ad@h.example;na%3Dme=v%3Ba%3Fl[]/:&+$;lr?Sub%20ject=a%26b%3Dc?[]:+$%20%25',
  );
  assert.deepEqual(parseUri(text), u);
});

test('formatUri writes chars above 0xFF as UTF-8 escapes', () => {
  const u = sip('sip:x@h.example');
  u.user = 'é€😀';
  assert.equal(formatUri(u), 'sip:%E9%E2%82%AC%F0%9F%98%80@h.example');
});

test('formatUri keeps an opaque URI and escapes only what it may not hold', () => {
  assert.equal(formatUri(parseUri('http://www.example.com/a%20b?c')), 'http://www.example.com/a%20b?c');
  assert.equal(formatUri({ scheme: 'x', opaque: 'a b%zz\r\n' }), 'x:a%20b%25zz%0D%0A');
});

test('formatUri writes tel numbers and parameters (RFC 3966 §3)', () => {
  assert.equal(formatUri(parseUri('tel:+1-201-555-0123;ext=1234;isub=a%3Bb')), 'tel:+1-201-555-0123;ext=1234;isub=a%3Bb');
});

test('parseUri(formatUri(u)) deep-equals u for sip, sips, tel and opaque URIs (RFC 3261 §25.1)', () => {
  for (const text of [
    'sip:alice@atlanta.com',
    'SIP:ALICE:Pw@AtLanTa.CoM:5060;Transport=UDP;lr;maddr=[2001:db8::1]?Subject=Hi%20There&X=%3Cy%3E',
    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
    'sip:sips%3Auser%40example.com@example.net',
    'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31',
    'sip:null-%00-null@example.com',
    'sip:user;par=u%40example.net@example.com',
    'sip:[2001:db8::10]:5070',
    'sip:user@[2001:db8:::192.0.2.1]',
    'sip:user@example.com?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2',
    'sips:%C3%A9t%C3%A9@example.com',
    'sip:%FF%80@example.com;x=%FF',
    'tel:+358-555-1234567;POSTD=PP22;isub=1411',
    'tel:*67#;phone-context=example.com',
    'nobodyKnowsThisScheme:totallyopaquecontent',
    'soap.beep://192.0.2.103:3002',
  ])
    roundTrips(text);
});

test('formatUri of a parsed URI in canonical form gives the same text', () => {
  for (const text of [
    'sip:alice@atlanta.com;transport=tcp?subject=project%20x',
    'sips:bob:pw@[2001:db8::10]:5061;lr',
    'sip:user;par=u%40example.net@example.com',
    'tel:+1-201-555-0123;ext=1234',
    'http://www.example.com',
  ])
    assert.equal(formatUri(parseUri(text)), text);
});

// ---- comparison (RFC 3261 §19.1.4, §19.1.6; RFC 3966 §4) -----------------------------------------

function eq(a: string, b: string): boolean {
  const x = parseUri(a);
  const y = parseUri(b);
  const r = uriEquals(x, y);
  assert.equal(uriEquals(y, x), r, `symmetry: ${a} / ${b}`);
  return r;
}

test('sip URI comparison: the equal pairs of RFC 3261 §19.1.4 are equal', () => {
  assert.ok(eq('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'));
  assert.ok(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'));
  assert.ok(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'));
  assert.ok(eq('sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'));
  assert.ok(
    eq(
      'sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com',
      'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com',
    ),
  );
  assert.ok(eq('sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'));
});

test('sip URI comparison: user part is case-sensitive (RFC 3261 §19.1.4)', () => {
  assert.equal(eq('SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'), false);
});

test('sip URI comparison treats explicit default port as different (RFC 3261 §19.1.4)', () => {
  assert.equal(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'), false);
});

test('sip URI comparison treats an explicit transport as different from none (RFC 3261 §19.1.4)', () => {
  assert.equal(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'), false);
  assert.equal(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'), false);
});

test('sip URI comparison never ignores header components (RFC 3261 §19.1.4)', () => {
  assert.equal(eq('sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'), false);
  assert.ok(eq('sip:carol@chicago.com?Subject=next%20meeting', 'sip:carol@chicago.com?subject=next%20meeting'));
  assert.equal(eq('sip:carol@chicago.com?Subject=next%20meeting', 'sip:carol@chicago.com?Subject=Next%20meeting'), false);
});

test('sip URI comparison does not resolve host names (RFC 3261 §19.1.4)', () => {
  assert.equal(eq('sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'), false);
});

test('sip URI equality is not transitive through ignored parameters (RFC 3261 §19.1.4)', () => {
  assert.ok(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'));
  assert.ok(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;security=off'));
  assert.equal(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'), false);
});

test('user, ttl, method and maddr parameters present in only one URI make them differ (RFC 3261 §19.1.4)', () => {
  for (const p of ['user=phone', 'ttl=1', 'method=INVITE', 'maddr=239.255.255.1', 'transport=udp'])
    assert.equal(eq('sip:a@b.example', `sip:a@b.example;${p}`), false, p);
  assert.ok(eq('sip:a@b.example;maddr=X.example', 'sip:a@b.example;MADDR=x.example'));
  assert.equal(eq('sip:a@b.example;lr', 'sip:a@b.example;lr=on'), false);
});

test('sip URI comparison: scheme, password and user escapes (RFC 3261 §19.1.4)', () => {
  assert.equal(eq('sip:a@b.example', 'sips:a@b.example'), false);
  assert.equal(eq('sip:a:x@b.example', 'sip:a:X@b.example'), false);
  assert.equal(eq('sip:a:x@b.example', 'sip:a@b.example'), false);
  assert.ok(eq('sip:%41@b.example', 'sip:A@b.example'));
  assert.equal(eq('sip:a@b.example', 'tel:+1234'), false);
});

test('IPv6 hosts compare as addresses, whatever their text form (RFC 5118, RFC 4291 §2.2)', () => {
  assert.ok(eq('sip:[2001:DB8::10]', 'sip:[2001:db8:0:0:0:0:0:10]'));
  assert.ok(eq('sip:[::ffff:192.0.2.10]', 'sip:[::ffff:c000:20a]'));
  assert.ok(eq('sip:[2001:db8:::192.0.2.1]', 'sip:[2001:db8::c000:201]'));
  assert.equal(eq('sip:[2001:db8::10]', 'sip:[2001:db8::11]'), false);
  assert.equal(eq('sip:[2001:db8::10]:5070', 'sip:[2001:db8::10:5070]'), false);
});

test('tel URIs converted per RFC 3261 §19.1.6 compare case-insensitively and in any parameter order (RFC 3966 §4)', () => {
  assert.ok(eq('tel:+358-555-1234567;postd=pp22', 'tel:+358-555-1234567;POSTD=PP22'));
  assert.ok(eq('tel:+358-555-1234567;postd=pp22;isub=1411', 'tel:+358-555-1234567;isub=1411;postd=pp22'));
  assert.ok(eq('tel:+358-555-1234567', 'tel:+3585551234567'));
  assert.ok(eq('tel:+358-555-1234567', 'tel:+358.555.(1234567)'));
  assert.equal(eq('tel:+358-555-1234567', 'tel:358-555-1234567'), false);
  assert.equal(eq('tel:+358-555-1234567;postd=pp22', 'tel:+358-555-1234567'), false);
  assert.ok(eq('tel:7042;phone-context=+1-212', 'tel:7042;phone-context=+1212'));
  assert.equal(eq('tel:7042;phone-context=ex.ample.com', 'tel:7042;phone-context=exa.mple.com'), false);
  assert.ok(eq('tel:+1234;ext=12-3', 'tel:+1234;ext=123'));
});

test('sip URIs carrying a telephone-subscriber compare case-sensitively in the user part (RFC 3261 §19.1.6)', () => {
  const s1 = sip('sip:+358-555-1234567;postd=pp22@foo.com;user=phone');
  assert.equal(s1.user, '+358-555-1234567;postd=pp22');
  assert.equal(s1.params.user, 'phone');
  assert.equal(sip('sips:+358-555-1234567;postd=pp22@foo.com;user=phone').scheme, 'sips');
  assert.equal(eq('sip:+358-555-1234567;postd=pp22@foo.com;user=phone', 'sip:+358-555-1234567;POSTD=PP22@foo.com;user=phone'), false);
  assert.equal(
    eq('sip:+358-555-1234567;postd=pp22;isub=1411@foo.com;user=phone', 'sip:+358-555-1234567;isub=1411;postd=pp22@foo.com;user=phone'),
    false,
  );
  const folded = sip('sip:+358-555-1234567;isub=1411;postd=pp22;tel-param=+358-555-1234567@foo.com;user=phone');
  assert.equal(folded.user, '+358-555-1234567;isub=1411;postd=pp22;tel-param=+358-555-1234567');
  assert.deepEqual(
    plain(tel('tel:+358-555-1234567;tel-param=+358-555-1234567;postd=pp22;isub=1411').params),
    { 'tel-param': '+358-555-1234567', postd: 'pp22', isub: '1411' },
  );
});

test('opaque URIs compare with a case-insensitive scheme and an exact rest (RFC 3986 §6.2.2.1)', () => {
  assert.ok(eq('HTTP://www.example.com', 'http://www.example.com'));
  assert.equal(eq('http://www.example.com', 'http://WWW.example.com'), false);
  assert.ok(uriEquals({ scheme: 'URN', opaque: 'x' }, { scheme: 'urn', opaque: 'x' }));
  assert.equal(eq('isbn:2983792873', 'name:2983792873'), false);
});

// ---- robustness ---------------------------------------------------------------------------------

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'sipSIPtel:@[]:;?&=%/.-+_~!*\'()0123456789abcdefABCDEF xyz<>",#\\\u0000\u007f\u00ff\r\n\t';
const SEEDS = [
  'sip:alice:pw@atlanta.com:5060;transport=tcp;lr?subject=a%20b&x=y',
  'sips:[2001:db8::10]:5070;maddr=[::1]',
  'tel:+1-201-555-0123;ext=12;phone-context=example.com',
  'sip:user;par=u%40example.net@192.0.2.1',
  'soap.beep://192.0.2.103:3002',
];

test('garbage input only ever throws SipParseError, and what parses round-trips', () => {
  const rnd = prng(0x5eed);
  const pick = (s: string): string => s[Math.floor(rnd() * s.length)];
  const inputs: string[] = [];
  for (let n = 0; n < 400; n++) {
    let s = rnd() < 0.5 ? pick('st') + pick('ie') + pick('pl') + ':' : '';
    const len = Math.floor(rnd() * 30);
    for (let k = 0; k < len; k++) s += pick(ALPHABET);
    inputs.push(s);
  }
  for (let n = 0; n < 400; n++) {
    const chars = SEEDS[n % SEEDS.length].split('');
    const edits = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(rnd() * (chars.length + 1));
      const op = rnd();
      if (op < 0.33) chars.splice(at, 1);
      else if (op < 0.66) chars.splice(at, 0, pick(ALPHABET));
      else chars[at] = pick(ALPHABET);
    }
    inputs.push(chars.join(''));
  }
  let parsed = 0;
  for (const s of inputs) {
    for (const parse of [parseUri, parseSipUriLenient]) {
      let u: Uri;
      try {
        u = parse(s);
      } catch (e) {
        assert.ok(isParse400(e), `${JSON.stringify(s)} threw ${String(e)}`);
        continue;
      }
      parsed++;
      assert.deepEqual(parseUri(formatUri(u)), u, `round trip of ${JSON.stringify(s)}`);
      assert.ok(uriEquals(u, u), `reflexive: ${JSON.stringify(s)}`);
    }
  }
  assert.ok(parsed > 50, `too few inputs parsed (${parsed}) for the round-trip check to mean much`);
});

test('non-string input throws SipParseError', () => {
  assert.throws(() => parseUri(undefined as unknown as string), isParse400);
  assert.throws(() => parseSipUriLenient(42 as unknown as string), isParse400);
});

test('parameter and header names like __proto__ or constructor are plain keys', () => {
  const u = sip('sip:a@b.example;__proto__=x;constructor?__proto__=y&toString=z');
  assert.deepEqual(Object.keys(u.params), ['__proto__', 'constructor']);
  assert.equal(u.params.constructor, null);
  assert.deepEqual(Object.keys(u.headers), ['__proto__', 'toString']);
  assert.equal(u.headers.toString, 'z');
  assert.equal(formatUri(u), 'sip:a@b.example;__proto__=x;constructor?__proto__=y&toString=z');
  assert.equal(uriEquals(u, sip('sip:a@b.example')), false);
});

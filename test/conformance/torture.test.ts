/**
 * RFC 4475 (SIP Torture Test Messages) and RFC 5118 (SIP Torture Test Messages for IPv6) against
 * parseMessage (strict, one datagram per file) and validateRequest, driven by
 * test/fixtures/conformance/manifest.json. One test per message and per variant.
 *
 * - parser `accept`: must parse; `reject`: must throw SipParseError (with the manifest's
 *   response_code when it names one); `accept-preferred`: either, and the outcome is recorded.
 * - lenient_ok messages the parser accepts must be named in LENIENT_ACCEPTED with the reason.
 * - valid-semantics-error: parse, then validateRequest gives response_code (role 'proxy' for
 *   zeromf, 'uas' otherwise).
 * - Every accepted message reserializes to its input bytes (RFC 3261 §7.5 leading CRLFs and
 *   datagram bytes past Content-Length, §18.3, excluded).
 * - Field checks for what the RFC text calls out, per message (FIELD_CHECKS).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createRequest, formatNameAddr, formatUri, isSipUri, parseMessage, parseUri, SipRequest, SipResponse, uriEquals,
  validateRequest, type SipUri, type Uri, type NameAddr, type Via, type MediaType,
} from '../../src/message/index.js';
import { SipParseError } from '../../src/core/errors.js';

// Tests run from dist/test/conformance/: the fixtures stay in the source tree.
const REPO = new URL('../../../', import.meta.url);
const CORPUS = new URL('test/fixtures/conformance/', REPO);
const SEED = new URL('test/fixtures/seed/', REPO);

interface Entry {
  name: string;
  file: string;
  rfc: number;
  section: string;
  title?: string;
  variant_of?: string;
  expected: 'valid' | 'invalid' | 'valid-semantics-error' | 'valid-tolerated';
  parser: 'accept' | 'reject' | 'accept-preferred';
  response_code: number | null;
  response_note?: string;
  lenient_ok?: boolean;
  description: string;
  bytes: number;
}

interface Manifest {
  messages: Entry[];
  variants: Entry[];
  counts: { total_messages: number };
}

const manifest = JSON.parse(readFileSync(new URL('manifest.json', CORPUS), 'utf8')) as Manifest;
const byName = new Map(manifest.messages.map((e) => [e.name, e]));

/**
 * lenient_ok messages (RFC 4475 §3.1.2) that hookflash's strict parser accepts, each with why.
 * Anything accepted and not listed here fails; a listed message that is rejected fails too, so
 * the list is always the exact set of lenient paths. Empty today: the strict parser rejects all
 * ten (quotbal, ltgtruri, lwsruri, lwsstart, trws, escruri, baddate, regbadct, badaspec, baddn),
 * which each section allows ("acceptable to reject as malformed").
 */
const LENIENT_ACCEPTED: Readonly<Record<string, string>> = {};

/** How each rejected message must be rejected: the fault the RFC describes, found in reason + the line at offset. */
const REJECT_FAULT: Readonly<Record<string, RegExp>> = {
  badinv01: /Via|Contact/i, // §3.1.2.1: empty Via and Contact elements (";;,;,,", ";;;;")
  clerr: /Content-Length/i, // §3.1.2.2: Content-Length 9999 larger than the body
  ncl: /Content-Length/i, // §3.1.2.3: Content-Length -999
  scalar02: /CSeq|Max-Forwards|Expires/i, // §3.1.2.4: CSeq 2^65, Max-Forwards 300, Expires 10^100
  scalarlg: /CSeq|Retry-After|Warning/i, // §3.1.2.5
  quotbal: /^To:|quot/i, // §3.1.2.6: unterminated quoted display name in To
  ltgtruri: /Request-URI|request line/i, // §3.1.2.7
  lwsruri: /Request-URI|request line|SIP-Version/i, // §3.1.2.8
  lwsstart: /Request-URI|request line/i, // §3.1.2.9
  trws: /SIP-Version|request line/i, // §3.1.2.10: trailing SP after SIP/2.0
  escruri: /Request-URI/i, // §3.1.2.11: headers component in the Request-URI
  baddate: /Date/i, // §3.1.2.12: EST instead of GMT
  regbadct: /Contact/i, // §3.1.2.13: unbracketed URI with '?'
  badaspec: /^To:|To header/i, // §3.1.2.14: spaces inside <>
  baddn: /not terminated|empty line/i, // archive defect: the header section never ends
  'baddn-terminated': /^(From|To):|(From|To) header/i, // §3.1.2.15: unquoted display names with ','
  badvers: /version/i, // §3.1.2.16: SIP/7.0
  mismatch01: /CSeq/i, // §3.1.2.17
  mismatch02: /CSeq/i, // §3.1.2.18
  bigcode: /status/i, // §3.1.2.19: status code 4294967301
  'ipv6-bad': /Request-URI|IPv6/i, // RFC 5118 §4.2: unbracketed IPv6 Request-URI
};

function read(file: string): Buffer {
  return readFileSync(new URL(file, CORPUS));
}

/** The line of `bytes` holding `offset`, for error messages and REJECT_FAULT. */
function lineAt(bytes: Buffer, offset: number): string {
  if (offset < 0 || offset >= bytes.length) return '';
  const s = bytes.lastIndexOf('\n', offset - 1) + 1;
  let e = bytes.indexOf('\r\n', offset);
  if (e < 0) e = bytes.length;
  return bytes.toString('latin1', s, e);
}

/**
 * What toBuffer() of an unchanged accepted message must be, computed from the raw bytes without
 * the parser: leading CRLFs dropped (RFC 3261 §7.5) and, when one Content-Length value is given,
 * the datagram cut after that many body bytes (§18.3).
 */
function expectedWire(bytes: Buffer): { wire: Buffer; body: Buffer } {
  let s = 0;
  while (s < bytes.length && (bytes[s] === 13 || bytes[s] === 10)) s++;
  const headEnd = bytes.indexOf('\r\n\r\n', s);
  assert.ok(headEnd > 0, 'fixture has a header section');
  const head = bytes.toString('latin1', s, headEnd);
  const values = [...head.matchAll(/\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*(?=\r\n|$)/gi)].map((m) => Number(m[1]));
  const bodyStart = headEnd + 4;
  const end = new Set(values).size === 1 ? bodyStart + values[0]! : bytes.length;
  return { wire: bytes.subarray(s, end), body: bytes.subarray(bodyStart, end) };
}

function sipUri(u: Uri): SipUri {
  assert.ok(isSipUri(u), `expected a sip/sips URI, got ${JSON.stringify(u)}`);
  return u;
}

function req(m: SipRequest | SipResponse): SipRequest {
  assert.ok(m instanceof SipRequest, 'expected a request');
  return m;
}

function res(m: SipRequest | SipResponse): SipResponse {
  assert.ok(m instanceof SipResponse, 'expected a response');
  return m;
}

function contacts(m: SipRequest | SipResponse): NameAddr[] {
  const c = m.contact;
  assert.ok(Array.isArray(c), 'Contact is a list');
  return c;
}

const bin = (codes: number[]): string => Buffer.from(codes).toString('utf8');

/** Field-value checks the RFC text calls out, by message name. */
const FIELD_CHECKS: Readonly<Record<string, (m: SipRequest | SipResponse, bytes: Buffer) => void>> = {
  // RFC 4475 §3.1.1.1: folding, LWS around ':' and ';', compact and mixed-case names.
  wsinv(m) {
    const r = req(m);
    assert.equal(r.method, 'INVITE');
    assert.equal(r.uriText, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
    const ru = sipUri(r.uri);
    assert.equal(ru.user, 'vivekg');
    assert.equal(ru.params.unknownparam, null);
    // `TO :` folded onto the next line, `;   tag    = 1918181833n`
    assert.equal(formatUri(r.to.uri), 'sip:vivekg@chair-dnrc.example.com');
    assert.equal(r.to.params.tag, '1918181833n');
    // `"J Rosenberg \\\""`: quoted-pairs give J Rosenberg \"
    assert.equal(r.from.displayName, 'J Rosenberg \\"');
    assert.equal(r.from.params.tag, '98asjd8');
    assert.equal(r.maxForwards, 68, 'Max-Forwards 0068 is 68');
    assert.deepEqual(r.cseq, { seq: 9, method: 'INVITE' }, 'cseq: 0009 folded INVITE');
    const via = r.via;
    assert.equal(via.length, 3);
    assert.deepEqual(via.map((v) => [v.protocol, v.transport, v.host, v.params.branch]), [
      ['SIP/2.0', 'UDP', '192.0.2.2', '390skdjuw'], // `SIP  /   2.0 CRLF /UDP CRLF 192.0.2.2`
      ['SIP/2.0', 'TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['SIP/2.0', 'UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    assert.ok(r.has('subject') && r.has('s'), 'the empty Subject (s :) is present');
    assert.equal(r.get('Subject'), '');
    assert.equal(r.get('NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(r.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;', 'unknown header kept raw');
    assert.equal(r.getParsed('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    assert.equal(r.route.length, 1);
    const route = sipUri(r.route[0]!.uri);
    assert.equal(route.host, 'services.example.com');
    assert.deepEqual({ ...route.params }, { lr: null, unknownwith: 'value', 'unknown-no-value': null });
    const c = contacts(r);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.displayName, 'Quoted string ""');
    assert.deepEqual({ ...c[0]!.params }, { newparam: 'newvalue', secondparam: null, q: '0.33' });
    assert.equal(r.contentLength, 150);
    assert.equal(r.contentType?.type, 'application');
    assert.equal(r.contentType?.subtype, 'sdp');
  },
  // §3.1.1.2: every token char in the method; odd but legal URI; quoted-pair NUL/BEL/DEL.
  intmeth(m) {
    const r = req(m);
    const method = "!interesting-Method0123456789_*+`.%indeed'~";
    assert.equal(r.method, method);
    assert.equal(r.uriText, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
    const u = sipUri(r.uri);
    assert.equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(u.host, 'example.com');
    assert.equal(r.to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.equal(sipUri(r.to.uri).user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(r.from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(r.from.params["fromparam''~+*_!.-%"], 'работающий', 'UTF-8 quoted param value');
    assert.equal(r.from.params.tag, "_token~1'+`*%!-.");
    assert.equal(r.callId, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    assert.deepEqual(r.cseq, { seq: 139122385, method });
    assert.equal(r.maxForwards, 255);
    assert.equal(r.topVia?.params.branch, "z9hG4bK-.!%66*_+`'~", '% is not an escape in a token');
    assert.equal(r.get("extensionHeader-!.%*+_`'~"), bin([0xef, 0xbb, 0xbf, 0xe5, 0xa4, 0xa7, 0xe5, 0x81, 0x9c, 0xe9, 0x9b, 0xbb]));
  },
  // §3.1.1.3: %HH unescaped exactly once.
  esc01(m) {
    const r = req(m);
    const u = sipUri(r.uri);
    assert.equal(u.user, 'sips:user@example.com');
    assert.equal(u.host, 'example.net');
    assert.equal(sipUri(r.to.uri).user, 'user');
    assert.equal(sipUri(r.from.uri).user, 'I have spaces');
    const c = contacts(r);
    assert.equal(c.length, 1);
    const cu = sipUri(c[0]!.uri);
    assert.equal(cu.user, 'caller');
    assert.deepEqual({ ...cu.params }, { lr: null, name: 'value%41' }, '%6C%72 is lr; v%61lue%25%34%31 is value%41, not valueA');
    assert.equal(r.callId, 'esc01.239409asdfakjkn23onasd0-3234', 'i: is Call-ID');
    assert.equal(r.contentType?.subtype, 'sdp', 'C: is Content-Type');
  },
  // §3.1.1.4: %00 is a real NUL; two distinct bindings.
  escnull(m) {
    const r = req(m);
    assert.equal(sipUri(r.to.uri).user, 'null-\0-null');
    assert.equal(sipUri(r.from.uri).user, 'null-\0-null');
    const c = contacts(r);
    assert.equal(c.length, 2);
    assert.equal(sipUri(c[0]!.uri).user, '\0');
    assert.equal(sipUri(c[1]!.uri).user, '\0\0');
    assert.equal(uriEquals(c[0]!.uri, c[1]!.uri), false, 'two bindings, not one');
    assert.equal(r.contentLength, 0);
  },
  // §3.1.1.5: % is not an escape in a method or a header name.
  esc02(m) {
    const r = req(m);
    assert.equal(r.method, 'RE%47IST%45R');
    assert.equal(r.cseq.method, 'RE%47IST%45R');
    const c = contacts(r);
    assert.deepEqual(c.map((x) => sipUri(x.uri).host), ['host1.example.com', 'host3.example.com'], 'C%6Fntact is not a Contact');
    assert.equal(r.getAll('contact').length, 2);
    assert.equal(r.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
    assert.equal(r.to.displayName, '%Z%45');
    assert.equal(r.topVia?.params.branch, 'z9hG4bK209%fzsnel234');
  },
  // §3.1.1.6: no LWS between display name and '<'.
  lwsdisp(m) {
    const r = req(m);
    assert.equal(r.from.displayName, 'caller');
    assert.equal(formatUri(r.from.uri), 'sip:caller@example.com');
    assert.equal(r.from.params.tag, '323');
  },
  // §3.1.1.7: long values, 34 Via values in many spellings.
  longreq(m) {
    const r = req(m);
    const via = r.via;
    assert.equal(via.length, 34);
    assert.equal(via[0]!.host, 'sip33.example.com');
    assert.equal(via[32]!.host, 'sip1.example.com');
    assert.equal(via[33]!.host, 'host.example.com');
    assert.equal(via[33]!.params.received, '192.0.2.5');
    assert.ok(via.every((v) => v.transport === 'TCP'));
    assert.equal(r.to.displayName, 'I have a user name of extremeextremeextremeextremeextremeextremeextremeextremeextremeextreme proportion');
    const tu = sipUri(r.to.uri);
    assert.equal(tu.port, 6000);
    assert.equal(tu.params.longparamnamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamename, 'shortvalue');
    assert.ok(r.from.params.tag!.startsWith('1298298298'));
    assert.equal(r.contentLength, 150);
  },
  // §3.1.1.8: a REGISTER with an empty body, then an INVITE that must be ignored (§18.3).
  dblreq(m, bytes) {
    const r = req(m);
    assert.equal(r.method, 'REGISTER');
    assert.equal(r.body.length, 0);
    assert.equal(r.contentLength, 0);
    assert.equal(r.getAll('call-id').length, 1);
    assert.equal(r.callId, 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    const wire = r.toBuffer();
    assert.equal(wire.indexOf('INVITE'), -1, 'the trailing INVITE is not part of the message');
    assert.ok(wire.length < bytes.length);
  },
  // §3.1.1.9: ';' in the user part of the Request-URI.
  semiuri(m) {
    const r = req(m);
    const u = sipUri(r.uri);
    assert.equal(u.user, 'user;par=u@example.net');
    assert.equal(u.host, 'example.com');
    assert.deepEqual(Object.keys(u.params), []);
    const accept = r.getParsed('accept') as MediaType[];
    assert.deepEqual(accept.map((a) => `${a.type}/${a.subtype}`), [
      'application/sdp', 'application/pkcs7-mime', 'multipart/mixed', 'multipart/signed', 'message/sip', 'message/sipfrag',
    ]);
  },
  // §3.1.1.10: unknown and SCTP transports.
  transports(m) {
    const r = req(m);
    assert.deepEqual(r.via.map((v: Via) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    assert.equal(r.callId, 'transports.kijh4akdnaqjkwendsasfdj');
  },
  // §3.1.1.11: a multipart body with a binary part: the body bytes exactly.
  mpart01(m, bytes) {
    const r = req(m);
    const start = bytes.indexOf('\r\n\r\n') + 4;
    const fileBody = bytes.subarray(start, start + 553);
    assert.equal(r.contentLength, 553);
    assert.equal(r.body.length, 553);
    assert.ok(Buffer.from(r.body).equals(fileBody), 'body bytes equal the file bytes');
    assert.ok(fileBody.some((b) => b >= 0x80) && fileBody.includes(0), 'the fixture body is binary');
    assert.equal(r.contentType?.type, 'multipart');
    assert.equal(r.contentType?.params.boundary, '7a9cbec02ceef655');
  },
  // §3.1.1.12: a UTF-8 reason phrase.
  unreason(m) {
    const s = res(m);
    assert.equal(s.status, 200);
    assert.equal(s.reasonPhrase, '= 2**3 * 5**2 но сто девяносто девять - простое');
  },
  // §3.1.1.13: an empty reason phrase.
  noreason(m) {
    const s = res(m);
    assert.equal(s.status, 100);
    assert.equal(s.reasonPhrase, '');
  },
  // §3.3.12: without <>, ;unknownparam is a header (contact) param.
  cparam01(m) {
    const c = contacts(m);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.params.unknownparam, null);
    assert.equal(sipUri(c[0]!.uri).params.unknownparam, undefined);
    assert.equal(sipUri(c[0]!.uri).user, '+19725552222');
  },
  // §3.3.13: within <>, it is a uri-parameter.
  cparam02(m) {
    const c = contacts(m);
    assert.equal(c.length, 1);
    assert.equal(sipUri(c[0]!.uri).params.unknownparam, null);
    assert.equal(c[0]!.params.unknownparam, undefined);
  },
  // §3.3.14: the escaped Route in the Contact URI's headers component.
  regescrt(m) {
    const c = contacts(m);
    assert.equal(c.length, 1);
    const u = sipUri(c[0]!.uri);
    assert.deepEqual({ ...u.headers }, { Route: '<sip:sip.example.com>' });
    assert.equal(m.getAll('route').length, 0, 'the URI header is not turned into a real Route');
  },
  // §3.4.1: RFC 2543 INVITE without Content-Length or Max-Forwards, Via without branch.
  inv2543(m, bytes) {
    const r = req(m);
    assert.equal(r.has('content-length'), false);
    assert.equal(r.contentLength, undefined);
    assert.equal(r.maxForwards, undefined);
    assert.equal(r.topVia?.params.branch, undefined);
    const start = bytes.indexOf('\r\n\r\n') + 4;
    assert.ok(Buffer.from(r.body).equals(bytes.subarray(start)), 'the body is the rest of the datagram');
    // `To: sip:...;user=phone` unbracketed: user=phone is a header param (RFC 3261 §20.10); in
    // From it is inside <>, so a uri-parameter.
    assert.equal(r.to.params.user, 'phone');
    assert.equal(sipUri(r.to.uri).params.user, undefined);
    assert.equal(sipUri(r.from.uri).params.user, 'phone');
    assert.equal(r.recordRoute.length, 1);
  },
  // RFC 5118 §4.1
  'ipv6-good'(m) {
    const r = req(m);
    const u = sipUri(r.uri);
    assert.equal(u.host, '[2001:db8::10]');
    assert.equal(u.hostType, 'ipv6');
    assert.equal(u.port, undefined);
    assert.equal(r.topVia?.host, '[2001:db8::9:1]');
    assert.equal(sipUri(contacts(r)[0]!.uri).host, '[2001:db8::1]');
  },
  // §4.3: the port is part of the address.
  'port-ambiguous'(m) {
    const u = sipUri(req(m).uri);
    assert.equal(u.host, '[2001:db8::10:5070]');
    assert.equal(u.port, undefined);
  },
  // §4.4
  'port-unambiguous'(m) {
    const u = sipUri(req(m).uri);
    assert.equal(u.host, '[2001:db8::10]');
    assert.equal(u.port, 5070);
  },
  // §4.5
  'via-received-param-with-delim'(m) {
    const v = req(m).topVia!;
    assert.equal(v.host, '[2001:db8::9:1]');
    assert.equal(v.params.received, '[2001:db8::9:255]');
    assert.equal(v.params.branch, 'z9hG4bKas3-111');
  },
  'via-received-param-no-delim'(m) {
    const v = req(m).topVia!;
    assert.equal(v.params.received, '2001:db8::9:255');
    assert.equal(v.params.branch, 'z9hG4bKas3');
  },
  // §4.6, §4.8: IPv6 in the SDP, Content-Length fixed for the CRLF form.
  'ipv6-in-sdp'(m) {
    const r = req(m);
    assert.equal(r.body.length, 251);
    assert.ok(r.bodyText.includes('c=IN IP6 2001:db8::20\r\n'));
    assert.equal(sipUri(r.uri).host, '[2001:db8::10]');
  },
  'mult-ip-in-sdp'(m) {
    const r = req(m);
    assert.equal(r.body.length, 189);
    assert.ok(r.bodyText.includes('c=IN IP6 2001:db8::1\r\n'));
  },
  // §4.7: IPv6 and IPv4 Via hosts mixed.
  'mult-ip-in-header'(m) {
    const via = req(m).via;
    assert.deepEqual(via.map((v) => [v.host, v.port]), [
      ['[2001:db8::9:1]', 6050],
      ['192.0.2.1', undefined],
      ['[2001:db8::9:255]', undefined],
    ]);
    assert.equal(via[2]!.params.received, '192.0.2.200');
  },
  // §4.9
  'ipv4-mapped-ipv6'(m) {
    const r = req(m);
    assert.deepEqual(r.via.map((v) => [v.host, v.port]), [['[::ffff:192.0.2.10]', 19823], ['[::ffff:192.0.2.2]', undefined]]);
    const c = contacts(r)[0]!;
    assert.equal(c.displayName, 'T. desk phone');
    assert.equal(sipUri(c.uri).host, '[::ffff:192.0.2.2]');
    assert.equal(r.body.length, 245);
  },
  // §4.10: tolerated; the same address as the 2-colon form.
  'ipv6-bug-abnf-3-colons'(m) {
    const r = req(m);
    const u = sipUri(r.uri);
    assert.equal(u.host, '[2001:db8:::192.0.2.1]');
    assert.equal(u.hostType, 'ipv6');
    assert.ok(uriEquals(u, parseUri('sip:user@[2001:db8::192.0.2.1]')), 'the extra colon is ignored for comparison');
    assert.ok(uriEquals(r.to.uri, u));
  },
  'ipv6-correct-abnf-2-colons'(m) {
    const r = req(m);
    assert.equal(sipUri(r.uri).host, '[2001:db8::192.0.2.1]');
    assert.equal(sipUri(r.to.uri).host, '[2001:db8::192.0.2.1]');
  },
};

function rejectionOf(bytes: Buffer): SipParseError | undefined {
  try {
    parseMessage(bytes);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof SipParseError, `parseMessage threw ${String(e)}, not SipParseError`);
    return e;
  }
}

function checkError(e: SipParseError, bytes: Buffer): void {
  assert.equal(typeof e.reason, 'string');
  assert.ok(e.reason.length > 0);
  assert.ok(Number.isInteger(e.offset) && e.offset >= -1 && e.offset <= bytes.length, `offset ${e.offset} within the message`);
  assert.ok(e.status >= 400 && e.status <= 599, `status ${e.status} is an error response`);
}

const entries: Entry[] = [...manifest.messages, ...manifest.variants];

test('manifest: 61 messages and the variant, every file the size the manifest says', () => {
  assert.equal(manifest.messages.length, 61);
  assert.equal(manifest.counts.total_messages, 61);
  assert.equal(manifest.variants.length, 1);
  for (const e of entries) assert.equal(read(e.file).length, e.bytes, e.file);
  // Guard against typos in the tables above: every key names a message.
  const names = new Set(entries.map((e) => e.name));
  for (const k of [...Object.keys(FIELD_CHECKS), ...Object.keys(REJECT_FAULT), ...Object.keys(LENIENT_ACCEPTED)]) {
    assert.ok(names.has(k), `${k} is a manifest message`);
  }
  for (const k of Object.keys(LENIENT_ACCEPTED)) assert.equal(byName.get(k)?.lenient_ok ?? entries.find((e) => e.name === k)?.lenient_ok, true);
  for (const e of entries) if (e.parser === 'reject') assert.ok(e.name in REJECT_FAULT, `${e.name} has an expected fault`);
});

for (const e of entries) {
  const title = e.title ?? `${byName.get(e.variant_of ?? '')?.title ?? e.name} (variant)`;
  test(`${e.name} (RFC ${e.rfc} §${e.section}): ${title}`, (t) => {
    const bytes = read(e.file);
    const err = rejectionOf(bytes);
    const isResponse = bytes.subarray(0, 4).toString('latin1') === 'SIP/';

    if (err) {
      checkError(err, bytes);
      t.diagnostic(`rejected: ${err.status} ${err.reason} (offset ${err.offset})`);
      assert.notEqual(e.parser, 'accept', `must parse, but: ${err.message}`);
      assert.ok(!(e.name in LENIENT_ACCEPTED), `${e.name} is listed in LENIENT_ACCEPTED but was rejected: remove the entry`);
      if (e.parser === 'reject') {
        if (e.response_code !== null && !isResponse) assert.equal(err.status, e.response_code, `status for ${err.reason}`);
        const fault = REJECT_FAULT[e.name]!;
        const where = `${err.reason}\n${lineAt(bytes, err.offset)}`;
        assert.match(where, fault, 'rejected for the fault the RFC describes');
      }
      return;
    }

    // Accepted.
    const m = parseMessage(bytes);
    t.diagnostic(`accepted: ${m instanceof SipRequest ? m.method : m.status}`);
    if (e.parser === 'reject') {
      assert.ok(e.lenient_ok === true, `${e.name} must be rejected (RFC ${e.rfc} §${e.section}); it is not lenient_ok`);
      assert.ok(e.name in LENIENT_ACCEPTED, `${e.name} was accepted on a lenient path that LENIENT_ACCEPTED does not name`);
    }

    // Byte-exact reserialization of an unchanged message.
    const { wire, body } = expectedWire(bytes);
    assert.ok(m.toBuffer().equals(wire), 'toBuffer() is the received bytes');
    assert.ok(Buffer.from(m.body).equals(body), 'body is the bytes after the empty line, up to Content-Length');
    // Lazy mode agrees with strict on what it parsed.
    const lazy = parseMessage(bytes, { lazy: true });
    assert.ok(lazy.toBuffer().equals(wire));

    // Semantics (RFC 4475 §3.2, §3.3).
    if (m instanceof SipRequest) {
      const role = e.name === 'zeromf' ? 'proxy' : 'uas';
      const verdict = validateRequest(m, { role });
      t.diagnostic(`validateRequest(${role}): ${JSON.stringify(verdict)}`);
      if (e.expected === 'valid-semantics-error') {
        if (e.response_code !== null) {
          assert.equal(verdict.ok, false, `validateRequest must answer ${e.response_code}`);
          if (!verdict.ok) assert.equal(verdict.status, e.response_code, verdict.reason);
        }
      } else {
        // valid / valid-tolerated requests pass validation. (intmeth/esc02's 501 is the UA core's
        // answer to an unknown method, after validation; the REGISTERs' 200 is the registrar's.)
        assert.deepEqual(verdict, { ok: true });
      }
      if (e.name === 'zeromf') {
        assert.deepEqual(validateRequest(m, { role: 'uas' }), { ok: true }, 'an endpoint processes Max-Forwards: 0 normally');
      }
    }

    const check = FIELD_CHECKS[e.name];
    if (check) check(m, bytes);
  });
}

test('summary: the lenient paths taken are exactly LENIENT_ACCEPTED; accept-preferred outcomes recorded', (t) => {
  const accepted = (e: Entry) => rejectionOf(read(e.file)) === undefined;
  const lenient = entries.filter((e) => e.parser === 'reject' && accepted(e)).map((e) => e.name);
  assert.deepEqual(lenient.sort(), Object.keys(LENIENT_ACCEPTED).sort());
  t.diagnostic(`lenient paths: ${lenient.length === 0 ? 'none' : lenient.join(', ')}`);
  for (const e of entries.filter((x) => x.parser === 'accept-preferred')) t.diagnostic(`${e.name}: ${accepted(e) ? 'accepted' : 'rejected'}`);
});

// ---- semantics beyond the response code ----

test('bext01 (RFC 4475 §3.3.5): 420 lists the Require tags at a UAS and the Proxy-Require tags at a proxy', () => {
  const m = req(parseMessage(read('rfc4475/bext01.sip')));
  const uas = validateRequest(m, { role: 'uas' });
  assert.deepEqual(uas.ok ? [] : uas.headers, [['Unsupported', 'nothingSupportsThis'], ['Unsupported', 'nothingSupportsThisEither']]);
  const proxy = validateRequest(m, { role: 'proxy' });
  assert.equal(proxy.ok ? 0 : proxy.status, 420);
  assert.deepEqual(proxy.ok ? [] : proxy.headers, [['Unsupported', 'noProxiesSupportThis'], ['Unsupported', 'norDoAnyProxiesSupportThis']]);
  assert.deepEqual(validateRequest(m, { role: 'uas', supported: ['nothingsupportsthis', 'NOTHINGSUPPORTSTHISEITHER'] }), { ok: true });
});

test('invut (RFC 4475 §3.3.6): 415 carries Accept; a proxy processes it like any INVITE', () => {
  const m = req(parseMessage(read('rfc4475/invut.sip')));
  const v = validateRequest(m, { role: 'uas' });
  assert.equal(v.ok, false);
  if (!v.ok) assert.ok(v.headers?.some(([n]) => n === 'Accept'));
  assert.deepEqual(validateRequest(m, { role: 'proxy' }), { ok: true });
});

test('regaut01 (RFC 4475 §3.3.7): an unknown scheme is 401; an element that knows it accepts', () => {
  const m = req(parseMessage(read('rfc4475/regaut01.sip')));
  assert.deepEqual(m.authorization.map((a) => [a.scheme, { ...a.params }]), [['NoOneKnowsThisScheme', { 'opaque-data': 'here' }]]);
  assert.deepEqual(validateRequest(m, { authSchemes: ['digest', 'noonekNowsthisscheme'] }), { ok: true });
});

// ---- lenient_ok messages: what a liberal element would have to repair is really there ----

test('RFC 4475 §3.1.2 lenient_ok faults inside header values pass lazy framing and throw on read, at the line offset', () => {
  // In lazy mode header values are not read, so faults inside values (quotbal, baddate, regbadct,
  // badaspec, baddn-terminated) pass framing and throw when the field is read, with the line's offset.
  const cases: Array<[string, (m: SipRequest) => unknown, string]> = [
    ['rfc4475/quotbal.sip', (m) => m.to, 'To:'],
    ['rfc4475/baddate.sip', (m) => m.getParsed('date'), 'Date:'],
    ['rfc4475/regbadct.sip', (m) => m.contact, 'Contact:'],
    ['rfc4475/badaspec.sip', (m) => m.to, 'To:'],
    ['rfc4475/variants/baddn-terminated.sip', (m) => m.from, 'From:'],
  ];
  for (const [file, read1, line] of cases) {
    const bytes = read(file);
    const m = req(parseMessage(bytes, { lazy: true }));
    assert.throws(() => read1(m), (e: unknown) => {
      assert.ok(e instanceof SipParseError, file);
      assert.equal(e.status, 400);
      assert.ok(lineAt(bytes, e.offset).startsWith(line), `${file}: offset ${e.offset} points at ${line}`);
      return true;
    });
  }
});

// ---- seed fixtures ----

const seedFiles = existsSync(SEED) ? readdirSync(SEED).filter((f) => f.endsWith('.sip')).sort() : [];

test('seed fixtures test/fixtures/seed/*.sip are present', () => {
  assert.deepEqual(seedFiles, ['seed-invite.sip', 'seed-refer.sip', 'seed-reinvite-hold.sip']);
});

for (const f of seedFiles) {
  test(`seed ${f}: parses strictly, validates, reserializes byte for byte`, () => {
    const bytes = readFileSync(new URL(f, SEED));
    const m = req(parseMessage(bytes));
    assert.ok(m.toBuffer().equals(expectedWire(bytes).wire));
    assert.deepEqual(validateRequest(m), { ok: true });
    assert.equal(m.body.length, m.contentLength);
  });
}

test('seed REFER: scheme-less Referred-By <alice@atlanta.example.com> reads as sip:alice@atlanta.example.com', () => {
  const m = req(parseMessage(readFileSync(new URL('seed-refer.sip', SEED))));
  const rb = m.referredBy;
  assert.ok(rb);
  const u = sipUri(rb.uri);
  assert.equal(u.scheme, 'sip');
  assert.equal(u.user, 'alice');
  assert.equal(u.host, 'atlanta.example.com');
  assert.equal(formatNameAddr(rb), '<sip:alice@atlanta.example.com>', 'formatting writes the scheme');
  assert.equal(formatUri(rb.uri), 'sip:alice@atlanta.example.com');
  assert.equal(formatUri(sipUri(m.referTo!.uri)), 'sips:carol@chicago.example.com');
});

test('seed REFER: createRequest from the lenient value never emits a scheme-less URI', () => {
  const m = req(parseMessage(readFileSync(new URL('seed-refer.sip', SEED))));
  const rb = m.referredBy!;
  const built = createRequest({
    method: 'REFER',
    uri: m.uri,
    from: rb,
    to: m.to,
    headers: [['Refer-To', formatNameAddr(m.referTo!)], ['Referred-By', formatNameAddr(rb)]],
  });
  const text = built.toString();
  assert.match(text, /\r\nReferred-By: <sip:alice@atlanta\.example\.com>\r\n/);
  assert.match(text, /\r\nFrom: <sip:alice@atlanta\.example\.com>;tag=/);
  assert.doesNotMatch(text, /<alice@/);
  // And what it emits parses strictly, with the same Referred-By.
  const back = req(parseMessage(built.toBuffer()));
  assert.ok(uriEquals(back.referredBy!.uri, rb.uri));
});

test('the scheme-less form is tolerated only in Referred-By: Refer-To, From, To and Contact stay strict', () => {
  const base = readFileSync(new URL('seed-refer.sip', SEED)).toString('latin1');
  for (const [header, bad] of [
    ['Refer-To', 'Refer-To: <carol@chicago.example.com>'],
    ['From', 'From: Alice <alice@atlanta.example.com>;tag=1234567'],
    ['Contact', 'Contact: <alice@client.atlanta.example.com>'],
  ] as const) {
    const text = base.replace(new RegExp(`^${header}: .*$`, 'm'), bad);
    assert.notEqual(text, base);
    assert.throws(() => parseMessage(Buffer.from(text, 'latin1')), (e: unknown) => e instanceof SipParseError && e.status === 400, header);
  }
});

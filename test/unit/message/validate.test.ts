/**
 * validateRequest: the checks of RFC 3261 §8.2 (UAS) and §16.3 (proxy), each with a small
 * hand-made message, plus the RFC 4475 §3.2/§3.3 cases they stand for.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, parseMessage, SipRequest, validateRequest, type ValidationResult } from '../../../src/message/index.js';

interface Opts {
  method?: string;
  uri?: string;
  /** Header lines replacing the defaults of the same name (by the text before ':'); null removes. */
  set?: Record<string, string | null>;
  /** Extra header lines. */
  add?: string[];
  body?: string;
}

const DEFAULTS: Array<[string, string]> = [
  ['Via', 'SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds'],
  ['Max-Forwards', '70'],
  ['To', 'Bob <sip:bob@biloxi.example.com>'],
  ['From', 'Alice <sip:alice@atlanta.example.com>;tag=1928301774'],
  ['Call-ID', 'a84b4c76e66710@pc33.atlanta.example.com'],
  ['CSeq', '314159 METHOD'],
];

/** Builds the bytes of a request; Content-Length is the body's unless set. */
function bytesOf(o: Opts = {}): Buffer {
  const method = o.method ?? 'OPTIONS';
  const lines = [`${method} ${o.uri ?? 'sip:bob@biloxi.example.com'} SIP/2.0`];
  for (const [name, value] of DEFAULTS) {
    const v = o.set && name in o.set ? o.set[name] : value.replace('METHOD', method);
    if (v !== null && v !== undefined) lines.push(`${name}: ${v}`);
  }
  lines.push(...(o.add ?? []));
  const body = o.body ?? '';
  if (!(o.set && 'Content-Length' in o.set)) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  else if (o.set['Content-Length'] !== null) lines.push(`Content-Length: ${o.set['Content-Length']}`);
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

/** Lazy parse, so that validateRequest (not the parser) meets what is wrong. */
function req(o: Opts = {}): SipRequest {
  const m = parseMessage(bytesOf(o), { lazy: true });
  assert.ok(m instanceof SipRequest);
  return m;
}

function fails(v: ValidationResult, status: number, reason?: RegExp): Array<[string, string]> | undefined {
  assert.equal(v.ok, false, `expected ${status}, got ok`);
  if (v.ok) return undefined;
  assert.equal(v.status, status, v.reason);
  if (reason) assert.match(v.reason, reason);
  return v.headers;
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n';

test('a well-formed request is ok, for a UAS (the default) and a proxy', () => {
  assert.deepEqual(validateRequest(req()), { ok: true });
  assert.deepEqual(validateRequest(req(), { role: 'uas' }), { ok: true });
  assert.deepEqual(validateRequest(req(), { role: 'proxy' }), { ok: true });
  assert.deepEqual(validateRequest(req({ method: 'INVITE', body: SDP, add: ['Content-Type: application/sdp'] })), { ok: true });
});

describe('mandatory headers (RFC 3261 §8.1.1; RFC 4475 §3.3.1 insuf)', () => {
  for (const [name, shown] of [['Via', 'Via'], ['From', 'From'], ['To', 'To'], ['Call-ID', 'Call-ID'], ['CSeq', 'CSeq']] as const) {
    test(`a request without ${name} is 400 "Missing ${shown} header"`, () => {
      fails(validateRequest(req({ set: { [name]: null } })), 400, new RegExp(`^Missing ${shown} header$`));
    });
  }
  test('Max-Forwards and Content-Length may be absent (RFC 2543 peers, RFC 4475 §3.4.1)', () => {
    assert.deepEqual(validateRequest(req({ set: { 'Max-Forwards': null, 'Content-Length': null } })), { ok: true });
  });
});

describe('single-valued headers appear once (RFC 3261 §7.3.1; RFC 4475 §3.3.8 multi01, §3.3.9 mcl01)', () => {
  for (const [line, key] of [
    ['Call-ID: other@host', 'call-id'],
    ['From: <sip:carol@chicago.example.com>;tag=2', 'from'],
    ['To: <sip:carol@chicago.example.com>', 'to'],
    ['CSeq: 1 OPTIONS', 'cseq'],
    ['Max-Forwards: 5', 'max-forwards'],
    ['Content-Type: text/plain', 'content-type'],
  ] as const) {
    test(`a second ${key} is 400`, () => {
      const add = key === 'content-type' ? ['Content-Type: text/plain', line] : [line];
      fails(validateRequest(req({ add })), 400, new RegExp(`Multiple ${key}`));
    });
  }
  test('two different Content-Length values are 400; the same value twice is tolerated', () => {
    fails(validateRequest(req({ set: { 'Content-Length': null }, add: ['Content-Length: 5', 'Content-Length: 13'], body: 'hello' })), 400, /content-length/i);
    assert.deepEqual(validateRequest(req({ set: { 'Content-Length': null }, add: ['Content-Length: 5', 'l: 5'], body: 'hello' })), { ok: true });
  });
});

describe('CSeq and Content-Length consistency', () => {
  test('a CSeq method other than the request method is 400 for a known method (RFC 4475 §3.1.2.17)', () => {
    fails(validateRequest(req({ method: 'OPTIONS', set: { CSeq: '1 INVITE' } })), 400, /CSeq/);
  });
  test('... and 501 for an unknown one (RFC 4475 §3.1.2.18)', () => {
    fails(validateRequest(req({ method: 'NEWMETHOD', set: { CSeq: '1 INVITE' } })), 501, /CSeq/);
  });
  test('an unknown method whose CSeq agrees is not the validator\'s business (the UA core answers 501)', () => {
    assert.deepEqual(validateRequest(req({ method: 'NEWMETHOD' })), { ok: true });
  });
  test('a Content-Length that does not match the body is 400', () => {
    const r = createRequest({ method: 'MESSAGE', uri: 'sip:bob@biloxi.example.com', from: '<sip:a@atlanta.example.com>', to: '<sip:bob@biloxi.example.com>', via: { transport: 'UDP', host: 'a.example.com' }, body: 'hello', contentType: 'text/plain' });
    assert.deepEqual(validateRequest(r), { ok: true });
    r.set('Content-Length', '4');
    fails(validateRequest(r), 400, /Content-Length/);
  });
});

describe('malformed headers found now (never throws)', () => {
  test('a malformed known header is 400 with its reason', () => {
    fails(validateRequest(req({ add: ['Expires: soon'] })), 400, /Expires/);
    fails(validateRequest(req({ set: { To: '"unterminated <sip:bob@biloxi.example.com>' } })), 400, /To/);
    fails(validateRequest(req({ set: { CSeq: 'x OPTIONS' } })), 400, /CSeq/);
  });
  test('a Via with another SIP version keeps its 505 (RFC 4475 §3.1.2.16)', () => {
    fails(validateRequest(req({ set: { Via: 'SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw' } })), 505);
  });
  test('a malformed Request-URI is 400', () => {
    fails(validateRequest(req({ uri: 'sip:bob@bad..host' })), 400);
  });
  test('Contact: * with another Contact is 400 (RFC 3261 §10.2.2)', () => {
    fails(validateRequest(req({ method: 'REGISTER', add: ['Contact: *', 'Contact: <sip:a@b.example.com>'] })), 400);
  });
});

test('a Via branch that is only the magic cookie is 400 (RFC 4475 §3.2.1 badbranch)', () => {
  fails(validateRequest(req({ set: { Via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK' } })), 400, /branch/);
  assert.deepEqual(validateRequest(req({ set: { Via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx' } })), { ok: true });
  assert.deepEqual(validateRequest(req({ set: { Via: 'SIP/2.0/UDP 192.0.2.1' } })), { ok: true }, 'RFC 2543: no branch at all');
});

test('a Request-URI scheme other than sip, sips, tel is 416 (RFC 3261 §8.2.2.1; RFC 4475 §3.3.2, §3.3.3)', () => {
  fails(validateRequest(req({ uri: 'nobodyKnowsThisScheme:totallyopaquecontent' })), 416, /scheme/i);
  fails(validateRequest(req({ uri: 'http://www.example.com/' })), 416);
  fails(validateRequest(req({ uri: 'soap.beep://192.0.2.103:3002' }), { role: 'proxy' }), 416);
  assert.deepEqual(validateRequest(req({ uri: 'sips:bob@biloxi.example.com' })), { ok: true });
  assert.deepEqual(validateRequest(req({ uri: 'tel:+1-201-555-0123' })), { ok: true });
});

test('Max-Forwards 0 is 483 at a proxy only (RFC 3261 §16.3 step 3; RFC 4475 §3.3.11 zeromf)', () => {
  fails(validateRequest(req({ set: { 'Max-Forwards': '0' } }), { role: 'proxy' }), 483, /Too Many Hops/);
  assert.deepEqual(validateRequest(req({ set: { 'Max-Forwards': '0' } }), { role: 'uas' }), { ok: true });
  assert.deepEqual(validateRequest(req({ set: { 'Max-Forwards': '1' } }), { role: 'proxy' }), { ok: true });
});

test('a REGISTER whose To is not a SIP or SIPS URI is 400 (RFC 3261 §10.3; RFC 4475 §3.3.4 unksm2)', () => {
  fails(validateRequest(req({ method: 'REGISTER', uri: 'sip:example.com', set: { To: 'isbn:2983792873' } })), 400, /REGISTER/);
  fails(validateRequest(req({ method: 'REGISTER', uri: 'sip:example.com', set: { To: '<tel:+12015550123>' } })), 400);
  assert.deepEqual(validateRequest(req({ method: 'REGISTER', uri: 'sip:example.com', set: { To: '<sips:bob@example.com>' } })), { ok: true });
  assert.deepEqual(validateRequest(req({ method: 'OPTIONS', set: { To: 'isbn:2983792873' } })), { ok: true }, 'only REGISTER');
});

describe('Require and Proxy-Require (RFC 3261 §8.2.2.3, §16.3 step 5; RFC 4475 §3.3.5 bext01)', () => {
  test('a UAS answers 420 with one Unsupported per unknown Require tag', () => {
    const h = fails(validateRequest(req({ add: ['Require: foo, 100rel', 'Require: bar'] }), { supported: ['100rel'] }), 420, /Bad Extension/);
    assert.deepEqual(h, [['Unsupported', 'foo'], ['Unsupported', 'bar']]);
  });
  test('supported tags compare case-insensitively', () => {
    assert.deepEqual(validateRequest(req({ add: ['Require: Timer'] }), { supported: ['timer'] }), { ok: true });
  });
  test('a UAS ignores Proxy-Require; a proxy checks only Proxy-Require', () => {
    assert.deepEqual(validateRequest(req({ add: ['Proxy-Require: foo'] }), { role: 'uas' }), { ok: true });
    assert.deepEqual(validateRequest(req({ add: ['Require: foo'] }), { role: 'proxy' }), { ok: true });
    const h = fails(validateRequest(req({ add: ['Proxy-Require: foo'] }), { role: 'proxy' }), 420);
    assert.deepEqual(h, [['Unsupported', 'foo']]);
  });
  test('a UAS does not reject CANCEL or ACK for Require (§8.2.2.3)', () => {
    assert.deepEqual(validateRequest(req({ method: 'CANCEL', add: ['Require: foo'] })), { ok: true });
    assert.deepEqual(validateRequest(req({ method: 'ACK', add: ['Require: foo'] })), { ok: true });
    fails(validateRequest(req({ method: 'BYE', add: ['Require: foo'] })), 420);
  });
});

describe('credentials in an unknown scheme (RFC 4475 §3.3.7 regaut01)', () => {
  test('Authorization or Proxy-Authorization in a scheme not in authSchemes is 401', () => {
    fails(validateRequest(req({ add: ['Authorization: NoOneKnowsThisScheme opaque-data=here'] })), 401, /NoOneKnowsThisScheme/);
    fails(validateRequest(req({ add: ['Proxy-Authorization: Basic dXNlcjpwYXNz'] })), 401);
  });
  test('Digest (any case) passes by default; authSchemes widens the set', () => {
    assert.deepEqual(validateRequest(req({ add: ['Authorization: DIGEST username="a", realm="r", nonce="n", uri="sip:b", response="00"'] })), { ok: true });
    assert.deepEqual(validateRequest(req({ add: ['Authorization: Basic dXNlcjpwYXNz'] }), { authSchemes: ['digest', 'BASIC'] }), { ok: true });
  });
});

describe('body types at a UAS (RFC 3261 §8.2.3; RFC 4475 §3.3.6 invut)', () => {
  test('a body of a type not accepted is 415 with an Accept header listing what is', () => {
    const h = fails(validateRequest(req({ method: 'INVITE', body: '<audio/>', add: ['Content-Type: application/unknownformat'] })), 415, /application\/unknownformat/);
    assert.deepEqual(h, [['Accept', 'application/sdp, multipart/mixed, message/sipfrag, text/plain']]);
  });
  test('acceptTypes replaces the default list; type and subtype compare case-insensitively', () => {
    const r = req({ method: 'MESSAGE', body: 'hi', add: ['Content-Type: Text/HTML'] });
    fails(validateRequest(r), 415);
    assert.deepEqual(validateRequest(r, { acceptTypes: ['text/html'] }), { ok: true });
    const h = fails(validateRequest(req({ method: 'MESSAGE', body: 'hi', add: ['Content-Type: text/plain'] }), { acceptTypes: ['text/html', 'application/json'] }), 415);
    assert.deepEqual(h, [['Accept', 'text/html, application/json']]);
  });
  test('an empty body is not checked, nor is any body at a proxy', () => {
    assert.deepEqual(validateRequest(req({ add: ['Content-Type: application/unknownformat'] })), { ok: true });
    assert.deepEqual(validateRequest(req({ method: 'INVITE', body: '<audio/>', add: ['Content-Type: application/unknownformat'] }), { role: 'proxy' }), { ok: true });
  });
});

describe('an INVITE whose Accept excludes SDP (RFC 3261 §8.2.3; RFC 4475 §3.3.15 sdp01)', () => {
  test('is 406 at a UAS', () => {
    fails(validateRequest(req({ method: 'INVITE', add: ['Accept: text/nobodyKnowsThis'] })), 406, /Accept/);
  });
  test('is ok when Accept lists application/sdp, application/* or */*', () => {
    for (const a of ['text/plain, application/sdp', 'application/*', '*/*', 'APPLICATION/SDP']) {
      assert.deepEqual(validateRequest(req({ method: 'INVITE', add: [`Accept: ${a}`] })), { ok: true }, a);
    }
  });
  test('applies to INVITE at a UAS only', () => {
    assert.deepEqual(validateRequest(req({ method: 'OPTIONS', add: ['Accept: text/nobodyKnowsThis'] })), { ok: true });
    assert.deepEqual(validateRequest(req({ method: 'INVITE', add: ['Accept: text/nobodyKnowsThis'] }), { role: 'proxy' }), { ok: true });
  });
});

test('the first failing check decides: missing headers come before scheme and role checks', () => {
  fails(validateRequest(req({ uri: 'http://x.example.com/', set: { Via: null, 'Max-Forwards': '0' } }), { role: 'proxy' }), 400, /Via/);
  fails(validateRequest(req({ uri: 'http://x.example.com/', set: { 'Max-Forwards': '0' } }), { role: 'proxy' }), 416);
});

/**
 * The byte-level fast paths (fast-scan.ts, fast-frame.ts) against the general parser: for every
 * input, parseMessage (fast path first) and parseMessageGeneral (general parser only) must give the
 * same message, or the same error (status, offset and reason), and every header read from either
 * must give the same value or the same error. Inputs: the fixtures, the RFC 4475 / RFC 5118 corpus,
 * a set of header values around the shapes the fast paths take, and seeded random mutations of all
 * of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { SipParseError } from '../../../src/core/errors.js';
import { parseMessage, parseMessageGeneral } from '../../../src/message/parse-message.js';
import { SipRequest, type SipResponse } from '../../../src/message/message.js';
import { prng } from './headers/fuzz-support.js';

const FIXTURES = new URL('../../../../test/fixtures/', import.meta.url);

const ACCESSORS = [
  'topVia', 'via', 'from', 'to', 'fromTag', 'toTag', 'callId', 'cseq', 'maxForwards', 'contact', 'route', 'recordRoute',
  'path', 'contentLength', 'contentType', 'expires', 'minExpires', 'allow', 'supported', 'require', 'proxyRequire',
  'unsupported', 'event', 'subscriptionState', 'referTo', 'referredBy', 'replaces', 'referSub', 'targetDialog',
  'sessionExpires', 'minSE', 'rseq', 'rack', 'reason', 'bodyText',
] as const;

type Msg = SipRequest | SipResponse;

/** A value with its exact shape: key order, prototypes (null-prototype params print as such), undefined. */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x === undefined) return '<undefined>';
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const proto = Object.getPrototypeOf(x) as object | null;
      const tag = proto === Object.prototype ? '' : proto === null ? 'null-proto' : 'params';
      return tag === '' ? x : { ['<' + tag + '>']: Object.fromEntries(Object.entries(x)) };
    }
    return x;
  });
}

function attempt(f: () => unknown): string {
  try {
    return show(f());
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    return `SipParseError ${e.status} @${e.offset}: ${e.reason}`;
  }
}

/** Everything a caller can read, in a fixed order; `order` picks which reads come first (caching). */
function readAll(m: Msg, order: number): string[] {
  const out: string[] = [];
  const accessors = order % 2 === 0 ? [...ACCESSORS] : [...ACCESSORS].reverse();
  if (m instanceof SipRequest) out.push('uri ' + attempt(() => m.uri), 'uriText ' + m.uriText, 'method ' + m.method);
  else out.push('status ' + m.status, 'reason ' + m.reasonPhrase);
  for (const a of accessors) out.push(a + ' ' + attempt(() => (m as unknown as Record<string, unknown>)[a]));
  if (order % 3 === 1) {
    // Before the header objects exist: lookups by name on the line index.
    for (const n of ['Via', 'v', 'X-Unknown', 'Call-ID', 'i', 'Max-Forwards', 'subject', 'SUPPORTED']) {
      out.push(`has ${n} ${m.has(n)}`, `get ${n} ${show(m.get(n))}`, `getAll ${n} ${show(m.getAll(n))}`, `getParsed ${n} ${attempt(() => m.getParsed(n))}`);
    }
  }
  for (const f of m.headers) {
    out.push(`header ${show([f.key, f.name, f.raw, f.value, f.offset, f.wireLine()])}`, `getParsed ${f.key} ${attempt(() => m.getParsed(f.key))}`);
  }
  out.push('body ' + Buffer.from(m.body).toString('hex'), 'wire ' + m.toBuffer().toString('latin1'));
  return out;
}

/** Parses `bytes` both ways (strict, then lazy) and compares everything. */
function compare(bytes: Buffer, what: string, order = 0): void {
  for (const lazy of [false, true]) {
    let fast: Msg | string;
    let general: Msg | string;
    try {
      fast = parseMessage(bytes, { lazy });
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      fast = `SipParseError ${e.status} @${e.offset}: ${e.reason}`;
    }
    try {
      general = parseMessageGeneral(bytes, { lazy });
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      general = `SipParseError ${e.status} @${e.offset}: ${e.reason}`;
    }
    if (typeof fast === 'string' || typeof general === 'string') {
      assert.equal(fast, general, `${what} (lazy: ${lazy}): ${JSON.stringify(bytes.toString('latin1'))}`);
      continue;
    }
    assert.deepEqual(readAll(fast, order), readAll(general, order), `${what} (lazy: ${lazy}): ${JSON.stringify(bytes.toString('latin1'))}`);
  }
}

function fixtureFiles(): Buffer[] {
  const out: Buffer[] = [];
  for (const dir of ['seed', 'bench', 'conformance/rfc4475', 'conformance/rfc5118']) {
    const url = new URL(dir + '/', FIXTURES);
    for (const f of readdirSync(url).sort()) if (f.endsWith('.sip')) out.push(readFileSync(new URL(f, url)));
  }
  return out;
}

const BASE_HEADERS = [
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
];

function message(startLine: string, headers: string[], body = ''): Buffer {
  const lines = [startLine, ...headers, `Content-Length: ${Buffer.byteLength(body)}`];
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

/** Values around the shapes the fast paths take, per header; each replaces that header in BASE_HEADERS. */
const VALUES: Record<string, string[]> = {
  Via: [
    'SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bK74bf9', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport',
    'SIP/2.0/UDP 192.0.2.1;rport=5060;received=192.0.2.4;branch=z9hG4bKx', 'SIP/2.0/TCP a.b;branch=1, SIP/2.0/UDP c.d:1;branch=2',
    'SIP/2.0/UDP h;branch', 'SIP/2.0/UDP h;branch=', 'SIP/2.0/UDP h;ttl=256', 'SIP/2.0/UDP h;ttl=1;maddr=224.2.0.1',
    'SIP/2.0/UDP 999.1.1.1', 'SIP/2.0/UDP a-.b', 'SIP/2.0/UDP -a.b', 'SIP/2.0/UDP a..b', 'SIP/2.0/UDP a.b.', 'SIP/2.0/UDP 1.2.3',
    'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKa', 'SIP/2.0/udp h', 'SIP/2.0/WSS h;branch=x', 'SIP/2.0/TLS-SCTP h',
    'SIP/2.0/FOO h', 'SIP/2.0/UDP  h', 'SIP/2.0/UDP h:65536', 'SIP/2.0/UDP h:00005060', 'SIP/2.0/UDP h:', 'SIP/2.0/UDP h ;branch=1',
    'SIP/2.0/UDP h;received=::1', 'SIP/2.0/UDP h;rport=65536', 'SIP/2.0/UDP h;branch="x"', 'SIP/2.0/UDP h,', 'SIP/2.0/UDP h, ',
    'SIP/2.0/UDP h;BRANCH=z9', 'SIP/2.0/UDP h;branch=a;branch=b', 'SIP/3.0/UDP h', 'SIP / 2.0 / UDP h', 'SIP/2.0/UDP h;a=[1]',
  ],
  From: [
    'Alice <sip:alice@atlanta.example.com>;tag=1928301774', '"Alice A." <sips:alice@atlanta.example.com:5061;transport=tls>;tag=a',
    '<sip:alice@atlanta.example.com>;tag=x;foo', 'sip:alice@atlanta.example.com;tag=123', 'sip:a;b@host;tag=1', 'sip:a@h?x=y;tag=1',
    'sip:a@h,b;tag=1', 'The  Alice <sip:a@b>;tag=1', 'The Alice<sip:a@b>;tag=1', '"Al\\"ice" <sip:a@b>;tag=1', '"unterminated <sip:a@b>',
    '<sip:a@b> ;tag=1', '<sip:a@b>;tag', '<sip:a@b>;tag="q"', '<sip:A@HOST.Example.COM;LR;Transport=UDP>', '<sip:a@b;lr;lr>',
    '<sip:%61@b>', '<sip:a:pw@b>', '<sip:a@[2001:db8::1]>', '<tel:+1-555>;tag=1', '<sip:a@b', 'Alice', '<sip:@b>', '<sip:a@b:5060:1>',
    '<sip:a@b;m=%41>', '<sip:a@b?subject=x>', '<SIP:a@b>', '<sip:a@1.2.3.4.5>', '<sip:a@b.c.>', 'Alice <sip:a@b>, Bob <sip:c@d>',
    '<sip:a@b>;tag=1,', 'x <sip:a@b>;tag=1', '"" <sip:a@b>', '<sip:a@b>;tag=1;tag=2',
  ],
  Contact: [
    '<sip:alice@pc33.atlanta.example.com>', '<sip:a@b>, <sip:c@d>;q=0.5', '"A" <sip:a@b>;expires=60', '*', '<sip:a@b>,,<sip:c@d>',
    '<sip:a@b> , <sip:c@d>', '<sip:a@b>,<sip:c@d>', 'sip:a@b', '<sip:a@b>;q=2', '<sip:a@b;ob>;+sip.instance="<urn:uuid:1>"', '',
  ],
  CSeq: ['1 INVITE', '4711 FOO', '1  BYE', '1\tACK', '4294967295 ACK', '4294967296 ACK', '01 INVITE', 'x INVITE', '1', '1 INV ITE', '1 INVITE '],
  'Call-ID': ['a84b4c76e66710@pc33.atlanta.example.com', 'abc', 'a@b@c', '@b', 'a@', 'a b', 'a<>:\\"/[]?{}()', 'a@[2001:db8::1]'],
  'Max-Forwards': ['70', '0', '255', '256', '0070', '07a', '', '99999999999'],
  'Content-Type': ['application/sdp', 'Application/SDP', 'text/plain;charset=utf-8', 'text/plain;charset', 'text / plain', '*/*', 'text/', 'multipart/mixed;boundary="x"'],
  Allow: ['INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY', 'INVITE,ACK', 'INVITE,,ACK', 'INVITE ,ACK', 'INVITE;x', ''],
  Supported: ['replaces', 'replaces, 100rel, timer', 'a,'],
  Route: ['<sip:p1.example.com;lr>', '<sip:p1.example.com;lr>, <sip:p2.example.com;lr>', '<sip:p1;lr>,<sip:p2;lr>', '<sip:p1;lr>, ', 'sip:p1;lr'],
  'Record-Route': ['<sip:p1.example.com;lr>, "p2" <sip:p2.example.com;lr;ftag=x>', '<sips:[::1];lr>'],
};

const REQUEST_LINES = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0', 'INVITE sips:bob@biloxi.example.com:5061;transport=tls SIP/2.0',
  'OPTIONS sip:192.0.2.1 SIP/2.0', 'INVITE sip:BOB@Biloxi.Example.Com SIP/2.0', 'INVITE sip:bob@b?x=y SIP/2.0',
  'INVITE tel:+1-555-0100 SIP/2.0', 'INVITE urn:x SIP/2.0', 'INVITE :sip SIP/2.0', 'INVITE <sip:a@b> SIP/2.0', 'INVITE sip:a@b SIP/2.1',
  'INVITE sip:a@b  SIP/2.0', 'invite sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'SIP/2.0 180 Ringing', 'SIP/2.0 200', 'SIP/2.0 099 X',
  'SIP/2.0 200  OK', 'SIP/2.0 2000 OK', 'SIP/2.0 486 Busy Here \u00e9',
];

function corpus(): Buffer[] {
  const out = fixtureFiles();
  for (const [name, values] of Object.entries(VALUES)) {
    for (const v of values) {
      const headers = BASE_HEADERS.filter((h) => !h.startsWith(name + ':'));
      out.push(message('INVITE sip:bob@biloxi.example.com SIP/2.0', [...headers, `${name}: ${v}`]));
      out.push(message('SIP/2.0 200 OK', [`${name}: ${v}`, ...headers]));
    }
  }
  for (const l of REQUEST_LINES) out.push(message(l, BASE_HEADERS, 'v=0\r\n'));
  // Framing: folding, bare CR/LF, whitespace before the colon, compact and odd names, many lines, limits.
  const b = BASE_HEADERS;
  out.push(
    message('INVITE sip:a@b SIP/2.0', [...b, 'Subject: a\r\n b']),
    message('INVITE sip:a@b SIP/2.0', [...b, 'Subject : a']),
    message('INVITE sip:a@b SIP/2.0', [...b, 'v: SIP/2.0/UDP h;branch=x', 'i: x@y', 'l: 0', 'm: <sip:c@d>', 'f: <sip:a@b>;tag=1']),
    message('INVITE sip:a@b SIP/2.0', [...b, 'VIA: SIP/2.0/UDP h', 'call-id: q', 'X-Custom-1: v', 'x.y!z: 1', 'Content-Length: 0']),
    message('INVITE sip:a@b SIP/2.0', [...b, 'Subject:', 'Subject:    ', 'Subject:\ttabbed', `Subject:${' '.repeat(20)}x`]),
    message('INVITE sip:a@b SIP/2.0', [...b, 'Subject: caf\u00c3\u00a9', 'Subject: a\u0000b']),
    message('INVITE sip:a@b SIP/2.0', [...b, ...Array.from({ length: 40 }, (_, i) => `X-H${i}: ${i}`)]),
    message('INVITE sip:a@b SIP/2.0', [...b, `X-Long: ${'x'.repeat(20000)}`]),
    message('INVITE sip:a@b SIP/2.0', [...b, `${'N'.repeat(40)}: long name`]),
    message('INVITE sip:a@b SIP/2.0', [...b, 'Content-Length: 5'], 'hello'),
    Buffer.from('\r\n\r\nINVITE sip:a@b SIP/2.0\r\n' + b.join('\r\n') + '\r\nContent-Length: 0\r\n\r\n', 'latin1'),
    Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + b.join('\r\n') + '\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n0123456789AB', 'latin1'),
    Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + b.join('\r\n') + '\r\nContent-Length: 100\r\n\r\nshort', 'latin1'),
    Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + b.join('\r\n') + '\r\nX: a\rb\r\n\r\n', 'latin1'),
    Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + b.join('\r\n') + '\r\nX: a\nb\r\n\r\n', 'latin1'),
    Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + b.join('\r\n') + '\r\n', 'latin1'),
    Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + b.join('\r\n'), 'latin1'),
  );
  return out;
}

/** One random byte edit (insert, delete, replace, or duplicate a span) of `bytes`. */
function mutateBytes(r: () => number, bytes: Buffer): Buffer {
  const SPECIAL = Buffer.from(' \t\r\n;,=:"\\/<>[]@.*-%?&$\x00\x7f\x80\xff09aZ', 'latin1');
  const at = Math.floor(r() * (bytes.length + 1));
  const byte = r() < 0.7 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : Math.floor(r() * 256);
  switch (Math.floor(r() * 4)) {
    case 0:
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at)]);
    case 1:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    case 2:
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at + 1)]);
    default: {
      const len = Math.floor(r() * 12);
      return Buffer.concat([bytes.subarray(0, at + len), bytes.subarray(at, at + len), bytes.subarray(at + len)]);
    }
  }
}

test('the fast path and the general parser agree on the fixtures, the corpus and hand-picked header values', () => {
  const inputs = corpus();
  inputs.forEach((bytes, i) => compare(bytes, `input ${i}`, i));
});

test('the fast path and the general parser agree on seeded mutations of the corpus', () => {
  const r = prng(0xfa57);
  const inputs = corpus();
  const rounds = Number(process.env.FAST_PATH_ROUNDS ?? 6);
  for (let round = 0; round < rounds; round++) {
    inputs.forEach((bytes, i) => {
      let m = mutateBytes(r, bytes);
      if (r() < 0.5) m = mutateBytes(r, m);
      compare(m, `round ${round} input ${i}`, i + round);
    });
  }
});

test('a message read after another was parsed still reads its own bytes', () => {
  const a = message('INVITE sip:a@one.example.com SIP/2.0', BASE_HEADERS);
  const b = message('SIP/2.0 200 OK', ['Via: SIP/2.0/UDP two.example.com;branch=z9hG4bK2', 'Call-ID: two@x', 'CSeq: 2 BYE']);
  const ma = parseMessage(a, { lazy: true });
  const mb = parseMessage(b, { lazy: true });
  assert.equal(ma.topVia?.host, 'pc33.atlanta.example.com');
  assert.equal(mb.topVia?.host, 'two.example.com');
  assert.equal(ma.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
  assert.deepEqual(mb.cseq, { seq: 2, method: 'BYE' });
  assert.equal((ma as SipRequest).uri.scheme, 'sip');
});

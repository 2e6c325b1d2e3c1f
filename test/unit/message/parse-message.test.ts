/**
 * Unit tests of parseMessage (RFC 3261 §7), SipMessage serialization and createRequest /
 * createResponse (§8.1.1, §8.2.6).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  COMPACT_FORMS, createRequest, createResponse, DEFAULT_LIMITS, formatUri, headerKey, isSipUri, parseMessage,
  SipRequest, SipResponse, type SipUri,
} from '../../../src/message/index.js';
import { SipParseError } from '../../../src/core/errors.js';
import { MAGIC_COOKIE } from '../../../src/core/ids.js';

/** A message from lines (CRLF-joined), the empty line, then `body`; Content-Length is not added. */
function wire(lines: readonly string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

const BASE_HEADERS = [
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Content-Length: 0',
];

function invite(extra: readonly string[] = [], startLine = 'INVITE sip:bob@biloxi.example.com SIP/2.0'): Buffer {
  return wire([startLine, ...BASE_HEADERS, ...extra]);
}

function response(startLine: string): Buffer {
  return wire([startLine, ...BASE_HEADERS]);
}

/** Asserts that fn throws SipParseError with this status (and offset, when given). */
function throwsParse(fn: () => unknown, status: number, offset?: number, reason?: RegExp): SipParseError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SipParseError, `expected SipParseError, got ${String(caught)}`);
  assert.equal(caught.status, status, caught.reason);
  if (offset !== undefined) assert.equal(caught.offset, offset, caught.reason);
  if (reason) assert.match(caught.reason, reason);
  return caught;
}

function asReq(m: SipRequest | SipResponse): SipRequest {
  assert.ok(m instanceof SipRequest);
  return m;
}

function sip(u: unknown): SipUri {
  assert.ok(isSipUri(u as SipUri));
  return u as SipUri;
}

// ---------------------------------------------------------------------------------------------

describe('start line (RFC 3261 §7.1, §7.2)', () => {
  test('a request line is Method SP Request-URI SP SIP-Version', () => {
    const m = asReq(parseMessage(invite()));
    assert.equal(m.method, 'INVITE');
    assert.equal(m.uriText, 'sip:bob@biloxi.example.com');
    assert.equal(m.isRequest, true);
  });

  test('exactly one SP between the elements: two SP, a tab or a trailing SP is 400 (RFC 4475 §3.1.2.9, §3.1.2.10)', () => {
    for (const line of [
      'INVITE  sip:bob@biloxi.example.com SIP/2.0',
      'INVITE sip:bob@biloxi.example.com  SIP/2.0',
      'INVITE sip:bob@biloxi.example.com SIP/2.0 ',
      'INVITE\tsip:bob@biloxi.example.com SIP/2.0',
      'INVITE sip:bob@biloxi.example.com\tSIP/2.0',
      ' INVITE sip:bob@biloxi.example.com SIP/2.0',
      'INVITE sip:bob@biloxi.example.com',
      'INVITE',
    ]) {
      throwsParse(() => parseMessage(invite([], line)), 400, undefined);
    }
  });

  test('the offset of a start-line fault is where the fault is', () => {
    throwsParse(() => parseMessage(invite([], 'INVITE  sip:bob@biloxi.example.com SIP/2.0')), 400, 7);
    // Leading CRLFs (§7.5) shift it.
    const bytes = Buffer.concat([Buffer.from('\r\n\r\n'), invite([], 'INVITE  sip:bob@biloxi.example.com SIP/2.0')]);
    throwsParse(() => parseMessage(bytes), 400, 11);
  });

  test('a well-formed SIP version other than 2.0 is 505 (RFC 3261 §21.5.6), in requests and responses', () => {
    throwsParse(() => parseMessage(invite([], 'INVITE sip:bob@biloxi.example.com SIP/3.0')), 505);
    throwsParse(() => parseMessage(invite([], 'INVITE sip:bob@biloxi.example.com SIP/2.1')), 505);
    throwsParse(() => parseMessage(response('SIP/3.0 200 OK')), 505);
  });

  test('SIP-Version is case-insensitive (RFC 3261 §7.1)', () => {
    assert.equal(asReq(parseMessage(invite([], 'INVITE sip:bob@biloxi.example.com sip/2.0'))).method, 'INVITE');
  });

  test('a malformed version is 400, not 505', () => {
    for (const v of ['SIP/2', 'SIP/2.0.1', 'HTTP/1.1', 'SIP/two', 'SIP 2.0']) {
      throwsParse(() => parseMessage(invite([], `INVITE sip:bob@biloxi.example.com ${v}`)), 400);
    }
  });

  test('junk is 400: no method token, control bytes, empty, only CRLFs, no empty line', () => {
    for (const bytes of [
      Buffer.from('hello world\r\n\r\n'),
      Buffer.from('\x00\x01\x02\r\n\r\n'),
      Buffer.from(''),
      Buffer.from('\r\n\r\n\r\n'),
      Buffer.from('INVITE sip:bob@biloxi.example.com SIP/2.0\r\nTo: <sip:a@b>\r\n'),
      Buffer.from('{"json": true}\r\n\r\n'),
      Buffer.from('@@@ sip:a@b SIP/2.0\r\n\r\n'),
    ]) {
      throwsParse(() => parseMessage(bytes), 400);
      throwsParse(() => parseMessage(bytes, { lazy: true }), 400);
    }
  });

  test('a Request-URI with no scheme, in <>, or with a control or non-ASCII byte is 400', () => {
    for (const uri of ['bob@biloxi.example.com', '<sip:bob@biloxi.example.com>', 'sip:bob@biloxi\x01.example.com', 'sip:b\xe9b@biloxi.example.com']) {
      throwsParse(() => parseMessage(invite([], `INVITE ${uri} SIP/2.0`)), 400);
    }
  });

  test('status line: three-digit code 100-699 and a reason phrase that may be empty or UTF-8', () => {
    const ok = parseMessage(response('SIP/2.0 180 Ringing'));
    assert.ok(ok instanceof SipResponse);
    assert.equal(ok.status, 180);
    assert.equal(ok.reasonPhrase, 'Ringing');
    assert.equal(ok.isRequest, false);
    const empty = parseMessage(response('SIP/2.0 486 '));
    assert.ok(empty instanceof SipResponse);
    assert.equal(empty.reasonPhrase, '');
    const utf8 = parseMessage(Buffer.concat([Buffer.from('SIP/2.0 603 '), Buffer.from('Отклонено'), wire(['', ...BASE_HEADERS])]));
    assert.ok(utf8 instanceof SipResponse);
    assert.equal(utf8.reasonPhrase, 'Отклонено');
    for (const line of ['SIP/2.0 99 Low', 'SIP/2.0 700 High', 'SIP/2.0 2000 Long', 'SIP/2.0 4294967301 Big', 'SIP/2.0 2x0 OK', 'SIP/2.0  200 OK', 'SIP/2.0 200 Bad\x01Reason']) {
      throwsParse(() => parseMessage(response(line)), 400, undefined);
    }
  });

  test('CRLFs before the start line are ignored (RFC 3261 §7.5) and not part of toBuffer()', () => {
    const bytes = invite();
    const m = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n\r\n'), bytes]));
    assert.ok(m.toBuffer().equals(bytes));
  });
});

describe('header lines (RFC 3261 §7.3)', () => {
  test('folded values unfold to one SP-separated value (§7.3.1)', () => {
    const m = parseMessage(invite(['Subject: I know you\'re there,\r\n         pick up the phone\r\n\tand talk to me!']));
    assert.equal(m.get('subject'), "I know you're there, pick up the phone and talk to me!");
    const f = parseMessage(wire([
      'INVITE sip:bob@biloxi.example.com SIP/2.0',
      'Via: SIP/2.0/UDP pc33.atlanta.example.com\r\n ;branch=z9hG4bK776asdhds',
      'To:\r\n Bob\r\n <sip:bob@biloxi.example.com>',
      'From: <sip:alice@atlanta.example.com>\r\n\t;tag=1928301774',
      'Call-ID: a84b4c76e66710',
      'CSeq:\r\n 314159\r\n INVITE',
    ]));
    assert.equal(f.to.displayName, 'Bob');
    assert.equal(f.from.params.tag, '1928301774');
    assert.equal(f.via[0]!.params.branch, 'z9hG4bK776asdhds');
    assert.deepEqual(f.cseq, { seq: 314159, method: 'INVITE' });
  });

  test('a continuation line right after the start line, a line without a colon or without a name is 400 at its offset', () => {
    const lines = ['INVITE sip:bob@biloxi.example.com SIP/2.0', ' folded: start', ...BASE_HEADERS];
    throwsParse(() => parseMessage(wire(lines)), 400, 43);
    const noColon = invite(['Subject no colon']);
    throwsParse(() => parseMessage(noColon), 400, noColon.indexOf('Subject no colon'));
    const noName = invite([': value']);
    throwsParse(() => parseMessage(noName), 400, noName.indexOf(': value'));
  });

  test('a bare CR or LF in the header section is 400 at its offset, strict and lazy, as StreamFramer rejects it (§7.3.1)', () => {
    // Otherwise `Subject: a<LF>Via: ...` is one Subject here and an extra Via to an LF-tolerant peer.
    for (const bad of ['Subject: a\nVia: SIP/2.0/UDP evil.example.com;branch=z9hG4bKe', 'Subject: a\rVia: SIP/2.0/UDP evil.example.com', 'Subject: a\r\r\n b']) {
      const bytes = invite([bad]);
      const at = bytes.indexOf('Subject: a') + 'Subject: a'.length;
      throwsParse(() => parseMessage(bytes), 400, at);
      throwsParse(() => parseMessage(bytes, { lazy: true }), 400, at);
    }
    // In the body they are just bytes.
    const m = parseMessage(wire(['INVITE sip:bob@biloxi.example.com SIP/2.0', ...BASE_HEADERS.slice(0, -1), 'Content-Length: 5'], 'a\nb\rc'));
    assert.equal(m.bodyText, 'a\nb\rc');
  });

  test('set(), append() and prepend() never let a value break its line into a new header (CRLF injection)', () => {
    const m = parseMessage(invite());
    let threw = false;
    try {
      m.set('Subject', 'hi\r\nVia: SIP/2.0/UDP evil.example.com;branch=z9hG4bKe');
    } catch {
      threw = true;
    }
    if (!threw) assert.equal(parseMessage(m.toBuffer()).via.length, 1, 'no Via was injected');
    for (const op of ['append', 'prepend'] as const) {
      const n = parseMessage(invite());
      try {
        n[op]('X-A', 'a\nVia: SIP/2.0/UDP evil.example.com;branch=z9hG4bKe\rVia: SIP/2.0/UDP evil2.example.com');
      } catch {
        continue;
      }
      const back = parseMessage(n.toBuffer());
      assert.equal(back.via.length, 1, op);
      assert.equal(back.getAll('x-a').length, 1, op);
    }
  });

  test('whitespace between the name and the colon is allowed (HCOLON), names are case-insensitive', () => {
    const m = parseMessage(invite(['sUbJeCt  \t: hello', 'X-Custom : v']));
    assert.equal(m.get('Subject'), 'hello');
    assert.equal(m.get('x-custom'), 'v');
    assert.equal(m.fields('SUBJECT')[0]!.name, 'sUbJeCt', 'the name is kept as written');
  });

  test('the compact forms i m v f t l k c e s o r b x u y map to their long names (§7.3.3, RFC 3515, 3892, 4028, 6665)', () => {
    const expected: Record<string, string> = {
      i: 'call-id', m: 'contact', v: 'via', f: 'from', t: 'to', l: 'content-length', k: 'supported', c: 'content-type',
      e: 'content-encoding', s: 'subject', o: 'event', r: 'refer-to', b: 'referred-by', x: 'session-expires',
      u: 'allow-events', y: 'identity',
    };
    for (const [c, key] of Object.entries(expected)) {
      assert.equal(COMPACT_FORMS[c], key);
      assert.equal(headerKey(c), key);
      assert.equal(headerKey(c.toUpperCase()), key);
    }
    const body = 'hello';
    const m = parseMessage(wire([
      'REFER sip:bob@biloxi.example.com SIP/2.0',
      'v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
      'f: <sip:alice@atlanta.example.com>;tag=1928301774',
      't: <sip:bob@biloxi.example.com>',
      'I: compact-call-id@pc33',
      'CSeq: 1 REFER',
      'M: <sip:alice@pc33.atlanta.example.com>',
      'k: replaces, 100rel',
      'c: text/plain',
      'e: gzip',
      's: compact subject',
      'o: refer;id=7',
      'r: <sip:carol@chicago.example.com>',
      'b: <sip:alice@atlanta.example.com>',
      'x: 1800;refresher=uac',
      'u: refer, dialog',
      'y: aWRlbnRpdHk=',
      `l: ${body.length}`,
    ], body));
    assert.equal(m.via[0]!.host, 'pc33.atlanta.example.com');
    assert.equal(m.from.params.tag, '1928301774');
    assert.equal(sip(m.to.uri).user, 'bob');
    assert.equal(m.callId, 'compact-call-id@pc33');
    assert.equal(m.get('Call-ID'), 'compact-call-id@pc33');
    assert.equal(sip((m.contact as { uri: unknown }[])[0]!.uri).host, 'pc33.atlanta.example.com');
    assert.deepEqual(m.supported, ['replaces', '100rel']);
    assert.equal(m.contentType?.subtype, 'plain');
    assert.equal(m.get('Content-Encoding'), 'gzip');
    assert.equal(m.get('Subject'), 'compact subject');
    assert.equal(m.event?.type, 'refer');
    assert.equal(m.event?.params.id, '7');
    assert.equal(sip(m.referTo!.uri).user, 'carol');
    assert.equal(sip(m.referredBy!.uri).user, 'alice');
    assert.equal(m.sessionExpires?.deltaSeconds, 1800);
    assert.equal(m.sessionExpires?.refresher, 'uac');
    assert.deepEqual(m.getParsed('Allow-Events'), ['refer', 'dialog']);
    assert.equal(m.get('Identity'), 'aWRlbnRpdHk=');
    assert.equal(m.contentLength, 5);
    assert.equal(Buffer.from(m.body).toString(), body);
    for (const key of Object.values(expected)) assert.ok(m.has(key), key);
  });

  test('an unknown header is kept as text; getParsed returns the text', () => {
    const m = parseMessage(invite(['X-Odd:   ;;,,<>"unbalanced']));
    assert.equal(m.get('x-odd'), ';;,,<>"unbalanced');
    assert.equal(m.getParsed('X-Odd'), ';;,,<>"unbalanced');
  });

  test('list headers merge across lines and commas; getAll returns each line', () => {
    const m = parseMessage(invite(['Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>', 'Route: <sip:p3.example.com;lr>']));
    assert.deepEqual(m.route.map((r) => sip(r.uri).host), ['p1.example.com', 'p2.example.com', 'p3.example.com']);
    assert.equal(m.getAll('route').length, 2);
  });

  test('a missing mandatory header reads as SipParseError 400', () => {
    const m = parseMessage(wire(['OPTIONS sip:bob@biloxi.example.com SIP/2.0', 'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1']));
    throwsParse(() => m.to, 400);
    throwsParse(() => m.from, 400);
    throwsParse(() => m.callId, 400);
    throwsParse(() => m.cseq, 400);
  });

  test('Content-Length: the body is exactly that long; more is cut (§18.3), less is 400, a bad value is 400', () => {
    const body = 'v=0\r\n';
    const m = parseMessage(wire(['INVITE sip:bob@biloxi.example.com SIP/2.0', ...BASE_HEADERS.slice(0, -1), 'Content-Length: 3'], body));
    assert.equal(Buffer.from(m.body).toString(), 'v=0');
    throwsParse(() => parseMessage(wire(['INVITE sip:b@b.example.com SIP/2.0', ...BASE_HEADERS.slice(0, -1), 'Content-Length: 10'], body)), 400);
    for (const v of ['-1', 'five', '1 2', '', '99999999999']) {
      throwsParse(() => parseMessage(wire(['INVITE sip:b@b.example.com SIP/2.0', ...BASE_HEADERS.slice(0, -1), `Content-Length: ${v}`], body)), 400);
      throwsParse(() => parseMessage(wire(['INVITE sip:b@b.example.com SIP/2.0', ...BASE_HEADERS.slice(0, -1), `Content-Length: ${v}`], body), { lazy: true }), 400);
    }
  });

  test('without Content-Length a datagram body is the rest of the datagram', () => {
    const m = parseMessage(wire(['INVITE sip:bob@biloxi.example.com SIP/2.0', ...BASE_HEADERS.slice(0, -1)], 'abc\r\ndef'));
    assert.equal(Buffer.from(m.body).toString(), 'abc\r\ndef');
  });
});

describe('strict and lazy modes', () => {
  const BAD_TO = 'To: "unterminated <sip:bob@biloxi.example.com>';
  function badTo(): Buffer {
    return wire(['INVITE sip:bob@biloxi.example.com SIP/2.0', ...BASE_HEADERS.map((h) => (h.startsWith('To:') ? BAD_TO : h))]);
  }

  test('strict (default): a malformed To throws at parse, with the To line offset', () => {
    const bytes = badTo();
    throwsParse(() => parseMessage(bytes), 400, bytes.indexOf(BAD_TO));
    throwsParse(() => parseMessage(bytes, { lazy: false }), 400, bytes.indexOf(BAD_TO));
  });

  test('lazy: a malformed To does not throw at parse, but when .to is read, with the line offset', () => {
    const bytes = badTo();
    const m = parseMessage(bytes, { lazy: true });
    assert.equal(m.callId, 'a84b4c76e66710@pc33.atlanta.example.com', 'other headers read fine');
    assert.equal(m.via[0]!.params.branch, 'z9hG4bK776asdhds');
    const e = throwsParse(() => m.to, 400, bytes.indexOf(BAD_TO));
    assert.match(e.reason, /To/);
    // Every read throws again (the error is not swallowed by a cache).
    throwsParse(() => m.to, 400, bytes.indexOf(BAD_TO));
    throwsParse(() => m.getParsed('t'), 400, bytes.indexOf(BAD_TO));
    // And the unchanged message still relays byte for byte.
    assert.ok(m.toBuffer().equals(bytes));
  });

  test('lazy: a malformed Request-URI is found when .uri is read', () => {
    const bytes = invite([], 'INVITE sip:bob@bad..host SIP/2.0');
    throwsParse(() => parseMessage(bytes), 400);
    const m = asReq(parseMessage(bytes, { lazy: true }));
    assert.equal(m.uriText, 'sip:bob@bad..host');
    throwsParse(() => m.uri, 400, 'INVITE '.length);
  });

  test('lazy: a malformed Via in a later line throws on .via, at that line', () => {
    const bytes = invite(['Via: SIP/2.0/UDP ;;']);
    const m = parseMessage(bytes, { lazy: true });
    assert.equal(m.topVia?.host, 'pc33.atlanta.example.com', 'topVia reads only the first line');
    throwsParse(() => m.via, 400, bytes.indexOf('Via: SIP/2.0/UDP ;;'));
  });

  test('strict: each known header is checked (e.g. Max-Forwards 256, CSeq method mismatch, Contact * with another)', () => {
    throwsParse(() => parseMessage(invite(['Max-Forwards: 256'])), 400);
    throwsParse(() => parseMessage(invite([], 'OPTIONS sip:bob@biloxi.example.com SIP/2.0')), 400, undefined, /CSeq/);
    throwsParse(() => parseMessage(invite(['Contact: *'])), 400);
    assert.ok(parseMessage(invite(['Contact: *']), { lazy: true }));
  });

  test('parsed values are cached: the same object is returned on every read', () => {
    const m = asReq(parseMessage(invite(['Route: <sip:p1.example.com;lr>'])));
    assert.equal(m.via, m.via);
    assert.equal(m.to, m.to);
    assert.equal(m.from, m.from);
    assert.equal(m.cseq, m.cseq);
    assert.equal(m.contact, m.contact);
    assert.equal(m.route, m.route);
    assert.equal(m.uri, m.uri);
    assert.equal(m.getParsed('v'), m.via);
    assert.equal(m.getParsed('To'), m.to);
    const lazy = parseMessage(invite(), { lazy: true });
    assert.equal(lazy.via, lazy.via);
    assert.equal(lazy.to, lazy.to);
  });

  test('changing a header drops its cached value and only its', () => {
    const m = parseMessage(invite());
    const via = m.via;
    const to = m.to;
    m.prepend('Via', 'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp1');
    assert.notEqual(m.via, via);
    assert.deepEqual(m.via.map((v) => v.host), ['proxy.example.com', 'pc33.atlanta.example.com']);
    assert.equal(m.to, to);
    m.set('To', '<sip:carol@chicago.example.com>');
    assert.equal(sip(m.to.uri).user, 'carol');
  });
});

describe('limits (DEFAULT_LIMITS and ParseOptions.limits)', () => {
  test('maxMessageSize: over is 513 Message Too Large (RFC 3261 §18.1.1, §21.5.14); exactly at it parses', () => {
    const bytes = invite();
    throwsParse(() => parseMessage(bytes, { limits: { maxMessageSize: bytes.length - 1 } }), 513);
    assert.ok(parseMessage(bytes, { limits: { maxMessageSize: bytes.length } }));
    const big = wire(['INVITE sip:b@b.example.com SIP/2.0', ...BASE_HEADERS.slice(0, -1)], 'x'.repeat(DEFAULT_LIMITS.maxMessageSize));
    throwsParse(() => parseMessage(big), 513);
    throwsParse(() => parseMessage(big, { lazy: true }), 513);
  });

  test('maxHeaders: more header lines than the limit is 400; exactly the limit parses', () => {
    const n = BASE_HEADERS.length;
    assert.ok(parseMessage(invite(), { limits: { maxHeaders: n } }));
    throwsParse(() => parseMessage(invite(['X-One: 1']), { limits: { maxHeaders: n } }), 400);
    const many = invite(Array.from({ length: DEFAULT_LIMITS.maxHeaders }, (_, i) => `X-H${i}: ${i}`));
    throwsParse(() => parseMessage(many), 400, undefined, /header/);
  });

  test('maxLineLength: a longer header line or start line is 400; the folded line counts whole', () => {
    const v = 'a'.repeat(100);
    const line = `Subject: ${v}`;
    assert.ok(parseMessage(invite([line]), { limits: { maxLineLength: line.length } }));
    const bytes = invite([line]);
    throwsParse(() => parseMessage(bytes, { limits: { maxLineLength: line.length - 1 } }), 400, bytes.indexOf(line));
    const folded = `Subject: ${'a'.repeat(60)}\r\n ${'b'.repeat(60)}`;
    throwsParse(() => parseMessage(invite([folded]), { limits: { maxLineLength: 100 } }), 400);
    const longUri = `INVITE sip:${'u'.repeat(200)}@example.com SIP/2.0`;
    throwsParse(() => parseMessage(invite([], longUri), { limits: { maxLineLength: 100 } }), 400);
    throwsParse(() => parseMessage(invite([`Subject: ${'x'.repeat(DEFAULT_LIMITS.maxLineLength + 1)}`])), 400);
  });
});

describe('serialization', () => {
  const ODD = wire([
    'INVITE sip:bob@biloxi.example.com;transport=udp SIP/2.0',
    'v:  SIP / 2.0 / UDP   pc33.atlanta.example.com ;branch = z9hG4bK776asdhds , SIP/2.0/UDP second.example.com;branch=z9hG4bK2',
    'Via:SIP/2.0/TCP\tthird.example.com;branch=z9hG4bK3',
    'MAX-FORWARDS :   70',
    't: Bob\r\n  <sip:bob@biloxi.example.com>',
    'From:"Alice \\"A\\"" <sip:alice@atlanta.example.com>  ;tag=1928301774',
    'i: a84b4c76e66710',
    'CSeq:   314159    INVITE',
    'X-Unknown: keep   this   spacing   ',
    'Content-Type: application/sdp',
    'l: 4',
  ], 'v=0\r\n');

  test('an unchanged message serializes to exactly the bytes it was parsed from (strict and lazy)', () => {
    const m = parseMessage(ODD);
    // read everything, which must not change the bytes
    void m.via; void m.to; void m.from; void m.cseq; void m.maxForwards;
    const expected = ODD.subarray(0, ODD.length - 1); // Content-Length 4 cuts the final LF
    assert.ok(m.toBuffer().equals(expected));
    assert.ok(parseMessage(ODD, { lazy: true }).toBuffer().equals(expected));
    assert.equal(m.toString(), expected.toString('utf8'));
  });

  function linesOf(b: Buffer): string[] {
    const s = b.toString('latin1');
    const headEnd = s.indexOf('\r\n\r\n');
    return s.slice(0, headEnd).split(/\r\n(?![ \t])/);
  }

  test('after prepend(), only the new line differs; every other line is byte-identical', () => {
    const m = parseMessage(ODD);
    m.prepend('Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKpx');
    const before = linesOf(ODD);
    const after = linesOf(m.toBuffer());
    assert.deepEqual(after, [before[0], 'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKpx', ...before.slice(1)]);
    assert.ok(m.toBuffer().subarray(m.toBuffer().length - 4).equals(Buffer.from('v=0\r')), 'body kept');
    assert.deepEqual(parseMessage(m.toBuffer()).via.map((v) => v.host), ['proxy.example.com', 'pc33.atlanta.example.com', 'second.example.com', 'third.example.com']);
  });

  test('after set(), the header\'s lines become one line in the first one\'s place; the rest is byte-identical', () => {
    const m = parseMessage(ODD);
    m.set('Max-Forwards', '69');
    const before = linesOf(ODD);
    assert.deepEqual(linesOf(m.toBuffer()), before.map((l) => (l.startsWith('MAX-FORWARDS') ? 'Max-Forwards: 69' : l)));
    assert.equal(parseMessage(m.toBuffer()).maxForwards, 69);
    const v = parseMessage(ODD);
    v.set('via', 'SIP/2.0/UDP only.example.com;branch=z9hG4bKo');
    assert.deepEqual(linesOf(v.toBuffer()), [before[0], 'Via: SIP/2.0/UDP only.example.com;branch=z9hG4bKo', ...before.slice(3)]);
  });

  test('after removeFirst(), only the first value goes; the rest of its line and all other lines stay', () => {
    const m = parseMessage(ODD);
    m.removeFirst('Via');
    const before = linesOf(ODD);
    const after = linesOf(m.toBuffer());
    assert.deepEqual(after.slice(2), before.slice(2));
    assert.equal(after[0], before[0]);
    assert.match(after[1]!, /^v: SIP\/2\.0\/UDP second\.example\.com;branch=z9hG4bK2$/);
    assert.deepEqual(parseMessage(m.toBuffer()).via.map((v) => v.host), ['second.example.com', 'third.example.com']);
    m.removeFirst('Via');
    assert.deepEqual(linesOf(m.toBuffer()), [before[0], ...before.slice(2)]);
    m.removeFirst('Via');
    assert.equal(m.has('via'), false);
    assert.equal(m.removeFirst('Via'), m, 'no Via left: no-op');
  });

  test('append() adds after the last line of that header; removeAll() removes every line and returns the count', () => {
    const m = parseMessage(ODD);
    m.append('Via', 'SIP/2.0/UDP last.example.com;branch=z9hG4bKl');
    const after = linesOf(m.toBuffer());
    assert.equal(after[3], 'Via: SIP/2.0/UDP last.example.com;branch=z9hG4bKl');
    assert.equal(m.removeAll('v'), 3);
    assert.equal(m.removeAll('v'), 0);
    assert.equal(m.via.length, 0);
  });

  test('setting the Request-URI changes only the start line', () => {
    const m = asReq(parseMessage(ODD));
    m.uri = 'sip:carol@chicago.example.com';
    const before = linesOf(ODD);
    assert.deepEqual(linesOf(m.toBuffer()), ['INVITE sip:carol@chicago.example.com SIP/2.0', ...before.slice(1)]);
  });

  test('setBody() changes the body and Content-Length only', () => {
    const m = parseMessage(ODD);
    m.setBody('hello world');
    const out = m.toBuffer();
    const before = linesOf(ODD);
    assert.deepEqual(linesOf(out), before.map((l) => (l === 'l: 4' ? 'Content-Length: 11' : l)));
    assert.ok(out.subarray(out.length - 11).equals(Buffer.from('hello world')));
    const back = parseMessage(out);
    assert.equal(back.bodyText, 'hello world');
  });

  test('a value with UTF-8 text round-trips through set() and the wire', () => {
    const m = parseMessage(invite());
    m.set('Subject', 'Grüße, 世界');
    const back = parseMessage(m.toBuffer());
    assert.equal(back.get('subject'), 'Grüße, 世界');
  });
});

describe('createRequest (RFC 3261 §8.1.1)', () => {
  test('fills in a Via branch with the magic cookie, a From tag, a Call-ID, Max-Forwards 70 and CSeq', () => {
    const r = createRequest({
      method: 'INVITE',
      uri: 'sip:bob@biloxi.example.com',
      from: 'Alice <sip:alice@atlanta.example.com>',
      to: 'Bob <sip:bob@biloxi.example.com>',
      via: { transport: 'UDP', host: 'pc33.atlanta.example.com', port: 5060 },
      contact: '<sip:alice@pc33.atlanta.example.com>',
    });
    const m = asReq(parseMessage(r.toBuffer()));
    assert.equal(m.method, 'INVITE');
    assert.equal(formatUri(m.uri), 'sip:bob@biloxi.example.com');
    const via = m.via;
    assert.equal(via.length, 1);
    assert.equal(via[0]!.transport, 'UDP');
    assert.equal(via[0]!.port, 5060);
    assert.ok(via[0]!.params.branch!.startsWith(MAGIC_COOKIE), '§8.1.1.7 magic cookie');
    assert.ok(via[0]!.params.branch!.length > MAGIC_COOKIE.length + 8, 'and randomness after it');
    assert.ok(m.from.params.tag && m.from.params.tag.length >= 4, '§8.1.1.3 From tag');
    assert.equal(m.to.params.tag, undefined, 'no To tag outside a dialog');
    assert.ok(m.callId.length >= 16, '§8.1.1.4 Call-ID');
    assert.equal(m.maxForwards, 70, '§8.1.1.6');
    assert.deepEqual(m.cseq, { seq: 1, method: 'INVITE' }, '§8.1.1.5');
    assert.equal(m.contentLength, 0);
    assert.equal(m.body.length, 0);
    // Two requests share none of the generated ids.
    const r2 = createRequest({ method: 'INVITE', uri: 'sip:bob@biloxi.example.com', from: '<sip:alice@atlanta.example.com>', to: '<sip:bob@biloxi.example.com>', via: { transport: 'UDP', host: 'pc33.atlanta.example.com' } });
    assert.notEqual(r2.callId, r.callId);
    assert.notEqual(r2.from.params.tag, r.from.params.tag);
    assert.notEqual(r2.via[0]!.params.branch, r.via[0]!.params.branch);
  });

  test('keeps what it is given: Call-ID, CSeq, Max-Forwards, an existing From tag and branch, routes, body', () => {
    const r = createRequest({
      method: 'MESSAGE',
      uri: 'sip:bob@biloxi.example.com',
      from: '<sip:alice@atlanta.example.com>;tag=abc',
      to: '<sip:bob@biloxi.example.com>',
      callId: 'fixed@host',
      cseq: 42,
      maxForwards: 10,
      via: { transport: 'TCP', host: 'a.example.com', params: { branch: 'z9hG4bKmine' } },
      route: ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'],
      headers: [['X-A', '1'], ['X-A', '2']],
      body: 'hi there',
      contentType: 'text/plain',
    });
    const m = parseMessage(r.toBuffer());
    assert.equal(m.callId, 'fixed@host');
    assert.deepEqual(m.cseq, { seq: 42, method: 'MESSAGE' });
    assert.equal(m.maxForwards, 10);
    assert.equal(m.from.params.tag, 'abc');
    assert.equal(m.via[0]!.params.branch, 'z9hG4bKmine');
    assert.deepEqual(m.route.map((x) => sip(x.uri).host), ['p1.example.com', 'p2.example.com']);
    assert.deepEqual(m.getAll('x-a'), ['1', '2']);
    assert.equal(m.bodyText, 'hi there');
    assert.equal(m.contentLength, 8);
    assert.equal(m.contentType?.subtype, 'plain');
  });
  test('string URIs and name-addrs are checked: a scheme-less or malformed one is SipParseError, never emitted', () => {
    const base = { method: 'OPTIONS', uri: 'sip:bob@biloxi.example.com', from: '<sip:alice@atlanta.example.com>', to: '<sip:bob@biloxi.example.com>' };
    throwsParse(() => createRequest({ ...base, uri: 'bob@biloxi.example.com' }), 400);
    throwsParse(() => createRequest({ ...base, from: '<alice@atlanta.example.com>' }), 400);
    throwsParse(() => createRequest({ ...base, to: 'Bob <biloxi.example.com' }), 400);
    throwsParse(() => createRequest({ ...base, contact: '<alice@pc33.atlanta.example.com>' }), 400);
    throwsParse(() => createRequest({ ...base, route: ['<p1.example.com;lr>'] }), 400);
    // Valid strings are written exactly as given.
    const r = createRequest({ ...base, to: '"Bob" <sip:bob@biloxi.example.com>;x=1' });
    assert.equal(r.get('to'), '"Bob" <sip:bob@biloxi.example.com>;x=1');
  });
});

describe('createResponse (RFC 3261 §8.2.6)', () => {
  const REQ = wire([
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP proxy2.example.com;branch=z9hG4bKp2, SIP/2.0/UDP proxy1.example.com;branch=z9hG4bKp1',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1',
    'Max-Forwards: 68',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Timestamp: 54.3 0.2',
    'Contact: <sip:alice@pc33.atlanta.example.com>',
    'Record-Route: <sip:proxy2.example.com;lr>',
    'Content-Length: 0',
  ]);

  test('copies Via (all values, in order), From, Call-ID and CSeq as received (§8.2.6.2)', () => {
    const req = asReq(parseMessage(REQ));
    const res = createResponse(req, 180);
    const back = parseMessage(res.toBuffer());
    assert.ok(back instanceof SipResponse);
    assert.equal(back.status, 180);
    assert.equal(back.reasonPhrase, 'Ringing');
    assert.deepEqual(back.via.map((v) => v.host), ['proxy2.example.com', 'proxy1.example.com', 'pc33.atlanta.example.com']);
    assert.deepEqual(back.getAll('via'), req.getAll('via'), 'Via lines copied as received');
    assert.equal(back.get('from'), req.get('from'));
    assert.equal(back.callId, req.callId);
    assert.equal(back.get('cseq'), req.get('cseq'));
    assert.equal(back.has('max-forwards'), false);
    assert.equal(back.has('contact'), false);
    assert.equal(back.has('timestamp'), false, 'Timestamp is echoed only on 100');
    assert.equal(back.contentLength, 0);
  });

  test('adds a To tag on every status but 100 (§8.2.6.2), and keeps the To display name and URI', () => {
    const req = asReq(parseMessage(REQ));
    for (const status of [180, 200, 404, 603]) {
      const to = parseMessage(createResponse(req, status).toBuffer()).to;
      assert.ok(to.params.tag, `${status} has a To tag`);
      assert.equal(to.displayName, 'Bob');
      assert.equal(sip(to.uri).user, 'bob');
    }
    const fixed = parseMessage(createResponse(req, 200, { toTag: 'mytag' }).toBuffer());
    assert.equal(fixed.to.params.tag, 'mytag');
    const trying = parseMessage(createResponse(req, 100).toBuffer());
    assert.equal(trying.to.params.tag, undefined, '100 Trying carries no To tag');
  });

  test('keeps an existing To tag (in-dialog request) rather than adding a second', () => {
    const inDialog = asReq(parseMessage(Buffer.from(REQ.toString('latin1').replace('To: Bob <sip:bob@biloxi.example.com>', 'To: Bob <sip:bob@biloxi.example.com>;tag=existing'), 'latin1')));
    const res = parseMessage(createResponse(inDialog, 200, { toTag: 'other' }).toBuffer());
    assert.equal(res.to.params.tag, 'existing');
    assert.equal(res.getAll('to').length, 1);
    assert.doesNotMatch(res.get('to')!, /tag=.*tag=/);
  });

  test('echoes Timestamp on 100 Trying (§8.2.6.1)', () => {
    const req = asReq(parseMessage(REQ));
    const trying = parseMessage(createResponse(req, 100).toBuffer());
    assert.equal(trying.get('timestamp'), '54.3 0.2');
  });

  test('reason, extra headers and a body', () => {
    const req = asReq(parseMessage(REQ));
    const res = createResponse(req, 486, { reason: 'Busy Here Now', headers: { 'Retry-After': '30' }, body: 'busy', contentType: 'text/plain' });
    const back = parseMessage(res.toBuffer());
    assert.ok(back instanceof SipResponse);
    assert.equal(back.reasonPhrase, 'Busy Here Now');
    assert.equal(back.get('retry-after'), '30');
    assert.equal(back.bodyText, 'busy');
    assert.equal(back.contentLength, 4);
  });

  test('a response to an unchanged parsed request is itself byte-stable once parsed', () => {
    const res = createResponse(asReq(parseMessage(REQ)), 200, { toTag: 't1' });
    const bytes = res.toBuffer();
    assert.ok(parseMessage(bytes).toBuffer().equals(bytes));
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { StreamFramer, type StreamFramerEvents } from '../../../src/message/stream-framer.js';
import { SipParseError } from '../../../src/core/errors.js';
import type { MessageLimits } from '../../../src/message/limits.js';

// --- fixtures -----------------------------------------------------------------------------------

const SDP = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 atlanta.example.com',
  's=-',
  'c=IN IP4 192.0.2.101',
  't=0 0',
  'm=audio 49172 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendrecv',
  '',
].join('\r\n');

/** Builds a message from a start line, header lines and a body; Content-Length is added unless `cl` is null. */
function sip(startLine: string, headers: string[], body = '', cl: string | null = `Content-Length: ${Buffer.byteLength(body)}`): Buffer {
  const lines = [startLine, ...headers];
  if (cl !== null) lines.push(cl);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

const INVITE = sip(
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  [
    'Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9',
    'Max-Forwards: 70',
    'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
    'To: Bob <sip:bob@biloxi.example.com>',
    'Call-ID: 3848276298220188511@atlanta.example.com',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@client.atlanta.example.com;transport=tcp>',
    'Content-Type: application/sdp',
  ],
  SDP,
);

const OK_200 = sip(
  'SIP/2.0 200 OK',
  [
    'Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101',
    'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
    'To: Bob <sip:bob@biloxi.example.com>;tag=8321234356',
    'Call-ID: 3848276298220188511@atlanta.example.com',
    'CSeq: 1 INVITE',
    'Contact: <sip:bob@client.biloxi.example.com;transport=tcp>',
    'Content-Type: application/sdp',
  ],
  SDP.replace(/alice/g, 'bob').replace('192.0.2.101', '192.0.2.201'),
);

const BYE = sip(
  'BYE sip:bob@client.biloxi.example.com;transport=tcp SIP/2.0',
  [
    'Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bKnashds7',
    'Max-Forwards: 70',
    'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
    'To: Bob <sip:bob@biloxi.example.com>;tag=8321234356',
    'Call-ID: 3848276298220188511@atlanta.example.com',
    'CSeq: 2 BYE',
  ],
  '',
  'l: 0',
);

const CRLF = Buffer.from('\r\n');
const PING = Buffer.from('\r\n\r\n');

// --- helpers ------------------------------------------------------------------------------------

interface Recorder {
  framer: StreamFramer;
  messages: Buffer[];
  /** 'msg', 'ping' and 'pong' in the order they were reported. */
  log: string[];
}

function recorder(limits?: Partial<MessageLimits>, extra?: Partial<StreamFramerEvents>): Recorder {
  const messages: Buffer[] = [];
  const log: string[] = [];
  const framer = new StreamFramer(
    {
      onMessage(bytes) {
        messages.push(bytes);
        log.push('msg');
        extra?.onMessage?.(bytes);
      },
      onPing() {
        log.push('ping');
      },
      onPong() {
        log.push('pong');
      },
    },
    limits,
  );
  return { framer, messages, log };
}

function feed(framer: StreamFramer, stream: Buffer, chunkSizes: number[]): void {
  let at = 0;
  for (const n of chunkSizes) {
    framer.push(stream.subarray(at, at + n));
    at += n;
  }
  if (at < stream.length) framer.push(stream.subarray(at));
}

function expectParseError(fn: () => void, status: number, reason?: RegExp): SipParseError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SipParseError, `expected a SipParseError, got ${String(caught)}`);
  assert.equal(caught.status, status, caught.message);
  if (reason) assert.match(caught.reason, reason);
  return caught;
}

/** Small deterministic PRNG (mulberry32) so random tests replay identically. */
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

const corpus = new URL('../../../../test/fixtures/conformance/', import.meta.url);
function fixture(path: string): Buffer {
  return readFileSync(new URL(path, corpus));
}

// --- framing ------------------------------------------------------------------------------------

test('frames one whole INVITE with an SDP body (RFC 3261 §18.3)', () => {
  const r = recorder();
  r.framer.push(INVITE);
  assert.equal(r.messages.length, 1);
  assert.deepEqual(r.messages[0], INVITE);
  assert.equal(r.framer.inMessage, false);
  assert.equal(r.framer.buffered, 0);
});

test('frames two messages coalesced in one chunk (RFC 3261 §18.3)', () => {
  const r = recorder();
  r.framer.push(Buffer.concat([INVITE, OK_200, BYE]));
  assert.deepEqual(r.messages, [INVITE, OK_200, BYE]);
});

test('frames a two-message stream split at every byte position, including inside CRLF CRLF and Content-Length (RFC 3261 §18.3)', () => {
  const stream = Buffer.concat([INVITE, OK_200]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const r = recorder();
    r.framer.push(stream.subarray(0, cut));
    r.framer.push(stream.subarray(cut));
    assert.deepEqual(r.messages, [INVITE, OK_200], `split at ${cut}`);
    assert.equal(r.framer.inMessage, false, `split at ${cut}`);
  }
});

test('frames a message split into three chunks at every boundary pair around the end of its headers (RFC 3261 §18.3)', () => {
  // The bytes around "Content-Length: NNN CRLF CRLF" are where a framer's state matters most.
  const headEnd = INVITE.indexOf('\r\n\r\n') + 4;
  const from = INVITE.indexOf('Content-Length');
  const stream = Buffer.concat([INVITE, BYE]);
  for (let a = from; a <= headEnd + 2; a++) {
    for (let b = a; b <= headEnd + 4; b++) {
      const r = recorder();
      feed(r.framer, stream, [a, b - a]);
      assert.deepEqual(r.messages, [INVITE, BYE], `cuts at ${a}, ${b}`);
    }
  }
});

test('frames a stream fed one byte at a time (RFC 3261 §18.3)', () => {
  const stream = Buffer.concat([OK_200, BYE, INVITE]);
  const r = recorder();
  let wasInMessage = false;
  for (let i = 0; i < stream.length; i++) {
    r.framer.push(stream.subarray(i, i + 1));
    wasInMessage ||= r.framer.inMessage;
  }
  assert.ok(wasInMessage);
  assert.deepEqual(r.messages, [OK_200, BYE, INVITE]);
});

test('reports progress through inMessage and buffered for slow-sender policing', () => {
  const r = recorder();
  assert.equal(r.framer.inMessage, false);
  r.framer.push(INVITE.subarray(0, 40));
  assert.equal(r.framer.inMessage, true);
  assert.equal(r.framer.buffered, 40);
  const headEnd = INVITE.indexOf('\r\n\r\n') + 4;
  r.framer.push(INVITE.subarray(40, headEnd + 10));
  assert.equal(r.framer.inMessage, true);
  assert.equal(r.framer.buffered, headEnd + 10);
  r.framer.push(INVITE.subarray(headEnd + 10));
  assert.equal(r.framer.inMessage, false);
  assert.equal(r.framer.buffered, 0);
  assert.equal(r.messages.length, 1);
});

test('frames by Content-Length alone when the body holds CRLF CRLF and SIP-looking text (RFC 3261 §18.3)', () => {
  const body = 'v=0\r\n\r\n\r\nSIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n';
  const msg = sip('MESSAGE sip:bob@biloxi.example.com SIP/2.0', ['Content-Type: text/plain', 'CSeq: 1 MESSAGE'], body);
  const stream = Buffer.concat([msg, BYE]);
  for (let cut = 0; cut <= stream.length; cut += 7) {
    const r = recorder();
    feed(r.framer, stream, [cut]);
    assert.deepEqual(r.messages, [msg, BYE], `split at ${cut}`);
    assert.deepEqual(r.log, ['msg', 'msg'], 'CRLFs inside a body are not keep-alives');
  }
});

test('hands over Buffers that later pushes and a reused input chunk never overwrite', () => {
  const r = recorder();
  // The caller reuses one receive buffer for every read, as a socket layer might.
  const scratch = Buffer.alloc(64);
  const stream = Buffer.concat([INVITE, OK_200, BYE]);
  for (let at = 0; at < stream.length; at += scratch.length) {
    const n = stream.copy(scratch, 0, at, at + scratch.length);
    r.framer.push(scratch.subarray(0, n));
    scratch.fill(0x58);
  }
  assert.deepEqual(r.messages, [INVITE, OK_200, BYE]);
  // A message from a single chunk is a copy too.
  const whole = Buffer.from(BYE);
  r.framer.push(whole);
  whole.fill(0);
  assert.deepEqual(r.messages[3], BYE);
});

test('accepts a zero-length body at the very end of a chunk (RFC 3261 §20.14)', () => {
  const r = recorder();
  r.framer.push(BYE);
  assert.deepEqual(r.messages, [BYE]);
  assert.equal(r.framer.inMessage, false);
});

// --- Content-Length recognition -----------------------------------------------------------------

test('recognises the compact form l: and any case of Content-Length (RFC 3261 §7.3.1, §7.3.3)', () => {
  for (const form of ['l: ', 'L:', 'CONTENT-LENGTH: ', 'content-length:', 'Content-length:\t']) {
    const msg = sip('INVITE sip:bob@biloxi.example.com SIP/2.0', ['CSeq: 1 INVITE', 'Content-Type: application/sdp'], SDP, `${form}${SDP.length}`);
    const r = recorder();
    r.framer.push(Buffer.concat([msg, BYE]));
    assert.deepEqual(r.messages, [msg, BYE], form);
  }
});

test('accepts whitespace on both sides of the colon and after the value (RFC 3261 §7.3.1 HCOLON)', () => {
  const msg = sip('INVITE sip:bob@biloxi.example.com SIP/2.0', ['CSeq: 1 INVITE'], SDP, `Content-Length \t :   ${SDP.length}  \t`);
  const r = recorder();
  r.framer.push(Buffer.concat([msg, BYE]));
  assert.deepEqual(r.messages, [msg, BYE]);
});

test('reads a folded Content-Length value (RFC 3261 §7.3.1 line folding)', () => {
  const msg = sip('INVITE sip:bob@biloxi.example.com SIP/2.0', ['CSeq: 1 INVITE'], SDP, `Content-Length:\r\n   ${SDP.length}\r\n\t `);
  const r = recorder();
  r.framer.push(Buffer.concat([msg, BYE]));
  assert.deepEqual(r.messages, [msg, BYE]);
});

test('does not take Content-Length from a folded continuation or the value of another header (RFC 3261 §7.3.1)', () => {
  const msg = sip(
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    ['Subject: lunch\r\n l: 999', 'X-Note: Content-Length: 12', 'X-Content-Length: 77', 'Lx: 3', 'CSeq: 1 INVITE'],
    SDP,
  );
  const r = recorder();
  r.framer.push(Buffer.concat([msg, BYE]));
  assert.deepEqual(r.messages, [msg, BYE]);
});

test('accepts repeated Content-Length headers with the same value (RFC 3261 §18.3)', () => {
  const msg = sip('INVITE sip:bob@biloxi.example.com SIP/2.0', [`l: ${SDP.length}`, 'CSeq: 1 INVITE'], SDP);
  const r = recorder();
  r.framer.push(msg);
  assert.deepEqual(r.messages, [msg]);
});

test('rejects a message without Content-Length with 400 (RFC 3261 §18.3)', () => {
  const msg = sip('OPTIONS sip:bob@biloxi.example.com SIP/2.0', ['CSeq: 1 OPTIONS', 'Max-Forwards: 70'], '', null);
  const r = recorder();
  const err = expectParseError(() => r.framer.push(msg), 400, /^missing Content-Length on a stream transport$/);
  assert.equal(err.offset, msg.length);
});

test('rejects non-numeric, signed, empty and multi-valued Content-Length with 400 (RFC 3261 §20.14, RFC 4475 §3.1.2.11)', () => {
  for (const value of ['-999', '+5', 'abc', '12abc', '1 2', '5, 5', '0x10', '', '  ', '1.5']) {
    const msg = sip('INVITE sip:bob@biloxi.example.com SIP/2.0', ['CSeq: 1 INVITE'], '', `Content-Length: ${value}`);
    const r = recorder();
    expectParseError(() => r.framer.push(msg), 400, /Content-Length/);
  }
});

test('rejects two different Content-Length values with 400 (RFC 3261 §18.3, RFC 4475 §3.2.3)', () => {
  const msg = sip('INVITE sip:bob@biloxi.example.com SIP/2.0', ['Content-Length: 13', 'CSeq: 1 INVITE'], '', 'l: 5');
  const r = recorder();
  expectParseError(() => r.framer.push(msg), 400, /conflicting Content-Length/);
});

test('rejects a bare CR or bare LF in the header section with 400 (RFC 3261 §7.3.1)', () => {
  for (const bad of ['CSeq: 1 INVITE\nMax-Forwards: 70', 'CSeq: 1 INVITE\rMax-Forwards: 70', 'CSeq: 1 INVITE\r\n\nX: y', 'CSeq: 1 INVITE\r\n\rX: y']) {
    const msg = sip('INVITE sip:bob@biloxi.example.com SIP/2.0', [bad], '');
    const r = recorder();
    expectParseError(() => r.framer.push(msg), 400, /bare (CR|LF) in header section/);
  }
});

// --- keep-alives and CRLFs between messages -----------------------------------------------------

test('skips CRLFs before a start line (RFC 3261 §7.5)', () => {
  const r = recorder();
  r.framer.push(Buffer.concat([CRLF, INVITE, CRLF, CRLF, CRLF, OK_200]));
  assert.deepEqual(r.messages, [INVITE, OK_200]);
});

test('reports a CRLF CRLF ping between messages (RFC 5626 §4.4.1)', () => {
  const r = recorder();
  r.framer.push(Buffer.concat([INVITE, PING, OK_200, PING]));
  assert.deepEqual(r.log, ['msg', 'ping', 'msg', 'ping']);
  assert.deepEqual(r.messages, [INVITE, OK_200]);
  assert.equal(r.framer.inMessage, false);
});

test('reports a lone CRLF pong between messages (RFC 5626 §4.4.1)', () => {
  const r = recorder();
  r.framer.push(Buffer.concat([INVITE, CRLF, OK_200]));
  assert.deepEqual(r.log, ['msg', 'pong', 'msg']);
});

test('reports a lone CRLF at the end of a chunk as a pong at once (RFC 5626 §4.4.1)', () => {
  const r = recorder();
  r.framer.push(INVITE);
  r.framer.push(CRLF);
  assert.deepEqual(r.log, ['msg', 'pong']);
  // The next message does not report the same CRLF again.
  r.framer.push(OK_200);
  assert.deepEqual(r.log, ['msg', 'pong', 'msg']);
});

test('still reports a ping split across two chunks, after an early pong (RFC 5626 §4.4.1)', () => {
  const r = recorder();
  r.framer.push(CRLF);
  r.framer.push(CRLF);
  assert.deepEqual(r.log, ['pong', 'ping']);
});

test('waits for the LF of a ping split inside its second CRLF (RFC 5626 §4.4.1)', () => {
  const r = recorder();
  r.framer.push(Buffer.from('\r\n\r'));
  assert.deepEqual(r.log, []);
  r.framer.push(Buffer.from('\n'));
  assert.deepEqual(r.log, ['ping']);
});

test('reports a ping split at every position exactly once (RFC 5626 §4.4.1)', () => {
  for (let cut = 0; cut <= 4; cut++) {
    const r = recorder();
    feed(r.framer, Buffer.concat([PING, BYE]), [cut]);
    assert.equal(r.log.filter((e) => e === 'ping').length, 1, `split at ${cut}`);
    assert.deepEqual(r.messages, [BYE]);
  }
});

test('reads three CRLFs as a ping then a pong (RFC 5626 §4.4.1)', () => {
  const r = recorder();
  r.framer.push(Buffer.concat([PING, CRLF, BYE]));
  assert.deepEqual(r.log, ['ping', 'pong', 'msg']);
});

test('rejects a bare CR or bare LF between messages with 400 (RFC 3261 §7.5)', () => {
  for (const junk of ['\n', '\r\r\n', '\rINVITE']) {
    const r = recorder();
    expectParseError(() => r.framer.push(Buffer.concat([BYE, Buffer.from(junk)])), 400, /between messages/);
    assert.deepEqual(r.messages, [BYE]);
  }
});

// --- limits -------------------------------------------------------------------------------------

test('stops an endless header line once maxLineLength is passed, before any CRLF CRLF (RFC 3261 §18.3)', () => {
  const limits = { maxLineLength: 1000 };
  const chunk = Buffer.alloc(97, 0x61);
  const r = recorder(limits);
  r.framer.push(Buffer.from('INVITE sip:bob@biloxi.example.com SIP/2.0\r\nSubject: '));
  let maxBuffered = 0;
  const err = expectParseError(() => {
    for (let i = 0; i < 10_000; i++) {
      r.framer.push(chunk);
      maxBuffered = Math.max(maxBuffered, r.framer.buffered);
    }
  }, 400, /header line longer than maxLineLength/);
  assert.ok(maxBuffered <= 1000 + 64 + chunk.length, `buffered ${maxBuffered}`);
  assert.ok(err.offset > 1000 && err.offset <= 1100);
});

test('stops an endless start line once maxLineLength is passed (RFC 3261 §18.3)', () => {
  const r = recorder({ maxLineLength: 500 });
  const err = expectParseError(() => r.framer.push(Buffer.alloc(10_000, 0x41)), 400, /start line longer than maxLineLength/);
  assert.equal(err.offset, 500);
});

test('rejects a header section larger than maxMessageSize with 513 as it grows (RFC 3261 §21.5.14)', () => {
  const r = recorder({ maxMessageSize: 2000 });
  r.framer.push(Buffer.from('INVITE sip:bob@biloxi.example.com SIP/2.0\r\n'));
  let maxBuffered = 0;
  const err = expectParseError(() => {
    for (let i = 0; i < 1000; i++) {
      r.framer.push(Buffer.from(`X-Filler-${i}: ${'z'.repeat(40)}\r\n`));
      maxBuffered = Math.max(maxBuffered, r.framer.buffered);
    }
  }, 513);
  assert.ok(maxBuffered <= 2000);
  assert.equal(err.offset, 2000);
});

test('rejects a Content-Length that makes the message exceed maxMessageSize with 513 before the header section ends (RFC 3261 §21.5.14)', () => {
  const r = recorder({ maxMessageSize: 4096 });
  // No CRLF CRLF yet: the length alone is enough to know.
  expectParseError(() => r.framer.push(Buffer.from('INVITE sip:bob@biloxi.example.com SIP/2.0\r\nContent-Length: 5000\r\nCSeq')), 513, /maxMessageSize/);
  const huge = recorder();
  expectParseError(() => huge.framer.push(Buffer.from('INVITE sip:b@b SIP/2.0\r\nl: 99999999999999999999999999\r\n\r\n')), 513);
});

test('rejects a message whose header section plus Content-Length just exceeds maxMessageSize with 513, and accepts one that fits exactly', () => {
  const fits = recorder({ maxMessageSize: INVITE.length });
  fits.framer.push(INVITE);
  assert.equal(fits.messages.length, 1);
  const over = recorder({ maxMessageSize: INVITE.length - 1 });
  expectParseError(() => over.framer.push(INVITE), 513);
});

test('rejects more than maxHeaders header lines with 400, counting folded lines once (RFC 3261 §7.3.1)', () => {
  const headers = ['Subject: a\r\n b\r\n c', 'CSeq: 1 INVITE', 'Max-Forwards: 70'];
  const ok = recorder({ maxHeaders: 4 });
  const msg = sip('INVITE sip:bob@biloxi.example.com SIP/2.0', headers, '');
  ok.framer.push(msg);
  assert.deepEqual(ok.messages, [msg]);
  const tooMany = recorder({ maxHeaders: 3 });
  expectParseError(() => tooMany.framer.push(msg), 400, /maxHeaders/);
});

// --- failure and reset --------------------------------------------------------------------------

test('stays failed after a throw until reset(), then frames again', () => {
  const r = recorder();
  const bad = sip('OPTIONS sip:bob@biloxi.example.com SIP/2.0', ['CSeq: 1 OPTIONS'], '', null);
  const first = expectParseError(() => r.framer.push(bad), 400);
  assert.throws(() => r.framer.push(BYE), (e) => e === first);
  r.framer.reset();
  assert.equal(r.framer.inMessage, false);
  assert.equal(r.framer.buffered, 0);
  r.framer.push(BYE);
  assert.deepEqual(r.messages, [BYE]);
});

test('reset() drops a partial message', () => {
  const r = recorder();
  r.framer.push(INVITE.subarray(0, 100));
  r.framer.reset();
  r.framer.push(OK_200);
  assert.deepEqual(r.messages, [OK_200]);
});

test('reset() from inside onMessage stops framing the rest of that chunk', () => {
  let framer: StreamFramer | undefined;
  const r = recorder(undefined, { onMessage: () => framer?.reset() });
  framer = r.framer;
  r.framer.push(Buffer.concat([INVITE, OK_200.subarray(0, 50)]));
  assert.deepEqual(r.messages, [INVITE]);
  assert.equal(r.framer.inMessage, false);
  r.framer.push(BYE);
  assert.deepEqual(r.messages, [INVITE, BYE]);
});

// --- cost ---------------------------------------------------------------------------------------

test('scans each header byte once when a 10 KB message arrives one byte at a time (RFC 3261 §18.3)', () => {
  const headers: string[] = ['Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9', 'CSeq: 1 INVITE'];
  for (let i = 0; headers.join('\r\n').length < 8000; i++) headers.push(`X-Trace-${i}: ${'hop.example.net;'.repeat(5)}`);
  const body = 'x'.repeat(2000);
  const msg = sip('INVITE sip:bob@biloxi.example.com SIP/2.0', headers, body);
  assert.ok(msg.length >= 10_000);
  const headLength = msg.indexOf('\r\n\r\n') + 4;
  const r = recorder();
  for (let i = 0; i < msg.length; i++) r.framer.push(msg.subarray(i, i + 1));
  assert.deepEqual(r.messages, [msg]);
  // Linear work: every header byte examined exactly once, body bytes copied and never scanned.
  assert.equal(r.framer.scannedBytes, headLength);
});

test('scans each header byte once whatever the chunking (RFC 3261 §18.3)', () => {
  const stream = Buffer.concat([PING, INVITE, CRLF, OK_200, BYE]);
  const scanTotal = 4 + (INVITE.indexOf('\r\n\r\n') + 4) + 2 + (OK_200.indexOf('\r\n\r\n') + 4) + BYE.length;
  const rand = prng(7);
  for (let round = 0; round < 50; round++) {
    const r = recorder();
    const sizes: number[] = [];
    for (let total = 0; total < stream.length; ) {
      const n = 1 + Math.floor(rand() * 40);
      sizes.push(n);
      total += n;
    }
    feed(r.framer, stream, sizes);
    assert.deepEqual(r.messages, [INVITE, OK_200, BYE]);
    assert.equal(r.framer.scannedBytes, scanTotal);
  }
});

// --- randomised ---------------------------------------------------------------------------------

test('frames random mixes of messages and keep-alives cut into random chunks (RFC 3261 §18.3, RFC 5626 §4.4.1)', () => {
  const rand = prng(12345);
  const parts = [INVITE, OK_200, BYE];
  for (let round = 0; round < 300; round++) {
    const expected: Buffer[] = [];
    const pieces: Buffer[] = [];
    const count = 1 + Math.floor(rand() * 6);
    for (let k = 0; k < count; k++) {
      if (rand() < 0.3) pieces.push(rand() < 0.5 ? PING : CRLF);
      const m = parts[Math.floor(rand() * parts.length)];
      pieces.push(m);
      expected.push(m);
    }
    const stream = Buffer.concat(pieces);
    const sizes: number[] = [];
    for (let total = 0; total < stream.length; ) {
      const n = rand() < 0.2 ? 1 : 1 + Math.floor(rand() * 300);
      sizes.push(n);
      total += n;
    }
    const r = recorder();
    feed(r.framer, stream, sizes);
    assert.deepEqual(r.messages, expected, `round ${round}`);
    assert.equal(r.framer.inMessage, false);
  }
});

test('throws nothing but SipParseError over thousands of random chunks', () => {
  const rand = prng(424242);
  const material = [INVITE, OK_200, BYE, PING, CRLF, Buffer.from('\r'), Buffer.from('\n'), Buffer.from('Content-Length: '), Buffer.from('l:99\r\n')];
  const r = recorder({ maxMessageSize: 3000, maxLineLength: 300, maxHeaders: 20 });
  let errors = 0;
  let pushes = 0;
  for (let i = 0; i < 5000; i++) {
    let chunk: Buffer;
    const pick = rand();
    if (pick < 0.4) {
      const src = material[Math.floor(rand() * material.length)];
      const a = Math.floor(rand() * src.length);
      chunk = src.subarray(a, a + 1 + Math.floor(rand() * src.length));
    } else if (pick < 0.7) {
      chunk = Buffer.alloc(Math.floor(rand() * 200));
      for (let j = 0; j < chunk.length; j++) chunk[j] = Math.floor(rand() * 256);
    } else {
      // Printable text with CRLFs sprinkled in, closer to what a confused peer sends.
      const alphabet = 'abcXYZ0123456789 :;\t-\r\n';
      let s = '';
      const n = Math.floor(rand() * 200);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      chunk = Buffer.from(s);
    }
    pushes++;
    try {
      r.framer.push(chunk);
      assert.ok(r.framer.buffered <= 3000);
    } catch (e) {
      assert.ok(e instanceof SipParseError, `unexpected ${String(e)}`);
      assert.ok([400, 513].includes(e.status));
      errors++;
      r.framer.reset();
    }
  }
  assert.equal(pushes, 5000);
  assert.ok(errors > 0);
});

// --- RFC 4475 corpus over a stream --------------------------------------------------------------

test('frames RFC 4475 and RFC 5118 messages that carry a correct Content-Length to themselves (RFC 3261 §18.3)', () => {
  const names = [
    'rfc4475/wsinv.sip', 'rfc4475/intmeth.sip', 'rfc4475/esc01.sip', 'rfc4475/escnull.sip', 'rfc4475/longreq.sip',
    'rfc4475/mpart01.sip', 'rfc4475/unreason.sip', 'rfc4475/regescrt.sip', 'rfc4475/invut.sip', 'rfc4475/lwsdisp.sip',
    'rfc5118/ipv6-in-sdp.sip', 'rfc5118/mult-ip-in-sdp.sip', 'rfc5118/ipv4-mapped-ipv6.sip',
  ];
  for (const name of names) {
    const bytes = fixture(name);
    const r = recorder();
    r.framer.push(Buffer.concat([bytes, bytes]));
    assert.deepEqual(r.messages, [bytes, bytes], name);
  }
});

test('frames RFC 4475 dblreq by Content-Length, not by what the bytes look like (RFC 4475 §3.1.1.13, RFC 3261 §18.3)', () => {
  // As a datagram, dblreq is one REGISTER whose trailing bytes are ignored. On a stream those
  // bytes are the next messages: a CRLF (pong), an INVITE whose Content-Length (150) is 5 bytes
  // short of its SDP, and then those 5 bytes, "C" CRLF CRLF, which start a message that has no
  // Content-Length.
  const bytes = fixture('rfc4475/dblreq.sip');
  const r = recorder();
  expectParseError(() => r.framer.push(bytes), 400, /missing Content-Length/);
  assert.deepEqual(r.log, ['msg', 'pong', 'msg']);
  assert.ok(r.messages[0].subarray(0, 9).equals(Buffer.from('REGISTER ')));
  assert.ok(r.messages[0].subarray(-4).equals(PING));
  assert.ok(r.messages[1].subarray(0, 7).equals(Buffer.from('INVITE ')));
  assert.deepEqual(Buffer.concat([r.messages[0], CRLF, r.messages[1], Buffer.from('C\r\n\r\n')]), bytes);
});

test('rejects RFC 4475 ncl, mcl01 and inv2543 on a stream with 400, and waits on clerr and baddn (RFC 3261 §18.3)', () => {
  expectParseError(() => recorder().framer.push(fixture('rfc4475/ncl.sip')), 400, /Content-Length/);
  expectParseError(() => recorder().framer.push(fixture('rfc4475/mcl01.sip')), 400, /conflicting/);
  expectParseError(() => recorder().framer.push(fixture('rfc4475/inv2543.sip')), 400, /missing Content-Length/);
  for (const name of ['rfc4475/clerr.sip', 'rfc4475/baddn.sip']) {
    const r = recorder();
    r.framer.push(fixture(name));
    assert.equal(r.messages.length, 0, name);
    assert.equal(r.framer.inMessage, true, name);
  }
});

/**
 * Bytes -> SipRequest | SipResponse (RFC 3261 §7). One pass finds the start line and the header
 * boundaries; header values are kept raw and parsed when first read (lazy) or all at once (strict).
 */
import { isAscii } from 'node:buffer';
import { SipParseError } from '../core/errors.js';
import { KNOWN_METHODS } from '../core/methods.js';
import { isTokenChar } from './grammar.js';
import { fastFrame } from './fast-frame.js';
import { FOLDED, HeaderField, NON_ASCII } from './header-field.js';
import { headerKey, knownHeaderKeyAt } from './header-names.js';
import { resolveLimits, type MessageLimits } from './limits.js';
import { SipRequest, SipResponse, type WireSpan } from './message.js';
import type { SipUri } from './types.js';

export interface ParseOptions {
  /**
   * Lazy (true): check framing, the start line and header boundaries now; parse header values when
   * first read (a malformed one throws SipParseError then). This is what a proxy's hot path wants.
   * Strict (false, the default): parse and check every known header and the Request-URI now.
   */
  lazy?: boolean;
  /** Size limits; defaults from DEFAULT_LIMITS. */
  limits?: Partial<MessageLimits>;
}

// Buffer#latin1Slice is what Buffer#toString('latin1') calls after its argument checks; undici
// uses it on its hot path too. @types/node does not list it.
type Latin1Sliceable = Buffer & { latin1Slice(start: number, end: number): string };

const CR = 13;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const LF = 10;

/**
 * Parses one whole message: a UDP datagram, or one message cut from a stream by StreamFramer.
 * Throws SipParseError, and nothing else, on malformed input.
 */
export function parseMessage(data: Uint8Array | string, options?: ParseOptions): SipRequest | SipResponse {
  return parse(data, options, true);
}

/**
 * @internal parseMessage without the byte-level fast path: the general parser alone. Tests compare
 * the two; they must agree on every input.
 */
export function parseMessageGeneral(data: Uint8Array | string, options?: ParseOptions): SipRequest | SipResponse {
  return parse(data, options, false);
}

function parse(data: Uint8Array | string, options: ParseOptions | undefined, fast: boolean): SipRequest | SipResponse {
  let msg: SipRequest | SipResponse;
  try {
    msg = parseFrame(toBuffer(data), options, fast);
    if (options?.lazy !== true) strictChecks(msg);
  } catch (e) {
    if (e instanceof SipParseError) throw e;
    // Anything else is a bug in a grammar routine; the caller is still owed a SipParseError.
    throw new SipParseError(`unparseable message: ${e instanceof Error ? e.message : String(e)}`, -1, 400);
  }
  return msg;
}

function toBuffer(data: Uint8Array | string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function parseFrame(buf: Buffer, options: ParseOptions | undefined, fast: boolean): SipRequest | SipResponse {
  const limits = options?.limits ? resolveLimits(options.limits) : resolveLimits();
  if (buf.length > limits.maxMessageSize) {
    throw new SipParseError(`message of ${buf.length} bytes exceeds the limit of ${limits.maxMessageSize}`, limits.maxMessageSize, 513);
  }
  // RFC 3261 §7.5: CRLFs before the start line are ignored.
  let start = 0;
  while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
  if (start === buf.length) throw new SipParseError('empty message', start, 400);
  if (fast) {
    // The common shape, read straight from the bytes; anything else (and every error) below.
    const msg = fastFrame(buf, start, limits);
    if (msg !== undefined) return msg;
  }

  // The whole message as one latin1 string (one char per byte, so indices are byte offsets less
  // `start`): header values are slices of it, and V8's string search finds the empty line faster
  // than Buffer#indexOf's wrapper does.
  const text = (buf as Latin1Sliceable).latin1Slice(start, buf.length);
  // One native SIMD pass over the whole buffer; a non-ASCII body only costs a regex test per value read.
  const asciiFlag = isAscii(buf) ? 0 : NON_ASCII;

  // ---- start line ----
  const firstEnd = lineEnd(text, 0, start);
  if (firstEnd > limits.maxLineLength) throw new SipParseError('start line too long', start, 400);
  const isResponse = text.charCodeAt(0) === 83 /* S */ && text.startsWith('SIP/');

  // ---- header lines ----
  // Native indexOf calls find each line's end and colon: measured cheaper than charCodeAt loops.
  const headers: HeaderField[] = [];
  let contentLength = -1;
  let contentLengthConflict = false;
  let crlfSeen = 1;
  let pos = firstEnd + 2;
  const maxLine = limits.maxLineLength;
  const maxHeaders = limits.maxHeaders;
  for (;;) {
    const c0 = text.charCodeAt(pos);
    // The empty line ends the header section (RFC 3261 §7); lineEnd rejects a bare CR there.
    if (c0 === CR) {
      if (lineEnd(text, pos, start) === pos) break;
      throw new SipParseError('bare CR in header section', start + pos, 400);
    }
    if (c0 === 32 || c0 === 9) throw new SipParseError('continuation line without a header', start + pos, 400);
    // End of this header line: the next CRLF not followed by SP/HT (RFC 3261 §7.3.1 folding).
    let eol = lineEnd(text, pos, start);
    crlfSeen++;
    let folded = false;
    for (;;) {
      const n = text.charCodeAt(eol + 2);
      if (n !== 32 && n !== 9) break;
      folded = true;
      eol = lineEnd(text, eol + 2, start);
      crlfSeen++;
    }
    const colon = text.indexOf(':', pos);
    if (eol - pos > maxLine) throw new SipParseError('header line too long', start + pos, 400);
    if (headers.length >= maxHeaders) throw new SipParseError(`more than ${maxHeaders} header lines`, start + pos, 400);

    // Header name: a token, then optional whitespace, then ':' (RFC 3261 §7.3.1). A known name's
    // comparison in knownHeaderKeyAt also proves it is a token.
    if (colon < 0 || colon > eol) throw new SipParseError('header line without a colon', start + pos, 400);
    let nameEnd = colon;
    while (nameEnd > pos && (text.charCodeAt(nameEnd - 1) === 32 || text.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
    if (nameEnd === pos) throw new SipParseError('header line without a name', start + pos, 400);
    let key = knownHeaderKeyAt(text, pos, nameEnd);
    if (key === undefined) {
      for (let k = pos; k < nameEnd; k++) {
        if (!isTokenChar(text.charCodeAt(k))) throw new SipParseError('bad character in header name', start + k, 400);
      }
      key = headerKey(text.slice(pos, nameEnd));
    }
    let i = colon + 1;
    while (i < eol) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9) i++;
      else if (c === CR && folded && text.charCodeAt(i + 1) === LF) i += 2;
      else break;
    }
    const field = new HeaderField(text, pos, nameEnd, i, eol, key, start + pos, (folded ? FOLDED : 0) | asciiFlag);
    headers.push(field);
    if (key === 'content-length') {
      const n = parseContentLengthValue(text, i, eol, start + pos);
      if (contentLength >= 0 && n !== contentLength) contentLengthConflict = true;
      if (contentLength < 0) contentLength = n;
    }
    pos = eol + 2;
  }

  // Every line end was found as an LF with its CR (lineEnd); more CRs than line ends means a bare CR.
  const headEnd = pos;
  const headLen = headEnd + 2;
  if (countCr(text, headLen) !== crlfSeen + 1) findBareCrLf(text, headLen, start);

  // ---- body (RFC 3261 §18.3 for datagrams) ----
  const bodyStart = start + headEnd + 2;
  let bodyEnd = buf.length;
  if (contentLength >= 0 && !contentLengthConflict) {
    if (bodyStart + contentLength > buf.length) {
      throw new SipParseError(
        `Content-Length ${contentLength} is larger than the ${buf.length - bodyStart} bytes of body received`, bodyStart, 400);
    }
    // Bytes past Content-Length in a datagram are discarded (RFC 3261 §18.3; RFC 4475 dblreq).
    bodyEnd = bodyStart + contentLength;
  }
  // Conflicting Content-Length values (RFC 4475 mcl01) parse, with the rest of the datagram as the
  // body; validateRequest answers them with 400.
  const source: WireSpan = { buf, start, bodyStart, end: bodyEnd };
  const body = undefined;

  const line = text.slice(0, firstEnd);
  let msg: SipRequest | SipResponse;
  if (isResponse) msg = parseStatusLine(line, start, headers, body, source);
  else msg = parseRequestLine(line, start, headers, body, source);
  return msg;
}

/**
 * The index of the CR of the CRLF ending the line at `from`. Searching for LF and checking the CR
 * before it finds the line and rejects a bare LF in one native search; bare CRs are caught by
 * countCr afterwards (RFC 3261 §7.3.1, §25.1: CR and LF only as CRLF, as StreamFramer enforces).
 */
function lineEnd(text: string, from: number, base: number): number {
  const lf = text.indexOf('\n', from);
  if (lf < 0) throw new SipParseError('header section not terminated by an empty line', base + text.length, 400);
  if (text.charCodeAt(lf - 1) !== CR) throw new SipParseError('bare LF in header section', base + lf, 400);
  return lf - 1;
}

/** How many CRs stand in text[0, end): equal to the CRLFs the lines were cut at unless one is bare. */
function countCr(text: string, end: number): number {
  let n = 0;
  for (let p = text.indexOf('\r'); p >= 0 && p < end; p = text.indexOf('\r', p + 1)) n++;
  return n;
}

/** Slow path, on error only: throws at the first bare CR or LF. */
function findBareCrLf(head: string, end: number, base: number): void {
  for (let i = 0; i < end; i++) {
    const c = head.charCodeAt(i);
    if (c === CR && head.charCodeAt(i + 1) !== LF) throw new SipParseError('bare CR in header section', base + i, 400);
    if (c === LF && head.charCodeAt(i - 1) !== CR) throw new SipParseError('bare LF in header section', base + i, 400);
  }
}

/** Content-Length's value in head[from, to): digits, optional trailing whitespace (RFC 3261 §20.14). */
function parseContentLengthValue(head: string, from: number, to: number, offset: number): number {
  while (to > from && (head.charCodeAt(to - 1) === 32 || head.charCodeAt(to - 1) === 9)) to--;
  const bad = () => new SipParseError(`bad Content-Length: ${JSON.stringify(head.slice(from, Math.min(to, from + 20)))}`, offset, 400);
  if (to === from || to - from > 10) throw bad();
  let n = 0;
  for (let k = from; k < to; k++) {
    const d = head.charCodeAt(k) - 48;
    if (d < 0 || d > 9) throw bad();
    n = n * 10 + d;
  }
  if (n > 0xffffffff) throw new SipParseError('Content-Length out of range', offset, 400);
  return n;
}

/** `SIP/2.0 SP Status-Code SP Reason-Phrase` (RFC 3261 §7.2). */
function parseStatusLine(line: string, offset: number, headers: HeaderField[], body: undefined, source: WireSpan): SipResponse {
  checkVersion(line.slice(0, 7), offset, line.slice(0, 12));
  if (line.charCodeAt(7) !== 32) throw new SipParseError('bad status line: no SP after version', offset + 7, 400);
  let status = 0;
  let i = 8;
  for (; i < line.length && i < 12; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    status = status * 10 + d;
  }
  if (i !== 11 || status < 100 || status > 699) throw new SipParseError('bad status code: not three digits from 100 to 699', offset + 8, 400);
  // An absent SP after the code is tolerated; the Reason-Phrase may be empty (RFC 4475 noreason).
  let reason = '';
  if (i < line.length) {
    if (line.charCodeAt(i) !== 32) throw new SipParseError('bad status line: no SP after status code', offset + i, 400);
    reason = line.slice(i + 1);
  }
  for (let j = 0; j < reason.length; j++) {
    const c = reason.charCodeAt(j);
    if (c < 32 && c !== 9) throw new SipParseError('control character in Reason-Phrase', offset + i + 1 + j, 400);
  }
  return new SipResponse(status, reason, headers, body, source);
}

/** `Method SP Request-URI SP SIP-Version` with exactly one SP each (RFC 3261 §7.1). */
function parseRequestLine(line: string, offset: number, headers: HeaderField[], body: undefined, source: WireSpan): SipRequest {
  let i = 0;
  while (i < line.length && isTokenChar(line.charCodeAt(i))) i++;
  if (i === 0) throw new SipParseError('bad request line: no method token', offset, 400);
  if (line.charCodeAt(i) !== 32) throw new SipParseError('bad request line: method not followed by one SP', offset + i, 400);
  const method = line.slice(0, i);
  const uriStart = i + 1;
  const uriEnd = line.indexOf(' ', uriStart);
  if (uriEnd < 0) throw new SipParseError('bad request line: no SIP-Version', offset + line.length, 400);
  if (uriEnd === uriStart) throw new SipParseError('bad request line: more than one SP before the Request-URI', offset + uriStart, 400);
  const uri = line.slice(uriStart, uriEnd);
  if (line.length - uriEnd !== 8 || !line.endsWith('SIP/2.0')) {
    const version = line.slice(uriEnd + 1);
    checkVersion(version, offset + uriEnd + 1, version);
  }
  for (let j = 0; j < uri.length; j++) {
    const c = uri.charCodeAt(j);
    if (c <= 32 || c === 127 || c > 126) throw new SipParseError('bad Request-URI: control, space or non-ASCII character', offset + uriStart + j, 400);
  }
  // RFC 4475 ltgtruri: the Request-URI is an addr-spec, never enclosed in <>.
  if (uri.charCodeAt(0) === 60) throw new SipParseError('bad Request-URI: enclosed in <>', offset + uriStart, 400);
  if (uri.indexOf(':') <= 0) throw new SipParseError('bad Request-URI: no scheme', offset + uriStart, 400);
  return new SipRequest(method, uri, headers, body, source);
}

/** SIP-Version must be SIP/2.0; another well-formed version gets 505 (RFC 3261 §8.2.2... §21.5.6). */
function checkVersion(version: string, offset: number, shown: string): void {
  if (version.length === 7 && (version === 'SIP/2.0' || version.toUpperCase() === 'SIP/2.0')) return;
  if (/^SIP\/\d+\.\d+$/i.test(version)) throw new SipParseError(`SIP version not supported: ${version}`, offset, 505);
  throw new SipParseError(`bad SIP-Version: ${JSON.stringify(shown)}`, offset, 400);
}

/** Strict mode: every known header and the Request-URI parsed and checked now. */
function strictChecks(msg: SipRequest | SipResponse): void {
  if (msg instanceof SipRequest) {
    const uri = msg.uri;
    // RFC 3261 §19.1.1 Table 1: a Request-URI has no headers component (RFC 4475 escruri).
    if ((uri.scheme === 'sip' || uri.scheme === 'sips') && Object.keys((uri as SipUri).headers).length > 0) {
      throw new SipParseError('bad Request-URI: headers component not allowed', msg.method.length + 1, 400);
    }
    // RFC 4475 mismatch01/02: the CSeq method must be the request's method. An unknown method
    // gets 501 rather than 400 (RFC 4475 §3.1.2.18).
    const cseq = msg.has('cseq') ? msg.cseq : undefined;
    if (cseq && cseq.method !== msg.method) {
      const status = KNOWN_METHODS.has(msg.method) ? 400 : 501;
      throw new SipParseError(`CSeq method ${cseq.method} does not match request method ${msg.method}`, -1, status);
    }
  }
  msg.parseAll();
}

/**
 * The byte-level fast paths: the frame scan behind parseMessage (fast-frame.ts) and the parsers of
 * the header values read on every message. Each accepts only the common, plainly well-formed shape
 * and otherwise declines (returns false or undefined), and the caller then runs the general parser,
 * which gives the same result for everything a fast path accepts and produces every error. So no
 * function here throws for a reason of its own. Tests run both on generated input and compare.
 *
 * Why bytes, and why one scratch copy: measured with callgrind, optimized code reading a typed array
 * passed as an argument re-checks its map and reloads its data pointer on every element (20 to 35
 * instructions a byte), and charCodeAt on a string dispatches on the string's representation on
 * every call (30 to 45 a char on a sliced string, such as a header value). A typed array that is a
 * constant of this module, read through a local alias, is folded into the code: about 10 a byte.
 * So the message is copied into B once (a few hundred instructions); the value parsers read B too,
 * copying the message again only when another one was scanned in between (`useBytes`). Tables are
 * constants of this module for the same reason (an imported table is re-read on every access).
 * Strings are made only for what a result holds, as slices of the header text, and String#startsWith
 * (cheap) matches fixed parts. Regular expressions were measured as well: about 800 instructions a
 * test, 300 more per capture.
 *
 * Header values are skipped four bytes at a time through an Int32Array view of B (SWAR: a
 * subtraction, two ORs and a test flag any byte below 14 or above 127).
 */
import { NON_ASCII } from './header-field.js';
import * as names from './header-names.js';
import type { MessageLimits } from './limits.js';
import { newParams, paramName, type Params } from './params.js';
import type { CSeq, Via } from './types.js';

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;

/** Largest message the fast paths take (a UDP datagram's ceiling); larger ones go to the general parser. */
export const SCRATCH_SIZE = 65536;
/** The bytes of the message last scanned (`owner`), plus a NUL sentinel and slack for the last word read. */
const B = new Uint8Array(SCRATCH_SIZE + 8);
/** The same memory as 32-bit words, for skipping header values four bytes at a time. */
const W = new Int32Array(B.buffer);
/** 0x80 in every byte, as an int32. */
const HIGH_BITS = 0x80808080 | 0;
/** Whose bytes B holds. */
let owner: Uint8Array | undefined;

/** RFC 3261 §25.1 token chars. */
const TOKEN = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') TOKEN[c.charCodeAt(0)] = 1;

/** RFC 3261 §25.1 `word` chars (Call-ID): token chars and ( ) < > : \ " / [ ] ? { }. */
const WORD = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~()<>:\\"/[]?{}') WORD[c.charCodeAt(0)] = 1;

/** Hostname chars: letters and digits (1), '-' (2), '.' (3). */
const HOST = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') HOST[c.charCodeAt(0)] = 1;
HOST[45] = 2;
HOST[46] = 3;

const CONTENT_LENGTH = names.keyIdOf('content-length');
const { COMPACT_ID, NAME_V1, NAME_V2, NAME_LEN, NAME_ID, nameSlot } = names;
const NAME_MASK = names.NAME_TABLE_SIZE - 1;

/** Numbers per line in FRAME.lines, and where the name's length sits in the last one (above the 8-bit key id). */
export const STRIDE = 4;
export const NAME_SHIFT = 8;

/** What scanFrame found, valid until the next call. Offsets are into the buffer. */
export const FRAME = {
  isResponse: false,
  status: 0,
  reasonStart: 0,
  methodEnd: 0,
  uriStart: 0,
  uriEnd: 0,
  /** End of the start line (its CR). */
  firstEnd: 0,
  /** The CR of the empty line ending the header section. */
  headEnd: 0,
  bodyEnd: 0,
  /** NON_ASCII when a header value holds a byte above 0x7f, else 0. */
  high: 0,
  /** STRIDE numbers per header line, relative to the message start: line start, value start, line end (its CR), key id | name length << NAME_SHIFT. */
  lines: [] as number[],
};

/** Makes B hold `buf`'s bytes (buf.length <= SCRATCH_SIZE). */
export function useBytes(buf: Uint8Array): void {
  if (owner !== buf) {
    B.set(buf);
    owner = buf;
  }
}

/**
 * Scans the message in buf[start, buf.length) (start is past any leading CRLFs) into FRAME; false
 * when it does not have the common shape (then FRAME is meaningless).
 */
export function scanFrame(buf: Uint8Array, start: number, limits: MessageLimits): boolean {
  const end = buf.length;
  const maxLine = limits.maxLineLength;
  // A name's length must fit above the key id in a small integer (lines are at most maxLine long).
  if (maxLine >= 1 << 22 || end > SCRATCH_SIZE) return false;
  // Local aliases: a module constant read through one is folded into the code.
  const b = B;
  const w32 = W;
  const token = TOKEN;
  b.set(buf);
  owner = buf;
  // A NUL after the message stops every scan below at `end`; the word loops read at most the word holding it.
  b[end] = 0;

  // ---- start line ----
  let p = start;
  let isResponse = false;
  let methodEnd = 0;
  let uriStart = 0;
  let uriEnd = 0;
  let status = 0;
  let reasonStart = 0;
  let c = 0;
  if (end - start > 12 && b[p] === 83 /* S */ && b[p + 1] === 73 && b[p + 2] === 80 && b[p + 3] === 47) {
    // SIP/2.0 SP 3DIGIT [SP Reason-Phrase] CRLF
    if (b[p + 4] !== 50 || b[p + 5] !== 46 || b[p + 6] !== 48 || b[p + 7] !== SP) return false;
    const d0 = b[p + 8]! - 48;
    const d1 = b[p + 9]! - 48;
    const d2 = b[p + 10]! - 48;
    if (d0 < 1 || d0 > 6 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return false;
    status = d0 * 100 + d1 * 10 + d2;
    isResponse = true;
    p += 11;
    if (b[p] === SP) {
      reasonStart = ++p;
      // Reason-Phrase: any byte but controls other than HT (UTF-8 stays as bytes).
      while ((c = b[p]!) >= SP || c === HT) p++;
    } else {
      reasonStart = p;
    }
  } else {
    // Method SP Request-URI SP SIP/2.0 CRLF
    while (token[b[p]!] === 1) p++;
    methodEnd = p;
    if (p === start || b[p] !== SP) return false;
    uriStart = ++p;
    // Request-URI bytes are 0x21-0x7e: words at a time once aligned (a byte out of range sets a high bit).
    for (;;) {
      c = b[p]!;
      if (c <= SP || c >= 127) break;
      p++;
      if ((p & 3) === 0) {
        let w = w32[p >> 2]!;
        while ((((w - 0x21212121) | w | (w + 0x01010101)) & HIGH_BITS) === 0) {
          p += 4;
          w = w32[p >> 2]!;
        }
      }
    }
    uriEnd = p;
    // RFC 4475 ltgtruri: never enclosed in <>; and a scheme (checked on the string below).
    if (uriEnd === uriStart || b[uriStart] === 60 /* < */) return false;
    if (c !== SP || b[p + 1] !== 83 || b[p + 2] !== 73 || b[p + 3] !== 80 || b[p + 4] !== 47 ||
      b[p + 5] !== 50 || b[p + 6] !== 46 || b[p + 7] !== 48) return false;
    p += 8;
  }
  if (p + 1 >= end || b[p] !== CR || b[p + 1] !== LF || p - start > maxLine) return false;
  const firstEnd = p;
  p += 2;

  // ---- header lines ----
  const lines: number[] = [];
  const maxLines = limits.maxHeaders * STRIDE;
  let high = 0;
  let contentLength = -1;
  let contentLengthConflict = false;
  for (;;) {
    const ls = p;
    // Header name. Letters and '-' (all known names are made of them) are packed exactly, five bits
    // a char (see header-names.ts), so one table probe finds the key.
    let v1 = 0;
    let v2 = 0;
    for (;;) {
      c = b[p]!;
      let k = (c | 0x20) - 96;
      if (k < 1 || k > 26) {
        if (c !== 45 /* - */) break;
        k = 27;
      }
      if (p - ls < 10) v1 = v1 * 32 + k;
      else v2 = v2 * 32 + k;
      p++;
    }
    let id = 0;
    if (token[c] === 1) {
      // Another token char (a digit, '.', '!'...): no known name has one.
      p++;
      while (token[b[p]!] === 1) p++;
      c = b[p]!;
    } else if (p - ls === 1) {
      id = COMPACT_ID[b[ls]!]!;
    } else if (p - ls <= 20) {
      const len = p - ls;
      for (let slot = nameSlot(v1, v2, len); ; slot = (slot + 1) & NAME_MASK) {
        const found = NAME_ID[slot]!;
        if (found === 0) break;
        if (NAME_V1[slot] === v1 && NAME_V2[slot] === v2 && NAME_LEN[slot] === len) {
          id = found;
          break;
        }
      }
    }
    const nameLen = p - ls;
    if (c !== 58 /* : */ || nameLen === 0) {
      // The empty line ends the header section; anything else (folding, a bare CR) is for the general parser.
      if (nameLen === 0 && c === CR && b[p + 1] === LF && p + 1 < end) break;
      return false;
    }
    p++;
    while ((c = b[p]!) === SP || c === HT) p++;
    const vs = p;
    // Value: up to CRLF. Bytes 14-127 are skipped four at a time once aligned; bytes above 127 mark
    // the message non-ASCII; other controls but CR and LF belong to the value.
    for (;;) {
      c = b[p]!;
      if (c >= 14 && c < 128) {
        p++;
        if ((p & 3) === 0) {
          let w = w32[p >> 2]!;
          while ((((w - 0x0e0e0e0e) | w) & HIGH_BITS) === 0) {
            p += 4;
            w = w32[p >> 2]!;
          }
        }
      } else if (c === CR || c === LF || p >= end) {
        break;
      } else {
        if (c >= 128) high = NON_ASCII;
        p++;
      }
    }
    // CRLF not followed by SP/HT (folding) ends the line; a bare CR or LF is for the general parser.
    if (c !== CR || b[p + 1] !== LF || p + 2 >= end || (c = b[p + 2]!) === SP || c === HT) return false;
    if (p - ls > maxLine || lines.length >= maxLines) return false;
    if (id === CONTENT_LENGTH) {
      // 1*DIGIT then optional SP/HT, at most 10 digits, below 2^32 (as parseContentLengthValue).
      let n = 0;
      let q = vs;
      while (q < p && (c = b[q]!) >= 48 && c <= 57) {
        n = n * 10 + (c - 48);
        q++;
      }
      const digits = q - vs;
      while (q < p && ((c = b[q]!) === SP || c === HT)) q++;
      if (digits === 0 || digits > 10 || q !== p || n > 0xffffffff) return false;
      if (contentLength >= 0 && n !== contentLength) contentLengthConflict = true;
      if (contentLength < 0) contentLength = n;
    }
    lines.push(ls - start, vs - start, p - start, id | (nameLen << NAME_SHIFT));
    p += 2;
  }

  // ---- body (RFC 3261 §18.3 for datagrams) ----
  let bodyEnd = end;
  if (contentLength >= 0 && !contentLengthConflict) {
    if (p + 2 + contentLength > end) return false;
    bodyEnd = p + 2 + contentLength;
  }
  const r = FRAME;
  r.isResponse = isResponse;
  r.status = status;
  r.reasonStart = reasonStart;
  r.methodEnd = methodEnd;
  r.uriStart = uriStart;
  r.uriEnd = uriEnd;
  r.firstEnd = firstEnd;
  r.headEnd = p;
  r.bodyEnd = bodyEnd;
  r.high = high;
  r.lines = lines;
  return true;
}

/**
 * Runs a value parser on the value at text[vs, le) (le: the line's CR) of a message whose bytes are
 * `buf` from `d` (text[k] is buf[d + k]), after trimming trailing whitespace.
 */
export function parseValue(buf: Uint8Array, d: number, text: string, vs: number, le: number, fast: ByteParser): unknown {
  useBytes(buf);
  const b = B;
  while (le > vs && (b[d + le - 1] === SP || b[d + le - 1] === HT)) le--;
  return fast(d, text, vs, le);
}

/** A fast value parser: the value is s[i, e), whose bytes are B[d + i, d + e). See the module comment. */
export type ByteParser = (d: number, s: string, i: number, e: number) => unknown;

function isAlpha(c: number): boolean {
  return ((c | 0x20) - 97) >>> 0 < 26;
}

/** Index after the token chars at `i` (below `e`). */
function tokenEnd(d: number, i: number, e: number): number {
  const b = B;
  const tok = TOKEN;
  while (i < e && tok[b[d + i]!] === 1) i++;
  return i;
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** `1*DIGIT` filling bytes [i, e) (of b, offset d), at most `max`; else undefined (as parseDecimal, which allows leading zeros). */
export function fastNumber(d: number, i: number, e: number, max: number): number | undefined {
  const b = B;
  if (i >= e || e - i > 10) return undefined;
  let n = 0;
  for (; i < e; i++) {
    const c = b[d + i]! - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return n <= max ? n : undefined;
}

/** fastNumber on a string (for parameter values). */
function numberIn(v: string, max: number): number | undefined {
  const e = v.length;
  if (e === 0 || e > 10) return undefined;
  let n = 0;
  for (let i = 0; i < e; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return n <= max ? n : undefined;
}

// ---------------------------------------------------------------------------------------------
// Call-ID and CSeq

/** Call-ID: `word ["@" word]` filling s[i, e) (as parseCallId). */
export function fastCallId(d: number, s: string, i: number, e: number): string | undefined {
  const b = B;
  const word = WORD;
  let at = -1;
  for (let k = i; k < e; k++) {
    if (word[b[d + k]!] === 1) continue;
    if (b[d + k] !== 64 /* @ */ || at >= 0) return undefined;
    at = k;
  }
  if (i === e || at === i || at === e - 1) return undefined;
  return s.slice(i, e);
}

const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'REFER', 'NOTIFY', 'SUBSCRIBE', 'INFO', 'UPDATE', 'PRACK', 'MESSAGE', 'PUBLISH'];

/** CSeq: `1*DIGIT LWS Method` filling s[i, e) (as parseCSeq). */
export function fastCSeq(d: number, s: string, i: number, e: number): CSeq | undefined {
  const b = B;
  let k = i;
  let seq = 0;
  let c = 0;
  while (k < e && (c = b[d + k]! - 48) >= 0 && c <= 9) {
    seq = seq * 10 + c;
    k++;
  }
  if (k === i || k - i > 10 || seq > 0xffffffff) return undefined;
  const digitsEnd = k;
  while (k < e && ((c = b[d + k]!) === SP || c === HT)) k++;
  if (k === digitsEnd || k === e || tokenEnd(d, k, e) !== e) return undefined;
  // The usual methods as constants: no string made.
  const len = e - k;
  for (let m = 0; m < METHODS.length; m++) {
    const name = METHODS[m]!;
    if (name.length === len && s.startsWith(name, k)) return { seq, method: name };
  }
  return { seq, method: s.slice(k, e) };
}

// ---------------------------------------------------------------------------------------------
// Hosts and parameters

/**
 * Index after the RFC 3261 hostname or IPv4address at `i`, or -1 when what is there is neither or
 * is of a form left to the general parser (a final dot, an IPv6 reference). Stops at any char that
 * is not alphanumeric, '-' or '.' (as scanHostname).
 */
function hostEnd(d: number, i: number, e: number): number {
  const b = B;
  const host = HOST;
  const start = i;
  let labelStart = i;
  let prev = 0;
  for (; i < e; i++) {
    const k = host[b[d + i]!]!;
    if (k === 1) {
      prev = 1;
    } else if (k === 3) {
      // '.': ends a label, which must be non-empty and not end with '-'.
      if (prev !== 1) return -1;
      labelStart = i + 1;
      prev = 3;
    } else if (k === 2) {
      // '-': not at the start of a label.
      if (prev !== 1 && prev !== 2) return -1;
      prev = 2;
    } else {
      break;
    }
  }
  if (prev !== 1) return -1;
  // A toplabel starts with a letter; else the whole host must be a dotted quad of 0-255.
  if (isAlpha(b[d + labelStart]!)) return i;
  return isDottedQuad(d, start, i) ? i : -1;
}

/** Bytes [i, e) are four dot-separated decimal octets of 1-3 digits, each 0-255 (as isIPv4). */
function isDottedQuad(d: number, i: number, e: number): boolean {
  const b = B;
  let parts = 0;
  let n = 0;
  let digits = 0;
  for (; i <= e; i++) {
    const c = i < e ? b[d + i]! : 46;
    if (c === 46) {
      if (digits === 0 || n > 255 || ++parts > 4) return false;
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      n = n * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/** isDottedQuad on a string (for parameter values). */
function isDottedQuadIn(v: string): boolean {
  let parts = 0;
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= v.length; i++) {
    const c = i < v.length ? v.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || n > 255 || ++parts > 4) return false;
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      n = n * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/**
 * `;name[=value]` parameters from `i` up to a ',' or `e` into `params`, names and values of token
 * chars only (no whitespace, quotes or IPv6 references: the general parser takes those). Returns
 * the index of the ',' or `e`, or -1 when the text is not of that shape.
 */
function plainParams(d: number, s: string, i: number, e: number, params: Params): number {
  const b = B;
  while (i < e) {
    const c = b[d + i]!;
    if (c === 44 /* , */) break;
    if (c !== 59 /* ; */) return -1;
    const ns = i + 1;
    let name: string;
    let ne: number;
    // The parameters every Via and every dialog's From/To carries, found without a name lookup.
    if (s.startsWith('branch=', ns)) {
      name = 'branch';
      ne = ns + 6;
    } else if (s.startsWith('tag=', ns)) {
      name = 'tag';
      ne = ns + 3;
    } else {
      ne = tokenEnd(d, ns, e);
      if (ne === ns) return -1;
      name = paramName(s, ns, ne);
    }
    if (ne < e && b[d + ne] === 61 /* = */) {
      const ve = tokenEnd(d, ne + 1, e);
      if (ve === ne + 1) return -1;
      params[name] = s.slice(ne + 1, ve);
      i = ve;
    } else {
      params[name] = null;
      i = ne;
    }
  }
  return i;
}

// ---------------------------------------------------------------------------------------------
// Via

const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS', 'TLS-SCTP'];

/** The via-params checks of checkViaParams, for values plainParams accepted (token chars). */
function viaParamsOk(params: Params): boolean {
  if (params.branch === null) return false;
  const received = params.received;
  if (received !== undefined && (received === null || !isDottedQuadIn(received))) return false;
  const rport = params.rport;
  if (rport !== undefined && rport !== null && numberIn(rport, 65535) === undefined) return false;
  const ttl = params.ttl;
  if (ttl !== undefined && (ttl === null || numberIn(ttl, 255) === undefined)) return false;
  // maddr is a host: left to the general parser.
  return params.maddr === undefined;
}

/**
 * Via: `SIP/2.0/TRANSPORT SP host[:port]*(;param)` per value, comma-separated, with a known
 * transport in upper case and a hostname or IPv4 host (as parseVia).
 */
export function fastVia(d: number, s: string, i: number, e: number): Via[] | undefined {
  const b = B;
  const out: Via[] = [];
  for (;;) {
    if (!s.startsWith('SIP/2.0/', i)) return undefined;
    i += 8;
    let transport: string | undefined;
    for (let k = 0; k < TRANSPORTS.length; k++) {
      const t = TRANSPORTS[k]!;
      if (s.startsWith(t, i) && b[d + i + t.length] === SP) {
        transport = t;
        break;
      }
    }
    if (transport === undefined) return undefined;
    const hs = i + transport.length + 1;
    const he = hostEnd(d, hs, e);
    if (he < 0) return undefined;
    const host = s.slice(hs, he);
    i = he;
    let port = -1;
    if (i < e && b[d + i] === 58 /* : */) {
      const ps = ++i;
      port = 0;
      let c = 0;
      while (i < e && (c = b[d + i]! - 48) >= 0 && c <= 9) {
        port = port * 10 + c;
        i++;
      }
      if (i === ps || i - ps > 5 || port > 65535) return undefined;
    }
    const params = newParams();
    i = plainParams(d, s, i, e, params);
    if (i < 0 || !viaParamsOk(params)) return undefined;
    out.push(port < 0 ? { protocol: 'SIP/2.0', transport, host, params } : { protocol: 'SIP/2.0', transport, host, port, params });
    if (i >= e) return out;
    // At ',': LWS may follow.
    i++;
    while (i < e && (b[d + i] === SP || b[d + i] === HT)) i++;
  }
}


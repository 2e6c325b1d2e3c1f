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
 * Strings are made only for what a result holds, as slices of the header text; fixed parts (header
 * names, `SIP/2.0/`, transports, `branch=`) are compared four bytes at a time. Regular expressions
 * were measured as well: about 800 instructions a test, 300 more per capture.
 *
 * Header values are skipped four bytes at a time, read as int32s through a DataView of B (one load
 * at any alignment; SWAR: a subtraction, two ORs and a test flag any byte below 14 or above 127).
 */
import { NON_ASCII } from './header-field.js';
import * as names from './header-names.js';
import type { MessageLimits } from './limits.js';
import { newParams, paramName, type Params } from './params.js';
import type { CSeq, MediaType, NameAddr, SipUri, Via } from './types.js';

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;

/** Largest message the fast paths take (a UDP datagram's ceiling); larger ones go to the general parser. */
export const SCRATCH_SIZE = 65536;
/**
 * The bytes of the message last scanned (`owner`), plus a NUL sentinel and slack: word reads go up
 * to 24 bytes past a position below the message end (a 20-byte name pattern), and a DataView read
 * out of range would throw.
 */
const B = new Uint8Array(SCRATCH_SIZE + 64);
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

/** SIP URI user chars (RFC 3261 §25.1 unreserved and user-unreserved): & = + $ , ; ? / and alphanumerics and marks. */
const URI_USER = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/") URI_USER[c.charCodeAt(0)] = 1;
/** What a userinfo may hold besides those: ':' (password) and '%' (escapes). */
const URI_USERINFO = URI_USER.slice();
URI_USERINFO[58] = 1;
URI_USERINFO[37] = 1;
/** uri-parameter chars (unreserved and param-unreserved: [ ] / : & + $). */
const URI_PARAM = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()[]/:&+$") URI_PARAM[c.charCodeAt(0)] = 1;

/** Hostname chars: letters and digits (1), '-' (2), '.' (3). */
const HOST = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') HOST[c.charCodeAt(0)] = 1;
HOST[45] = 2;
HOST[46] = 3;

const CONTENT_LENGTH = names.keyIdOf('content-length');

/**
 * The usual spellings of known header names, each with its ':' (and the compact forms in lower
 * case), as little-endian words back to back (the last one zero-padded, compared under a mask);
 * PATTERN_FIRST[first byte] starts a chain through PATTERN_NEXT of candidates. Comparing four bytes
 * at a time costs a few instructions; classifying and packing each char costs about 20.
 */
const patternNames = [...names.COMMON_NAMES, ...Object.keys(names.COMPACT_FORMS)];
const PATTERN_WORDS = new Int32Array(patternNames.reduce((t, n) => t + ((n.length + 4) >> 2), 0));
/** Per pattern: its first word in PATTERN_WORDS, how many words, the mask of the last one, its length without the ':'. */
const PATTERN_AT = new Uint16Array(patternNames.length + 1);
const PATTERN_COUNT = new Uint8Array(patternNames.length + 1);
const PATTERN_MASK = new Int32Array(patternNames.length + 1);
const PATTERN_LEN = new Uint8Array(patternNames.length + 1);
const PATTERN_ID = new Uint8Array(patternNames.length + 1);
const PATTERN_NEXT = new Uint8Array(patternNames.length + 1);
const PATTERN_FIRST = new Uint8Array(256);
{
  let at = 0;
  // Chains keep the list's order: the most common names are tried first.
  for (let k = patternNames.length; k >= 1; k--) {
    const name = patternNames[k - 1]!;
    const first = name.charCodeAt(0);
    PATTERN_NEXT[k] = PATTERN_FIRST[first]!;
    PATTERN_FIRST[first] = k;
  }
  for (let k = 1; k <= patternNames.length; k++) {
    const name = patternNames[k - 1]!;
    const bytes = name + ':';
    const count = (bytes.length + 3) >> 2;
    PATTERN_AT[k] = at;
    PATTERN_COUNT[k] = count;
    PATTERN_LEN[k] = name.length;
    PATTERN_ID[k] = names.keyIdOf(names.headerKey(name));
    const rest = bytes.length & 3;
    PATTERN_MASK[k] = rest === 0 ? -1 : (1 << (8 * rest)) - 1;
    for (let j = 0; j < count; j++) {
      let word = 0;
      for (let i = 3; i >= 0; i--) word = (word << 8) | (4 * j + i < bytes.length ? bytes.charCodeAt(4 * j + i) : 0);
      PATTERN_WORDS[at++] = word;
    }
  }
  if (patternNames.length > 255 || PATTERN_ID.includes(0, 1)) throw new Error('header name patterns do not fit their tables');
}
const { COMPACT_ID, NAME_V1, NAME_V2, NAME_LEN, NAME_ID, nameSlot } = names;
const NAME_MASK = names.NAME_TABLE_SIZE - 1;

/**
 * FRAME.lines holds two numbers per line: line start (relative to the message start, below 2^16)
 * | line length (to its CR, below 2^14) << 16; then key id (8 bits) | whitespace after the colon
 * (4 bits) << WS_SHIFT | name length << NAME_SHIFT. The value starts after the name, its colon and
 * the whitespace.
 */
export const STRIDE = 2;
export const WS_SHIFT = 8;
export const NAME_SHIFT = 12;

/** Four chars as the little-endian int32 wordAt reads for them. */
function word(chars: string): number {
  let w = 0;
  for (let i = 3; i >= 0; i--) w = (w << 8) | chars.charCodeAt(i);
  return w;
}
const W_SIP = word('SIP/');
const W_20 = word('2.0/');
const W_UDP = word('UDP ');
const W_TCP = word('TCP ');
const W_TLS = word('TLS ');
const W_WSS = word('WSS ');
const W_BRAN = word('bran');
const W_CH = word('ch=\0');
const W_TAG = word('tag=');

/** B as a DataView: TurboFan reads an int32 from it at any alignment in one load. */
const DV = new DataView(B.buffer);

/** Four bytes of B from `x` as a little-endian int32 (any alignment). */
function wordAt(dv: DataView, x: number): number {
  return dv.getInt32(x, true);
}

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
  /** STRIDE numbers per header line (see STRIDE). */
  lines: [] as number[],
  /** How many numbers of `lines` are used (the array may be longer, its tail holes). */
  count: 0,
  /**
   * Which key ids occur (bit id & 31 of word id >> 5), and which occur more than once: lookups of
   * an absent header, or of a list header on one line, need not scan every line.
   */
  seen0: 0,
  seen1: 0,
  seen2: 0,
  dup0: 0,
  dup1: 0,
  dup2: 0,
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
  const dv = DV;
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
    // Request-URI bytes are 0x21-0x7e: four at a time (a byte out of range sets a high bit), then one by one.
    let w = dv.getInt32(p, true);
    while ((((w - 0x21212121) | w | (w + 0x01010101)) & HIGH_BITS) === 0) {
      p += 4;
      w = dv.getInt32(p, true);
    }
    while ((c = b[p]!) > SP && c < 127) p++;
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
  // Room for 16 lines without growing (a grown array leaves its old store as garbage).
  const lines: number[] = new Array<number>(16 * STRIDE);
  let n = 0;
  const maxLines = limits.maxHeaders * STRIDE;
  const patWords = PATTERN_WORDS;
  const patFirst = PATTERN_FIRST;
  const patNext = PATTERN_NEXT;
  const patAt = PATTERN_AT;
  const patCount = PATTERN_COUNT;
  const patMask = PATTERN_MASK;
  const patLen = PATTERN_LEN;
  const patId = PATTERN_ID;
  const compactId = COMPACT_ID;
  const nameId = NAME_ID;
  const nameV1 = NAME_V1;
  const nameV2 = NAME_V2;
  const nameLength = NAME_LEN;
  let high = 0;
  let seen0 = 0;
  let seen1 = 0;
  let seen2 = 0;
  let dup0 = 0;
  let dup1 = 0;
  let dup2 = 0;
  let contentLength = -1;
  let contentLengthConflict = false;
  for (;;) {
    const ls = p;
    // Header name: first the usual spellings with their ':', compared four bytes at a time (see PATTERN_WORDS).
    let id = 0;
    const u = wordAt(dv, p);
    for (let k = patFirst[u & 255]!; k !== 0; k = patNext[k]!) {
      const at = patAt[k]!;
      const last = patCount[k]! - 1;
      if (last === 0) {
        if ((u & patMask[k]!) !== patWords[at]) continue;
      } else {
        if (u !== patWords[at]) continue;
        let j = 1;
        while (j < last && wordAt(dv, p + 4 * j) === patWords[at + j]) j++;
        if (j < last || (wordAt(dv, p + 4 * last) & patMask[k]!) !== patWords[at + last]) continue;
      }
      id = patId[k]!;
      p += patLen[k]!;
      break;
    }
    // Else letters and '-' (all known names are made of them) are packed exactly, five bits a char
    // (see header-names.ts), so one table probe finds the key.
    let v1 = 0;
    let v2 = 0;
    if (id === 0) for (;;) {
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
    if (id !== 0) {
      c = 58;
    } else if (token[c] === 1) {
      // Another token char (a digit, '.', '!'...): no known name has one.
      p++;
      while (token[b[p]!] === 1) p++;
      c = b[p]!;
    } else if (p - ls === 1) {
      id = compactId[b[ls]!]!;
    } else if (p - ls <= 20) {
      const len = p - ls;
      for (let slot = nameSlot(v1, v2, len); ; slot = (slot + 1) & NAME_MASK) {
        const found = nameId[slot]!;
        if (found === 0) break;
        if (nameV1[slot] === v1 && nameV2[slot] === v2 && nameLength[slot] === len) {
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
    // Value: up to CRLF. Four bytes at a time (any alignment: see DV): any byte below 14 or above
    // 127 sets its high bit in m, and the lowest set bit is the first such byte (a borrow only runs
    // upwards from a real one).
    // A byte above 127 marks the message non-ASCII; other controls but CR and LF belong to the value.
    for (;;) {
      let w = dv.getInt32(p, true);
      let m = ((w - 0x0e0e0e0e) | w) & HIGH_BITS;
      while (m === 0) {
        p += 4;
        w = dv.getInt32(p, true);
        m = ((w - 0x0e0e0e0e) | w) & HIGH_BITS;
      }
      p += (31 - Math.clz32(m ^ (m - 1))) >> 3;
      c = b[p]!;
      if (c === CR || c === LF || p >= end) break;
      if (c >= 128) high = NON_ASCII;
      p++;
    }
    // CRLF not followed by SP/HT (folding) ends the line; a bare CR or LF is for the general parser.
    if (c !== CR || b[p + 1] !== LF || p + 2 >= end || (c = b[p + 2]!) === SP || c === HT) return false;
    // The line must fit the packed form: length below 2^14, at most 15 whitespace chars after the colon.
    const ws = vs - ls - nameLen - 1;
    if (p - ls > maxLine || p - ls >= 1 << 14 || ws > 15 || n >= maxLines) return false;
    if (id === CONTENT_LENGTH) {
      // 1*DIGIT then optional SP/HT, at most 10 digits, below 2^32 (as parseContentLengthValue).
      let v = 0;
      let q = vs;
      while (q < p && (c = b[q]!) >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        q++;
      }
      const digits = q - vs;
      while (q < p && ((c = b[q]!) === SP || c === HT)) q++;
      if (digits === 0 || digits > 10 || q !== p || v > 0xffffffff) return false;
      if (contentLength >= 0 && v !== contentLength) contentLengthConflict = true;
      if (contentLength < 0) contentLength = v;
    }
    lines[n] = (ls - start) | ((p - ls) << 16);
    lines[n + 1] = id | (ws << WS_SHIFT) | (nameLen << NAME_SHIFT);
    const bit = 1 << (id & 31);
    if (id < 32) {
      dup0 |= seen0 & bit;
      seen0 |= bit;
    } else if (id < 64) {
      dup1 |= seen1 & bit;
      seen1 |= bit;
    } else {
      dup2 |= seen2 & bit;
      seen2 |= bit;
    }
    n += STRIDE;
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
  r.count = n;
  r.seen0 = seen0;
  r.seen1 = seen1;
  r.seen2 = seen2;
  r.dup0 = dup0;
  r.dup1 = dup1;
  r.dup2 = dup2;
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
/** The methods' bytes back to back, where each starts, and chains by first byte (as PATTERN_FIRST). */
const METHOD_BYTES = new Uint8Array(METHODS.join('').length);
const METHOD_AT = new Uint8Array(METHODS.length + 1);
const METHOD_LEN = new Uint8Array(METHODS.length + 1);
const METHOD_NEXT = new Uint8Array(METHODS.length + 1);
const METHOD_FIRST = new Uint8Array(256);
{
  let at = 0;
  for (let k = METHODS.length; k >= 1; k--) {
    const first = METHODS[k - 1]!.charCodeAt(0);
    METHOD_NEXT[k] = METHOD_FIRST[first]!;
    METHOD_FIRST[first] = k;
  }
  for (let k = 1; k <= METHODS.length; k++) {
    const m = METHODS[k - 1]!;
    METHOD_AT[k] = at;
    METHOD_LEN[k] = m.length;
    for (let i = 0; i < m.length; i++) METHOD_BYTES[at++] = m.charCodeAt(i);
  }
}

/** Where the token matched by the last methodAt ends. */
let methodStop = 0;

/**
 * The method name constant when the token at `i` (below `e`) is one of METHODS, setting
 * methodStop to its end; else undefined. One pass over the bytes, with no separate token scan.
 */
function methodAt(d: number, i: number, e: number): string | undefined {
  const b = B;
  const tok = TOKEN;
  const bytes = METHOD_BYTES;
  const mAt = METHOD_AT;
  const mLen = METHOD_LEN;
  const mNext = METHOD_NEXT;
  const mFirst = METHOD_FIRST;
  for (let k = mFirst[b[d + i]!]!; k !== 0; k = mNext[k]!) {
    const len = mLen[k]!;
    if (i + len > e) continue;
    const at = mAt[k]!;
    let j = 1;
    while (j < len && b[d + i + j] === bytes[at + j]) j++;
    if (j === len && (i + len === e || tok[b[d + i + len]!] !== 1)) {
      methodStop = i + len;
      return METHODS[k - 1];
    }
  }
  return undefined;
}

/** The method name constant for the bytes [i, e) when they spell one of METHODS, else undefined. */
function knownMethod(d: number, i: number, e: number): string | undefined {
  const b = B;
  const bytes = METHOD_BYTES;
  const mAt = METHOD_AT;
  const mLen = METHOD_LEN;
  const mNext = METHOD_NEXT;
  const mFirst = METHOD_FIRST;
  const len = e - i;
  for (let k = mFirst[b[d + i]!]!; k !== 0; k = mNext[k]!) {
    if (mLen[k] !== len) continue;
    const at = mAt[k]!;
    let j = 1;
    while (j < len && b[d + i + j] === bytes[at + j]) j++;
    if (j === len) return METHODS[k - 1];
  }
  return undefined;
}

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
  return { seq, method: knownMethod(d, k, e) ?? s.slice(k, e) };
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
  const dv = DV;
  while (i < e) {
    const c = b[d + i]!;
    if (c === 44 /* , */) break;
    if (c !== 59 /* ; */) return -1;
    const ns = i + 1;
    let name: string;
    let ne: number;
    // The parameters every Via and every dialog's From/To carries, found without a name lookup.
    const w0 = wordAt(dv, d + ns);
    if (w0 === W_BRAN && (wordAt(dv, d + ns + 4) & 0xffffff) === W_CH) {
      name = 'branch';
      ne = ns + 6;
    } else if (w0 === W_TAG) {
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
  // Arrays start from their first element (see fastTokenList).
  let out: Via[] | undefined;
  const dv = DV;
  for (;;) {
    if (wordAt(dv, d + i) !== W_SIP || wordAt(dv, d + i + 4) !== W_20) return undefined;
    i += 8;
    // The usual transports compared as one word with the SP after them; the others one by one.
    const w = wordAt(dv, d + i);
    let transport: string | undefined =
      w === W_UDP ? 'UDP' : w === W_TCP ? 'TCP' : w === W_TLS ? 'TLS' : w === W_WSS ? 'WSS' : undefined;
    if (transport === undefined) {
      for (let k = 0; k < TRANSPORTS.length; k++) {
        const t = TRANSPORTS[k]!;
        if (s.startsWith(t, i) && b[d + i + t.length] === SP) {
          transport = t;
          break;
        }
      }
      if (transport === undefined) return undefined;
    }
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
    const via: Via = port < 0 ? { protocol: 'SIP/2.0', transport, host, params } : { protocol: 'SIP/2.0', transport, host, port, params };
    if (out === undefined) out = [via];
    else out.push(via);
    if (i >= e) return out;
    // At ',': LWS may follow.
    i++;
    while (i < e && (b[d + i] === SP || b[d + i] === HT)) i++;
  }
}


// ---------------------------------------------------------------------------------------------
// SIP URIs

/** Where the last sipUriAt stopped: the first char that is not part of the URI. */
let uriStop = 0;

/**
 * The sip: or sips: URI at s[i] (lower-case scheme; user without password or escapes; a hostname
 * or IPv4 host; port; uri-parameters without escapes), stopping at the first char that cannot
 * continue it (see uriStop), which the caller checks. As parseSip for the same text.
 */
function sipUriAt(d: number, s: string, i: number, e: number): SipUri | undefined {
  const b = B;
  const user = URI_USER;
  const host = HOST;
  const param = URI_PARAM;
  let scheme: 'sip' | 'sips';
  if (i + 4 > e || b[d + i] !== 115 || b[d + i + 1] !== 105 || b[d + i + 2] !== 112) return undefined;
  if (b[d + i + 3] === 58) {
    scheme = 'sip';
    i += 4;
  } else if (b[d + i + 3] === 115 && b[d + i + 4] === 58 && i + 5 <= e) {
    scheme = 'sips';
    i += 5;
  } else {
    return undefined;
  }
  // userinfo: ends at '@'; a ':' or '%' before it (password, escapes) is for the general parser.
  let k = i;
  while (k < e && user[b[d + k]!] === 1) k++;
  let userPart: string | undefined;
  if (k < e && b[d + k] === 64 /* @ */) {
    if (k === i) return undefined;
    userPart = s.slice(i, k);
    i = k + 1;
  } else if (k < e && (b[d + k] === 58 || b[d + k] === 37)) {
    const info = URI_USERINFO;
    while (k < e && info[b[d + k]!] === 1) k++;
    if (k < e && b[d + k] === 64) return undefined;
  }
  // host: a name (lower-cased) or an IPv4 address; an IPv6 reference is for the general parser.
  // One pass: letters seen (upper case), digits and dots only (numeric), and the hostname rules:
  // labels non-empty, not starting or ending with '-' (prev: 0 at a label start, 1 after an
  // alphanumeric, 2 after '-'), no final dot, a toplabel starting with a letter.
  const hs = i;
  let upper = false;
  let numeric = true;
  let valid = true;
  let prev = 0;
  let labelStart = i;
  while (i < e) {
    const c = b[d + i]!;
    const t = host[c]!;
    if (t === 1) {
      if (c > 57) {
        numeric = false;
        if (c < 91) upper = true;
      }
      prev = 1;
    } else if (t === 3) {
      if (prev !== 1) valid = false;
      labelStart = i + 1;
      prev = 0;
    } else if (t === 2) {
      if (prev === 0) valid = false;
      numeric = false;
      prev = 2;
    } else {
      break;
    }
    i++;
  }
  if (i === hs) return undefined;
  let hostName: string;
  let hostType: SipUri['hostType'];
  if (numeric) {
    if (!isDottedQuad(d, hs, i)) return undefined;
    hostName = s.slice(hs, i);
    hostType = 'ipv4';
  } else {
    if (!valid || prev !== 1 || !isAlpha(b[d + labelStart]!)) return undefined;
    hostName = s.slice(hs, i);
    if (upper) hostName = hostName.toLowerCase();
    hostType = 'name';
  }
  let port = -1;
  if (i < e && b[d + i] === 58 /* : */) {
    const ps = ++i;
    port = 0;
    let c = 0;
    while (i < e && (c = b[d + i]! - 48) >= 0 && c <= 9) {
      port = port * 10 + c;
      i++;
    }
    if (i === ps || i - ps > 5 || port > 65535 || (i < e && b[d + i] === 58)) return undefined;
  }
  const params = newParams();
  while (i < e && b[d + i] === 59 /* ; */) {
    const ns = ++i;
    while (i < e && param[b[d + i]!] === 1) i++;
    if (i === ns) return undefined;
    const name = i - ns === 2 && b[d + ns] === 108 && b[d + ns + 1] === 114 ? 'lr' : paramName(s, ns, i);
    let value: string | null = null;
    if (i < e && b[d + i] === 61 /* = */) {
      const vs = ++i;
      while (i < e && param[b[d + i]!] === 1) i++;
      if (i === vs) return undefined;
      value = s.slice(vs, i);
    }
    // A repeated uri-parameter is an error (RFC 3261 §19.1.1): for the general parser to report.
    if (params[name] !== undefined) return undefined;
    params[name] = value;
  }
  uriStop = i;
  const uri: SipUri = { scheme, host: hostName, hostType, params, headers: newParams() as Record<string, string> };
  if (userPart !== undefined) uri.user = userPart;
  if (port >= 0) uri.port = port;
  return uri;
}

/** A whole SIP URI in s[i, e) (the Request-URI), as parseUri; undefined for anything else. */
export function fastSipUri(d: number, s: string, i: number, e: number): SipUri | undefined {
  const uri = sipUriAt(d, s, i, e);
  return uri !== undefined && uriStop === e ? uri : undefined;
}

// ---------------------------------------------------------------------------------------------
// name-addr (From, To, Route, Record-Route, Contact, Refer-To...)

/** Where the last nameAddrAt stopped: the ',' after it or the end. */
let nameAddrStop = 0;

/**
 * One `[display-name] <sip-uri> *(;param)` at s[i] (i at its first char), up to a ',' or `e`: a
 * quoted display name without escapes, or tokens separated by single spaces; header parameters as
 * plainParams takes them. In a list (`list`), a bare addr-spec is left to the general parser, which
 * splits the list first. As parseNameAddr for the same text.
 */
function nameAddrAt(d: number, s: string, i: number, e: number, list: boolean): NameAddr | undefined {
  const b = B;
  let displayName: string | undefined;
  let c = b[d + i]!;
  if (c === 34 /* " */) {
    let k = i + 1;
    while (k < e && (c = b[d + k]!) !== 34 && c !== 92 && c !== CR && c !== LF) k++;
    if (k >= e || c !== 34) return undefined;
    displayName = s.slice(i + 1, k);
    i = k + 1;
    while (i < e && ((c = b[d + i]!) === SP || c === HT)) i++;
  } else if (c !== 60 /* < */) {
    let k = tokenEnd(d, i, e);
    if (k === i) return undefined;
    if (k < e && (c = b[d + k]!) !== SP && c !== HT && c !== 60) {
      // A bare addr-spec: the URI runs to the first ';' or whitespace, and holds no ',' or '?'
      // (RFC 3261 §20.10); its parameters are the header's.
      if (list) return undefined;
      let u = i;
      while (u < e && (c = b[d + u]!) !== 59 && c !== SP && c !== HT) {
        if (c === 44 || c === 63) return undefined;
        u++;
      }
      const uri = sipUriAt(d, s, i, u);
      if (uri === undefined || uriStop !== u) return undefined;
      const params = newParams();
      if (plainParams(d, s, u, e, params) !== e) return undefined;
      nameAddrStop = e;
      return { uri, params };
    }
    // Display name: tokens separated by one SP, then optional whitespace before '<'.
    const ds = i;
    let de = k;
    for (;;) {
      i = de;
      while (i < e && ((c = b[d + i]!) === SP || c === HT)) i++;
      if (i >= e) return undefined;
      if (c === 60) break;
      if (i !== de + 1 || b[d + de] !== SP) return undefined;
      k = tokenEnd(d, i, e);
      if (k === i) return undefined;
      de = k;
    }
    displayName = s.slice(ds, de);
  }
  if (i >= e || b[d + i] !== 60) return undefined;
  const uri = sipUriAt(d, s, i + 1, e);
  if (uri === undefined || uriStop >= e || b[d + uriStop] !== 62 /* > */) return undefined;
  const params = newParams();
  const stop = plainParams(d, s, uriStop + 1, e, params);
  if (stop < 0 || (!list && stop !== e)) return undefined;
  nameAddrStop = stop;
  return displayName === undefined ? { uri, params } : { displayName, uri, params };
}

/** From, To, Refer-To: one name-addr filling s[i, e). */
export function fastNameAddr(d: number, s: string, i: number, e: number): NameAddr | undefined {
  return i < e ? nameAddrAt(d, s, i, e, false) : undefined;
}

/** Route, Record-Route, Path: comma-separated name-addrs (as parseNameAddrList). */
export function fastNameAddrList(d: number, s: string, i: number, e: number): NameAddr[] | undefined {
  const b = B;
  let out: NameAddr[] | undefined;
  for (;;) {
    if (i >= e) return undefined;
    const na = nameAddrAt(d, s, i, e, true);
    if (na === undefined) return undefined;
    if (out === undefined) out = [na];
    else out.push(na);
    i = nameAddrStop;
    if (i >= e) return out;
    i++;
    while (i < e && (b[d + i] === SP || b[d + i] === HT)) i++;
  }
}

/** Contact: a name-addr list whose entries carry no q or expires (those are checked by the general parser). */
export function fastContact(d: number, s: string, i: number, e: number): NameAddr[] | undefined {
  const list = fastNameAddrList(d, s, i, e);
  if (list === undefined) return undefined;
  for (let k = 0; k < list.length; k++) {
    const p = list[k]!.params;
    if (p.q !== undefined || p.expires !== undefined) return undefined;
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// Token lists and Content-Type

/** `token *(COMMA token)` (Allow, Supported, Require...), possibly empty (as parseTokenList). */
export function fastTokenList(d: number, s: string, i: number, e: number): string[] | undefined {
  const b = B;
  if (i >= e) return [];
  // The array is made from its first element: an empty literal starts as an array of small
  // integers, and pushing a string into it then goes through the generic push (measured).
  let out: string[] | undefined;
  for (;;) {
    let token = methodAt(d, i, e);
    let t: number;
    if (token !== undefined) {
      t = methodStop;
    } else {
      t = tokenEnd(d, i, e);
      if (t === i) return undefined;
      token = s.slice(i, t);
    }
    if (out === undefined) out = [token];
    else out.push(token);
    i = t;
    while (i < e && (b[d + i] === SP || b[d + i] === HT)) i++;
    if (i >= e) return out;
    if (b[d + i] !== 44 /* , */) return undefined;
    i++;
    while (i < e && (b[d + i] === SP || b[d + i] === HT)) i++;
  }
}


/** Content-Type: `type/subtype *(;name=value)` without whitespace (as parseContentType). */
export function fastContentType(d: number, s: string, i: number, e: number): MediaType | undefined {
  const b = B;
  const te = tokenEnd(d, i, e);
  if (te === i || te >= e || b[d + te] !== 47 /* / */) return undefined;
  const se = tokenEnd(d, te + 1, e);
  if (se === te + 1) return undefined;
  let type: string;
  let subtype: string;
  if (s.startsWith('application/sdp', i) && se - i === 15) {
    type = 'application';
    subtype = 'sdp';
  } else {
    type = s.slice(i, te).toLowerCase();
    subtype = s.slice(te + 1, se).toLowerCase();
  }
  if (type === '*' || subtype === '*') return undefined;
  const params = newParams();
  if (plainParams(d, s, se, e, params) !== e) return undefined;
  for (const name in params) if (params[name] === null) return undefined;
  return { type, subtype, params };
}

// ---------------------------------------------------------------------------------------------
// From/To tag

/** Index after the quoted-string at `i` (its opening quote) below `e`, or -1 (as tag-scan.ts skipQuoted). */
function quotedEnd(d: number, i: number, e: number): number {
  const b = B;
  for (let j = i + 1; j < e; j++) {
    const c = b[d + j]!;
    if (c === 92 /* \ */) j++;
    else if (c === 34 /* " */) return j + 1;
  }
  return -1;
}

/**
 * tag-scan.ts scanTag on the bytes of the value at text[vs, le) (le: the line's CR) of a message
 * whose bytes are `buf` from `d`: the tag, undefined when there is none, or null when the value is
 * not of a shape this scanner reads.
 */
export function scanTagBytes(buf: Uint8Array, d: number, s: string, vs: number, le: number): string | undefined | null {
  useBytes(buf);
  const b = B;
  const tok = TOKEN;
  let e = le;
  while (e > vs && (b[d + e - 1] === SP || b[d + e - 1] === HT)) e--;
  let i = vs;
  // Past the display name and the URI: after '>' for name-addr, at the first ';' for addr-spec.
  for (; i < e; i++) {
    const c = b[d + i]!;
    if (c === 34) {
      i = quotedEnd(d, i, e);
      if (i < 0) return null;
      i--;
    } else if (c === 60 /* < */) {
      // A native search: cheaper than a loop over the URI's bytes.
      const gt = s.indexOf('>', i + 1);
      if (gt < 0 || gt >= e) return null;
      i = gt + 1;
      break;
    } else if (c === 59 /* ; */) {
      break;
    }
  }
  let tag: string | undefined;
  let c = 0;
  while (i < e) {
    c = b[d + i]!;
    if (c === SP || c === HT) {
      i++;
      continue;
    }
    if (c !== 59) return null;
    i++;
    while (i < e && ((c = b[d + i]!) === SP || c === HT)) i++;
    const nameStart = i;
    while (i < e && tok[b[d + i]!] === 1) i++;
    const isTag = i - nameStart === 3 && (b[d + nameStart]! | 0x20) === 116 && (b[d + nameStart + 1]! | 0x20) === 97 &&
      (b[d + nameStart + 2]! | 0x20) === 103;
    while (i < e && ((c = b[d + i]!) === SP || c === HT)) i++;
    if (i < e && b[d + i] === 61 /* = */) {
      i++;
      while (i < e && ((c = b[d + i]!) === SP || c === HT)) i++;
      if (i < e && b[d + i] === 34) {
        if (isTag) return null; // a quoted tag is not a token: let the grammar decide
        i = quotedEnd(d, i, e);
        if (i < 0) return null;
      } else {
        const valueStart = i;
        while (i < e && (c = b[d + i]!) !== 59 && c !== SP && c !== HT) i++;
        if (isTag) {
          if (tag !== undefined || i === valueStart) return null;
          for (let k = valueStart; k < i; k++) if (tok[b[d + k]!] !== 1) return null;
          tag = s.slice(valueStart, i);
        }
      }
    } else if (isTag) {
      return null;
    }
  }
  return tag;
}

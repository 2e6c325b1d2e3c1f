/**
 * Character classes and small scanners from the RFC 3261 §25 grammar, shared by the header parsers.
 * Strings here are "binary strings": one char per byte (latin1), so an index is a byte offset.
 */
import { SipParseError } from '../core/errors.js';

const TOKEN = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') TOKEN[c.charCodeAt(0)] = 1;

/** RFC 3261 §25.1 `token` character. */
export function isTokenChar(code: number): boolean {
  return code < 256 && TOKEN[code] === 1;
}

/** True when `s` is a non-empty token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** SP, HTAB, CR or LF: what LWS may contain after unfolding. */
export function isWs(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}

/** Index of the first non-whitespace char at or after `i`. */
export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Index of the end of the token starting at `i` (== i when there is none). */
export function scanToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Reads a quoted-string starting at `i` (which must be '"'). Returns the unescaped content and the
 * index after the closing quote. Throws SipParseError when the quote is not closed.
 */
export function scanQuoted(s: string, i: number): { value: string; end: number } {
  let out = '';
  let j = i + 1;
  let runStart = j;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 34 /* " */) {
      out += s.slice(runStart, j);
      return { value: out, end: j + 1 };
    }
    if (c === 92 /* \ */) {
      // RFC 3261 §25.1 quoted-pair: "\" followed by any octet but CR and LF.
      if (j + 1 >= s.length) break;
      const n = s.charCodeAt(j + 1);
      if (n === 10 || n === 13) throw new SipParseError('bad quoted-pair in quoted-string');
      out += s.slice(runStart, j) + s[j + 1];
      j += 2;
      runStart = j;
      continue;
    }
    // qdtext has no bare CR or LF (RFC 3261 §25.1); a fold (CRLF then SP/HT) still in the text reads as SP.
    if (c === 13 || c === 10) {
      const n1 = s.charCodeAt(j + 1);
      const n2 = s.charCodeAt(j + 2);
      if (c === 13 && n1 === 10 && (n2 === 32 || n2 === 9)) {
        out += s.slice(runStart, j) + ' ';
        j += 3;
        runStart = j;
        continue;
      }
      throw new SipParseError('CR or LF in quoted-string');
    }
    j++;
  }
  throw new SipParseError('unterminated quoted-string');
}

/**
 * Quotes `s` as a quoted-string, escaping '"' and '\\'. CR and LF cannot be quoted-pairs
 * (RFC 3261 §25.1), so they become spaces: a value can never break out of its header line.
 */
export function quote(s: string): string {
  return '"' + s.replace(/[\r\n]/g, ' ').replace(/["\\]/g, (m) => '\\' + m) + '"';
}

/** Parses a non-negative decimal integer no larger than `max`; throws with `what` in the reason. */
export function parseUInt(text: string, what: string, max = 0xffffffff): number {
  const s = text.trim();
  if (s.length === 0 || s.length > 10) throw new SipParseError(`bad ${what}: ${JSON.stringify(s.slice(0, 40))}`);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw new SipParseError(`bad ${what}: ${JSON.stringify(s.slice(0, 40))}`);
    n = n * 10 + c;
  }
  if (n > max) throw new SipParseError(`${what} out of range: ${s}`);
  return n;
}

/**
 * Splits a header value at top-level commas: commas inside quoted strings and <...> are kept.
 * Throws on an unterminated quote or angle bracket.
 */
export function splitComma(s: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  let angle = false;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      i = scanQuoted(s, i).end;
      continue;
    }
    if (c === 60 /* < */) angle = true;
    else if (c === 62 /* > */) angle = false;
    else if (c === 44 /* , */ && !angle) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
    i++;
  }
  if (angle) throw new SipParseError('unterminated <');
  parts.push(s.slice(start));
  return parts;
}

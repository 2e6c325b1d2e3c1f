/**
 * Headers whose value is a single decimal number (Max-Forwards, Content-Length, Expires,
 * Min-Expires, RSeq, Min-SE), and the digit scanners the other header parsers share.
 */
import { SipParseError } from '../../core/errors.js';
import { isWs, skipWs } from '../grammar.js';
import { newParams, parseParams, type Params } from '../params.js';

/** Largest delta-seconds / sequence number we accept: RFC 3261 §20.19 bounds Expires by 2^32-1. */
export const MAX_UINT32 = 0xffffffff;

/** Index after the run of ASCII digits starting at `i` (== i when there is none). */
export function scanDigits(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i;
}

/**
 * Value of `s[start, end)`, which must be 1*DIGIT (RFC 3261 §25), no larger than `max`.
 * Leading zeros are allowed however many there are (RFC 4475 §3.1.1.1 sends `0068` and `0009`).
 * The check runs per digit, so a 100-digit number stops at the first digit past `max` and the
 * running value never leaves the exact range of a double.
 */
export function parseDecimal(s: string, start: number, end: number, max: number, what: string): number {
  if (start >= end) throw new SipParseError(`missing ${what}`);
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new SipParseError(`bad ${what}: ${snippet(s, start, end)}`);
    n = n * 10 + d;
    if (n > max) throw new SipParseError(`${what} out of range: ${snippet(s, start, end)}`);
  }
  return n;
}

/** Index just past the last non-whitespace char of `s` at or after `start`. */
export function trimmedEnd(s: string, start: number): number {
  let end = s.length;
  while (end > start && isWs(s.charCodeAt(end - 1))) end--;
  return end;
}

/**
 * True when `s[start, end)` equals `lower` (an all-lower-case ASCII literal) ignoring case, as
 * RFC 3261 §25 reads the quoted literals of its ABNF. No allocation.
 */
export function equalsLiteral(s: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) {
    const c = s.charCodeAt(start + k);
    const l = lower.charCodeAt(k);
    // Only an upper-case letter may differ from the literal, by exactly the case bit.
    if (c !== l && !(c >= 65 && c <= 90 && c + 32 === l)) return false;
  }
  return true;
}

/** A short, printable excerpt of `s[start, end)` for error reasons (error path only). */
export function snippet(s: string, start = 0, end = s.length): string {
  return JSON.stringify(s.slice(start, Math.min(end, start + 40)));
}

/** A whole header value that is one number between 0 and `max`, with optional surrounding LWS. */
function wholeNumber(value: string, max: number, what: string): number {
  const start = skipWs(value, 0);
  return parseDecimal(value, start, trimmedEnd(value, start), max, what);
}

/**
 * Reads the delta-seconds parameter `name` of `params` (absent: undefined). A flag or a value that
 * is not 1*DIGIT within 2^32-1 is a 400. The stored value is rewritten in canonical form (`0060`
 * becomes `60`) so that the typed field and the parameter always agree and round-trip.
 */
export function deltaParam(params: Params, name: string, what: string): number | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (v === null) throw new SipParseError(`${what} without a value`);
  const n = parseDecimal(v, 0, v.length, MAX_UINT32, what);
  params[name] = String(n);
  return n;
}

/**
 * The params to write for a value whose typed fields mirror some of its parameters: each name in
 * `fields` takes the field's value (the typed field is authoritative; undefined drops it, null
 * writes a flag), in the position the parameter had; fields missing from `params` come last.
 */
export function paramsWithFields(params: Params, fields: Readonly<Record<string, string | null | undefined>>): Params {
  const out = newParams();
  for (const name in params) {
    if (Object.hasOwn(fields, name)) {
      const f = fields[name];
      if (f !== undefined) out[name] = f;
    } else {
      out[name] = params[name] ?? null;
    }
  }
  for (const name in fields) {
    const f = fields[name];
    if (f !== undefined && !(name in out)) out[name] = f;
  }
  return out;
}

/** Max-Forwards (RFC 3261 §20.22): 0 to 255; `0068` is 68 (RFC 4475 §3.1.1.1), 300 is a 400 (§3.1.2.4). */
export function parseMaxForwards(value: string): number {
  return wholeNumber(value, 255, 'Max-Forwards');
}

/** Content-Length (RFC 3261 §20.14): 1*DIGIT, so `-999` is a 400 (RFC 4475 §3.1.2.3 ncl). */
export function parseContentLength(value: string): number {
  return wholeNumber(value, MAX_UINT32, 'Content-Length');
}

/** Expires (RFC 3261 §20.19): delta-seconds from 0 to 2^32-1; RFC 4475 §3.1.2.4's 10^100 is a 400. */
export function parseExpires(value: string): number {
  return wholeNumber(value, MAX_UINT32, 'Expires');
}

/** Min-Expires (RFC 3261 §20.23): delta-seconds. */
export function parseMinExpires(value: string): number {
  return wholeNumber(value, MAX_UINT32, 'Min-Expires');
}

/** RSeq (RFC 3262 §7.1): response-num, 1*DIGIT; RFC 3262 §3 keeps it within 2^32-1. */
export function parseRSeq(value: string): number {
  return wholeNumber(value, MAX_UINT32, 'RSeq');
}

/**
 * Min-SE (RFC 4028 §5): `delta-seconds *(SEMI generic-param)`. The parameters are checked for
 * syntax and dropped: RFC 4028 defines none, and the header is not a list, so a comma is a 400.
 */
export function parseMinSE(value: string): number {
  const start = skipWs(value, 0);
  const end = scanDigits(value, start);
  const n = parseDecimal(value, start, end, MAX_UINT32, 'Min-SE');
  parseParams(value, end, false);
  return n;
}

/** Writes any of the numeric headers above. */
export function formatNumber(n: number): string {
  return String(n);
}

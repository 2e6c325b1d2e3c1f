/** Call-ID, Refer-Sub, Retry-After, Warning and Date. */
import { SipParseError } from '../../core/errors.js';
import { isWs, quote, scanQuoted, scanToken, skipWs } from '../grammar.js';
import { formatParams, parseParams } from '../params.js';
import type { ReferSubValue, RetryAfterValue, WarningValue } from '../types.js';
import { deltaParam, equalsLiteral, MAX_UINT32, paramsWithFields, parseDecimal, scanDigits, snippet, trimmedEnd } from './numbers.js';
import { scanHost } from './via.js';

// ---------------------------------------------------------------------------------------------
// Call-ID

/**
 * RFC 3261 §25.1 `word` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
 * "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}".
 */
const WORD = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~()<>:\\"/[]?{}') {
  WORD[c.charCodeAt(0)] = 1;
}

function scanWord(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c > 255 || WORD[c] !== 1) break;
    i++;
  }
  return i;
}

/**
 * Scans `callid = word [ "@" word ]` (RFC 3261 §25.1) at `i` and returns the index after it.
 * Throws when either word is empty. What follows is for the caller to check.
 */
export function scanCallId(s: string, i: number): number {
  const end = scanWord(s, i);
  if (end === i) throw new SipParseError(`bad Call-ID: ${snippet(s, i)}`);
  if (end < s.length && s.charCodeAt(end) === 64 /* @ */) {
    const host = scanWord(s, end + 1);
    if (host === end + 1) throw new SipParseError(`bad Call-ID: ${snippet(s, i)}`);
    return host;
  }
  return end;
}

/**
 * Call-ID (RFC 3261 §20.8): one callid, surrounding whitespace dropped. Empty, whitespace inside,
 * a second "@" or any non-word char is a 400. Returned as written: Call-IDs compare
 * case-sensitively (§20.8).
 */
export function parseCallId(value: string): string {
  const start = skipWs(value, 0);
  const end = scanCallId(value, start);
  if (skipWs(value, end) !== value.length) throw new SipParseError(`bad Call-ID: ${snippet(value)}`);
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** Writes a Call-ID (it is its own wire form). */
export function formatCallId(callId: string): string {
  return callId;
}

// ---------------------------------------------------------------------------------------------
// Refer-Sub

/** `Refer-Sub: refer-sub-value *(SEMI exten)`, refer-sub-value = "true" / "false" (RFC 4488 §4, case-insensitive ABNF literals). */
export function parseReferSub(value: string): ReferSubValue {
  const start = skipWs(value, 0);
  const end = scanToken(value, start);
  let v: boolean;
  if (equalsLiteral(value, start, end, 'true')) v = true;
  else if (equalsLiteral(value, start, end, 'false')) v = false;
  else throw new SipParseError(`bad Refer-Sub: ${snippet(value)}`);
  return { value: v, params: parseParams(value, end, false).params };
}

/** Writes `true` or `false` and the params. */
export function formatReferSub(v: ReferSubValue): string {
  return (v.value ? 'true' : 'false') + formatParams(v.params);
}

// ---------------------------------------------------------------------------------------------
// Retry-After

/**
 * Reads a comment (RFC 3261 §25.1: `LPAREN *(ctext / quoted-pair / comment) RPAREN`) at `i`, which
 * is '('. Nesting is tracked by a depth count, not recursion, so no input can exhaust the stack.
 * The text returned is the content without the outer parentheses, quoted-pairs unescaped and nested
 * parentheses kept. A bare CR or LF (the value is already unfolded) is a 400.
 */
function scanComment(s: string, i: number): { text: string; end: number } {
  let depth = 1;
  let out = '';
  let j = i + 1;
  let run = j;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) {
      if (j + 1 >= s.length) break;
      const n = s.charCodeAt(j + 1);
      if (n === 10 || n === 13) break;
      out += s.slice(run, j) + s[j + 1];
      j += 2;
      run = j;
      continue;
    }
    if (c === 40 /* ( */) depth++;
    else if (c === 41 /* ) */) {
      if (--depth === 0) return { text: out + s.slice(run, j), end: j + 1 };
    } else if (c === 10 || c === 13) break;
    j++;
  }
  throw new SipParseError(`bad comment: ${snippet(s, i)}`);
}

/**
 * Retry-After (RFC 3261 §20.33): `delta-seconds [ comment ] *( SEMI retry-param )`. The seconds must
 * fit 2^32-1 (RFC 4475 §3.1.2.5 scalarlg's `949302838503028349304023988` is a 400). `duration` is
 * read into its field and stays in params in canonical form.
 */
export function parseRetryAfter(value: string): RetryAfterValue {
  const start = skipWs(value, 0);
  const digitsEnd = scanDigits(value, start);
  const seconds = parseDecimal(value, start, digitsEnd, MAX_UINT32, 'Retry-After');
  let i = skipWs(value, digitsEnd);
  let comment: string | undefined;
  if (i < value.length && value.charCodeAt(i) === 40) {
    const c = scanComment(value, i);
    comment = c.text;
    i = c.end;
  }
  const params = parseParams(value, i, false).params;
  const v: RetryAfterValue = { seconds, params };
  if (comment !== undefined) v.comment = comment;
  const duration = deltaParam(params, 'duration', 'Retry-After duration');
  if (duration !== undefined) v.duration = duration;
  return v;
}

/**
 * Escapes '(' ')' and '\' so that any text reads back as the same comment; CR and LF, which cannot
 * be quoted-pairs (RFC 3261 §25.1), become spaces, as quote() does, so a comment cannot end the line.
 */
function escapeComment(text: string): string {
  let out = '';
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 || c === 41 || c === 92) {
      out += text.slice(run, i) + '\\' + text[i];
      run = i + 1;
    } else if (c === 13 || c === 10) {
      out += text.slice(run, i) + ' ';
      run = i + 1;
    }
  }
  return run === 0 ? text : out + text.slice(run);
}

/** Writes `seconds (comment);duration=n;params`. */
export function formatRetryAfter(v: RetryAfterValue): string {
  let out = String(v.seconds);
  if (v.comment !== undefined) out += ' (' + escapeComment(v.comment) + ')';
  return out + formatParams(paramsWithFields(v.params, { duration: v.duration === undefined ? undefined : String(v.duration) }));
}

// ---------------------------------------------------------------------------------------------
// Warning

/**
 * Warning (RFC 3261 §20.43): `warning-value *(COMMA warning-value)`, warning-value = warn-code SP
 * warn-agent SP warn-text. warn-code is exactly three digits (RFC 4475 §3.1.2.5 scalarlg's `1812`
 * is a 400); warn-agent is hostport (an IPv6 reference in brackets) or a pseudonym token, kept as
 * written; warn-text is a quoted-string, stored unquoted. Runs of LWS stand in for each SP.
 */
export function parseWarning(value: string): WarningValue[] {
  const out: WarningValue[] = [];
  let i = skipWs(value, 0);
  for (;;) {
    const codeEnd = scanDigits(value, i);
    if (codeEnd - i !== 3) throw new SipParseError(`bad warn-code: ${snippet(value, i)}`);
    const code = parseDecimal(value, i, codeEnd, 999, 'warn-code');
    if (codeEnd >= value.length || !isWs(value.charCodeAt(codeEnd))) throw new SipParseError('expected SP after warn-code');
    const agentStart = skipWs(value, codeEnd);
    let agentEnd: number;
    if (agentStart < value.length && value.charCodeAt(agentStart) === 91) {
      agentEnd = scanHost(value, agentStart);
    } else {
      agentEnd = scanToken(value, agentStart);
      if (agentEnd === agentStart) throw new SipParseError(`bad warn-agent: ${snippet(value, agentStart)}`);
    }
    if (agentEnd < value.length && value.charCodeAt(agentEnd) === 58 /* : */) {
      // hostport: what precedes the colon must be a host, not just any pseudonym token.
      if (scanHost(value, agentStart) !== agentEnd) throw new SipParseError(`bad warn-agent host: ${snippet(value, agentStart)}`);
      const portEnd = scanDigits(value, agentEnd + 1);
      parseDecimal(value, agentEnd + 1, portEnd, 65535, 'warn-agent port');
      agentEnd = portEnd;
    }
    if (agentEnd >= value.length || !isWs(value.charCodeAt(agentEnd))) throw new SipParseError('expected SP after warn-agent');
    const textStart = skipWs(value, agentEnd);
    if (textStart >= value.length || value.charCodeAt(textStart) !== 34) throw new SipParseError('warn-text must be a quoted-string');
    const q = scanQuoted(value, textStart);
    out.push({ code, agent: value.slice(agentStart, agentEnd), text: q.value });
    i = skipWs(value, q.end);
    if (i === value.length) return out;
    if (value.charCodeAt(i) !== 44) throw new SipParseError(`expected "," between warning-values: ${snippet(value, i)}`);
    i = skipWs(value, i + 1);
  }
}

/** Writes one warning-value: `399 agent "text"` (the code zero-padded to three digits). */
export function formatWarning(v: WarningValue): string {
  const code = v.code < 10 ? '00' + v.code : v.code < 100 ? '0' + v.code : String(v.code);
  return code + ' ' + v.agent + ' ' + quote(v.text);
}

// ---------------------------------------------------------------------------------------------
// Date

const WKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ASCII letters folded to lower case; anything past Latin-1 to 0, which no name contains. */
function fold(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c > 255 ? 0 : c;
}

/** Three chars folded to lower case and packed into one number, for allocation-free lookups. */
function key3(s: string, i: number): number {
  return (fold(s.charCodeAt(i)) << 16) | (fold(s.charCodeAt(i + 1)) << 8) | fold(s.charCodeAt(i + 2));
}
const WKDAY_KEYS = WKDAYS.map((d) => key3(d, 0));
const MONTH_KEYS = MONTHS.map((m) => key3(m, 0));
const GMT = key3('gmt', 0);

/** Reads exactly `n` digits at `i`, or -1. */
function fixedDigits(s: string, i: number, n: number): number {
  if (i + n > s.length) return -1;
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const d = s.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** One or more whitespace chars where the grammar has SP; returns the index after them or -1. */
function sp(s: string, i: number): number {
  return i < s.length && isWs(s.charCodeAt(i)) ? skipWs(s, i + 1) : -1;
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 3 || month === 5 || month === 8 || month === 10 ? 30 : 31;
}

/**
 * Date (RFC 3261 §20.17): rfc1123-date = wkday "," SP date1 SP time SP "GMT", date1 = 2DIGIT SP
 * month SP 4DIGIT. RFC 3261 §20.17 restricts the zone to GMT, so RFC 4475 §3.1.2.12 baddate's
 * `EST` is a 400. Names match case-insensitively (RFC 3261 §25: ABNF literals ignore case). The
 * calendar date must exist and the clock be 00:00:00-23:59:60. The weekday is not checked against
 * the date (RFC 3261 gives no rule for a mismatch).
 */
export function parseDate(value: string): Date {
  const bad = (): SipParseError => new SipParseError(`bad Date: ${snippet(value)}`);
  let i = skipWs(value, 0);
  const end = trimmedEnd(value, i);
  if (end - i < 29 || WKDAY_KEYS.indexOf(key3(value, i)) < 0 || value.charCodeAt(i + 3) !== 44) throw bad();
  i = sp(value, i + 4);
  if (i < 0) throw bad();
  const day = fixedDigits(value, i, 2);
  i = sp(value, i + 2);
  if (day < 1 || i < 0 || i + 3 > end) throw bad();
  const month = MONTH_KEYS.indexOf(key3(value, i));
  i = sp(value, i + 3);
  if (month < 0 || i < 0) throw bad();
  const year = fixedDigits(value, i, 4);
  i = sp(value, i + 4);
  if (year < 0 || i < 0 || day > daysInMonth(year, month)) throw bad();
  const hour = fixedDigits(value, i, 2);
  const minute = value.charCodeAt(i + 2) === 58 ? fixedDigits(value, i + 3, 2) : -1;
  const second = value.charCodeAt(i + 5) === 58 ? fixedDigits(value, i + 6, 2) : -1;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) throw bad();
  i = sp(value, i + 8);
  if (i < 0 || end - i !== 3 || key3(value, i) !== GMT) throw bad();
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 onto 1900-1999.
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(hour, minute, second, 0);
  return d;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/**
 * Writes an rfc1123-date in GMT, to the second (milliseconds are dropped). An invalid Date or a
 * year outside 0000-9999 has no rfc1123 form and throws.
 */
export function formatDate(d: Date): string {
  const t = d.getTime();
  const year = d.getUTCFullYear();
  if (Number.isNaN(t) || year < 0 || year > 9999) throw new SipParseError('Date cannot be written as rfc1123-date', -1, 500);
  const y = String(year);
  return (
    WKDAYS[d.getUTCDay()] + ', ' + pad2(d.getUTCDate()) + ' ' + MONTHS[d.getUTCMonth()] + ' ' +
    '0000'.slice(y.length) + y + ' ' + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' +
    pad2(d.getUTCSeconds()) + ' GMT'
  );
}

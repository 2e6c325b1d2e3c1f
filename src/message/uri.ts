/**
 * URIs as they appear in SIP: sip: and sips: (RFC 3261 §19.1, grammar §25.1, IPv6 per RFC 5118),
 * tel: (RFC 3966) and any other absolute URI kept opaque (RFC 3986). Parsing, formatting with the
 * escaping rules of RFC 3261 §25, and comparison per RFC 3261 §19.1.4 / RFC 3966 §4.
 *
 * Input is a binary string (one char per octet), like everywhere in the message layer, so `%HH`
 * unescapes to exactly one char. Every scanner works on char codes against one class table; the
 * only error thrown, for any input, is SipParseError (status 400).
 */
import { SipParseError } from '../core/errors.js';
import { newParams, type Params } from './params.js';
import type { AbsoluteUri, SipUri, TelUri, Uri } from './types.js';

// ---------------------------------------------------------------------------------------------
// Character classes (ASCII only; every octet >= 0x80 is outside all of them).

const ALNUM = 1;
/** RFC 3261 §25.1 `mark`: - _ . ! ~ * ' ( ) */
const MARK = 2;
/** RFC 3261 §25.1 `user-unreserved`: & = + $ , ; ? / */
const USER = 4;
/** Extra chars of RFC 3261 §25.1 `password`: & = + $ , */
const PASS = 8;
/** RFC 3261 §25.1 `param-unreserved`: [ ] / : & + $ */
const PARAM = 16;
/** RFC 3261 §25.1 `hnv-unreserved`: [ ] / ? : + $ */
const HNV = 32;
/** RFC 3986 §2.2 reserved (gen-delims and sub-delims): what an opaque URI may hold besides unreserved. */
const URIC = 64;
/** RFC 3986 §3.1 scheme chars besides ALNUM: + - . */
const SCHEME = 128;
/** Anything that may appear in a userinfo (user, ':' and password): used to look for the '@'. */
const USERINFO = 256;
/** uric chars RFC 3966 pvalues (isub) may hold beyond paramchar, except ';': ? @ = , */
const TELV = 512;
/** hostname chars besides ALNUM: - . */
const HOST = 1024;
/** RFC 3966 §3 phonedigit-hex and '+': what a tel number may hold. */
const TELNUM = 2048;
/** What formatUri writes unescaped for a host: hostname, IPv4 and IPv6 reference chars. */
const HOSTOUT = 4096;

const UNRESERVED = ALNUM | MARK;

const T = new Uint16Array(128);
function setClass(chars: string, bits: number): void {
  for (let i = 0; i < chars.length; i++) T[chars.charCodeAt(i)] |= bits;
}
setClass('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', ALNUM | USERINFO | HOSTOUT);
setClass("-_.!~*'()", MARK | USERINFO);
setClass('&=+$,;?/', USER | USERINFO);
setClass('&=+$,', PASS | USERINFO);
setClass(':%', USERINFO);
setClass('[]/:&+$', PARAM);
setClass('[]/?:+$', HNV);
setClass(":/?#[]@!$&'()*+,;=", URIC);
setClass('+-.', SCHEME);
setClass('?@=,', TELV);
setClass('-.', HOST);
setClass('0123456789abcdefABCDEF*#+-.()', TELNUM);
setClass('-.[]:', HOSTOUT);

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

function fail(reason: string): never {
  throw new SipParseError(reason);
}

/** Set by scan(): whether the run it just scanned held a `%HH` escape. Sync code only. */
let sawPct = false;

/**
 * Index of the first char at or after `i` (below `end`) outside `mask`, treating a valid `%HH`
 * as one unit. A '%' not followed by two hex digits is a syntax error (RFC 3261 §25.1 `escaped`).
 */
function scan(s: string, i: number, end: number, mask: number): number {
  sawPct = false;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < 128 && (T[c] & mask) !== 0) {
      i++;
    } else if (c === 37 /* % */) {
      if (i + 2 >= end) fail('truncated % escape in URI');
      if (hexVal(s.charCodeAt(i + 1)) < 0 || hexVal(s.charCodeAt(i + 2)) < 0) fail('bad % escape in URI');
      sawPct = true;
      i += 3;
    } else {
      break;
    }
  }
  return i;
}

/** s[start, end) with each `%HH` replaced by its octet, once (RFC 4475 esc01: `%25%34%31` -> `%41`). */
function unescape(s: string, start: number, end: number, hasPct: boolean): string {
  if (!hasPct) return s.slice(start, end);
  let out = '';
  let run = start;
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) !== 37) continue;
    out += s.slice(run, i) + String.fromCharCode(hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2)));
    i += 2;
    run = i + 1;
  }
  return out + s.slice(run, end);
}

/** ASCII-only lower-casing: String#toLowerCase would also fold latin1 octets of a binary string. */
function asciiLower(s: string): string {
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) break;
    i++;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c | 32) : s[i];
  }
  return out;
}

/** ASCII case-insensitive equality without allocating. */
function eqIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const lx = x | 32;
    if (lx !== (y | 32) || lx < 97 || lx > 122) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Hosts

/**
 * Value of a dotted-quad IPv4 address in s[start, end), or -1. RFC 3261 §25.1 allows 1*3DIGIT per
 * part; the value of each part is also held to 0-255 (RFC 3986 §3.2.2 dec-octet).
 */
function parseIPv4(s: string, start: number, end: number): number {
  let parts = 0;
  let value = 0;
  let acc = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || acc > 255 || ++parts > 4) return -1;
      value = value * 256 + acc;
      acc = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return -1;
      acc = acc * 10 + (c - 48);
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

/**
 * Parses the IPv6 address in s[start, end) (no brackets) into eight 16-bit groups in `out`.
 * RFC 4291 §2.2 text forms, with one tolerance asked for by RFC 5118 §4.10: three colons before an
 * embedded IPv4 address (`2001:db8:::192.0.2.1`), which the RFC 3261 §25 ABNF wrongly admits.
 */
function parseIPv6(s: string, start: number, end: number, out: Uint16Array): boolean {
  let i = start;
  let n = 0;
  let gap = -1;
  let needV4 = false;
  if (i + 1 < end && s.charCodeAt(i) === 58 && s.charCodeAt(i + 1) === 58) {
    gap = 0;
    i += 2;
    if (i < end && s.charCodeAt(i) === 58) {
      needV4 = true;
      i++;
    }
  } else if (i < end && s.charCodeAt(i) === 58) {
    return false;
  }
  while (i < end) {
    if (n === 8) return false;
    const gs = i;
    let v = 0;
    while (i < end && i - gs < 5) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 46) {
      // Embedded IPv4 tail (RFC 4291 §2.2 form 3): the last 32 bits, and the end of the address.
      if (n > 6) return false;
      const v4 = parseIPv4(s, gs, end);
      if (v4 < 0) return false;
      out[n++] = v4 >>> 16;
      out[n++] = v4 & 0xffff;
      needV4 = false;
      i = end;
      break;
    }
    if (i === gs || i - gs > 4 || needV4) return false;
    out[n++] = v;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i === end) return false;
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
      if (i < end && s.charCodeAt(i) === 58) {
        needV4 = true;
        i++;
      }
    }
  }
  if (needV4) return false;
  if (gap < 0) return n === 8;
  // '::' stands for one or more zero groups (RFC 4291 §2.2), so at most 7 groups are written.
  if (n > 7) return false;
  const tail = n - gap;
  for (let k = tail - 1; k >= 0; k--) out[8 - tail + k] = out[gap + k];
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

/**
 * RFC 3261 §25.1 hostname over s[start, end), whose chars are already known to be alphanumerics,
 * '-' and '.': non-empty labels not starting or ending with '-', a toplabel starting with a letter,
 * an optional final dot.
 */
function isHostname(s: string, start: number, end: number): boolean {
  const e = s.charCodeAt(end - 1) === 46 ? end - 1 : end;
  if (e <= start) return false;
  let ls = start;
  for (let i = start; i <= e; i++) {
    if (i < e && s.charCodeAt(i) !== 46) continue;
    if (i === ls || s.charCodeAt(ls) === 45 || s.charCodeAt(i - 1) === 45) return false;
    if (i === e && !isAlpha(s.charCodeAt(ls))) return false;
    ls = i + 1;
  }
  return true;
}

const V6A = new Uint16Array(8);
const V6B = new Uint16Array(8);

// ---------------------------------------------------------------------------------------------
// Parsing

/** Index of the ':' ending a valid RFC 3986 §3.1 scheme at the start of `s`, or -1. */
function schemeEnd(s: string): number {
  if (s.length === 0 || !isAlpha(s.charCodeAt(0))) return -1;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) return i;
    if (c >= 128 || (T[c] & (ALNUM | SCHEME)) === 0) return -1;
  }
  return -1;
}

const UNBRACKETED = 'IPv6 address in SIP URI without [ ] (RFC 3261 §19.1.2, RFC 5118 §4.2)';

function parseSip(s: string, start: number, scheme: 'sip' | 'sips'): SipUri {
  const len = s.length;
  let i = start;
  let user: string | undefined;
  let password: string | undefined;

  // userinfo: '@' cannot appear unescaped anywhere else in a SIP URI (RFC 3261 §25.1), and the
  // user part may hold ';', '?' and '/' (RFC 4475 semiuri, intmeth), so the '@' decides.
  let at = i;
  while (at < len) {
    const c = s.charCodeAt(at);
    if (c >= 128 || (T[c] & USERINFO) === 0) break;
    at++;
  }
  if (at < len && s.charCodeAt(at) === 64) {
    const ue = scan(s, i, at, UNRESERVED | USER);
    if (ue === i) fail('empty user part in SIP URI');
    user = unescape(s, i, ue, sawPct);
    if (ue < at) {
      if (s.charCodeAt(ue) !== 58) fail(`bad character ${JSON.stringify(s[ue])} in SIP URI user part`);
      const pe = scan(s, ue + 1, at, UNRESERVED | PASS);
      if (pe !== at) fail(`bad character ${JSON.stringify(s[pe])} in SIP URI password`);
      password = unescape(s, ue + 1, pe, sawPct);
    }
    i = at + 1;
  }

  let host: string;
  let hostType: SipUri['hostType'];
  const hs = i;
  if (i < len && s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf(']', i + 1);
    if (close < 0 || !parseIPv6(s, i + 1, close, V6A)) fail('bad IPv6 reference in SIP URI');
    i = close + 1;
    host = s.slice(hs, i);
    hostType = 'ipv6';
  } else {
    let upper = false;
    let numeric = true;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c >= 128 || (T[c] & (ALNUM | HOST)) === 0) break;
      if (c >= 65 && c <= 90) upper = true;
      if ((c < 48 || c > 57) && c !== 46) numeric = false;
      i++;
    }
    if (i === hs) fail('empty host in SIP URI');
    if (numeric) {
      if (parseIPv4(s, hs, i) < 0) fail(i < len && s.charCodeAt(i) === 58 ? UNBRACKETED : 'bad IPv4 address in SIP URI');
      host = s.slice(hs, i);
      hostType = 'ipv4';
    } else {
      if (!isHostname(s, hs, i)) fail('bad host name in SIP URI');
      host = s.slice(hs, i);
      if (upper) host = asciiLower(host);
      hostType = 'name';
    }
  }

  let port: number | undefined;
  if (i < len && s.charCodeAt(i) === 58) {
    // An unbracketed IPv6 address (RFC 5118 §4.2 ipv6-bad) fails here or in the host: it has
    // more than one ':' or a group that is no port.
    const ps = ++i;
    let v = 0;
    while (i < len) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      if (v > 65535) fail('port out of range in SIP URI');
      i++;
    }
    if (i < len && s.charCodeAt(i) === 58) fail(UNBRACKETED);
    if (i === ps) fail('bad port in SIP URI');
    port = v;
  }

  const params = newParams();
  while (i < len && s.charCodeAt(i) === 59 /* ; */) {
    const ns = ++i;
    const ne = scan(s, ns, len, UNRESERVED | PARAM);
    if (ne === ns) fail('empty uri-parameter name');
    const name = asciiLower(unescape(s, ns, ne, sawPct));
    let value: string | null = null;
    i = ne;
    if (i < len && s.charCodeAt(i) === 61 /* = */) {
      const vs = ++i;
      i = scan(s, vs, len, UNRESERVED | PARAM);
      if (i === vs) fail(`empty value for uri-parameter ${name}`);
      value = unescape(s, vs, i, sawPct);
    }
    // RFC 3261 §19.1.1: a uri-parameter name appears at most once.
    if (params[name] !== undefined) fail(`duplicate uri-parameter ${name}`);
    params[name] = value;
  }

  // Same no-prototype record as params, so `__proto__` or `constructor` are plain header names.
  const headers = newParams() as Record<string, string>;
  if (i < len && s.charCodeAt(i) === 63 /* ? */) {
    // Lower-cased name -> key as first written, so repeats merge in linear time.
    const seen = new Map<string, string>();
    do {
      const ns = ++i;
      const ne = scan(s, ns, len, UNRESERVED | HNV);
      if (ne === ns) fail('empty header name in URI');
      const name = unescape(s, ns, ne, sawPct);
      if (ne >= len || s.charCodeAt(ne) !== 61) fail('URI header without "="');
      const vs = ne + 1;
      i = scan(s, vs, len, UNRESERVED | HNV);
      const value = unescape(s, vs, i, sawPct);
      // A repeated header (`?Route=a&route=b`, names case-insensitive) keeps one entry with the
      // values joined by ',', the RFC 3261 §7.3.1 equivalent of repeating a header field.
      const lower = asciiLower(name);
      const first = seen.get(lower);
      if (first === undefined) {
        seen.set(lower, name);
        headers[name] = value;
      } else {
        headers[first] += ',' + value;
      }
    } while (i < len && s.charCodeAt(i) === 38 /* & */);
  }

  if (i !== len) fail(`unexpected ${JSON.stringify(s[i])} in SIP URI`);
  const uri: SipUri = { scheme, host, hostType, params, headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}

function parseTel(s: string, start: number): TelUri {
  const len = s.length;
  let i = start;
  // RFC 3966 §3: global-number-digits = "+" *phonedigit DIGIT *phonedigit;
  // local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex.
  const global = i < len && s.charCodeAt(i) === 43;
  if (global) i++;
  let digits = 0;
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c === 59) break;
    if (c >= 48 && c <= 57) digits++;
    else if (c === 45 || c === 46 || c === 40 || c === 41) {
      // visual-separator
    } else if (!global && (hexVal(c) >= 0 || c === 42 || c === 35)) digits++;
    else fail(`bad character ${JSON.stringify(s[i])} in tel: number`);
    i++;
  }
  if (digits === 0) fail('tel: URI without digits');
  const number = s.slice(start, i);
  const params = newParams();
  while (i < len) {
    // The loop above stops only at ';', so every iteration starts at one.
    const ns = ++i;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c >= 128 || ((T[c] & ALNUM) === 0 && c !== 45)) break;
      i++;
    }
    if (i === ns) fail('empty tel: parameter name');
    const name = asciiLower(s.slice(ns, i));
    let value: string | null = null;
    if (i < len && s.charCodeAt(i) === 61) {
      const vs = ++i;
      i = scan(s, vs, len, UNRESERVED | PARAM | TELV);
      if (i === vs) fail(`empty value for tel: parameter ${name}`);
      value = unescape(s, vs, i, sawPct);
    }
    if (i < len && s.charCodeAt(i) !== 59) fail(`unexpected ${JSON.stringify(s[i])} in tel: URI`);
    if (params[name] !== undefined) fail(`duplicate tel: parameter ${name}`);
    params[name] = value;
  }
  return { scheme: 'tel', number, params };
}

function parseOpaque(s: string, colon: number): AbsoluteUri {
  // RFC 3986 §3: anything made of unreserved, reserved and valid escapes; kept as written.
  const end = scan(s, colon + 1, s.length, UNRESERVED | URIC);
  if (end !== s.length) fail(`unexpected ${JSON.stringify(s[end])} in URI`);
  if (end === colon + 1) fail('empty URI after scheme');
  return { scheme: asciiLower(s.slice(0, colon)), opaque: s.slice(colon + 1) };
}

function parseWithScheme(s: string, colon: number): Uri {
  // Scheme chars are already known to be ALNUM / + - . , so `| 32` folds only letters.
  if (colon === 3 || colon === 4) {
    const c0 = s.charCodeAt(0) | 32;
    const c1 = s.charCodeAt(1) | 32;
    const c2 = s.charCodeAt(2) | 32;
    if (c0 === 115 && c1 === 105 && c2 === 112) {
      if (colon === 3) return parseSip(s, 4, 'sip');
      if ((s.charCodeAt(3) | 32) === 115) return parseSip(s, 5, 'sips');
    } else if (colon === 3 && c0 === 116 && c1 === 101 && c2 === 108) {
      return parseTel(s, 4);
    }
  }
  return parseOpaque(s, colon);
}

/**
 * Parses a URI: sip:/sips: (RFC 3261 §19.1), tel: (RFC 3966), or any other `scheme:rest` as an
 * opaque AbsoluteUri. Throws SipParseError (400) on anything else, including surrounding spaces.
 */
export function parseUri(text: string): Uri {
  if (typeof text !== 'string') fail('URI is not a string');
  const colon = schemeEnd(text);
  if (colon < 0) fail('URI without a valid scheme');
  return parseWithScheme(text, colon);
}

/**
 * Like parseUri, but a scheme-less `user@host` (seen in the wild, e.g. `Referred-By:
 * <alice@atlanta.example.com>`) is read as a sip: URI. Anything starting with a valid scheme is
 * parsed as by parseUri.
 */
export function parseSipUriLenient(text: string): Uri {
  if (typeof text !== 'string') fail('URI is not a string');
  const colon = schemeEnd(text);
  return colon < 0 ? parseSip(text, 0, 'sip') : parseWithScheme(text, colon);
}

export function isSipUri(u: Uri): u is SipUri {
  return (u.scheme === 'sip' || u.scheme === 'sips') && 'host' in u;
}

function isTelUri(u: Uri): u is TelUri {
  return u.scheme === 'tel' && 'number' in u;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const HEX = '0123456789ABCDEF';
const PCT: string[] = [];
for (let c = 0; c < 256; c++) PCT.push('%' + HEX[c >> 4] + HEX[c & 15]);

/**
 * `s` with every char outside `mask` written as `%HH` (RFC 3261 §25.1 `escaped`). Chars above
 * 0xFF (not octets, so not from a parsed message) are written as their UTF-8 octets. With
 * `keepEscapes`, a '%' already starting a valid `%HH` is left alone (opaque URIs are stored escaped).
 */
function escape(s: string, mask: number, keepEscapes = false): string {
  const len = s.length;
  let i = 0;
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c < 128 && (T[c] & mask) !== 0) i++;
    else if (keepEscapes && c === 37 && i + 2 < len && hexVal(s.charCodeAt(i + 1)) >= 0 && hexVal(s.charCodeAt(i + 2)) >= 0) i += 3;
    else break;
  }
  if (i === len) return s;
  let out = s.slice(0, i);
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && (T[c] & mask) !== 0) {
      out += s[i];
    } else if (keepEscapes && c === 37 && i + 2 < len && hexVal(s.charCodeAt(i + 1)) >= 0 && hexVal(s.charCodeAt(i + 2)) >= 0) {
      out += s.slice(i, i + 3);
      i += 2;
    } else if (c < 256) {
      out += PCT[c];
    } else {
      const cp = s.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      if (cp < 0x800) out += PCT[0xc0 | (cp >> 6)] + PCT[0x80 | (cp & 63)];
      else if (cp < 0x10000) out += PCT[0xe0 | (cp >> 12)] + PCT[0x80 | ((cp >> 6) & 63)] + PCT[0x80 | (cp & 63)];
      else out += PCT[0xf0 | (cp >> 18)] + PCT[0x80 | ((cp >> 12) & 63)] + PCT[0x80 | ((cp >> 6) & 63)] + PCT[0x80 | (cp & 63)];
    }
  }
  return out;
}

function formatSip(u: SipUri): string {
  let out = u.scheme + ':';
  if (u.user !== undefined) {
    out += escape(u.user, UNRESERVED | USER);
    if (u.password !== undefined) out += ':' + escape(u.password, UNRESERVED | PASS);
    out += '@';
  }
  out += escape(u.host, HOSTOUT);
  if (u.port !== undefined) out += ':' + u.port;
  const params = u.params;
  for (const name in params) {
    const v = params[name];
    out += ';' + escape(name, UNRESERVED | PARAM);
    if (v !== null && v !== undefined) out += '=' + escape(v, UNRESERVED | PARAM);
  }
  let sep = '?';
  const headers = u.headers;
  for (const name in headers) {
    out += sep + escape(name, UNRESERVED | HNV) + '=' + escape(headers[name], UNRESERVED | HNV);
    sep = '&';
  }
  return out;
}

/**
 * Writes a URI. sip:/sips: components are escaped per RFC 3261 §25.1 (user-unreserved for the
 * user, password chars, param-unreserved for uri-parameters, hnv-unreserved for headers), so
 * parseUri(formatUri(u)) equals u for any parsed u. The scheme is always written.
 */
export function formatUri(uri: Uri): string {
  if (isSipUri(uri)) return formatSip(uri);
  if (isTelUri(uri)) {
    let out = 'tel:' + escape(uri.number, TELNUM);
    const params = uri.params;
    for (const name in params) {
      const v = params[name];
      out += ';' + escape(name, ALNUM | HOST);
      if (v !== null && v !== undefined) out += '=' + escape(v, UNRESERVED | PARAM);
    }
    return out;
  }
  return uri.scheme + ':' + escape(uri.opaque, UNRESERVED | URIC, true);
}

// ---------------------------------------------------------------------------------------------
// Comparison

function own<T>(o: Record<string, T>, k: string): T | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

/** RFC 3261 §19.1.4: these uri-parameters, present in only one URI, make the URIs differ. */
function mustMatchIfPresent(name: string): boolean {
  switch (name) {
    case 'user':
    case 'ttl':
    case 'method':
    case 'maddr':
    case 'transport':
      return true;
    default:
      return false;
  }
}

function paramValueEquals(a: string | null, b: string | null): boolean {
  return a === null || b === null ? a === b : eqIgnoreCase(a, b);
}

function sipParamsEqual(a: Params, b: Params): boolean {
  for (const k in a) {
    const av = a[k];
    if (av === undefined) continue;
    const bv = own(b, k);
    if (bv === undefined) {
      if (mustMatchIfPresent(k)) return false;
    } else if (!paramValueEquals(av, bv)) {
      return false;
    }
  }
  for (const k in b) {
    if (b[k] !== undefined && own(a, k) === undefined && mustMatchIfPresent(k)) return false;
  }
  return true;
}

/** RFC 3261 §19.1.4: header components are never ignored; names case-insensitive, values exact. */
function headersEqual(a: Record<string, string>, b: Record<string, string>): boolean {
  let na = 0;
  let bLower: Map<string, string> | undefined;
  for (const k in a) {
    na++;
    let bv = own(b, k);
    if (bv === undefined) {
      // Names spelled differently: index b by lower-cased name once, not a scan per name.
      if (bLower === undefined) {
        bLower = new Map();
        for (const bk in b) bLower.set(asciiLower(bk), b[bk]);
      }
      bv = bLower.get(asciiLower(k));
    }
    if (bv !== a[k]) return false;
  }
  let nb = 0;
  for (const _ in b) nb++;
  return na === nb;
}

function hostEquals(a: SipUri, b: SipUri): boolean {
  if (eqIgnoreCase(a.host, b.host)) return true;
  // The same IPv6 address may be written in several ways (zero compression, case, embedded IPv4).
  if (a.hostType !== 'ipv6' || b.hostType !== 'ipv6') return false;
  if (!v6Groups(a.host, V6A) || !v6Groups(b.host, V6B)) return false;
  for (let k = 0; k < 8; k++) if (V6A[k] !== V6B[k]) return false;
  return true;
}

function v6Groups(host: string, out: Uint16Array): boolean {
  const br = host.charCodeAt(0) === 91;
  return parseIPv6(host, br ? 1 : 0, br ? host.length - 1 : host.length, out);
}

function sipEquals(a: SipUri, b: SipUri): boolean {
  // Scheme, userinfo (case-sensitive, compared unescaped), host (case-insensitive) and port, where
  // an explicit default port differs from none.
  return (
    a.scheme === b.scheme &&
    a.user === b.user &&
    a.password === b.password &&
    a.port === b.port &&
    hostEquals(a, b) &&
    sipParamsEqual(a.params, b.params) &&
    headersEqual(a.headers, b.headers)
  );
}

function isVisualSeparator(c: number): boolean {
  return c === 45 || c === 46 || c === 40 || c === 41;
}

/** RFC 3966 §4: numbers are equal digit by digit, ignoring visual separators, case-insensitively. */
function telDigitsEqual(a: string, b: string): boolean {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && isVisualSeparator(a.charCodeAt(i))) i++;
    while (j < b.length && isVisualSeparator(b.charCodeAt(j))) j++;
    if (i === a.length || j === b.length) return i === a.length && j === b.length;
    const x = a.charCodeAt(i++);
    const y = b.charCodeAt(j++);
    if (x !== y && ((x | 32) !== (y | 32) || !isAlpha(x))) return false;
  }
}

function telEquals(a: TelUri, b: TelUri): boolean {
  if (!telDigitsEqual(a.number, b.number)) return false;
  // RFC 3966 §4: the same parameter names on both sides, in any order, values case-insensitive;
  // phone-context as digits when it is a global number, ext as digits.
  let na = 0;
  for (const k in a.params) {
    const av = a.params[k];
    const bv = own(b.params, k);
    if (av === undefined) continue;
    na++;
    if (bv === undefined) return false;
    if (av === null || bv === null) {
      if (av !== bv) return false;
    } else if (k === 'ext' || (k === 'phone-context' && av.charCodeAt(0) === 43)) {
      if (!telDigitsEqual(av, bv)) return false;
    } else if (!eqIgnoreCase(av, bv)) {
      return false;
    }
  }
  let nb = 0;
  for (const k in b.params) if (b.params[k] !== undefined) nb++;
  return na === nb;
}

/**
 * URI equality: RFC 3261 §19.1.4 for sip:/sips:, RFC 3966 §4 for tel:, and for other schemes the
 * scheme case-insensitively and the rest as an exact string.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (isSipUri(a)) return isSipUri(b) && sipEquals(a, b);
  if (isTelUri(a)) return isTelUri(b) && telEquals(a, b);
  if (isSipUri(b) || isTelUri(b)) return false;
  return eqIgnoreCase(a.scheme, b.scheme) && a.opaque === b.opaque;
}

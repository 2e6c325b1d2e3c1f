/**
 * name-addr / addr-spec values with header parameters (RFC 3261 §20.10, §25.1): From, To,
 * Contact, Route, Record-Route, Refer-To, Referred-By, Path, Reply-To...
 */
import { SipParseError } from '../core/errors.js';
import { isTokenChar, isWs, scanQuoted, scanToken, skipWs, splitComma } from './grammar.js';
import { formatParams, parseParams } from './params.js';
import type { NameAddr } from './types.js';
import { formatUri, parseSipUriLenient, parseUri } from './uri.js';

export interface NameAddrOptions {
  /** Read a scheme-less `user@host` as a sip: URI (see parseSipUriLenient). */
  lenientScheme?: boolean;
}

/**
 * Parses one value: `"Quoted" <uri>;p`, `token token <uri>;p`, `<uri>;p` or a bare addr-spec
 * `sip:u@h;p`. Throws SipParseError (400) on anything else.
 */
export function parseNameAddr(text: string, options?: NameAddrOptions): NameAddr {
  if (typeof text !== 'string') throw new SipParseError('name-addr is not a string');
  const len = text.length;
  const lenient = options?.lenientScheme === true;
  let i = skipWs(text, 0);
  if (i === len) throw new SipParseError('empty name-addr');
  let displayName: string | undefined;
  const c = text.charCodeAt(i);

  if (c === 34 /* " */) {
    // quoted-string display name; scanQuoted resolves quoted-pairs, keeping NUL/BEL/DEL
    // (RFC 4475 intmeth) and rejecting an unterminated quote (quotbal).
    const q = scanQuoted(text, i);
    // LWS inside a quoted-string may still hold line breaks if the value was not unfolded; they
    // mean SP (RFC 3261 §7.3.1), and keeping them would let a re-written header break its line.
    displayName = q.value.includes('\r') || q.value.includes('\n') ? q.value.replace(/[\r\n]/g, ' ') : q.value;
    i = skipWs(text, q.end);
    if (i === len || text.charCodeAt(i) !== 60) throw new SipParseError('display name not followed by <');
  } else if (c !== 60 /* < */) {
    const t0 = i;
    i = scanToken(text, i);
    if (i === t0) throw new SipParseError(`unexpected ${JSON.stringify(text[i])} in name-addr`);
    if (i < len && !isWs(text.charCodeAt(i)) && text.charCodeAt(i) !== 60) {
      // Neither LWS nor '<' after the first token (a ':' ending a scheme, or the '@' of a
      // scheme-less URI): a bare addr-spec.
      return parseBareAddrSpec(text, t0, lenient);
    }
    // display-name = *(token LWS); the LWS before '<' may be empty (RFC 4475 lwsdisp). Tokens are
    // kept joined by one SP, LWS having the meaning of SP (RFC 3261 §25.1).
    let name = text.slice(t0, i);
    for (;;) {
      i = skipWs(text, i);
      if (i === len) throw new SipParseError('display name without <addr-spec>');
      if (text.charCodeAt(i) === 60) break;
      const ts = i;
      i = scanToken(text, i);
      // A ',' here is a list split inside an unquoted display name (RFC 4475 baddn).
      if (i === ts) throw new SipParseError(`unexpected ${JSON.stringify(text[i])} in display name`);
      name += ' ' + text.slice(ts, i);
    }
    displayName = name;
  }

  // At '<': the URI runs to the first '>' (a '>' inside it must be escaped, RFC 3261 §25.1).
  const close = text.indexOf('>', i + 1);
  if (close < 0) throw new SipParseError('unterminated <addr-spec>');
  // No LWS inside the brackets (RFC 4475 badaspec): parseUri rejects spaces itself.
  const uriText = text.slice(i + 1, close);
  const uri = lenient ? parseSipUriLenient(uriText) : parseUri(uriText);
  const params = parseParams(text, close + 1, false).params;
  return displayName === undefined ? { uri, params } : { displayName, uri, params };
}

/**
 * RFC 3261 §20.10: without '<>' the ';params' belong to the header, and a URI holding ',', '?' or
 * ';' must have been bracketed, so the URI ends at the first ';' or LWS and may hold no ',' or '?'
 * (RFC 4475 regbadct).
 */
function parseBareAddrSpec(text: string, start: number, lenient: boolean): NameAddr {
  const len = text.length;
  let i = start;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 59 || isWs(c)) break;
    if (c === 44 || c === 63) throw new SipParseError('addr-spec with "," or "?" must be enclosed in <> (RFC 3261 §20.10)');
    i++;
  }
  const uriText = text.slice(start, i);
  const uri = lenient ? parseSipUriLenient(uriText) : parseUri(uriText);
  return { uri, params: parseParams(text, i, false).params };
}

/** Parses a comma-separated list of name-addr values; an empty element is an error. */
export function parseNameAddrList(text: string, options?: NameAddrOptions): NameAddr[] {
  if (typeof text !== 'string') throw new SipParseError('name-addr list is not a string');
  const parts = splitComma(text);
  const out: NameAddr[] = [];
  for (const part of parts) {
    if (skipWs(part, 0) === part.length) throw new SipParseError('empty element in name-addr list');
    out.push(parseNameAddr(part, options));
  }
  return out;
}

/** True when `s` is tokens separated by single spaces: safe to write unquoted. */
function isTokenList(s: string): boolean {
  if (s.length === 0) return false;
  let prevSpace = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) {
      if (prevSpace) return false;
      prevSpace = true;
    } else if (isTokenChar(c)) {
      prevSpace = false;
    } else {
      return false;
    }
  }
  return !prevSpace;
}

/**
 * Quotes a display name. '"', '\' and control chars become quoted-pairs (RFC 3261 §25.1), so
 * NUL/BEL/DEL survive a round trip. CR and LF cannot be quoted-pairs and are written as SP, so a
 * display name can never break a header line.
 */
function quoteDisplayName(s: string): string {
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 34 && c !== 92 && c !== 0x7f) continue;
    out += s.slice(run, i);
    run = i + 1;
    out += c === 13 || c === 10 ? ' ' : '\\' + s[i];
  }
  return out + s.slice(run) + '"';
}

/** Writes `display <uri>;params`, always in the bracketed name-addr form. */
export function formatNameAddr(na: NameAddr): string {
  let out = '';
  if (na.displayName !== undefined) {
    out = (isTokenList(na.displayName) ? na.displayName : quoteDisplayName(na.displayName)) + ' ';
  }
  return out + '<' + formatUri(na.uri) + '>' + formatParams(na.params);
}

/**
 * WWW-Authenticate, Proxy-Authenticate (challenges) and Authorization, Proxy-Authorization
 * (credentials): RFC 3261 §20.27, §20.28, §20.7, §20.44 and §25.1, with RFC 7235 §2.1 token68
 * credentials and RFC 7616 §3.3/§3.4 for which Digest values are quoted.
 */
import { SipParseError } from '../../core/errors.js';
import { isToken, quote, scanQuoted, scanToken, skipWs } from '../grammar.js';
import type { AuthValue } from '../types.js';
import { snippet } from './numbers.js';

/** RFC 7235 §2.1 token68 character: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/". */
function isToken68Char(c: number): boolean {
  const l = c | 0x20;
  return (l >= 97 && l <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47;
}

/** Index after `1*tchar68 *"="` at `i`, or `i` when there is no token68 there. */
function scanToken68(s: string, i: number): number {
  let j = i;
  while (j < s.length && isToken68Char(s.charCodeAt(j))) j++;
  if (j === i) return i;
  while (j < s.length && s.charCodeAt(j) === 61) j++;
  return j;
}

/**
 * `auth-scheme LWS auth-param *(COMMA auth-param)` where auth-param is `name EQUAL (token /
 * quoted-string)` (RFC 3261 §25.1 other-challenge / other-response; Digest's own params fit the
 * same shape). Names are lower-cased (RFC 7235 §2.1: case-insensitive); a repeated name is a 400
 * (RFC 7235 §2.1: each parameter name MUST only occur once). RFC 4475 §3.3.7 regaut01's
 * `NoOneKnowsThisScheme opaque-data=here` parses as scheme plus one param. When what follows the
 * scheme is a single token68 and nothing else (`Basic dXNlcjpwYXNz`), it goes to `token`. A bare
 * scheme with nothing after it is accepted with no params (RFC 7235 §2.1 makes them optional).
 */
export function parseAuth(value: string): AuthValue {
  const schemeStart = skipWs(value, 0);
  const schemeEnd = scanToken(value, schemeStart);
  if (schemeEnd === schemeStart) throw new SipParseError(`missing auth-scheme: ${snippet(value)}`);
  const scheme = value.slice(schemeStart, schemeEnd);
  const params = Object.create(null) as Record<string, string>;
  let i = skipWs(value, schemeEnd);
  if (i === value.length) return { scheme, params };
  if (i === schemeEnd) throw new SipParseError(`expected LWS after auth-scheme: ${snippet(value)}`);

  const t68End = scanToken68(value, i);
  if (t68End > i && skipWs(value, t68End) === value.length) {
    return { scheme, params, token: value.slice(i, t68End) };
  }

  for (;;) {
    const nameEnd = scanToken(value, i);
    if (nameEnd === i) throw new SipParseError(`expected auth-param name: ${snippet(value, i)}`);
    const name = value.slice(i, nameEnd).toLowerCase();
    i = skipWs(value, nameEnd);
    if (i >= value.length || value.charCodeAt(i) !== 61 /* = */) {
      throw new SipParseError(`expected "=" after auth-param ${name}`);
    }
    i = skipWs(value, i + 1);
    let v: string;
    if (i < value.length && value.charCodeAt(i) === 34 /* " */) {
      const q = scanQuoted(value, i);
      v = q.value;
      i = q.end;
    } else {
      const vEnd = scanToken(value, i);
      if (vEnd === i) throw new SipParseError(`bad value for auth-param ${name}: ${snippet(value, i)}`);
      v = value.slice(i, vEnd);
      i = vEnd;
    }
    if (name in params) throw new SipParseError(`repeated auth-param ${name}`);
    params[name] = v;
    i = skipWs(value, i);
    if (i === value.length) return { scheme, params };
    if (value.charCodeAt(i) !== 44 /* , */) throw new SipParseError(`expected "," between auth-params: ${snippet(value, i)}`);
    i = skipWs(value, i + 1);
  }
}

/** RFC 7616 §3.3 and §3.4: values always written as quoted-strings. */
const QUOTED = new Set(['realm', 'nonce', 'opaque', 'uri', 'response', 'username', 'cnonce', 'domain', 'nextnonce', 'rspauth']);

/**
 * Writes `scheme name=value, ...`. Whether the value is a challenge or credentials decides how qop
 * is written (RFC 7616 §3.3: quoted list in a challenge; §3.4: bare token in credentials). Without
 * `role`, a value holding `response` or `username` is taken for credentials.
 * All other params (algorithm, nc, stale, userhash, charset and extensions) are written as tokens
 * when they are tokens, quoted otherwise (RFC 7235 §2.1: the value may be a token or a quoted-string).
 */
export function formatAuth(v: AuthValue, role?: 'challenge' | 'credentials'): string {
  if (v.token !== undefined) return v.scheme + ' ' + v.token;
  const p = v.params;
  const credentials = role === undefined ? 'response' in p || 'username' in p : role === 'credentials';
  let out = v.scheme;
  let sep = ' ';
  for (const name in p) {
    const value = p[name] ?? '';
    let q: boolean;
    if (QUOTED.has(name)) q = true;
    else if (name === 'qop') q = !credentials || !isToken(value);
    else q = !isToken(value);
    out += sep + name + '=' + (q ? quote(value) : value);
    sep = ', ';
  }
  return out;
}

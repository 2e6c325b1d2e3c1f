/**
 * Generic header parameters (RFC 3261 §25.1 `generic-param`): `;name`, `;name=token`,
 * `;name=host` (including an IPv6 reference) or `;name="quoted string"`.
 */
import { SipParseError } from '../core/errors.js';
import { isTokenChar, quote, scanQuoted, skipWs } from './grammar.js';

/**
 * Parameters by lower-cased name. A value is `null` for a flag parameter (`;lr`).
 * Quoted values are stored unquoted; `quoted` remembers which names were quoted so they are
 * written back the same way.
 */
export type Params = Record<string, string | null>;

export interface ParsedParams {
  params: Params;
  /** Names whose value was a quoted-string. */
  quoted?: Set<string>;
  /** Index just after the last parameter (at ',' or end of input). */
  end: number;
}

// Objects made by `new` from a constructor whose prototype has no prototype stay in V8's fast
// (hidden-class) mode, unlike Object.create(null) dictionaries, and still inherit nothing, so a
// parameter named `constructor` or `__proto__` is a plain key. Parsing cost dropped ~5x with this.
const ParamsObject = function ParamsObject(this: Params) {} as unknown as { new (): Params };
ParamsObject.prototype = Object.create(null) as object;

/** A fresh, empty params object that inherits nothing. */
export function newParams(): Params {
  return new ParamsObject();
}

function isParamValueChar(c: number): boolean {
  // token chars plus what a host or IPv6 reference may hold: ':' '[' ']'
  return isTokenChar(c) || c === 58 || c === 91 || c === 93;
}

// The parameter names real traffic is made of. Returning these constant (internalized) strings
// instead of a fresh slice lets V8 add the property through a cached hidden-class transition; a
// fresh key string must first be looked up in the string table, which cost more than the rest of
// the parse (measured: a two-parameter Via's params went from ~450 ns to a fraction of that).
const KNOWN_NAMES = [
  'branch', 'received', 'rport', 'tag', 'lr', 'transport', 'maddr', 'ttl', 'user', 'method', 'expires', 'q',
  'alias', 'ob', 'gr', 'reg-id', '+sip.instance', 'to-tag', 'from-tag', 'early-only', 'local-tag', 'remote-tag',
  'id', 'reason', 'retry-after', 'refresher', 'cause', 'text', 'duration', 'handling', 'purpose', 'charset',
  'boundary', 'version', 'sigcomp-id', 'comp', 'keep', 'realm', 'nonce', 'algorithm', 'qop', 'opaque', 'stale',
  'username', 'uri', 'response', 'cnonce', 'nc', 'phone-context', 'isub', 'ext', 'npdi', 'rn',
];
const NAMES_BY_SHAPE: Array<string[] | undefined> = new Array<string[] | undefined>(32 << 5).fill(undefined);
for (const n of KNOWN_NAMES) (NAMES_BY_SHAPE[(n.length << 5) | (n.charCodeAt(0) & 31)] ??= []).push(n);

/**
 * The lower-cased parameter name in s[start, end): a shared constant for the common names, else a
 * new string. The caller has checked the characters are token characters.
 */
export function paramName(s: string, start: number, end: number): string {
  const len = end - start;
  if (len < 32) {
    const candidates = NAMES_BY_SHAPE[(len << 5) | (s.charCodeAt(start) & 31)];
    if (candidates !== undefined) {
      for (let k = 0; k < candidates.length; k++) {
        const n = candidates[k]!;
        let j = 0;
        // Names hold a-z, '-', '+', '.' ; OR-ing 0x20 folds A-Z onto a-z and leaves those alone.
        while (j < len && (s.charCodeAt(start + j) | 0x20) === n.charCodeAt(j)) j++;
        if (j === len) return n;
      }
    }
  }
  return s.slice(start, end).toLowerCase();
}

/**
 * Parses `;a=b;c` starting at `i` (at the first ';' or at whitespace before it) up to a top-level
 * ',' or the end. Throws SipParseError on an empty name, a name with bad characters or an empty value.
 */
export function parseParams(s: string, i: number, stopAtComma = true): ParsedParams {
  const params = newParams();
  let quoted: Set<string> | undefined;
  i = skipWs(s, i);
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 44 /* , */ && stopAtComma) break;
    if (c !== 59 /* ; */) throw new SipParseError(`unexpected ${JSON.stringify(s[i])} in parameters`);
    i = skipWs(s, i + 1);
    const nameStart = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) throw new SipParseError('empty parameter name');
    const name = paramName(s, nameStart, i);
    i = skipWs(s, i);
    let value: string | null = null;
    if (i < s.length && s.charCodeAt(i) === 61 /* = */) {
      i = skipWs(s, i + 1);
      if (i < s.length && s.charCodeAt(i) === 34) {
        const q = scanQuoted(s, i);
        value = q.value;
        i = q.end;
        (quoted ??= new Set()).add(name);
      } else {
        const vStart = i;
        while (i < s.length && isParamValueChar(s.charCodeAt(i))) i++;
        if (i === vStart) throw new SipParseError(`empty value for parameter ${name}`);
        value = s.slice(vStart, i);
      }
      i = skipWs(s, i);
    }
    params[name] = value;
  }
  return quoted ? { params, quoted, end: i } : { params, end: i };
}

/** Writes parameters back as `;name=value`, quoting values that need it or were quoted. */
export function formatParams(params: Params, quoted?: ReadonlySet<string>): string {
  let out = '';
  for (const name in params) {
    const v = params[name];
    if (v === null || v === undefined) out += ';' + name;
    // RFC 3840 §9: a feature parameter's value (`+sip.rendering="no"`) is always quoted.
    else if (quoted?.has(name) || name.charCodeAt(0) === 43 /* + */ || !isPlainValue(v)) out += ';' + name + '=' + quote(v);
    else out += ';' + name + '=' + v;
  }
  return out;
}

function isPlainValue(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) if (!isParamValueChar(v.charCodeAt(i))) return false;
  return true;
}

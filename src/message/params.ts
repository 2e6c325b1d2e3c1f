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
    const name = s.slice(nameStart, i).toLowerCase();
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
    else if (quoted?.has(name) || !isPlainValue(v)) out += ';' + name + '=' + quote(v);
    else out += ';' + name + '=' + v;
  }
  return out;
}

function isPlainValue(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) if (!isParamValueChar(v.charCodeAt(i))) return false;
  return true;
}

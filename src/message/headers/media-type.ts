/** Content-Type (RFC 3261 §20.15) and Accept (§20.1). */
import { SipParseError } from '../../core/errors.js';
import { scanToken, skipWs } from '../grammar.js';
import { formatParams, parseParams, type Params } from '../params.js';
import type { MediaType } from '../types.js';
import { snippet } from './numbers.js';

/** The reads of one `m-type SLASH m-subtype` (SLASH = SWS "/" SWS); `end` is just past the subtype. */
interface Range {
  type: string;
  subtype: string;
  end: number;
}

function scanRange(s: string, i: number): Range {
  const typeEnd = scanToken(s, i);
  if (typeEnd === i) throw new SipParseError(`expected a media type: ${snippet(s, i)}`);
  let j = skipWs(s, typeEnd);
  if (j >= s.length || s.charCodeAt(j) !== 47 /* / */) throw new SipParseError(`expected "/" in media type: ${snippet(s, i)}`);
  j = skipWs(s, j + 1);
  const subEnd = scanToken(s, j);
  if (subEnd === j) throw new SipParseError(`expected a media subtype: ${snippet(s, i)}`);
  return { type: s.slice(i, typeEnd).toLowerCase(), subtype: s.slice(j, subEnd).toLowerCase(), end: subEnd };
}

/**
 * Content-Type: `m-type SLASH m-subtype *(SEMI m-parameter)` (RFC 3261 §25.1). Type and subtype are
 * lower-cased (RFC 2045 §5.1: case-insensitive); parameter names are lower-cased, values kept.
 * Wildcards belong to Accept only, and m-parameter always has a value, so `*` and flags are a 400.
 */
export function parseContentType(value: string): MediaType {
  const r = scanRange(value, skipWs(value, 0));
  if (r.type === '*' || r.subtype === '*') throw new SipParseError(`wildcard in Content-Type: ${snippet(value)}`);
  const params = parseParams(value, r.end, false).params;
  for (const name in params) {
    if (params[name] === null) throw new SipParseError(`Content-Type parameter ${name} without a value`);
  }
  return { type: r.type, subtype: r.subtype, params };
}

/** RFC 3261 §25.1 qvalue: ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ). */
function isQValue(q: string): boolean {
  const n = q.length;
  if (n === 0 || n > 5) return false;
  const first = q.charCodeAt(0);
  if (first !== 48 && first !== 49) return false;
  if (n === 1) return true;
  if (q.charCodeAt(1) !== 46) return false;
  for (let i = 2; i < n; i++) {
    const c = q.charCodeAt(i);
    if (first === 49 ? c !== 48 : c < 48 || c > 57) return false;
  }
  return true;
}

function checkAcceptParams(params: Params): void {
  const q = params.q;
  if (q !== undefined && (q === null || !isQValue(q))) throw new SipParseError('bad Accept q value');
}

/**
 * Accept: `[ accept-range *(COMMA accept-range) ]` (RFC 3261 §20.1). An empty value is an empty
 * list, which RFC 3261 §20.1 reads as "accept nothing" (not as absent). Media ranges are `*` `/` `*`,
 * `type/*` or `type/subtype`; `*` `/` `sub` is a 400. Params may be flags (accept-param includes
 * generic-param), and q must be a qvalue. An empty element is a 400.
 */
export function parseAccept(value: string): MediaType[] {
  const out: MediaType[] = [];
  let i = skipWs(value, 0);
  if (i === value.length) return out;
  for (;;) {
    const r = scanRange(value, i);
    if (r.type === '*' && r.subtype !== '*') throw new SipParseError(`bad Accept media-range: ${snippet(value, i)}`);
    const pp = parseParams(value, r.end, true);
    checkAcceptParams(pp.params);
    out.push({ type: r.type, subtype: r.subtype, params: pp.params });
    if (pp.end >= value.length) return out;
    i = skipWs(value, pp.end + 1);
  }
}

/** Writes `type/subtype;params`. */
export function formatContentType(v: MediaType): string {
  return v.type + '/' + v.subtype + formatParams(v.params);
}

/** Writes an Accept value: `a/b, c/d;q=0.5` (an empty list is an empty value). */
export function formatAccept(list: readonly MediaType[]): string {
  let out = '';
  for (let i = 0; i < list.length; i++) out += (i === 0 ? '' : ', ') + formatContentType(list[i]!);
  return out;
}

/** Reason (RFC 3326 §2). */
import { SipParseError } from '../../core/errors.js';
import { scanToken, skipWs } from '../grammar.js';
import { formatParams, parseParams } from '../params.js';
import type { ReasonValue } from '../types.js';
import { deltaParam, paramsWithFields, snippet } from './numbers.js';

/** `text` is always written as a quoted-string (RFC 3326 §2: reason-text = "text" EQUAL quoted-string). */
const QUOTED_TEXT: ReadonlySet<string> = new Set(['text']);

/**
 * `reason-value *(COMMA reason-value)`, reason-value = protocol *(SEMI reason-params), protocol =
 * "SIP" / "Q.850" / token (RFC 3326 §2). The protocol is kept as written (compare it ignoring
 * case). `cause` (1*DIGIT, read within 2^32-1) and `text` go to fields and stay in params; a
 * `text` written as a bare token is accepted as well. An empty value or element is a 400.
 */
export function parseReason(value: string): ReasonValue[] {
  const out: ReasonValue[] = [];
  let i = skipWs(value, 0);
  for (;;) {
    const end = scanToken(value, i);
    if (end === i) throw new SipParseError(`expected a Reason protocol: ${snippet(value, i)}`);
    const pp = parseParams(value, end, true);
    const params = pp.params;
    const v: ReasonValue = { protocol: value.slice(i, end), params };
    const cause = deltaParam(params, 'cause', 'Reason cause');
    if (cause !== undefined) v.cause = cause;
    const text = params.text;
    if (text !== undefined) {
      if (text === null) throw new SipParseError('Reason text without a value');
      v.text = text;
    }
    out.push(v);
    if (pp.end >= value.length) return out;
    i = skipWs(value, pp.end + 1);
  }
}

/** Writes one reason-value: `SIP;cause=200;text="Call completed elsewhere"`. */
export function formatReason(v: ReasonValue): string {
  const p = paramsWithFields(v.params, { cause: v.cause === undefined ? undefined : String(v.cause), text: v.text });
  return v.protocol + formatParams(p, QUOTED_TEXT);
}

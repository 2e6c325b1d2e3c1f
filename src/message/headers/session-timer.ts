/** Session-Expires (RFC 4028 §4) and RAck (RFC 3262 §7.2). */
import { SipParseError } from '../../core/errors.js';
import { isWs, scanToken, skipWs } from '../grammar.js';
import { formatParams, parseParams } from '../params.js';
import type { RAckValue, SessionExpiresValue } from '../types.js';
import { equalsLiteral, MAX_UINT32, paramsWithFields, parseDecimal, scanDigits, snippet } from './numbers.js';

/**
 * Session-Expires (RFC 4028 §4): `delta-seconds *(SEMI se-params)`, se-params = refresher-param /
 * generic-param, refresher-param = "refresher" EQUAL ("uas" / "uac"). Any other refresher value,
 * or a bare `;refresher`, is a 400. The refresher is lower-cased (ABNF literals ignore case) in
 * its field and in params. The RFC 4028 §4 floor of 90 seconds is a 422 decision for the layer
 * above, not a syntax error.
 */
export function parseSessionExpires(value: string): SessionExpiresValue {
  const start = skipWs(value, 0);
  const end = scanDigits(value, start);
  const deltaSeconds = parseDecimal(value, start, end, MAX_UINT32, 'Session-Expires');
  const params = parseParams(value, end, false).params;
  const v: SessionExpiresValue = { deltaSeconds, params };
  const r = params.refresher;
  if (r !== undefined) {
    if (r !== null && equalsLiteral(r, 0, r.length, 'uac')) v.refresher = 'uac';
    else if (r !== null && equalsLiteral(r, 0, r.length, 'uas')) v.refresher = 'uas';
    else throw new SipParseError(`bad Session-Expires refresher: ${snippet(value)}`);
    params.refresher = v.refresher;
  }
  return v;
}

/** Writes `delta;refresher=uac;params`. */
export function formatSessionExpires(v: SessionExpiresValue): string {
  return String(v.deltaSeconds) + formatParams(paramsWithFields(v.params, { refresher: v.refresher }));
}

/**
 * RAck (RFC 3262 §7.2): `response-num LWS CSeq-num LWS Method`. Both numbers are 1*DIGIT within
 * 2^32-1 (RFC 3262 §3 and RFC 3261 §8.1.1.5 keep them there); the method is a case-sensitive token.
 */
export function parseRAck(value: string): RAckValue {
  const bad = (): SipParseError => new SipParseError(`bad RAck: ${snippet(value)}`);
  const rseqStart = skipWs(value, 0);
  const rseqEnd = scanDigits(value, rseqStart);
  const rseq = parseDecimal(value, rseqStart, rseqEnd, MAX_UINT32, 'RAck response-num');
  if (rseqEnd >= value.length || !isWs(value.charCodeAt(rseqEnd))) throw bad();
  const cseqStart = skipWs(value, rseqEnd);
  const cseqEnd = scanDigits(value, cseqStart);
  const cseq = parseDecimal(value, cseqStart, cseqEnd, MAX_UINT32, 'RAck CSeq-num');
  if (cseqEnd >= value.length || !isWs(value.charCodeAt(cseqEnd))) throw bad();
  const methodStart = skipWs(value, cseqEnd);
  const methodEnd = scanToken(value, methodStart);
  if (methodEnd === methodStart || skipWs(value, methodEnd) !== value.length) throw bad();
  return { rseq, cseq, method: value.slice(methodStart, methodEnd) };
}

/** Writes `rseq cseq method`. */
export function formatRAck(v: RAckValue): string {
  return v.rseq + ' ' + v.cseq + ' ' + v.method;
}

/** CSeq (RFC 3261 §20.16). */
import { SipParseError } from '../../core/errors.js';
import { isWs, scanToken, skipWs } from '../grammar.js';
import type { CSeq } from '../types.js';
import { MAX_UINT32, parseDecimal, scanDigits, snippet } from './numbers.js';

/**
 * `CSeq: 1*DIGIT LWS Method`. RFC 3261 §8.1.1.5 has us send numbers below 2^31, but §20.16 only
 * says "32 bit unsigned", so anything up to 2^32-1 is accepted; larger (RFC 4475 §3.1.2.4 scalar02,
 * `36893488147419103232`) is a 400. The method is a token and case-sensitive (§7.1), kept as written.
 */
export function parseCSeq(value: string): CSeq {
  const start = skipWs(value, 0);
  const digitsEnd = scanDigits(value, start);
  const seq = parseDecimal(value, start, digitsEnd, MAX_UINT32, 'CSeq number');
  if (digitsEnd >= value.length || !isWs(value.charCodeAt(digitsEnd))) {
    throw new SipParseError(`bad CSeq: ${snippet(value)}`);
  }
  const methodStart = skipWs(value, digitsEnd);
  const methodEnd = scanToken(value, methodStart);
  if (methodEnd === methodStart || skipWs(value, methodEnd) !== value.length) {
    throw new SipParseError(`bad CSeq method: ${snippet(value)}`);
  }
  return { seq, method: value.slice(methodStart, methodEnd) };
}

/** Writes `seq method`. */
export function formatCSeq(v: CSeq): string {
  return v.seq + ' ' + v.method;
}

/**
 * Headers that are a comma-separated list of tokens: Allow (RFC 3261 §20.5), Supported (§20.37),
 * Require (§20.32), Proxy-Require (§20.29), Unsupported (§20.40), Allow-Events (RFC 6665 §8.2.2),
 * Accept-Encoding (§20.2) and the like.
 */
import { SipParseError } from '../../core/errors.js';
import { scanToken, skipWs } from '../grammar.js';
import { snippet } from './numbers.js';

/**
 * `[token *(COMMA token)]`. An empty (or all-whitespace) value is an empty list: RFC 3261 §20.5
 * and §20.37 make the list optional (`Allow:` means no methods). An empty element (`a,,b`, a
 * trailing comma) is a 400. Tokens are returned as written. Accept-params (`gzip;q=0.5`) are not
 * in this grammar and are a 400.
 */
export function parseTokenList(value: string): string[] {
  const out: string[] = [];
  let i = skipWs(value, 0);
  if (i === value.length) return out;
  for (;;) {
    const end = scanToken(value, i);
    if (end === i) throw new SipParseError(`expected a token in list: ${snippet(value, i)}`);
    out.push(value.slice(i, end));
    i = skipWs(value, end);
    if (i === value.length) return out;
    if (value.charCodeAt(i) !== 44 /* , */) throw new SipParseError(`expected "," in token list: ${snippet(value, i)}`);
    i = skipWs(value, i + 1);
  }
}

/** Writes `a, b, c` (an empty list is an empty value). */
export function formatTokenList(list: readonly string[]): string {
  return list.join(', ');
}

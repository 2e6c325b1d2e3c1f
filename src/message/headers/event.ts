/** Event and Subscription-State (RFC 6665 §8.2.1, §8.2.3, grammar §8.4). */
import { SipParseError } from '../../core/errors.js';
import { isTokenChar, scanToken, skipWs } from '../grammar.js';
import { formatParams, parseParams } from '../params.js';
import type { EventValue, SubscriptionStateValue } from '../types.js';
import { deltaParam, paramsWithFields, snippet } from './numbers.js';

/**
 * `event-type *( SEMI event-param )` with event-type = token-nodot *( "." token-nodot ) (RFC 6665
 * §8.4), so empty labels (`presence..winfo`, a leading or trailing dot) are a 400. The type is
 * lower-cased as types.ts asks (registered package names are all lower-case); note that RFC 6665
 * §8.2.1 compares event-types byte by byte, so this matches `Foo` with `foo` where the RFC would
 * not. Event is single-valued: a comma is a 400.
 */
export function parseEvent(value: string): EventValue {
  const start = skipWs(value, 0);
  let i = start;
  let labelStart = start;
  while (i < value.length) {
    const c = value.charCodeAt(i);
    if (c === 46 /* . */) {
      if (i === labelStart) break;
      labelStart = i + 1;
    } else if (!isTokenChar(c)) {
      break;
    }
    i++;
  }
  if (i === labelStart) throw new SipParseError(`bad event-type: ${snippet(value)}`);
  const type = value.slice(start, i).toLowerCase();
  return { type, params: parseParams(value, i, false).params };
}

/** Writes `type;params`. */
export function formatEvent(v: EventValue): string {
  return v.type + formatParams(v.params);
}

/**
 * `substate-value *( SEMI subexp-params )` (RFC 6665 §8.4). The state is lower-cased (its
 * literals are case-insensitive ABNF strings). `reason` (a token, lower-cased), `expires` and
 * `retry-after` (delta-seconds within 2^32-1) are read into fields and stay in `params` in the
 * same canonical form, so the two never disagree.
 */
export function parseSubscriptionState(value: string): SubscriptionStateValue {
  const start = skipWs(value, 0);
  const end = scanToken(value, start);
  if (end === start) throw new SipParseError(`bad Subscription-State: ${snippet(value)}`);
  const params = parseParams(value, end, false).params;
  const v: SubscriptionStateValue = { state: value.slice(start, end).toLowerCase(), params };
  const reason = params.reason;
  if (reason !== undefined) {
    if (reason === null || scanToken(reason, 0) !== reason.length) throw new SipParseError('bad Subscription-State reason');
    v.reason = params.reason = reason.toLowerCase();
  }
  const expires = deltaParam(params, 'expires', 'Subscription-State expires');
  if (expires !== undefined) v.expires = expires;
  const retryAfter = deltaParam(params, 'retry-after', 'Subscription-State retry-after');
  if (retryAfter !== undefined) v.retryAfter = retryAfter;
  return v;
}

/** Writes `state;params`, the typed fields taking precedence over the same-named params. */
export function formatSubscriptionState(v: SubscriptionStateValue): string {
  return (
    v.state +
    formatParams(
      paramsWithFields(v.params, {
        reason: v.reason,
        expires: v.expires === undefined ? undefined : String(v.expires),
        'retry-after': v.retryAfter === undefined ? undefined : String(v.retryAfter),
      }),
    )
  );
}

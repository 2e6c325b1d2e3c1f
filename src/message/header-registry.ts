/**
 * Which parser reads which header. The message layer consults this table the first time a header
 * is read (lazy mode) or for every known header at parse time (strict mode).
 */
import { SipParseError } from '../core/errors.js';
import * as h from './headers/index.js';
import { parseNameAddr, parseNameAddrList } from './name-addr.js';
import type { ContactValue, NameAddr } from './types.js';

export interface HeaderSpec {
  /** True when values from several header lines (and commas) concatenate into one array. */
  readonly list: boolean;
  /** Parses one header line's unfolded value. */
  readonly parse: (value: string) => unknown;
}

/** RFC 3261 §20.10: q is 0 to 1 with at most three decimals; expires is delta-seconds. */
function checkContactParams(na: NameAddr): NameAddr {
  const q = na.params.q;
  if (q !== undefined && (q === null || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(q))) {
    throw new SipParseError(`bad Contact q value: ${q}`);
  }
  const expires = na.params.expires;
  if (expires !== undefined) {
    if (expires === null) throw new SipParseError('Contact expires without a value');
    h.parseExpires(expires);
  }
  return na;
}

/** Contact: `*` or a list of name-addrs with valid q and expires (RFC 3261 §20.10, §10.2.2). */
export function parseContact(value: string): ContactValue {
  if (value.trim() === '*') return '*';
  return parseNameAddrList(value).map(checkContactParams);
}

function single(parse: (value: string) => unknown): HeaderSpec {
  return { list: false, parse };
}
function list(parse: (value: string) => unknown[]): HeaderSpec {
  return { list: true, parse };
}

const nameAddr = single((v) => parseNameAddr(v));
const nameAddrList = list((v) => parseNameAddrList(v));
const tokenList = list((v) => h.parseTokenList(v));
const auth = list((v) => [h.parseAuth(v)]);

/** Canonical key -> parser. Headers not listed here are kept as text. */
const SPECS: Readonly<Record<string, HeaderSpec>> = {
  via: list(h.parseVia),
  from: nameAddr,
  to: nameAddr,
  'call-id': single(h.parseCallId),
  cseq: single(h.parseCSeq),
  'max-forwards': single(h.parseMaxForwards),
  contact: { list: true, parse: parseContact },
  route: nameAddrList,
  'record-route': nameAddrList,
  path: nameAddrList,
  'service-route': nameAddrList,
  'content-length': single(h.parseContentLength),
  'content-type': single(h.parseContentType),
  accept: list(h.parseAccept),
  expires: single(h.parseExpires),
  'min-expires': single(h.parseMinExpires),
  allow: tokenList,
  supported: tokenList,
  require: tokenList,
  'proxy-require': tokenList,
  unsupported: tokenList,
  'allow-events': tokenList,
  event: single(h.parseEvent),
  'subscription-state': single(h.parseSubscriptionState),
  'refer-to': nameAddr,
  // The seed document writes `Referred-By: <alice@atlanta.example.com>`: read leniently (as sip:), never written so.
  'referred-by': single((v) => parseNameAddr(v, { lenientScheme: true })),
  replaces: single(h.parseReplaces),
  'refer-sub': single(h.parseReferSub),
  'target-dialog': single(h.parseTargetDialog),
  'session-expires': single(h.parseSessionExpires),
  'min-se': single(h.parseMinSE),
  rseq: single(h.parseRSeq),
  rack: single(h.parseRAck),
  // One challenge or credentials per header line (RFC 3261 §20.27, §20.44; RFC 8760 §2.4 offers
  // SHA-256 and MD5 as separate lines), so each line gives one entry of the list.
  'www-authenticate': auth,
  'proxy-authenticate': auth,
  authorization: auth,
  'proxy-authorization': auth,
  reason: list(h.parseReason),
  date: single(h.parseDate),
  'retry-after': single(h.parseRetryAfter),
  warning: list(h.parseWarning),
};

/**
 * The table as a Map: keyed lookups with varying keys in an object literal of this size go
 * megamorphic in V8 and cost more than the parse they select (measured); Map.get does not.
 */
export const HEADER_SPECS: ReadonlyMap<string, HeaderSpec> = new Map(Object.entries(SPECS));

/** The parser of the Via header, for the top-Via fast path. */
export const VIA_SPEC: HeaderSpec = SPECS.via!;

/**
 * Which parser reads which header. The message layer consults this table the first time a header
 * is read (lazy mode) or for every known header at parse time (strict mode).
 */
import { SipParseError } from '../core/errors.js';
import * as h from './headers/index.js';
import { parseNameAddr, parseNameAddrList } from './name-addr.js';
import type { ContactValue, NameAddr } from './types.js';

export interface HeaderSpec {
  /** The canonical key of the header. */
  readonly key: string;
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

function single(key: string, parse: (value: string) => unknown): HeaderSpec {
  return { key, list: false, parse };
}
function list(key: string, parse: (value: string) => unknown[]): HeaderSpec {
  return { key, list: true, parse };
}

const nameAddr = (key: string) => single(key, (v) => parseNameAddr(v));
const nameAddrList = (key: string) => list(key, (v) => parseNameAddrList(v));
const tokenList = (key: string) => list(key, (v) => h.parseTokenList(v));
const auth = (key: string) => list(key, (v) => [h.parseAuth(v)]);

/** The parser of each header hookflash reads, by name. Headers not listed here are kept as text. */
export const SPEC = {
  via: list('via', h.parseVia),
  from: nameAddr('from'),
  to: nameAddr('to'),
  callId: single('call-id', h.parseCallId),
  cseq: single('cseq', h.parseCSeq),
  maxForwards: single('max-forwards', h.parseMaxForwards),
  contact: { key: 'contact', list: true, parse: parseContact },
  route: nameAddrList('route'),
  recordRoute: nameAddrList('record-route'),
  path: nameAddrList('path'),
  serviceRoute: nameAddrList('service-route'),
  contentLength: single('content-length', h.parseContentLength),
  contentType: single('content-type', h.parseContentType),
  accept: list('accept', h.parseAccept),
  expires: single('expires', h.parseExpires),
  minExpires: single('min-expires', h.parseMinExpires),
  allow: tokenList('allow'),
  supported: tokenList('supported'),
  require: tokenList('require'),
  proxyRequire: tokenList('proxy-require'),
  unsupported: tokenList('unsupported'),
  allowEvents: tokenList('allow-events'),
  event: single('event', h.parseEvent),
  subscriptionState: single('subscription-state', h.parseSubscriptionState),
  referTo: nameAddr('refer-to'),
  // The seed document writes `Referred-By: <alice@atlanta.example.com>`: read leniently (as sip:), never written so.
  referredBy: single('referred-by', (v) => parseNameAddr(v, { lenientScheme: true })),
  replaces: single('replaces', h.parseReplaces),
  referSub: single('refer-sub', h.parseReferSub),
  targetDialog: single('target-dialog', h.parseTargetDialog),
  sessionExpires: single('session-expires', h.parseSessionExpires),
  minSE: single('min-se', h.parseMinSE),
  rseq: single('rseq', h.parseRSeq),
  rack: single('rack', h.parseRAck),
  // One challenge or credentials per header line (RFC 3261 §20.27, §20.44; RFC 8760 §2.4 offers
  // SHA-256 and MD5 as separate lines), so each line gives one entry of the list.
  wwwAuthenticate: auth('www-authenticate'),
  proxyAuthenticate: auth('proxy-authenticate'),
  authorization: auth('authorization'),
  proxyAuthorization: auth('proxy-authorization'),
  reason: list('reason', h.parseReason),
  date: single('date', h.parseDate),
  retryAfter: single('retry-after', h.parseRetryAfter),
  warning: list('warning', h.parseWarning),
} as const satisfies Record<string, HeaderSpec>;

/**
 * The table as a Map: keyed lookups with varying keys in an object literal of this size go
 * megamorphic in V8 and cost more than the parse they select (measured); Map.get does not.
 */
export const HEADER_SPECS: ReadonlyMap<string, HeaderSpec> = new Map(Object.values(SPEC).map((spec): [string, HeaderSpec] => [spec.key, spec]));

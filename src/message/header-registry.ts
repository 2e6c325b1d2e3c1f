/**
 * Which parser reads which header. The message layer consults this table the first time a header
 * is read (lazy mode) or for every known header at parse time (strict mode).
 */
import { SipParseError } from '../core/errors.js';
import { keyIdOf } from './header-names.js';
import * as h from './headers/index.js';
import {
  fastCallId, fastContact, fastContentType, fastCSeq, fastNameAddr, fastNameAddrList, fastNumber, fastTokenList, fastVia, type ByteParser,
} from './fast-scan.js';
import { parseNameAddr, parseNameAddrList } from './name-addr.js';
import type { ContactValue, NameAddr } from './types.js';

export interface HeaderSpec {
  /** The canonical key of the header. */
  readonly key: string;
  /** Its id in header-names.ts KEY_BY_ID (every header with a parser has one). */
  readonly id: number;
  /** True when values from several header lines (and commas) concatenate into one array. */
  readonly list: boolean;
  /** Parses one header line's unfolded value. */
  readonly parse: (value: string) => unknown;
  /**
   * Optional fast path (fast-values.ts) for messages from the byte-level parser: returns what
   * `parse` would for the value, or undefined to leave the value to `parse`.
   */
  readonly fast?: ByteParser;
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

function idOf(key: string): number {
  const id = keyIdOf(key);
  if (id === 0) throw new Error(`header ${key} has a parser but no key id`);
  return id;
}
function single(key: string, parse: (value: string) => unknown, fast?: ByteParser): HeaderSpec {
  return fast === undefined ? { key, id: idOf(key), list: false, parse } : { key, id: idOf(key), list: false, parse, fast };
}
function list(key: string, parse: (value: string) => unknown[], fast?: ByteParser): HeaderSpec {
  return fast === undefined ? { key, id: idOf(key), list: true, parse } : { key, id: idOf(key), list: true, parse, fast };
}
const MAX_UINT32 = 0xffffffff;
const uint32: ByteParser = (d, _s, i, e) => fastNumber(d, i, e, MAX_UINT32);

const nameAddr = (key: string) => single(key, (v) => parseNameAddr(v), fastNameAddr);
const nameAddrList = (key: string) => list(key, (v) => parseNameAddrList(v), fastNameAddrList);
const tokenList = (key: string) => list(key, (v) => h.parseTokenList(v), fastTokenList);
const auth = (key: string) => list(key, (v) => [h.parseAuth(v)]);

/** The parser of each header hookflash reads, by name. Headers not listed here are kept as text. */
export const SPEC = {
  via: list('via', h.parseVia, fastVia),
  from: nameAddr('from'),
  to: nameAddr('to'),
  callId: single('call-id', h.parseCallId, fastCallId),
  cseq: single('cseq', h.parseCSeq, fastCSeq),
  maxForwards: single('max-forwards', h.parseMaxForwards, (d, _s, i, e) => fastNumber(d, i, e, 255)),
  contact: { key: 'contact', id: idOf('contact'), list: true, parse: parseContact, fast: fastContact },
  route: nameAddrList('route'),
  recordRoute: nameAddrList('record-route'),
  path: nameAddrList('path'),
  serviceRoute: nameAddrList('service-route'),
  contentLength: single('content-length', h.parseContentLength, uint32),
  contentType: single('content-type', h.parseContentType, fastContentType),
  accept: list('accept', h.parseAccept),
  expires: single('expires', h.parseExpires, uint32),
  minExpires: single('min-expires', h.parseMinExpires, uint32),
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
  rseq: single('rseq', h.parseRSeq, uint32),
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

/** The same specs by key id (header-names.ts KEY_BY_ID), for the byte-level parser's index. */
export const SPEC_BY_ID: ReadonlyArray<HeaderSpec | undefined> = (() => {
  const out: Array<HeaderSpec | undefined> = [];
  for (const spec of HEADER_SPECS.values()) out[spec.id] = spec;
  return out;
})();

/**
 * Header names: compact forms (RFC 3261 §7.3.3 and extensions), the canonical lower-case key the
 * message layer files each header under, and the spelling we write on the wire.
 */

/** Compact form -> canonical key. */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  i: 'call-id', m: 'contact', v: 'via', f: 'from', t: 'to', l: 'content-length', k: 'supported',
  c: 'content-type', e: 'content-encoding', s: 'subject', o: 'event', r: 'refer-to', b: 'referred-by',
  x: 'session-expires', u: 'allow-events', y: 'identity', a: 'accept-contact', j: 'reject-contact',
  d: 'request-disposition', n: 'identity-info',
};

/** Canonical key -> the spelling written on the wire when we build a header. */
const WIRE_NAMES: Record<string, string> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version',
  rseq: 'RSeq', rack: 'RAck', 'min-se': 'Min-SE', 'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match',
};

// The names real traffic uses, mapped without lower-casing: the parser's hot path is one lookup.
const FAST: Record<string, string> = Object.create(null) as Record<string, string>;
for (const name of [
  'Via', 'From', 'To', 'Call-ID', 'Call-Id', 'CSeq', 'Cseq', 'Contact', 'Max-Forwards', 'Route', 'Record-Route',
  'Content-Length', 'Content-Type', 'Expires', 'Min-Expires', 'Allow', 'Supported', 'Require', 'Proxy-Require',
  'Unsupported', 'Event', 'Subscription-State', 'Refer-To', 'Referred-By', 'Replaces', 'Refer-Sub',
  'Target-Dialog', 'Session-Expires', 'Min-SE', 'RSeq', 'RAck', 'WWW-Authenticate', 'Proxy-Authenticate',
  'Authorization', 'Proxy-Authorization', 'Path', 'Reason', 'User-Agent', 'Server', 'Accept', 'Date',
  'Timestamp', 'Subject', 'Allow-Events', 'Retry-After', 'Warning', 'Organization', 'Priority',
  'Content-Disposition', 'Content-Encoding', 'Accept-Encoding', 'Accept-Language', 'Content-Language',
  'Alert-Info', 'Call-Info', 'Error-Info', 'In-Reply-To', 'MIME-Version', 'Reply-To', 'Security-Client',
]) {
  FAST[name] = name.toLowerCase();
  FAST[name.toLowerCase()] = name.toLowerCase();
  FAST[name.toUpperCase()] = name.toLowerCase();
}
for (const c in COMPACT_FORMS) {
  FAST[c] = COMPACT_FORMS[c]!;
  FAST[c.toUpperCase()] = COMPACT_FORMS[c]!;
}

/** The canonical key of a header name: lower-case long form (`v`, `VIA`, `Via` -> `via`). */
export function headerKey(name: string): string {
  const fast = FAST[name];
  if (fast !== undefined) return fast;
  const lower = name.toLowerCase();
  return COMPACT_FORMS[lower] ?? lower;
}

/** The conventional wire spelling of a canonical key: `call-id` -> `Call-ID`, `max-forwards` -> `Max-Forwards`. */
export function wireName(key: string): string {
  const special = WIRE_NAMES[key];
  if (special) return special;
  let out = '';
  let upper = true;
  for (let i = 0; i < key.length; i++) {
    const ch = key[i]!;
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  return out;
}

// Keys by (length, first letter): the parser finds a header's key from the wire text without
// slicing or lower-casing the name.
const BY_SHAPE: Array<string[] | undefined> = new Array<string[] | undefined>(64 << 5).fill(undefined);
for (const key of new Set(Object.values(FAST))) {
  if (key.length < 2 || key.length >= 64) continue;
  const shape = (key.length << 5) | (key.charCodeAt(0) & 31);
  (BY_SHAPE[shape] ??= []).push(key);
}
const COMPACT_BY_CODE: Array<string | undefined> = [];
for (const c in COMPACT_FORMS) COMPACT_BY_CODE[c.charCodeAt(0)] = COMPACT_FORMS[c];

/**
 * The canonical key of the header name held in `src` from `start` to `end` (exclusive): same result
 * as headerKey(src.slice(start, end)), without allocating for the common names.
 */
export function headerKeyAt(src: string, start: number, end: number): string {
  return knownHeaderKeyAt(src, start, end) ?? headerKey(src.slice(start, end));
}

/**
 * Like headerKeyAt, but only for the names of the fast table (common headers and compact forms),
 * else undefined. A match implies the name is a valid token: every known name is one.
 */
export function knownHeaderKeyAt(src: string, start: number, end: number): string | undefined {
  const len = end - start;
  const first = src.charCodeAt(start);
  if (len === 1) {
    const key = COMPACT_BY_CODE[first | 0x20];
    if (key !== undefined) return key;
  } else {
    const candidates = len < 64 ? BY_SHAPE[(len << 5) | (first & 31)] : undefined;
    if (candidates !== undefined) {
      for (let k = 0; k < candidates.length; k++) {
        const key = candidates[k]!;
        let i = 0;
        // Keys hold only a-z and '-'; OR-ing 0x20 folds A-Z onto a-z and leaves '-' alone.
        while (i < len && (src.charCodeAt(start + i) | 0x20) === key.charCodeAt(i)) i++;
        if (i === len) return key;
      }
    }
  }
  return undefined;
}

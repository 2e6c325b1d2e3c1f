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

/** The names real traffic uses, in their usual spelling. */
export const COMMON_NAMES: readonly string[] = [
  'Via', 'From', 'To', 'Call-ID', 'Call-Id', 'CSeq', 'Cseq', 'Contact', 'Max-Forwards', 'Route', 'Record-Route',
  'Content-Length', 'Content-Type', 'Expires', 'Min-Expires', 'Allow', 'Supported', 'Require', 'Proxy-Require',
  'Unsupported', 'Event', 'Subscription-State', 'Refer-To', 'Referred-By', 'Replaces', 'Refer-Sub',
  'Target-Dialog', 'Session-Expires', 'Min-SE', 'RSeq', 'RAck', 'WWW-Authenticate', 'Proxy-Authenticate',
  'Authorization', 'Proxy-Authorization', 'Path', 'Reason', 'User-Agent', 'Server', 'Accept', 'Date',
  'Timestamp', 'Subject', 'Allow-Events', 'Retry-After', 'Warning', 'Organization', 'Priority',
  'Content-Disposition', 'Content-Encoding', 'Accept-Encoding', 'Accept-Language', 'Content-Language',
  'Alert-Info', 'Call-Info', 'Error-Info', 'In-Reply-To', 'MIME-Version', 'Reply-To', 'Security-Client',
  'Service-Route',
];

/**
 * The same string, internalized (the one V8 keeps for property names and literals): keys compared
 * with === then match by pointer, without a char-by-char compare.
 */
function intern(s: string): string {
  return Object.keys({ [s]: 0 })[0]!;
}

// Those names mapped without lower-casing: the parser's hot path is one lookup.
const FAST: Record<string, string> = Object.create(null) as Record<string, string>;
for (const name of COMMON_NAMES) {
  const key = intern(name.toLowerCase());
  FAST[name] = key;
  FAST[name.toLowerCase()] = key;
  FAST[name.toUpperCase()] = key;
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

// ---------------------------------------------------------------------------------------------
// Key ids: the byte-level parser (fast-frame.ts) files each known header under a small integer,
// so that lookups compare numbers and no key string is made per line.

/** Every spelling headerKey knows without lower-casing, with its key. */
export function knownSpellings(): Array<[string, string]> {
  return Object.keys(FAST).map((n): [string, string] => [n, FAST[n]!]);
}

/** Canonical keys by id; id 0 is "not a known name" (the key is then the name lower-cased). */
export const KEY_BY_ID: readonly string[] = ['', ...new Set(Object.values(FAST))];
const ID_BY_KEY = new Map<string, number>(KEY_BY_ID.map((k, i): [string, number] => [k, i]));
ID_BY_KEY.delete('');

/** The id of a canonical key, or 0 when the key has none. */
export function keyIdOf(key: string): number {
  return ID_BY_KEY.get(key) ?? 0;
}

/**
 * Known names packed exactly: a-z (either case) as 1-26 and '-' as 27, five bits a char, the first
 * ten chars in one number and the next ten in another (both exact below 2^53). A name of letters and
 * '-' up to 20 chars long is a known key iff its (length, v1, v2) is in this table, so the parser
 * needs no compare loop. Open addressing on NAME_SLOT; id 0 marks an empty slot.
 */
export const NAME_TABLE_SIZE = 512;
export const NAME_V1 = new Float64Array(NAME_TABLE_SIZE);
export const NAME_V2 = new Float64Array(NAME_TABLE_SIZE);
export const NAME_LEN = new Uint8Array(NAME_TABLE_SIZE);
export const NAME_ID = new Uint8Array(NAME_TABLE_SIZE);

/** The table slot to start probing at for a packed name. */
export function nameSlot(v1: number, v2: number, len: number): number {
  return ((v1 | 0) ^ ((v2 | 0) * 7) ^ (len * 0x9e5)) & (NAME_TABLE_SIZE - 1);
}

/** Compact forms by char code (either case): their key's id. */
export const COMPACT_ID = new Uint8Array(256);
{
  for (let id = 1; id < KEY_BY_ID.length; id++) {
    const key = KEY_BY_ID[id]!;
    if (key.length < 2) continue;
    if (key.length > 20) throw new Error(`header key ${key} too long for the packed name table`);
    let v1 = 0;
    let v2 = 0;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      const k = c === 45 ? 27 : c - 96;
      if (k < 1 || k > 27) throw new Error(`header key ${key} not made of a-z and '-'`);
      if (i < 10) v1 = v1 * 32 + k;
      else v2 = v2 * 32 + k;
    }
    let slot = nameSlot(v1, v2, key.length);
    while (NAME_ID[slot] !== 0) slot = (slot + 1) & (NAME_TABLE_SIZE - 1);
    NAME_V1[slot] = v1;
    NAME_V2[slot] = v2;
    NAME_LEN[slot] = key.length;
    NAME_ID[slot] = id;
  }
  for (const c in COMPACT_FORMS) {
    const id = keyIdOf(COMPACT_FORMS[c]!);
    COMPACT_ID[c.charCodeAt(0)] = id;
    COMPACT_ID[c.toUpperCase().charCodeAt(0)] = id;
  }
  if (KEY_BY_ID.length > 96) throw new Error('too many known header keys for the parser (8-bit ids, 96-bit sets)');
}

/**
 * Property tests of the message layer (fast-check, fixed seed; set FC_SEED to replay another).
 *
 * 1. Round trip: structured requests and responses built with createRequest / createResponse and
 *    set/append, serialized, parsed back (strict): every typed accessor and the body equal the
 *    model and the built message (RFC 3261 §7, §20, §25 grammar through the formatters).
 * 2. serialize(parse(bytes)) is byte-identical for those bytes.
 * 3. Mutation fuzzer over the RFC 4475 / RFC 5118 corpus and the seed fixtures: strict and lazy
 *    parses, every accessor and getParsed: the only thing ever thrown is SipParseError (400-599),
 *    and no case takes long.
 * 4. Random bytes into parseMessage and StreamFramer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import {
  createRequest, createResponse, formatNameAddr, formatUri, formatVia, parseMessage, SipRequest, SipResponse, StreamFramer, validateRequest,
  type NameAddr, type Params, type SipUri, type TelUri, type Uri, type Via,
} from '../../src/message/index.js';
import { SipParseError } from '../../src/core/errors.js';
import { KNOWN_METHODS } from '../../src/core/methods.js';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 0x5eed4475;
/** FC_SCALE multiplies the run counts for a deeper local search (FC_SCALE=20 FC_SEED=7 node --test ...). */
const SCALE = Math.max(1, Number(process.env.FC_SCALE ?? 1));
const RUNS_ROUNDTRIP = 500 * SCALE;
const RUNS_MUTATION = 3000 * SCALE;
const RUNS_RANDOM = 1000 * SCALE;
/** A parse plus reading every accessor must stay well under this (ms), as the minimum of 3 runs. */
const SLOW_MS = 50;

/** fast-check parameters: the fixed seed (fast-check prints it, and the failing path, on failure). */
function params(numRuns: number): { seed: number; numRuns: number; includeErrorInReport: boolean } {
  return { seed: SEED, numRuns, includeErrorInReport: true };
}

// =============================================================================================
// Generators

const ALPHA = 'abcdefghijklmnopqrstuvwxyz';
const DIGIT = '0123456789';
const TOKEN_CHARS = ALPHA + ALPHA.toUpperCase() + DIGIT + "-.!%*_+`'~";
const LOWER_TOKEN_CHARS = ALPHA + DIGIT + "-.!%*_+`'~";
/** RFC 3261 §25.1 `word` (Call-ID). */
const WORD_CHARS = ALPHA + ALPHA.toUpperCase() + DIGIT + '-.!%*_+`\'~()<>:\\"/[]?{}';

const chars = (set: string) => fc.constantFrom(...set.split(''));
const str = (set: string, minLength: number, maxLength: number) => fc.string({ unit: chars(set), minLength, maxLength });
const token = (min = 1, max = 10) => str(TOKEN_CHARS, min, max);
const lowerToken = (min = 1, max = 10) => str(LOWER_TOKEN_CHARS, min, max);
/** One octet as a char: the domain of unescaped URI components of parsed messages. */
const octets = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), minLength, maxLength });
/** Printable text: ASCII, tab, and some UTF-8 (2, 3 and 4 byte) characters. */
const printableUnit = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\t', 'é', 'ß', 'Ж', '世', '😀') },
);
const printable = (minLength: number, maxLength: number) => fc.string({ unit: printableUnit, minLength, maxLength });
/** Display names: printable plus the characters that must be quoted-pairs. */
const displayName = fc.string({
  unit: fc.oneof({ weight: 6, arbitrary: printableUnit }, { weight: 1, arbitrary: fc.constantFrom('"', '\\', '\x00', '\x07', '\x7f', ' ') }),
  maxLength: 16,
});

// Host names in mixed case: URI hosts read back lower-cased, Via hosts as written.
const UPPER = ALPHA.toUpperCase();
const label = fc.tuple(str(ALPHA + UPPER + DIGIT, 1, 1), str(ALPHA + DIGIT + '-', 0, 6), str(ALPHA + UPPER + DIGIT, 0, 1))
  .map(([a, b, c]) => (c === '' ? a : a + b + c));
const topLabel = fc.tuple(str(ALPHA + UPPER, 1, 1), str(ALPHA + DIGIT, 0, 5)).map(([a, b]) => a + b);
const hostname = fc.tuple(fc.array(label, { maxLength: 3 }), topLabel).map(([ls, t]) => [...ls, t].join('.'));

type HostType = SipUri['hostType'];
const host: fc.Arbitrary<{ host: string; hostType: HostType }> = fc.oneof(
  hostname.map((h) => ({ host: h, hostType: 'name' as const })),
  fc.ipV4().map((h) => ({ host: h, hostType: 'ipv4' as const })),
  fc.ipV6().map((h) => ({ host: `[${h}]`, hostType: 'ipv6' as const })),
);
const port = fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined });

/**
 * Distinct [name, value] pairs as a null-prototype Params object. Names may be in any case (the
 * parser lower-cases them), so they are distinct and excluded case-insensitively.
 */
function paramsOf(entries: fc.Arbitrary<[string, string | null]>, maxLength: number, exclude: readonly string[] = []): fc.Arbitrary<Params> {
  return fc
    .uniqueArray(entries.filter(([n]) => !exclude.includes(n.toLowerCase())), { maxLength, selector: ([n]) => n.toLowerCase() })
    .map((pairs) => {
      const p = Object.create(null) as Params;
      for (const [n, v] of pairs) p[n] = v;
      return p;
    });
}

const uriParamName = str(ALPHA + UPPER + DIGIT + "-_.!~*'()", 1, 8);
const uriParams = paramsOf(fc.tuple(uriParamName, fc.option(octets(1, 8), { nil: null })), 3);

function sipUri(withHeaders: boolean): fc.Arbitrary<SipUri> {
  return fc
    .record({
      scheme: fc.constantFrom('sip' as const, 'sips' as const),
      user: fc.option(octets(1, 12), { nil: undefined }),
      password: fc.option(octets(0, 6), { nil: undefined }),
      host,
      port,
      params: uriParams,
      headers: withHeaders
        ? fc.uniqueArray(fc.tuple(str(ALPHA + DIGIT + '-_.!~*\'()', 1, 8), octets(0, 10)), { maxLength: 2, selector: ([n]) => n.toLowerCase() })
        : fc.constant([] as Array<[string, string]>),
    })
    .map((r) => {
      const headers = Object.create(null) as Record<string, string>;
      for (const [n, v] of r.headers) headers[n] = v;
      const u: SipUri = { scheme: r.scheme, host: r.host.host, hostType: r.host.hostType, params: r.params, headers };
      if (r.user !== undefined) {
        u.user = r.user;
        if (r.password !== undefined) u.password = r.password;
      }
      if (r.port !== undefined) u.port = r.port;
      return u;
    });
}

const telUri: fc.Arbitrary<TelUri> = fc.constantFrom('+1-201-555-0123', '+44(20)7946.0000', '7042;phone-context=example.com').map((t) => {
  const [number, ...ps] = t.split(';');
  const p = Object.create(null) as Params;
  for (const x of ps) p[x.split('=')[0]!] = x.split('=')[1]!;
  return { scheme: 'tel' as const, number: number!, params: p };
});

/** Header params: token or quoted-string values, or flags. */
const quotedValue = fc.string({ unit: fc.oneof({ weight: 6, arbitrary: printableUnit }, { weight: 1, arbitrary: fc.constantFrom('"', '\\', ',', ';', '<', '>') }), maxLength: 10 });
const headerParamValue = fc.oneof(fc.constant(null), token(1, 8), quotedValue);
function headerParams(exclude: readonly string[]): fc.Arbitrary<Params> {
  return paramsOf(fc.tuple(token(1, 8), headerParamValue), 3, exclude);
}

function nameAddr(uri: fc.Arbitrary<Uri>, exclude: readonly string[], extra?: fc.Arbitrary<Params>): fc.Arbitrary<NameAddr> {
  return fc.record({ displayName: fc.option(displayName, { nil: undefined }), uri, params: headerParams(exclude), extra: extra ?? fc.constant(null) }).map((r) => {
    const params = r.params;
    if (r.extra) Object.assign(params, r.extra);
    const na: NameAddr = { uri: r.uri, params };
    if (r.displayName !== undefined) na.displayName = r.displayName;
    return na;
  });
}

const tag = token(1, 12);
const withTag = (exclude: string[]) =>
  fc.tuple(nameAddr(fc.oneof(sipUri(false), telUri), exclude), tag).map(([na, t]) => {
    na.params.tag = t;
    return na;
  });

const contactExtra = fc.record({ q: fc.option(fc.constantFrom('0', '1', '0.5', '0.001', '1.000'), { nil: undefined }), expires: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(String), { nil: undefined }) })
  .map((r) => {
    const p = Object.create(null) as Params;
    if (r.q !== undefined) p.q = r.q;
    if (r.expires !== undefined) p.expires = r.expires;
    return p;
  });
const contact: fc.Arbitrary<'*' | NameAddr[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant('*' as const) },
  { weight: 6, arbitrary: fc.array(nameAddr(sipUri(true), ['q', 'expires'], contactExtra), { minLength: 1, maxLength: 3 }) },
);
const route = fc.array(
  nameAddr(sipUri(false).map((u) => ({ ...u, params: Object.assign(Object.create(null) as Params, { lr: null }, u.params) })), []),
  { maxLength: 3 },
);

const VIA_SPECIAL = ['branch', 'received', 'rport', 'ttl', 'maddr'];
const via: fc.Arbitrary<Via> = fc
  .record({
    transport: fc.oneof(fc.constantFrom('UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS', 'udp', 'Tls'), token(1, 6)),
    host: host.map((h) => h.host),
    port,
    branch: token(1, 12),
    received: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV6().map((h) => `[${h}]`)), { nil: undefined }),
    rport: fc.option(fc.option(fc.integer({ min: 0, max: 65535 }).map(String), { nil: null }), { nil: undefined }),
    ttl: fc.option(fc.integer({ min: 0, max: 255 }).map(String), { nil: undefined }),
    maddr: fc.option(host.map((h) => h.host), { nil: undefined }),
    ext: paramsOf(fc.tuple(token(1, 6), fc.option(token(1, 6), { nil: null })), 2, VIA_SPECIAL),
  })
  .map((r) => {
    const p = Object.create(null) as Params;
    p.branch = 'z9hG4bK' + r.branch;
    if (r.received !== undefined) p.received = r.received;
    if (r.rport !== undefined) p.rport = r.rport;
    if (r.ttl !== undefined) p.ttl = r.ttl;
    if (r.maddr !== undefined) p.maddr = r.maddr;
    Object.assign(p, r.ext);
    // The transport as generated (any case) goes on the wire; it reads back upper-cased.
    const v: Via = { protocol: 'SIP/2.0', transport: r.transport, host: r.host, params: p };
    if (r.port !== undefined) v.port = r.port;
    return v;
  });
/** Via values grouped into header lines (a line may hold several comma-separated values). */
const viaLines = fc.array(fc.array(via, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 });

const method = fc.oneof(fc.constantFrom(...KNOWN_METHODS), token(1, 12));
const callId = fc.tuple(str(WORD_CHARS, 1, 20), fc.option(str(WORD_CHARS, 1, 12), { nil: undefined })).map(([a, b]) => (b === undefined ? a : `${a}@${b}`));
/** Header text values: printable; read back with surrounding SP/HT trimmed, built or parsed. */
const textValue = (min: number, max: number) => printable(min, max);
/** Extension headers: `X-token` names, printable values. */
const extHeaders = fc.array(fc.tuple(token(1, 8).map((t) => `X-${t}`), textValue(0, 30)), { maxLength: 4 });
const bodyArb = fc.option(
  fc.record({
    bytes: fc.uint8Array({ maxLength: 200 }),
    type: fc.constantFrom('application/octet-stream', 'application/sdp', 'text/plain;charset=utf-8', 'multipart/mixed;boundary=abc'),
  }),
  { nil: undefined },
);

const requestModel = fc.record({
  method,
  uri: fc.oneof({ weight: 4, arbitrary: sipUri(false) as fc.Arbitrary<Uri> }, { weight: 1, arbitrary: telUri as fc.Arbitrary<Uri> }),
  from: withTag(['tag']),
  to: nameAddr(fc.oneof(sipUri(false), telUri), ['tag']),
  callId,
  cseq: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  maxForwards: fc.integer({ min: 0, max: 255 }),
  via: viaLines,
  contact: fc.option(contact, { nil: undefined }),
  route,
  expires: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: undefined }),
  supported: fc.option(fc.uniqueArray(lowerToken(1, 8), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  subject: fc.option(textValue(0, 20), { nil: undefined }),
  ext: extHeaders,
  body: bodyArb,
});
type RequestModel = typeof requestModel extends fc.Arbitrary<infer T> ? T : never;

const responseModel = fc.record({
  status: fc.integer({ min: 100, max: 699 }),
  reason: fc.option(printable(0, 24), { nil: undefined }),
  toTag: tag,
  ext: extHeaders,
  body: bodyArb,
});

// =============================================================================================
// Building and comparing

/** Drops prototypes and undefined members, so parsed values compare with model objects. */
function plain<T>(v: T): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

function lowerKeys(p: Params): Params {
  const o = Object.create(null) as Params;
  for (const k in p) o[k.toLowerCase()] = p[k]!;
  return o;
}

/** What the parser gives back for a generated value: RFC 3261 §19.1.4/§7.3.1 case-insensitive parts lower-cased. */
function canonUri(u: Uri): Uri {
  if (u.scheme !== 'sip' && u.scheme !== 'sips') return u;
  const s = u as SipUri;
  return { ...s, host: s.hostType === 'name' ? s.host.toLowerCase() : s.host, params: lowerKeys(s.params) };
}
function canonNameAddr(na: NameAddr): NameAddr {
  return { ...na, uri: canonUri(na.uri), params: lowerKeys(na.params) };
}
/** Via: transport upper-cased (RFC 3261 §20.42), param names lower-cased, host as written. */
function canonVia(v: Via): Via {
  return { ...v, transport: v.transport.toUpperCase(), params: lowerKeys(v.params) };
}

function trimWs(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

function buildRequest(r: RequestModel): SipRequest {
  const [firstLine, ...otherLines] = r.via;
  const [topVia, ...restOfFirst] = firstLine!;
  const headers: Array<[string, string]> = [];
  if (r.contact === '*') headers.push(['Contact', '*']);
  const m = createRequest({
    method: r.method,
    uri: r.uri,
    from: r.from,
    to: r.to,
    callId: r.callId,
    cseq: r.cseq,
    maxForwards: r.maxForwards,
    via: topVia!,
    route: r.route,
    headers,
    ...(r.contact !== undefined && r.contact !== '*' ? { contact: r.contact[0]! } : {}),
    ...(r.body ? { body: r.body.bytes, contentType: r.body.type } : {}),
  });
  // The rest of the first Via line, then the other lines, through set() and append().
  if (restOfFirst.length > 0) m.set('Via', [topVia!, ...restOfFirst].map(viaText).join(', '));
  for (const line of otherLines) m.append('v', line.map(viaText).join(' , '));
  if (Array.isArray(r.contact)) for (const c of r.contact.slice(1)) m.append('m', nameAddrText(c));
  if (r.expires !== undefined) m.set('Expires', String(r.expires));
  if (r.supported !== undefined) m.set('k', r.supported.join(','));
  if (r.subject !== undefined) m.set('Subject', r.subject);
  for (const [n, v] of r.ext) m.append(n, v);
  return m;
}

// Formatting through the library: the round trip is of the formatters and the parser together.
const viaText = (v: Via) => formatVia(v);
const nameAddrText = (na: NameAddr) => formatNameAddr(na);

const ACCESSORS = [
  'via', 'topVia', 'from', 'to', 'callId', 'cseq', 'maxForwards', 'contact', 'route', 'recordRoute', 'path', 'contentLength',
  'contentType', 'expires', 'minExpires', 'allow', 'supported', 'require', 'proxyRequire', 'unsupported', 'event',
  'subscriptionState', 'referTo', 'referredBy', 'replaces', 'referSub', 'targetDialog', 'sessionExpires', 'minSE', 'rseq',
  'rack', 'wwwAuthenticate', 'proxyAuthenticate', 'authorization', 'proxyAuthorization', 'reason', 'bodyText',
] as const;

/** Every typed accessor's value (or the SipParseError it throws), the start line and the body. */
function snapshot(m: SipRequest | SipResponse): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of ACCESSORS) {
    try {
      out[a] = plain((m as unknown as Record<string, unknown>)[a]);
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      out[a] = `SipParseError ${e.status}`;
    }
  }
  if (m instanceof SipRequest) {
    out.method = m.method;
    out.uri = plain(m.uri);
    out.uriText = m.uriText;
  } else {
    out.status = m.status;
    out.reasonPhrase = m.reasonPhrase;
  }
  out.headers = m.headers.map((f) => [f.key, f.value]);
  out.body = Buffer.from(m.body).toString('hex');
  return out;
}

function expectRequest(p: SipRequest, r: RequestModel): void {
  assert.equal(p.method, r.method);
  assert.deepEqual(plain(p.uri), plain(canonUri(r.uri)));
  assert.deepEqual(plain(p.from), plain(canonNameAddr(r.from)));
  assert.deepEqual(plain(p.to), plain(canonNameAddr(r.to)));
  assert.equal(p.callId, r.callId);
  assert.deepEqual(p.cseq, { seq: r.cseq, method: r.method });
  assert.equal(p.maxForwards, r.maxForwards);
  assert.deepEqual(plain(p.via), plain(r.via.flat().map(canonVia)));
  assert.deepEqual(plain(p.topVia), plain(canonVia(r.via[0]![0]!)));
  assert.deepEqual(plain(p.contact), plain(r.contact === undefined || r.contact === '*' ? r.contact : r.contact.map(canonNameAddr)));
  assert.deepEqual(plain(p.route), plain(r.route.map(canonNameAddr)));
  assert.equal(p.expires, r.expires);
  assert.deepEqual(p.supported, r.supported ?? []);
  assert.equal(p.get('subject'), r.subject === undefined ? undefined : trimWs(r.subject));
  for (const [n, v] of r.ext) assert.ok(p.getAll(n).includes(trimWs(v)), `${n}: ${JSON.stringify(v)}`);
  assert.deepEqual(p.getAll('x-' + 'nothing'), []);
  const body = r.body?.bytes ?? new Uint8Array(0);
  assert.ok(Buffer.from(p.body).equals(Buffer.from(body)), 'body bytes');
  assert.equal(p.contentLength, body.length);
  if (r.body) assert.equal(`${p.contentType?.type}/${p.contentType?.subtype}`, r.body.type.split(';')[0]);
}

// =============================================================================================
// 1 and 2: round trips

test(`round trip: parse(serialize(createRequest + set/append)) equals the model and the built message on every accessor (seed ${SEED})`, { timeout: 300_000 }, () => {
  fc.assert(
    fc.property(requestModel, (r) => {
      const m = buildRequest(r);
      const bytes = m.toBuffer();
      const p = parseMessage(bytes);
      assert.ok(p instanceof SipRequest);
      expectRequest(p, r);
      expectRequest(m, r);
      assert.deepEqual(snapshot(p), snapshot(m));
      assert.equal(formatUri(p.uri), formatUri(canonUri(r.uri)));
    }),
    params(RUNS_ROUNDTRIP),
  );
});

test(`round trip: responses from createResponse (RFC 3261 §8.2.6) parse back to the same accessors (seed ${SEED})`, { timeout: 300_000 }, () => {
  fc.assert(
    fc.property(requestModel, responseModel, (r, s) => {
      const req = parseMessage(buildRequest(r).toBuffer());
      assert.ok(req instanceof SipRequest);
      const res = createResponse(req, s.status, {
        toTag: s.toTag,
        headers: s.ext,
        ...(s.reason !== undefined ? { reason: s.reason } : {}),
        ...(s.body ? { body: s.body.bytes, contentType: s.body.type } : {}),
      });
      const bytes = res.toBuffer();
      const p = parseMessage(bytes);
      assert.ok(p instanceof SipResponse);
      assert.equal(p.status, s.status);
      if (s.reason !== undefined) assert.equal(p.reasonPhrase, s.reason);
      assert.deepEqual(plain(p.via), plain(r.via.flat().map(canonVia)));
      assert.deepEqual(plain(p.from), plain(canonNameAddr(r.from)));
      assert.equal(p.callId, r.callId);
      assert.deepEqual(p.cseq, { seq: r.cseq, method: r.method });
      const expectedTo = { ...(plain(canonNameAddr(r.to)) as NameAddr) };
      if (s.status > 100) expectedTo.params = { ...expectedTo.params, tag: s.toTag };
      assert.deepEqual(plain(p.to), expectedTo);
      for (const [n, v] of s.ext) assert.ok(p.getAll(n).includes(trimWs(v)));
      assert.ok(Buffer.from(p.body).equals(Buffer.from(s.body?.bytes ?? new Uint8Array(0))));
      assert.deepEqual(snapshot(p), snapshot(res));
      assert.ok(p.toBuffer().equals(bytes));
    }),
    params(RUNS_ROUNDTRIP),
  );
});

test(`serialize(parse(bytes)) is byte-identical, strict and lazy, and stays so after reading every accessor (seed ${SEED})`, { timeout: 300_000 }, () => {
  fc.assert(
    fc.property(requestModel, fc.nat(3), (r, leadingCrlfs) => {
      const bytes = buildRequest(r).toBuffer();
      const strict = parseMessage(bytes);
      snapshot(strict);
      assert.ok(strict.toBuffer().equals(bytes));
      const lazy = parseMessage(Buffer.concat([Buffer.from('\r\n'.repeat(leadingCrlfs)), bytes]), { lazy: true });
      snapshot(lazy);
      assert.ok(lazy.toBuffer().equals(bytes));
    }),
    params(RUNS_ROUNDTRIP),
  );
});

test('a header value set with leading whitespace reads the same before and after the wire (RFC 3261 §7.3.1 LWS)', () => {
  const m = createRequest({ method: 'OPTIONS', uri: 'sip:b@b.example.com', from: '<sip:a@a.example.com>', to: '<sip:b@b.example.com>' });
  m.set('Subject', ' \thello');
  assert.equal(m.get('subject'), 'hello');
  assert.equal(parseMessage(m.toBuffer()).get('subject'), 'hello');
});

// =============================================================================================
// 3: mutation fuzzer

const REPO = new URL('../../../', import.meta.url);

function corpusFiles(): Array<{ name: string; bytes: Buffer }> {
  const out: Array<{ name: string; bytes: Buffer }> = [];
  const add = (dir: string, filter: (f: string) => boolean) => {
    const url = new URL(dir, REPO);
    for (const f of readdirSync(url).filter(filter).sort()) out.push({ name: dir + f, bytes: readFileSync(new URL(f, url)) });
  };
  add('test/fixtures/conformance/rfc4475/', (f) => f.endsWith('.sip'));
  add('test/fixtures/conformance/rfc4475/variants/', (f) => f.endsWith('.sip'));
  add('test/fixtures/conformance/rfc5118/', (f) => f.endsWith('.sip'));
  add('test/fixtures/conformance/rfc5118/archive/', () => true);
  add('test/fixtures/seed/', (f) => f.endsWith('.sip'));
  add('test/fixtures/bench/', (f) => f.endsWith('.sip'));
  return out;
}
const CORPUS = corpusFiles();

test('the fuzz corpus holds the 62 conformance files, the 12 archive copies and the seed fixtures', () => {
  assert.equal(CORPUS.filter((c) => c.name.includes('conformance/') && !c.name.includes('archive/')).length, 62);
  assert.equal(CORPUS.filter((c) => c.name.includes('archive/')).length, 12);
  assert.ok(CORPUS.filter((c) => c.name.includes('seed/')).length >= 3);
});

/** Fails unless `e` is a SipParseError with an error status. */
function onlyParseErrors(e: unknown, what: string): void {
  if (e instanceof SipParseError && e.status >= 400 && e.status <= 599 && Number.isInteger(e.offset)) return;
  throw new assert.AssertionError({ message: `${what} threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}` });
}

const MANDATORY: Record<string, string> = { from: 'from', to: 'to', callId: 'call-id', cseq: 'cseq' };

/**
 * Reads everything a caller could read. For a strictly parsed message nothing may throw except a
 * mandatory header that is absent (strict mode parsed every known header already).
 */
function exercise(m: SipRequest | SipResponse, strict: boolean, what: string): void {
  const guard = (label: string, fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      onlyParseErrors(e, `${what}: ${label}`);
      if (strict) {
        const key = MANDATORY[label];
        assert.ok(key !== undefined && !m.has(key), `${what}: strictly parsed, yet ${label} threw ${(e as Error).message}`);
      }
    }
  };
  for (const a of ACCESSORS) guard(a, () => (m as unknown as Record<string, unknown>)[a]);
  for (const f of [...m.headers]) {
    guard(`getParsed(${f.key})`, () => m.getParsed(f.key));
    guard(`get(${f.name})`, () => m.get(f.name));
  }
  guard('toBuffer', () => m.toBuffer());
  if (m instanceof SipRequest) {
    guard('uri', () => m.uri);
    // validateRequest never throws, whatever the message.
    const v = validateRequest(m, { role: 'proxy' });
    assert.ok(v.ok || (v.status >= 400 && v.status <= 599), `${what}: validateRequest status`);
    validateRequest(m);
    try {
      const res = createResponse(m, 200);
      parseMessage(res.toBuffer(), { lazy: true });
    } catch (e) {
      onlyParseErrors(e, `${what}: createResponse`);
    }
  }
}

/** Parses strictly and lazily and reads everything; returns ms taken. */
function parseAndExercise(bytes: Buffer, what: string): number {
  const t0 = performance.now();
  let strictOk: SipRequest | SipResponse | undefined;
  try {
    strictOk = parseMessage(bytes);
  } catch (e) {
    onlyParseErrors(e, `${what}: strict parse`);
  }
  if (strictOk) {
    exercise(strictOk, true, `${what} (strict)`);
    // What strict mode accepts reserializes to bytes that parse again to the same bytes.
    const again = parseMessage(strictOk.toBuffer());
    assert.ok(again.toBuffer().equals(strictOk.toBuffer()), `${what}: reserialization is stable`);
  }
  let lazy: SipRequest | SipResponse | undefined;
  try {
    lazy = parseMessage(bytes, { lazy: true });
  } catch (e) {
    onlyParseErrors(e, `${what}: lazy parse`);
    assert.equal(strictOk, undefined, `${what}: lazy rejected what strict accepted`);
  }
  if (lazy) exercise(lazy, false, `${what} (lazy)`);
  return performance.now() - t0;
}

/** Fails when a case is slow: the minimum of three timed runs must stay under SLOW_MS. */
function assertFast(bytes: Buffer, first: number, what: string): void {
  if (first < SLOW_MS) return;
  const again = Math.min(first, parseAndExercise(bytes, what), parseAndExercise(bytes, what));
  assert.ok(again < SLOW_MS, `${what}: ${again.toFixed(1)} ms for ${bytes.length} bytes`);
}

const interestingByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(13, 10, 0, 32, 9, 58, 59, 44, 34, 60, 62, 37, 92, 64, 91, 93, 61, 47, 63, 40, 41) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const mutation = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('set' as const), at: fc.nat(), byte: interestingByte }),
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(interestingByte, { minLength: 1, maxLength: 4 }) }),
  fc.record({ k: fc.constant('crlf' as const), at: fc.nat(), seq: fc.constantFrom('\r\n', '\r', '\n', '\r\n ', '\r\n\r\n', '\0', '\r\n\t') }),
  fc.record({ k: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ k: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 80 }), to: fc.nat(), times: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ k: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Buffer, ops: readonly Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const op of ops) {
    const n = b.length;
    const at = n === 0 ? 0 : op.at % (n + 1);
    switch (op.k) {
      case 'flip':
        if (n > 0) b[at % n] = b[at % n]! ^ (1 << op.bit);
        break;
      case 'set':
        if (n > 0) b[at % n] = op.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(op.bytes), b.subarray(at)]);
        break;
      case 'crlf':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(op.seq, 'latin1'), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + op.len)]);
        break;
      case 'dup': {
        const chunk = b.subarray(at, at + op.len);
        const to = n === 0 ? 0 : op.to % (n + 1);
        b = Buffer.concat([b.subarray(0, to), ...Array<Buffer>(op.times).fill(chunk), b.subarray(to)]);
        break;
      }
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

test(`mutation fuzzer: corpus messages with random byte mutations only ever throw SipParseError 400-599, strict and lazy, fast (seed ${SEED})`, { timeout: 600_000 }, (t) => {
  let strictAccepted = 0;
  let lazyAccepted = 0;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: CORPUS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ops) => {
      const src = CORPUS[i]!;
      const bytes = mutate(src.bytes, ops);
      const what = `${src.name} mutated by ${JSON.stringify(ops)}`;
      const ms = parseAndExercise(bytes, what);
      assertFast(bytes, ms, what);
      try {
        parseMessage(bytes);
        strictAccepted++;
      } catch { /* counted above */ }
      try {
        parseMessage(bytes, { lazy: true });
        lazyAccepted++;
      } catch { /* counted above */ }
    }),
    params(RUNS_MUTATION),
  );
  t.diagnostic(`seed ${SEED}: ${RUNS_MUTATION} mutants, ${strictAccepted} accepted strictly, ${lazyAccepted} lazily`);
  // The fuzzer reaches past framing: a useful share of mutants still parse.
  assert.ok(lazyAccepted > RUNS_MUTATION / 10, `only ${lazyAccepted} mutants parsed lazily`);
  assert.ok(strictAccepted > RUNS_MUTATION / 40, `only ${strictAccepted} mutants parsed strictly`);
});

test('pathological inputs (64 KiB of separators, escapes, nesting, folding, list values) parse or fail fast', () => {
  const limits = { maxLineLength: 65535, maxMessageSize: 200_000, maxHeaders: 2000 };
  const head = 'INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\nTo: <sip:b@b.example.com>\r\nFrom: <sip:a@a.example.com>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n';
  const N = 60_000;
  const cases: Array<[string, string]> = [
    ['Via params', `Via: SIP/2.0/UDP h${';a'.repeat(N / 2)}`],
    ['Via values', `Via: ${'SIP/2.0/UDP h,'.repeat(N / 14)}SIP/2.0/UDP h`],
    ['Contact list', `Contact: ${'<sip:a@b>,'.repeat(N / 10)}<sip:a@b>`],
    ['empty list elements', `Route: ${','.repeat(N)}`],
    ['quoted-pairs', `Subject: x\r\nTo: "${'\\"'.repeat(N / 2)}`],
    ['nested comments', `Retry-After: 1 ${'('.repeat(N)}`],
    ['closed nested comments', `Retry-After: 1 ${'('.repeat(N / 2)}${')'.repeat(N / 2)}`],
    ['folding', `Subject: ${'a\r\n '.repeat(N / 4)}`],
    ['escapes in a URI', `Contact: <sip:${'%41'.repeat(N / 3)}@h>`],
    ['IPv6 colons', `Contact: <sip:a@[${':'.repeat(N)}]>`],
    ['auth params', `Authorization: Digest ${'a=b,'.repeat(N / 4)}c=d`],
    ['angle brackets', `Contact: ${'<'.repeat(N)}`],
    ['many headers', Array.from({ length: 1900 }, (_, i) => `Via: SIP/2.0/UDP h${i};branch=z9hG4bK${i}`).join('\r\n')],
    ['many list lines', Array.from({ length: 1900 }, () => 'Route: <sip:a;lr>,<sip:b;lr>,<sip:c;lr>').join('\r\n')],
  ];
  for (const [what, headers] of cases) {
    const bytes = Buffer.from(`${head}${headers}\r\nContent-Length: 0\r\n\r\n`, 'latin1');
    const run = () => {
      const t0 = performance.now();
      for (const lazy of [false, true]) {
        try {
          const m = parseMessage(bytes, { lazy, limits });
          snapshotSafe(m);
        } catch (e) {
          onlyParseErrors(e, what);
        }
      }
      return performance.now() - t0;
    };
    const ms = Math.min(run(), run(), run());
    assert.ok(ms < 250, `${what}: ${ms.toFixed(1)} ms`);
  }
});

function snapshotSafe(m: SipRequest | SipResponse): void {
  for (const a of ACCESSORS) {
    try {
      void (m as unknown as Record<string, unknown>)[a];
    } catch (e) {
      onlyParseErrors(e, a);
    }
  }
  for (const f of m.headers) {
    try {
      m.getParsed(f.key);
    } catch (e) {
      onlyParseErrors(e, f.key);
    }
  }
}

// =============================================================================================
// 4: random bytes, parser and stream framer

const START_LINES = ['INVITE sip:a@b.example.com SIP/2.0\r\n', 'SIP/2.0 200 OK\r\n', 'REGISTER sips:[2001:db8::1]:5061 SIP/2.0\r\n', ''];

test(`random bytes into parseMessage (bare, and after a valid start line) only throw SipParseError (seed ${SEED})`, { timeout: 300_000 }, () => {
  fc.assert(
    fc.property(fc.constantFrom(...START_LINES), fc.uint8Array({ maxLength: 600 }), fc.boolean(), (start, random, terminate) => {
      const bytes = Buffer.concat([Buffer.from(start, 'latin1'), random, Buffer.from(terminate ? '\r\n\r\n' : '')]);
      const ms = parseAndExercise(bytes, `random ${bytes.toString('hex')}`);
      assertFast(bytes, ms, 'random bytes');
    }),
    params(RUNS_RANDOM),
  );
});

/** Pushes `chunks` into a fresh framer; returns the messages framed, or stops at the first SipParseError. */
function frame(chunks: readonly Uint8Array[], limits?: { maxMessageSize?: number }): { messages: Buffer[]; error?: SipParseError; scanned: number; pushed: number } {
  const messages: Buffer[] = [];
  const framer = new StreamFramer({ onMessage: (b) => messages.push(Buffer.from(b)) }, limits);
  let pushed = 0;
  for (const c of chunks) {
    try {
      framer.push(c);
      pushed += c.length;
    } catch (e) {
      onlyParseErrors(e, 'StreamFramer.push');
      // A failed framer keeps failing with the same error (the connection must be closed).
      assert.throws(() => framer.push(new Uint8Array([13, 10])), (e2: unknown) => e2 === e);
      return { messages, error: e as SipParseError, scanned: framer.scannedBytes, pushed: pushed + c.length };
    }
  }
  return { messages, scanned: framer.scannedBytes, pushed };
}

/** Cuts `b` at the given points (taken modulo its length). */
function chunked(b: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (b.length === 0 ? 0 : c % b.length)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(b.subarray(prev, p));
    prev = p;
  }
  out.push(b.subarray(prev));
  return out;
}

test(`random bytes into StreamFramer in random chunks: only SipParseError, each byte scanned at most once, framed messages parse or throw SipParseError (seed ${SEED})`, { timeout: 300_000 }, () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...CORPUS.map((c) => new Uint8Array(c.bytes)))), { maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (parts, cuts) => {
        const stream = Buffer.concat(parts);
        const r = frame(chunked(stream, cuts));
        assert.ok(r.scanned <= r.pushed, `scanned ${r.scanned} of ${r.pushed} bytes pushed`);
        for (const m of r.messages) parseAndExercise(m, 'framed message');
      },
    ),
    params(RUNS_RANDOM),
  );
});

test(`mutated corpus streams into StreamFramer: only SipParseError, linear scanning (seed ${SEED})`, { timeout: 300_000 }, () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: CORPUS.length - 1 }), { minLength: 1, maxLength: 3 }),
      fc.array(mutation, { maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (idx, ops, cuts) => {
        const stream = mutate(Buffer.concat(idx.map((i) => CORPUS[i]!.bytes)), ops);
        const r = frame(chunked(stream, cuts));
        assert.ok(r.scanned <= r.pushed);
        for (const m of r.messages) parseAndExercise(m, 'framed mutant');
      },
    ),
    params(RUNS_RANDOM),
  );
});

test(`StreamFramer: valid messages back to back, cut anywhere, come out whole and parse to the same bytes (seed ${SEED})`, { timeout: 300_000 }, () => {
  // Messages with a correct Content-Length: the seed fixtures and RFC 4475 valid messages that have one.
  const names = ['wsinv', 'esc01', 'escnull', 'esc02', 'lwsdisp', 'longreq', 'semiuri', 'transports', 'mpart01', 'unreason', 'noreason', 'ipv6-good', 'mult-ip-in-header', 'ipv6-in-sdp'];
  const pool = CORPUS.filter((c) => c.name.includes('seed/') || names.some((n) => c.name.endsWith(`/${n}.sip`)));
  assert.equal(pool.length, names.length + CORPUS.filter((c) => c.name.includes('seed/')).length);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), (idx, cuts, keepalive) => {
      const msgs = idx.map((i) => pool[i]!.bytes);
      const sep = Buffer.from(keepalive ? '\r\n\r\n' : '');
      const stream = Buffer.concat(msgs.flatMap((m) => [m, sep]));
      const r = frame(chunked(stream, cuts));
      assert.equal(r.error, undefined, r.error?.message);
      assert.equal(r.messages.length, msgs.length);
      r.messages.forEach((m, k) => {
        assert.ok(m.equals(msgs[k]!), `message ${k}`);
        assert.ok(parseMessage(m).toBuffer().equals(msgs[k]!));
      });
      assert.ok(r.scanned <= r.pushed);
    }),
    params(300),
  );
});

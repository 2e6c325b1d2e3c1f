/**
 * HTTP Digest for SIP: RFC 7616 (algorithms, qop, -sess, userhash), RFC 8760 (SHA-256 and
 * SHA-512/256 in SIP, and which challenge a UAC answers), RFC 3261 §22.4 (Digest in SIP: the
 * digest-uri is the Request-URI, and an absent qop keeps the RFC 2069 response for old servers).
 *
 * Pure computation over AuthValue (the parsed WWW-Authenticate / Authorization values of
 * src/message): no I/O, no state except in NonceIssuer, whose nonces carry their own timestamp and
 * HMAC so a server can check and expire them without remembering them.
 */
import { createHash, createHmac, getHashes, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { AuthValue } from '../message/types.js';

/** The algorithms of RFC 7616 §3.3 / RFC 8760 §2 (SHA-512-256 only where node has sha512-256). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

export type DigestQop = 'auth' | 'auth-int';

const NODE_HASH: Record<string, string> = { 'md5': 'md5', 'sha-256': 'sha256', 'sha-512-256': 'sha512-256' };
const CANONICAL: Record<string, DigestAlgorithm> = {
  'md5': 'MD5', 'md5-sess': 'MD5-sess', 'sha-256': 'SHA-256', 'sha-256-sess': 'SHA-256-sess',
  'sha-512-256': 'SHA-512-256', 'sha-512-256-sess': 'SHA-512-256-sess',
};
const HAVE_SHA512_256 = getHashes().includes('sha512-256');

/** The algorithms this build supports, strongest first. */
export const SUPPORTED_ALGORITHMS: readonly DigestAlgorithm[] = [
  ...(HAVE_SHA512_256 ? ['SHA-512-256', 'SHA-512-256-sess'] as const : []),
  'SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess',
];

/**
 * The algorithm named by a challenge's or credentials' `algorithm` param (case-insensitive, RFC
 * 7616 §3.3); absent means MD5 (RFC 7616 §3.3, RFC 3261 §25.1). Undefined when unsupported.
 */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const alg = CANONICAL[value.toLowerCase()];
  if (alg === undefined) return undefined;
  return alg.startsWith('SHA-512-256') && !HAVE_SHA512_256 ? undefined : alg;
}

function isSess(alg: DigestAlgorithm): boolean {
  return alg.endsWith('-sess');
}

function nodeHash(alg: DigestAlgorithm): string {
  return NODE_HASH[(isSess(alg) ? alg.slice(0, -5) : alg).toLowerCase()]!;
}

/** H(data) in lower-case hex for `alg`'s hash (strings are hashed as UTF-8, RFC 7616 §4). */
export function digestHash(alg: DigestAlgorithm, data: string | Uint8Array): string {
  return createHash(nodeHash(alg)).update(data).digest('hex');
}

/** nc: the nonce count as 8 hex digits (RFC 7616 §3.4). */
export function formatNonceCount(nc: number): string {
  if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) throw new RangeError(`nonce count out of range: ${nc}`);
  return nc.toString(16).padStart(8, '0');
}

/** A client nonce: 128 random bits, hex (RFC 7616 §3.4 asks for at least 64). */
export function newCnonce(): string {
  return randomBytes(16).toString('hex');
}

/** H(username ":" realm ":" password), the HA1 a server may store instead of the password. */
export function computeHa1Base(alg: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(alg, `${username}:${realm}:${password}`);
}

export interface ResponseInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  /** The password, or the stored H(username:realm:password) (`ha1`). */
  password?: string;
  ha1?: string;
  nonce: string;
  cnonce?: string;
  /** Nonce count, as a number (formatted with formatNonceCount). */
  nc?: number;
  /** Absent: the RFC 2069 response H(HA1:nonce:HA2) that RFC 3261 §22.4 keeps for compatibility. */
  qop?: DigestQop;
  method: string;
  uri: string;
  /** The entity body, for qop=auth-int (empty when absent). */
  body?: Uint8Array | string;
}

/** HA1 of RFC 7616 §3.4.2, with the -sess step when the algorithm asks for it. */
export function computeHa1(input: ResponseInput): string {
  const { algorithm: alg } = input;
  let ha1: string;
  if (input.ha1 !== undefined) ha1 = input.ha1.toLowerCase();
  else if (input.password !== undefined) ha1 = computeHa1Base(alg, input.username, input.realm, input.password);
  else throw new TypeError('digest: a password or ha1 is needed');
  if (isSess(alg)) {
    if (input.cnonce === undefined) throw new TypeError(`digest: ${alg} needs a cnonce`);
    ha1 = digestHash(alg, `${ha1}:${input.nonce}:${input.cnonce}`);
  }
  return ha1;
}

/** HA2 of RFC 7616 §3.4.3: H(method:uri), or H(method:uri:H(body)) for auth-int. */
export function computeHa2(input: Pick<ResponseInput, 'algorithm' | 'qop' | 'method' | 'uri' | 'body'>): string {
  const alg = input.algorithm;
  if (input.qop === 'auth-int') return digestHash(alg, `${input.method}:${input.uri}:${digestHash(alg, input.body ?? '')}`);
  return digestHash(alg, `${input.method}:${input.uri}`);
}

/** The `response` value (RFC 7616 §3.4.1; RFC 2617 §3.2.2.1 without qop). */
export function computeResponse(input: ResponseInput): string {
  const ha1 = computeHa1(input);
  const ha2 = computeHa2(input);
  if (input.qop === undefined) return digestHash(input.algorithm, `${ha1}:${input.nonce}:${ha2}`);
  if (input.cnonce === undefined || input.nc === undefined) throw new TypeError('digest: qop needs cnonce and nc');
  return digestHash(input.algorithm, `${ha1}:${input.nonce}:${formatNonceCount(input.nc)}:${input.cnonce}:${input.qop}:${ha2}`);
}

/** The qop options a challenge offers (its quoted, comma-separated `qop`), lower-cased. */
export function offeredQops(challenge: AuthValue): string[] {
  const q = challenge.params.qop;
  if (q === undefined) return [];
  return q.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
}

function isDigest(v: AuthValue): boolean {
  return v.scheme.toLowerCase() === 'digest' && v.token === undefined;
}

/** Whether this build can answer `challenge`: Digest, a supported algorithm, a realm and nonce, a qop we know if any. */
export function isSupportedChallenge(challenge: AuthValue): boolean {
  if (!isDigest(challenge)) return false;
  const p = challenge.params;
  if (p.realm === undefined || p.nonce === undefined || parseAlgorithm(p.algorithm) === undefined) return false;
  const qops = offeredQops(challenge);
  return qops.length === 0 || qops.includes('auth') || qops.includes('auth-int');
}

/**
 * The challenge to answer among several (RFC 8760 §2.4; RFC 7616 §3.7): only supported Digest
 * challenges, of `realm` when given; a SHA-2 one before any MD5 one, and otherwise the first (the
 * server's order is its preference).
 */
export function chooseChallenge(challenges: readonly AuthValue[], realm?: string): AuthValue | undefined {
  const usable = challenges.filter((c) => isSupportedChallenge(c) && (realm === undefined || c.params.realm === realm));
  return usable.find((c) => !parseAlgorithm(c.params.algorithm)!.startsWith('MD5')) ?? usable[0];
}

export interface CredentialsInput {
  method: string;
  /** digest-uri: the Request-URI as sent (RFC 3261 §22.4). */
  uri: string;
  username: string;
  password?: string;
  /** H(username:realm:password) for the challenge's algorithm, instead of the password. */
  ha1?: string;
  /** For qop=auth-int. */
  body?: Uint8Array | string;
  /** Nonce count for this nonce (1 for its first use). */
  nc: number;
  /** Default: newCnonce(). */
  cnonce?: string;
  /** Which qop to use when the challenge offers both; default auth (auth-int when only it is offered). */
  qop?: DigestQop;
}

/**
 * The Authorization / Proxy-Authorization value answering `challenge` (RFC 7616 §3.4, RFC 3261
 * §22.2/§22.3): username (hashed when the challenge says userhash=true), realm, nonce, uri,
 * response, algorithm (echoed as the challenge wrote it), and with qop: cnonce, qop, nc; opaque
 * echoed unchanged.
 */
export function computeCredentials(challenge: AuthValue, input: CredentialsInput): AuthValue {
  if (!isSupportedChallenge(challenge)) throw new TypeError(`digest: cannot answer this challenge (${challenge.scheme} ${challenge.params.algorithm ?? ''})`);
  const c = challenge.params;
  const algorithm = parseAlgorithm(c.algorithm)!;
  const realm = c.realm!;
  const nonce = c.nonce!;
  const qops = offeredQops(challenge);
  let qop: DigestQop | undefined;
  if (qops.length > 0) {
    const want = input.qop ?? 'auth';
    qop = qops.includes(want) ? want : qops.includes('auth') ? 'auth' : 'auth-int';
  }
  const cnonce = qop !== undefined || algorithm.endsWith('-sess') ? (input.cnonce ?? newCnonce()) : undefined;
  const response = computeResponse({
    algorithm, username: input.username, realm, password: input.password, ha1: input.ha1, nonce, cnonce,
    nc: qop === undefined ? undefined : input.nc, qop, method: input.method, uri: input.uri, body: input.body,
  });
  const userhash = c.userhash?.toLowerCase() === 'true';
  const params = Object.create(null) as Record<string, string>;
  params.username = userhash ? digestHash(algorithm, `${input.username}:${realm}`) : input.username;
  params.realm = realm;
  params.nonce = nonce;
  params.uri = input.uri;
  params.response = response;
  if (c.algorithm !== undefined) params.algorithm = c.algorithm;
  if (cnonce !== undefined) params.cnonce = cnonce;
  if (c.opaque !== undefined) params.opaque = c.opaque;
  if (qop !== undefined) {
    params.qop = qop;
    params.nc = formatNonceCount(input.nc);
  }
  if (userhash) params.userhash = 'true';
  return { scheme: 'Digest', params };
}

// ---------------------------------------------------------------------------------------------
// Server side

export interface ChallengeInput {
  realm: string;
  /** Default SHA-256. */
  algorithm?: DigestAlgorithm;
  nonce: string;
  opaque?: string;
  /** RFC 7616 §3.3: the credentials were right but the nonce had expired. */
  stale?: boolean;
  /** Default ['auth']; [] for a challenge without qop (RFC 2069 clients). */
  qop?: readonly DigestQop[];
  domain?: string;
}

/** A WWW-Authenticate / Proxy-Authenticate value (RFC 7616 §3.3). Format it with formatAuth(v, 'challenge'). */
export function createChallenge(input: ChallengeInput): AuthValue {
  const params = Object.create(null) as Record<string, string>;
  params.realm = input.realm;
  if (input.domain !== undefined) params.domain = input.domain;
  const qop = input.qop ?? ['auth'];
  if (qop.length > 0) params.qop = qop.join(',');
  params.nonce = input.nonce;
  if (input.opaque !== undefined) params.opaque = input.opaque;
  if (input.stale === true) params.stale = 'true';
  params.algorithm = input.algorithm ?? 'SHA-256';
  return { scheme: 'Digest', params };
}

export type NonceCheck = 'valid' | 'expired' | 'invalid';

export interface NonceIssuerOptions {
  /** HMAC key; default 32 random bytes (nonces then die with the process). */
  secret?: Uint8Array;
  /** Default RealClock-like time source; only `now()` is used. */
  clock: Pick<Clock, 'now'>;
  /** How long a nonce stays valid, ms. Default 300 000 (5 minutes). */
  lifetimeMs?: number;
}

const NONCE_MAC_BYTES = 16;

/**
 * Stateless nonces (RFC 7616 §3.3 suggests time-stamp plus a private hash): base64url of
 * `time (8 bytes, big-endian ms of the clock) || HMAC-SHA-256(secret, time || bind)[0..16]`.
 * `bind` (a realm, a client address...) ties a nonce to what it was issued for.
 * No replay tracking: a nonce may be used as often as its lifetime allows.
 */
export class NonceIssuer {
  private readonly secret: Uint8Array;
  private readonly clock: Pick<Clock, 'now'>;
  readonly lifetimeMs: number;

  constructor(options: NonceIssuerOptions) {
    this.secret = options.secret ?? randomBytes(32);
    this.clock = options.clock;
    this.lifetimeMs = options.lifetimeMs ?? 300_000;
  }

  issue(bind = ''): string {
    const time = Buffer.alloc(8);
    time.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.clock.now()))));
    return Buffer.concat([time, this.mac(time, bind)]).toString('base64url');
  }

  check(nonce: string, bind = ''): NonceCheck {
    if (!/^[A-Za-z0-9_-]+$/.test(nonce)) return 'invalid';
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 8 + NONCE_MAC_BYTES) return 'invalid';
    const time = raw.subarray(0, 8);
    if (!timingSafeEqual(raw.subarray(8), this.mac(time, bind))) return 'invalid';
    const age = Math.floor(this.clock.now()) - Number(time.readBigUInt64BE());
    return age < 0 || age > this.lifetimeMs ? 'expired' : 'valid';
  }

  private mac(time: Uint8Array, bind: string): Buffer {
    return createHmac('sha256', this.secret).update(time).update(bind).digest().subarray(0, NONCE_MAC_BYTES);
  }
}

export interface VerifyInput {
  /** The request's method and, when given, its Request-URI, which the digest-uri must equal. */
  method: string;
  uri?: string;
  /** The realm this server challenged for. */
  realm: string;
  /** The user's secret: the password, or H(username:realm:password) for the credentials' algorithm. */
  password?: string;
  ha1?: string;
  /** For a userhash=true credential: the username it stands for. */
  username?: string;
  body?: Uint8Array | string;
  /** Nonce checks (expiry, HMAC); without it any nonce is taken. */
  nonces?: NonceIssuer;
  nonceBind?: string;
  /** Algorithms accepted; default all supported. */
  algorithms?: readonly DigestAlgorithm[];
}

export type VerifyResult =
  | { ok: true; username: string; algorithm: DigestAlgorithm }
  /**
   * `stale`: the response was right for an expired nonce: challenge again with stale=true (RFC
   * 7616 §3.3). Otherwise the credentials are rejected: challenge again without stale.
   */
  | { ok: false; reason: 'malformed' | 'realm' | 'algorithm' | 'uri' | 'qop' | 'nonce' | 'response'; stale: false }
  | { ok: false; reason: 'stale'; stale: true };

/** Constant-time comparison of two hex (or any ASCII) strings. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/**
 * Checks Digest credentials (an Authorization / Proxy-Authorization value) the way RFC 7616 §3.4
 * has a server do: same realm, supported algorithm, digest-uri equal to the Request-URI, a nonce
 * this server issued (when `nonces` is given), then the response, compared in constant time.
 */
export function verifyCredentials(credentials: AuthValue, input: VerifyInput): VerifyResult {
  const fail = (reason: 'malformed' | 'realm' | 'algorithm' | 'uri' | 'qop' | 'nonce' | 'response'): VerifyResult => ({ ok: false, reason, stale: false });
  if (!isDigest(credentials)) return fail('malformed');
  const p = credentials.params;
  const { username, realm, nonce, uri, response } = p;
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return fail('malformed');
  if (realm !== input.realm) return fail('realm');
  const algorithm = parseAlgorithm(p.algorithm);
  if (algorithm === undefined || !(input.algorithms ?? SUPPORTED_ALGORITHMS).includes(algorithm)) return fail('algorithm');
  if (input.uri !== undefined && uri !== input.uri) return fail('uri');
  let qop: DigestQop | undefined;
  let nc: number | undefined;
  if (p.qop !== undefined) {
    const q = p.qop.toLowerCase();
    if (q !== 'auth' && q !== 'auth-int') return fail('qop');
    qop = q;
    if (p.cnonce === undefined || p.nc === undefined || !/^[0-9a-fA-F]{8}$/.test(p.nc)) return fail('malformed');
    nc = parseInt(p.nc, 16);
    if (nc === 0) return fail('malformed');
  } else if (p.cnonce !== undefined || p.nc !== undefined) {
    return fail('malformed');
  }
  if (algorithm.endsWith('-sess') && p.cnonce === undefined) return fail('malformed');
  const nonceState = input.nonces?.check(nonce, input.nonceBind) ?? 'valid';
  if (nonceState === 'invalid') return fail('nonce');
  const userhash = p.userhash?.toLowerCase() === 'true';
  const name = userhash ? input.username : username;
  if (name === undefined) return fail('malformed');
  if (userhash && !sameText(digestHash(algorithm, `${name}:${realm}`), username.toLowerCase())) return fail('response');
  let expected: string;
  try {
    expected = computeResponse({
      algorithm, username: name, realm, password: input.password, ha1: input.ha1, nonce, cnonce: p.cnonce, nc, qop,
      method: input.method, uri, body: input.body,
    });
  } catch {
    return fail('malformed');
  }
  if (!sameText(expected, response.toLowerCase())) return fail('response');
  if (nonceState === 'expired') return { ok: false, reason: 'stale', stale: true };
  return { ok: true, username: name, algorithm };
}

/**
 * The server side of Digest for a registrar or proxy (RFC 3261 §22.2, §22.3; RFC 7616 §3.3-3.5;
 * RFC 8760): challenges with one header per algorithm (SHA-256 before MD5, RFC 8760 §2.4),
 * checks credentials against a UserStore of HA1 hashes, and refuses replayed nonce counts.
 *
 * qop=auth (or auth-int) is required: without a nonce count a response could be replayed for the
 * nonce's whole lifetime, so RFC 2069-style credentials (no qop) are challenged again.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { SipRequest } from '../message/message.js';
import { formatAuth } from '../message/headers/auth.js';
import type { AuthValue } from '../message/types.js';
import { createChallenge, digestHash, NonceIssuer, parseAlgorithm, verifyCredentials, type DigestAlgorithm } from './digest.js';
import type { UserRecord, UserStore } from './user-store.js';

export interface DigestAuthenticatorOptions {
  users: UserStore;
  realm: string;
  clock: Clock;
  /** How long a nonce is accepted, ms. Default 300 000. */
  nonceLifetimeMs?: number;
  /** Algorithms offered and accepted. Default ['SHA-256', 'MD5']; offered SHA-2 first whatever the order. */
  algorithms?: DigestAlgorithm[];
  /** Nonces whose highest nonce count is remembered; the oldest are dropped beyond it. Default 100 000. */
  maxTrackedNonces?: number;
  /** HMAC key of the nonces; nodes sharing users give the same key so a nonce from one is good at another. */
  nonceSecret?: Uint8Array;
}

export type AuthOutcome =
  | { kind: 'ok'; username: string }
  /** Answer with `status` and these headers (WWW-Authenticate for 401, Proxy-Authenticate for 407). */
  | { kind: 'challenge'; status: 401 | 407; headers: Array<[string, string]>; reason: string }
  | { kind: 'forbidden'; status: 403; reason: string };

interface NonceUse {
  highest: number;
  forgetAt: number;
}

export class DigestAuthenticator {
  private readonly users: UserStore;
  readonly realm: string;
  private readonly clock: Clock;
  private readonly nonces: NonceIssuer;
  private readonly lifetimeMs: number;
  private readonly algorithms: DigestAlgorithm[];
  private readonly maxTracked: number;
  /** Highest nc per nonce, in insertion order (≈ expiry order: every entry lives lifetimeMs). */
  private readonly counts = new Map<string, NonceUse>();
  /** HA1 used for unknown users, so they cost the same work as known ones. */
  private readonly dummySecret = randomBytes(16).toString('hex');

  constructor(options: DigestAuthenticatorOptions) {
    this.users = options.users;
    this.realm = options.realm;
    this.clock = options.clock;
    this.lifetimeMs = options.nonceLifetimeMs ?? 300_000;
    this.nonces = new NonceIssuer({ clock: options.clock, lifetimeMs: this.lifetimeMs, secret: options.nonceSecret });
    const algs = options.algorithms ?? ['SHA-256', 'MD5'];
    if (algs.length === 0) throw new TypeError('DigestAuthenticator: at least one algorithm is needed');
    // RFC 8760 §2.4: the strongest first; a UAC takes the first it supports.
    this.algorithms = [...algs].sort((a, b) => Number(a.startsWith('MD5')) - Number(b.startsWith('MD5')));
    this.maxTracked = options.maxTrackedNonces ?? 100_000;
  }

  /** How many nonces have their nonce count remembered (bounded by maxTrackedNonces). */
  get trackedNonces(): number {
    return this.counts.size;
  }

  /**
   * Checks the request's Authorization ('www', answered by 401) or Proxy-Authorization ('proxy',
   * 407). Never throws on bad input: malformed credentials get 403 or a new challenge.
   */
  async check(request: SipRequest, kind: 'www' | 'proxy'): Promise<AuthOutcome> {
    let all: AuthValue[];
    try {
      all = kind === 'www' ? request.authorization : request.proxyAuthorization;
    } catch {
      return { kind: 'forbidden', status: 403, reason: 'Malformed credentials' };
    }
    const cred = all.find((c) => c.scheme.toLowerCase() === 'digest' && c.params.realm === this.realm);
    if (cred === undefined) return this.challenge(kind, false, all.length === 0 ? 'no credentials' : 'no credentials for this realm');
    const p = cred.params;
    if (p.username === undefined) return { kind: 'forbidden', status: 403, reason: 'Malformed credentials (no username)' };
    // qop is required (see the file comment).
    if (p.qop === undefined) return this.challenge(kind, false, 'credentials without qop (RFC 2069) refused');
    const algorithm = parseAlgorithm(p.algorithm);
    if (algorithm === undefined || !this.algorithms.includes(algorithm)) return this.challenge(kind, false, 'algorithm not offered');

    const user = await this.users.find(p.username, this.realm);
    const known = user !== undefined ? ha1For(user, algorithm) : undefined;
    // Unknown user, or no hash for this algorithm: the same computation with a throw-away HA1
    // (computed for known users too, so both paths do exactly the same work).
    const dummy = digestHash(algorithm, `${p.username}:${this.realm}:${this.dummySecret}`);
    const ha1 = known !== undefined && known !== '' ? known : dummy;
    const result = verifyCredentials(cred, {
      method: request.method, uri: request.uriText, realm: this.realm, ha1, body: request.body,
      nonces: this.nonces, nonceBind: this.realm, algorithms: this.algorithms,
    });
    if (!result.ok) {
      if (result.reason === 'stale' && known) return this.challenge(kind, true, 'nonce expired');
      if (result.reason === 'uri' || result.reason === 'malformed') return { kind: 'forbidden', status: 403, reason: `Malformed credentials (${result.reason})` };
      // One reason phrase for a wrong password and an unknown user: the answer must not tell them apart.
      return this.challenge(kind, false, 'credentials rejected');
    }
    if (!known) return this.challenge(kind, false, 'credentials rejected');
    // RFC 7616 §3.4: a nonce count not above the last one seen for this nonce is a replay.
    const nc = parseInt(p.nc!, 16);
    if (!this.advance(p.nonce!, nc)) return this.challenge(kind, false, 'nonce count replayed');
    return { kind: 'ok', username: result.username };
  }

  /** A challenge for a request that carried no usable credentials. */
  challenge(kind: 'www' | 'proxy', stale = false, reason = 'authentication required'): AuthOutcome & { kind: 'challenge' } {
    const nonce = this.nonces.issue(this.realm);
    const name = kind === 'www' ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const headers = this.algorithms.map((algorithm): [string, string] =>
      [name, formatAuth(createChallenge({ realm: this.realm, algorithm, nonce, stale, qop: ['auth'] }), 'challenge')]);
    return { kind: 'challenge', status: kind === 'www' ? 401 : 407, headers, reason };
  }

  private advance(nonce: string, nc: number): boolean {
    const now = this.clock.now();
    // Drop entries whose nonce can no longer be valid, oldest first.
    for (const [k, v] of this.counts) {
      if (v.forgetAt > now) break;
      this.counts.delete(k);
    }
    const seen = this.counts.get(nonce);
    if (seen !== undefined) {
      if (nc <= seen.highest) return false;
      seen.highest = nc;
      return true;
    }
    while (this.counts.size >= this.maxTracked) {
      const oldest = this.counts.keys().next().value as string;
      this.counts.delete(oldest);
    }
    // A nonce is valid at most lifetimeMs after it was issued, which is before its first use.
    this.counts.set(nonce, { highest: nc, forgetAt: now + this.lifetimeMs + 1 });
    return true;
  }
}

function ha1For(user: UserRecord, alg: DigestAlgorithm): string | undefined {
  if (alg.startsWith('MD5')) return user.ha1Md5;
  if (alg.startsWith('SHA-256')) return user.ha1Sha256;
  return user.ha1Sha512_256;
}

/**
 * The UAC side of Digest (RFC 3261 §22.2, §22.3; RFC 7616 §3.4, §3.6): answering 401 and 407
 * challenges, and reusing a realm's nonce for later requests with the nonce count incremented.
 *
 * The client builds header values only. Whoever owns the request (the UA: CSeq, Via, Call-ID)
 * builds the retried request, with CSeq+1 (§22.2), and adds the header returned here.
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { formatAuth } from '../message/headers/auth.js';
import type { AuthValue } from '../message/types.js';
import { chooseChallenge, computeCredentials, newCnonce, type DigestQop } from './digest.js';

export interface DigestCredentials {
  username: string;
  /** The password, or `ha1` = H(username:realm:password) for the algorithm the server will use. */
  password?: string;
  ha1?: string;
  /** Answer only challenges of this realm (RFC 3261 §22.1: credentials belong to a realm). */
  realm?: string;
}

export interface DigestClientOptions {
  /** Client nonces; default 128 random bits each. */
  cnonce?: () => string;
  /** qop when a challenge offers both auth and auth-int; default auth. */
  qop?: DigestQop;
}

/** A header to add to a request: Authorization (answering 401) or Proxy-Authorization (407). */
export interface AuthorizationHeader {
  name: 'Authorization' | 'Proxy-Authorization';
  value: string;
  /** The realm the credentials are for. */
  realm: string;
}

/** What is kept per realm: the challenge last answered, the nonce count used with its nonce. */
interface RealmState {
  challenge: AuthValue;
  proxy: boolean;
  nc: number;
  /** The nonce came from a stale=true challenge and no request with it has been answered otherwise yet. */
  afterStale: boolean;
}

const MAX_NC = 0xffffffff;

export class DigestClient {
  private readonly realms = new Map<string, RealmState>();
  private readonly cnonce: () => string;
  private readonly qop: DigestQop | undefined;

  constructor(private readonly credentials: DigestCredentials, options: DigestClientOptions = {}) {
    if (credentials.password === undefined && credentials.ha1 === undefined) throw new TypeError('DigestClient: a password or ha1 is needed');
    this.cnonce = options.cnonce ?? newCnonce;
    this.qop = options.qop;
  }

  /**
   * The header to add to the retry of `request`, which `response` (401 or 407) challenged; or
   * undefined to give up: no challenge we can answer (scheme, algorithm, realm), or the request
   * already carried our credentials for that realm and the server rejected them (a challenge
   * without stale=true, or stale again with the nonce we just had from a stale challenge, or the
   * same nonce again: the password is wrong).
   */
  respond(request: SipRequest, response: SipResponse): AuthorizationHeader | undefined {
    let proxy: boolean;
    if (response.status === 401) proxy = false;
    else if (response.status === 407) proxy = true;
    else return undefined;
    const challenge = chooseChallenge(proxy ? response.proxyAuthenticate : response.wwwAuthenticate, this.credentials.realm);
    if (challenge === undefined) return undefined;
    const realm = challenge.params.realm!;
    const key = keyOf(proxy, realm);
    const sent = (proxy ? request.proxyAuthorization : request.authorization)
      .find((c) => c.scheme.toLowerCase() === 'digest' && c.params.realm === realm && c.params.username !== undefined);
    const stale = challenge.params.stale?.toLowerCase() === 'true';
    if (sent !== undefined) {
      const prev = this.realms.get(key);
      const staleLoop = prev !== undefined && prev.afterStale && prev.challenge.params.nonce === sent.params.nonce;
      if (!stale || sent.params.nonce === challenge.params.nonce || staleLoop) {
        this.realms.delete(key);
        return undefined;
      }
    }
    const state: RealmState = { challenge, proxy, nc: 0, afterStale: sent !== undefined && stale };
    this.realms.set(key, state);
    return this.header(state, request);
  }

  /**
   * Headers for a new request (or a retry for another reason than a challenge), one per realm
   * answered before: the realm's nonce reused with the next nonce count (RFC 7616 §3.4). The
   * previous request with each nonce having been answered, a stale challenge after this one is
   * honoured again.
   */
  authorize(request: SipRequest, realm?: string): AuthorizationHeader[] {
    const out: AuthorizationHeader[] = [];
    for (const [key, state] of this.realms) {
      if (realm !== undefined && state.challenge.params.realm !== realm) continue;
      if (state.nc >= MAX_NC) {
        this.realms.delete(key);
        continue;
      }
      state.afterStale = false;
      out.push(this.header(state, request));
    }
    return out;
  }

  /** Drops what is kept for `realm` (or for every realm). */
  forget(realm?: string): void {
    if (realm === undefined) this.realms.clear();
    else for (const [key, state] of this.realms) if (state.challenge.params.realm === realm) this.realms.delete(key);
  }

  /** Realms with a nonce kept. */
  get knownRealms(): string[] {
    return [...new Set([...this.realms.values()].map((s) => s.challenge.params.realm!))];
  }

  private header(state: RealmState, request: SipRequest): AuthorizationHeader {
    state.nc++;
    const credentials = computeCredentials(state.challenge, {
      method: request.method,
      uri: request.uriText,
      username: this.credentials.username,
      password: this.credentials.password,
      ha1: this.credentials.ha1,
      body: request.body,
      nc: state.nc,
      cnonce: this.cnonce(),
      qop: this.qop,
    });
    return {
      name: state.proxy ? 'Proxy-Authorization' : 'Authorization',
      value: formatAuth(credentials, 'credentials'),
      realm: state.challenge.params.realm!,
    };
  }
}

function keyOf(proxy: boolean, realm: string): string {
  return (proxy ? 'proxy\n' : 'www\n') + realm;
}

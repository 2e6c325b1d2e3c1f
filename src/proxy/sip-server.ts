/**
 * SipServer: what `hookflash serve` runs. The transport layer, a transaction layer for a proxy
 * (merged requests are forwarded, not refused: RFC 3261 §16), and the proxy core, with the
 * registrar and Digest authentication at the places RFC 3261 puts them:
 * - REGISTER for one of our domains: 401 challenge when required (§22), then the registrar (§10.3);
 * - OPTIONS to the server itself: 200 with Allow (§11.2);
 * - anything else: proxied (§16), after a 407 challenge for initial requests from our users.
 */
import { RealClock, type Clock } from '../core/clock.js';
import { randomToken } from '../core/ids.js';
import { noopLogger, type Logger } from '../core/logger.js';
import { createResponse, isSipUri, SipRequest, type SipResponse, type SipUri } from '../message/index.js';
import type { LocationService } from '../registrar/binding.js';
import { TransactionLayer } from '../transaction/index.js';
import {
  isReliable, Rfc3263Resolver, SipTransportLayer,
  type BoundListener, type ListenerConfig, type Resolver, type Source, type TlsCredentials, type TransportLimits,
} from '../transport/index.js';
import { FlowTokens } from './flow-token.js';
import { LocalDomains } from './local-domains.js';
import type { RequestGuard } from './overload-guard.js';
import { ProxyCore } from './proxy-core.js';
import { listenerUri } from './record-route.js';
import type { RoutePlan } from './route-plan.js';
import type { ResponseContext } from './response-context.js';
import { ServerEmitter, type SipServerEvents } from './server-events.js';

/** The outcome of a Digest check (src/auth DigestAuthenticator.check). */
export type ServerAuthOutcome =
  | { kind: 'ok'; username: string }
  | { kind: 'challenge'; status: 401 | 407; headers: Array<[string, string]>; reason: string }
  | { kind: 'forbidden'; status: 403; reason: string };

/** What the server needs of a registrar (src/registrar Registrar). */
export interface ServerRegistrar {
  register(request: SipRequest, source: Source, context?: { authenticatedUser?: string }): Promise<SipResponse>;
}

/** What the server needs of an authenticator (src/auth DigestAuthenticator). */
export interface ServerAuthenticator {
  check(request: SipRequest, kind: 'www' | 'proxy'): Promise<ServerAuthOutcome>;
}

export interface ServerTlsOptions extends TlsCredentials {
  /** Labs only: outbound TLS without checking the peer's certificate. */
  insecure?: boolean;
}

export interface SipServerOptions {
  listeners: ListenerConfig[];
  /** RFC 3263 for next hops. Default: Rfc3263Resolver on the system DNS. */
  resolver?: Resolver;
  /** Drives every timer. Default RealClock. */
  clock?: Clock;
  /**
   * The clock the location service's expiry times are on: the registrar's (a WallClock when
   * bindings are stored, see src/core/clock.ts). Default `clock`.
   */
  bindingClock?: Clock;
  logger?: Logger;
  /** Outbound TLS: CAs and client certificate (default the first TLS listener's). */
  tls?: ServerTlsOptions;
  /** The domains we are responsible for (registrar and location service). */
  domains: string[];
  location: LocationService;
  registrar?: ServerRegistrar;
  authenticator?: ServerAuthenticator;
  /**
   * Which requests must authenticate. Default: REGISTER, and INVITE, MESSAGE, SUBSCRIBE and REFER
   * outside a dialog whose From is one of our domains.
   */
  authenticate?: (request: SipRequest) => boolean;
  /** This node's id (flows, several nodes on one store). Default random. */
  nodeId?: string;
  /** Key of the flow tokens in Path (nodes sharing bindings give the same). Default random. */
  flowTokenKey?: string;
  t1?: number;
  t2?: number;
  t4?: number;
  /** Timer C, ms (default 181 000: RFC 3261 §16.8, more than 3 minutes). */
  timerC?: number;
  limits?: Partial<TransportLimits>;
  /** Retry-After, seconds, of the 503 answered while draining (default 5). */
  drainRetryAfter?: number;
  /**
   * Rate limits, block list, sanity checks, transaction and call limits, authentication lockout
   * (src/proxy/overload-guard.ts): every request passes it before the transaction layer.
   */
  guard?: RequestGuard;
}

export interface SipServerStats {
  /** Live transactions, client and server. */
  transactions: number;
  /** Calls whose INVITE got a 2xx and whose BYE has not been answered yet. */
  activeCalls: number;
  /** Response contexts still waiting for branches. */
  contexts: number;
}

const CALL_MAX_AGE_MS = 12 * 3600 * 1000;
const AUTH_METHODS: ReadonlySet<string> = new Set(['INVITE', 'MESSAGE', 'SUBSCRIBE', 'REFER']);

export class SipServer extends ServerEmitter<SipServerEvents> {
  readonly transport: SipTransportLayer;
  readonly transactions: TransactionLayer;
  readonly nodeId: string;
  private readonly core: ProxyCore;
  private readonly domains: LocalDomains;
  private readonly tokens: FlowTokens;
  private readonly logger: Logger;
  private readonly registrar: ServerRegistrar | undefined;
  private readonly authenticator: ServerAuthenticator | undefined;
  private readonly needsAuth: (request: SipRequest) => boolean;
  private readonly retryAfter: number;
  private readonly guard: RequestGuard | undefined;
  /** Calls seen to start (Call-ID → start time on the clock), until their BYE is answered. */
  private readonly calls = new Map<string, number>();
  private readonly clock: Clock;
  private callsAdded = 0;
  private draining = false;
  private closing: Promise<void> | undefined;

  /** Opens every listener; rejects (with everything closed again) when one cannot be opened. */
  static async create(options: SipServerOptions): Promise<SipServer> {
    const server = new SipServer(options);
    try {
      await server.transport.start();
    } catch (e) {
      await server.close();
      throw e;
    }
    for (const l of server.transport.listeners) server.domains.addListener(l);
    return server;
  }

  private constructor(options: SipServerOptions) {
    super();
    const clock = options.clock ?? new RealClock();
    this.clock = clock;
    this.logger = options.logger ?? noopLogger;
    this.nodeId = options.nodeId ?? randomToken(6);
    this.registrar = options.registrar;
    this.authenticator = options.authenticator;
    this.retryAfter = options.drainRetryAfter ?? 5;
    this.guard = options.guard;
    this.domains = new LocalDomains(options.domains);
    this.tokens = new FlowTokens(options.flowTokenKey);
    this.needsAuth = options.authenticate ?? ((request) => this.defaultNeedsAuth(request));
    const resolver = options.resolver ?? new Rfc3263Resolver({ logger: this.logger });
    const { insecure, ...credentials } = options.tls ?? {};
    const listenerTls = options.listeners.find((l) => l.tls !== undefined)?.tls;
    this.transport = new SipTransportLayer({
      listeners: options.listeners,
      handler: { onMessage: this.guard === undefined ? (message, source) => this.transactions.onMessage(message, source) : (message, source) => this.guarded(message, source) },
      resolver,
      clock,
      logger: this.logger,
      limits: options.limits,
      tlsClient: options.tls === undefined ? undefined : { ...listenerTls, ...credentials },
      tlsInsecure: insecure === true,
      ...(this.guard === undefined ? {} : { admitDatagram: (source: Source) => this.guard!.admitDatagram(source) }),
    });
    this.core = new ProxyCore({
      transport: this.transport,
      resolver,
      domains: this.domains,
      location: options.location,
      tokens: this.tokens,
      nodeId: this.nodeId,
      clock,
      ...(options.bindingClock === undefined ? {} : { bindingClock: options.bindingClock }),
      logger: this.logger,
      t1: options.t1 ?? 500,
      timerC: options.timerC,
      delegate: {
        local: (request, ctx, uri) => this.local(request, ctx, uri),
        admit: (request, ctx, plan) => this.admit(request, ctx, plan),
      },
      observer: {
        request: (request, source) => this.observeRequest(request, source),
        response: (response, request) => this.observeResponse(response, request),
      },
    });
    this.transactions = new TransactionLayer({
      transport: this.transport,
      user: this.guard === undefined ? this.core : this.guard.wrap(this.core),
      clock,
      t1: options.t1,
      t2: options.t2,
      t4: options.t4,
      // RFC 3261 §16: a proxy forwards what a UA would call merged; loops are caught by §16.3 step 4.
      rejectMergedRequests: false,
    });
    this.core.attach(this.transactions);
  }

  /** The bound listeners (ports filled in where 0 was asked for). */
  get listeners(): readonly BoundListener[] {
    return this.transport.listeners;
  }

  get stats(): SipServerStats {
    return { transactions: this.transactions.size, activeCalls: this.calls.size, contexts: this.core.contexts };
  }

  /** Whether drain() was called. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * The Path value (RFC 3327, RFC 5626 §5.1) our registrar stores for a binding made over
   * `source`: a URI of ours with a flow token, so a request for that binding, from this node or
   * another, reaches this node and goes over that connection. Undefined for UDP, which needs no
   * connection of ours (the Contact is reached directly).
   */
  registrarPathFor(source: Source): string | undefined {
    if (!isReliable(source.protocol)) return undefined;
    const sentBy = this.transport.viaFor({ protocol: source.protocol, address: source.remoteAddress, port: source.remotePort });
    return listenerUri(sentBy, { user: this.tokens.encode(source, this.nodeId, 'path'), ob: true });
  }

  /**
   * Stops taking new work: new initial requests get 503 with Retry-After; requests inside dialogs
   * and running transactions go on. Resolves when no transaction is left.
   */
  drain(): Promise<void> {
    this.draining = true;
    return this.core.whenIdle();
  }

  /** Closes every transaction, timer and socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.core.close();
      this.transactions.close();
      await this.transport.close();
    })();
    return this.closing;
  }

  // ---- the server's own requests ----

  private local(request: SipRequest, ctx: ResponseContext, uri: SipUri): boolean {
    const method = request.method;
    if (method === 'REGISTER') {
      if (this.draining) {
        ctx.reply(503, { headers: [['Retry-After', String(this.retryAfter)]] });
        return true;
      }
      if (this.registrar === undefined) {
        ctx.reply(405, { headers: [['Allow', this.core.allow.filter((m) => m !== 'REGISTER').join(', ')]] });
        return true;
      }
      this.register(request, ctx, this.registrar).catch((err: unknown) => {
        this.logger.error({ err }, 'registrar failed');
        ctx.reply(500, { reason: 'Registrar failed' });
      });
      return true;
    }
    if (method === 'OPTIONS' && uri.user === undefined) {
      ctx.respond(this.core.optionsResponse(request));
      return true;
    }
    return false;
  }

  private async register(request: SipRequest, ctx: ResponseContext, registrar: ServerRegistrar): Promise<void> {
    let user: string | undefined;
    if (this.authenticator !== undefined && this.needsAuth(request)) {
      const outcome = await this.checkAuth(this.authenticator, request, 'www', ctx.server.source);
      if (outcome.kind !== 'ok') {
        this.refuse(ctx, outcome);
        return;
      }
      user = outcome.username;
    }
    const response = await registrar.register(request, ctx.server.source, user === undefined ? {} : { authenticatedUser: user });
    ctx.respond(response);
  }

  /** Draining, then a 407 for the initial requests of our users (RFC 3261 §22.3). */
  private admit(request: SipRequest, ctx: ResponseContext, plan: RoutePlan): boolean | Promise<boolean> {
    const initial = request.toTag === undefined;
    if (initial && this.draining && request.method !== 'ACK' && request.method !== 'CANCEL') {
      ctx.reply(503, { headers: [['Retry-After', String(this.retryAfter)]] });
      return false;
    }
    if (this.authenticator === undefined || !this.needsAuth(request)) return true;
    // Routed to a phone's flow by a Path of ours: the node that used the Path (this one, or another
    // sharing the store and the flow-token key) has authenticated the request already. The
    // credentials it checked name its own Request-URI, not the contact it retargeted to.
    if (plan.flow?.kind === 'path') return true;
    return this.checkAuth(this.authenticator, request, 'proxy', ctx.server.source).then((outcome) => {
      if (outcome.kind === 'ok') {
        // The identity proved must be the one the request claims (From's user).
        const from = request.from.uri;
        if (isSipUri(from) && from.user !== undefined && from.user !== outcome.username) {
          ctx.reply(403, { reason: 'From does not match the authenticated user' });
          return false;
        }
        return true;
      }
      this.refuse(ctx, outcome);
      return false;
    });
  }

  /**
   * Before the request reaches the transaction layer: the guard's verdict (src/proxy/overload-guard.ts).
   * Refused requests are answered statelessly (no transaction is spent on them) or dropped.
   */
  private guarded(message: SipRequest | SipResponse, source: Source): void {
    if (!(message instanceof SipRequest)) {
      this.transactions.onMessage(message, source);
      return;
    }
    const verdict = this.guard!.inspect(message, source, this.transactions.serverCount);
    if (verdict.kind === 'pass') {
      this.transactions.onMessage(message, source);
      return;
    }
    if (verdict.kind === 'drop' || message.method === 'ACK') return;
    const headers: Array<[string, string]> = verdict.retryAfter === undefined ? [] : [['Retry-After', String(verdict.retryAfter)]];
    let response: SipResponse;
    try {
      response = createResponse(message, verdict.status, { reason: verdict.phrase, headers });
    } catch {
      return;
    }
    this.transport.sendResponse(response, source).catch((err: unknown) => this.logger.debug({ err }, 'guard: response not sent'));
  }

  /**
   * A Digest check behind the guard's lockout: a locked-out user name or source address gets 403
   * before any credential is looked at; every failed check with credentials counts toward it.
   */
  private async checkAuth(authenticator: ServerAuthenticator, request: SipRequest, kind: 'www' | 'proxy', source: Source): Promise<ServerAuthOutcome> {
    const guard = this.guard;
    if (guard === undefined || guard.isTrusted(source.remoteAddress)) return authenticator.check(request, kind);
    const user = credentialUser(request, kind);
    const address = source.remoteAddress;
    if (guard.lockout.check(user, address).locked) {
      guard.countRefused('auth-lockout', source);
      return { kind: 'forbidden', status: 403, reason: 'Forbidden (locked out)' };
    }
    const outcome = await authenticator.check(request, kind);
    if (outcome.kind === 'ok') guard.lockout.success(outcome.username);
    else if (user !== undefined && !(outcome.kind === 'challenge' && /expired|stale/i.test(outcome.reason))) guard.lockout.failure(user, address);
    return outcome;
  }

  private refuse(ctx: ResponseContext, outcome: Exclude<ServerAuthOutcome, { kind: 'ok' }>): void {
    if (outcome.kind === 'challenge') ctx.reply(outcome.status, { reason: outcome.reason, headers: outcome.headers });
    else ctx.reply(403, { reason: outcome.reason });
    // Hardened: challenges and refusals are stateless (as Kamailio sends them): the transaction
    // ends at once instead of retransmitting the 401/407 and waiting up to 32 s for an ACK, so a
    // scanner's flood holds no state. The guard drops the ACK of such an INVITE answer.
    if (this.guard !== undefined && ctx.server.state !== 'terminated') {
      if (ctx.request.method === 'INVITE') this.guard.absorbAck(ctx.request);
      ctx.server.terminate();
    }
  }

  private defaultNeedsAuth(request: SipRequest): boolean {
    if (request.method === 'REGISTER') return true;
    if (!AUTH_METHODS.has(request.method) || request.toTag !== undefined) return false;
    try {
      const from = request.from.uri;
      return isSipUri(from) && this.domains.isDomain(from.host);
    } catch {
      return false;
    }
  }

  // ---- events ----

  private observeRequest(request: SipRequest, source: Source): void {
    if (this.has('request')) this.emit('request', { method: request.method, request, source });
  }

  private observeResponse(response: SipResponse, request: SipRequest): void {
    const method = request.method;
    const status = response.status;
    this.guard?.responded(request, status);
    if (this.has('response')) this.emit('response', { status, method, response });
    if (method === 'INVITE' && status >= 200 && status < 300 && request.toTag === undefined) {
      const callId = request.callId;
      if (!this.calls.has(callId)) {
        this.rememberCall(callId);
        if (this.has('call-start')) this.emit('call-start', { callId, from: request.get('from') ?? '', to: request.get('to') ?? '' });
      }
    } else if (method === 'BYE' && status >= 200) {
      const callId = request.callId;
      if (this.calls.delete(callId) && this.has('call-end')) this.emit('call-end', { callId, status });
    }
  }

  /**
   * A call whose BYE never passes here (a phone that died) would be counted forever: every 10 000
   * new calls, those older than 12 hours are forgotten.
   */
  private rememberCall(callId: string): void {
    const now = this.clock.now();
    this.calls.set(callId, now);
    if (++this.callsAdded % 10_000 !== 0) return;
    for (const [id, at] of this.calls) if (now - at > CALL_MAX_AGE_MS) this.calls.delete(id);
  }
}

/** The user name of the request's Digest credentials (Authorization or Proxy-Authorization), if any. */
function credentialUser(request: SipRequest, kind: 'www' | 'proxy'): string | undefined {
  try {
    const all = kind === 'www' ? request.authorization : request.proxyAuthorization;
    for (const c of all) {
      const user = c.params.username;
      if (c.scheme.toLowerCase() === 'digest' && typeof user === 'string' && user !== '') return user;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

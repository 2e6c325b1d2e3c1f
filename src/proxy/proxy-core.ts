/**
 * The stateful proxy core (RFC 3261 §16): the TransactionUser of a transaction layer that is set up
 * with rejectMergedRequests false. For each request it validates (§16.3), detects loops, applies
 * route information (§16.4), finds the targets (§16.5: the Route, the Request-URI, or the
 * location service for our domains), and forwards in a ResponseContext (§16.6, §16.7). ACKs for
 * 2xx are forwarded without a transaction (§16.11 style, hop by hop by route); CANCEL cancels the
 * matching context (§16.10).
 */
import type { Clock } from '../core/clock.js';
import { SipParseError } from '../core/errors.js';
import { MAGIC_COOKIE } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import {
  createResponse, formatNameAddr, isSipUri, parseNameAddr, validateRequest,
  type SipRequest, type SipResponse, type SipUri, type Uri,
} from '../message/index.js';
import type { LocationService } from '../registrar/binding.js';
import type { ClientTransaction, ServerTransaction, TransactionError, TransactionLayer, TransactionUser } from '../transaction/index.js';
import { normalizeAddress } from '../transport/addresses.js';
import { numericTargets } from '../transport/resolver.js';
import type { Resolver, Source, SipTransportLayer, Target, ViaSentBy } from '../transport/index.js';
import type { Flow, FlowTokens } from './flow-token.js';
import { forwardCopy } from './forward-copy.js';
import type { LocalDomains } from './local-domains.js';
import { hash64, isLoop, loopHash } from './loop-detection.js';
import { ResponseContext, type BranchSpec, type ContextHost, type NextHop } from './response-context.js';
import { planRoute, type RoutePlan } from './route-plan.js';
import { branchSpecFor, lookupKey, targetGroups } from './target-set.js';

/** What the server around the core decides: requests for itself, and who may be proxied. */
export interface ProxyDelegate {
  /**
   * A request whose Request-URI is ours with no Route left after §16.4 (REGISTER, OPTIONS to the
   * server...). Answer it through `ctx.respond` / `ctx.reply` and return true, or return false to
   * proxy it to the location service's targets.
   */
  local?(request: SipRequest, ctx: ResponseContext, uri: SipUri): boolean;
  /**
   * Before a request (not CANCEL) is forwarded: return false, or a promise of false, after
   * answering it with `ctx.reply` (407, 403, 503) to stop it. Kept synchronous when it can be.
   */
  admit?(request: SipRequest, ctx: ResponseContext, plan: RoutePlan): boolean | Promise<boolean>;
}

/** Told of each request received and each response sent upstream (metrics, dashboard). */
export interface ProxyObserver {
  request?(request: SipRequest, source: Source): void;
  response?(response: SipResponse, request: SipRequest): void;
}

export interface ProxyCoreOptions {
  transport: SipTransportLayer;
  resolver: Resolver;
  domains: LocalDomains;
  location: LocationService;
  tokens: FlowTokens;
  nodeId: string;
  clock: Clock;
  /** The clock the bindings' expiry times are on (the registrar's); default `clock`. */
  bindingClock?: Clock;
  logger: Logger;
  t1: number;
  /** Timer C, ms (default 181 000: §16.8 asks for more than 3 minutes). */
  timerC?: number;
  /** Option tags we support in Proxy-Require (§16.3 step 5). Default none. */
  supported?: readonly string[];
  /** Methods listed in Allow when the server answers OPTIONS itself. */
  allow?: readonly string[];
  delegate?: ProxyDelegate;
  observer?: ProxyObserver;
}

const DEFAULT_ALLOW = ['INVITE', 'ACK', 'CANCEL', 'OPTIONS', 'BYE', 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'UPDATE', 'INFO', 'PRACK'];

export class ProxyCore implements TransactionUser, ContextHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timerC: number;
  readonly t1: number;
  readonly allow: readonly string[];
  private readonly o: ProxyCoreOptions;
  private readonly supported: readonly string[];
  private layer: TransactionLayer | undefined;
  /** Live contexts; INVITE ones also by server transaction, for CANCEL (§16.10). */
  private readonly live = new Set<ResponseContext>();
  private readonly invites = new Map<ServerTransaction, ResponseContext>();
  private readonly isOwnSentBy: (host: string, port: number | undefined) => boolean;
  private idleWaiters: Array<() => void> = [];

  constructor(options: ProxyCoreOptions) {
    this.o = options;
    this.clock = options.clock;
    this.logger = options.logger;
    this.t1 = options.t1;
    this.timerC = options.timerC ?? 181_000;
    this.supported = options.supported ?? [];
    this.allow = options.allow ?? DEFAULT_ALLOW;
    this.isOwnSentBy = (host, port) => options.domains.isOwnSentBy(host, port);
  }

  /** Attaches the transaction layer the core is the user of (made after the core). */
  attach(layer: TransactionLayer): void {
    this.layer = layer;
  }

  get transactions(): TransactionLayer {
    return this.layer!;
  }

  /** Response contexts not yet finished. */
  get contexts(): number {
    return this.live.size;
  }

  /** Resolves when the transaction layer holds no transaction. */
  whenIdle(): Promise<void> {
    if (this.layer === undefined || this.layer.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Ends every context (the server is closing). */
  close(): void {
    for (const ctx of this.live) ctx.abort();
    this.live.clear();
    this.invites.clear();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // ---- TransactionUser ----

  onRequest(request: SipRequest, transaction: ServerTransaction): void {
    try {
      this.receive(request, transaction);
    } catch (err) {
      if (transaction.state === 'terminated' || transaction.response !== undefined) return;
      if (err instanceof SipParseError) {
        // A header read only now (a Route, say) is malformed: the sender's fault (§16.3 step 1).
        transaction.respond(createResponse(request, err.status, { reason: err.reason.slice(0, 120) }));
        return;
      }
      this.logger.error({ err, method: request.method }, 'proxy: request handling failed');
      transaction.respond(createResponse(request, 500));
    }
  }

  onAck(ack: SipRequest, source: Source): void {
    this.o.observer?.request?.(ack, source);
    try {
      this.forwardAck(ack);
    } catch (err) {
      this.logger.debug({ err }, 'proxy: ACK not forwarded');
    }
  }

  onServerError(transaction: ServerTransaction, error: TransactionError): void {
    this.logger.debug({ err: error, method: transaction.request.method }, 'proxy: server transaction failed');
  }

  onTransactionTerminated(transaction: ClientTransaction | ServerTransaction): void {
    if (this.invites.size > 0) this.invites.delete(transaction as ServerTransaction);
    if (this.idleWaiters.length > 0 && this.layer !== undefined && this.layer.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  // ---- request processing (§16.3 - §16.5) ----

  private receive(request: SipRequest, tx: ServerTransaction): void {
    this.o.observer?.request?.(request, tx.source);
    const method = request.method;
    // §16.3: validation, Max-Forwards (483), Proxy-Require (420 with Unsupported).
    const verdict = validateRequest(request, { role: 'proxy', supported: this.supported });
    if (!verdict.ok) {
      // §16.3 step 3: an OPTIONS with Max-Forwards 0 addressed to us is answered, not refused.
      if (verdict.status === 483 && method === 'OPTIONS' && this.addressedToServer(request)) {
        this.respond(tx, this.optionsResponse(request));
        return;
      }
      this.respond(tx, createResponse(request, verdict.status, { reason: verdict.reason, headers: verdict.headers }));
      return;
    }
    if (method === 'CANCEL' && this.cancel(request, tx)) return;
    // §16.3 step 4: loop detection.
    const hash = loopHash(request);
    if (isLoop(request, hash, this.isOwnSentBy)) {
      this.respond(tx, createResponse(request, 482));
      return;
    }
    const plan = planRoute(request, this.o.domains, this.o.tokens, hash);
    const ctx = new ResponseContext(this, tx, plan);
    this.live.add(ctx);
    if (method === 'INVITE') this.invites.set(tx, ctx);
    // §16.5: the location service is asked only when no Route of another element is left.
    // DEVIATION(RFC 3261 §16.5): with a Route left (a preloaded route set), the request goes on by
    // it with its Request-URI untouched even when that URI is in our domain, as loose routing
    // proxies commonly do; the element the Route names is the one that resolves it.
    const local = plan.routes.length === 0 && plan.flow === undefined && this.o.domains.isOurs(plan.uri);
    if (local && this.o.delegate?.local?.(request, ctx, plan.uri as SipUri) === true) return;
    const admitted = this.o.delegate?.admit?.(request, ctx, plan) ?? true;
    if (admitted === true) this.route(ctx, plan, local);
    else if (admitted !== false) {
      admitted.then((ok) => {
        if (ok) this.route(ctx, plan, local);
      }, (err: unknown) => {
        this.logger.error({ err }, 'proxy: admission failed');
        ctx.reply(500);
      });
    }
  }

  private route(ctx: ResponseContext, plan: RoutePlan, local: boolean): void {
    if (ctx.answered || ctx.cancelled) {
      ctx.start([]);
      return;
    }
    if (!local) {
      // §16.5: the next hop is the Route (or a flow), else the Request-URI.
      ctx.start([[{}]]);
      return;
    }
    const uri = plan.uri as SipUri;
    if (uri.user === undefined) {
      // Addressed to the server itself and not taken by the delegate.
      if (ctx.request.method === 'OPTIONS') ctx.respond(this.optionsResponse(ctx.request));
      else ctx.reply(404);
      return;
    }
    this.locate(ctx, uri).catch((err: unknown) => {
      this.logger.error({ err }, 'proxy: location lookup failed');
      ctx.reply(500, { reason: 'Location service failed' });
    });
  }

  /** §16.5: our user's targets, from the location service, grouped by q. */
  private async locate(ctx: ResponseContext, uri: SipUri): Promise<void> {
    const key = lookupKey(uri);
    const bindings = await this.o.location.lookup(key.aor, (this.o.bindingClock ?? this.clock).now());
    const groups = targetGroups(bindings, key.instance);
    if (groups.length === 0) {
      // No binding: the user is not registered (we keep no list of users to tell 404 apart).
      ctx.reply(480);
      return;
    }
    ctx.start(groups.map((g) => g.map((t) => branchSpecFor(t, this.o.domains, this.o.tokens, this.o.nodeId))));
  }

  // ---- ContextHost ----

  /**
   * The branch's next hop: a flow, the top Route, or the target URI, resolved by RFC 3263. A
   * numeric host (the usual Contact or Record-Route) is resolved here and now, without a promise;
   * only names go to the (asynchronous) resolver.
   */
  nextHop(ctx: ResponseContext, spec: BranchSpec): NextHop | Promise<NextHop> {
    const plan = ctx.data as RoutePlan;
    if (spec.flow !== undefined) return this.flowHop(spec.flow, true);
    if (spec.uri === undefined && spec.routes === undefined && plan.flow !== undefined) {
      const viaFlow = this.flowHop(plan.flow, plan.flowRequired);
      if (viaFlow !== undefined) return viaFlow;
    }
    let hop: Uri;
    if (spec.routes !== undefined && spec.routes.length > 0) hop = parseNameAddr(spec.routes[0]!).uri;
    else if (spec.uri === undefined && plan.routes.length > 0) hop = plan.routes[0]!.uri;
    else hop = spec.uri !== undefined ? parseNameAddr(`<${spec.uri}>`).uri : plan.uri;
    if (!isSipUri(hop)) return { ok: false, status: 416, reason: `Cannot route a ${hop.scheme}: URI` };
    const requestUri = spec.uri !== undefined ? hop : plan.uri;
    const sips = hop.scheme === 'sips' || requestUri.scheme === 'sips';
    const maddr = hop.params.maddr;
    const param = hop.params.transport;
    const host = typeof maddr === 'string' ? maddr : hop.host;
    const transport = typeof param === 'string' ? param : undefined;
    const numeric = numericTargets(host, hop.port, transport, sips);
    if (numeric !== undefined) return hopOf(numeric);
    return this.o.resolver.resolve(host, hop.port, transport, sips).then(hopOf);
  }

  build(ctx: ResponseContext, spec: BranchSpec, target: Target, connectionId: string | undefined): SipRequest {
    const plan = ctx.data as RoutePlan;
    const outbound = this.o.transport.viaFor(target);
    if (!plan.recordRoute) return forwardCopy(ctx.request, { plan, uri: spec.uri, routes: spec.routes, outbound, inbound: outbound });
    // Only a Record-Route needs the inbound side (RFC 5658), and the flow tokens (RFC 5626 §5.3):
    // the target's when we send over a connection we hold (a registration's flow), the sender's
    // when it cannot be reached but over its connection (see flowPeer).
    const source = ctx.server.source;
    const nodeId = this.o.nodeId;
    const tokens = this.o.tokens;
    return forwardCopy(ctx.request, {
      plan,
      uri: spec.uri,
      routes: spec.routes,
      outbound,
      inbound: this.inboundSentBy(source),
      inboundToken: flowPeer(ctx.request, source) ? tokens.encode(source, nodeId) : undefined,
      outboundToken: connectionId === undefined ? undefined : tokens.encode({
        protocol: target.protocol, localAddress: '', localPort: 0, remoteAddress: target.address, remotePort: target.port, connectionId,
      }, nodeId),
    });
  }

  sendUpstream(ctx: ResponseContext, response: SipResponse): void {
    const server = ctx.server;
    let sent = server.state !== 'terminated' && server.respond(response);
    if (!sent && ctx.isInvite && response.status >= 200 && response.status < 300) {
      // A 2xx after our final (a race with CANCEL) or after the transaction ended still goes up:
      // the UAC acknowledges and ends that dialog (RFC 3261 §16.7 step 5, RFC 6026 §8.4).
      this.o.transport.sendResponse(response, server.source).catch((err: unknown) => this.logger.debug({ err }, 'proxy: 2xx not sent'));
      sent = true;
    }
    if (sent) this.o.observer?.response?.(response, ctx.request);
  }

  finished(ctx: ResponseContext): void {
    this.live.delete(ctx);
  }

  // ---- helpers ----

  private respond(tx: ServerTransaction, response: SipResponse): void {
    if (tx.respond(response)) this.o.observer?.response?.(response, tx.request);
  }

  /** §11.2 (the server itself): 200 with what we allow and support. */
  optionsResponse(request: SipRequest): SipResponse {
    return createResponse(request, 200, { headers: [['Allow', this.allow.join(', ')], ['Accept', 'application/sdp'], ['Supported', ['path', 'outbound', ...this.supported].join(', ')]] });
  }

  /** The Request-URI (or, for a strict router, nothing else) names the server itself: ours, no user, no Route of others. */
  private addressedToServer(request: SipRequest): boolean {
    try {
      const uri = request.uri;
      if (!isSipUri(uri) || uri.user !== undefined || !this.o.domains.isOurs(uri)) return false;
      return request.route.every((r) => this.o.domains.isOurs(r.uri));
    } catch {
      return false;
    }
  }

  private inboundSentBy(source: Source): ViaSentBy {
    return this.o.transport.viaFor({ protocol: source.protocol, address: source.remoteAddress, port: source.remotePort });
  }

  /**
   * The hop over a flow. When its connection is gone: 430 (RFC 5626 §5.3: the UA will register a
   * new flow) if the flow is `required`, else undefined (route as usual).
   */
  private flowHop(flow: Flow, required: true): NextHop;
  private flowHop(flow: Flow, required: boolean): NextHop | undefined;
  private flowHop(flow: Flow, required: boolean): NextHop | undefined {
    const gone = flow.node !== this.o.nodeId
      || (flow.connectionId !== undefined && this.o.transport.connections.get(flow.connectionId) === undefined);
    if (gone) return required ? { ok: false, status: 430, reason: 'Flow Failed' } : undefined;
    const target: Target = { protocol: flow.protocol, address: normalizeAddress(flow.address), port: flow.port };
    return flow.connectionId === undefined ? { ok: true, targets: [target] } : { ok: true, targets: [target], connectionId: flow.connectionId };
  }

  /**
   * §16.10: a CANCEL of a pending INVITE of ours: 200, then the branches are cancelled. Returns
   * false when there is no response context: the CANCEL is then forwarded like any request (the
   * RFC says statelessly; statefully is as good, and keeps its retransmissions absorbed).
   */
  private cancel(request: SipRequest, tx: ServerTransaction): boolean {
    const invite = this.transactions.findInviteForCancel(request);
    if (invite === undefined) return false;
    const ctx = this.invites.get(invite);
    // §9.2: 200 in any case; an INVITE answered here already (483, 482, 420...) has nothing to cancel.
    this.respond(tx, createResponse(request, 200));
    ctx?.cancel();
    return true;
  }

  /**
   * An ACK for a 2xx (§16.11: end to end, its own transaction-less hop): route information
   * applied in place (no transaction keeps it), Max-Forwards less one, our Via with a branch
   * derived from the received one (so its retransmissions get the same), and sent by its route.
   */
  private forwardAck(ack: SipRequest): void {
    const mf = ack.maxForwards;
    if (mf === 0) return;
    const plan = planRoute(ack, this.o.domains, this.o.tokens, '');
    // §16.4 applied in place: no transaction keeps this ACK.
    if (plan.strictUri !== undefined) {
      ack.uri = plan.strictUri;
      ack.removeAll('route');
      for (const r of plan.routes) ack.append('Route', formatNameAddr(r));
    } else {
      for (let i = 0; i < plan.popped; i++) ack.removeFirst('route');
    }
    const fake = { data: plan } as ResponseContext;
    if (plan.routes.length === 0 && plan.flow === undefined && this.o.domains.isOurs(plan.uri) && (plan.uri as SipUri).user !== undefined) {
      this.ackToBinding(ack, plan, fake, mf).catch((err: unknown) => this.logger.debug({ err }, 'proxy: ACK not forwarded'));
      return;
    }
    const hop = this.nextHop(fake, {});
    if (hop instanceof Promise) hop.then((h) => this.sendAck(ack, h, mf), (err: unknown) => this.logger.debug({ err }, 'proxy: ACK not forwarded'));
    else this.sendAck(ack, hop, mf);
  }

  /** An ACK whose Request-URI is one of our AORs: to the first binding, as its INVITE went. */
  private async ackToBinding(ack: SipRequest, plan: RoutePlan, fake: ResponseContext, mf: number | undefined): Promise<void> {
    const key = lookupKey(plan.uri as SipUri);
    const group = targetGroups(await this.o.location.lookup(key.aor, (this.o.bindingClock ?? this.clock).now()), key.instance)[0];
    if (group === undefined) return;
    const spec = branchSpecFor(group[0]!, this.o.domains, this.o.tokens, this.o.nodeId);
    if (spec.uri !== undefined) ack.uri = spec.uri;
    if (spec.routes !== undefined) for (let i = spec.routes.length - 1; i >= 0; i--) ack.prepend('Route', spec.routes[i]!);
    this.sendAck(ack, await this.nextHop(fake, spec), mf);
  }

  private sendAck(ack: SipRequest, hop: NextHop, mf: number | undefined): void {
    if (!hop.ok) return;
    ack.set('Max-Forwards', String(mf === undefined ? 70 : mf - 1));
    const target = hop.targets[0]!;
    const sentBy = this.o.transport.viaFor(target);
    // §16.11: a branch computed from the received one, the same for each retransmission.
    const branch = MAGIC_COOKIE + hash64(`${ack.topVia?.params.branch ?? ack.callId}\0${ack.cseq.seq}`);
    ack.prepend('Via', `SIP/2.0/${sentBy.transport} ${sentBy.host}:${sentBy.port};branch=${branch};rport`);
    this.transactions.sendAck(ack, target, hop.connectionId === undefined ? { via: 'keep' } : { via: 'keep', connectionId: hop.connectionId })
      .catch((err: unknown) => this.logger.debug({ err }, 'proxy: ACK not sent'));
  }
}

function hopOf(targets: Target[]): NextHop {
  // DEVIATION(RFC 3261 §16.7): no status fits an unresolvable next hop; 404 with a reason says it.
  return targets.length === 0 ? { ok: false, status: 404, reason: 'Unresolvable destination' } : { ok: true, targets };
}

/**
 * Whether the sender of a dialog-creating request is reached only over its connection: a
 * WebSocket client (RFC 7118 §5: it accepts no connection, its Contact is often `.invalid`), or an
 * RFC 5626 UA (`ob` in its Contact) on a connection-oriented transport.
 */
function flowPeer(request: SipRequest, source: Source): boolean {
  if (source.connectionId === undefined) return false;
  if (source.protocol === 'WS' || source.protocol === 'WSS') return true;
  try {
    const contact = request.contact;
    return Array.isArray(contact) && contact.length > 0 && isSipUri(contact[0]!.uri) && contact[0]!.uri.params.ob !== undefined;
  } catch {
    return false;
  }
}

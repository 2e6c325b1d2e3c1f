/**
 * SipEndpoint: the transport layer and the transaction layer wired together under a minimal UA
 * core (RFC 3261 §8). It sends requests to where RFC 3263 says, failing over between targets,
 * and hands incoming requests to one handler. Dialogs, calls and the full user agent come later
 * (src/dialog, src/ua/call); until then this is what the app and the interop tests stand on.
 */
import { KNOWN_METHODS } from '../core/methods.js';
import { RealClock, type Clock } from '../core/clock.js';
import { SipError } from '../core/errors.js';
import { noopLogger, type Logger } from '../core/logger.js';
import { createResponse, isSipUri, parseMessage, validateRequest, type SipRequest, type SipResponse } from '../message/index.js';
import {
  InviteClientTransaction, shouldFailOver, TransactionLayer,
  type ClientTransaction, type ServerTransaction, type TransactionError, type TransactionUser,
} from '../transaction/index.js';
import {
  Rfc3263Resolver, SipTransportLayer,
  type BoundListener, type ListenerConfig, type Resolver, type Source, type Target, type TlsCredentials, type TransportLimits,
} from '../transport/index.js';
import { createAck, type DialogRequestOptions } from './dialog-request.js';
import { OutgoingRequest, type SentAck } from './outgoing-request.js';
import { UasTransaction, type UasCore } from './uas-transaction.js';
import { Unacknowledged2xx } from './unacknowledged-2xx.js';

/** Outbound TLS and WSS: trust anchors and the client certificate (default: the first TLS/WSS listener's). */
export interface EndpointTlsOptions extends TlsCredentials {
  /** Labs only: connect without verifying the peer's certificate. Logs a warning. */
  insecure?: boolean;
}

export interface SipEndpointOptions {
  listeners: ListenerConfig[];
  /** Where requests go (RFC 3263). Default: Rfc3263Resolver on the system DNS. */
  resolver?: Resolver;
  clock?: Clock;
  logger?: Logger;
  tls?: EndpointTlsOptions;
  /** RFC 3261 §17.1.1.1 timers, ms: T1 (500), T2 (4000), T4 (5000). */
  t1?: number;
  t2?: number;
  t4?: number;
  limits?: Partial<TransportLimits>;
  /** Methods named in Allow (RFC 3261 §20.5). Default INVITE, ACK, CANCEL, OPTIONS, BYE. */
  allow?: readonly string[];
  /** Option tags this endpoint supports (Supported, and Require checks, §8.2.2.3). Default none. */
  supported?: readonly string[];
  /** Body types accepted (Accept, §8.2.3). Default application/sdp, multipart/mixed, message/sipfrag, text/plain. */
  accept?: readonly string[];
}

/** Options of `SipEndpoint.request`. */
export interface EndpointRequestOptions {
  /** Send here instead of resolving the top Route or the Request-URI. */
  target?: Target;
  /** Each provisional response (1xx) of the attempt that is under way. */
  onProvisional?(response: SipResponse): void;
  /**
   * For an INVITE, each 2xx the client transaction passes up (RFC 6026 §7.2, until Timer M): the
   * first one (the result, told here first), its retransmissions, and the 2xx of other forks with
   * their own To tags, which the caller MUST acknowledge with `ack()` and may end with a BYE
   * (RFC 3261 §13.2.2.4). A retransmission of a 2xx already ACKed gets that ACK again as well.
   */
  on2xx?(response: SipResponse): void;
}

/** Options of `SipEndpoint.ack`. */
export interface EndpointAckOptions extends DialogRequestOptions {
  /** The INVITE, when its client transaction has ended (64*T1 after the 2xx, RFC 6026 Timer M). */
  invite?: SipRequest;
  /**
   * The ACK itself, already built (by `Dialog.createAck`, which knows the dialog's route set and
   * remote target, §13.2.2.4); the other options are then ignored.
   */
  request?: SipRequest;
}

/** Told when a CANCEL ended an INVITE still pending (RFC 3261 §9.2), after the endpoint answered it 487. */
export type CancelHandler = (invite: UasTransaction) => void;

/**
 * Answers incoming requests. `transaction` is undefined exactly for an ACK to a 2xx, which is no
 * transaction's (RFC 3261 §17.1.1.3). Return false (or a promise of false) to leave the request
 * to the endpoint's defaults: OPTIONS 200, other known methods 405, unknown ones 501. Requests that fail validateRequest
 * never arrive (they are answered 400, or 415, 416, 420... as it says), nor does CANCEL: the
 * endpoint answers it (§9.2) and marks the INVITE's UasTransaction `cancelled`.
 */
export type RequestHandler = (request: SipRequest, transaction: UasTransaction | undefined, source: Source) => boolean | void | Promise<boolean | void>;

/** Requests whose 101-299 responses may establish a dialog (RFC 3261 §12.1, RFC 6665, RFC 3515). */
const DIALOG_CREATING: ReadonlySet<string> = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);
const DEFAULT_ALLOW = ['INVITE', 'ACK', 'CANCEL', 'OPTIONS', 'BYE'];
const DEFAULT_ACCEPT = ['application/sdp', 'multipart/mixed', 'message/sipfrag', 'text/plain'];

export class SipEndpoint {
  readonly transport: SipTransportLayer;
  readonly transactions: TransactionLayer;
  readonly resolver: Resolver;
  private readonly logger: Logger;
  private readonly allow: readonly string[];
  private readonly supported: readonly string[];
  private readonly accept: readonly string[];
  private readonly unacked: Unacknowledged2xx;
  /** Client INVITEs by branch, for ack() and 2xx retransmissions; dropped when the transaction ends. */
  private readonly invites = new Map<string, OutgoingRequest>();
  /** INVITE server transactions' handler views, for CANCEL (§9.2). */
  private readonly uasByTransaction = new WeakMap<ServerTransaction, UasTransaction>();
  private handler: RequestHandler | undefined;
  private cancelHandler: CancelHandler | undefined;
  private closing: Promise<void> | undefined;

  /** Opens every listener; rejects (with everything closed again) when one cannot be opened. */
  static async create(options: SipEndpointOptions): Promise<SipEndpoint> {
    const endpoint = new SipEndpoint(options);
    try {
      await endpoint.transport.start();
    } catch (e) {
      await endpoint.close();
      throw e;
    }
    return endpoint;
  }

  private constructor(options: SipEndpointOptions) {
    const clock = options.clock ?? new RealClock();
    this.logger = options.logger ?? noopLogger;
    this.resolver = options.resolver ?? new Rfc3263Resolver({ logger: this.logger });
    this.allow = options.allow ?? DEFAULT_ALLOW;
    this.supported = options.supported ?? [];
    this.accept = options.accept ?? DEFAULT_ACCEPT;
    const { insecure, ...credentials } = options.tls ?? {};
    const listenerTls = options.listeners.find((l) => l.tls !== undefined)?.tls;
    this.transport = new SipTransportLayer({
      listeners: options.listeners,
      // The transaction layer is made next; nothing arrives before start().
      handler: { onMessage: (message, source) => this.transactions.onMessage(message, source) },
      resolver: this.resolver,
      clock,
      logger: this.logger,
      limits: options.limits,
      tlsClient: options.tls === undefined ? undefined : { ...listenerTls, ...credentials },
      tlsInsecure: insecure === true,
    });
    this.transactions = new TransactionLayer({
      transport: this.transport,
      user: this.transactionUser(),
      clock,
      t1: options.t1,
      t2: options.t2,
      t4: options.t4,
    });
    this.unacked = new Unacknowledged2xx({ clock, logger: this.logger, t1: options.t1 ?? 500, t2: options.t2 ?? 4000 });
  }

  /** The bound listeners (ports filled in where 0 was asked for). */
  get listeners(): readonly BoundListener[] {
    return this.transport.listeners;
  }

  /** 2xx responses to INVITEs still retransmitted for want of an ACK (§13.3.1.4). */
  get unacknowledged(): number {
    return this.unacked.size;
  }

  /** Sets the handler for incoming requests (replacing any). */
  onRequest(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** Sets the handler told of INVITEs a CANCEL ended (replacing any). */
  onCancel(handler: CancelHandler): void {
    this.cancelHandler = handler;
  }

  /**
   * Sends `request` and resolves with its final response (for an INVITE, the first 2xx or the
   * final non-2xx), whatever its status. Without `target`, the top Route's URI, or else the
   * Request-URI, is resolved per RFC 3263 and the targets are tried in order: a timeout, a
   * transport failure or a 503 moves on to the next (§4.3), as a new transaction with a new
   * branch. Rejects with a TransactionError (ERR_TIMEOUT, ERR_TRANSPORT, ERR_TERMINATED) when
   * the last target fails, SipError ERR_UNRESOLVABLE when there is no target, ERR_CLOSED after close().
   */
  async request(request: SipRequest, options: EndpointRequestOptions = {}): Promise<SipResponse> {
    this.checkOpen();
    if (request.method === 'ACK') throw new SipError('ERR_INVALID_ARGUMENT', 'an ACK for a 2xx is sent with ack() (RFC 3261 §13.2.2.4)');
    const targets = options.target === undefined ? await this.targetsFor(request) : [options.target];
    if (targets.length === 0) throw new SipError('ERR_UNRESOLVABLE', `no target for ${nextHopText(request)} (RFC 3263 §4)`);
    // Later attempts send copies of the request as it was before the first one added its Via.
    const pristine = targets.length > 1 ? Buffer.from(request.toBuffer()) : undefined;
    for (let i = 0; ; i++) {
      const target = targets[i]!;
      const last = i === targets.length - 1;
      const attempt = i === 0 ? request : (parseMessage(pristine!) as SipRequest);
      let outcome: SipResponse;
      try {
        outcome = await this.attempt(attempt, target, options);
      } catch (e) {
        if (last || !shouldFailOver(e)) throw e;
        this.logger.info({ err: e, address: target.address, port: target.port, protocol: target.protocol }, 'target failed: trying the next (RFC 3263 §4.3)');
        continue;
      }
      if (last || !shouldFailOver(outcome)) return outcome;
      this.logger.info({ status: outcome.status, address: target.address, port: target.port }, '503: trying the next target (RFC 3263 §4.3)');
    }
  }

  /**
   * Sends the ACK for a 2xx to an INVITE this endpoint sent (RFC 3261 §13.2.2.4), to the 2xx's
   * Contact through its Record-Route set, and answers retransmissions of that 2xx with it.
   */
  async ack(response: SipResponse, options: EndpointAckOptions = {}): Promise<void> {
    this.checkOpen();
    const branch = response.topVia?.params.branch;
    const outgoing = branch ? this.invites.get(branch) : undefined;
    const invite = outgoing?.request ?? options.invite;
    if (invite === undefined && options.request === undefined) throw new SipError('ERR_INVALID_ARGUMENT', 'no INVITE known for this 2xx: pass options.invite');
    const ack = options.request ?? createAck(invite!, response, options);
    const [target] = await this.targetsFor(ack);
    if (target === undefined) throw new SipError('ERR_UNRESOLVABLE', `no target for ${nextHopText(ack)} (RFC 3263 §4)`);
    this.checkOpen();
    const sending = this.transactions.sendAck(ack, target);
    outgoing?.acks.set(response.toTag ?? '', { ack, target });
    await sending;
  }

  /** Closes every transaction, timer and socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unacked.close();
      this.invites.clear();
      this.transactions.close();
      await this.transport.close();
    })();
    return this.closing;
  }

  // ---- UAC ----

  private attempt(request: SipRequest, target: Target, options: EndpointRequestOptions): Promise<SipResponse> {
    const outgoing = new OutgoingRequest({
      request,
      logger: this.logger,
      onProvisional: options.onProvisional?.bind(options),
      on2xx: options.on2xx?.bind(options),
      resendAck: (sent) => this.resendAck(sent),
    });
    const tx = this.transactions.sendRequest(request, target, { listener: outgoing });
    if (tx instanceof InviteClientTransaction) this.invites.set(tx.branch, outgoing);
    return tx.finalResponse();
  }

  private resendAck(sent: SentAck): void {
    if (this.closing !== undefined) return;
    this.transactions.sendAck(sent.ack, sent.target, { via: 'keep' }).catch((err: unknown) => {
      this.logger.debug({ err }, 'ACK retransmission failed');
    });
  }

  /**
   * RFC 3263 §4 on the next hop: the top Route's URI (loose routing, §8.1.2), else the
   * Request-URI. Its maddr, port and transport parameter count; a sips: Request-URI asks for TLS
   * on every hop (§26.2.2), whatever the Route says.
   */
  private targetsFor(request: SipRequest): Promise<Target[]> {
    const uri = request.route[0]?.uri ?? request.uri;
    if (!isSipUri(uri)) return Promise.reject(new SipError('ERR_UNRESOLVABLE', `cannot resolve a ${uri.scheme}: URI (RFC 3263 §4)`));
    const sips = uri.scheme === 'sips' || request.uri.scheme === 'sips';
    const maddr = uri.params.maddr;
    const transport = uri.params.transport;
    return this.resolver.resolve(typeof maddr === 'string' ? maddr : uri.host, uri.port, typeof transport === 'string' ? transport : undefined, sips);
  }

  // ---- UAS ----

  private transactionUser(): TransactionUser {
    return {
      onRequest: (request, transaction) => this.receive(request, transaction),
      onAck: (ack, source) => this.receiveAck(ack, source),
      onServerError: (transaction, error) => this.serverFailed(transaction, error),
      onTransactionTerminated: (transaction) => this.terminated(transaction),
    };
  }

  private receive(request: SipRequest, transaction: ServerTransaction): void {
    // §8.2: a request is examined before any work is done with it.
    const verdict = validateRequest(request, { supported: this.supported, acceptTypes: this.accept });
    if (!verdict.ok) {
      const reason = reasonText(verdict.reason);
      const peer = { method: request.method, reason, status: verdict.status, remote: transaction.source.remoteAddress, port: transaction.source.remotePort };
      this.logger.info(peer, verdict.status === 400 ? 'malformed request answered' : 'request rejected');
      transaction.respond(createResponse(request, verdict.status, { reason, headers: verdict.headers }));
      return;
    }
    const uas = new UasTransaction(request, transaction, this.uasCore);
    if (request.method === 'CANCEL') {
      this.cancel(uas);
      return;
    }
    if (request.method === 'INVITE') this.uasByTransaction.set(transaction, uas);
    if (request.method === 'BYE') this.unacked.dialogUsed(request);
    this.dispatch(uas);
  }

  private dispatch(uas: UasTransaction): void {
    const handler = this.handler;
    if (handler === undefined) {
      this.answerByDefault(uas);
      return;
    }
    let result: ReturnType<RequestHandler>;
    try {
      result = handler(uas.request, uas, uas.source);
    } catch (err) {
      this.handlerFailed(uas, err);
      return;
    }
    if (result === false) this.answerByDefault(uas);
    else if (result instanceof Promise) {
      result.then((r) => {
        if (r === false) this.answerByDefault(uas);
      }, (err: unknown) => this.handlerFailed(uas, err));
    }
  }

  /**
   * §11.2: OPTIONS is answered as an INVITE would be, with the capabilities. §8.2.1: a method we
   * recognise but do not serve gets 405 with Allow; one we do not recognise gets 501 (§21.5.2).
   */
  private answerByDefault(uas: UasTransaction): void {
    if (uas.answered) return;
    const allow: [string, string] = ['Allow', this.allow.join(', ')];
    if (uas.request.method === 'OPTIONS') {
      uas.respond(createResponse(uas.request, 200, {
        toTag: uas.toTag,
        headers: [allow, ['Accept', this.accept.join(', ')], ['Supported', this.supported.join(', ')]],
      }));
    } else {
      const status = KNOWN_METHODS.has(uas.request.method) ? 405 : 501;
      uas.respond(createResponse(uas.request, status, { toTag: uas.toTag, headers: [allow] }));
    }
  }

  private handlerFailed(uas: UasTransaction, err: unknown): void {
    this.logger.error({ err, method: uas.request.method }, 'request handler failed');
    if (!uas.answered && uas.transaction.state !== 'terminated') uas.respond(createResponse(uas.request, 500, { toTag: uas.toTag }));
  }

  /**
   * RFC 3261 §9.2: a CANCEL that matches an INVITE still pending gets 200 and the INVITE 487;
   * one that matches nothing gets 481. The handler hears of it through `cancelled`.
   */
  private cancel(uas: UasTransaction): void {
    const invite = this.transactions.findInviteForCancel(uas.request);
    if (invite === undefined) {
      uas.respond(createResponse(uas.request, 481));
      return;
    }
    const target = this.uasByTransaction.get(invite);
    // §9.2: the CANCEL's response carries the To tag of the INVITE's responses.
    uas.respond(createResponse(uas.request, 200, target === undefined ? {} : { toTag: target.toTag }));
    if (target !== undefined && !target.answered) {
      target.markCancelled();
      target.respond(createResponse(target.request, 487));
      try {
        this.cancelHandler?.(target);
      } catch (err) {
        this.logger.error({ err }, 'cancel handler failed');
      }
    }
  }

  private receiveAck(ack: SipRequest, source: Source): void {
    this.unacked.acknowledge(ack);
    const handler = this.handler;
    if (handler === undefined) return;
    try {
      const result = handler(ack, undefined, source);
      if (result instanceof Promise) result.catch((err: unknown) => this.logger.error({ err }, 'request handler failed on ACK'));
    } catch (err) {
      this.logger.error({ err }, 'request handler failed on ACK');
    }
  }

  private serverFailed(transaction: ServerTransaction, error: TransactionError): void {
    this.logger.info({ err: error, method: transaction.request.method, callId: transaction.request.callId }, 'server transaction failed');
  }

  private terminated(transaction: ClientTransaction | ServerTransaction): void {
    if (transaction instanceof InviteClientTransaction && this.invites.get(transaction.branch)?.request === transaction.request) {
      this.invites.delete(transaction.branch);
    }
  }

  /** What `UasTransaction.respond` does: §12.1.1 Contact, then the transaction, then §13.3.1.4 retransmission. */
  private readonly uasCore: UasCore = {
    send: (uas, response) => {
      const isInvite = uas.request.method === 'INVITE';
      const status = response.status;
      if (isInvite && status > 100 && status < 300 && !response.has('contact')) {
        // §12.1.1: a response that creates a dialog carries the Contact the peer sends its
        // requests to; a handler that gave none gets this listener's address.
        response.set('Contact', this.contactFor(uas));
      }
      if (status > 100 && status < 300 && DIALOG_CREATING.has(uas.request.method) && uas.request.toTag === undefined && !response.has('record-route')) {
        // §12.1.1: a response that establishes a dialog carries the request's Record-Route, all
        // of it, in order, so the UAC's route set passes the same proxies.
        for (const rr of uas.request.getAll('record-route')) response.append('Record-Route', rr);
      }
      const sent = uas.transaction.respond(response);
      if (sent && isInvite && status >= 200 && status < 300) this.unacked.start(uas.transaction, response);
      return sent;
    },
  };

  /** A Contact for the listener a request came in on (what the peer's requests should reach). */
  private contactFor(uas: UasTransaction): string {
    const source = uas.source;
    const sentBy = this.transport.viaFor({ protocol: source.protocol, address: source.remoteAddress, port: source.remotePort });
    const sips = uas.request.uri.scheme === 'sips';
    let param = '';
    if (source.protocol === 'TCP') param = ';transport=tcp';
    else if (source.protocol === 'TLS') param = sips ? '' : ';transport=tls';
    // RFC 7118 §5.2: transport=ws in a sips: URI means WSS.
    else if (source.protocol === 'WS' || source.protocol === 'WSS') param = sips || source.protocol === 'WS' ? ';transport=ws' : ';transport=wss';
    return `<${sips ? 'sips' : 'sip'}:${sentBy.host}:${sentBy.port}${param}>`;
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new SipError('ERR_CLOSED', 'the endpoint is closed');
  }
}

/** The next hop's URI, for error messages. */
function nextHopText(request: SipRequest): string {
  const route = request.get('route');
  return route === undefined ? request.uriText : `Route ${route}`;
}

/** A Reason-Phrase from a validation message: one printable line, short (RFC 3261 §21.4.1). */
function reasonText(reason: string): string {
  const text = reason.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 120);
  return text === '' ? 'Bad Request' : text;
}

/**
 * What the INVITE and non-INVITE client transactions share (RFC 3261 §17.1): the request, where
 * it goes, and how responses and failures reach the transaction user.
 */
import { SipResponse, type SipRequest } from '../message/message.js';
import { protocolFromToken } from '../transport/addresses.js';
import { isReliable, type Target, type TransportProtocol } from '../transport/types.js';
import { TransactionError } from './transaction-error.js';
import { Transaction, type TransactionContext, type TransactionState } from './transaction.js';

/**
 * Receives what a client transaction passes up. One object can serve many transactions (a proxy's
 * response context), so sending a request costs no closure.
 */
export interface ClientTransactionListener {
  /**
   * Every response the machine passes to the TU: each 1xx, the final response, and for INVITE each
   * further 2xx while in 'accepted' (retransmissions and other forks, RFC 6026 §8.4). Never
   * retransmitted non-2xx finals: the transaction absorbs those (§17.1.1.2, §17.1.2.2).
   */
  onResponse(response: SipResponse, transaction: ClientTransaction): void;
  /** Timer B or F fired, or the transport failed (§17.1.4); the transaction is terminated. */
  onError?(error: TransactionError, transaction: ClientTransaction): void;
}

/** Options of `TransactionLayer.sendRequest`. */
export interface ClientTransactionOptions {
  listener?: ClientTransactionListener;
  /** Send over this connection (stream transports), e.g. an RFC 5626 flow. */
  connectionId?: string;
  /**
   * 'add' (the default, but for CANCEL): put a new top Via, sent-by from `transport.viaFor(target)`
   * and a new branch (§8.1.1.7, §16.6 item 8). 'keep': the TU wrote the top Via and its branch
   * itself; a CANCEL defaults to this, as its Via must be the INVITE's (§9.1).
   */
  via?: 'add' | 'keep';
}

interface Waiter {
  promise: Promise<SipResponse>;
  resolve(response: SipResponse): void;
  reject(error: TransactionError): void;
}

/** A client transaction: made by `TransactionLayer.sendRequest`, it sends and retransmits the request. */
export abstract class ClientTransaction<S extends TransactionState = TransactionState> extends Transaction<S> {
  /** Where the request goes (after RFC 3263 resolution). */
  readonly target: Target;
  /** The connection the request is sent on, when the TU chose one. */
  readonly connectionId: string | undefined;
  /** Dropped by `release()` once the machine can no longer pass anything up. */
  private listener: ClientTransactionListener | undefined;
  /** The first final response, or the error that ended the transaction before one came. */
  private outcome: SipResponse | TransactionError | undefined = undefined;
  /** Created only when someone asks for `finalResponse()`. */
  private waiter: Waiter | undefined = undefined;
  /** The transport the request went over when it was not the target's (§18.1.1: a large request moved to TCP). */
  private sentOver: TransportProtocol | undefined = undefined;

  protected constructor(ctx: TransactionContext, key: string, request: SipRequest, initial: S, target: Target, options: ClientTransactionOptions | undefined) {
    super(ctx, key, request, initial);
    this.target = target;
    this.connectionId = options?.connectionId;
    this.listener = options?.listener;
  }

  /** Whether the request went over a reliable transport: the target's, or TCP when §18.1.1 moved it there. */
  get reliable(): boolean {
    return isReliable(this.sentOver ?? this.target.protocol);
  }

  /** The first final response received, if any. */
  get response(): SipResponse | undefined {
    return this.outcome instanceof SipResponse ? this.outcome : undefined;
  }

  /**
   * Resolves with the first final response, whatever its status (a 486 is an outcome, not an
   * error; for INVITE, the first 2xx). Rejects with a TransactionError: ERR_TIMEOUT (Timer B/F),
   * ERR_TRANSPORT, or ERR_TERMINATED when the owner ended the transaction first.
   */
  finalResponse(): Promise<SipResponse> {
    const o = this.outcome;
    if (o instanceof SipResponse) return Promise.resolve(o);
    if (o !== undefined) return Promise.reject(o);
    if (this.state === 'terminated') return Promise.reject(terminatedError(this.request));
    if (this.waiter === undefined) {
      let resolve!: (r: SipResponse) => void;
      let reject!: (e: TransactionError) => void;
      const promise = new Promise<SipResponse>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.waiter = { promise, resolve, reject };
    }
    return this.waiter.promise;
  }

  /**
   * Ends the transaction now without sending anything; `finalResponse()` rejects with
   * ERR_TERMINATED if still pending. For the TU's own decisions, e.g. RFC 3261 §9.1: an INVITE
   * with no final response 64*T1 after its CANCEL is considered cancelled and destroyed.
   */
  terminate(): void {
    if (this.state === 'terminated') return;
    this.end();
    // The error is built only for someone waiting: closing a layer of 100k transactions should
    // not capture 100k stack traces.
    if (this.waiter !== undefined && this.outcome === undefined) {
      this.outcome = terminatedError(this.request);
      this.waiter.reject(this.outcome);
    }
  }

  /** @internal Sends the request and arms the first timers. */
  abstract start(): void;
  /** @internal A response the layer matched to this transaction (§17.1.3). */
  abstract receive(response: SipResponse): void;

  /** Passes a response to the TU. */
  protected deliver(response: SipResponse): void {
    this.listener?.onResponse(response, this as ClientTransaction);
  }

  /** Records the final response (the first one only) for `finalResponse()`. */
  protected settle(response: SipResponse): void {
    if (this.outcome !== undefined) return;
    this.outcome = response;
    this.waiter?.resolve(response);
    // The outcome answers `finalResponse()` from now on: the promise and its closures can go.
    this.waiter = undefined;
  }

  /**
   * The machine will pass nothing more to the TU (a state that only absorbs retransmissions, with
   * no send that could fail): the listener, and whatever the TU hung on it, can be collected
   * while the state's timer runs (Timer K: T4).
   */
  protected release(): void {
    this.listener = undefined;
  }

  /** Terminates on a failure and reports it (§17.1.1.2 Timer B, §17.1.2.2 Timer F, §17.1.4). */
  protected fail(error: TransactionError): void {
    this.end();
    if (this.outcome === undefined) {
      this.outcome = error;
      this.waiter?.reject(error);
    }
    this.listener?.onError?.(error, this as ClientTransaction);
  }

  /**
   * Hands a request (the original, a retransmission, or the ACK for a non-2xx) to the transport.
   * An async method rather than `.catch(() => ...)`, so a send allocates no closure that outlives it.
   */
  protected async transmit(request: SipRequest): Promise<void> {
    try {
      // §17.1.1.3: the ACK for a non-2xx goes where the INVITE went, over the transport it used.
      const to = this.sentOver === undefined ? this.target : { ...this.target, protocol: this.sentOver };
      await this.ctx.transport.sendRequest(request, to, this.connectionId);
      if (request === this.request && this.sentOver === undefined) this.checkTransportUsed();
    } catch (e) {
      // RFC 3261 §17.1.4 / §8.1.3.1: a transport failure is reported as such and ends the
      // transaction (figures 5 and 6); once terminated or closed there is nobody left to tell.
      if (this.state !== 'terminated' && !this.ctx.closed) {
        const detail = e instanceof Error ? e.message : String(e);
        this.fail(new TransactionError('ERR_TRANSPORT', `could not send ${request.method}: ${detail}`, { cause: e }));
      }
    }
  }

  /**
   * RFC 3261 §18.1.1: a request over 1300 bytes for a UDP target goes over TCP, and the transport
   * rewrites the top Via to say so. The transaction then runs as over TCP: §17.1.1.2 and
   * §17.1.2.2 arm Timers A and E for unreliable transports only, and Timers D and K are zero.
   */
  private checkTransportUsed(): void {
    const token = this.request.topVia?.transport;
    const used = token === undefined ? undefined : protocolFromToken(token);
    if (used === undefined || used === this.target.protocol || !isReliable(used) || isReliable(this.target.protocol)) return;
    this.sentOver = used;
    if (this.state !== 'terminated') this.stopRetransmitTimer();
  }
}

function terminatedError(request: SipRequest): TransactionError {
  return new TransactionError('ERR_TERMINATED', `${request.method} client transaction terminated before a final response`);
}

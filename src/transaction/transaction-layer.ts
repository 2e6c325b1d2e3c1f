/**
 * The transaction layer (RFC 3261 §17): it sits on a TransportLayer as its TransportHandler,
 * matches each message to a transaction (§17.1.3, §17.2.3) or creates one, owns the one timer heap
 * all machines share, and talks upward only through the TransactionUser it declares here.
 */
import { RealClock, type Clock } from '../core/clock.js';
import { SipError, SipParseError } from '../core/errors.js';
import { newBranch } from '../core/ids.js';
import { SipRequest, createResponse, type SipResponse } from '../message/index.js';
import type { Source, Target, TransportHandler, TransportLayer, ViaSentBy } from '../transport/types.js';
import { ClientTransaction, type ClientTransactionOptions } from './client-transaction.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { ServerTransaction } from './server-transaction.js';
import { TimerHeap } from './timer-heap.js';
import type { TransactionError } from './transaction-error.js';
import { clientKey, hasRfc3261Branch, mergeKey, serverKey } from './transaction-keys.js';
import type { Transaction, TransactionContext } from './transaction.js';

/**
 * The layer above (the UA core, or the proxy core). Everything the transaction layer tells it goes
 * through here; responses to its own requests go to each request's ClientTransactionListener.
 */
export interface TransactionUser {
  /**
   * A request that created a server transaction (never an ACK). The TU answers with
   * `transaction.respond(createResponse(request, status))`. A CANCEL comes here too, with its own
   * transaction: find what it cancels with `findInviteForCancel`, and answer 481 when nothing
   * matches (§9.2).
   */
  onRequest(request: SipRequest, transaction: ServerTransaction): void;
  /**
   * An ACK that is not part of an INVITE transaction: the ACK for a 2xx, which has its own branch
   * (§17.1.1.3, §13.3.1.4; a proxy forwards it, §16.11), `transaction` undefined; or one that
   * matched an INVITE server transaction in 'accepted', which passes it up (RFC 6026 §7.1).
   */
  onAck(ack: SipRequest, source: Source, transaction: InviteServerTransaction | undefined): void;
  /**
   * A response that matches no client transaction. RFC 6026 §8.9: only a stateless proxy forwards
   * these; a UA or stateful proxy leaves this out and they are discarded. (2xx retransmissions
   * reach the TU through the INVITE client transaction's 'accepted' state instead.)
   */
  onStrayResponse?(response: SipResponse, source: Source): void;
  /** A server transaction failed: Timer H fired with no ACK (ERR_TIMEOUT), or a response could not be sent (ERR_TRANSPORT, §17.2.4). */
  onServerError?(transaction: ServerTransaction, error: TransactionError): void;
  /** Any transaction reached 'terminated' (for the proxy's response contexts, and metrics). */
  onTransactionTerminated?(transaction: ClientTransaction | ServerTransaction): void;
}

export interface TransactionLayerOptions {
  transport: TransportLayer;
  user: TransactionUser;
  /** Drives every timer; RealClock by default, FakeClock in tests. */
  clock?: Clock;
  /** RFC 3261 §17.1.1.1 T1, ms (500). */
  t1?: number;
  /** T2, ms (4000). */
  t2?: number;
  /** T4, ms (5000). */
  t4?: number;
  /**
   * §8.2.2.2 merged requests (a request without To tag, matching no transaction, whose From tag,
   * Call-ID and CSeq equal those of a live server transaction): when true (the default, right for
   * a UA) the layer answers them 482 (Loop Detected) itself, through a server transaction of their
   * own so retransmissions are absorbed, and the TU never sees them. A proxy sets false: §16
   * proxies forward such requests and detect loops by other means (§16.3).
   */
  rejectMergedRequests?: boolean;
}

/** Options of `sendAck`. */
export interface AckOptions {
  /** 'add' (default): a new top Via with a new branch; 'keep': resend an ACK that already has ours. */
  via?: 'add' | 'keep';
  connectionId?: string;
}

/**
 * Matches messages to transactions and creates them; the TransportHandler the transport layer
 * delivers to. One per stack; `close()` when done.
 */
export class TransactionLayer implements TransportHandler {
  private readonly transport: TransportLayer;
  private readonly user: TransactionUser;
  private readonly timers: TimerHeap;
  private readonly ctx: TransactionContext;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  /** §8.2.2.2 index: merge key → server transaction; absent when merged requests are not rejected. */
  private readonly merged: Map<string, ServerTransaction> | undefined;
  private closed = false;

  constructor(options: TransactionLayerOptions) {
    const t1 = positive(options.t1 ?? 500, 't1');
    const t2 = positive(options.t2 ?? 4000, 't2');
    const t4 = positive(options.t4 ?? 5000, 't4');
    const clock = options.clock ?? new RealClock();
    this.transport = options.transport;
    this.user = options.user;
    this.timers = new TimerHeap(clock);
    this.merged = options.rejectMergedRequests === false ? undefined : new Map();
    const layer = this;
    this.ctx = {
      transport: this.transport,
      timers: this.timers,
      clock,
      t1,
      t2,
      t4,
      get closed(): boolean {
        return layer.closed;
      },
      terminated: (tx) => this.forget(tx),
      ackToUser: (ack, tx) => this.user.onAck(ack, tx.source, tx),
      serverFailed: (tx, error) => this.user.onServerError?.(tx, error),
    };
  }

  /** Live transactions, client and server. */
  get size(): number {
    return this.clients.size + this.servers.size;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get serverCount(): number {
    return this.servers.size;
  }

  /** Transactions with a timer armed (the heap's size). */
  get timerCount(): number {
    return this.timers.size;
  }

  /**
   * Sends `request` to `target` in a new client transaction: an InviteClientTransaction for
   * INVITE, a NonInviteClientTransaction otherwise. Adds the top Via (see
   * ClientTransactionOptions.via). Throws SipError: ERR_INVALID_ARGUMENT for an ACK (not a
   * transaction, §17; use sendAck) or a kept Via without branch, ERR_TRANSACTION_EXISTS when the
   * branch is in use, ERR_CLOSED after close().
   */
  sendRequest(request: SipRequest, target: Target, options?: ClientTransactionOptions): ClientTransaction {
    this.checkOpen();
    const method = request.method;
    if (method === 'ACK') throw new SipError('ERR_INVALID_ARGUMENT', 'an ACK is not sent in a transaction (RFC 3261 §17); use sendAck');
    let branch: string;
    if ((options?.via ?? (method === 'CANCEL' ? 'keep' : 'add')) === 'add') {
      branch = newBranch();
      request.prepend('Via', viaValue(this.transport.viaFor(target), branch));
    } else {
      const kept = request.topVia?.params.branch;
      if (!kept) throw new SipError('ERR_INVALID_ARGUMENT', `${method} has no top Via branch to keep`);
      branch = kept;
    }
    const key = clientKey(branch, method);
    if (this.clients.has(key)) throw new SipError('ERR_TRANSACTION_EXISTS', `a ${method} client transaction with branch ${branch} exists`);
    const tx: ClientTransaction =
      method === 'INVITE'
        ? new InviteClientTransaction(this.ctx, key, request, target, options)
        : new NonInviteClientTransaction(this.ctx, key, request, target, options);
    this.clients.set(key, tx);
    tx.start();
    return tx;
  }

  /**
   * Sends an ACK for a 2xx, which is no transaction's business (§17.1.1.3, §13.2.2.4): no
   * retransmission, no state. Rejects like `transport.sendRequest` (SipError ERR_TRANSPORT).
   */
  sendAck(ack: SipRequest, target: Target, options?: AckOptions): Promise<void> {
    this.checkOpen();
    if (ack.method !== 'ACK') throw new SipError('ERR_INVALID_ARGUMENT', `sendAck sends ACKs, not ${ack.method}`);
    if ((options?.via ?? 'add') === 'add') ack.prepend('Via', viaValue(this.transport.viaFor(target), newBranch()));
    return this.transport.sendRequest(ack, target, options?.connectionId);
  }

  /**
   * RFC 3261 §9.2: the INVITE server transaction a CANCEL targets: the one the CANCEL would match
   * by §17.2.3 were its method INVITE (same branch and sent-by; for RFC 2543 peers, same
   * Request-URI, tags, Call-ID, CSeq number and top Via).
   */
  findInviteForCancel(cancel: SipRequest): InviteServerTransaction | undefined {
    let key: string | undefined;
    try {
      key = serverKey(cancel, 'INVITE');
    } catch (e) {
      if (e instanceof SipParseError) return undefined;
      throw e;
    }
    const tx = key === undefined ? undefined : this.servers.get(key);
    if (!(tx instanceof InviteServerTransaction)) return undefined;
    if (!hasRfc3261Branch(cancel.topVia!) && toTag(cancel.to.params.tag) !== toTag(tx.request.to.params.tag)) return undefined;
    return tx;
  }

  /** TransportHandler: every message from the transport, in arrival order. */
  onMessage(message: SipRequest | SipResponse, source: Source): void {
    if (this.closed) return;
    if (message instanceof SipRequest) this.receiveRequest(message, source);
    else this.receiveResponse(message, source);
  }

  /**
   * Stops everything: the timer heap and its Clock timer, every transaction (terminated without
   * notifying anyone; pending `finalResponse()` promises reject with ERR_TERMINATED). Later
   * messages are ignored and sends throw ERR_CLOSED.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.close();
    // forget() does nothing once closed: the maps are dropped whole below, not entry by entry.
    for (const tx of this.clients.values()) tx.terminate();
    for (const tx of this.servers.values()) tx.terminate();
    this.clients.clear();
    this.servers.clear();
    this.merged?.clear();
  }

  private receiveResponse(response: SipResponse, source: Source): void {
    let tx: ClientTransaction | undefined;
    try {
      const branch = response.topVia?.params.branch;
      // §17.1.3: top Via branch and CSeq method (a CANCEL's response differs from its INVITE's).
      if (branch) tx = this.clients.get(clientKey(branch, response.cseq.method));
    } catch (e) {
      // A header that fails its lazy parse: nothing can be matched, so nothing is done (§18.1.2).
      if (e instanceof SipParseError) return;
      throw e;
    }
    if (tx !== undefined) tx.receive(response);
    else this.user.onStrayResponse?.(response, source);
  }

  private receiveRequest(request: SipRequest, source: Source): void {
    const method = request.method;
    let key: string | undefined;
    let rfc2543 = false;
    let merge: string | undefined;
    try {
      // §17.2.3: an ACK matches the INVITE transaction it acknowledges.
      key = serverKey(request, method === 'ACK' ? 'INVITE' : method);
      if (key === undefined) return;
      rfc2543 = !hasRfc3261Branch(request.topVia!);
      if (this.merged !== undefined && method !== 'ACK') merge = mergeKey(request);
    } catch (e) {
      if (e instanceof SipParseError) return;
      throw e;
    }
    const tx = this.servers.get(key);

    if (method === 'ACK') {
      // §17.2.3 (RFC 2543 case): the ACK's To tag must be the one of the response it acknowledges.
      if (tx instanceof InviteServerTransaction && (!rfc2543 || toTag(request.to.params.tag) === toTag(tx.response?.to.params.tag))) {
        tx.receiveAck(request);
      } else {
        this.user.onAck(request, source, undefined);
      }
      return;
    }

    if (tx !== undefined) {
      // DEVIATION(RFC 3261 §17.2.3): an RFC 2543 request equal to a live one but for its To tag
      // (its key leaves the To tag out) is dropped rather than given a transaction of its own.
      if (rfc2543 && toTag(request.to.params.tag) !== toTag(tx.request.to.params.tag)) return;
      tx.receiveRequest(request);
      return;
    }

    const created: ServerTransaction =
      method === 'INVITE'
        ? new InviteServerTransaction(this.ctx, key, request, source)
        : new NonInviteServerTransaction(this.ctx, key, request, source);
    this.servers.set(key, created);
    created.start();
    if (merge !== undefined) {
      const original = this.merged!.get(merge);
      if (original !== undefined) {
        // §8.2.2.2: the same request reached us twice by different paths; answer the copy
        // 482 (Loop Detected) through its own transaction, which absorbs its retransmissions.
        created.respond(createResponse(request, 482));
        return;
      }
      this.merged!.set(merge, created);
    }
    this.user.onRequest(request, created);
  }

  /** A transaction reached 'terminated': drop it from the maps, tell the TU. */
  private forget(tx: Transaction): void {
    if (this.closed) return;
    if (tx instanceof ClientTransaction) {
      if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
    } else {
      const server = tx as ServerTransaction;
      if (this.servers.get(tx.key) === server) this.servers.delete(tx.key);
      if (this.merged !== undefined && this.merged.size > 0) {
        const merge = mergeKey(server.request);
        if (merge !== undefined && this.merged.get(merge) === server) this.merged.delete(merge);
      }
    }
    this.user.onTransactionTerminated?.(tx as ClientTransaction | ServerTransaction);
  }

  private checkOpen(): void {
    if (this.closed) throw new SipError('ERR_CLOSED', 'the transaction layer is closed');
  }
}

function positive(value: number, name: string): number {
  if (!(value > 0 && Number.isFinite(value))) throw new SipError('ERR_INVALID_ARGUMENT', `${name} must be a positive number of milliseconds`);
  return value;
}

/** An absent tag and an empty one compare equal. */
function toTag(tag: string | null | undefined): string {
  return tag ?? '';
}

/**
 * Our top Via (§8.1.1.7, §18.1.1): sent-by from the transport, a magic-cookie branch, and `rport`
 * (RFC 3581 §3) so that responses find their way back through NATs.
 */
function viaValue(sentBy: ViaSentBy, branch: string): string {
  const host = sentBy.host.includes(':') && !sentBy.host.startsWith('[') ? `[${sentBy.host}]` : sentBy.host;
  return `SIP/2.0/${sentBy.transport} ${host}:${sentBy.port};branch=${branch};rport`;
}

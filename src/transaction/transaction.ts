/**
 * What the four RFC 3261 §17 machines share: state with tracing, and their timers folded into two
 * deadlines that the layer's one TimerHeap schedules.
 *
 * Every machine needs at most two timers at once: a short one that repeats (A, E, G, or the 100
 * Trying delay of §17.2.1) and a long one that ends the state (B, D, F, H, I, J, K, L, M). So a
 * transaction keeps two numbers, `retransmitAt` and `endAt`, and is itself the heap entry for the
 * earlier of the two: no timer objects, no closures.
 */
import { channel } from 'node:diagnostics_channel';
import type { Clock } from '../core/clock.js';
import type { SipRequest } from '../message/message.js';
import type { TransportLayer } from '../transport/types.js';
import type { InviteServerTransaction } from './invite-server-transaction.js';
import type { ServerTransaction } from './server-transaction.js';
import type { Scheduled, TimerHeap } from './timer-heap.js';
import type { TransactionError } from './transaction-error.js';

/** The states of RFC 3261 §17 figures 5-8 and RFC 6026 figures 4-5, named as there. */
export type TransactionState = 'calling' | 'trying' | 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

/** Published on `hookflash:transaction:state` at every change (only when someone subscribes). */
export interface TransactionStateChange {
  transaction: Transaction;
  from: TransactionState;
  to: TransactionState;
}

const stateChannel = channel('hookflash:transaction:state');

/**
 * @internal What a transaction needs from the layer that owns it: one object per layer, shared
 * by all its transactions (a transaction keeps one pointer to it, not copies of T1, T2, T4).
 */
export interface TransactionContext {
  readonly transport: TransportLayer;
  readonly timers: TimerHeap;
  readonly clock: Clock;
  /** RTT estimate, ms (RFC 3261 §17.1.1.1, default 500). */
  readonly t1: number;
  /** Longest retransmit interval for non-INVITE requests and INVITE responses, ms (default 4000). */
  readonly t2: number;
  /** Longest time a message stays in the network, ms (default 5000). */
  readonly t4: number;
  /** True once the layer is closed: late transport failures are no longer reported. */
  readonly closed: boolean;
  /** A transaction reached 'terminated': the layer forgets it and tells the TU. */
  terminated(transaction: Transaction): void;
  /** An INVITE server transaction in 'accepted' passes an ACK up (RFC 6026 §7.1). */
  ackToUser(ack: SipRequest, transaction: InviteServerTransaction): void;
  /** A server transaction failed (Timer H, or a response that could not be sent). */
  serverFailed(transaction: ServerTransaction, error: TransactionError): void;
}

/** The base of the four machines: state, the request that made it, two timer deadlines. */
export abstract class Transaction<S extends TransactionState = TransactionState> implements Scheduled {
  /** @internal Owned by the TimerHeap. */
  heapIndex = -1;
  /** @internal Owned by the TimerHeap. */
  deadline = Infinity;
  /** The request that created the transaction. */
  readonly request: SipRequest;
  /** @internal The layer's matching key (§17.1.3 or §17.2.3). */
  readonly key: string;
  protected readonly ctx: TransactionContext;
  /** Deadline of the repeating timer (A, E, G) or of the 100 Trying delay. */
  protected retransmitAt = Infinity;
  /** Deadline of the timer that ends the current state (B, D, F, H, I, J, K, L, M). */
  protected endAt = Infinity;
  /** The current retransmission interval (doubles per §17.1.1.2, §17.1.2.2, §17.2.1). */
  protected interval = 0;
  private current: S;

  protected constructor(ctx: TransactionContext, key: string, request: SipRequest, initial: S) {
    this.ctx = ctx;
    this.key = key;
    this.request = request;
    this.current = initial;
  }

  /** The machine's state. */
  get state(): S {
    return this.current;
  }

  /** True over TCP, TLS, WS, WSS: no retransmission timers, zero-length wait states (§17.1.1.2). */
  abstract get reliable(): boolean;

  /** The top Via's branch: the transaction id (§8.1.1.7). */
  get branch(): string {
    return this.request.topVia?.params.branch ?? '';
  }

  /** Ends the transaction now, sending nothing. */
  abstract terminate(): void;

  /** @internal Called by the TimerHeap: runs whichever of the two timers fell due. */
  onDeadline(now: number): void {
    // The ending timer wins a tie: retransmitting at the instant the state ends helps nobody.
    if (this.endAt <= now) {
      this.endAt = Infinity;
      this.onEndTimer();
    } else if (this.retransmitAt <= now) {
      this.retransmitAt = Infinity;
      this.onRetransmitTimer();
    }
    if (this.current !== 'terminated') this.reschedule();
  }

  /** Timer A, E or G (or the 100 Trying delay) fired. */
  protected abstract onRetransmitTimer(): void;
  /** Timer B, D, F, H, I, J, K, L or M fired. */
  protected abstract onEndTimer(): void;

  protected enter(state: S): void {
    const from = this.current;
    this.current = state;
    if (stateChannel.hasSubscribers) {
      const change: TransactionStateChange = { transaction: this as Transaction, from, to: state };
      stateChannel.publish(change);
    }
  }

  /** Arms the repeating timer `ms` from now, and remembers `ms` as the current interval. */
  protected startRetransmitTimer(ms: number): void {
    this.interval = ms;
    this.retransmitAt = this.ctx.clock.now() + ms;
    this.reschedule();
  }

  protected stopRetransmitTimer(): void {
    this.retransmitAt = Infinity;
    this.reschedule();
  }

  /** Arms the state-ending timer `ms` from now (replacing any other). */
  protected startEndTimer(ms: number): void {
    this.endAt = this.ctx.clock.now() + ms;
    this.reschedule();
  }

  protected stopTimers(): void {
    this.retransmitAt = Infinity;
    this.endAt = Infinity;
    this.reschedule();
  }

  /** Moves to 'terminated' (once): timers stop and the layer forgets the transaction. */
  protected end(): void {
    if (this.current === 'terminated') return;
    this.stopTimers();
    this.enter('terminated' as S);
    this.ctx.terminated(this as Transaction);
  }

  private reschedule(): void {
    const at = this.retransmitAt < this.endAt ? this.retransmitAt : this.endAt;
    if (at === Infinity) this.ctx.timers.cancel(this);
    else if (at !== this.deadline || this.heapIndex < 0) this.ctx.timers.schedule(this, at);
  }
}

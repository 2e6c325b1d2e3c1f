/**
 * The non-INVITE client transaction: RFC 3261 §17.1.2 (figure 6).
 *
 *   trying --1xx--> proceeding --1xx--> proceeding
 *   trying|proceeding --200-699--> completed (Timer K) --Timer K--> terminated
 *   trying|proceeding --Timer F--> terminated (timeout); --transport error--> terminated
 *   Timer E retransmits: T1, 2T1, 4T1... capped at T2 in Trying; every T2 in Proceeding.
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import type { Target } from '../transport/types.js';
import { ClientTransaction, type ClientTransactionOptions } from './client-transaction.js';
import { TransactionError } from './transaction-error.js';
import type { TransactionContext } from './transaction.js';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Sends any request but INVITE and ACK, and sees it to a final response (RFC 3261 §17.1.2). */
export class NonInviteClientTransaction extends ClientTransaction<NonInviteClientState> {
  /** @internal Created by TransactionLayer.sendRequest. */
  constructor(ctx: TransactionContext, key: string, request: SipRequest, target: Target, options?: ClientTransactionOptions) {
    super(ctx, key, request, 'trying', target, options);
  }

  /** @internal */
  start(): void {
    // RFC 3261 §17.1.2.2: Timer F bounds the whole transaction on every transport; Timer E
    // retransmits only over unreliable ones.
    this.startEndTimer(64 * this.ctx.t1);
    if (!this.reliable) this.startRetransmitTimer(this.ctx.t1);
    void this.transmit(this.request);
  }

  /** @internal */
  receive(response: SipResponse): void {
    const state = this.state;
    if (state !== 'trying' && state !== 'proceeding') {
      // §17.1.2.2: in Completed, retransmitted final responses are absorbed.
      return;
    }
    if (response.status < 200) {
      // §17.1.2.2: Timer E keeps running in Proceeding (now at T2) and Timer F still bounds it.
      if (state === 'trying') this.enter('proceeding');
      this.deliver(response);
      return;
    }
    this.stopTimers();
    this.enter('completed');
    this.settle(response);
    this.deliver(response);
    // Completed only absorbs retransmitted finals and sends nothing: the TU is done with.
    this.release();
    // §17.1.2.2: Timer K absorbs retransmitted finals, which only unreliable transports carry:
    // T4 there, zero over reliable ones.
    if (this.reliable) this.end();
    else this.startEndTimer(this.ctx.t4);
  }

  /** Timer E. */
  protected onRetransmitTimer(): void {
    const state = this.state;
    if (state !== 'trying' && state !== 'proceeding') return;
    void this.transmit(this.request);
    // §17.1.2.2: in Trying the interval doubles up to T2; once a provisional response has come
    // (Proceeding) the request is resent every T2.
    const t2 = this.ctx.t2;
    this.startRetransmitTimer(state === 'trying' ? Math.min(2 * this.interval, t2) : t2);
  }

  /** Timer F (trying, proceeding) or K (completed). */
  protected onEndTimer(): void {
    if (this.state === 'completed') {
      this.end();
      return;
    }
    // §17.1.2.2: Timer F firing in Trying or Proceeding is a timeout the TU hears of.
    this.fail(new TransactionError('ERR_TIMEOUT', `${this.request.method} timed out (Timer F)`, { timer: 'F' }));
  }
}

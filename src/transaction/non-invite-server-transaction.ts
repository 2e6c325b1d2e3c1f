/**
 * The non-INVITE server transaction: RFC 3261 §17.2.2 (figure 8).
 *
 *   trying --1xx from TU--> proceeding --1xx from TU--> proceeding
 *   trying|proceeding --200-699 from TU--> completed (Timer J) --Timer J--> terminated
 *   retransmitted request: absorbed in Trying; answered with the last response in Proceeding, Completed
 *   proceeding|completed --transport error--> terminated (TU told)
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import type { Source } from '../transport/types.js';
import { ServerTransaction } from './server-transaction.js';
import type { TransactionError } from './transaction-error.js';
import type { TransactionContext } from './transaction.js';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Receives any request but INVITE and ACK, and carries the TU's responses (RFC 3261 §17.2.2). */
export class NonInviteServerTransaction extends ServerTransaction<NonInviteServerState> {
  /** @internal Created by TransactionLayer when a request matches no transaction. */
  constructor(ctx: TransactionContext, key: string, request: SipRequest, source: Source) {
    super(ctx, key, request, 'trying', source);
  }

  /** @internal Nothing to arm: §17.2.2 sets no timer before the final response. */
  start(): void {}

  respond(response: SipResponse): boolean {
    this.checkStatus(response);
    const state = this.state;
    // §17.2.2: once Completed, further responses from the TU MUST be discarded.
    if (state !== 'trying' && state !== 'proceeding') return false;
    this.lastResponse = response;
    if (response.status < 200) {
      if (state === 'trying') this.enter('proceeding');
      void this.transmit(response);
      return true;
    }
    this.enter('completed');
    void this.transmit(response);
    // §17.2.2: Timer J keeps the final response for retransmitted requests, which only an
    // unreliable transport produces: 64*T1 there, zero over reliable ones.
    if (this.reliable) this.end();
    else this.startEndTimer(64 * this.ctx.t1);
    return true;
  }

  /** @internal */
  receiveRequest(_request: SipRequest): void {
    // §17.2.2: in Trying the retransmission is absorbed (the TU has nothing to say yet); after
    // that the last response answers it.
    if (this.state === 'proceeding' || this.state === 'completed') void this.transmit(this.lastResponse!);
  }

  /** Never armed: a non-INVITE server transaction retransmits only when the request does. */
  protected onRetransmitTimer(): void {}

  /** Timer J. */
  protected onEndTimer(): void {
    this.end();
  }

  /** §17.2.2 (figure 8): a transport error in Proceeding or Completed ends the transaction. */
  protected override transportFailed(error: TransactionError): void {
    super.transportFailed(error);
    this.end();
  }
}

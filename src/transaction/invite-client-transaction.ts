/**
 * The INVITE client transaction: RFC 3261 §17.1.1 (figure 5) as corrected by RFC 6026 §7.2
 * (figure 4), which adds the 'accepted' state.
 *
 *   calling --1xx--> proceeding --1xx--> proceeding
 *   calling|proceeding --2xx--> accepted (Timer M) --2xx--> to TU; Timer M --> terminated
 *   calling|proceeding --300-699--> completed (ACK; Timer D) --300-699--> ACK again; Timer D --> terminated
 *   calling --Timer B--> terminated (timeout); any --transport error--> terminated
 */
import { createRequest, type SipRequest, type SipResponse } from '../message/index.js';
import type { Target } from '../transport/types.js';
import { ClientTransaction, type ClientTransactionOptions } from './client-transaction.js';
import { TransactionError } from './transaction-error.js';
import type { TransactionContext } from './transaction.js';

export type InviteClientState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

/** Timer D's floor over unreliable transports (RFC 3261 §17.1.1.2: "at least 32 seconds"). */
const TIMER_D_MIN = 32_000;

/** Sends an INVITE and sees it to a final response (RFC 3261 §17.1.1, RFC 6026 §7.2). */
export class InviteClientTransaction extends ClientTransaction<InviteClientState> {
  /** The ACK for a non-2xx final response, built once and resent for each retransmission of it. */
  private ack: SipRequest | undefined = undefined;

  /** @internal Created by TransactionLayer.sendRequest. */
  constructor(ctx: TransactionContext, key: string, request: SipRequest, target: Target, options?: ClientTransactionOptions) {
    super(ctx, key, request, 'calling', target, options);
  }

  /** @internal */
  start(): void {
    // RFC 3261 §17.1.1.2: Timer B bounds the Calling state on every transport; Timer A
    // retransmits only over unreliable ones.
    this.startEndTimer(64 * this.ctx.t1);
    if (!this.reliable) this.startRetransmitTimer(this.ctx.t1);
    void this.transmit(this.request);
  }

  /** @internal */
  receive(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          // §17.1.1.2: a provisional response stops retransmissions and Timer B's watch over
          // Calling; the INVITE now waits as long as the TU lets it (CANCEL, §9.1).
          if (this.state === 'calling') {
            this.stopTimers();
            this.enter('proceeding');
          }
          this.deliver(response);
        } else if (status < 300) {
          // RFC 6026 §7.2: a 2xx no longer ends the transaction; it waits in Accepted for Timer M
          // so that retransmitted and forked 2xx responses still match it and reach the TU, which
          // sends the ACK (§13.2.2.4).
          this.stopTimers();
          this.enter('accepted');
          this.startEndTimer(64 * this.ctx.t1);
          this.settle(response);
          this.deliver(response);
        } else {
          this.stopTimers();
          this.enter('completed');
          this.ack = this.buildAck(response);
          void this.transmit(this.ack);
          this.settle(response);
          this.deliver(response);
          // §17.1.1.2: Timer D waits out retransmissions of the final response, which only an
          // unreliable transport produces: zero over reliable ones.
          if (this.reliable) this.end();
          else this.startEndTimer(Math.max(TIMER_D_MIN, 64 * this.ctx.t1));
        }
        return;
      case 'accepted':
        // RFC 6026 §7.2: each 2xx (a retransmission, or another fork's) goes to the TU; anything
        // else that trails the 2xx is absorbed.
        if (status >= 200 && status < 300) this.deliver(response);
        return;
      case 'completed':
        // §17.1.1.2: a retransmitted final response is answered with the same ACK, not passed up.
        if (status >= 300 && this.ack !== undefined) void this.transmit(this.ack);
        return;
      case 'terminated':
        return;
    }
  }

  /** Timer A: §17.1.1.2, retransmit while Calling, doubling the interval each time (no T2 cap). */
  protected onRetransmitTimer(): void {
    if (this.state !== 'calling') return;
    void this.transmit(this.request);
    this.startRetransmitTimer(2 * this.interval);
  }

  /** Timer B (calling), D (completed) or M (accepted). */
  protected onEndTimer(): void {
    if (this.state === 'calling') {
      // §17.1.1.2: Timer B in Calling is a timeout the TU hears of; no ACK is generated.
      this.fail(new TransactionError('ERR_TIMEOUT', 'INVITE timed out (Timer B)', { timer: 'B' }));
    } else {
      this.end();
    }
  }

  /**
   * RFC 3261 §17.1.1.3: the ACK for a non-2xx final response has the INVITE's Request-URI,
   * Call-ID, From and CSeq number, a single Via equal to the INVITE's top Via (same branch, so it
   * matches the server transaction), the To of the response (with the UAS's tag), and the INVITE's
   * Route header fields.
   */
  private buildAck(response: SipResponse): SipRequest {
    const invite = this.request;
    const topVia = invite.topVia!;
    const from = invite.get('from')!;
    const ack = createRequest({
      method: 'ACK',
      uri: invite.uriText,
      via: topVia,
      from,
      to: response.get('to') ?? invite.get('to')!,
      callId: invite.callId,
      cseq: invite.cseq.seq,
      route: invite.getAll('route'),
    });
    // createRequest adds a From tag when there is none (an RFC 2543 peer); the ACK must carry the
    // INVITE's From exactly.
    if (!invite.from.params.tag) ack.set('From', from);
    return ack;
  }
}


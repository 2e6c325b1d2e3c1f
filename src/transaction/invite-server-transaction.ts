/**
 * The INVITE server transaction: RFC 3261 §17.2.1 (figure 7) as corrected by RFC 6026 §7.1
 * (figure 5), which adds the 'accepted' state.
 *
 *   proceeding --1xx from TU--> proceeding (100 Trying sent after 200 ms if the TU is silent)
 *   proceeding --2xx from TU--> accepted (Timer L) --2xx from TU--> send; ACK --> to TU; Timer L --> terminated
 *   proceeding --300-699 from TU--> completed (Timer G, H) --ACK--> confirmed (Timer I) --Timer I--> terminated
 *   completed --Timer H--> terminated (TU told: no ACK)
 *   transport errors: TU told, state kept (RFC 6026 figure 5 loops them back; RFC 3261 figure 7
 *   terminated, leaving retransmitted INVITEs to look like new requests). Timers H and L still end it.
 */
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import type { Source } from '../transport/types.js';
import { ServerTransaction } from './server-transaction.js';
import { TransactionError } from './transaction-error.js';
import type { TransactionContext } from './transaction.js';

export type InviteServerState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

/** §17.2.1: how long the TU may stay silent before the transaction sends 100 Trying itself. */
const TRYING_DELAY = 200;

/** Receives an INVITE and carries the TU's responses (RFC 3261 §17.2.1, RFC 6026 §7.1). */
export class InviteServerTransaction extends ServerTransaction<InviteServerState> {
  /** @internal Created by TransactionLayer when an INVITE matches no transaction. */
  constructor(ctx: TransactionContext, key: string, request: SipRequest, source: Source) {
    super(ctx, key, request, 'proceeding', source);
  }

  /** @internal */
  start(): void {
    // §17.2.1: a 100 Trying MUST go out unless the TU answers within 200 ms; the repeating-timer
    // slot, idle in Proceeding, holds that delay. Any response from the TU first disarms it.
    this.startRetransmitTimer(TRYING_DELAY);
  }

  respond(response: SipResponse): boolean {
    this.checkStatus(response);
    const status = response.status;
    switch (this.state) {
      case 'proceeding':
        this.stopTimers();
        this.lastResponse = response;
        if (status < 200) {
          void this.transmit(response);
        } else if (status < 300) {
          // RFC 6026 §7.1: a 2xx moves to Accepted for Timer L rather than ending the
          // transaction, so INVITE retransmissions are absorbed instead of looking like a new
          // request; the TU (UA core §13.3.1.4, or a proxy forwarding forks) retransmits the 2xx.
          this.enter('accepted');
          this.startEndTimer(64 * this.ctx.t1);
          void this.transmit(response);
        } else {
          // §17.2.1: Timer G retransmits the final over unreliable transports only; Timer H bounds
          // the wait for the ACK on every transport.
          this.enter('completed');
          this.startEndTimer(64 * this.ctx.t1);
          if (!this.reliable) this.startRetransmitTimer(this.ctx.t1);
          void this.transmit(response);
        }
        return true;
      case 'accepted':
        // RFC 6026 §7.1: "2xx from TU / send response" (retransmissions, or further forks' 2xx).
        if (status < 200 || status >= 300) return false;
        this.lastResponse = response;
        void this.transmit(response);
        return true;
      default:
        return false;
    }
  }

  /** @internal */
  receiveRequest(_request: SipRequest): void {
    switch (this.state) {
      case 'proceeding':
        // §17.2.1: resend the most recent provisional response (the 100 Trying counts); nothing
        // when none was sent yet.
        if (this.lastResponse !== undefined) void this.transmit(this.lastResponse);
        return;
      case 'completed':
        void this.transmit(this.lastResponse!);
        return;
      default:
        // RFC 6026 §7.1: in Accepted the retransmission is absorbed (the TU's 2xx retransmissions
        // answer it); in Confirmed, too.
        return;
    }
  }

  /** @internal An ACK the layer matched to this transaction (§17.2.3). */
  receiveAck(ack: SipRequest): void {
    switch (this.state) {
      case 'completed':
        // §17.2.1: the ACK stops Timers G and H; Timer I absorbs further ACKs, which only an
        // unreliable transport repeats: T4 there, zero over reliable ones.
        this.stopTimers();
        this.enter('confirmed');
        if (this.reliable) this.end();
        else this.startEndTimer(this.ctx.t4);
        return;
      case 'accepted':
        // RFC 6026 §7.1: an ACK matching in Accepted (an ACK for the 2xx that reused the
        // INVITE's branch) belongs to the TU.
        this.ctx.ackToUser(ack, this);
        return;
      default:
        return;
    }
  }

  /** The 100 Trying delay (proceeding) or Timer G (completed). */
  protected onRetransmitTimer(): void {
    if (this.state === 'proceeding') {
      if (this.lastResponse === undefined) {
        this.lastResponse = createResponse(this.request, 100);
        void this.transmit(this.lastResponse);
      }
      return;
    }
    if (this.state !== 'completed') return;
    // §17.2.1: Timer G doubles up to T2.
    void this.transmit(this.lastResponse!);
    this.startRetransmitTimer(Math.min(2 * this.interval, this.ctx.t2));
  }

  /** Timer H (completed), I (confirmed) or L (accepted). */
  protected onEndTimer(): void {
    const timedOut = this.state === 'completed';
    this.end();
    // §17.2.1: Timer H means the ACK never came: a transaction failure the TU is told of.
    if (timedOut) this.ctx.serverFailed(this, new TransactionError('ERR_TIMEOUT', 'no ACK for the final response (Timer H)', { timer: 'H' }));
  }
}

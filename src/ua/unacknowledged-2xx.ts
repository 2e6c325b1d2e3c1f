/**
 * The UAS core's half of the 2xx/ACK exchange (RFC 3261 §13.3.1.4): a 2xx to an INVITE is passed
 * to the transport again at T1, 2T1, 4T1... capped at T2, until its ACK arrives or 64*T1 passes.
 *
 * The transaction layer cannot do this: RFC 6026 §7.1 has the INVITE server transaction in
 * Accepted absorb retransmitted INVITEs and send only what the TU hands it, so a lost 2xx is
 * recovered only by the TU resending it. Each resend goes through the transaction
 * (`respond()` in Accepted, "2xx from TU / send response"), which keeps it on the request's path.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import type { ServerTransaction } from '../transaction/index.js';

interface Pending {
  transaction: ServerTransaction;
  response: SipResponse;
  interval: number;
  giveUpAt: number;
  timer: TimerHandle;
}

export interface Unacknowledged2xxOptions {
  clock: Clock;
  logger: Logger;
  t1: number;
  t2: number;
}

/** Every 2xx to an INVITE still waiting for its ACK, by dialog and CSeq. */
export class Unacknowledged2xx {
  private readonly o: Unacknowledged2xxOptions;
  private readonly pending = new Map<string, Pending>();

  constructor(options: Unacknowledged2xxOptions) {
    this.o = options;
  }

  /** 2xx responses waiting for an ACK. */
  get size(): number {
    return this.pending.size;
  }

  /** A 2xx was just sent on `transaction`: resend it until acknowledged. */
  start(transaction: ServerTransaction, response: SipResponse): void {
    const key = keyOf(response.callId, response.cseq.seq, response.fromTag, response.toTag);
    const previous = this.pending.get(key);
    if (previous !== undefined) this.o.clock.clearTimeout(previous.timer);
    const { clock, t1 } = this.o;
    const entry: Pending = { transaction, response, interval: t1, giveUpAt: clock.now() + 64 * t1, timer: { id: 0 } };
    entry.timer = clock.setTimeout(() => this.fire(key, entry), t1);
    this.pending.set(key, entry);
  }

  /**
   * An ACK arrived: stops the retransmissions of the 2xx it acknowledges (same Call-ID, CSeq
   * number and tags, §13.3.1.4). True when there was one.
   */
  acknowledge(ack: SipRequest): boolean {
    return this.stop(keyOf(ack.callId, ack.cseq.seq, ack.fromTag, ack.toTag));
  }

  /**
   * A request in the dialog (a BYE) proves the UAC got the 2xx even though its ACK was lost:
   * a UAC sends BYE only on a confirmed or early dialog (§15.1.1). Stops every 2xx of that dialog.
   */
  dialogUsed(request: SipRequest): void {
    const prefix = dialogPrefix(request.callId, request.fromTag, request.toTag);
    for (const key of [...this.pending.keys()]) if (key.startsWith(prefix)) this.stop(key);
  }

  close(): void {
    for (const p of this.pending.values()) this.o.clock.clearTimeout(p.timer);
    this.pending.clear();
  }

  private stop(key: string): boolean {
    const p = this.pending.get(key);
    if (p === undefined) return false;
    this.o.clock.clearTimeout(p.timer);
    this.pending.delete(key);
    return true;
  }

  private fire(key: string, p: Pending): void {
    if (this.pending.get(key) !== p) return;
    const { clock, t2, logger } = this.o;
    // The transaction refuses once it has left Accepted (Timer L, also 64*T1): nothing more to do.
    if (clock.now() >= p.giveUpAt || !p.transaction.respond(p.response)) {
      this.pending.delete(key);
      // §13.3.1.4: no ACK within 64*T1. The RFC then has the UAS end the session with a BYE;
      // that belongs to the dialog layer (a later issue), so it is only reported here.
      logger.warn({ callId: p.response.callId, cseq: p.response.cseq.seq }, 'no ACK for 2xx within 64*T1 (RFC 3261 §13.3.1.4)');
      return;
    }
    p.interval = Math.min(2 * p.interval, t2);
    p.timer = clock.setTimeout(() => this.fire(key, p), Math.min(p.interval, Math.max(0, p.giveUpAt - clock.now())));
  }
}

/** The request's From tag is the UAC's; a response carries the same, and the UAS's tag in To. */
function dialogPrefix(callId: string, fromTag: string | undefined, toTag: string | undefined): string {
  return `${callId}\n${fromTag ?? ''}\n${toTag ?? ''}\n`;
}

function keyOf(callId: string, seq: number, fromTag: string | undefined, toTag: string | undefined): string {
  return dialogPrefix(callId, fromTag, toTag) + seq;
}

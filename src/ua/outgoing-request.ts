/**
 * One attempt at sending a request (one client transaction, one target): passes provisional
 * responses to the caller and, for an INVITE, answers each retransmitted 2xx with the ACK the
 * caller sent for it (RFC 3261 §13.2.2.4).
 */
import type { Logger } from '../core/logger.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import type { ClientTransaction, ClientTransactionListener } from '../transaction/index.js';
import type { Target } from '../transport/index.js';

/** An ACK for a 2xx, kept to answer that 2xx's retransmissions. */
export interface SentAck {
  ack: SipRequest;
  target: Target;
}

export interface OutgoingRequestOptions {
  request: SipRequest;
  logger: Logger;
  onProvisional: ((response: SipResponse) => void) | undefined;
  /** Each 2xx to an INVITE: the first, retransmissions, other forks' (RFC 6026 §7.2). */
  on2xx?: ((response: SipResponse) => void) | undefined;
  /** Sends a kept ACK again, its Via unchanged. */
  resendAck(sent: SentAck): void;
}

export class OutgoingRequest implements ClientTransactionListener {
  /** The request as sent (with our Via). */
  readonly request: SipRequest;
  /** ACKs sent for this INVITE's 2xx responses, by To tag (one per dialog, §13.2.2.4). */
  readonly acks = new Map<string, SentAck>();
  private readonly o: OutgoingRequestOptions;

  constructor(options: OutgoingRequestOptions) {
    this.o = options;
    this.request = options.request;
  }

  onResponse(response: SipResponse, _transaction: ClientTransaction): void {
    const status = response.status;
    if (status < 200) {
      this.tell(this.o.onProvisional, response, 'onProvisional');
      return;
    }
    if (status >= 300 || this.request.method !== 'INVITE') return;
    this.tell(this.o.on2xx, response, 'on2xx');
    // §13.2.2.4: "The UAC core MUST generate an ACK request for each 2xx received from the
    // transaction layer"; a retransmission gets the ACK already sent for its dialog. A 2xx that
    // nobody acknowledged yet is the first one, which the caller acknowledges with ack().
    const sent = this.acks.get(response.toTag ?? '');
    if (sent !== undefined) this.o.resendAck(sent);
  }

  private tell(cb: ((response: SipResponse) => void) | undefined, response: SipResponse, name: string): void {
    if (cb === undefined) return;
    try {
      cb(response);
    } catch (err) {
      // A caller's callback failing must not disturb the transaction that called it.
      this.o.logger.error({ err, status: response.status }, `${name} callback threw`);
    }
  }
}

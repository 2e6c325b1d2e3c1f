/**
 * What the INVITE and non-INVITE server transactions share (RFC 3261 §17.2): the request, where it
 * came from (responses go back the same way, §18.2.2), and the last response for retransmission.
 */
import { SipError } from '../core/errors.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import { isReliable, type Source } from '../transport/types.js';
import { TransactionError } from './transaction-error.js';
import { Transaction, type TransactionContext, type TransactionState } from './transaction.js';

/** A server transaction: made by the layer for each new request, handed to `TransactionUser.onRequest`. */
export abstract class ServerTransaction<S extends TransactionState = TransactionState> extends Transaction<S> {
  /** Where the request came from; responses go back through `transport.sendResponse(response, source)`. */
  readonly source: Source;
  /** The response sent last: resent when the request is retransmitted (§17.2.1, §17.2.2). */
  protected lastResponse: SipResponse | undefined = undefined;

  protected constructor(ctx: TransactionContext, key: string, request: SipRequest, initial: S, source: Source) {
    super(ctx, key, request, initial);
    this.source = source;
  }

  get reliable(): boolean {
    return isReliable(this.source.protocol);
  }

  /** The response sent last, if any. */
  get response(): SipResponse | undefined {
    return this.lastResponse;
  }

  /**
   * Sends a response the TU built (createResponse(request, status)). Returns false when the
   * machine's state discards it, e.g. a second final response (§17.2.2: "MUST be discarded");
   * throws SipError ERR_INVALID_ARGUMENT for a status outside 100-699.
   */
  abstract respond(response: SipResponse): boolean;

  /** @internal A retransmission of the request the layer matched to this transaction (§17.2.3). */
  abstract receiveRequest(request: SipRequest): void;

  /** @internal Sends the 100 Trying when due, arms the first timers. */
  abstract start(): void;

  /** Ends the transaction now, sending nothing. */
  terminate(): void {
    this.end();
  }

  protected checkStatus(response: SipResponse): void {
    const s = response.status;
    if (!(s >= 100 && s <= 699)) throw new SipError('ERR_INVALID_ARGUMENT', `status ${s} is not a SIP response code`);
  }

  /** Hands a response to the transport, back where the request came from (§18.2.2). */
  protected async transmit(response: SipResponse): Promise<void> {
    try {
      await this.ctx.transport.sendResponse(response, this.source);
    } catch (e) {
      if (this.ctx.closed) return;
      const detail = e instanceof Error ? e.message : String(e);
      this.transportFailed(new TransactionError('ERR_TRANSPORT', `could not send ${response.status} response: ${detail}`, { cause: e }));
    }
  }

  /**
   * §17.2.4: the TU hears of every response that could not be sent, even one sent as the
   * transaction ended (a final over a reliable transport, Timer J = 0). What else happens depends
   * on the machine.
   */
  protected transportFailed(error: TransactionError): void {
    this.ctx.serverFailed(this as ServerTransaction, error);
  }
}

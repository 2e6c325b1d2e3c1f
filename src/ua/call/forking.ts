/**
 * The forks of an outgoing call (RFC 3261 §12.1.2, §13.2.2.4): a forking proxy may deliver our
 * INVITE to several UASs, each answering with its own To tag.
 *
 * - Each 101-198 with a To tag makes (or updates) an early dialog of the call's DialogSet.
 * - The first 2xx is the call's answer: its dialog is confirmed, and every early dialog that got
 *   no 2xx is dropped (§13.2.2.4: the UAC may end them once one fork has answered).
 * - Each further 2xx with another To tag, as the INVITE client transaction passes it up in
 *   Accepted (RFC 6026 §7.2, until Timer M = 64*T1), gets its own confirmed dialog, an ACK from
 *   it, and then a BYE: "the UAC core MUST generate an ACK request for each 2xx ... If it does
 *   not want to continue with that dialog, then the dialog MUST be terminated by sending a BYE".
 *   Its retransmissions get the same ACK from the endpoint (`SipEndpoint.ack` keeps it).
 *
 * The Call owns the answer (its ACK, SDP and session); this module owns the other forks.
 */
import type { Logger } from '../../core/logger.js';
import { SipError } from '../../core/errors.js';
import { Dialog, DialogSet } from '../../dialog/index.js';
import type { SipRequest, SipResponse } from '../../message/index.js';
import { OfferAnswer, type LocalMediaConfig } from '../../sdp/index.js';
import type { SipEndpoint } from '../endpoint.js';

/** What the forks of an outgoing call need from it. */
export interface UacForksHost {
  readonly endpoint: SipEndpoint;
  readonly logger: Logger;
  /**
   * Our INVITE as last sent: a retry (after 401/407, §22.2, or 422, RFC 4028 §7.4) has another
   * CSeq, and its responses make dialogs of their own.
   */
  invite(): SipRequest;
  /** The local side of sessions: another fork's offer (offerless INVITE) is answered from it. */
  readonly media: LocalMediaConfig;
  /** Our INVITE had no offer: each 2xx carries one, and its ACK the answer (§13.2.2.4, RFC 3264 §2). */
  readonly offerless: boolean;
}

/** The dialogs of one outgoing INVITE, and the ACK and BYE for each 2xx but the first. */
export class UacForks {
  readonly #host: UacForksHost;
  #set: DialogSet;
  /** The CSeq number of the INVITE the set is for. */
  #seq: number;
  /** The To tag (lower case) of the 2xx that answered the call. */
  #answeredTag: string | undefined;
  /** To tags (lower case) of the other forks' 2xx, each ACKed and BYEd once. */
  readonly #ended = new Set<string>();
  /** The ACK and BYE of other forks under way. */
  readonly #pending = new Set<Promise<void>>();

  constructor(host: UacForksHost) {
    this.#host = host;
    const invite = host.invite();
    this.#set = new DialogSet(invite);
    this.#seq = invite.cseq.seq;
  }

  /** Every dialog of the INVITE, early, confirmed or ended, in order of creation. */
  get dialogs(): Dialog[] {
    return this.#current().dialogs;
  }

  /** Dialogs still early (1xx with a To tag, no 2xx yet). */
  get early(): Dialog[] {
    return this.#current().dialogs.filter((d) => d.state === 'early');
  }

  /** Settles once every other fork's ACK and BYE exchange is over. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** A 1xx to our INVITE: the early dialog of its To tag (§12.1.2), or undefined when it makes none. */
  provisional(response: SipResponse): Dialog | undefined {
    return this.#apply(response);
  }

  /**
   * The 2xx that answered the call: its dialog, confirmed from the 2xx (§13.2.2.4). Every early
   * dialog of another fork is dropped. Throws when the 2xx makes no dialog (no To tag).
   */
  answered(response: SipResponse): Dialog {
    this.#answeredTag ??= tagOf(response);
    const set = this.#current();
    const dialog = confirmedDialog(set, response);
    for (const other of set.dialogs) if (other !== dialog && other.state === 'early') other.terminate();
    return dialog;
  }

  /**
   * A non-2xx final ended the INVITE (§12.3): every early dialog ends. A 2xx from another fork
   * can no longer reach us: the transaction is Completed, not Accepted.
   */
  failed(response: SipResponse): void {
    this.#apply(response);
    this.#current().terminate();
  }

  /** The call is over: every dialog of the set that is left ends (without signalling). */
  close(): void {
    for (const dialog of this.#set.dialogs) if (dialog.state === 'early') dialog.terminate();
  }

  /**
   * Each 2xx the client transaction passes up (`EndpointRequestOptions.on2xx`). The first is the
   * call's (the Call ACKs it from `request()`'s result); a retransmission, of it or of a fork
   * already ended, is answered by the endpoint with the ACK it sent; any other To tag is a fork
   * we do not want: ACK, then BYE.
   */
  on2xx(response: SipResponse): void {
    const tag = tagOf(response);
    if (this.#answeredTag === undefined) {
      this.#answeredTag = tag;
      return;
    }
    if (tag === this.#answeredTag || this.#ended.has(tag)) return;
    this.#ended.add(tag);
    const work = this.#ackAndBye(response).catch((err: unknown) => {
      this.#host.logger.info({ err, toTag: response.toTag }, 'could not end the dialog of a forked 2xx');
    });
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  async #ackAndBye(response: SipResponse): Promise<void> {
    const { endpoint, logger } = this.#host;
    const set = this.#current();
    const invite = set.request;
    const dialog = confirmedDialog(set, response);
    const body = this.#ackBody(response);
    const ack = dialog.createAck(invite.cseq.seq, response, { invite, ...(body ?? {}) });
    logger.info({ toTag: response.toTag }, 'a 2xx from another fork: ACK and BYE (RFC 3261 §13.2.2.4)');
    await endpoint.ack(response, { request: ack });
    const bye = dialog.createRequest('BYE');
    dialog.terminate();
    const answer = await endpoint.request(bye);
    logger.debug({ status: answer.status, toTag: response.toTag }, 'BYE to a forked 2xx answered');
  }

  /** The answer to another fork's offer, for its ACK, even though the dialog is ended at once. */
  #ackBody(response: SipResponse): { body: string; contentType: string } | undefined {
    if (!this.#host.offerless) return undefined;
    try {
      const oa = new OfferAnswer(this.#host.media);
      oa.setRemoteOffer(response.bodyText);
      return { body: oa.createAnswer(), contentType: 'application/sdp' };
    } catch (err) {
      this.#host.logger.info({ err, toTag: response.toTag }, 'the offer of a forked 2xx is unusable: ACK without answer');
      return undefined;
    }
  }

  /** The set of the INVITE as last sent; a retry's starts afresh (the old one's dialogs ended with its 401/407/422). */
  #current(): DialogSet {
    const invite = this.#host.invite();
    if (invite !== this.#set.request || invite.cseq.seq !== this.#seq) {
      this.#set.terminate();
      this.#set = new DialogSet(invite);
      this.#seq = invite.cseq.seq;
    }
    return this.#set;
  }

  #apply(response: SipResponse): Dialog | undefined {
    try {
      return this.#current().receiveResponse(response);
    } catch (err) {
      this.#host.logger.info({ err, status: response.status }, 'a response that fits no dialog of our INVITE');
      return undefined;
    }
  }
}

/**
 * The confirmed dialog of a 2xx in `set` (§13.2.2.4). A fork whose early dialog was dropped when
 * another answered still gets a dialog of its own, from the 2xx (its route set and Contact), so
 * that it can be ACKed and BYEd. Throws SipError ERR_INVALID_ARGUMENT for a 2xx without To tag.
 */
function confirmedDialog(set: DialogSet, response: SipResponse): Dialog {
  if (response.toTag === undefined) throw new SipError('ERR_INVALID_ARGUMENT', `the ${response.status} to our INVITE has no To tag (RFC 3261 §12.1.2)`);
  const dialog = set.receiveResponse(response);
  if (dialog !== undefined && dialog.state === 'confirmed') return dialog;
  return Dialog.forUac(set.request, response);
}

function tagOf(response: SipResponse): string {
  return (response.toTag ?? '').toLowerCase();
}

/**
 * The re-INVITE machinery of one call (RFC 3261 §14): our offers sent one at a time, glare
 * handled by the UA itself, and the peer's re-INVITEs answered by RFC 3264 §6.1.
 *
 * - Outgoing (§14.1): an offer waits while another INVITE of ours is in progress ("a UAC MUST NOT
 *   initiate a new INVITE transaction within a dialog while another INVITE transaction is in
 *   progress"), so `hold()` during a pending re-INVITE is queued, not refused. A non-2xx leaves
 *   the session as it was (offer/answer `rollback()`). A 491 is retried after the §14.1 delay:
 *   2.1-4 s when this UA chose the Call-ID, 0-2 s otherwise, in 10 ms units.
 * - Incoming (§14.2): a re-INVITE that arrives while our offer is pending gets 491; one with an
 *   offer we cannot take gets 488 (or 400 for bad SDP); the application may refuse an offer too.
 */
import { randomInt } from 'node:crypto';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Dialog } from '../../dialog/index.js';
import { createResponse, type SipRequest, type SipResponse } from '../../message/index.js';
import { OfferAnswerError, SdpError, type CreateOfferOptions, type OfferAnswer, type SessionDescription } from '../../sdp/index.js';
import type { SipEndpoint } from '../endpoint.js';
import type { UasTransaction } from '../uas-transaction.js';
import type { Outcome } from './types.js';

const SDP = 'application/sdp';

/** What the re-INVITE machinery needs from its call. */
export interface ReinviteHost {
  readonly endpoint: SipEndpoint;
  readonly dialog: Dialog;
  readonly offerAnswer: OfferAnswer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** §14.1: true when this UA chose the dialog's Call-ID (it sent the initial INVITE). */
  readonly ownsCallId: boolean;
  /** RFC 3261 T1, ms: a 2xx of ours waits 64*T1 at most for its ACK (§13.3.1.4). */
  readonly t1: number;
  /** Headers every INVITE and 2xx of ours carries (Allow, Supported). */
  readonly capabilityHeaders: Array<[string, string]>;
  /**
   * The application's say on a peer's offer (already parsed and acceptable to the SDP layer):
   * a status (e.g. 488) refuses it, undefined takes it.
   */
  judgeOffer(offer: SessionDescription): number | undefined;
  /** An exchange ended (either way, done or rolled back): hold state may have moved. */
  settled(): void;
  /** A response to our re-INVITE ended the dialog (481, 408: RFC 3261 §12.2.1.2). */
  dialogLost(status: number, reason: string): void;
  /** RFC 4028 §7.4: the session timer headers (Session-Expires, Min-SE) of a re-INVITE of ours. */
  sessionTimerHeaders(): Array<[string, string]>;
  /**
   * RFC 4028 §9: the peer's re-INVITE is a session refresh too: a 422 (with Min-SE) when its
   * Session-Expires is too small, else the session timer headers of our 2xx.
   */
  sessionTimerAnswer(request: SipRequest): SessionTimerAnswer;
  /**
   * RFC 4028 §10: a re-INVITE was answered 2xx, a successful session refresh: the 2xx we
   * received for ours (`uac`), or the one we sent for the peer's (`uas`).
   */
  onSessionRefreshed(response: SipResponse, role: 'uac' | 'uas'): void;
}

/** The session timer's say on the peer's re-INVITE (RFC 4028 §9). */
export type SessionTimerAnswer =
  | { readonly ok: false; readonly status: number; readonly headers: Array<[string, string]> }
  | { readonly ok: true; readonly headers: Array<[string, string]> };

interface Job {
  readonly options: CreateOfferOptions;
  readonly resolve: (outcome: Outcome) => void;
}

/** One call's re-INVITEs. */
export class Reinvites {
  readonly #host: ReinviteHost;
  readonly #queue: Job[] = [];
  #running = false;
  #closed = false;
  /** The §14.1 wait before a retry, while there is one. */
  #wait: { handle: TimerHandle; wake: () => void } | undefined;
  /**
   * The peer's re-INVITE we answered 2xx, until its ACK (or 64*T1, §13.3.1.4): an INVITE
   * transaction "in progress" in the peer's direction, which our next re-INVITE waits for
   * (§14.1). `offerInTwoHundred`: the re-INVITE had no offer, ours went in the 2xx and the
   * answer comes in the ACK (RFC 3264 §2).
   */
  #inbound: { seq: number; offerInTwoHundred: boolean; timer: TimerHandle } | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(host: ReinviteHost) {
    this.#host = host;
  }

  /** True while a re-INVITE of ours is queued, in progress, or waiting out a 491. */
  get busy(): boolean {
    return this.#running || this.#queue.length > 0;
  }

  /** Sends a re-INVITE with a new offer once no other INVITE of ours is in progress. */
  offer(options: CreateOfferOptions): Promise<Outcome> {
    if (this.#closed) return Promise.resolve(ended());
    return new Promise((resolve) => {
      this.#queue.push({ options, resolve });
      void this.#pump();
    });
  }

  /** The call ended: every queued or pending offer settles as failed, and the §14.1 timer goes. */
  close(): void {
    this.#closed = true;
    const wait = this.#wait;
    if (wait !== undefined) {
      this.#host.clock.clearTimeout(wait.handle);
      this.#wait = undefined;
      wait.wake();
    }
    for (const job of this.#queue.splice(0)) job.resolve(ended());
    this.#inboundDone();
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) {
        let outcome: Outcome;
        try {
          outcome = await this.#send(job.options);
        } catch (err) {
          this.#host.logger.error({ err }, 're-INVITE failed');
          outcome = { ok: false, status: 500, reason: err instanceof Error ? err.message : String(err) };
        }
        job.resolve(outcome);
      }
    } finally {
      this.#running = false;
    }
  }

  /** One offer to its end: sent, retried after each 491, answered or refused. */
  async #send(options: CreateOfferOptions): Promise<Outcome> {
    const host = this.#host;
    const oa = host.offerAnswer;
    for (;;) {
      // §14.1: "MUST NOT initiate a new INVITE transaction within a dialog while another INVITE
      // transaction is in progress in either direction": the peer's re-INVITE ends with its ACK.
      while (this.#inbound !== undefined && !this.#closed) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      if (this.#closed || host.dialog.state === 'terminated') return ended();
      const sdp = oa.createOffer(options);
      const request = host.dialog.createRequest('INVITE', { body: sdp, contentType: SDP, headers: [...host.capabilityHeaders, ...host.sessionTimerHeaders()] });
      let response: SipResponse;
      try {
        response = await host.endpoint.request(request);
      } catch (err) {
        oa.rollback();
        host.settled();
        // RFC 3261 §8.1.3.1: a timeout is handled as a 408, a transport failure as a 503.
        const status = isTimeout(err) ? 408 : 503;
        const reason = err instanceof Error ? err.message : String(err);
        if (status === 408) host.dialogLost(408, reason);
        return { ok: false, status, reason };
      }
      host.dialog.receiveResponse(response);
      const status = response.status;
      if (status >= 200 && status < 300) return this.#answered(request, response);
      // RFC 3261 §14.1: "If a UA receives a non-2xx final response to a re-INVITE, the session
      // parameters MUST remain unchanged, as if no re-INVITE had been issued."
      oa.rollback();
      host.settled();
      if (status === 481 || status === 408) {
        host.dialogLost(status, response.reasonPhrase);
        return { ok: false, status, reason: response.reasonPhrase };
      }
      if (status !== 491 || this.#closed) return { ok: false, status, reason: response.reasonPhrase };
      await this.#glareWait();
    }
  }

  async #answered(request: SipRequest, response: SipResponse): Promise<Outcome> {
    const host = this.#host;
    const oa = host.offerAnswer;
    let outcome: Outcome = { ok: true };
    if (this.#closed) {
      // A 2xx that crossed our BYE: still ACKed (§13.2.2.4), but the call is over.
      oa.rollback();
      outcome = ended();
    } else {
      // RFC 4028 §10: any 2xx to a re-INVITE is a successful session refresh (even one whose
      // answer we cannot take: the peer has refreshed the session all the same).
      host.onSessionRefreshed(response, 'uac');
      try {
        oa.setRemoteAnswer(response.bodyText);
      } catch (err) {
        // RFC 3261 §14.2 lets a UAC that cannot take the answer ACK and then start over; the
        // session stays as it was, which is what the user is told.
        oa.rollback();
        outcome = { ok: false, status: 488, reason: `unusable answer: ${err instanceof Error ? err.message : String(err)}` };
      }
      host.settled();
    }
    // §13.2.2.4: the ACK for a 2xx is the UA core's, built from the dialog.
    const ack = host.dialog.createAck(request.cseq.seq, response, { invite: request });
    await host.endpoint.ack(response, { request: ack }).catch((err: unknown) => host.logger.info({ err }, 'ACK for re-INVITE 2xx not sent'));
    return outcome;
  }

  /**
   * RFC 3261 §14.1: "If the UAC is the owner of the Call-ID of the dialog ID ... T has a randomly
   * chosen value between 2.1 and 4 seconds in units of 10 ms. If the UAC is not the owner ...
   * between 0 and 2 seconds in units of 10 ms."
   */
  #glareWait(): Promise<void> {
    const ms = this.#host.ownsCallId ? randomInt(210, 401) * 10 : randomInt(0, 201) * 10;
    this.#host.logger.debug({ ms }, '491: re-INVITE retried after the RFC 3261 §14.1 delay');
    return new Promise((resolve) => {
      const handle = this.#host.clock.setTimeout(() => {
        this.#wait = undefined;
        resolve();
      }, ms);
      this.#wait = { handle, wake: resolve };
    });
  }

  /**
   * A re-INVITE from the peer (RFC 3261 §14.2), already accepted by the dialog (CSeq in order).
   * Answers it now: 491 while our offer is outstanding, 488/400 for an offer we cannot take or
   * the application refuses, else 200 with our answer (RFC 3264 §6.1 directions, from the hold
   * model). An offerless re-INVITE gets our offer in the 200, and its answer comes in the ACK.
   */
  receive(request: SipRequest, uas: UasTransaction): void {
    const host = this.#host;
    const oa = host.offerAnswer;
    // RFC 4028 §9: "If the value is less than the Min-SE, the UAS MUST reject it with a 422".
    const timer = host.sessionTimerAnswer(request);
    if (!timer.ok) {
      this.#respond(uas, timer.status, undefined, timer.headers);
      return;
    }
    if (request.body.length === 0) {
      // RFC 3264 §2 / RFC 3261 §14.2: no offer in the re-INVITE: ours goes in the 2xx.
      if (oa.isPending) {
        this.#respond(uas, 491);
        return;
      }
      const offer = oa.createOffer();
      this.#refreshed(this.#respond(uas, 200, offer, timer.headers));
      this.#inboundStarted(request.cseq.seq, true);
      return;
    }
    try {
      const offer = oa.setRemoteOffer(request.bodyText);
      const refusal = host.judgeOffer(offer);
      if (refusal !== undefined) {
        oa.rollback();
        this.#respond(uas, refusal);
        return;
      }
    } catch (err) {
      // §14.2: glare is 491 (no Retry-After needed: the peer waits its own §14.1 delay); an offer
      // we cannot take is 488 (§13.3.1.3); unreadable SDP is 400.
      const status = err instanceof OfferAnswerError || err instanceof SdpError ? err.status : 500;
      host.logger.info({ err, status }, 're-INVITE refused');
      this.#respond(uas, status);
      return;
    }
    this.#refreshed(this.#respond(uas, 200, oa.createAnswer(), timer.headers));
    this.#inboundStarted(request.cseq.seq, false);
    host.settled();
  }

  /** RFC 4028 §10: our 2xx to the peer's re-INVITE refreshed the session. */
  #refreshed(response: SipResponse): void {
    if (!this.#closed) this.#host.onSessionRefreshed(response, 'uas');
  }

  /** The ACK of a re-INVITE we answered: for an offerless one, it carries the answer (RFC 3264 §2). */
  receiveAck(ack: SipRequest): void {
    const inbound = this.#inbound;
    if (inbound === undefined || ack.cseq.seq !== inbound.seq) return;
    this.#inboundDone();
    if (!inbound.offerInTwoHundred) return;
    const oa = this.#host.offerAnswer;
    try {
      oa.setRemoteAnswer(ack.bodyText);
    } catch (err) {
      // An ACK without a usable answer: the session stays as before (RFC 3261 §14.2 leaves the
      // choice to end the dialog to the UA; a hold model that stays right matters more).
      this.#host.logger.info({ err }, 'ACK without a usable answer: offer abandoned');
      oa.rollback();
    }
    this.#host.settled();
  }

  #inboundStarted(seq: number, offerInTwoHundred: boolean): void {
    this.#inboundDone();
    const timer = this.#host.clock.setTimeout(() => {
      // §13.3.1.4: no ACK in 64*T1. The session is the call's to end; an offer of ours still
      // waiting for its answer is abandoned.
      this.#host.logger.info({ seq }, 'no ACK for our 2xx to a re-INVITE (RFC 3261 §13.3.1.4)');
      if (offerInTwoHundred && this.#host.offerAnswer.rollback()) this.#host.settled();
      this.#inbound = undefined;
      this.#inboundDone();
    }, 64 * this.#host.t1);
    this.#inbound = { seq, offerInTwoHundred, timer };
  }

  /** The peer's re-INVITE is over: its ACK came, or the wait ended; queued offers may go. */
  #inboundDone(): void {
    const inbound = this.#inbound;
    if (inbound !== undefined) this.#host.clock.clearTimeout(inbound.timer);
    this.#inbound = undefined;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Sends a final response; a 2xx carries our capability headers, and `headers` go on any. */
  #respond(uas: UasTransaction, status: number, sdp?: string, headers: Array<[string, string]> = []): SipResponse {
    const host = this.#host;
    const response = createResponse(uas.request, status, {
      toTag: uas.toTag,
      headers: status >= 200 && status < 300 ? [...host.capabilityHeaders, ...headers] : headers,
      ...(sdp === undefined ? {} : { body: sdp, contentType: SDP }),
    });
    uas.respond(response);
    host.dialog.sendingResponse(response);
    return response;
  }
}

function ended(): Outcome {
  return { ok: false, status: 481, reason: 'the call has ended' };
}

function isTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_TIMEOUT';
}

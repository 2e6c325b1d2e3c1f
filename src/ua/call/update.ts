/**
 * UPDATE received in a confirmed dialog (RFC 3311 §5.2): a target refresh (the dialog has taken
 * the Contact already), a session refresh (RFC 4028), and maybe an offer.
 *
 * - With an SDP offer: answered in the 200 like a re-INVITE's offer (RFC 3264 §6.1, the hold
 *   model: a sendonly offer is answered recvonly and the call is remote-held). While an offer is
 *   pending (ours, in a re-INVITE or in our 2xx to an offerless one), 491 (§5.2); while the
 *   peer's previous offer is unanswered, 500 with Retry-After (§5.2). 488 or 400 for an offer we
 *   cannot take, or a status of the application's judge.
 * - Without a body: 200.
 * - Session-Expires below our Min-SE: 422 (RFC 4028 §9); else the 200 carries the timer.
 */
import type { Logger } from '../../core/logger.js';
import type { Dialog } from '../../dialog/index.js';
import { createResponse, type SipRequest } from '../../message/index.js';
import { OfferAnswerError, SdpError, type OfferAnswer, type SessionDescription } from '../../sdp/index.js';
import type { UasTransaction } from '../uas-transaction.js';
import { uasVerdict, type SessionTimerAgreement, type SessionTimerConfig } from './session-timer.js';

const SDP = 'application/sdp';

/** What answering an UPDATE needs from its call. */
export interface UpdateHost {
  readonly dialog: Dialog;
  readonly offerAnswer: OfferAnswer;
  readonly logger: Logger;
  /** Capability headers of our 2xx (Allow, Supported). */
  readonly capabilityHeaders: Array<[string, string]>;
  readonly sessionTimer: SessionTimerConfig;
  /** The session timer in force, if any (keeps the refresher where it was). */
  readonly agreement: SessionTimerAgreement | undefined;
  /** The application's say on a peer's offer: a status refuses it. */
  judgeOffer(offer: SessionDescription): number | undefined;
  /** An offer/answer exchange ended: the hold state may have moved. */
  settled(): void;
  /** The UPDATE was answered 2xx: the session is refreshed with this timer. */
  refreshed(agreement: SessionTimerAgreement): void;
}

/** Answers an UPDATE already accepted by the dialog (CSeq in order). */
export function receiveUpdate(request: SipRequest, uas: UasTransaction, host: UpdateHost): void {
  const respond = (status: number, headers: Array<[string, string]> = [], sdp?: string): void => {
    const response = createResponse(request, status, {
      toTag: uas.toTag,
      headers,
      ...(sdp === undefined ? {} : { body: sdp, contentType: SDP }),
    });
    uas.respond(response);
    host.dialog.sendingResponse(response);
  };
  const verdict = uasVerdict(request, host.sessionTimer, host.agreement);
  if (!verdict.ok) {
    respond(422, verdict.headers);
    return;
  }
  const okHeaders = [...host.capabilityHeaders, ...verdict.headers];
  if (request.body.length === 0) {
    respond(200, okHeaders);
    host.refreshed(verdict.agreement);
    return;
  }
  const oa = host.offerAnswer;
  try {
    const offer = oa.setRemoteOffer(request.bodyText);
    const refusal = host.judgeOffer(offer);
    if (refusal !== undefined) {
      oa.rollback();
      respond(refusal);
      return;
    }
  } catch (err) {
    // RFC 3311 §5.2: an offer while ours is pending is 491; while the peer's previous offer is
    // unanswered, 500 with a Retry-After "randomly chosen between 0 and 10 seconds".
    const status = err instanceof OfferAnswerError || err instanceof SdpError ? err.status : 500;
    host.logger.info({ err, status }, 'UPDATE offer refused');
    respond(status, status === 500 ? [['Retry-After', String(Math.floor(Math.random() * 11))]] : []);
    return;
  }
  respond(200, okHeaders, oa.createAnswer());
  host.settled();
  host.refreshed(verdict.agreement);
}

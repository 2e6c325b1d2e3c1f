import { SipError } from '../core/errors.js';

/**
 * A session description that cannot be read: bad syntax, a missing mandatory line, a field out of
 * range. Code `ERR_SDP`. `reason` says what is wrong in words a log reader can act on; `line` is
 * the 1-based line of the SDP where it was found (0 when it is about the whole body).
 * A UAS answers an INVITE carrying one with 400 (RFC 3261 §21.4.1); `status` says so.
 */
export class SdpError extends SipError {
  declare readonly code: 'ERR_SDP';
  readonly reason: string;
  readonly line: number;
  readonly status = 400;
  constructor(reason: string, line = 0, options?: { cause?: unknown }) {
    super('ERR_SDP', line > 0 ? `malformed SDP: ${reason} (line ${line})` : `malformed SDP: ${reason}`, options);
    this.name = 'SdpError';
    this.reason = reason;
    this.line = line;
  }
}

/**
 * The codes of `OfferAnswerError`:
 * - `ERR_SDP_NOT_ACCEPTABLE`: a well-formed offer with nothing we can accept (no common codec on
 *   any stream); the SIP answer is 488 (RFC 3261 §13.3.1.3, RFC 3264 §6).
 * - `ERR_OFFER_PENDING`: an offer while another is outstanding. For a remote offer while ours is
 *   pending that is glare, answered 491 (RFC 3261 §14.2); for a remote offer while the peer's
 *   previous one is unanswered, 500 with Retry-After (RFC 3261 §14.2).
 * - `ERR_NO_OFFER`: an answer with no offer outstanding (RFC 3264 §4: an answer only ever
 *   follows an offer).
 */
export type OfferAnswerErrorCode = 'ERR_SDP_NOT_ACCEPTABLE' | 'ERR_OFFER_PENDING' | 'ERR_NO_OFFER';

/** An offer or answer that the RFC 3264 state does not allow, or an offer we cannot accept. */
export class OfferAnswerError extends SipError {
  declare readonly code: OfferAnswerErrorCode;
  /** The SIP response a UAS would send for it (488, 491, 500), when the error came from the peer. */
  readonly status: number;
  constructor(code: OfferAnswerErrorCode, message: string, status: number) {
    super(code, message);
    this.name = 'OfferAnswerError';
    this.status = status;
  }
}

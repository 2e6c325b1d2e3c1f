/**
 * The SDP layer: SDP text <-> `SessionDescription` (RFC 8866), media direction and the hold model
 * (RFC 3264 §6.1, §8.4; RFC 5359 §2.1), and the per-dialog offer/answer state machine (RFC 3264).
 * Strings in, strings out: nothing here knows about SIP messages or sockets.
 */
export {
  DIRECTIONS, answerDirection, directionOf, intersect, isDirection, offerDirection, receives, reverse, sends,
  type Direction,
} from './direction.js';
export { OfferAnswerError, SdpError, type OfferAnswerErrorCode } from './sdp-error.js';
export type {
  Connection, Fmtp, MediaDescription, Origin, RtpMap, SdpExtras, SessionDescription, Timing,
} from './sdp-types.js';
export {
  connectionOf, declaredDirection, effectiveDirection, isLegacyHold, isUnspecifiedAddress, nextVersion, parseSdp,
  receivesOn, sameContent, serializeSdp, withDirection, withVersion,
} from './session-description.js';
export {
  DEFAULT_AUDIO_CODECS, PCMA, PCMU, TELEPHONE_EVENT, resolveLocalMedia,
  type Codec, type LocalMedia, type LocalMediaConfig, type ResolvedLocalMedia, type SdesCrypto,
} from './local-media.js';
export { commonCodecs, rtpmapFor, sameCodec, type CommonCodec } from './codecs.js';
export {
  INITIAL_HOLD_STATE, holdAnswerDirection, holdOfferDirection, isRemoteHolding, isRemoteHoldingStream, localIntent,
  withLocalHold, withRemoteOffer, type HoldState,
} from './hold-state.js';
export { negotiatedStreams, type NegotiatedStream } from './negotiated.js';
export { OfferAnswer, type CreateOfferOptions, type OfferAnswerState } from './offer-answer.js';

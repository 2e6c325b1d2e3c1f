/** The user agent layer's public surface (for now the minimal SipEndpoint, RFC 3261 §8). */
export {
  SipEndpoint, type SipEndpointOptions, type EndpointTlsOptions, type EndpointRequestOptions, type EndpointAckOptions, type RequestHandler, type CancelHandler,
} from './endpoint.js';
export { UasTransaction } from './uas-transaction.js';
export { createAck, createDialogRequest, type DialogRequestOptions } from './dialog-request.js';
export { UserAgent, type UserAgentOptions, type UserAgentMedia, type UserAgentEvents } from './user-agent.js';
export { Call, type CallOptions } from './call/call.js';
export { TypedEvents } from './call/events.js';
export { holdEvents, type HoldEvent, type HoldSnapshot } from './call/hold.js';
export type { CallState, CallDirection, CallEndReason, CallEvents, Outcome } from './call/types.js';
export { requestWithAuth, MAX_AUTH_RETRIES, type AuthRetryOptions } from './auth-retry.js';
export { MIN_SESSION_EXPIRES, type SessionTimerOptions, type SessionTimerAgreement } from './call/session-timer.js';
export type { InfoEvent } from './call/info.js';
export { SDES_SUITE, type MediaFactory, type CallMediaContext, type CallMediaSession, type CallMediaStats, type CallAudioSource, type CallAudioSink, type CallDtmfEvent } from './call/media.js';
export type { TransferConfig, TransferOptions, TransferOutcome } from './call/transfer.js';
export type { ReferOptions, ReplacesCheck } from './user-agent.js';

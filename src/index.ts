/**
 * hookflash: a SIP stack, user agent and server for call control.
 * This file is the curated public API; everything else is internal.
 */
export * from './message/index.js';
export { SipError, SipParseError, isSipParseError } from './core/errors.js';
export { newBranch, newTag, newCallId, MAGIC_COOKIE } from './core/ids.js';
export { KNOWN_METHODS, reasonPhrase } from './core/methods.js';
export { type Clock, type TimerHandle, RealClock, WallClock, FakeClock } from './core/clock.js';
export { type Logger, type LogContext, type LogLevel, JsonLogger, type JsonLoggerOptions, noopLogger } from './core/logger.js';
export {
  StaticResolver, Rfc3263Resolver, isReliable,
  type Resolver, type StaticTable, type Target, type Source, type TransportProtocol, type ListenerConfig, type BoundListener,
  type TlsCredentials, type TransportLimits, type MessageInEvent, type MessageOutEvent,
} from './transport/index.js';
export {
  TransactionError, shouldFailOver,
  type TransactionErrorCode, type ServerTransaction, type ClientTransaction, type TransactionState,
} from './transaction/index.js';
export * from './ua/index.js';
/** SDP types the call API names (offers, answers, codecs). */
export { PCMU, PCMA, TELEPHONE_EVENT, type Codec, type SessionDescription, type Direction } from './sdp/index.js';
/** Digest authentication (RFC 7616, RFC 8760) and registration (RFC 3261 §10.2). */
export * from './auth/index.js';
export {
  Registration, type RegistrationOptions, type RegistrationState, type RegistrationOutcome, type RegistrationEvent,
} from './ua/registration.js';
/** Registrar (RFC 3261 §10.3, RFC 3327, RFC 5626, RFC 5627) and its stores. */
export * from './registrar/index.js';
export * from './store/index.js';
/** The stateful proxy (RFC 3261 §16) and SipServer, what `hookflash serve` runs. */
export {
  SipServer,
  type SipServerOptions, type SipServerStats, type SipServerEvents, type ServerRegistrar, type ServerAuthenticator, type ServerAuthOutcome,
  type ServerTlsOptions,
  RequestGuard, DEFAULT_GUARD_LIMITS, type GuardLimits, type GuardReason, type GuardVerdict, type GuardOptions,
  LocationCache, type LocationCacheOptions,
} from './proxy/index.js';
/** Media (issue 7): RTP/RTCP sessions, G.711, RFC 4733 DTMF, WAV players and recorders, SRTP with SDES keys. */
export * from './media/index.js';

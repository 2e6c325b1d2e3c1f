/**
 * hookflash: a SIP stack, user agent and server for call control.
 * This file is the curated public API; everything else is internal.
 */
export * from './message/index.js';
export { SipError, SipParseError, isSipParseError } from './core/errors.js';
export { newBranch, newTag, newCallId, MAGIC_COOKIE } from './core/ids.js';
export { KNOWN_METHODS, reasonPhrase } from './core/methods.js';
export { type Clock, type TimerHandle, RealClock, FakeClock } from './core/clock.js';
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

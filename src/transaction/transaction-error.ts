/**
 * How a transaction fails. A final response, whatever its status, is an outcome and never one of
 * these; only a timeout, a transport failure or the owner ending the transaction is.
 */
import { SipError } from '../core/errors.js';
import { SipResponse } from '../message/message.js';

/**
 * - `ERR_TIMEOUT`: Timer B or F fired with no final response (RFC 3261 §17.1.1.2, §17.1.2.2), or
 *   Timer H with no ACK (§17.2.1).
 * - `ERR_TRANSPORT`: the transport could not send (§17.1.4, §17.2.4, §8.1.3.1).
 * - `ERR_TERMINATED`: the owner ended the transaction (`terminate()`, `TransactionLayer.close()`).
 */
export type TransactionErrorCode = 'ERR_TIMEOUT' | 'ERR_TRANSPORT' | 'ERR_TERMINATED';

/** The RFC 3261 timer whose firing ended a transaction. */
export type TimeoutTimer = 'B' | 'F' | 'H';

/** A transaction's failure, with a stable code. */
export class TransactionError extends SipError {
  declare readonly code: TransactionErrorCode;
  /** For `ERR_TIMEOUT`: which timer fired. */
  readonly timer: TimeoutTimer | undefined;

  constructor(code: TransactionErrorCode, message: string, options?: { cause?: unknown; timer?: TimeoutTimer }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransactionError';
    this.timer = options?.timer;
  }
}

/**
 * True when a client transaction's outcome (its final response, or the error it rejected with) asks the layer above to try the next target:
 * RFC 3263 §4.3 names a timeout, a transport failure and a 503 (Service Unavailable).
 */
export function shouldFailOver(outcome: unknown): boolean {
  if (outcome instanceof SipResponse) return outcome.status === 503;
  return outcome instanceof TransactionError && (outcome.code === 'ERR_TIMEOUT' || outcome.code === 'ERR_TRANSPORT');
}

/** Errors of the stores: opening, schema, configuration, closed use. */
import { SipError } from '../core/errors.js';

export type StoreErrorCode = 'ERR_STORE_OPEN' | 'ERR_STORE_SCHEMA' | 'ERR_STORE_CLOSED' | 'ERR_STORE_CONFLICT' | 'ERR_USER_CONFIG';

export class StoreError extends SipError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StoreError';
  }
}

/** A bad entry in a user configuration: which one (index, user name when known) and why. */
export class UserConfigError extends StoreError {
  readonly index: number;
  readonly user: string | undefined;
  constructor(index: number, user: string | undefined, why: string) {
    super('ERR_USER_CONFIG', `users[${index}]${user !== undefined ? ` (${user})` : ''}: ${why}`);
    this.name = 'UserConfigError';
    this.index = index;
    this.user = user;
  }
}

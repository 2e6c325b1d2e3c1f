/**
 * One error family for the whole stack. Every error carries a stable `code`
 * that callers can switch on; `cause` keeps the underlying error when there is one.
 */
export class SipError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SipError';
    this.code = code;
  }
}

/**
 * Thrown by the message layer (parser, header accessors, stream framer) on malformed input.
 * `status` is the response an element should answer with (400 for syntax; 505, 513, 420... where
 * RFC 3261 or RFC 4475 names another code); `offset` is the byte offset in the message where the
 * fault was found (-1 when it cannot be placed, e.g. inside a header value parsed later).
 */
export class SipParseError extends SipError {
  readonly reason: string;
  readonly offset: number;
  readonly status: number;
  constructor(reason: string, offset = -1, status = 400) {
    super('ERR_SIP_PARSE', offset >= 0 ? `${reason} (at byte ${offset})` : reason);
    this.name = 'SipParseError';
    this.reason = reason;
    this.offset = offset;
    this.status = status;
  }
}

/** Narrowing helper: true for errors of the parser family. */
export function isSipParseError(e: unknown): e is SipParseError {
  return e instanceof SipParseError;
}

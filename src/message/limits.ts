/**
 * Limits on what the message layer accepts, on by default: they bound the memory one message or one
 * stream can take before anything has been validated.
 */
export interface MessageLimits {
  /** Largest whole message (start line, headers and body) in bytes. 413/513 beyond it. */
  maxMessageSize: number;
  /** Most header fields (lines, after unfolding) in one message. */
  maxHeaders: number;
  /** Longest single header line (after unfolding) or start line, in bytes. */
  maxLineLength: number;
}

/** Defaults: 64 KiB messages (a UDP datagram's ceiling), 256 headers, 8 KiB lines. */
export const DEFAULT_LIMITS: Readonly<MessageLimits> = Object.freeze({
  maxMessageSize: 65535,
  maxHeaders: 256,
  maxLineLength: 8192,
});

/** Fills the unset fields of `partial` from the defaults. */
export function resolveLimits(partial?: Partial<MessageLimits>): MessageLimits {
  return partial ? { ...DEFAULT_LIMITS, ...partial } : DEFAULT_LIMITS;
}

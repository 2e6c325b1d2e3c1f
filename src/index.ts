/**
 * hookflash: a SIP stack, user agent and server for call control.
 * This file is the curated public API; everything else is internal.
 */
export * from './message/index.js';
export { SipError, SipParseError, isSipParseError } from './core/errors.js';
export { newBranch, newTag, newCallId, MAGIC_COOKIE } from './core/ids.js';
export { KNOWN_METHODS, reasonPhrase } from './core/methods.js';

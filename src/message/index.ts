/** The message layer's public surface. */
export { parseMessage, type ParseOptions } from './parse-message.js';
export { SipMessage, SipRequest, SipResponse, type SipMessageAny } from './message.js';
export { HeaderField } from './header-field.js';
export { headerKey, wireName, COMPACT_FORMS } from './header-names.js';
export { createRequest, createResponse, type RequestOptions, type ResponseOptions, type ExtraHeaders } from './build.js';
export { parseUri, formatUri, uriEquals, isSipUri } from './uri.js';
export { parseNameAddr, parseNameAddrList, formatNameAddr } from './name-addr.js';
export { parseParams, formatParams, type Params } from './params.js';
export { StreamFramer, type StreamFramerEvents } from './stream-framer.js';
export { DEFAULT_LIMITS, type MessageLimits } from './limits.js';
export { validateRequest, type ValidationResult } from './validate.js';
export * from './headers/index.js';
export type * from './types.js';
export { formatSipfrag, parseSipfrag, SIPFRAG_TYPE, type SipfragStatus } from './sipfrag.js';

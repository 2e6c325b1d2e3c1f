/** Header value parsers and formatters, one module per header family. */
export { parseAuth, formatAuth } from './auth.js';
export { parseCSeq, formatCSeq } from './cseq.js';
export { parseReplaces, formatReplaces, parseTargetDialog, formatTargetDialog } from './dialog-ids.js';
export { parseEvent, formatEvent, parseSubscriptionState, formatSubscriptionState } from './event.js';
export { parseContentType, formatContentType, parseAccept, formatAccept } from './media-type.js';
export {
  parseCallId,
  formatCallId,
  parseReferSub,
  formatReferSub,
  parseRetryAfter,
  formatRetryAfter,
  parseWarning,
  formatWarning,
  parseDate,
  formatDate,
} from './misc.js';
export {
  parseMaxForwards,
  parseContentLength,
  parseExpires,
  parseMinExpires,
  parseRSeq,
  parseMinSE,
  formatNumber,
} from './numbers.js';
export { parseReason, formatReason } from './reason.js';
export { parseSessionExpires, formatSessionExpires, parseRAck, formatRAck } from './session-timer.js';
export { parseTokenList, formatTokenList } from './tokens.js';
export { parseVia, formatVia } from './via.js';

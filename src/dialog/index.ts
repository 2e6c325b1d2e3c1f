/** The dialog layer's public surface (RFC 3261 §12). */
export { dialogIdOf, dialogKey, sameDialog, type DialogId, type DialogRole } from './dialog-id.js';
export { RouteSet, type RequestTarget } from './route-set.js';
export { TARGET_REFRESH_METHODS, isTargetRefresh, contactOf, contactUriOf, contactTextOf, type ContactText } from './target-refresh.js';
export { Dialog, newCSeqNumber, type DialogState, type DialogOptions, type RequestVerdict } from './dialog.js';
export type { DialogRequestOptions, AckOptions } from './in-dialog-request.js';
export { DialogSet, type DialogSetOptions } from './dialog-set.js';
export { DialogTable, type ReplacesMatch } from './dialog-table.js';
export {
  REFER_EVENT, wantsReferSubscription, ReferNotifier, ReferSubscriber,
  type ReferNotify, type ReferNotifierOptions, type ReferResult, type ReferSubscriberOptions,
} from './subscription.js';

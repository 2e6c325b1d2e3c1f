/**
 * Dialog identifiers (RFC 3261 §12): Call-ID, local tag and remote tag, and the string key that
 * files a dialog in a Map.
 */
import type { SipRequest, SipResponse } from '../message/index.js';

/** Which side of the dialog-creating transaction this UA was (RFC 3261 §12.1.1, §12.1.2). */
export type DialogRole = 'uac' | 'uas';

/**
 * A dialog's id (RFC 3261 §12). A tag that the peer never sent (an RFC 2543 peer, §12.1.1 and
 * §12.1.2: "considered to have a value of null") is the empty string.
 */
export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

/**
 * The dialog id a message names, seen from this UA.
 *
 * `side` is this UA's role in the message's transaction, not in the dialog: 'uac' for a request it
 * sends or a response it receives (its tag is in From, §12.1.2), 'uas' for a request it receives
 * or a response it sends (its tag is in To, §12.1.1, §12.2.2). Reading the headers may throw
 * SipParseError (parsing is lazy).
 */
export function dialogIdOf(message: SipRequest | SipResponse, side: DialogRole): DialogId {
  const fromTag = message.fromTag ?? '';
  const toTag = message.toTag ?? '';
  return side === 'uac'
    ? { callId: message.callId, localTag: fromTag, remoteTag: toTag }
    : { callId: message.callId, localTag: toTag, remoteTag: fromTag };
}

/**
 * The Map key of a dialog id. The Call-ID is kept as it is: RFC 3261 §20.8 compares it
 * byte-by-byte. Tags are lower-cased: they are tokens, and §7.3.1 makes parameter values
 * case-insensitive unless a header says otherwise, which From and To do not. LF cannot occur in
 * either (both are parsed, unfolded header values), so it separates them unambiguously.
 */
export function dialogKey(id: DialogId): string {
  return id.callId + '\n' + id.localTag.toLowerCase() + '\n' + id.remoteTag.toLowerCase();
}

/** True when two ids name the same dialog (the comparison `dialogKey` encodes). */
export function sameDialog(a: DialogId, b: DialogId): boolean {
  return dialogKey(a) === dialogKey(b);
}

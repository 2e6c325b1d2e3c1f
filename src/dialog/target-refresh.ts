/**
 * Target refresh (RFC 3261 §12.2): which requests may move a dialog's remote target, and the
 * target a message offers.
 */
import { formatNameAddr, type NameAddr, type SipRequest, type SipResponse, type Uri } from '../message/index.js';

/**
 * Methods that are target refresh requests:
 * - INVITE: the re-INVITE (RFC 3261 §12.2, §14);
 * - UPDATE (RFC 3311 §5);
 * - SUBSCRIBE and NOTIFY (RFC 6665 §4: both carry Contact and refresh the target of the
 *   subscription's dialog);
 * - REFER: it creates a subscription (RFC 3515 §2.4.4) and carries Contact as SUBSCRIBE does, so
 *   it is treated as SUBSCRIBE is. RFC 3515 does not say so in as many words; this is our reading.
 */
export const TARGET_REFRESH_METHODS: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

/** True when a request of this method refreshes the remote target (§12.2). Methods are case-sensitive (§7.1). */
export function isTargetRefresh(method: string): boolean {
  return TARGET_REFRESH_METHODS.has(method);
}

/**
 * The first Contact of a message: the target it offers (§12.1.1, §12.1.2, §12.2). A request or
 * response that can refresh a target carries exactly one Contact (§8.1.1.8); when there are more,
 * the first is used. Undefined when there is none, or for `Contact: *` (a REGISTER form only,
 * §10.2.2). Throws SipParseError when the header is malformed.
 */
export function contactOf(message: SipRequest | SipResponse): NameAddr | undefined {
  const contact = message.contact;
  if (contact === undefined || contact === '*') return undefined;
  return contact[0];
}

/**
 * A Contact this UA sends, as it will keep sending it: its URI, and its text as written. The text
 * is kept because a parsed name-addr does not remember which parameter values were quoted, and
 * for feature tags the quotes matter (RFC 3840 §9: `+sip.rendering="no"` is a string value).
 */
export interface ContactText {
  uri: Uri;
  text: string;
}

/**
 * `contactOf(message)` with its text: the first Contact line's value when the message has one
 * Contact, else the first Contact formatted anew.
 */
export function contactTextOf(message: SipRequest | SipResponse): ContactText | undefined {
  const contact = message.contact;
  if (contact === undefined || contact === '*' || contact[0] === undefined) return undefined;
  const text = contact.length === 1 ? message.get('Contact') : undefined;
  return { uri: contact[0].uri, text: text ?? formatNameAddr(contact[0]) };
}

/** The URI of `contactOf(message)`. */
export function contactUriOf(message: SipRequest | SipResponse): Uri | undefined {
  return contactOf(message)?.uri;
}

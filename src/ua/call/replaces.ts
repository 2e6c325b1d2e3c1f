/**
 * Replaces (RFC 3891) for attended transfer (RFC 5589 §7): the Refer-To the transferor sends
 * carries `?Replaces=` naming its dialog with the target, as the target sees that dialog (its
 * to-tag is the target's own tag, RFC 3891 §3); the transferee copies it into its INVITE as a
 * Replaces header; the target matches it to the dialog (DialogTable.matchReplaces), answers, and
 * only then ends the replaced call.
 */
import type { DialogId } from '../../dialog/index.js';
import { formatReplaces, formatUri, isSipUri, parseReplaces, parseUri } from '../../message/index.js';

/**
 * The Refer-To of an attended transfer: `target` (a sip: or sips: URI) with the header
 * `Replaces=<callid>;to-tag=<the target's tag>;from-tag=<ours>` of our dialog `id` with the target
 * (escaped by formatUri: `%3B`, `%3D`), in angle brackets as a URI with headers must be (RFC 3261 §20).
 */
export function referToWithReplaces(target: string, id: DialogId): string {
  const uri = parseUri(target);
  if (!isSipUri(uri)) throw new TypeError(`${target} is not a sip: or sips: URI`);
  const replaces = formatReplaces({ callId: id.callId, toTag: id.remoteTag, fromTag: id.localTag, earlyOnly: false, params: {} });
  return `<${formatUri({ ...uri, headers: { Replaces: replaces } })}>`;
}

/**
 * The Replaces header value of a Refer-To URI's headers (names case-insensitive), checked and
 * rewritten in canonical form; undefined when there is none; an Error when it is malformed.
 */
export function replacesFromUriHeaders(headers: Readonly<Record<string, string>>): string | undefined {
  const name = Object.keys(headers).find((n) => n.toLowerCase() === 'replaces');
  if (name === undefined) return undefined;
  return formatReplaces(parseReplaces(headers[name]!));
}

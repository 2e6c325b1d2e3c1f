/**
 * Replaces (RFC 3891) for attended transfer (RFC 5589 §7): the Refer-To the transferor sends
 * carries `?Replaces=` naming its dialog with the target, as the target sees that dialog (its
 * to-tag is the target's own tag, RFC 3891 §3); the transferee copies it into its INVITE as a
 * Replaces header; the target matches it to the dialog (DialogTable.matchReplaces), answers, and
 * only then ends the replaced call.
 */
import type { Dialog, DialogId } from '../../dialog/index.js';
import { formatReplaces, formatUri, isSipUri, parseReplaces, parseUri, type SipRequest, type Uri } from '../../message/index.js';

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

/**
 * RFC 3891 §3 leaves the authorisation of a replacing INVITE to the UA ("the UAS MUST verify that
 * the request is authorized", §6.1 of its security considerations). Ours: an INVITE that would
 * replace a CONFIRMED dialog is authorised when it comes from a party the replaced call already
 * trusts:
 * - its From is the replaced dialog's remote party (the peer replacing its own call), or
 * - its Referred-By (RFC 3892) names the replaced dialog's remote party: that party referred the
 *   caller to us to take its place, which is exactly RFC 5589 §7's attended transfer (the
 *   transferor's REFER carries its AOR as Referred-By and the transferee copies it).
 * A party is its URI's user and host (host without case, the scheme sip/sips and the port and
 * parameters ignored: the seed's scheme-less Referred-By `<alice@atlanta.example.com>` reads as
 * sip: and still names `sips:alice@atlanta.example.com`). Nothing cryptographic: Referred-By is
 * taken at its word (no RFC 3893 token), as a hop-by-hop TLS peer's word; an application wanting
 * more says so in `UserAgent.onReplaces`. An EARLY dialog (only one we initiated can match, §3) is
 * replaced without this check: the call was not yet up, as in call pickup.
 */
export function replacesAuthorised(invite: SipRequest, replaced: Pick<Dialog, 'remoteUri'>): boolean {
  const peer = replaced.remoteUri;
  if (sameParty(invite.from.uri, peer)) return true;
  let referredBy;
  try {
    referredBy = invite.referredBy;
  } catch {
    return false;
  }
  return referredBy !== undefined && sameParty(referredBy.uri, peer);
}

function sameParty(a: Uri, b: Uri): boolean {
  if (!isSipUri(a) || !isSipUri(b)) return false;
  return (a.user ?? '') === (b.user ?? '') && a.host.toLowerCase() === b.host.toLowerCase();
}

/**
 * What the application said of a replacing INVITE (`UserAgent.onReplaces`), and the default:
 * a status refuses with it (403, 603...); `true` accepts; `false` refuses 403; nothing leaves it to
 * `authorised` (replacesAuthorised, or an early dialog): accepted when so, 403 otherwise. Returns
 * the status to refuse with, or undefined to accept.
 */
export function replacesVerdict(say: number | boolean | undefined, authorised: boolean): number | undefined {
  // A status that is no final failure would answer the INVITE wrongly: 500 rather than that.
  if (typeof say === 'number') return Number.isInteger(say) && say >= 300 && say <= 699 ? say : 500;
  if (say === true) return undefined;
  if (say === false) return 403;
  return authorised ? undefined : 403;
}

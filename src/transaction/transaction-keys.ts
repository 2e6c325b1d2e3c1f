/**
 * The keys the transaction layer files transactions under, so that matching a message is one Map
 * lookup: RFC 3261 §17.1.3 for responses, §17.2.3 for requests (with its RFC 2543 fallback),
 * §8.2.2.2 for merged requests. Reading the headers may throw SipParseError (parsing is lazy).
 */
import { MAGIC_COOKIE } from '../core/ids.js';
import type { SipRequest, Via } from '../message/index.js';

/** True when the Via's branch starts with the magic cookie: an RFC 3261 branch, unique by itself (§8.1.1.7). */
export function hasRfc3261Branch(via: Via): boolean {
  const branch = via.params.branch;
  return typeof branch === 'string' && branch.startsWith(MAGIC_COOKIE);
}

/** §17.1.3: a response matches the client transaction whose top Via branch and CSeq method it carries. */
export function clientKey(branch: string, method: string): string {
  return branch + '\n' + method;
}

/**
 * §17.2.3: the server transaction key of `request` as if its method were `method` (the layer files
 * ACK under INVITE, and looks a CANCEL's INVITE up under INVITE, §9.2). Undefined without a Via.
 *
 * - RFC 3261 branch: branch + sent-by + method.
 * - Otherwise (RFC 2543): Request-URI, From tag, Call-ID, CSeq number, top Via and method. The To
 *   tag is left out of the key so that an ACK, whose To tag is the response's, files with its
 *   INVITE; the layer compares To tags after the lookup.
 */
export function serverKey(request: SipRequest, method: string): string | undefined {
  const via = request.topVia;
  if (via === undefined) return undefined;
  // §17.2.3: sent-by compares host and port; host names are case-insensitive (§19.1.4 spirit).
  const sentBy = via.host.toLowerCase() + ':' + (via.port ?? '');
  if (hasRfc3261Branch(via)) return via.params.branch + '\n' + sentBy + '\n' + method;
  return [
    '2543', request.uriText, request.from.params.tag ?? '', request.callId, request.cseq.seq,
    via.transport, sentBy, via.params.branch ?? '', method,
  ].join('\n');
}

/**
 * §8.2.2.2: requests without a To tag whose From tag, Call-ID and CSeq are equal belong together;
 * a second one that matched no transaction is a merged request (it forked and came back).
 * Undefined when the request has a To tag (in-dialog requests are never merged).
 */
export function mergeKey(request: SipRequest): string | undefined {
  if (request.to.params.tag) return undefined;
  const cseq = request.cseq;
  return (request.from.params.tag ?? '') + '\n' + request.callId + '\n' + cseq.seq + '\n' + cseq.method;
}

/**
 * What a server transport writes into the top Via of a request it receives: `received` (RFC 3261
 * §18.2.1) and `rport` (RFC 3581 §4), so that responses can go back where the request came from.
 */
import type { SipRequest } from '../message/message.js';
import { formatVia } from '../message/headers/via.js';
import { newParams } from '../message/params.js';
import type { Via } from '../message/types.js';
import { ipFamily, normalizeAddress } from './addresses.js';
import type { Source } from './types.js';

/**
 * Stamps the request's top Via and returns it (as now in the message). Throws SipParseError when
 * there is no top Via or it is malformed; the caller has usually checked that already.
 *
 * - RFC 3261 §18.2.1: `received` = packet source when sent-by is a name or a different address.
 * - RFC 3581 §4: an empty `rport` gets the source port, and then `received` is added even when
 *   it equals sent-by.
 */
export function stampVia(request: SipRequest, source: Source): Via {
  const via = request.topVia;
  if (via === undefined) throw new Error('stampVia: request has no Via');
  const remote = normalizeAddress(source.remoteAddress);
  const rportAsked = 'rport' in via.params && via.params.rport === null;
  const sentByDiffers = ipFamily(via.host) === 0 || normalizeAddress(via.host) !== remote;
  if (!sentByDiffers && !rportAsked) {
    // A stale `received` from a buggy sender is not ours to keep either: it must be the source.
    if (via.params.received === undefined || normalizeAddress(via.params.received ?? '') === remote) return via;
  }
  const params = Object.assign(newParams(), via.params);
  // RFC 3261 §25.1: received holds a bare IPv4address / IPv6address, no brackets.
  if (sentByDiffers || rportAsked || params.received !== undefined) params.received = remote;
  if (rportAsked) params.rport = String(source.remotePort);
  const stamped: Via = via.port === undefined
    ? { protocol: via.protocol, transport: via.transport, host: via.host, params }
    : { protocol: via.protocol, transport: via.transport, host: via.host, port: via.port, params };
  request.removeFirst('via');
  request.prepend('Via', formatVia(stamped));
  return stamped;
}

/**
 * Where a response goes when it cannot simply follow the connection its request came on:
 * RFC 3261 §18.2.2 with RFC 3581 §4, read from the response's top Via.
 */
import type { Via } from '../message/types.js';
import { defaultPort, normalizeAddress, protocolFromToken } from './addresses.js';
import type { TransportProtocol } from './types.js';

export interface ResponseDestination {
  protocol: TransportProtocol;
  /** An IP literal, or a name still to be resolved (RFC 3263 §5). */
  host: string;
  /** Undefined when the Via gave none and the host is a name: RFC 3263 §5 then looks up SRV. */
  port: number | undefined;
}

/**
 * The §18.2.2 destination for a response with top Via `via`, whose request arrived over
 * `arrivedOn`. For reliable transports this is the fallback when the request's connection is gone.
 */
export function responseDestination(via: Via, arrivedOn: TransportProtocol): ResponseDestination {
  const protocol = protocolFromToken(via.transport) ?? arrivedOn;
  const received = via.params.received;
  const receivedHost = received === undefined || received === null ? undefined : normalizeAddress(received);
  if (protocol !== 'UDP') {
    // §18.2.2: a new connection to `received` (when present) at the sent-by port, or the default.
    return { protocol, host: receivedHost ?? via.host, port: via.port ?? (receivedHost === undefined ? undefined : defaultPort(protocol)) };
  }
  const maddr = via.params.maddr;
  if (maddr !== undefined && maddr !== null) {
    // §18.2.2: maddr wins, at the sent-by port or 5060.
    return { protocol, host: normalizeAddress(maddr), port: via.port ?? 5060 };
  }
  if (receivedHost !== undefined) {
    // RFC 3581 §4: with both received and a filled rport, the response goes to received:rport.
    const rport = via.params.rport;
    const port = rport !== undefined && rport !== null ? Number(rport) : via.port ?? 5060;
    return { protocol, host: receivedHost, port };
  }
  // Not receiver-tagged: the sent-by, per RFC 3263 §5 when it is a name.
  const rport = via.params.rport;
  if (rport !== undefined && rport !== null) return { protocol, host: via.host, port: Number(rport) };
  return { protocol, host: via.host, port: via.port };
}

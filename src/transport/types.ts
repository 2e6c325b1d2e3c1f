/**
 * The contract between the transport layer (src/transport) and the layers above it. The
 * transaction layer and the proxy never touch sockets; they see only these types.
 */
import type { SipRequest, SipResponse } from '../message/message.js';

/** RFC 3261 §18 transports plus RFC 7118 WebSocket. Upper case, as in Via. */
export type TransportProtocol = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

/** True for the transports with their own reliability (no retransmission timers, §17.1.1.2). */
export function isReliable(protocol: TransportProtocol): boolean {
  return protocol !== 'UDP';
}

/** Where to send: an IP literal and port over one transport (after RFC 3263 resolution). */
export interface Target {
  protocol: TransportProtocol;
  /** IPv4 or IPv6 literal (no brackets). */
  address: string;
  port: number;
  /** Host name the target was resolved from: TLS SNI and certificate check (RFC 5922). */
  serverName?: string;
}

/** Where a message came from. */
export interface Source {
  protocol: TransportProtocol;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The connection it arrived on (stream transports): responses and requests back reuse it. */
  connectionId?: string;
}

/** The sent-by a Via gets for a given target: the local listener's transport, host and port (§18.1.1). */
export interface ViaSentBy {
  transport: TransportProtocol;
  host: string;
  port: number;
}

/** Implemented by the layer above (the transaction layer). */
export interface TransportHandler {
  /** A parsed, framed message, Via `received`/`rport` already set on requests (§18.2.1, RFC 3581). */
  onMessage(message: SipRequest | SipResponse, source: Source): void;
}

/** What the transaction layer needs from the transport layer. */
export interface TransportLayer {
  /** The Via sent-by to put in a request sent to `target`. */
  viaFor(target: Target): ViaSentBy;
  /**
   * Sends a request to `target`, reusing a connection to it when one exists (or `connectionId`'s).
   * Rejects with a SipError (code 'ERR_TRANSPORT') when the send fails (§8.1.3.1, §17.1.4).
   */
  sendRequest(request: SipRequest, target: Target, connectionId?: string): Promise<void>;
  /**
   * Sends a response per §18.2.2: over the connection the request came on when still open, else to
   * the top Via's `received`/`rport` (UDP) or sent-by. `source` is the request's Source.
   */
  sendResponse(response: SipResponse, source: Source): Promise<void>;
}

/**
 * Our URIs in Record-Route and Path (RFC 3261 §16.6 step 4, RFC 5658): one per listener side, with
 * `lr`. When a request comes in over one transport and leaves over another (TLS in, UDP out; WS
 * in, UDP out), two entries are written, each naming the listener on its side, so that each
 * endpoint's later requests reach us over the transport it can use.
 */
import type { TransportProtocol, ViaSentBy } from '../transport/index.js';

/** `<sip:[user@]host:port;transport=x;lr[;ob]>` for a listener's sent-by. */
export function listenerUri(sentBy: ViaSentBy, options: { sips?: boolean; user?: string | undefined; ob?: boolean } = {}): string {
  const sips = options.sips === true && (sentBy.transport === 'TLS' || sentBy.transport === 'WSS');
  const user = options.user === undefined ? '' : options.user + '@';
  return `<${sips ? 'sips' : 'sip'}:${user}${sentBy.host}:${sentBy.port}${transportParam(sentBy.transport, sips)};lr${options.ob === true ? ';ob' : ''}>`;
}

function transportParam(protocol: TransportProtocol, sips: boolean): string {
  switch (protocol) {
    case 'UDP':
      return '';
    case 'TCP':
      return ';transport=tcp';
    case 'TLS':
      return sips ? '' : ';transport=tls';
    case 'WS':
      return ';transport=ws';
    case 'WSS':
      // RFC 7118 §5.2: in a sips: URI, transport=ws means secure WebSocket.
      return sips ? ';transport=ws' : ';transport=wss';
  }
}

/** Whether the two sides differ enough to need two Record-Route entries (RFC 5658 §4). */
export function needsDoubleRecordRoute(inbound: ViaSentBy, outbound: ViaSentBy): boolean {
  return inbound.transport !== outbound.transport || inbound.host !== outbound.host || inbound.port !== outbound.port;
}

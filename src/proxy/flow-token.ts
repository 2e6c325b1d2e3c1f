/**
 * Flow tokens (RFC 5626 §5.2, RFC 3327): the user part of the Path URI our registrar stores for a
 * binding, naming the flow (transport, peer address and port, connection) the REGISTER came on
 * and the node holding it. A request routed to that Path URI comes back here, and is sent over the
 * flow. The token is MACed with a key of this server, so a peer cannot forge a flow to elsewhere.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Source, TransportProtocol } from '../transport/index.js';

export interface Flow {
  protocol: TransportProtocol;
  address: string;
  port: number;
  connectionId?: string;
  /** The node that holds the connection. */
  node: string;
  /**
   * 'path': minted for the Path our registrar stores with a binding; only the nodes of this server
   * (through the shared store) ever see it, so a request that comes with it was routed by one of
   * them. 'rr': minted for a Record-Route, which every element and UA in the dialog sees.
   */
  kind: FlowTokenKind;
}

export type FlowTokenKind = 'path' | 'rr';

const PROTOCOLS: ReadonlySet<string> = new Set(['UDP', 'TCP', 'TLS', 'WS', 'WSS']);

export class FlowTokens {
  private readonly key: Buffer;

  /** `key`: shared by the nodes that must read each other's tokens; random by default. */
  constructor(key?: string | Buffer) {
    this.key = key === undefined ? randomBytes(32) : Buffer.from(key);
  }

  /** The token for the flow a message arrived on. */
  encode(source: Source, node: string, kind: FlowTokenKind = 'rr'): string {
    const payload = `${source.protocol}|${source.remoteAddress}|${source.remotePort}|${source.connectionId ?? ''}|${node}|${kind}`;
    const body = Buffer.from(payload, 'utf8').toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The flow a token names, or undefined when it is not one of ours (bad MAC, malformed). */
  decode(token: string): Flow | undefined {
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    if (token.slice(dot + 1) !== this.mac(body)) return undefined;
    const parts = Buffer.from(body, 'base64url').toString('utf8').split('|');
    if (parts.length !== 6) return undefined;
    const [protocol, address, port, connectionId, node, kind] = parts as [string, string, string, string, string, string];
    const p = Number(port);
    if (!PROTOCOLS.has(protocol) || !(p > 0 && p < 65536) || address === '' || (kind !== 'path' && kind !== 'rr')) return undefined;
    const flow: Flow = { protocol: protocol as TransportProtocol, address, port: p, node, kind };
    if (connectionId !== '') flow.connectionId = connectionId;
    return flow;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url').slice(0, 16);
  }
}

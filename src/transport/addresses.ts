/**
 * Addresses as the transport compares them: IP literals in one canonical form, so that a Via's
 * `received`, a socket's remote address and a Target's address can be compared as strings.
 */
import { isIP } from 'node:net';
import type { TransportProtocol } from './types.js';

/**
 * The canonical form of an IP literal: brackets dropped, IPv6 compressed and lower-cased
 * (RFC 5952), IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4
 * peer) turned back into IPv4. Anything that is not an IP literal is returned lower-cased (a name).
 */
export function normalizeAddress(address: string): string {
  let a = address;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const family = isIP(a);
  if (family === 4) return a;
  if (family === 6) {
    // The WHATWG URL parser writes IPv6 hosts in RFC 5952 form, which is what we compare on.
    const canonical = new URL(`http://[${a}]/`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
    if (mapped !== null) {
      const hi = parseInt(mapped[1]!, 16);
      const lo = parseInt(mapped[2]!, 16);
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
    return canonical;
  }
  return a.toLowerCase().replace(/\.$/, '');
}

/** 4, 6, or 0 when `host` is not an IP literal (brackets allowed). */
export function ipFamily(host: string): 0 | 4 | 6 {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const f = isIP(h);
  return f === 4 ? 4 : f === 6 ? 6 : 0;
}

/** `host:port`, with an IPv6 literal in brackets (RFC 3261 §19.1.1, RFC 5118). */
export function hostPort(host: string, port?: number): string {
  const h = ipFamily(host) === 6 && !host.startsWith('[') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

/** The wildcard addresses a listener may bind to. */
export function isWildcard(address: string): boolean {
  const a = normalizeAddress(address);
  return a === '0.0.0.0' || a === '::';
}

export function isLoopback(address: string): boolean {
  const a = normalizeAddress(address);
  return a === '::1' || a.startsWith('127.');
}

/**
 * Default ports: 5060 for UDP and TCP, 5061 for TLS (RFC 3261 §19.1.2). RFC 7118 gives WebSocket
 * no SIP port of its own; its URIs default like HTTP's, 80 for WS and 443 for WSS (RFC 6455 §3).
 */
export function defaultPort(protocol: TransportProtocol): number {
  switch (protocol) {
    case 'TLS':
      return 5061;
    case 'WS':
      return 80;
    case 'WSS':
      return 443;
    default:
      return 5060;
  }
}

/** The Via / URI transport token for a protocol and back. Unknown tokens (SCTP...) give undefined. */
export function protocolFromToken(token: string): TransportProtocol | undefined {
  switch (token.toUpperCase()) {
    case 'UDP':
      return 'UDP';
    case 'TCP':
      return 'TCP';
    case 'TLS':
      return 'TLS';
    case 'WS':
      return 'WS';
    case 'WSS':
      return 'WSS';
    default:
      return undefined;
  }
}

/** TLS and WSS: the only transports a sips: URI may use (RFC 3261 §26.2.2, RFC 7118 §5.2). */
export function isSecure(protocol: TransportProtocol): boolean {
  return protocol === 'TLS' || protocol === 'WSS';
}

/** The key the connection table indexes flows by: protocol, canonical address and port. */
export function flowKey(protocol: TransportProtocol, address: string, port: number): string {
  return `${protocol} ${normalizeAddress(address)} ${port}`;
}

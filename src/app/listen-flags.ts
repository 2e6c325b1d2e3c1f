/**
 * The `--listen PROTO:HOST:PORT` flag shared by `hookflash start` and `hookflash phone`.
 */
import type { ListenerConfig, TransportProtocol } from '../index.js';

/** A bad flag: the command prints the message and exits 2. */
export class UsageError extends Error {}

export const PROTOCOLS: Readonly<Record<string, TransportProtocol>> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS', ws: 'WS', wss: 'WSS' };

/** `udp:127.0.0.1:5060`, `tls:[::1]:5061`; tls and wss need `tls` (from --cert and --key). */
export function parseListen(spec: string, tls: { cert: string; key: string } | undefined): ListenerConfig {
  const m = /^([a-z]+):(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(spec);
  const protocol = m === null ? undefined : PROTOCOLS[m[1]!];
  if (m === null || protocol === undefined) throw new UsageError(`bad --listen ${JSON.stringify(spec)}: PROTO:HOST:PORT with PROTO one of udp, tcp, tls, ws, wss`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`bad --listen ${JSON.stringify(spec)}: port above 65535`);
  const host = m[2]!.replace(/^\[(.*)\]$/, '$1');
  if (protocol !== 'TLS' && protocol !== 'WSS') return { protocol, host, port };
  if (tls === undefined) throw new UsageError(`--listen ${spec} needs --cert and --key`);
  return { protocol, host, port, tls };
}

/** `host:port`, with brackets for IPv6. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

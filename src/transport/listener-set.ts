/**
 * The local listeners, and the choices made from them: which one sends to a target, and what the
 * Via sent-by says (RFC 3261 §18.1.1), so that responses find their way back (§18.2.2).
 */
import { networkInterfaces } from 'node:os';
import { randomToken } from '../core/ids.js';
import { defaultPort, ipFamily, isLoopback, isWildcard, normalizeAddress, protocolFromToken } from './addresses.js';
import type { TlsCredentials } from './tls-config.js';
import type { Target, TransportProtocol, ViaSentBy } from './types.js';

/** One listener to open. */
export interface ListenerConfig {
  protocol: TransportProtocol;
  /** Address to bind: `127.0.0.1`, `::1`, `0.0.0.0`, `::` (both families where the OS allows). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Certificate and key: required for TLS and WSS. */
  tls?: TlsCredentials;
  /** Host for Via sent-by instead of the bound address: a public name or address (behind NAT, a wildcard bind). */
  viaHost?: string;
  /** Port for Via sent-by instead of the bound one (a port forwarded on a NAT). */
  viaPort?: number;
}

/** A listener once bound. */
export interface BoundListener {
  readonly protocol: TransportProtocol;
  /** Bound address, canonical (no brackets). */
  readonly host: string;
  /** Bound port (the one picked when 0 was asked for). */
  readonly port: number;
  readonly family: 4 | 6;
  readonly viaHost: string | undefined;
  readonly viaPort: number;
}

export class ListenerSet {
  private readonly list: BoundListener[] = [];
  /** Every `host port` handed out in a sent-by: §18.1.2 drops responses whose top Via is not one. */
  private readonly sentBy = new Set<string>();
  /**
   * RFC 7118 §5.2's device for a client that cannot accept connections: an unresolvable
   * `.invalid` sent-by, used when there is no listener for the target's transport.
   */
  private readonly invalidHost = `${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}.invalid`;

  add(listener: BoundListener): void {
    this.list.push(listener);
    if (listener.viaHost !== undefined) this.remember(listener.viaHost, listener.viaPort);
    if (!isWildcard(listener.host)) this.remember(listener.host, listener.viaPort);
  }

  all(): readonly BoundListener[] {
    return this.list;
  }

  /**
   * The listener to send from / advertise for `address` over `protocol`: the same address
   * family first, then one whose loopback-ness matches the target's, then a dual-stack `::` one
   * for an IPv4 target. Ties go to the listener configured first.
   */
  pick(protocol: TransportProtocol, address: string): BoundListener | undefined {
    const family = ipFamily(address) === 6 ? 6 : 4;
    const loop = isLoopback(address);
    let best: BoundListener | undefined;
    let bestScore = 0;
    for (const l of this.list) {
      if (l.protocol !== protocol) continue;
      let score = 0;
      if (l.family === family) score += 4;
      else if (family === 4 && l.host === '::') score += 1;
      else continue;
      if (isWildcard(l.host) || isLoopback(l.host) === loop) score += 2;
      if (score > bestScore) {
        best = l;
        bestScore = score;
      }
    }
    return best;
  }

  /** The Via sent-by for a request to `target` (RFC 3261 §18.1.1). */
  viaFor(target: Target): ViaSentBy {
    const l = this.pick(target.protocol, target.address);
    if (l === undefined) {
      this.remember(this.invalidHost, defaultPort(target.protocol));
      return { transport: target.protocol, host: this.invalidHost, port: defaultPort(target.protocol) };
    }
    const host = l.viaHost ?? (isWildcard(l.host) ? concreteAddress(target.address, l.family) : l.host);
    this.remember(host, l.viaPort);
    return { transport: target.protocol, host: viaHostText(host), port: l.viaPort };
  }

  /** RFC 3261 §18.1.2: is this top-Via sent-by one this transport puts in requests? */
  isOwnSentBy(transport: string, host: string, port: number | undefined): boolean {
    const p = port ?? defaultPort(protocolFromToken(transport) ?? 'UDP');
    return this.sentBy.has(`${normalizeAddress(host)} ${p}`);
  }

  private remember(host: string, port: number): void {
    this.sentBy.add(`${normalizeAddress(host)} ${port}`);
  }
}

/** IPv6 literals go in brackets in a Via (RFC 3261 §25.1 IPv6reference). */
function viaHostText(host: string): string {
  return ipFamily(host) === 6 && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * An address of this host for a wildcard listener's sent-by: loopback for a loopback target,
 * else the first external interface address of the family.
 */
function concreteAddress(target: string, family: 4 | 6): string {
  const loop = family === 6 ? '::1' : '127.0.0.1';
  if (isLoopback(target)) return ipFamily(target) === 4 ? '127.0.0.1' : loop;
  const wanted = ipFamily(target) === 6 ? 6 : 4;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const f = a.family === 'IPv6' ? 6 : 4;
      if (!a.internal && f === wanted && !(f === 6 && a.address.startsWith('fe80'))) return a.address;
    }
  }
  return loop;
}

/**
 * Locating SIP servers (RFC 3263 §4): a URI's host, port, transport parameter and scheme in, an
 * ordered list of Targets out. Trying them in order (failover) is the transaction layer's job.
 */
import * as dnsPromises from 'node:dns/promises';
import type { NaptrRecord, SrvRecord } from 'node:dns';
import type { Logger } from '../core/logger.js';
import { noopLogger } from '../core/logger.js';
import { defaultPort, ipFamily, isSecure, normalizeAddress } from './addresses.js';
import type { Target, TransportProtocol } from './types.js';

/** Maps a URI's host to the targets to try, best first. An empty list means unresolvable. */
export interface Resolver {
  /**
   * @param host the URI host (name, IPv4, or IPv6 with or without brackets)
   * @param port the URI port, when it has one
   * @param transport the URI `transport` parameter (`udp`, `tcp`, `tls`, `ws`, `wss`), when present
   * @param sips true for a sips: URI: only TLS and WSS targets come back (RFC 3261 §26.2.2)
   */
  resolve(host: string, port?: number, transport?: string, sips?: boolean): Promise<Target[]>;
}

/** The DNS queries RFC 3263 needs; node:dns/promises by default, a fake in tests. */
export interface DnsClient {
  resolveNaptr(name: string): Promise<NaptrRecord[]>;
  resolveSrv(name: string): Promise<SrvRecord[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

/**
 * The protocol a transport parameter names, for a sip: or sips: URI (RFC 3263 §4.1). A sips: URI
 * with `transport=tcp` means TLS over TCP (RFC 3261 §26.2.2), with `transport=ws` WSS; with UDP
 * it cannot be honoured at all. Undefined means nothing usable.
 */
export function protocolForParam(transport: string, sips: boolean): TransportProtocol | undefined {
  switch (transport.toLowerCase()) {
    case 'udp':
      return sips ? undefined : 'UDP';
    case 'tcp':
      return sips ? 'TLS' : 'TCP';
    case 'tls':
      return 'TLS';
    case 'ws':
      return sips ? 'WSS' : 'WS';
    case 'wss':
      return 'WSS';
    default:
      return undefined;
  }
}

/**
 * RFC 3263 §4.1/§4.2 for a numeric host: that address, the URI's port or the transport's default,
 * the transport from the parameter or else UDP (sip:) / TLS (sips:). Undefined when the host is a name.
 */
export function numericTargets(host: string, port?: number, transport?: string, sips = false): Target[] | undefined {
  if (ipFamily(host) === 0) return undefined;
  const protocol = transport === undefined ? (sips ? 'TLS' : 'UDP') : protocolForParam(transport, sips);
  if (protocol === undefined) return [];
  return [{ protocol, address: normalizeAddress(host), port: port ?? defaultPort(protocol) }];
}

/** NAPTR services (RFC 3263 §4.1; the D2W ones are RFC 7118's IANA registrations) and their protocols. */
const NAPTR_SERVICES: Readonly<Record<string, TransportProtocol>> = {
  'sip+d2u': 'UDP',
  'sip+d2t': 'TCP',
  'sips+d2t': 'TLS',
  'sip+d2w': 'WS',
  'sips+d2w': 'WSS',
};

/**
 * SRV owner-name prefixes for the no-NAPTR and explicit-transport cases (RFC 3263 §4.1, §4.2).
 * RFC 7118 names no SRV service for WebSocket, so WS and WSS go straight to A/AAAA at 80/443
 * unless a NAPTR record points them at an SRV name.
 */
const SRV_PREFIX: Readonly<Partial<Record<TransportProtocol, string>>> = {
  UDP: '_sip._udp.',
  TCP: '_sip._tcp.',
  TLS: '_sips._tcp.',
};

export interface Rfc3263ResolverOptions {
  /** DNS queries; default node:dns/promises. */
  dns?: DnsClient;
  /**
   * Protocols this element supports, in the order tried when there are no NAPTR records (RFC 3263
   * §4.1 leaves that order to the client). Default UDP, TCP, TLS.
   */
  protocols?: TransportProtocol[];
  /** AAAA records too (after the A records, or before with 'prefer'). Default true. */
  ipv6?: boolean | 'prefer';
  /** Random source for RFC 2782 weighted selection; injectable so tests are deterministic. */
  random?: () => number;
  logger?: Logger;
}

export class Rfc3263Resolver implements Resolver {
  private readonly dns: DnsClient;
  private readonly protocols: TransportProtocol[];
  private readonly ipv6: boolean | 'prefer';
  private readonly random: () => number;
  private readonly logger: Logger;

  constructor(options: Rfc3263ResolverOptions = {}) {
    this.dns = options.dns ?? dnsPromises;
    this.protocols = options.protocols ?? ['UDP', 'TCP', 'TLS'];
    this.ipv6 = options.ipv6 ?? true;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? noopLogger;
  }

  async resolve(host: string, port?: number, transport?: string, sips = false): Promise<Target[]> {
    const numeric = numericTargets(host, port, transport, sips);
    if (numeric !== undefined) return numeric;
    const name = normalizeAddress(host);
    // RFC 5922 §4: a TLS peer is checked against the URI's domain, never the SRV target's name.
    const serverName = name;
    let explicit: TransportProtocol | undefined;
    if (transport !== undefined) {
      explicit = protocolForParam(transport, sips);
      if (explicit === undefined) {
        this.logger.info({ host, transport, sips }, 'transport not usable for this URI');
        return [];
      }
    }
    // §4.2: a port in the URI means A/AAAA only, with the transport from §4.1.
    if (port !== undefined) {
      const protocol = explicit ?? (sips ? 'TLS' : 'UDP');
      return this.addresses(name, protocol, port, serverName);
    }
    if (explicit !== undefined) {
      // §4.1: an explicit transport skips NAPTR; §4.2: SRV for that transport, then A/AAAA.
      const prefix = SRV_PREFIX[explicit];
      const viaSrv = prefix === undefined ? [] : await this.srvTargets(prefix + name, explicit, serverName);
      return viaSrv.length > 0 ? viaSrv : this.addresses(name, explicit, defaultPort(explicit), serverName);
    }
    const viaNaptr = await this.naptrTargets(name, sips, serverName);
    if (viaNaptr !== undefined) return viaNaptr;
    // §4.1: no NAPTR: SRV for each supported transport (sips: the secure ones only).
    const out: Target[] = [];
    for (const protocol of this.protocols) {
      if (sips && !isSecure(protocol)) continue;
      const prefix = SRV_PREFIX[protocol];
      if (prefix !== undefined) out.push(...(await this.srvTargets(prefix + name, protocol, serverName)));
    }
    if (out.length > 0) return dedupe(out);
    // §4.1/§4.2: no SRV either: UDP for sip:, TLS for sips:, at the default port.
    const fallback: TransportProtocol = sips ? 'TLS' : 'UDP';
    return this.addresses(name, fallback, defaultPort(fallback), serverName);
  }

  /** Targets from NAPTR records, or undefined when there are none usable (§4.1). */
  private async naptrTargets(name: string, sips: boolean, serverName: string): Promise<Target[] | undefined> {
    const records = await this.query(() => this.dns.resolveNaptr(name), 'NAPTR', name);
    const usable = records
      .filter((r) => r.flags.toLowerCase() === 's')
      .map((r) => ({ r, protocol: NAPTR_SERVICES[r.service.toLowerCase()] }))
      // §4.1: services we do not support are discarded; for a sips: URI, all but SIPS+ ones.
      .filter((x): x is { r: NaptrRecord; protocol: TransportProtocol } =>
        x.protocol !== undefined && this.supports(x.protocol) && (!sips || isSecure(x.protocol)))
      .sort((a, b) => a.r.order - b.r.order || a.r.preference - b.r.preference);
    if (usable.length === 0) return undefined;
    const out: Target[] = [];
    for (const { r, protocol } of usable) out.push(...(await this.srvTargets(r.replacement, protocol, serverName)));
    // NAPTR records that lead nowhere: as if there were none (fall through to SRV and A/AAAA).
    return out.length > 0 ? dedupe(out) : undefined;
  }

  private supports(protocol: TransportProtocol): boolean {
    return this.protocols.includes(protocol);
  }

  /** SRV records in RFC 2782 order, each expanded to its addresses. */
  private async srvTargets(srvName: string, protocol: TransportProtocol, serverName: string): Promise<Target[]> {
    const records = await this.query(() => this.dns.resolveSrv(srvName), 'SRV', srvName);
    const out: Target[] = [];
    for (const r of orderSrv(records, this.random)) {
      // RFC 2782: a target of "." means the service is decidedly not available there.
      if (r.name === '' || r.name === '.') continue;
      out.push(...(await this.addresses(r.name, protocol, r.port, serverName)));
    }
    return out;
  }

  /** A and AAAA records for `name` (§4.2), all at `port`. */
  private async addresses(name: string, protocol: TransportProtocol, port: number, serverName: string): Promise<Target[]> {
    const [v4, v6] = await Promise.all([
      this.query(() => this.dns.resolve4(name), 'A', name),
      this.ipv6 === false ? Promise.resolve<string[]>([]) : this.query(() => this.dns.resolve6(name), 'AAAA', name),
    ]);
    const ordered = this.ipv6 === 'prefer' ? [...v6, ...v4] : [...v4, ...v6];
    return ordered.map((address) => ({ protocol, address: normalizeAddress(address), port, serverName }));
  }

  /** A DNS query whose failure (NXDOMAIN, no data, timeout) counts as no records. */
  private async query<T>(q: () => Promise<T[]>, type: string, name: string): Promise<T[]> {
    try {
      return await q();
    } catch (err) {
      this.logger.debug({ err, type, name }, 'DNS query gave no records');
      return [];
    }
  }
}

/**
 * RFC 2782 "Usage rules": lowest priority first; within a priority, weighted random order, with
 * weight-0 records placed first so they are chosen only rarely (when the draw is 0).
 */
export function orderSrv(records: readonly SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) {
    const list = byPriority.get(r.priority);
    if (list === undefined) byPriority.set(r.priority, [r]);
    else list.push(r);
  }
  const out: SrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const group = byPriority.get(priority)!;
    const remaining = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight > 0)];
    while (remaining.length > 0) {
      const total = remaining.reduce((s, r) => s + r.weight, 0);
      const draw = Math.floor(random() * (total + 1));
      let sum = 0;
      let index = remaining.length - 1;
      for (let i = 0; i < remaining.length; i++) {
        sum += remaining[i]!.weight;
        if (sum >= draw) {
          index = i;
          break;
        }
      }
      out.push(remaining.splice(index, 1)[0]!);
    }
  }
  return out;
}

function dedupe(targets: Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const k = `${t.protocol} ${t.address} ${t.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

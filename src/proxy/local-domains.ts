/**
 * Which URIs name this server (RFC 3261 §16.4, §16.5): a host in the configured domains, or one of
 * our listen addresses with no port or one of our listen ports. `sip:bob@127.0.0.1:5080` is not
 * ours when we listen on 5060 only: it is forwarded.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { isSipUri, type SipUri, type Uri } from '../message/index.js';
import { isWildcard, normalizeAddress } from '../transport/addresses.js';
import type { BoundListener } from '../transport/index.js';

export class LocalDomains {
  private readonly names = new Set<string>();
  private readonly addresses = new Set<string>();
  private readonly ports = new Set<number>();

  constructor(domains: readonly string[], listeners: readonly BoundListener[] = []) {
    for (const d of domains) this.names.add(d.toLowerCase());
    for (const l of listeners) this.addListener(l);
  }

  addListener(l: BoundListener): void {
    if (isWildcard(l.host)) {
      // A wildcard bind answers on every interface: each interface address is ours.
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) this.addresses.add(normalizeAddress(a.address));
    } else this.addresses.add(normalizeAddress(l.host));
    if (l.viaHost !== undefined) this.addresses.add(normalizeAddress(l.viaHost).toLowerCase());
    this.ports.add(l.port);
    this.ports.add(l.viaPort);
  }

  /** True for a host (name or address, brackets allowed) that is one of our domains. */
  isDomain(host: string): boolean {
    return this.names.has(host.toLowerCase());
  }

  /**
   * True when `uri` names this server: its host is a configured domain (any port), or one of our
   * addresses with no port or one of our ports.
   */
  isOurs(uri: Uri): uri is SipUri {
    if (!isSipUri(uri)) return false;
    const addr = normalizeAddress(uri.host);
    // A domain that is a name is ours at any port. A domain that is an IP address (serve's default
    // domains include the listen addresses) is ours only with no port or one of our ports, like any
    // of our addresses: `sip:127.0.0.1:5092` is a phone's Contact next to us, not us.
    if (this.names.has(addr) && isIP(addr.replace(/^\[(.*)\]$/, '$1')) === 0) return true;
    if (!this.addresses.has(addr) && !this.names.has(addr)) return false;
    return this.portOk(uri.port);
  }

  /** §16.3 step 4: a Via sent-by we write (a listener's address or Via host, and one of our ports). */
  isOwnSentBy(host: string, port: number | undefined): boolean {
    return this.addresses.has(normalizeAddress(host)) && this.portOk(port);
  }

  private portOk(port: number | undefined): boolean {
    // RFC 3261 §19.1.2: an absent port means the transport's default; any of our listen ports
    // or no port at all is taken as ours (a UA that leaves the port out means the default).
    return port === undefined || this.ports.has(port);
  }
}

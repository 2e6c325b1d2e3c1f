/**
 * A Resolver from a table, for tests and fixed deployments: `atlanta.example.com` -> loopback
 * ports. Numeric hosts follow RFC 3263 §4 as the real resolver does.
 */
import { isSecure, normalizeAddress } from './addresses.js';
import { numericTargets, protocolForParam, type Resolver } from './resolver.js';
import type { Target } from './types.js';

/** Name (or `name:port`, which wins when the URI has that port) -> targets, best first. */
export type StaticTable = Readonly<Record<string, readonly Target[]>>;

export interface StaticResolverOptions {
  /** Asked for names the table does not hold. Without one they resolve to nothing. */
  fallback?: Resolver;
}

export class StaticResolver implements Resolver {
  private readonly table = new Map<string, readonly Target[]>();
  private readonly fallback: Resolver | undefined;

  constructor(table: StaticTable = {}, options: StaticResolverOptions = {}) {
    for (const [name, targets] of Object.entries(table)) this.set(name, targets);
    this.fallback = options.fallback;
  }

  /** Adds or replaces an entry. */
  set(name: string, targets: readonly Target[]): this {
    this.table.set(name.toLowerCase(), targets);
    return this;
  }

  /**
   * The table's targets for `host`. The table's ports stand (the point is mapping names to test
   * ports), the transport parameter and sips: filter them, and targets carry the looked-up name as
   * serverName unless the entry names one (what TLS checks, RFC 5922 §4).
   */
  async resolve(host: string, port?: number, transport?: string, sips = false): Promise<Target[]> {
    const numeric = numericTargets(host, port, transport, sips);
    if (numeric !== undefined) return numeric;
    const name = normalizeAddress(host);
    const entries = (port !== undefined ? this.table.get(`${name}:${port}`) : undefined) ?? this.table.get(name);
    if (entries === undefined) return this.fallback === undefined ? [] : this.fallback.resolve(host, port, transport, sips);
    const wanted = transport === undefined ? undefined : protocolForParam(transport, sips);
    if (transport !== undefined && wanted === undefined) return [];
    return entries
      .filter((t) => (wanted === undefined || t.protocol === wanted) && (!sips || isSecure(t.protocol)))
      .map((t) => (t.serverName !== undefined ? { ...t } : { ...t, serverName: name }));
  }
}

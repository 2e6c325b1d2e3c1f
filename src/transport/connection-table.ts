/**
 * Every open connection, filed by flow (protocol, address, port) for reuse, with the policing that
 * keeps a server alive under load or abuse: limits per peer and in total, idle timeout, slow-sender
 * timeout, and RFC 5626 §4.4.1 keep-alives on client flows. All timing goes through the Clock.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { SipError, type SipParseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { flowKey, ipFamily, isSecure, normalizeAddress } from './addresses.js';
import type { Connection, ConnectionOwner } from './connection.js';
import type { Target, TransportProtocol } from './types.js';

export interface ConnectionLimits {
  /** Most connections open at once, inbound and outbound together; more are refused. Default 10000. */
  maxConnections: number;
  /** Most connections with one remote IP address; more are refused. Default 100. */
  maxConnectionsPerPeer: number;
  /** A connection with no traffic either way for this long is closed; 0 never. Default 300 000 ms. */
  idleTimeoutMs: number;
  /** A message that has begun arriving must be complete within this, or the connection is closed; 0 never. Default 10 000 ms. */
  messageTimeoutMs: number;
  /** Client flows (this side opened them) send a CRLF CRLF ping after this much silence; 0 never (the default). */
  keepAliveIntervalMs: number;
  /** A ping not answered by a pong within this fails the flow (RFC 5626 §4.4.1: 10 s). */
  pongTimeoutMs: number;
  /** An outbound connection (TCP connect, TLS or WebSocket handshake) must be up within this. Default 10 000 ms. */
  connectTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  maxConnections: 10000,
  maxConnectionsPerPeer: 100,
  idleTimeoutMs: 300_000,
  messageTimeoutMs: 10_000,
  keepAliveIntervalMs: 0,
  pongTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
});

/** Where framed bytes go: the layer's receive path. */
export interface ConnectionSink {
  message(conn: Connection, bytes: Buffer): void;
  framingError(conn: Connection, error: SipParseError, partial: Buffer | undefined): void;
}

export interface ConnectionTableOptions {
  clock: Clock;
  logger: Logger;
  limits?: Partial<ConnectionLimits>;
  sink: ConnectionSink;
}

interface Armed {
  handle: TimerHandle;
  at: number;
}

export class ConnectionTable implements ConnectionOwner {
  readonly limits: ConnectionLimits;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sink: ConnectionSink;
  private readonly byId = new Map<string, Connection>();
  private readonly byKey = new Map<string, Set<Connection>>();
  private readonly perPeer = new Map<string, number>();
  private readonly timers = new Map<Connection, Armed>();
  /** Outbound connects in progress, by flow: concurrent sends to one target share one connect. */
  private readonly dialing = new Map<string, Promise<Connection>>();
  private closing = false;

  constructor(options: ConnectionTableOptions) {
    this.clock = options.clock;
    this.logger = options.logger;
    this.sink = options.sink;
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
  }

  get size(): number {
    return this.byId.size;
  }

  /** Open connections, for diagnostics and tests. */
  connections(): Connection[] {
    return [...this.byId.values()];
  }

  get(id: string): Connection | undefined {
    const c = this.byId.get(id);
    return c?.isOpen ? c : undefined;
  }

  /**
   * Whether one more connection with `remoteAddress` is within the limits. Connections being
   * dialled count too, so a burst of sends cannot overshoot.
   */
  admits(remoteAddress: string): boolean {
    if (this.closing) return false;
    const total = this.byId.size + this.dialing.size;
    if (total >= this.limits.maxConnections) return false;
    return (this.perPeer.get(normalizeAddress(remoteAddress)) ?? 0) < this.limits.maxConnectionsPerPeer;
  }

  /** Files a new connection (inbound or outbound) under its own flow and starts policing it. */
  add(conn: Connection): void {
    this.byId.set(conn.id, conn);
    const peer = normalizeAddress(conn.remoteAddress);
    this.perPeer.set(peer, (this.perPeer.get(peer) ?? 0) + 1);
    this.file(conn, flowKey(conn.protocol, conn.remoteAddress, conn.remotePort));
    this.schedule(conn);
    this.logger.debug({ id: conn.id, remote: conn.remoteAddress, port: conn.remotePort, outbound: conn.outbound }, 'connection open');
  }

  /**
   * RFC 5923 §5: files an inbound connection under the peer's advertised sent-by too, so requests
   * to that address (or name) reuse it. The caller has checked the peer may claim it.
   */
  addAlias(conn: Connection, protocol: TransportProtocol, host: string, port: number): void {
    if (!conn.isOpen) return;
    this.file(conn, flowKey(protocol, host, port));
  }

  /**
   * An open connection for `target`: by its address, or by its server name (an RFC 5923 alias
   * filed under a name). A TLS or WSS connection qualifies only when its peer was verified for the
   * target's serverName (RFC 5922 §4): reuse must not skip the identity check a new connection makes.
   */
  find(target: Target): Connection | undefined {
    const byAddress = this.pick(flowKey(target.protocol, target.address, target.port), target);
    if (byAddress !== undefined || target.serverName === undefined || ipFamily(target.serverName) !== 0) return byAddress;
    return this.pick(flowKey(target.protocol, target.serverName, target.port), target);
  }

  /**
   * The connection for `target`: an open one, one being dialled, or a new one from `dial`.
   * Rejects with SipError ERR_TRANSPORT beyond the limits or when the dial fails.
   */
  async connect(target: Target, dial: () => Promise<Connection>): Promise<Connection> {
    const open = this.find(target);
    if (open !== undefined) return open;
    const key = flowKey(target.protocol, target.address, target.port) + ' ' + (target.serverName ?? '');
    const pending = this.dialing.get(key);
    if (pending !== undefined) return pending;
    if (!this.admits(target.address)) {
      throw new SipError('ERR_TRANSPORT', `connection limit reached for ${target.address}`);
    }
    const p = dial().then((conn) => {
      if (this.closing) {
        conn.destroy();
        throw new SipError('ERR_TRANSPORT', 'transport layer closed');
      }
      this.add(conn);
      return conn;
    });
    this.dialing.set(key, p);
    try {
      return await p;
    } finally {
      this.dialing.delete(key);
    }
  }

  /** Closes every connection; resolves when all are closed. New connections are refused from now on. */
  async closeAll(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.dialing.values()]);
    const all = [...this.byId.values()];
    for (const c of all) c.close();
    await Promise.all(all.map((c) => c.closed));
  }

  // ---- ConnectionOwner ----

  message(conn: Connection, bytes: Buffer): void {
    this.sink.message(conn, bytes);
  }

  framingError(conn: Connection, error: SipParseError, partial: Buffer | undefined): void {
    this.sink.framingError(conn, error, partial);
  }

  timersChanged(conn: Connection): void {
    this.schedule(conn);
  }

  closed(conn: Connection): void {
    if (this.byId.get(conn.id) !== conn) return;
    this.byId.delete(conn.id);
    for (const key of conn.keys) {
      const set = this.byKey.get(key);
      set?.delete(conn);
      if (set?.size === 0) this.byKey.delete(key);
    }
    const peer = normalizeAddress(conn.remoteAddress);
    const n = (this.perPeer.get(peer) ?? 1) - 1;
    if (n <= 0) this.perPeer.delete(peer);
    else this.perPeer.set(peer, n);
    const armed = this.timers.get(conn);
    if (armed !== undefined) this.clock.clearTimeout(armed.handle);
    this.timers.delete(conn);
    this.logger.debug({ id: conn.id }, 'connection closed');
  }

  // ---- internals ----

  private file(conn: Connection, key: string): void {
    let set = this.byKey.get(key);
    if (set === undefined) this.byKey.set(key, (set = new Set()));
    set.add(conn);
    conn.keys.add(key);
  }

  private pick(key: string, target: Target): Connection | undefined {
    const set = this.byKey.get(key);
    if (set === undefined) return undefined;
    let best: Connection | undefined;
    for (const c of set) {
      if (!c.isOpen || !identityMatches(c, target)) continue;
      // The newest flow is the likeliest to still work (an older one may be half-dead behind a NAT).
      best = c;
    }
    return best;
  }

  /** The earliest moment something may be due on `conn`. */
  private deadline(conn: Connection): number {
    const l = this.limits;
    let d = Infinity;
    if (l.idleTimeoutMs > 0) d = Math.min(d, conn.lastActivity + l.idleTimeoutMs);
    if (l.messageTimeoutMs > 0 && conn.messageStartedAt !== undefined) d = Math.min(d, conn.messageStartedAt + l.messageTimeoutMs);
    if (conn.pingSentAt !== undefined) d = Math.min(d, conn.pingSentAt + l.pongTimeoutMs);
    else if (l.keepAliveIntervalMs > 0 && conn.outbound) d = Math.min(d, conn.lastActivity + l.keepAliveIntervalMs * conn.keepAliveFactor);
    return d;
  }

  /**
   * One timer per connection, set for its earliest deadline. Traffic does not re-arm it (that
   * would cost a timer per message); when it fires early, tick() finds nothing due and re-arms.
   */
  private schedule(conn: Connection): void {
    if (!conn.isOpen) return;
    const at = this.deadline(conn);
    const armed = this.timers.get(conn);
    if (armed !== undefined) {
      if (armed.at <= at) return;
      this.clock.clearTimeout(armed.handle);
      this.timers.delete(conn);
    }
    if (at === Infinity) return;
    const handle = this.clock.setTimeout(() => this.tick(conn), Math.max(0, at - this.clock.now()));
    this.timers.set(conn, { handle, at });
  }

  private tick(conn: Connection): void {
    this.timers.delete(conn);
    if (!conn.isOpen) return;
    const now = this.clock.now();
    const l = this.limits;
    if (l.messageTimeoutMs > 0 && conn.messageStartedAt !== undefined && now >= conn.messageStartedAt + l.messageTimeoutMs) {
      this.logger.warn({ id: conn.id, remote: conn.remoteAddress }, 'message not completed in time: closing connection (slow sender)');
      conn.destroy();
      return;
    }
    if (conn.pingSentAt !== undefined && now >= conn.pingSentAt + l.pongTimeoutMs) {
      // RFC 5626 §4.4.1: no pong in time means the flow has failed.
      this.logger.info({ id: conn.id, remote: conn.remoteAddress }, 'keep-alive not answered: flow failed');
      conn.destroy();
      return;
    }
    if (l.idleTimeoutMs > 0 && now >= conn.lastActivity + l.idleTimeoutMs) {
      this.logger.debug({ id: conn.id }, 'idle: closing connection');
      conn.close();
      return;
    }
    if (l.keepAliveIntervalMs > 0 && conn.outbound && conn.pingSentAt === undefined &&
        now >= conn.lastActivity + l.keepAliveIntervalMs * conn.keepAliveFactor) {
      conn.sendPing();
    }
    this.schedule(conn);
  }
}

/** RFC 5922 §4: a secure flow is reused only for a server name its peer was verified for. */
function identityMatches(conn: Connection, target: Target): boolean {
  if (!isSecure(target.protocol) || target.serverName === undefined) return true;
  return conn.peerIdentities.has(normalizeAddress(target.serverName));
}

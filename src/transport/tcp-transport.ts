/**
 * TCP and TLS (RFC 3261 §18, §26.2): listeners that accept connections into the connection table,
 * and the dialler that opens outbound ones. Framing and keep-alives live in StreamConnection;
 * reuse, limits and timers in ConnectionTable.
 */
import { createServer as createTcpServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Clock } from '../core/clock.js';
import { SipError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { MessageLimits } from '../message/limits.js';
import { ipFamily, normalizeAddress } from './addresses.js';
import { newConnectionId } from './connection.js';
import type { ConnectionTable } from './connection-table.js';
import { bindServer } from './bind-server.js';
import type { BoundListener, ListenerConfig } from './listener-set.js';
import { StreamConnection } from './stream-connection.js';
import { clientTlsOptions, serverTlsOptions, verifiedIdentities, type LoadedCredentials } from './tls-config.js';
import type { Target } from './types.js';

export interface TcpTransportOptions {
  protocol: 'TCP' | 'TLS';
  table: ConnectionTable;
  clock: Clock;
  logger: Logger;
  messageLimits?: Partial<MessageLimits>;
  /** TLS: trust anchors and client certificate for outbound connections. */
  tlsClient?: LoadedCredentials;
  /** TLS: skip certificate verification (labs only). */
  tlsInsecure?: boolean;
}

export class TcpTransport {
  readonly protocol: 'TCP' | 'TLS';
  private readonly o: TcpTransportOptions;
  private readonly servers: Server[] = [];
  /** Raw sockets under TLS listeners (dropped on close): one still in its handshake is not in the table yet. */
  private readonly handshaking = new Set<Socket>();

  constructor(options: TcpTransportOptions) {
    this.protocol = options.protocol;
    this.o = options;
  }

  /** Opens one listener. `credentials` are required for TLS. */
  listen(config: ListenerConfig, credentials?: LoadedCredentials): Promise<BoundListener> {
    const { table, logger } = this.o;
    let server: Server;
    if (this.protocol === 'TLS') {
      if (credentials?.cert === undefined || credentials.key === undefined) {
        return Promise.reject(new SipError('ERR_TRANSPORT', 'a TLS listener needs tls.cert and tls.key'));
      }
      const handshakeTimeout = table.limits.messageTimeoutMs > 0 ? table.limits.messageTimeoutMs : 120_000;
      const tlsServer = createTlsServer({ ...serverTlsOptions(credentials), handshakeTimeout });
      // Refuse beyond the limits before spending a handshake on it.
      tlsServer.on('connection', (raw: Socket) => {
        if (!table.admits(raw.remoteAddress ?? '')) {
          logger.warn({ remote: raw.remoteAddress }, 'connection refused: limit reached');
          raw.destroy();
          return;
        }
        this.handshaking.add(raw);
        raw.once('close', () => this.handshaking.delete(raw));
      });
      tlsServer.on('secureConnection', (s: TLSSocket) => this.accept(s));
      tlsServer.on('tlsClientError', (err) => logger.debug({ err }, 'TLS handshake failed'));
      server = tlsServer;
    } else {
      server = createTcpServer((s) => this.accept(s));
    }
    server.on('error', (err) => logger.warn({ err }, `${this.protocol} listener error`));
    return bindServer(server, this.protocol, config).then((bound) => {
      this.servers.push(server);
      return bound;
    });
  }

  /** Opens a connection to `target` (not filed in the table: ConnectionTable.connect does that). */
  dial(target: Target): Promise<StreamConnection> {
    const { clock, table } = this.o;
    const tls = this.protocol === 'TLS';
    const insecure = this.o.tlsInsecure === true;
    const address = normalizeAddress(target.address);
    return new Promise((resolve, reject) => {
      const socket: Socket = tls
        ? tlsConnect({ host: address, port: target.port, ...clientTlsOptions(this.o.tlsClient, address, target.serverName, insecure) })
        : tcpConnect({ host: address, port: target.port });
      const fail = (err: Error): void => {
        clock.clearTimeout(timer);
        socket.destroy();
        reject(new SipError('ERR_TRANSPORT', `${this.protocol} connect to ${target.address}:${target.port} failed: ${err.message}`, { cause: err }));
      };
      const timer = clock.setTimeout(() => fail(new Error('timed out')), table.limits.connectTimeoutMs);
      socket.once('error', fail);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        clock.clearTimeout(timer);
        socket.off('error', fail);
        const peer = tls ? (socket as TLSSocket) : undefined;
        const identities = peer === undefined
          ? undefined
          : verifiedIdentities(peer.authorized, peer.getPeerCertificate(), insecure ? target.serverName ?? address : undefined);
        const init = {
          id: newConnectionId(this.protocol),
          protocol: this.protocol,
          outbound: true,
          localAddress: normalizeAddress(socket.localAddress ?? ''),
          localPort: socket.localPort ?? 0,
          remoteAddress: address,
          remotePort: target.port,
          owner: table,
          clock,
        };
        resolve(new StreamConnection(socket, identities === undefined ? init : { ...init, peerIdentities: identities }, this.o.messageLimits));
      });
    });
  }

  /** Stops accepting; resolves once every listener is closed (connections are the table's). */
  close(): Promise<void> {
    const all = this.servers.splice(0);
    for (const s of this.handshaking) s.destroy();
    this.handshaking.clear();
    return Promise.all(all.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined);
  }

  private accept(socket: Socket): void {
    const { table, logger, clock } = this.o;
    const remote = socket.remoteAddress;
    if (remote === undefined) {
      socket.destroy();
      return;
    }
    if (!table.admits(remote)) {
      logger.warn({ remote }, 'connection refused: limit reached');
      socket.destroy();
      return;
    }
    const tls = this.protocol === 'TLS' ? (socket as TLSSocket) : undefined;
    const init = {
      id: newConnectionId(this.protocol),
      protocol: this.protocol,
      outbound: false,
      localAddress: normalizeAddress(socket.localAddress ?? ''),
      localPort: socket.localPort ?? 0,
      remoteAddress: normalizeAddress(remote),
      remotePort: socket.remotePort ?? 0,
      owner: table,
      clock,
    };
    // A client certificate that verified against our CA names the peer (RFC 5923 §5.3 aliases).
    const conn = tls === undefined
      ? new StreamConnection(socket, init, this.o.messageLimits)
      : new StreamConnection(socket, { ...init, peerIdentities: verifiedIdentities(tls.authorized, tls.getPeerCertificate()) }, this.o.messageLimits);
    table.add(conn);
  }
}

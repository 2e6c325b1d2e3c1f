/**
 * SIP over WebSocket, WS and WSS (RFC 7118), through the `ws` library: listeners that upgrade
 * HTTP(S) requests offering the `sip` subprotocol, and the dialler for outbound connections.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { createConnection as netCreateConnection } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import type { Clock } from '../core/clock.js';
import { SipError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { DEFAULT_LIMITS, type MessageLimits } from '../message/limits.js';
import { hostPort, ipFamily, normalizeAddress } from './addresses.js';
import { newConnectionId } from './connection.js';
import type { ConnectionTable } from './connection-table.js';
import { bindServer } from './bind-server.js';
import type { BoundListener, ListenerConfig } from './listener-set.js';
import { clientTlsOptions, serverTlsOptions, verifiedIdentities, type LoadedCredentials } from './tls-config.js';
import type { Target } from './types.js';
import { WsConnection } from './ws-connection.js';

/** RFC 7118 §4: the WebSocket subprotocol name. */
const SUBPROTOCOL = 'sip';

export interface WsTransportOptions {
  protocol: 'WS' | 'WSS';
  table: ConnectionTable;
  clock: Clock;
  logger: Logger;
  messageLimits?: Partial<MessageLimits>;
  tlsClient?: LoadedCredentials;
  tlsInsecure?: boolean;
  /** Request path for outbound connections. Default `/`. */
  path?: string;
}

export class WsTransport {
  readonly protocol: 'WS' | 'WSS';
  private readonly o: WsTransportOptions;
  private readonly servers: Server[] = [];
  private readonly wss: WebSocketServer;
  private readonly maxPayload: number;

  constructor(options: WsTransportOptions) {
    this.protocol = options.protocol;
    this.o = options;
    this.maxPayload = options.messageLimits?.maxMessageSize ?? DEFAULT_LIMITS.maxMessageSize;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.maxPayload,
      perMessageDeflate: false,
      handleProtocols: (offered) => pickSubprotocol(offered) ?? false,
    });
  }

  listen(config: ListenerConfig, credentials?: LoadedCredentials): Promise<BoundListener> {
    const { logger } = this.o;
    let server: Server;
    if (this.protocol === 'WSS') {
      if (credentials?.cert === undefined || credentials.key === undefined) {
        return Promise.reject(new SipError('ERR_TRANSPORT', 'a WSS listener needs tls.cert and tls.key'));
      }
      server = createHttpsServer({ ...serverTlsOptions(credentials), ...this.httpTimeouts() });
    } else {
      server = createHttpServer(this.httpTimeouts());
    }
    // Plain HTTP to a SIP WebSocket listener: tell the client what it should have asked for.
    server.on('request', (_req, res) => {
      res.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' });
      res.end('SIP over WebSocket (RFC 7118): upgrade with subprotocol "sip"\n');
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    server.on('clientError', (err, socket) => {
      logger.debug({ err }, 'HTTP client error on WebSocket listener');
      socket.destroy();
    });
    server.on('error', (err) => logger.warn({ err }, `${this.protocol} listener error`));
    return bindServer(server, this.protocol, config).then((bound) => {
      this.servers.push(server);
      return bound;
    });
  }

  /**
   * A slow or stalled HTTP upgrade request gets no longer than a SIP message would (the connection
   * table's messageTimeoutMs), checked every second, instead of node's 60 s headers timeout.
   */
  private httpTimeouts(): { headersTimeout?: number; requestTimeout?: number; connectionsCheckingInterval?: number } {
    const ms = this.o.table.limits.messageTimeoutMs;
    return ms > 0 ? { headersTimeout: ms, requestTimeout: ms, connectionsCheckingInterval: Math.min(1000, ms) } : {};
  }

  /** Opens a WebSocket to `target` offering the `sip` subprotocol (RFC 7118 §4.1). */
  dial(target: Target): Promise<WsConnection> {
    const { clock, table } = this.o;
    const secure = this.protocol === 'WSS';
    const address = normalizeAddress(target.address);
    const url = `${secure ? 'wss' : 'ws'}://${hostPort(address, target.port)}${this.o.path ?? '/'}`;
    const insecure = this.o.tlsInsecure === true;
    const tlsOptions = secure ? clientTlsOptions(this.o.tlsClient, address, target.serverName, insecure) : undefined;
    const headers: Record<string, string> = {};
    if (target.serverName !== undefined) headers.Host = hostPort(target.serverName, target.port);
    const ws = new WebSocket(url, [SUBPROTOCOL], {
      maxPayload: this.maxPayload,
      perMessageDeflate: false,
      headers,
      // Our own TLS connect, so that verification is the RFC 5922 one and SNI carries the name.
      ...(tlsOptions === undefined ? {} : { createConnection: secureConnector(tlsOptions) }),
    });
    return new Promise((resolve, reject) => {
      let local: { address: string; port: number; identities?: Set<string> } | undefined;
      const fail = (err: Error): void => {
        clock.clearTimeout(timer);
        ws.terminate();
        reject(new SipError('ERR_TRANSPORT', `${this.protocol} connect to ${url} failed: ${err.message}`, { cause: err }));
      };
      const timer = clock.setTimeout(() => fail(new Error('timed out')), table.limits.connectTimeoutMs);
      ws.once('upgrade', (res: IncomingMessage) => {
        const s = res.socket;
        local = { address: normalizeAddress(s.localAddress ?? ''), port: s.localPort ?? 0 };
        if (secure) {
          const t = s as TLSSocket;
          local.identities = verifiedIdentities(t.authorized, t.getPeerCertificate(), insecure ? target.serverName ?? address : undefined);
        }
      });
      ws.once('unexpected-response', (_req, res: IncomingMessage) => fail(new Error(`HTTP ${res.statusCode ?? '?'} instead of an upgrade`)));
      ws.once('error', fail);
      ws.once('open', () => {
        clock.clearTimeout(timer);
        ws.off('error', fail);
        // RFC 7118 §4.1: a server that did not accept `sip` is not a SIP WebSocket server.
        if (ws.protocol.toLowerCase() !== SUBPROTOCOL) {
          fail(new Error('server did not accept the "sip" subprotocol'));
          return;
        }
        const init = {
          id: newConnectionId(this.protocol),
          protocol: this.protocol,
          outbound: true,
          localAddress: local?.address ?? '',
          localPort: local?.port ?? 0,
          remoteAddress: address,
          remotePort: target.port,
          owner: table,
          clock,
        };
        const ids = local?.identities;
        resolve(new WsConnection(ws, ids === undefined ? init : { ...init, peerIdentities: ids }));
      });
    });
  }

  close(): Promise<void> {
    const all = this.servers.splice(0);
    return Promise.all(
      all.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })),
    ).then(() => new Promise<void>((resolve) => this.wss.close(() => resolve())));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { table, logger, clock } = this.o;
    socket.on('error', () => socket.destroy());
    const remote = req.socket.remoteAddress;
    const offered = new Set((req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== ''));
    if (pickSubprotocol(offered) === undefined) {
      // RFC 7118 §4: only the `sip` subprotocol is spoken here.
      refuse(socket, 400, 'Bad Request: subprotocol "sip" required');
      return;
    }
    if (remote === undefined || !table.admits(remote)) {
      logger.warn({ remote }, 'connection refused: limit reached');
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const s = req.socket;
      const tls = this.protocol === 'WSS' ? (s as TLSSocket) : undefined;
      const init = {
        id: newConnectionId(this.protocol),
        protocol: this.protocol,
        outbound: false,
        localAddress: normalizeAddress(s.localAddress ?? ''),
        localPort: s.localPort ?? 0,
        remoteAddress: normalizeAddress(remote),
        remotePort: s.remotePort ?? 0,
        owner: table,
        clock,
      };
      const conn = tls === undefined
        ? new WsConnection(ws, init)
        : new WsConnection(ws, { ...init, peerIdentities: verifiedIdentities(tls.authorized, tls.getPeerCertificate()) });
      table.add(conn);
    });
  }
}

/** The offered subprotocol that is `sip`, as the client spelled it; undefined when none is. */
function pickSubprotocol(offered: Set<string>): string | undefined {
  for (const p of offered) if (p.toLowerCase() === SUBPROTOCOL) return p;
  return undefined;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A `createConnection` for ws that connects with our TLS options (the library's own would verify by host name). */
function secureConnector(options: ConnectionOptions): typeof netCreateConnection {
  const connect = (opts: ConnectionOptions): TLSSocket => tlsConnect({ ...opts, ...options });
  return connect as unknown as typeof netCreateConnection;
}

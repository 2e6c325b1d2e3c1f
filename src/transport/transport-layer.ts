/**
 * The transport layer (RFC 3261 §18): listeners on UDP, TCP, TLS, WS and WSS, the connection
 * table, and the send rules of §18.1.1 (requests) and §18.2.2 (responses). The layer above sees
 * only TransportLayer and TransportHandler.
 */
import { RealClock, type Clock } from '../core/clock.js';
import { SipError, type SipParseError } from '../core/errors.js';
import { noopLogger, type Logger } from '../core/logger.js';
import { formatVia } from '../message/headers/via.js';
import type { MessageLimits } from '../message/limits.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { newParams } from '../message/params.js';
import { defaultPort, ipFamily, isSecure, normalizeAddress } from './addresses.js';
import type { Connection } from './connection.js';
import { ConnectionTable, type ConnectionLimits } from './connection-table.js';
import { ListenerSet, type BoundListener, type ListenerConfig } from './listener-set.js';
import { MessageReceiver } from './message-receiver.js';
import { Rfc3263Resolver, type Resolver } from './resolver.js';
import { responseDestination } from './response-destination.js';
import { TcpTransport } from './tcp-transport.js';
import { loadCredentials, type LoadedCredentials, type TlsCredentials } from './tls-config.js';
import { traceOut } from './trace.js';
import { isReliable, type Source, type Target, type TransportHandler, type TransportLayer, type TransportProtocol, type ViaSentBy } from './types.js';
import { UdpTransport } from './udp-transport.js';
import { WsTransport } from './ws-transport.js';

export interface TransportLimits extends ConnectionLimits {
  /**
   * RFC 3261 §18.1.1: a request over UDP larger than this goes over TCP instead, when the target
   * accepts a TCP connection (1300: a 1500-byte MTU less 200, for an unknown path MTU). 0 keeps UDP.
   */
  udpMaxRequestSize: number;
  /**
   * Receive and send buffer of each UDP socket, in bytes (default 4 MiB). The kernel default
   * (~208 KiB on Linux) drops datagrams in bursts of a few thousand transactions per second, and
   * every drop costs a retransmission (measured with bench:transactions). 0 keeps the OS default.
   */
  udpBufferSize: number;
}

export interface SipTransportLayerOptions {
  listeners: ListenerConfig[];
  handler: TransportHandler;
  /** Default: Rfc3263Resolver on the system DNS. Used for §18.2.2 responses to a name sent-by. */
  resolver?: Resolver;
  clock?: Clock;
  limits?: Partial<TransportLimits>;
  /** Size limits for incoming messages (default DEFAULT_LIMITS). */
  messageLimits?: Partial<MessageLimits>;
  /** CAs to trust and the client certificate for outbound TLS/WSS. Default: the first TLS/WSS listener's. */
  tlsClient?: TlsCredentials;
  /** Labs only: outbound TLS/WSS connect without checking the peer's certificate. Logs a warning. */
  tlsInsecure?: boolean;
  /** Honour RFC 5923 `alias` on plain TCP when sent-by is the peer's own address. Default true. */
  aliasOverTcp?: boolean;
  /** Path for outbound WebSocket connections. Default `/`. */
  wsPath?: string;
  logger?: Logger;
  /**
   * Called for each UDP datagram before it is parsed: false drops it unread. A server puts its
   * cheapest flood checks here (block list, a per-source datagram rate), so garbage from a
   * flooding source costs no parsing.
   */
  admitDatagram?: (source: Source) => boolean;
}

type StreamTransport = TcpTransport | WsTransport;

export class SipTransportLayer implements TransportLayer {
  readonly resolver: Resolver;
  private readonly options: SipTransportLayerOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly udpMaxRequestSize: number;
  private readonly listenerSet = new ListenerSet();
  private readonly table: ConnectionTable;
  private readonly receiver: MessageReceiver;
  private readonly udp: UdpTransport;
  private readonly streams = new Map<TransportProtocol, StreamTransport>();
  private started = false;
  private closing: Promise<void> | undefined;

  constructor(options: SipTransportLayerOptions) {
    this.options = options;
    this.clock = options.clock ?? new RealClock();
    this.logger = options.logger ?? noopLogger;
    this.resolver = options.resolver ?? new Rfc3263Resolver({ logger: this.logger });
    this.udpMaxRequestSize = options.limits?.udpMaxRequestSize ?? 1300;
    this.table = new ConnectionTable({
      clock: this.clock,
      logger: this.logger,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      sink: {
        message: (conn, bytes) => this.receiver.receive(bytes, conn.source, conn),
        framingError: (conn: Connection, error: SipParseError, partial: Buffer | undefined) => this.receiver.framingError(conn, error, partial),
      },
    });
    this.receiver = new MessageReceiver({
      handler: options.handler,
      logger: this.logger,
      listeners: this.listenerSet,
      table: this.table,
      aliasOverTcp: options.aliasOverTcp ?? true,
      ...(options.messageLimits === undefined ? {} : { messageLimits: options.messageLimits }),
      replyDirect: (response, source, conn) => this.replyDirect(response, source, conn),
    });
    this.udp = new UdpTransport({
      logger: this.logger,
      bufferSize: options.limits?.udpBufferSize ?? 4 * 1024 * 1024,
      onDatagram: options.admitDatagram === undefined
        ? (bytes, source) => this.receiver.receive(bytes, source)
        : (bytes, source) => {
          if (options.admitDatagram!(source)) this.receiver.receive(bytes, source);
        },
    });
    if (options.tlsInsecure === true) {
      this.logger.warn({}, 'tlsInsecure: TLS/WSS peer certificates are NOT verified; for labs only, never in production');
    }
  }

  /** Opens every listener. Rejects (with everything closed again) when one cannot be opened. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const o = this.options;
    const firstTls = o.listeners.find((l) => l.tls !== undefined)?.tls;
    const client = o.tlsClient ?? firstTls;
    const tlsClient = client === undefined ? undefined : loadCredentials(client);
    for (const protocol of ['TCP', 'TLS', 'WS', 'WSS'] as const) this.streams.set(protocol, this.makeStream(protocol, tlsClient));
    try {
      for (const config of o.listeners) {
        const creds: LoadedCredentials | undefined = config.tls === undefined ? undefined : loadCredentials(config.tls);
        const bound = config.protocol === 'UDP' ? await this.udp.listen(config) : await this.streams.get(config.protocol)!.listen(config, creds);
        this.listenerSet.add(bound);
        this.logger.info({ protocol: bound.protocol, host: bound.host, port: bound.port }, 'listening');
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** The bound listeners (ports filled in when 0 was asked for). */
  get listeners(): readonly BoundListener[] {
    return this.listenerSet.all();
  }

  /** The open connections, for diagnostics and tests. */
  get connections(): ConnectionTable {
    return this.table;
  }

  viaFor(target: Target): ViaSentBy {
    return this.listenerSet.viaFor(target);
  }

  async sendRequest(request: SipRequest, target: Target, connectionId?: string): Promise<void> {
    this.assertRunning();
    const sips = isSipsRequest(request);
    // RFC 3261 §26.2.2 / RFC 5630: a sips: request travels over TLS (or WSS) on every hop.
    if (sips && !isSecure(target.protocol)) {
      throw new SipError('ERR_TRANSPORT', `a sips: request cannot go over ${target.protocol} (RFC 3261 §26.2.2)`);
    }
    const pinned = connectionId === undefined ? undefined : this.table.get(connectionId);
    if (pinned !== undefined && (!sips || isSecure(pinned.protocol))) return this.write(pinned, request);
    if (target.protocol === 'UDP') return this.sendOverUdp(request, target);
    return this.write(await this.connectionFor(target), request);
  }

  async sendResponse(response: SipResponse, source: Source): Promise<void> {
    this.assertRunning();
    if (isReliable(source.protocol)) {
      // §18.2.2: the connection the request came on, while it is open.
      const conn = source.connectionId === undefined ? undefined : this.table.get(source.connectionId);
      if (conn !== undefined) return this.write(conn, response);
      if (source.protocol === 'WS' || source.protocol === 'WSS') {
        // RFC 7118 §5: a WebSocket client cannot be connected to; its sent-by is usually `.invalid`.
        throw new SipError('ERR_TRANSPORT', `WebSocket connection ${source.connectionId ?? '?'} is gone`);
      }
    }
    let via;
    try {
      via = response.topVia;
    } catch (e) {
      throw new SipError('ERR_TRANSPORT', 'response has a malformed Via', { cause: e });
    }
    if (via === undefined) throw new SipError('ERR_TRANSPORT', 'response has no Via');
    const dest = responseDestination(via, source.protocol);
    const targets = await this.targetsFor(dest.protocol, dest.host, dest.port);
    if (dest.protocol === 'UDP') {
      // RFC 3581 §4: from the address and port the request was received on.
      const first = targets[0]!;
      const from = this.udp.listenerAt(source.localAddress, source.localPort) ?? this.listenerSet.pick('UDP', first.address);
      if (from === undefined) throw new SipError('ERR_TRANSPORT', 'no UDP listener to send the response from');
      await this.udp.send(response.toBuffer(), from, first.address, first.port);
      traceOut({ message: response, protocol: 'UDP', address: first.address, port: first.port, localAddress: from.host, localPort: from.port });
      return;
    }
    // §18.2.2 and RFC 3263 §5: a new connection, trying each resolved address in turn.
    let last: unknown;
    for (const t of targets) {
      try {
        return await this.write(await this.connectionFor(t), response);
      } catch (e) {
        last = e;
      }
    }
    throw last instanceof SipError ? last : new SipError('ERR_TRANSPORT', 'response could not be sent', { cause: last });
  }

  /** Closes listeners and connections; resolves when every socket is closed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const servers = Promise.all([...this.streams.values()].map((t) => t.close()));
      await this.table.closeAll();
      await servers;
      await this.udp.close();
    })();
    return this.closing;
  }

  // ---- internals ----

  private makeStream(protocol: 'TCP' | 'TLS' | 'WS' | 'WSS', tlsClient: LoadedCredentials | undefined): StreamTransport {
    const o = this.options;
    const common = {
      table: this.table,
      clock: this.clock,
      logger: this.logger,
      ...(o.messageLimits === undefined ? {} : { messageLimits: o.messageLimits }),
      ...(tlsClient === undefined ? {} : { tlsClient }),
      tlsInsecure: o.tlsInsecure === true,
    };
    if (protocol === 'TCP' || protocol === 'TLS') return new TcpTransport({ ...common, protocol });
    return new WsTransport({ ...common, protocol, ...(o.wsPath === undefined ? {} : { path: o.wsPath }) });
  }

  private assertRunning(): void {
    if (this.closing !== undefined) throw new SipError('ERR_TRANSPORT', 'transport layer is closed');
    if (!this.started) throw new SipError('ERR_TRANSPORT', 'transport layer not started');
  }

  private connectionFor(target: Target): Promise<Connection> {
    const transport = this.streams.get(target.protocol);
    if (transport === undefined) return Promise.reject(new SipError('ERR_TRANSPORT', `no ${target.protocol} transport`));
    return this.table.connect(target, () => transport.dial(target));
  }

  private async write(conn: Connection, message: SipRequest | SipResponse): Promise<void> {
    await conn.send(message.toBuffer());
    traceOut({ message, protocol: conn.protocol, address: conn.remoteAddress, port: conn.remotePort, connectionId: conn.id, localAddress: conn.localAddress, localPort: conn.localPort });
  }

  /**
   * §18.1.1: over UDP unless the request is larger than udpMaxRequestSize; then over TCP to the
   * same address and port, with the top Via's transport changed to match. When the target takes
   * no TCP connection, the request goes over UDP after all (with its Via as it was).
   */
  private async sendOverUdp(request: SipRequest, target: Target): Promise<void> {
    let bytes = request.toBuffer();
    if (this.udpMaxRequestSize > 0 && bytes.length > this.udpMaxRequestSize) {
      const original = request.topVia;
      const tcpTarget: Target = { ...target, protocol: 'TCP' };
      if (original !== undefined) {
        try {
          rewriteTopVia(request, original.params, this.viaFor(tcpTarget));
          return await this.write(await this.connectionFor(tcpTarget), request);
        } catch (e) {
          this.logger.debug({ err: e, address: target.address, port: target.port }, 'large request: TCP failed, sending over UDP');
          rewriteTopVia(request, original.params, { transport: 'UDP', host: original.host, port: original.port });
          bytes = request.toBuffer();
        }
      }
    }
    const from = this.listenerSet.pick('UDP', target.address);
    if (from === undefined) throw new SipError('ERR_TRANSPORT', `no UDP listener for ${target.address}`);
    await this.udp.send(bytes, from, target.address, target.port);
    traceOut({ message: request, protocol: 'UDP', address: normalizeAddress(target.address), port: target.port, localAddress: from.host, localPort: from.port });
  }

  /** Targets for a host that may be a name (RFC 3263 §5 for responses). */
  private async targetsFor(protocol: TransportProtocol, host: string, port: number | undefined): Promise<Target[]> {
    if (ipFamily(host) !== 0) return [{ protocol, address: normalizeAddress(host), port: port ?? defaultPort(protocol) }];
    const found = (await this.resolver.resolve(host, port, protocol.toLowerCase())).filter((t) => t.protocol === protocol);
    if (found.length === 0) throw new SipError('ERR_TRANSPORT', `cannot resolve ${host} for ${protocol}`);
    return found;
  }

  /** A bad request's answer, straight back to where it came from (its Via may be what was bad). */
  private replyDirect(response: SipResponse, source: Source, conn: Connection | undefined): void {
    let sent: Promise<void>;
    if (conn !== undefined) {
      sent = this.write(conn, response);
    } else {
      const from = this.udp.listenerAt(source.localAddress, source.localPort);
      if (from === undefined) return;
      sent = this.udp.send(response.toBuffer(), from, source.remoteAddress, source.remotePort);
    }
    sent.catch((err: unknown) => this.logger.debug({ err }, 'could not answer a malformed request'));
  }
}

function isSipsRequest(request: SipRequest): boolean {
  try {
    return request.uri.scheme === 'sips';
  } catch {
    return false;
  }
}

/** Replaces the top Via's transport and sent-by, keeping its parameters (the branch above all). */
function rewriteTopVia(request: SipRequest, params: Record<string, string | null>, sentBy: { transport: string; host: string; port: number | undefined }): void {
  const copy = Object.assign(newParams(), params);
  const via = sentBy.port === undefined
    ? { protocol: 'SIP/2.0', transport: sentBy.transport, host: sentBy.host, params: copy }
    : { protocol: 'SIP/2.0', transport: sentBy.transport, host: sentBy.host, port: sentBy.port, params: copy };
  request.removeFirst('via');
  request.prepend('Via', formatVia(via));
}

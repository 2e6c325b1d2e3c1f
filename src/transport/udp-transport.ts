/**
 * UDP (RFC 3261 §18): one socket per listener, each datagram one message (§18.3). Requests and
 * responses leave from a listener socket, so the peer sees the address and port our Via names and
 * RFC 3581 symmetric responses come back to it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { SipError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ipFamily, normalizeAddress } from './addresses.js';
import type { BoundListener, ListenerConfig } from './listener-set.js';
import type { Source } from './types.js';

export interface UdpTransportOptions {
  logger: Logger;
  /** SO_RCVBUF and SO_SNDBUF for each socket; 0 keeps the OS default. */
  bufferSize: number;
  /** Every datagram received, with where it came from. Must not throw. */
  onDatagram(bytes: Buffer, source: Source): void;
}

export class UdpTransport {
  private readonly sockets = new Map<BoundListener, Socket>();
  private readonly options: UdpTransportOptions;

  constructor(options: UdpTransportOptions) {
    this.options = options;
  }

  /** Binds one listener socket. */
  listen(config: ListenerConfig): Promise<BoundListener> {
    const family = ipFamily(config.host) === 6 ? 6 : 4;
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(new SipError('ERR_TRANSPORT', `UDP bind ${config.host}:${config.port} failed: ${err.message}`, { cause: err }));
      };
      socket.once('error', onError);
      socket.bind(config.port, normalizeAddress(config.host), () => {
        socket.off('error', onError);
        const port = socket.address().port;
        const size = this.options.bufferSize;
        if (size > 0) {
          try {
            socket.setRecvBufferSize(size);
            socket.setSendBufferSize(size);
          } catch (err) {
            // The OS may cap or refuse the size (net.core.rmem_max); the socket still works.
            this.options.logger.warn({ err, port, size }, 'UDP buffer size not applied');
          }
        }
        const bound: BoundListener = {
          protocol: 'UDP',
          host: normalizeAddress(config.host),
          port,
          family,
          viaHost: config.viaHost,
          viaPort: config.viaPort ?? port,
        };
        // A socket error (an ICMP-reported failure, a send to an unreachable net) is logged, never thrown.
        socket.on('error', (err) => this.options.logger.warn({ err, port }, 'UDP socket error'));
        socket.on('message', (msg, rinfo) => {
          this.options.onDatagram(msg, {
            protocol: 'UDP',
            localAddress: bound.host,
            localPort: port,
            remoteAddress: normalizeAddress(rinfo.address),
            remotePort: rinfo.port,
          });
        });
        this.sockets.set(bound, socket);
        resolve(bound);
      });
    });
  }

  /** Sends one datagram from `from` to `address`:`port`. Rejects with SipError ERR_TRANSPORT. */
  send(bytes: Buffer, from: BoundListener, address: string, port: number): Promise<void> {
    const socket = this.sockets.get(from);
    if (socket === undefined) return Promise.reject(new SipError('ERR_TRANSPORT', 'UDP listener is closed'));
    let to = normalizeAddress(address);
    // A dual-stack IPv6 socket reaches IPv4 peers through IPv4-mapped addresses.
    if (from.family === 6 && ipFamily(to) === 4) to = `::ffff:${to}`;
    return new Promise((resolve, reject) => {
      socket.send(bytes, port, to, (err) => {
        if (err) reject(new SipError('ERR_TRANSPORT', `UDP send to ${address}:${port} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  /** The listener bound to `address`:`port` (the one a request arrived on). */
  listenerAt(address: string, port: number): BoundListener | undefined {
    const a = normalizeAddress(address);
    for (const l of this.sockets.keys()) if (l.port === port && l.host === a) return l;
    for (const l of this.sockets.keys()) if (l.port === port) return l;
    return undefined;
  }

  close(): Promise<void> {
    const all = [...this.sockets.values()];
    this.sockets.clear();
    return Promise.all(all.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined);
  }
}

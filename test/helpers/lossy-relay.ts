/**
 * A UDP relay that loses datagrams on purpose, for testing retransmission (RFC 3261 §17.1.1.2,
 * §17.1.2.2, §17.2.1, §13.3.1.4) on real sockets. The client sends to the relay, which forwards
 * to the server; the server's answers come back to the relay (it is the request's source, so
 * `received`/`rport` point at it) and go on to the client.
 *
 * Which datagrams are lost is decided by a seeded PRNG, one draw per datagram in arrival order,
 * and no more than `maxConsecutive` in a row are lost in one direction, so that every
 * transaction completes well within Timer B/F whatever the draw.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** xorshift32 (Marsaglia 2003): small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

export interface LossyRelayOptions {
  /** Where datagrams from clients go. */
  server: { address: string; port: number };
  /** Fraction of datagrams dropped, 0 to 1. */
  loss: number;
  seed: number;
  /** Most datagrams dropped in a row in one direction. Default 2. */
  maxConsecutive?: number;
  host?: string;
}

export interface RelayCounts {
  toServer: number;
  toClient: number;
  dropped: number;
}

export class LossyRelay {
  readonly counts: RelayCounts = { toServer: 0, toClient: 0, dropped: 0 };
  /** Each datagram that went through, as its first line, for the test's report. */
  readonly log: string[] = [];
  private readonly socket: Socket;
  private readonly o: LossyRelayOptions;
  private readonly random: () => number;
  private client: RemoteInfo | undefined;
  private readonly streak = { toServer: 0, toClient: 0 };

  private constructor(socket: Socket, options: LossyRelayOptions) {
    this.socket = socket;
    this.o = options;
    this.random = seededRandom(options.seed);
    socket.on('message', (msg, rinfo) => this.relay(msg, rinfo));
  }

  static start(options: LossyRelayOptions): Promise<LossyRelay> {
    const host = options.host ?? '127.0.0.1';
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve(new LossyRelay(socket, options));
      });
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private relay(msg: Buffer, from: RemoteInfo): void {
    const server = this.o.server;
    const fromServer = from.address === server.address && from.port === server.port;
    if (!fromServer) this.client = from;
    const direction = fromServer ? 'toClient' : 'toServer';
    const to = fromServer ? this.client : server;
    if (to === undefined) return;
    const first = msg.toString('latin1', 0, Math.min(msg.length, 80)).split('\r\n')[0] ?? '';
    const draw = this.random();
    if (draw < this.o.loss && this.streak[direction] < (this.o.maxConsecutive ?? 2)) {
      this.streak[direction]++;
      this.counts.dropped++;
      this.log.push(`drop ${direction} ${first}`);
      return;
    }
    this.streak[direction] = 0;
    this.counts[direction]++;
    this.log.push(`pass ${direction} ${first}`);
    this.socket.send(msg, to.port, to.address);
  }
}

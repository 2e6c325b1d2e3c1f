/**
 * Allocates RTP ports from a configured range (even RTP ports, RTCP on the next odd one, RFC 3550
 * §11) and creates sessions on them; `close()` closes every session it made.
 */
import { createSocket, type Socket } from 'node:dgram';
import { RealClock, type Clock } from '../core/clock.js';
import { SipError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { RtpSession, type RtpSessionOptions } from './rtp-session.js';

export interface MediaEngineOptions {
  /** Address to bind, e.g. 127.0.0.1 or 0.0.0.0; default 127.0.0.1. */
  readonly address?: string;
  /** Inclusive port range; default 10000-20000. */
  readonly portMin?: number;
  readonly portMax?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export type SessionOptions = Omit<RtpSessionOptions, 'clock' | 'logger' | 'rtpSocket' | 'rtcpSocket' | 'onClose'> & {
  /** Bind only the RTP port (rtcp-mux, RFC 5761); default false. */
  readonly rtcpMux?: boolean;
};

function bind(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
    const onError = (e: Error): void => {
      s.close();
      reject(e);
    };
    s.once('error', onError);
    s.bind(port, address, () => {
      s.off('error', onError);
      // After bind, socket errors (ICMP unreachable on some systems) are not fatal.
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}

export class MediaEngine {
  private readonly address: string;
  private readonly min: number;
  private readonly max: number;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly sessions = new Set<RtpSession>();
  private readonly used = new Set<number>();
  private next: number;
  private closed = false;

  constructor(options: MediaEngineOptions = {}) {
    this.address = options.address ?? '127.0.0.1';
    this.min = (options.portMin ?? 10000) + ((options.portMin ?? 10000) % 2);
    this.max = options.portMax ?? 20000;
    if (this.min < 1024 || this.max > 65535 || this.max <= this.min) {
      throw new SipError('ERR_INVALID_ARGUMENT', `media: port range ${this.min}-${this.max} is not a range of ports 1024-65535`);
    }
    this.clock = options.clock ?? new RealClock();
    this.logger = options.logger;
    this.next = this.min + 2 * Math.floor((Math.random() * (this.max - this.min)) / 2);
  }

  /** Sessions open now. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Binds an even port (and the odd one above unless rtcp-mux) and returns an idle session: it sends
   * nothing until `update()`/`configure()` gives it a remote and a direction. Rejects with
   * `SipError` `ERR_MEDIA_PORTS` when the range is full.
   */
  async createSession(options: SessionOptions = {}): Promise<RtpSession> {
    if (this.closed) throw new SipError('ERR_CLOSED', 'media engine is closed');
    const span = Math.floor((this.max - this.min) / 2) + 1;
    for (let attempt = 0; attempt < span; attempt++) {
      const port = this.next;
      this.next += 2;
      if (this.next + 1 > this.max) this.next = this.min;
      if (this.used.has(port)) continue;
      let rtp: Socket;
      try {
        rtp = await bind(this.address, port);
      } catch {
        continue;
      }
      let rtcp: Socket | undefined;
      if (options.rtcpMux !== true) {
        try {
          rtcp = await bind(this.address, port + 1);
        } catch {
          rtp.close();
          continue;
        }
      }
      this.used.add(port);
      const session: RtpSession = new RtpSession({
        ...options,
        clock: this.clock,
        ...(this.logger !== undefined ? { logger: this.logger } : {}),
        rtpSocket: rtp,
        ...(rtcp !== undefined ? { rtcpSocket: rtcp } : {}),
        onClose: () => {
          this.sessions.delete(session);
          this.used.delete(port);
        },
      });
      this.sessions.add(session);
      return session;
    }
    throw new SipError('ERR_MEDIA_PORTS', `media: no free port pair in ${this.min}-${this.max}`);
  }

  /** Closes every session. */
  close(): void {
    this.closed = true;
    for (const s of [...this.sessions]) s.close();
  }
}

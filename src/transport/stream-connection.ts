/**
 * A TCP or TLS connection: bytes in through the StreamFramer (RFC 3261 §18.3), keep-alive pings
 * answered (RFC 5626 §4.4.1), whole messages out.
 */
import type { Socket } from 'node:net';
import { SipError, SipParseError } from '../core/errors.js';
import type { MessageLimits } from '../message/limits.js';
import { StreamFramer } from '../message/stream-framer.js';
import { Connection, type ConnectionInit } from './connection.js';

const PING = Buffer.from('\r\n\r\n', 'latin1');
const PONG = Buffer.from('\r\n', 'latin1');

export class StreamConnection extends Connection {
  private readonly socket: Socket;
  private readonly framer: StreamFramer;
  /**
   * The stream's last bytes that belong to the message still being framed (the framer's
   * `buffered` count of them), kept by reference so that a framing error can still answer the
   * broken request with a 400: RFC 3261 §18.3 leaves the rest of the stream unreadable, but the
   * header section may well be complete.
   */
  private tail: Buffer[] = [];
  /** Lengths of the messages framed during the current push. */
  private framed: number[] = [];

  constructor(socket: Socket, init: ConnectionInit, limits?: Partial<MessageLimits>) {
    super(init);
    this.socket = socket;
    this.framer = new StreamFramer(
      {
        onMessage: (bytes) => {
          this.framed.push(bytes.length);
          this.messageStartedAt = undefined;
          if (this.isOpen) this.owner.message(this, bytes);
        },
        // RFC 5626 §4.4.1: a CRLF CRLF ping is answered with a single CRLF pong.
        onPing: () => {
          if (this.isOpen) this.socket.write(PONG);
        },
        onPong: () => this.pongReceived(),
      },
      limits,
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // Errors (ECONNRESET, EPIPE, TLS alerts) end the connection; 'close' follows and reports it.
    socket.on('error', () => {
      socket.destroy();
    });
    socket.on('close', () => this.markClosed());
  }

  send(bytes: Buffer): Promise<void> {
    if (!this.isOpen || this.socket.destroyed) {
      return Promise.reject(new SipError('ERR_TRANSPORT', `connection ${this.id} is closed`));
    }
    this.touch();
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (err) => {
        if (err) reject(new SipError('ERR_TRANSPORT', `write on ${this.id} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  sendPing(): void {
    if (!this.isOpen) return;
    this.touch();
    this.pingSentAt = this.clock.now();
    this.socket.write(PING);
  }

  close(): void {
    if (this.state === 'closed') return;
    this.markClosing();
    this.socket.pause();
    // Let queued writes (a final 400) reach the kernel, then close.
    if (this.socket.writableLength === 0) this.socket.destroy();
    else this.socket.end(() => this.socket.destroy());
  }

  destroy(): void {
    this.markClosing();
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (!this.isOpen) return;
    this.touch();
    this.framed = [];
    try {
      this.framer.push(chunk);
    } catch (e) {
      const error = e instanceof SipParseError ? e : new SipParseError(`stream framing failed: ${String(e)}`, -1, 400);
      const partial = this.brokenMessage(chunk);
      this.tail = [];
      this.socket.pause();
      this.owner.framingError(this, error, partial);
      return;
    }
    if (this.framer.inMessage) {
      this.tail = lastBytes([...this.tail, chunk], this.framer.buffered);
      // A message began in this chunk (a new one, or the next after one just completed).
      if (this.messageStartedAt === undefined) {
        this.messageStartedAt = this.clock.now();
        this.owner.timersChanged(this);
      }
    } else {
      this.tail = [];
    }
  }

  /**
   * The bytes of the message the framer failed on: the kept tail plus this chunk, less the
   * messages framed during this push. Only CRLFs may separate messages (RFC 3261 §7.5), so
   * skipping them between the known lengths lands exactly on the broken message's first byte.
   */
  private brokenMessage(chunk: Buffer): Buffer | undefined {
    const all = this.tail.length === 0 ? chunk : Buffer.concat([...this.tail, chunk]);
    let pos = 0;
    const skipCrlf = (): void => {
      while (pos < all.length && (all[pos] === 13 || all[pos] === 10)) pos++;
    };
    for (const length of this.framed) {
      skipCrlf();
      pos += length;
    }
    skipCrlf();
    return pos < all.length ? all.subarray(pos) : undefined;
  }
}

/** The last `n` bytes of the concatenation of `parts`, as references (no copy). */
function lastBytes(parts: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let need = n;
  for (let i = parts.length - 1; i >= 0 && need > 0; i--) {
    const p = parts[i]!;
    if (p.length <= need) {
      out.unshift(p);
      need -= p.length;
    } else {
      out.unshift(p.subarray(p.length - need));
      need = 0;
    }
  }
  return out;
}

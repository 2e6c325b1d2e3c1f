/**
 * One connection-oriented flow (TCP, TLS, WS, WSS): what the connection table keeps, reuses and
 * polices. Subclasses wrap a socket; this class holds the state the table's timers read.
 */
import type { Clock } from '../core/clock.js';
import type { SipParseError } from '../core/errors.js';
import type { Source, TransportProtocol } from './types.js';

/** What a connection reports to its owner (the ConnectionTable). Implementations never throw. */
export interface ConnectionOwner {
  /** One whole SIP message's bytes, in arrival order. */
  message(conn: Connection, bytes: Buffer): void;
  /** The stream cannot be framed any more; `partial` is the broken message's bytes when known. */
  framingError(conn: Connection, error: SipParseError, partial: Buffer | undefined): void;
  /** A message began arriving (slow-sender timer), or a keep-alive ping went out (pong timer). */
  timersChanged(conn: Connection): void;
  /** The socket is gone. */
  closed(conn: Connection): void;
}

export interface ConnectionInit {
  id: string;
  protocol: TransportProtocol;
  /** True when this side opened it (a client flow, RFC 5626 §4.4.1 keep-alives apply). */
  outbound: boolean;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /**
   * Names and addresses the peer's certificate was verified for (RFC 5922 §7.1), lower-cased:
   * a TLS connection is reused for a target only when its serverName is among them.
   */
  peerIdentities?: ReadonlySet<string>;
  owner: ConnectionOwner;
  clock: Clock;
}

export type ConnectionState = 'open' | 'closing' | 'closed';

let nextId = 1;

/** A process-wide unique connection id: `tcp-12`. */
export function newConnectionId(protocol: TransportProtocol): string {
  return `${protocol.toLowerCase()}-${nextId++}`;
}

export abstract class Connection {
  readonly id: string;
  readonly protocol: TransportProtocol;
  readonly outbound: boolean;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly peerIdentities: ReadonlySet<string>;
  /** Clock time of the last bytes in or out. */
  lastActivity: number;
  /** Clock time the message now arriving began; undefined between messages (slow-sender check). */
  messageStartedAt: number | undefined = undefined;
  /** Clock time of a keep-alive ping not answered yet (RFC 5626 §4.4.1). */
  pingSentAt: number | undefined = undefined;
  /**
   * RFC 5626 §4.4.1: keep-alive intervals are drawn between 80% and 100% of the configured one, so
   * that flows opened together do not ping together. Fixed per connection.
   */
  readonly keepAliveFactor = 0.8 + 0.2 * Math.random();
  /** Flow keys the table filed this connection under (its own, and RFC 5923 aliases). */
  readonly keys = new Set<string>();
  readonly closed: Promise<void>;

  protected readonly owner: ConnectionOwner;
  protected readonly clock: Clock;
  private _state: ConnectionState = 'open';
  private resolveClosed!: () => void;

  protected constructor(init: ConnectionInit) {
    this.id = init.id;
    this.protocol = init.protocol;
    this.outbound = init.outbound;
    this.localAddress = init.localAddress;
    this.localPort = init.localPort;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.peerIdentities = init.peerIdentities ?? new Set();
    this.owner = init.owner;
    this.clock = init.clock;
    this.lastActivity = init.clock.now();
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  get state(): ConnectionState {
    return this._state;
  }

  get isOpen(): boolean {
    return this._state === 'open';
  }

  /** The Source the layer above sees for messages from this connection. */
  get source(): Source {
    return {
      protocol: this.protocol,
      localAddress: this.localAddress,
      localPort: this.localPort,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      connectionId: this.id,
    };
  }

  /** Writes one whole message. Rejects with SipError ERR_TRANSPORT when the connection is not open or the write fails. */
  abstract send(bytes: Buffer): Promise<void>;
  /** Sends a keep-alive ping (RFC 5626 §4.4.1 CRLF CRLF, or a WebSocket ping per RFC 7118 §6). */
  abstract sendPing(): void;
  /** Lets what was written go out, then closes. */
  abstract close(): void;
  /** Closes now, dropping anything unsent. */
  abstract destroy(): void;

  /** Subclasses call this when the peer answered a keep-alive (RFC 5626 §4.4.1 pong). */
  protected pongReceived(): void {
    this.pingSentAt = undefined;
  }

  protected touch(): void {
    this.lastActivity = this.clock.now();
  }

  protected markClosing(): void {
    if (this._state === 'open') this._state = 'closing';
  }

  /** Subclasses call this once, from the socket's close event. */
  protected markClosed(): void {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this.owner.closed(this);
    this.resolveClosed();
  }
}

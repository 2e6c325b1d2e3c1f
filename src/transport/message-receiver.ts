/**
 * The receive path shared by every transport: bytes -> parsed message -> checks -> handler.
 * Bad input costs only the message (or, for a broken stream, the connection) it came in: a 400
 * when an answer is possible, a log line otherwise, never an exception into the event loop.
 */
import { SipParseError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { MessageLimits } from '../message/limits.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import { parseMessage } from '../message/parse-message.js';
import type { Via } from '../message/types.js';
import { defaultPort, ipFamily, normalizeAddress } from './addresses.js';
import { badRequestResponse, salvageRequest } from './bad-request.js';
import type { Connection } from './connection.js';
import type { ConnectionTable } from './connection-table.js';
import type { ListenerSet } from './listener-set.js';
import { traceIn } from './trace.js';
import type { Source, TransportHandler } from './types.js';
import { stampVia } from './via-received.js';

export interface MessageReceiverOptions {
  handler: TransportHandler;
  logger: Logger;
  listeners: ListenerSet;
  table: ConnectionTable;
  messageLimits?: Partial<MessageLimits>;
  /** Honour RFC 5923 `alias` on plain TCP too (see alias()). */
  aliasOverTcp: boolean;
  /** Sends an answer straight back where a bad request came from: its connection, or the datagram's source. */
  replyDirect(response: SipResponse, source: Source, conn: Connection | undefined): void;
}

function asParseError(e: unknown): SipParseError {
  return e instanceof SipParseError ? e : new SipParseError(e instanceof Error ? e.message : String(e), -1, 400);
}

export class MessageReceiver {
  private readonly o: MessageReceiverOptions;

  constructor(options: MessageReceiverOptions) {
    this.o = options;
  }

  /** One datagram, or one framed message from a connection. Never throws: it runs on socket events. */
  receive(bytes: Buffer, source: Source, conn?: Connection): void {
    try {
      this.dispatch(bytes, source, conn);
    } catch (err) {
      this.o.logger.error({ err, remote: source.remoteAddress, protocol: source.protocol }, 'receive path failed; message dropped');
    }
  }

  private dispatch(bytes: Buffer, source: Source, conn: Connection | undefined): void {
    let message: SipRequest | SipResponse;
    try {
      message = parseMessage(bytes, this.o.messageLimits === undefined ? { lazy: true } : { lazy: true, limits: this.o.messageLimits });
    } catch (e) {
      const error = asParseError(e);
      const request = salvageRequest(bytes, this.o.messageLimits);
      if (request !== undefined) this.reject(request, error, source, conn);
      else this.o.logger.info({ reason: error.reason, remote: source.remoteAddress, port: source.remotePort, protocol: source.protocol }, 'unparseable message dropped');
      return;
    }
    if (message instanceof SipRequest) this.request(message, source, conn);
    else this.response(message, source);
  }

  /** A stream that cannot be framed: answer the broken request if it can be read, then close (RFC 3261 §18.3). */
  framingError(conn: Connection, error: SipParseError, partial: Buffer | undefined): void {
    this.o.logger.warn({ id: conn.id, reason: error.reason, remote: conn.remoteAddress }, 'stream framing failed: closing connection');
    try {
      const request = partial === undefined ? undefined : salvageRequest(partial, this.o.messageLimits);
      const response = request === undefined ? undefined : badRequestResponse(request, error);
      if (response !== undefined) conn.send(response.toBuffer()).catch(() => undefined);
    } catch (err) {
      this.o.logger.error({ err, id: conn.id }, 'could not answer a broken stream');
    }
    conn.close();
  }

  private request(request: SipRequest, source: Source, conn: Connection | undefined): void {
    let via: Via;
    try {
      checkRequest(request);
      via = stampVia(request, source);
    } catch (e) {
      this.reject(request, asParseError(e), source, conn);
      return;
    }
    if (conn !== undefined && via.params.alias !== undefined) this.alias(conn, via);
    this.deliver(request, source);
  }

  private response(response: SipResponse, source: Source): void {
    let via: Via | undefined;
    try {
      via = response.topVia;
      void response.cseq;
    } catch (e) {
      this.o.logger.info({ reason: asParseError(e).reason, remote: source.remoteAddress }, 'malformed response dropped');
      return;
    }
    if (via === undefined) {
      this.o.logger.info({ remote: source.remoteAddress }, 'response without Via dropped');
      return;
    }
    // RFC 3261 §18.1.2: a response whose top Via sent-by is not one we put in requests is discarded.
    if (!this.o.listeners.isOwnSentBy(via.transport, via.host, via.port)) {
      this.o.logger.info({ host: via.host, port: via.port, remote: source.remoteAddress }, 'response for another sent-by dropped (RFC 3261 §18.1.2)');
      return;
    }
    this.deliver(response, source);
  }

  private deliver(message: SipRequest | SipResponse, source: Source): void {
    traceIn(message, source);
    try {
      this.o.handler.onMessage(message, source);
    } catch (err) {
      // The layer above failing on one message must not take the socket (or the process) with it.
      this.o.logger.error({ err, remote: source.remoteAddress }, 'transport handler threw');
    }
  }

  private reject(request: SipRequest, error: SipParseError, source: Source, conn: Connection | undefined): void {
    const response = badRequestResponse(request, error);
    const ctx = { reason: error.reason, method: request.method, remote: source.remoteAddress, port: source.remotePort };
    if (response === undefined) {
      this.o.logger.info(ctx, 'malformed request dropped: no response possible');
      return;
    }
    this.o.logger.info({ ...ctx, status: response.status }, 'malformed request answered');
    this.o.replyDirect(response, source, conn);
  }

  /**
   * RFC 5923 §5: a request whose top Via carries `alias` lets us send requests back to its sent-by
   * over this connection. A peer may claim only what we can check:
   * - an IP sent-by must be the connection's own remote address (no claiming other hosts);
   * - a name sent-by only over TLS, when its client certificate verified for that name (§5.3).
   * DEVIATION(RFC 5923 §1): RFC 5923 defines reuse for TLS only; with `aliasOverTcp` (the default)
   * plain TCP aliases are honoured under the same-address rule, which NATed and in-house peers rely on.
   */
  private alias(conn: Connection, via: Via): void {
    if (conn.protocol !== 'TCP' && conn.protocol !== 'TLS') return;
    if (conn.protocol === 'TCP' && !this.o.aliasOverTcp) return;
    const host = normalizeAddress(via.host);
    const port = via.port ?? defaultPort(conn.protocol);
    if (ipFamily(host) !== 0) {
      if (host === conn.remoteAddress) this.o.table.addAlias(conn, conn.protocol, host, port);
    } else if (conn.protocol === 'TLS' && conn.peerIdentities.has(host)) {
      this.o.table.addAlias(conn, conn.protocol, host, port);
    }
  }
}

/**
 * What every request must have before the layer above sees it: a well-formed Via list (the
 * response path reads it) and the headers transactions are matched on (RFC 3261 §17.2.3) and a
 * response copies (§8.2.6.2). Each getter throws SipParseError when its header is missing or bad.
 */
function checkRequest(request: SipRequest): void {
  if (request.via.length === 0) throw new SipParseError('missing Via header', -1, 400);
  void request.callId;
  void request.cseq;
  void request.from;
  void request.to;
}

/**
 * A SIP WebSocket connection (RFC 7118): each WebSocket message carries exactly one SIP message
 * (§5.1), so there is no framer; the WebSocket layer has already delimited it.
 */
import { isUtf8 } from 'node:buffer';
import type { RawData, WebSocket } from 'ws';
import { SipError } from '../core/errors.js';
import { Connection, type ConnectionInit } from './connection.js';

const PONG = '\r\n';

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** True when every byte is CR or LF: an RFC 5626 keep-alive rather than a SIP message. */
function onlyCrlf(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 13 && b[i] !== 10) return false;
  return true;
}

export class WsConnection extends Connection {
  private readonly ws: WebSocket;

  constructor(ws: WebSocket, init: ConnectionInit) {
    super(init);
    this.ws = ws;
    ws.on('message', (data: RawData) => this.receive(toBuffer(data)));
    // RFC 7118 §6: WebSocket Ping/Pong frames keep the connection alive; the library answers pings.
    ws.on('pong', () => {
      this.touch();
      this.pongReceived();
    });
    ws.on('ping', () => this.touch());
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.markClosed());
  }

  send(bytes: Buffer): Promise<void> {
    if (!this.isOpen || this.ws.readyState !== this.ws.OPEN) {
      return Promise.reject(new SipError('ERR_TRANSPORT', `connection ${this.id} is closed`));
    }
    this.touch();
    return new Promise((resolve, reject) => {
      // RFC 7118 §5.1: text frames carry UTF-8; a message with a binary body goes in a binary frame.
      this.ws.send(bytes, { binary: !isUtf8(bytes) }, (err) => {
        if (err) reject(new SipError('ERR_TRANSPORT', `write on ${this.id} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  sendPing(): void {
    if (!this.isOpen) return;
    this.touch();
    this.pingSentAt = this.clock.now();
    this.ws.ping();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.markClosing();
    // 1000: normal closure. The closing handshake waits for the peer; terminate() in destroy() does not.
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    else this.ws.terminate();
  }

  destroy(): void {
    this.markClosing();
    this.ws.terminate();
  }

  private receive(bytes: Buffer): void {
    if (!this.isOpen) return;
    this.touch();
    if (onlyCrlf(bytes)) {
      // Clients such as SIP.js send RFC 5626 §4.4.1 CRLF keep-alives over WebSocket too: a
      // CRLF CRLF ping gets a CRLF pong; a lone CRLF is a pong.
      if (bytes.length >= 4) this.ws.send(PONG);
      else this.pongReceived();
      return;
    }
    this.owner.message(this, bytes);
  }
}

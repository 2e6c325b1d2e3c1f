/**
 * Shared pieces for the transport tests: a handler that queues what arrives, SIP text builders,
 * a recording logger, and polling for conditions real sockets take a few ms to reach.
 */
import { createServer } from 'node:net';
import type { LogContext, Logger } from '../../../src/core/logger.js';
import { createRequest } from '../../../src/message/build.js';
import type { SipRequest, SipResponse } from '../../../src/message/message.js';
import type { BoundListener, ListenerConfig } from '../../../src/transport/listener-set.js';
import { SipTransportLayer, type SipTransportLayerOptions } from '../../../src/transport/transport-layer.js';
import type { Source, Target, TransportHandler, TransportProtocol } from '../../../src/transport/types.js';

export interface Arrival {
  message: SipRequest | SipResponse;
  source: Source;
}

/** A TransportHandler that queues arrivals; `next()` waits for one. */
export class Inbox implements TransportHandler {
  readonly arrivals: Arrival[] = [];
  private waiters: Array<(a: Arrival) => void> = [];
  /** Called for each arrival after it is queued (tests answer requests here). */
  onArrival: ((a: Arrival) => void) | undefined;

  onMessage(message: SipRequest | SipResponse, source: Source): void {
    const a = { message, source };
    const w = this.waiters.shift();
    if (w !== undefined) w(a);
    else this.arrivals.push(a);
    this.onArrival?.(a);
  }

  /** The next arrival (queued or future); rejects after `ms`. */
  next(ms = 2000): Promise<Arrival> {
    const queued = this.arrivals.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error(`no message within ${ms} ms`));
      }, ms);
      const done = (a: Arrival): void => {
        clearTimeout(timer);
        resolve(a);
      };
      this.waiters.push(done);
    });
  }

  async nextRequest(ms?: number): Promise<{ message: SipRequest; source: Source }> {
    const a = await this.next(ms);
    if (!a.message.isRequest) throw new Error('expected a request');
    return a as { message: SipRequest; source: Source };
  }

  async nextResponse(ms?: number): Promise<{ message: SipResponse; source: Source }> {
    const a = await this.next(ms);
    if (a.message.isRequest) throw new Error('expected a response');
    return a as { message: SipResponse; source: Source };
  }
}

export interface LogLine {
  level: string;
  obj: LogContext;
  msg: string;
}

/** A Logger that keeps every line, for asserting warnings. */
export class MemoryLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(obj: LogContext, msg: string): void {
    this.lines.push({ level: 'debug', obj, msg });
  }
  info(obj: LogContext, msg: string): void {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: LogContext, msg: string): void {
    this.lines.push({ level: 'warn', obj, msg });
  }
  error(obj: LogContext, msg: string): void {
    this.lines.push({ level: 'error', obj, msg });
  }
  has(level: string, pattern: RegExp): boolean {
    return this.lines.some((l) => l.level === level && pattern.test(l.msg));
  }
}

export interface RawRequest {
  method?: string;
  uri?: string;
  /** The whole Via value. */
  via: string;
  callId?: string;
  cseq?: number;
  body?: string;
  extra?: string[];
  /** Leave Content-Length out (a stream framing error). */
  noContentLength?: boolean;
}

/** A request as wire text. */
export function rawRequest(r: RawRequest): string {
  const method = r.method ?? 'OPTIONS';
  const body = r.body ?? '';
  const lines = [
    `${method} ${r.uri ?? 'sip:bob@biloxi.example.com'} SIP/2.0`,
    `Via: ${r.via}`,
    'Max-Forwards: 70',
    'From: <sip:alice@atlanta.example.com>;tag=1928301774',
    'To: <sip:bob@biloxi.example.com>',
    `Call-ID: ${r.callId ?? 'a84b4c76e66710@pc33.atlanta.example.com'}`,
    `CSeq: ${r.cseq ?? 1} ${method}`,
    ...(r.extra ?? []),
  ];
  if (r.noContentLength !== true) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

/** Polls `cond` every 2 ms until it holds; rejects after `ms`. For states real sockets reach in a few ms. */
export async function waitFor(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A port number free for TCP right now (so UDP and TCP listeners can share it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}


/** A started layer with its inbox. */
export async function startLayer(
  listeners: ListenerConfig[],
  options: Partial<Omit<SipTransportLayerOptions, 'listeners' | 'handler'>> = {},
): Promise<{ layer: SipTransportLayer; inbox: Inbox }> {
  const inbox = new Inbox();
  const layer = new SipTransportLayer({ listeners, handler: inbox, ...options });
  await layer.start();
  return { layer, inbox };
}

/** The bound listener of `protocol` (and family). */
export function listenerOf(layer: SipTransportLayer, protocol: TransportProtocol, family: 4 | 6 = 4): BoundListener {
  const l = layer.listeners.find((x) => x.protocol === protocol && x.family === family);
  if (l === undefined) throw new Error(`no ${protocol} listener`);
  return l;
}

/** The Target reaching a layer's listener. */
export function targetOf(layer: SipTransportLayer, protocol: TransportProtocol, family: 4 | 6 = 4, serverName?: string): Target {
  const l = listenerOf(layer, protocol, family);
  const t: Target = { protocol, address: l.host, port: l.port };
  if (serverName !== undefined) t.serverName = serverName;
  return t;
}

/** An OPTIONS request from `layer` to `target`, its Via from viaFor (with an empty rport, RFC 3581). */
export function optionsFor(layer: SipTransportLayer, target: Target, extra: { body?: string; uri?: string; alias?: boolean } = {}): SipRequest {
  const sentBy = layer.viaFor(target);
  const params: Record<string, string | null> = { rport: null };
  if (extra.alias === true) params.alias = null;
  return createRequest({
    method: 'OPTIONS',
    uri: extra.uri ?? 'sip:bob@biloxi.example.com',
    from: 'Alice <sip:alice@atlanta.example.com>',
    to: 'Bob <sip:bob@biloxi.example.com>',
    via: { transport: sentBy.transport, host: sentBy.host, port: sentBy.port, params },
    ...(extra.body === undefined ? {} : { body: extra.body, contentType: 'text/plain' }),
  });
}

/**
 * The trace hook: one subscriber to `hookflash:message:in` and `hookflash:message:out`
 * (node:diagnostics_channel, published by the transport layer) that turns every message into a
 * `CapturedMessage`: a copy of its bytes, when it was seen, the transport and both ends, and the few
 * header values the call store, the ladder and the exports need.
 *
 * When the sender and the receiver live in one process (`hookflash demo`), one hop is published
 * twice: `out` at the sender and `in` at the receiver. The hook keeps the first and drops its twin
 * (same transport, ports and bytes, seen from the other side within a few seconds), so a hop is
 * one message in the ladder and one packet in a pcap.
 */
import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { MessageInEvent, MessageOutEvent, SipRequest, SipResponse, TransportProtocol } from '../index.js';

/** One end of a hop. */
export interface Endpoint {
  address: string;
  port: number;
}

/** A message as the hook saw it: immutable once made. */
export interface CapturedMessage {
  /** Increasing from 1 in capture order. */
  seq: number;
  /** Wall-clock time, epoch milliseconds with a fraction (microseconds kept for pcap and HEP). */
  time: number;
  /** Which side published it first: our send (`out`) or our receive (`in`). */
  seen: 'in' | 'out';
  protocol: TransportProtocol;
  src: Endpoint;
  dst: Endpoint;
  bytes: Buffer;
  isRequest: boolean;
  /** The request method, or the CSeq method of a response. */
  method: string;
  /** Responses: the status code and reason phrase. */
  status?: number;
  reason?: string;
  callId: string;
  cseq: number;
  fromTag?: string;
  toTag?: string;
  /** The top Via's sent-by of a request (`host:port`), which names its sender. */
  viaSentBy?: { host: string; port?: number };
  /** The top Via's branch. */
  branch?: string;
}

const IN_CHANNEL = 'hookflash:message:in';
const OUT_CHANNEL = 'hookflash:message:out';
/** How long a hop waits for its twin from the other side (in-process sender and receiver). */
const TWIN_WINDOW_MS = 5_000;

/** Microsecond wall time: performance's origin plus its monotonic offset. */
export function nowMicros(): number {
  return performance.timeOrigin + performance.now();
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; brackets dropped. */
export function plainAddress(address: string): string {
  const a = address.replace(/^\[(.*)\]$/, '$1');
  return a.toLowerCase().startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Builds the record of a message; undefined when its headers cannot be read (nothing to group it by). */
export function captureRecord(message: SipRequest | SipResponse, protocol: TransportProtocol, src: Endpoint, dst: Endpoint,
  seen: 'in' | 'out', seq: number, time: number): CapturedMessage | undefined {
  try {
    const bytes = Buffer.from(message.toBuffer());
    const cseq = message.cseq;
    const record: CapturedMessage = {
      seq,
      time,
      seen,
      protocol,
      src: { address: plainAddress(src.address), port: src.port },
      dst: { address: plainAddress(dst.address), port: dst.port },
      bytes,
      isRequest: message.isRequest,
      method: message.isRequest ? message.method : cseq.method,
      callId: message.callId,
      cseq: cseq.seq,
    };
    if (!message.isRequest) {
      record.status = message.status;
      record.reason = message.reasonPhrase;
    }
    const fromTag = safe(() => message.fromTag);
    const toTag = safe(() => message.toTag);
    if (fromTag !== undefined) record.fromTag = fromTag;
    if (toTag !== undefined) record.toTag = toTag;
    const via = safe(() => message.topVia);
    if (via !== undefined) {
      const branch = via.params['branch'];
      if (typeof branch === 'string') record.branch = branch;
      if (message.isRequest) record.viaSentBy = via.port === undefined ? { host: via.host } : { host: via.host, port: via.port };
    }
    return record;
  } catch {
    return undefined;
  }
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

export interface TraceHookOptions {
  /** Where the local end of an `out` event is unknown (older transports): this address. Default 127.0.0.1. */
  defaultLocalAddress?: string;
  /**
   * Keep one copy of a hop seen from both ends (sender and receiver in this process, as in the
   * demo). Default true; a server whose peers are other processes turns it off and saves the work.
   */
  twins?: boolean;
}

type Sink = (message: CapturedMessage) => void;

/**
 * Subscribes on construction; `close()` unsubscribes. Each consumer (`onMessage`) gets every
 * captured message once, in capture order; a consumer that throws is left out of that message only.
 */
export class TraceHook {
  private readonly sinks: Sink[] = [];
  private readonly twins = new Map<string, { seen: 'in' | 'out'; count: number; at: number }>();
  private seq = 0;
  private sweepAt = 0;
  private closed = false;
  private readonly defaultLocal: string;
  private readonly twinCheck: boolean;
  private readonly onIn = (data: unknown): void => this.receive(data as MessageInEvent);
  private readonly onOut = (data: unknown): void => this.send(data as MessageOutEvent);

  constructor(options: TraceHookOptions = {}) {
    this.defaultLocal = options.defaultLocalAddress ?? '127.0.0.1';
    this.twinCheck = options.twins !== false;
    subscribe(IN_CHANNEL, this.onIn);
    subscribe(OUT_CHANNEL, this.onOut);
  }

  /** Adds a consumer; returns its removal. */
  onMessage(sink: Sink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }

  /** How many messages were captured so far. */
  get count(): number {
    return this.seq;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    unsubscribe(IN_CHANNEL, this.onIn);
    unsubscribe(OUT_CHANNEL, this.onOut);
    this.sinks.length = 0;
    this.twins.clear();
  }

  private receive(event: MessageInEvent): void {
    const s = event.source;
    this.take(event.message, s.protocol, { address: s.remoteAddress, port: s.remotePort }, { address: s.localAddress, port: s.localPort }, 'in');
  }

  private send(event: MessageOutEvent): void {
    const local = { address: event.localAddress ?? this.defaultLocal, port: event.localPort ?? 0 };
    this.take(event.message, event.protocol, local, { address: event.address, port: event.port }, 'out');
  }

  private take(message: SipRequest | SipResponse, protocol: TransportProtocol, src: Endpoint, dst: Endpoint, seen: 'in' | 'out'): void {
    try {
      const time = nowMicros();
      const record = captureRecord(message, protocol, src, dst, seen, this.seq + 1, time);
      if (record === undefined || (this.twinCheck && this.isTwin(record))) return;
      this.seq = record.seq;
      for (const sink of [...this.sinks]) {
        try {
          sink(record);
        } catch {
          // A consumer's failure is its own; the SIP traffic and the other consumers go on.
        }
      }
    } catch {
      // Nothing thrown here may reach the transport's socket handler.
    }
  }

  /** True when `r` is the other side's view of a hop already captured (and consumes that match). */
  private isTwin(r: CapturedMessage): boolean {
    const now = r.time;
    if (now >= this.sweepAt) {
      for (const [k, v] of this.twins) if (now - v.at > TWIN_WINDOW_MS) this.twins.delete(k);
      this.sweepAt = now + TWIN_WINDOW_MS;
    }
    // Not the bytes: the receiving transport writes received/rport into a request's Via (RFC 3581)
    // before publishing. The start line, the transaction's ids and the body are the same.
    const firstLine = r.bytes.subarray(0, Math.max(0, r.bytes.indexOf('\r\n'))).toString('latin1');
    const bodyAt = r.bytes.indexOf('\r\n\r\n');
    const body = bodyAt < 0 ? '' : createHash('sha1').update(r.bytes.subarray(bodyAt)).digest('base64');
    const key = `${r.protocol}|${r.src.port}|${r.dst.port}|${firstLine}|${r.callId}|${r.cseq}|${r.method}|${r.branch ?? ''}|${r.fromTag ?? ''}|${r.toTag ?? ''}|${body}`;
    const pending = this.twins.get(key);
    if (pending !== undefined && pending.seen !== r.seen && now - pending.at <= TWIN_WINDOW_MS) {
      if (--pending.count === 0) this.twins.delete(key);
      return true;
    }
    if (pending !== undefined && pending.seen === r.seen) {
      pending.count++;
      pending.at = now;
    } else {
      this.twins.set(key, { seen: r.seen, count: 1, at: now });
    }
    return false;
  }
}

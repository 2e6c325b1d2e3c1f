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
  const c = address.charCodeAt(0);
  // The common case, a dotted IPv4 address: nothing to strip.
  if (c >= 48 && c <= 57 && !address.includes(':')) return address;
  const a = address.replace(/^\[(.*)\]$/, '$1');
  return a.toLowerCase().startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * The bytes a record keeps: the buffer itself when it is a message's own (a datagram, a framed
 * stream message, a small slice of an allocation pool: none of them is written again), else a copy.
 */
function keepBytes(b: Buffer): Buffer {
  return b.buffer.byteLength <= Math.max(8192, 2 * b.length) ? b : Buffer.from(b);
}

/**
 * A captured message whose bytes are read when first asked for. A received message is changed in
 * place as it is forwarded (a response loses its top Via, an ACK its Route), so its bytes are taken
 * at once (the received bytes, not copied); a sent one is not changed after sending, so it is
 * serialized only when a consumer (ladder, pcap, HEP, the store for INVITE/REFER/NOTIFY) asks.
 */
class CaptureRecord implements CapturedMessage {
  seq!: number;
  time!: number;
  seen!: 'in' | 'out';
  protocol!: TransportProtocol;
  src!: Endpoint;
  dst!: Endpoint;
  isRequest!: boolean;
  method!: string;
  status?: number;
  reason?: string;
  callId!: string;
  cseq!: number;
  fromTag?: string;
  toTag?: string;
  viaSentBy?: { host: string; port?: number };
  branch?: string;
  private pending: SipRequest | SipResponse | undefined;
  private kept: Buffer | undefined;

  get bytes(): Buffer {
    if (this.kept === undefined) {
      const m = this.pending;
      this.pending = undefined;
      let b: Buffer;
      try {
        b = m === undefined ? Buffer.alloc(0) : keepBytes(m.toBuffer());
      } catch {
        b = Buffer.alloc(0);
      }
      this.kept = b;
    }
    return this.kept;
  }

  set bytes(b: Buffer) {
    this.kept = b;
    this.pending = undefined;
  }

  /** @internal */
  setSource(message: SipRequest | SipResponse, now: boolean): void {
    if (now) this.kept = keepBytes(message.toBuffer());
    else this.pending = message;
  }
}

/** Builds the record of a message; undefined when its headers cannot be read (nothing to group it by). */
export function captureRecord(message: SipRequest | SipResponse, protocol: TransportProtocol, src: Endpoint, dst: Endpoint,
  seen: 'in' | 'out', seq: number, time: number): CapturedMessage | undefined {
  try {
    const cseq = message.cseq;
    const record = new CaptureRecord();
    record.seq = seq;
    record.time = time;
    record.seen = seen;
    record.protocol = protocol;
    record.src = { address: plainAddress(src.address), port: src.port };
    record.dst = { address: plainAddress(dst.address), port: dst.port };
    record.isRequest = message.isRequest;
    record.method = message.isRequest ? message.method : cseq.method;
    record.callId = message.callId;
    record.cseq = cseq.seq;
    if (!message.isRequest) {
      record.status = message.status;
      record.reason = message.reasonPhrase;
    }
    // Each read on its own: a malformed header leaves only its own field out (no closure per read).
    try {
      const fromTag = message.fromTag;
      if (fromTag !== undefined) record.fromTag = fromTag;
    } catch {
      // No From tag to group by.
    }
    try {
      const toTag = message.toTag;
      if (toTag !== undefined) record.toTag = toTag;
    } catch {
      // No To tag.
    }
    let via: ReturnType<typeof topViaOf>;
    try {
      via = topViaOf(message);
    } catch {
      via = undefined;
    }
    if (via !== undefined) {
      const branch = via.params['branch'];
      if (typeof branch === 'string') record.branch = branch;
      if (message.isRequest) record.viaSentBy = via.port === undefined ? { host: via.host } : { host: via.host, port: via.port };
    }
    record.setSource(message, seen === 'in');
    return record;
  } catch {
    return undefined;
  }
}

function topViaOf(message: SipRequest | SipResponse): SipRequest['topVia'] {
  return message.topVia;
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
      const sinks = this.sinks;
      if (sinks.length === 1) {
        try {
          sinks[0]!(record);
        } catch {
          // As below.
        }
        return;
      }
      for (const sink of [...sinks]) {
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

/**
 * bench:transactions, memory: bytes per live transaction with COUNT of them in one TransactionLayer.
 *
 * The transport is a stub that sends and records nothing (this measures memory, not the network).
 * Server transactions come from COUNT distinct OPTIONS, each in its own buffer as a datagram
 * arrives (node's UDP socket gives every datagram its own ArrayBuffer), parsed lazily and Via-stamped
 * as the transport does, then fed to TransactionLayer.onMessage. Client transactions are INVITEs
 * built with createRequest (a small SDP body) sent to a black-hole target, so they stay in Calling
 * with Timers A and B pending.
 *
 * Per kind: full GC, memory before; create; full GC, memory after: (after - before) / COUNT,
 * V8 heap and ArrayBuffers (the request bytes) apart. The layer's timers go through a Clock that
 * counts node timers, which must stay at most one (the heap's). Then close(), drop the layer,
 * full GC, and check the memory came back.
 */
import { RealClock, type Clock, type TimerHandle } from '../../src/core/clock.js';
import { createRequest, createResponse, parseMessage, SipRequest, type SipResponse } from '../../src/message/index.js';
import type { InviteServerTransaction, ServerTransaction } from '../../src/transaction/index.js';
import { TransactionLayer } from '../../src/transaction/index.js';
import { stampVia } from '../../src/transport/via-received.js';
import type { Source, Target, TransportLayer, ViaSentBy } from '../../src/transport/index.js';

export type MemoryKind = 'requests-only' | 'nict-server-trying' | 'nict-server-completed' | 'invite-client-calling';

export const MEMORY_KINDS: Record<MemoryKind, string> = {
  'requests-only': 'reference: the received OPTIONS alone, no layer',
  'nict-server-trying': 'non-INVITE server, Trying (unanswered, no timer)',
  'nict-server-completed': 'non-INVITE server, Completed (200 sent, Timer J)',
  'invite-client-calling': 'INVITE client, Calling (Timers A/B)',
};

export interface MemoryResult {
  kind: MemoryKind;
  title: string;
  count: number;
  /** Live transactions in the layer once all were created. */
  live: number;
  /** (heapUsed after - before) / count. */
  heapPerTx: number;
  /** (arrayBuffers after - before) / count: the request bytes kept. */
  arrayBuffersPerTx: number;
  totalPerTx: number;
  /** Mean size of one request on the wire, bytes. */
  requestBytes: number;
  /** The layer's timer heap size with all created. */
  heapTimers: number;
  /** Node timers the layer held with all created, and the most it ever held at once. */
  nodeTimers: number;
  maxNodeTimers: number;
  /** Time to create them all, ms, and the rate. */
  createMs: number;
  createPerSec: number;
  /** Memory (heap + ArrayBuffers) after close and GC, minus before; and node timers left. */
  afterCloseBytes: number;
  nodeTimersAfterClose: number;
  /** afterCloseBytes under 2% of what the transactions took, plus 1 MB of noise (JIT code, lazily loaded modules). */
  returned: boolean;
}

/** A RealClock that counts the node timers alive through it. */
class CountingClock implements Clock {
  private readonly real = new RealClock();
  private readonly pending = new Set<number>();
  max = 0;
  get live(): number {
    return this.pending.size;
  }
  now(): number {
    return this.real.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const pending = this.pending;
    const handle = this.real.setTimeout(() => {
      pending.delete(handle.id);
      fn();
    }, ms);
    pending.add(handle.id);
    if (pending.size > this.max) this.max = pending.size;
    return handle;
  }
  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle.id);
    this.real.clearTimeout(handle);
  }
}

const RESOLVED = Promise.resolve();

/** Sends nothing, records nothing. */
const stubTransport: TransportLayer = {
  viaFor(target: Target): ViaSentBy {
    return { transport: target.protocol, host: '127.0.0.1', port: 5060 };
  },
  sendRequest(_request: SipRequest, _target: Target): Promise<void> {
    return RESOLVED;
  },
  sendResponse(_response: SipResponse, _source: Source): Promise<void> {
    return RESOLVED;
  },
};

const SOURCE: Source = { protocol: 'UDP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.1', remotePort: 5070 };
const BLACK_HOLE: Target = { protocol: 'UDP', address: '192.0.2.1', port: 5060 };
const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n';

function optionsDatagram(i: number): Buffer {
  const text =
    `OPTIONS sip:uas@127.0.0.1:5060 SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKmem${i.toString(36)}x${(i * 7919).toString(36)};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <sip:bench@127.0.0.1>;tag=f${i.toString(36)}\r\n` +
    `To: <sip:uas@127.0.0.1:5060>\r\n` +
    `Call-ID: mem-${i.toString(36)}-${(i * 104729).toString(36)}@127.0.0.1\r\n` +
    `CSeq: 1 OPTIONS\r\n` +
    `Content-Length: 0\r\n\r\n`;
  // Its own ArrayBuffer, as dgram delivers a datagram (Buffer.from(string) would share 8 KiB pool slabs).
  const buf = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'latin1'));
  buf.write(text, 'latin1');
  return buf;
}

function gcFully(): void {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('run node with --expose-gc');
  for (let i = 0; i < 2; i++) gc();
}

async function settle(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  gcFully();
  await new Promise((r) => setImmediate(r));
  gcFully();
}

interface Mem {
  heap: number;
  ab: number;
}

function mem(): Mem {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, ab: m.arrayBuffers };
}

function user(answer: boolean): {
  onRequest(request: SipRequest, tx: ServerTransaction): void;
  onAck(ack: SipRequest, source: Source, tx: InviteServerTransaction | undefined): void;
} {
  return {
    onRequest(request: SipRequest, tx: ServerTransaction): void {
      if (answer) tx.respond(createResponse(request, 200));
    },
    onAck(): void {},
  };
}

/** Creates `count` transactions of `kind` in a fresh layer; returns it and the wire bytes made. */
interface Population {
  layer: TransactionLayer | undefined;
  /** For 'requests-only': the requests, held here instead of by transactions. */
  kept: SipRequest[] | undefined;
  bytes: number;
}

function populate(kind: MemoryKind, count: number, clock: Clock): Population {
  const layer = kind === 'requests-only' ? undefined : new TransactionLayer({ transport: stubTransport, user: user(kind === 'nict-server-completed'), clock });
  const kept: SipRequest[] | undefined = kind === 'requests-only' ? [] : undefined;
  let bytes = 0;
  if (kind === 'invite-client-calling') {
    for (let i = 0; i < count; i++) {
      const invite = createRequest({
        method: 'INVITE',
        uri: 'sip:bob@192.0.2.1',
        from: '<sip:alice@127.0.0.1>',
        to: '<sip:bob@192.0.2.1>',
        contact: '<sip:alice@127.0.0.1:5060>',
        cseq: 1,
        body: SDP,
        contentType: 'application/sdp',
      });
      layer!.sendRequest(invite, BLACK_HOLE);
      if (i < 100) bytes += invite.toBuffer().length;
    }
    return { layer, kept, bytes: bytes / Math.min(count, 100) };
  }
  for (let i = 0; i < count; i++) {
    const datagram = optionsDatagram(i);
    bytes += datagram.length;
    const message = parseMessage(datagram, { lazy: true });
    if (!(message instanceof SipRequest)) throw new Error('not a request');
    // What MessageReceiver does before delivering: the headers it checks, and the Via stamp.
    void message.callId;
    void message.cseq;
    void message.from;
    void message.to;
    stampVia(message, SOURCE);
    if (layer !== undefined) layer.onMessage(message, SOURCE);
    else kept!.push(message);
  }
  return { layer, kept, bytes: bytes / count };
}

export async function measureMemory(kind: MemoryKind, count: number): Promise<MemoryResult> {
  const clock = new CountingClock();
  await settle();
  const before = mem();
  const t0 = performance.now();
  let population: Population | undefined = populate(kind, count, clock);
  const createMs = performance.now() - t0;
  await settle();
  const after = mem();
  const bytes = population.bytes;
  const live = population.layer?.size ?? population.kept?.length ?? 0;
  const heapTimers = population.layer?.timerCount ?? 0;
  const nodeTimers = clock.live;
  population.layer?.close();
  // Nothing else holds the layer, its transactions or the requests: this lets them all go.
  population = undefined;
  await settle();
  const closed = mem();
  const took = after.heap + after.ab - (before.heap + before.ab);
  const afterCloseBytes = closed.heap + closed.ab - (before.heap + before.ab);
  return {
    kind,
    title: MEMORY_KINDS[kind],
    count,
    live,
    heapPerTx: (after.heap - before.heap) / count,
    arrayBuffersPerTx: (after.ab - before.ab) / count,
    totalPerTx: took / count,
    requestBytes: bytes,
    heapTimers,
    nodeTimers,
    maxNodeTimers: clock.max,
    createMs,
    createPerSec: count / (createMs / 1000),
    afterCloseBytes,
    nodeTimersAfterClose: clock.live,
    returned: afterCloseBytes < 0.02 * took + 2 ** 20,
  };
}

/**
 * HEP version 3 (the Homer Encapsulation Protocol): live copies of captured messages for a Homer
 * collector (heplify-server, homer-app), over UDP. A packet is `HEP3`, its total length (16 bits),
 * then chunks of vendor id (16 bits, 0 = generic), type id (16 bits), length (16 bits, the 6-byte
 * chunk header included) and value. The generic chunk types used:
 *   1 IP family (8 bits: 2 IPv4, 10 IPv6)     2 IP protocol (8 bits: 17 UDP, 6 TCP)
 *   3/4 IPv4 source/destination (4 bytes)      5/6 IPv6 source/destination (16 bytes)
 *   7/8 source/destination port (16 bits)      9/10 timestamp seconds/microseconds (32 bits)
 *   11 protocol type (8 bits: 1 = SIP)         12 capture agent id (32 bits)
 *   14 authentication key (string, optional)  15 payload (the SIP message)
 *   17 correlation id (string: the Call-ID)
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { addressBytes } from './capture-pcap.js';
import type { CapturedMessage } from './capture-trace.js';

export const HEP_CHUNK = {
  ipFamily: 1, ipProtocol: 2, srcIp4: 3, dstIp4: 4, srcIp6: 5, dstIp6: 6, srcPort: 7, dstPort: 8,
  timeSeconds: 9, timeMicros: 10, protocolType: 11, captureId: 12, authKey: 14, payload: 15, correlationId: 17,
} as const;

export interface HepOptions {
  /** Capture agent id (default 2001). */
  captureId?: number;
  /** Sent in chunk 14 when set. */
  authKey?: string;
}

function chunk(type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt16BE(0, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt16BE(6 + value.length, 4);
  return Buffer.concat([h, value]);
}

const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Encodes one captured message as a HEP3 packet. */
export function encodeHep(m: CapturedMessage, options: HepOptions = {}): Buffer {
  let src = addressBytes(m.src.address);
  let dst = addressBytes(m.dst.address);
  if (src.length !== dst.length) {
    // Mixed families cannot be one packet's: write both as IPv6 (IPv4-mapped).
    const mapped = (b: Buffer): Buffer => (b.length === 16 ? b : Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), b]));
    src = mapped(src);
    dst = mapped(dst);
  }
  const v6 = src.length === 16;
  const seconds = Math.floor(m.time / 1000);
  const micros = Math.min(999_999, Math.floor((m.time - seconds * 1000) * 1000));
  // A payload beyond what one UDP datagram carries is cut (SIP over UDP never comes near).
  const payload = m.bytes.subarray(0, 60_000);
  const chunks = [
    chunk(HEP_CHUNK.ipFamily, u8(v6 ? 10 : 2)),
    chunk(HEP_CHUNK.ipProtocol, u8(m.protocol === 'UDP' ? 17 : 6)),
    chunk(v6 ? HEP_CHUNK.srcIp6 : HEP_CHUNK.srcIp4, src),
    chunk(v6 ? HEP_CHUNK.dstIp6 : HEP_CHUNK.dstIp4, dst),
    chunk(HEP_CHUNK.srcPort, u16(m.src.port)),
    chunk(HEP_CHUNK.dstPort, u16(m.dst.port)),
    chunk(HEP_CHUNK.timeSeconds, u32(seconds)),
    chunk(HEP_CHUNK.timeMicros, u32(micros)),
    chunk(HEP_CHUNK.protocolType, u8(1)),
    chunk(HEP_CHUNK.captureId, u32(options.captureId ?? 2001)),
  ];
  if (options.authKey !== undefined) chunks.push(chunk(HEP_CHUNK.authKey, Buffer.from(options.authKey, 'utf8')));
  chunks.push(chunk(HEP_CHUNK.correlationId, Buffer.from(m.callId, 'utf8')));
  chunks.push(chunk(HEP_CHUNK.payload, payload));
  const body = Buffer.concat(chunks);
  const head = Buffer.alloc(6);
  head.write('HEP3', 0, 'ascii');
  head.writeUInt16BE(6 + body.length, 4);
  return Buffer.concat([head, body]);
}

/** One decoded chunk. */
export interface HepChunk {
  vendor: number;
  type: number;
  value: Buffer;
}

/** Decodes a HEP3 packet into its chunks; throws on a packet that is not HEP3 or is cut short. */
export function decodeHep(packet: Buffer): HepChunk[] {
  if (packet.length < 6 || packet.toString('ascii', 0, 4) !== 'HEP3') throw new Error('not a HEP3 packet');
  const total = packet.readUInt16BE(4);
  if (total !== packet.length) throw new Error(`HEP3 length ${total} but ${packet.length} bytes`);
  const out: HepChunk[] = [];
  for (let at = 6; at < total;) {
    if (at + 6 > total) throw new Error('HEP3 chunk header cut short');
    const length = packet.readUInt16BE(at + 4);
    if (length < 6 || at + length > total) throw new Error(`HEP3 chunk length ${length} out of bounds`);
    out.push({ vendor: packet.readUInt16BE(at), type: packet.readUInt16BE(at + 2), value: packet.subarray(at + 6, at + length) });
    at += length;
  }
  return out;
}

export interface HepSenderOptions extends HepOptions {
  host: string;
  port: number;
  /** Told about send failures (the collector being down must not stop the capture). */
  onError?: (err: Error) => void;
}

/** Sends every captured message to a collector over UDP. Fire and forget; `close()` releases the socket. */
export class HepSender {
  private readonly socket: Socket;
  private sent = 0;
  private closed = false;

  constructor(private readonly options: HepSenderOptions) {
    this.socket = createSocket(isIPv6(options.host) ? 'udp6' : 'udp4');
    this.socket.on('error', (err) => options.onError?.(err));
    this.socket.unref();
  }

  /** Packets handed to the socket so far. */
  get count(): number {
    return this.sent;
  }

  send(m: CapturedMessage): void {
    if (this.closed) return;
    const packet = encodeHep(m, this.options);
    this.sent++;
    this.socket.send(packet, this.options.port, this.options.host, (err) => {
      if (err) this.options.onError?.(err);
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

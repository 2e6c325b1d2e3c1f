/**
 * Captured messages as a classic pcap file (magic a1b2c3d4, version 2.4, linktype 1: Ethernet)
 * that Wireshark and tshark open. Each message becomes one synthesized frame: Ethernet, IPv4 (or
 * IPv6), then UDP or TCP with correct lengths and checksums. Stream transports (TCP, TLS, WS, WSS)
 * are written as TCP carrying the SIP text as the application saw it (TLS decrypted, WebSocket
 * unframed), with sequence and acknowledgement numbers kept per direction so the streams
 * reassemble; there is no handshake, as the capture starts mid-connection.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { CapturedMessage } from './capture-trace.js';

const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 262_144;
/** Largest TCP segment written: messages beyond are split (Wireshark reassembles them). */
const MAX_SEGMENT = 60_000;

/** The 24-byte pcap global header (little-endian, microsecond timestamps). */
export function pcapHeader(): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(SNAPLEN, 16);
  b.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return b;
}

/** RFC 1071 Internet checksum over `parts` (each padded to 16 bits where it ends odd, as one buffer would be). */
export function internetChecksum(parts: readonly Buffer[]): number {
  const all = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i + 1 < all.length; i += 2) sum += all.readUInt16BE(i);
  if (all.length % 2 === 1) sum += all[all.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4 or IPv6 address as bytes; anything else as 0.0.0.0. */
export function addressBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (isIPv6(address)) return ipv6Bytes(address);
  return Buffer.alloc(4);
}

function ipv6Bytes(address: string): Buffer {
  // A trailing dotted quad (::ffff:1.2.3.4) is two hex groups.
  const text = address.split('%')[0]!.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`);
  const parts = text.split('::');
  const head = parts[0] === '' ? [] : parts[0]!.split(':');
  const tail = parts.length < 2 || parts[1] === '' ? [] : parts[1]!.split(':');
  const groups = parts.length < 2 ? head : [...head, ...new Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  const out = Buffer.alloc(16);
  groups.slice(0, 8).forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) & 0xffff, i * 2));
  return out;
}

function v4Mapped(v4: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), v4]);
}

/**
 * Writes frames for captured messages. Keeps TCP sequence numbers per direction, so one writer
 * should see a flow's messages in order (as a capture does).
 */
export class PcapWriter {
  private readonly chunks: Buffer[] = [pcapHeader()];
  private readonly seqs = new Map<string, number>();
  private ipId = 1;

  /** Adds the frame(s) of one message. */
  add(m: CapturedMessage): void {
    const stream = m.protocol !== 'UDP';
    if (!stream) {
      this.frame(m, m.bytes.subarray(0, 65_507));
      return;
    }
    for (let at = 0; at < m.bytes.length || at === 0; at += MAX_SEGMENT) {
      this.frame(m, m.bytes.subarray(at, at + MAX_SEGMENT));
      if (m.bytes.length === 0) break;
    }
  }

  /** The whole file so far. */
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private frame(m: CapturedMessage, payload: Buffer): void {
    let src = addressBytes(m.src.address);
    let dst = addressBytes(m.dst.address);
    if (src.length !== dst.length) {
      if (src.length === 4) src = v4Mapped(src);
      if (dst.length === 4) dst = v4Mapped(dst);
    }
    const v6 = src.length === 16;
    const tcp = m.protocol !== 'UDP';
    const transport = tcp ? this.tcpSegment(m, src, dst, payload) : udpDatagram(m, src, dst, payload);
    const ip = v6 ? ipv6Header(src, dst, tcp ? 6 : 17, transport.length) : ipv4Header(src, dst, tcp ? 6 : 17, transport.length, this.ipId++ & 0xffff);
    const eth = Buffer.alloc(14);
    // Locally administered MACs, one per direction: 02:00:00:00:00:01 and 02:00:00:00:00:02.
    Buffer.from([0x02, 0, 0, 0, 0, 0x02]).copy(eth, 0);
    Buffer.from([0x02, 0, 0, 0, 0, 0x01]).copy(eth, 6);
    eth.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
    const frame = Buffer.concat([eth, ip, transport]);
    const record = Buffer.alloc(16);
    const seconds = Math.floor(m.time / 1000);
    const micros = Math.min(999_999, Math.floor((m.time - seconds * 1000) * 1000));
    record.writeUInt32LE(seconds >>> 0, 0);
    record.writeUInt32LE(micros, 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    this.chunks.push(record, frame);
  }

  private tcpSegment(m: CapturedMessage, src: Buffer, dst: Buffer, payload: Buffer): Buffer {
    const fwd = `${m.src.address}|${m.src.port}|${m.dst.address}|${m.dst.port}`;
    const back = `${m.dst.address}|${m.dst.port}|${m.src.address}|${m.src.port}`;
    const seq = this.seqs.get(fwd) ?? 1;
    const ack = this.seqs.get(back) ?? 1;
    this.seqs.set(fwd, (seq + payload.length) >>> 0);
    const h = Buffer.alloc(20);
    h.writeUInt16BE(m.src.port, 0);
    h.writeUInt16BE(m.dst.port, 2);
    h.writeUInt32BE(seq >>> 0, 4);
    h.writeUInt32BE(ack >>> 0, 8);
    h[12] = 5 << 4;
    h[13] = 0x18; // PSH, ACK
    h.writeUInt16BE(65_535, 14);
    const length = h.length + payload.length;
    h.writeUInt16BE(internetChecksum([pseudoHeader(src, dst, 6, length), h, payload]), 16);
    return Buffer.concat([h, payload]);
  }
}

function udpDatagram(m: CapturedMessage, src: Buffer, dst: Buffer, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  const length = 8 + payload.length;
  h.writeUInt16BE(m.src.port, 0);
  h.writeUInt16BE(m.dst.port, 2);
  h.writeUInt16BE(length, 4);
  const sum = internetChecksum([pseudoHeader(src, dst, 17, length), h, payload]);
  // RFC 768: a computed zero is sent as all ones (zero means no checksum).
  h.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return Buffer.concat([h, payload]);
}

function pseudoHeader(src: Buffer, dst: Buffer, protocol: number, length: number): Buffer {
  if (src.length === 4) {
    const p = Buffer.alloc(12);
    src.copy(p, 0);
    dst.copy(p, 4);
    p[9] = protocol;
    p.writeUInt16BE(length, 10);
    return p;
  }
  const p = Buffer.alloc(40);
  src.copy(p, 0);
  dst.copy(p, 16);
  p.writeUInt32BE(length, 32);
  p[39] = protocol;
  return p;
}

function ipv4Header(src: Buffer, dst: Buffer, protocol: number, payloadLength: number, id: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payloadLength, 2);
  h.writeUInt16BE(id, 4);
  h.writeUInt16BE(0x4000, 6); // don't fragment
  h[8] = 64;
  h[9] = protocol;
  src.copy(h, 12);
  dst.copy(h, 16);
  h.writeUInt16BE(internetChecksum([h]), 10);
  return h;
}

function ipv6Header(src: Buffer, dst: Buffer, nextHeader: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLength, 4);
  h[6] = nextHeader;
  h[7] = 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return h;
}

/** A pcap file of `messages`, in the order given. */
export function toPcap(messages: Iterable<CapturedMessage>): Buffer {
  const w = new PcapWriter();
  for (const m of messages) w.add(m);
  return w.toBuffer();
}

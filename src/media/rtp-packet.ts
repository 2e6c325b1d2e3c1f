/**
 * RTP fixed header (RFC 3550 §5.1), parsed and built on Buffers. Parsing never throws: a packet
 * that breaks a rule comes back as `{ ok: false, reason }`, so a socket handler can count it and
 * go on (issue 7: malformed packets never throw out of the media layer).
 */

/** A parsed RTP packet. `payload` is a view into the datagram (no copy). */
export interface RtpPacket {
  readonly version: 2;
  readonly padding: boolean;
  readonly extension: boolean;
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrc: readonly number[];
  /** The header extension (RFC 3550 §5.3.1), when the X bit is set. */
  readonly headerExtension?: { readonly profile: number; readonly data: Buffer };
  readonly payload: Buffer;
}

/** Why a datagram is not an RTP packet. */
export type RtpParseFailure =
  | 'too-short' | 'bad-version' | 'truncated-csrc' | 'truncated-extension' | 'bad-padding';

export type RtpParseResult = { readonly ok: true; readonly packet: RtpPacket } | { readonly ok: false; readonly reason: RtpParseFailure };

/** RFC 3550 §5.1: the fixed header is 12 bytes. */
export const RTP_HEADER_SIZE = 12;

/** Parses one RTP packet strictly (RFC 3550 §5.1, §5.3.1, Appendix A.1 validity checks). */
export function parseRtp(buf: Buffer): RtpParseResult {
  if (buf.length < RTP_HEADER_SIZE) return { ok: false, reason: 'too-short' };
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return { ok: false, reason: 'bad-version' };
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  const b1 = buf[1]!;
  let offset = RTP_HEADER_SIZE + 4 * cc;
  if (buf.length < offset) return { ok: false, reason: 'truncated-csrc' };
  const csrc: number[] = [];
  for (let i = 0; i < cc; i++) csrc.push(buf.readUInt32BE(RTP_HEADER_SIZE + 4 * i));
  let headerExtension: RtpPacket['headerExtension'];
  if (extension) {
    if (buf.length < offset + 4) return { ok: false, reason: 'truncated-extension' };
    const profile = buf.readUInt16BE(offset);
    const words = buf.readUInt16BE(offset + 2);
    const end = offset + 4 + 4 * words;
    if (buf.length < end) return { ok: false, reason: 'truncated-extension' };
    headerExtension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }
  let end = buf.length;
  if (padding) {
    // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
    const pad = buf[buf.length - 1]!;
    if (pad === 0 || end - pad < offset) return { ok: false, reason: 'bad-padding' };
    end -= pad;
  }
  const packet: RtpPacket = {
    version: 2,
    padding,
    extension,
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrc,
    ...(headerExtension !== undefined ? { headerExtension } : {}),
    payload: buf.subarray(offset, end),
  };
  return { ok: true, packet };
}

/** What `buildRtp` needs; `csrc`, `marker`, extension and padding are optional. */
export interface RtpPacketInit {
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker?: boolean;
  readonly csrc?: readonly number[];
  readonly headerExtension?: { readonly profile: number; readonly data: Buffer };
  /** Padding octets to add (1-255), for tests and SRTP-free block alignment. */
  readonly paddingBytes?: number;
  readonly payload: Buffer;
}

/** Writes an RTP packet. Field values are masked to their widths; the extension data is padded to 32 bits. */
export function buildRtp(p: RtpPacketInit): Buffer {
  const csrc = p.csrc ?? [];
  if (csrc.length > 15) throw new RangeError('RTP carries at most 15 CSRCs (RFC 3550 §5.1)');
  const ext = p.headerExtension;
  const extWords = ext === undefined ? 0 : Math.ceil(ext.data.length / 4);
  const extSize = ext === undefined ? 0 : 4 + 4 * extWords;
  const pad = p.paddingBytes ?? 0;
  const size = RTP_HEADER_SIZE + 4 * csrc.length + extSize + p.payload.length + pad;
  const buf = Buffer.alloc(size);
  buf[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (ext !== undefined ? 0x10 : 0) | csrc.length;
  buf[1] = (p.marker === true ? 0x80 : 0) | (p.payloadType & 0x7f);
  buf.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  buf.writeUInt32BE(p.timestamp >>> 0, 4);
  buf.writeUInt32BE(p.ssrc >>> 0, 8);
  let o = RTP_HEADER_SIZE;
  for (const c of csrc) {
    buf.writeUInt32BE(c >>> 0, o);
    o += 4;
  }
  if (ext !== undefined) {
    buf.writeUInt16BE(ext.profile & 0xffff, o);
    buf.writeUInt16BE(extWords, o + 2);
    ext.data.copy(buf, o + 4);
    o += extSize;
  }
  p.payload.copy(buf, o);
  if (pad > 0) buf[size - 1] = pad;
  return buf;
}

/** Length of the RTP header of a packet that already parsed (fixed + CSRC + extension), for SRTP. */
export function rtpHeaderLength(buf: Buffer): number {
  let o = RTP_HEADER_SIZE + 4 * (buf[0]! & 0x0f);
  if ((buf[0]! & 0x10) !== 0 && buf.length >= o + 4) o += 4 + 4 * buf.readUInt16BE(o + 2);
  return o;
}

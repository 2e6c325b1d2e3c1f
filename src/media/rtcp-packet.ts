/**
 * RTCP packets (RFC 3550 §6.4-§6.6): SR, RR, SDES (CNAME and the other items), BYE, and compound
 * packets made of them. Parsing never throws; a compound that breaks the Appendix A.2 validity
 * checks comes back as `{ ok: false, reason }`.
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;

/** One reception report block (RFC 3550 §6.4.1). */
export interface ReportBlock {
  readonly ssrc: number;
  /** Fraction lost since the previous report, as the 8-bit fixed-point value (lost/expected × 256). */
  readonly fractionLost: number;
  /** Cumulative packets lost: signed 24 bits (duplicates can make it negative). */
  readonly cumulativeLost: number;
  readonly extendedHighestSequence: number;
  /** Interarrival jitter in timestamp units (Appendix A.8). */
  readonly jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from this source; 0 if none. */
  readonly lastSr: number;
  /** Delay since that SR in units of 1/65536 s. */
  readonly delaySinceLastSr: number;
}

export interface SenderInfo {
  /** NTP timestamp: seconds since 1900 (high 32 bits) and fraction (low 32 bits). */
  readonly ntpSeconds: number;
  readonly ntpFraction: number;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
}

export interface SenderReport { readonly type: 'sr'; readonly ssrc: number; readonly sender: SenderInfo; readonly reports: readonly ReportBlock[] }
export interface ReceiverReport { readonly type: 'rr'; readonly ssrc: number; readonly reports: readonly ReportBlock[] }
/** SDES item types (RFC 3550 §6.5): 1 CNAME, 2 NAME, 3 EMAIL, 4 PHONE, 5 LOC, 6 TOOL, 7 NOTE, 8 PRIV. */
export interface SdesChunk { readonly ssrc: number; readonly items: ReadonlyArray<{ readonly type: number; readonly text: string }> }
export interface SourceDescription { readonly type: 'sdes'; readonly chunks: readonly SdesChunk[] }
export interface Goodbye { readonly type: 'bye'; readonly ssrcs: readonly number[]; readonly reason?: string }
/** Any other packet type (APP, RTPFB, ...), kept as bytes. */
export interface OtherRtcp { readonly type: 'other'; readonly packetType: number; readonly count: number; readonly body: Buffer }

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | OtherRtcp;

export type RtcpParseFailure =
  | 'too-short' | 'bad-version' | 'bad-length' | 'bad-padding' | 'not-sr-or-rr-first' | 'bad-report-count' | 'bad-sdes' | 'bad-bye';

export type RtcpParseResult = { readonly ok: true; readonly packets: readonly RtcpPacket[] } | { readonly ok: false; readonly reason: RtcpParseFailure };

function readBlocks(buf: Buffer, offset: number, count: number): ReportBlock[] {
  const out: ReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    const o = offset + 24 * i;
    out.push({
      ssrc: buf.readUInt32BE(o),
      fractionLost: buf[o + 4]!,
      cumulativeLost: buf.readIntBE(o + 5, 3),
      extendedHighestSequence: buf.readUInt32BE(o + 8),
      jitter: buf.readUInt32BE(o + 12),
      lastSr: buf.readUInt32BE(o + 16),
      delaySinceLastSr: buf.readUInt32BE(o + 20),
    });
  }
  return out;
}

function parseSdes(body: Buffer, count: number): SdesChunk[] | undefined {
  const chunks: SdesChunk[] = [];
  let o = 0;
  for (let c = 0; c < count; c++) {
    if (o + 4 > body.length) return undefined;
    const ssrc = body.readUInt32BE(o);
    o += 4;
    const items: Array<{ type: number; text: string }> = [];
    for (;;) {
      if (o >= body.length) return undefined;
      const type = body[o]!;
      if (type === 0) {
        // RFC 3550 §6.5: the item list ends with a null octet, then padding to a 32-bit boundary.
        o = (o + 4) & ~3;
        break;
      }
      if (o + 2 > body.length) return undefined;
      const len = body[o + 1]!;
      if (o + 2 + len > body.length) return undefined;
      items.push({ type, text: body.toString('utf8', o + 2, o + 2 + len) });
      o += 2 + len;
    }
    chunks.push({ ssrc, items });
  }
  return chunks;
}

/**
 * Parses a compound RTCP packet (RFC 3550 §6.1, Appendix A.2 checks: version 2, the first packet
 * an SR or RR without padding, lengths that add up to the datagram, padding only on the last).
 */
export function parseRtcp(buf: Buffer): RtcpParseResult {
  if (buf.length < 4) return { ok: false, reason: 'too-short' };
  const packets: RtcpPacket[] = [];
  let o = 0;
  while (o < buf.length) {
    if (o + 4 > buf.length) return { ok: false, reason: 'bad-length' };
    const b0 = buf[o]!;
    if (b0 >> 6 !== 2) return { ok: false, reason: 'bad-version' };
    const padding = (b0 & 0x20) !== 0;
    const count = b0 & 0x1f;
    const pt = buf[o + 1]!;
    const size = 4 * (buf.readUInt16BE(o + 2) + 1);
    if (o + size > buf.length) return { ok: false, reason: 'bad-length' };
    if (o === 0 && (pt !== RTCP_SR && pt !== RTCP_RR)) return { ok: false, reason: 'not-sr-or-rr-first' };
    let end = o + size;
    if (padding) {
      if (end !== buf.length) return { ok: false, reason: 'bad-padding' };
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > size - 4) return { ok: false, reason: 'bad-padding' };
      end -= pad;
    }
    const body = buf.subarray(o + 4, end);
    switch (pt) {
      case RTCP_SR: {
        if (body.length < 24 + 24 * count) return { ok: false, reason: 'bad-report-count' };
        packets.push({
          type: 'sr',
          ssrc: body.readUInt32BE(0),
          sender: {
            ntpSeconds: body.readUInt32BE(4),
            ntpFraction: body.readUInt32BE(8),
            rtpTimestamp: body.readUInt32BE(12),
            packetCount: body.readUInt32BE(16),
            octetCount: body.readUInt32BE(20),
          },
          reports: readBlocks(body, 24, count),
        });
        break;
      }
      case RTCP_RR: {
        if (body.length < 4 + 24 * count) return { ok: false, reason: 'bad-report-count' };
        packets.push({ type: 'rr', ssrc: body.readUInt32BE(0), reports: readBlocks(body, 4, count) });
        break;
      }
      case RTCP_SDES: {
        const chunks = parseSdes(body, count);
        if (chunks === undefined) return { ok: false, reason: 'bad-sdes' };
        packets.push({ type: 'sdes', chunks });
        break;
      }
      case RTCP_BYE: {
        if (body.length < 4 * count) return { ok: false, reason: 'bad-bye' };
        const ssrcs: number[] = [];
        for (let i = 0; i < count; i++) ssrcs.push(body.readUInt32BE(4 * i));
        let reason: string | undefined;
        const r = 4 * count;
        if (body.length > r) {
          const len = body[r]!;
          if (r + 1 + len > body.length) return { ok: false, reason: 'bad-bye' };
          reason = body.toString('utf8', r + 1, r + 1 + len);
        }
        packets.push({ type: 'bye', ssrcs, ...(reason !== undefined ? { reason } : {}) });
        break;
      }
      default:
        packets.push({ type: 'other', packetType: pt, count, body });
    }
    o += size;
  }
  return { ok: true, packets };
}

function header(count: number, pt: number, bodyLength: number): Buffer {
  const h = Buffer.alloc(4);
  h[0] = 0x80 | (count & 0x1f);
  h[1] = pt;
  h.writeUInt16BE((bodyLength + 4) / 4 - 1, 2);
  return h;
}

function writeBlocks(reports: readonly ReportBlock[]): Buffer {
  const out = Buffer.alloc(24 * reports.length);
  reports.forEach((r, i) => {
    const o = 24 * i;
    out.writeUInt32BE(r.ssrc >>> 0, o);
    out[o + 4] = r.fractionLost & 0xff;
    // Signed 24 bits, clamped (RFC 3550 §6.4.1: 0x7fffff for positive overflow, 0x800000 negative).
    out.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)), o + 5, 3);
    out.writeUInt32BE(r.extendedHighestSequence >>> 0, o + 8);
    out.writeUInt32BE(r.jitter >>> 0, o + 12);
    out.writeUInt32BE(r.lastSr >>> 0, o + 16);
    out.writeUInt32BE(r.delaySinceLastSr >>> 0, o + 20);
  });
  return out;
}

/** Writes one RTCP packet. At most 31 report blocks or SDES chunks or BYE sources. */
export function buildRtcpPacket(p: RtcpPacket): Buffer {
  switch (p.type) {
    case 'sr': {
      const body = Buffer.alloc(24);
      body.writeUInt32BE(p.ssrc >>> 0, 0);
      body.writeUInt32BE(p.sender.ntpSeconds >>> 0, 4);
      body.writeUInt32BE(p.sender.ntpFraction >>> 0, 8);
      body.writeUInt32BE(p.sender.rtpTimestamp >>> 0, 12);
      body.writeUInt32BE(p.sender.packetCount >>> 0, 16);
      body.writeUInt32BE(p.sender.octetCount >>> 0, 20);
      const blocks = writeBlocks(p.reports);
      return Buffer.concat([header(p.reports.length, RTCP_SR, 24 + blocks.length), body, blocks]);
    }
    case 'rr': {
      const body = Buffer.alloc(4);
      body.writeUInt32BE(p.ssrc >>> 0, 0);
      const blocks = writeBlocks(p.reports);
      return Buffer.concat([header(p.reports.length, RTCP_RR, 4 + blocks.length), body, blocks]);
    }
    case 'sdes': {
      const parts: Buffer[] = [];
      for (const c of p.chunks) {
        const items = c.items.map((it) => {
          const text = Buffer.from(it.text, 'utf8').subarray(0, 255);
          return Buffer.concat([Buffer.from([it.type, text.length]), text]);
        });
        const raw = Buffer.concat([Buffer.alloc(4), ...items]);
        raw.writeUInt32BE(c.ssrc >>> 0, 0);
        // At least one null octet ends the list, then pad to 32 bits (RFC 3550 §6.5).
        const total = (raw.length + 4) & ~3;
        parts.push(Buffer.concat([raw, Buffer.alloc(total - raw.length)]));
      }
      const body = Buffer.concat(parts);
      return Buffer.concat([header(p.chunks.length, RTCP_SDES, body.length), body]);
    }
    case 'bye': {
      const ids = Buffer.alloc(4 * p.ssrcs.length);
      p.ssrcs.forEach((s, i) => ids.writeUInt32BE(s >>> 0, 4 * i));
      let reason = Buffer.alloc(0);
      if (p.reason !== undefined) {
        const text = Buffer.from(p.reason, 'utf8').subarray(0, 255);
        const raw = Buffer.concat([Buffer.from([text.length]), text]);
        reason = Buffer.concat([raw, Buffer.alloc(((raw.length + 3) & ~3) - raw.length)]);
      }
      return Buffer.concat([header(p.ssrcs.length, RTCP_BYE, ids.length + reason.length), ids, reason]);
    }
    case 'other': {
      const body = Buffer.concat([p.body, Buffer.alloc(((p.body.length + 3) & ~3) - p.body.length)]);
      return Buffer.concat([header(p.count, p.packetType, body.length), body]);
    }
  }
}

/** A compound packet: the packets written back to back (RFC 3550 §6.1). */
export function buildRtcp(packets: readonly RtcpPacket[]): Buffer {
  return Buffer.concat(packets.map(buildRtcpPacket));
}

/** RFC 5761 §4: with rtcp-mux, payload-type octets 192-223 (with the marker bit) are RTCP. */
export function looksLikeRtcp(buf: Buffer): boolean {
  return buf.length >= 2 && buf[1]! >= 192 && buf[1]! <= 223;
}

/**
 * Codec intersection for an answer (RFC 3264 §6.1): which offered RTP formats this end supports,
 * in the offerer's order and under the offerer's payload type numbers.
 */
import type { Codec } from './local-media.js';
import type { MediaDescription, RtpMap } from './sdp-types.js';

/**
 * The static audio and video payload types of RFC 3551 §6 (tables 4 and 5). RFC 8866 §6.6 lets an
 * offer list these without an rtpmap, so a bare `0` must still be recognised as PCMU.
 */
const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, Omit<RtpMap, 'payloadType'>> = new Map([
  [0, { encoding: 'PCMU', clockRate: 8000 }],
  [3, { encoding: 'GSM', clockRate: 8000 }],
  [4, { encoding: 'G723', clockRate: 8000 }],
  [5, { encoding: 'DVI4', clockRate: 8000 }],
  [6, { encoding: 'DVI4', clockRate: 16000 }],
  [7, { encoding: 'LPC', clockRate: 8000 }],
  [8, { encoding: 'PCMA', clockRate: 8000 }],
  [9, { encoding: 'G722', clockRate: 8000 }],
  [10, { encoding: 'L16', clockRate: 44100, channels: 2 }],
  [11, { encoding: 'L16', clockRate: 44100 }],
  [12, { encoding: 'QCELP', clockRate: 8000 }],
  [13, { encoding: 'CN', clockRate: 8000 }],
  [14, { encoding: 'MPA', clockRate: 90000 }],
  [15, { encoding: 'G728', clockRate: 8000 }],
  [16, { encoding: 'DVI4', clockRate: 11025 }],
  [17, { encoding: 'DVI4', clockRate: 22050 }],
  [18, { encoding: 'G729', clockRate: 8000 }],
  [25, { encoding: 'CelB', clockRate: 90000 }],
  [26, { encoding: 'JPEG', clockRate: 90000 }],
  [28, { encoding: 'nv', clockRate: 90000 }],
  [31, { encoding: 'H261', clockRate: 90000 }],
  [32, { encoding: 'MPV', clockRate: 90000 }],
  [33, { encoding: 'MP2T', clockRate: 90000 }],
  [34, { encoding: 'H263', clockRate: 90000 }],
]);

/**
 * Formats that cannot carry a call by themselves: DTMF events (RFC 4733) and comfort noise
 * (RFC 3389) ride along a real codec. A stream whose only common formats are these is rejected.
 */
const AUXILIARY = new Set(['telephone-event', 'cn']);

/** What an offered format means: its rtpmap, else the RFC 3551 static assignment, else unknown. */
export function rtpmapFor(media: MediaDescription, format: string): RtpMap | undefined {
  const pt = Number(format);
  const mapped = media.rtpmap.find((r) => r.payloadType === pt);
  if (mapped !== undefined) return mapped;
  const known = STATIC_PAYLOAD_TYPES.get(pt);
  return known === undefined ? undefined : { payloadType: pt, ...known };
}

/** Same encoding (names compare case-insensitively, RFC 4855 §3), clock rate and channel count. */
export function sameCodec(offered: RtpMap, local: Codec): boolean {
  return offered.encoding.toLowerCase() === local.name.toLowerCase() &&
    offered.clockRate === local.clockRate &&
    (offered.channels ?? 1) === (local.channels ?? 1);
}

/** One negotiated format: the local codec, under the payload type number the offer used. */
export interface CommonCodec {
  readonly payloadType: number;
  readonly codec: Codec;
}

/**
 * The offered formats this end supports, in the offerer's order (RFC 3264 §6.1: the answerer
 * should keep the offer's payload type numbers, and the offerer's preference). Empty when nothing
 * but auxiliary formats is common.
 */
export function commonCodecs(offered: MediaDescription, local: readonly Codec[]): CommonCodec[] {
  const out: CommonCodec[] = [];
  for (const format of offered.formats) {
    const map = rtpmapFor(offered, format);
    if (map === undefined) continue;
    const codec = local.find((c) => sameCodec(map, c));
    if (codec !== undefined && !out.some((o) => o.payloadType === map.payloadType)) out.push({ payloadType: map.payloadType, codec });
  }
  return out.some((c) => !AUXILIARY.has(c.codec.name.toLowerCase())) ? out : [];
}

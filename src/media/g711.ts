/**
 * G.711 (ITU-T G.711, 1988): µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8),
 * on 16-bit linear PCM. Encoding follows the segment/quantisation description of the
 * recommendation (tables 1a/2a); decoding uses 256-entry tables built from the same rules.
 */

const ULAW_BIAS = 0x84; // 132: shifts the µ-law segments so each starts on a power of two
const ULAW_CLIP = 32635;

/** One 16-bit sample to a µ-law octet (bits inverted on the wire, G.711 table 2a). */
export function linearToUlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > ULAW_CLIP) s = ULAW_CLIP;
  s += ULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One µ-law octet to a 16-bit sample (the mid-point of its quantisation interval). */
export function ulawToLinearSlow(octet: number): number {
  const u = ~octet & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
  return sign !== 0 ? -magnitude : magnitude;
}

/** One 16-bit sample to an A-law octet (even bits inverted on the wire, G.711 table 1a). */
export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  // A-law works on 13-bit magnitudes; the sign bit is 1 for positive values.
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  if (s > 32767) s = 32767;
  let octet: number;
  if (s < 256) {
    octet = s >> 4;
  } else {
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 1; mask >>= 1) exponent--;
    octet = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (sign | octet) ^ 0x55;
}

/** One A-law octet to a 16-bit sample. */
export function alawToLinearSlow(octet: number): number {
  const a = octet ^ 0x55;
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = (mantissa << 4) + 8;
  if (exponent !== 0) magnitude = (magnitude + 0x100) << (exponent - 1);
  return sign !== 0 ? magnitude : -magnitude;
}

const ULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => ulawToLinearSlow(i));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawToLinearSlow(i));

/**
 * Encode tables over all 65536 sample values (64 KB each), indexed by sample + 32768: the laws
 * quantise sign and magnitude, so a shorter table indexed by an arithmetic shift would round
 * negative samples the wrong way.
 */
const ULAW_ENCODE = Uint8Array.from({ length: 65536 }, (_, i) => linearToUlaw(i - 32768));
const ALAW_ENCODE = Uint8Array.from({ length: 65536 }, (_, i) => linearToAlaw(i - 32768));

export function ulawToLinear(octet: number): number {
  return ULAW_TABLE[octet & 0xff]!;
}

export function alawToLinear(octet: number): number {
  return ALAW_TABLE[octet & 0xff]!;
}

/** Encodes 16-bit PCM to µ-law octets, one per sample. */
export function encodeUlaw(pcm: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = ULAW_ENCODE[pcm[i]! + 32768]!;
  return out;
}

/** Decodes µ-law octets to 16-bit PCM. */
export function decodeUlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ULAW_TABLE[bytes[i]!]!;
  return out;
}

/** Encodes 16-bit PCM to A-law octets. */
export function encodeAlaw(pcm: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = ALAW_ENCODE[pcm[i]! + 32768]!;
  return out;
}

/** Decodes A-law octets to 16-bit PCM. */
export function decodeAlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ALAW_TABLE[bytes[i]!]!;
  return out;
}

/** A G.711 variant by its RTP encoding name. */
export interface AudioCodec {
  readonly name: 'PCMU' | 'PCMA';
  encode(pcm: Int16Array): Buffer;
  decode(bytes: Uint8Array): Int16Array;
}

export const PCMU_CODEC: AudioCodec = { name: 'PCMU', encode: encodeUlaw, decode: decodeUlaw };
export const PCMA_CODEC: AudioCodec = { name: 'PCMA', encode: encodeAlaw, decode: decodeAlaw };

/** The codec for an rtpmap encoding name (case-insensitive, RFC 4855 §3), or undefined. */
export function audioCodecFor(encoding: string): AudioCodec | undefined {
  const n = encoding.toUpperCase();
  return n === 'PCMU' ? PCMU_CODEC : n === 'PCMA' ? PCMA_CODEC : undefined;
}

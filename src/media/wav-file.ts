/**
 * WAV files (RIFF WAVE): reading PCM 8/16-bit, A-law and µ-law at any rate and channel count, and
 * converting to 8 kHz mono 16-bit; writing 16-bit 8 kHz mono. Reading returns a typed result.
 */
import { decodeAlaw, decodeUlaw } from './g711.js';
import { SAMPLE_RATE } from './audio-source.js';

export interface WavAudio {
  readonly sampleRate: number;
  readonly channels: number;
  /** The format as found: 1 PCM, 6 A-law, 7 µ-law (after resolving WAVE_FORMAT_EXTENSIBLE). */
  readonly format: number;
  readonly bitsPerSample: number;
  /** Interleaved 16-bit samples. */
  readonly samples: Int16Array;
}

export type WavReadResult = { readonly ok: true; readonly audio: WavAudio } | { readonly ok: false; readonly reason: string };

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Reads a WAV file's bytes. Never throws. */
export function readWav(buf: Buffer): WavReadResult {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    return { ok: false, reason: 'not a RIFF WAVE file' };
  }
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  let data: Buffer | undefined;
  let o = 12;
  while (o + 8 <= buf.length) {
    const id = buf.toString('latin1', o, o + 4);
    const size = buf.readUInt32LE(o + 4);
    const body = buf.subarray(o + 8, Math.min(buf.length, o + 8 + size));
    if (id === 'fmt ') {
      if (body.length < 16) return { ok: false, reason: 'fmt chunk too short' };
      let format = body.readUInt16LE(0);
      if (format === WAVE_FORMAT_EXTENSIBLE && body.length >= 26) format = body.readUInt16LE(24);
      fmt = { format, channels: body.readUInt16LE(2), sampleRate: body.readUInt32LE(4), bits: body.readUInt16LE(14) };
    } else if (id === 'data') {
      data = body;
    }
    o += 8 + size + (size & 1); // chunks are padded to even sizes
  }
  if (fmt === undefined) return { ok: false, reason: 'no fmt chunk' };
  if (data === undefined) return { ok: false, reason: 'no data chunk' };
  if (fmt.channels < 1) return { ok: false, reason: 'no channels' };
  if (fmt.sampleRate < 1000 || fmt.sampleRate > 192000) return { ok: false, reason: `sample rate ${fmt.sampleRate} not supported` };
  let samples: Int16Array;
  if (fmt.format === WAVE_FORMAT_PCM && fmt.bits === 16) {
    samples = new Int16Array(data.length >> 1);
    for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(2 * i);
  } else if (fmt.format === WAVE_FORMAT_PCM && fmt.bits === 8) {
    samples = Int16Array.from(data, (b) => (b - 128) << 8); // 8-bit WAV is unsigned
  } else if (fmt.format === WAVE_FORMAT_ALAW && fmt.bits === 8) {
    samples = decodeAlaw(data);
  } else if (fmt.format === WAVE_FORMAT_MULAW && fmt.bits === 8) {
    samples = decodeUlaw(data);
  } else {
    return { ok: false, reason: `format ${fmt.format} with ${fmt.bits} bits per sample not supported (PCM 8/16-bit, A-law, µ-law)` };
  }
  return { ok: true, audio: { sampleRate: fmt.sampleRate, channels: fmt.channels, format: fmt.format, bitsPerSample: fmt.bits, samples } };
}

/** Averages the channels into one. */
export function downmix(samples: Int16Array, channels: number): Int16Array {
  if (channels === 1) return samples;
  const frames = Math.floor(samples.length / channels);
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c]!;
    out[f] = Math.round(sum / channels);
  }
  return out;
}

/**
 * Resamples by linear interpolation. Downsampling first averages over the source samples each
 * output sample spans (a box filter), which keeps the worst aliasing of a 44.1 kHz file away.
 */
export function resample(samples: Int16Array, from: number, to: number): Int16Array {
  if (from === to || samples.length === 0) return samples;
  const ratio = from / to;
  const n = Math.floor(samples.length / ratio);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const pos = i * ratio;
    if (ratio > 1) {
      const start = Math.floor(pos);
      const end = Math.min(samples.length, Math.max(start + 1, Math.floor(pos + ratio)));
      let sum = 0;
      for (let k = start; k < end; k++) sum += samples[k]!;
      out[i] = Math.round(sum / (end - start));
    } else {
      const k = Math.floor(pos);
      const frac = pos - k;
      const a = samples[k]!;
      const b = samples[Math.min(samples.length - 1, k + 1)]!;
      out[i] = Math.round(a + (b - a) * frac);
    }
  }
  return out;
}

/** The file's audio as 8 kHz mono 16-bit. */
export function toTelephoneAudio(audio: WavAudio): Int16Array {
  return resample(downmix(audio.samples, audio.channels), audio.sampleRate, SAMPLE_RATE);
}

/** A 16-bit PCM WAV file (44-byte header) for the given mono samples. */
export function writeWav(samples: Int16Array, sampleRate = SAMPLE_RATE): Buffer {
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + samples.length * 2, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i]!, 44 + 2 * i);
  return buf;
}

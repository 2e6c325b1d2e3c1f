/** Sinks for received audio: a WAV recorder (16-bit 8 kHz mono) and a level meter (RMS dBFS). */
import { writeFile } from 'node:fs/promises';
import { SAMPLE_RATE, type AudioSink } from './audio-source.js';
import { writeWav } from './wav-file.js';

/**
 * Keeps what it receives in memory (16 KB per second) and writes the file on `close()`. A limit
 * (default one hour) bounds memory: later frames are dropped and counted.
 */
export class WavRecorder implements AudioSink {
  private readonly chunks: Int16Array[] = [];
  private length = 0;
  private readonly maxSamples: number;
  /** Frames dropped past the limit. */
  dropped = 0;
  constructor(private readonly path: string | undefined, options: { maxSeconds?: number } = {}) {
    this.maxSamples = (options.maxSeconds ?? 3600) * SAMPLE_RATE;
  }
  write(pcm: Int16Array): void {
    if (this.length + pcm.length > this.maxSamples) {
      this.dropped++;
      return;
    }
    this.chunks.push(Int16Array.from(pcm));
    this.length += pcm.length;
  }
  /** Everything recorded so far, as one buffer of samples. */
  samples(): Int16Array {
    const out = new Int16Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
  /** The recording as WAV bytes. */
  toWav(): Buffer {
    return writeWav(this.samples());
  }
  /** Writes the file (if a path was given). */
  async close(): Promise<void> {
    if (this.path !== undefined) await writeFile(this.path, this.toWav());
  }
}

/** RMS level in dBFS (a full-scale square wave is 0, a full-scale sine about -3); -Infinity for silence. */
export function rmsDbfs(pcm: Int16Array): number {
  if (pcm.length === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  const rms = Math.sqrt(sum / pcm.length);
  return rms === 0 ? -Infinity : 20 * Math.log10(rms / 32768);
}

/** The level of the last frame and the loudest frame so far. */
export class LevelMeter implements AudioSink {
  level = -Infinity;
  peak = -Infinity;
  frames = 0;
  write(pcm: Int16Array): void {
    this.level = rmsDbfs(pcm);
    if (this.level > this.peak) this.peak = this.level;
    this.frames++;
  }
}

/** Sends each frame to several sinks. */
export class TeeSink implements AudioSink {
  constructor(private readonly sinks: readonly AudioSink[]) {}
  write(pcm: Int16Array): void {
    for (const s of this.sinks) s.write(pcm);
  }
}

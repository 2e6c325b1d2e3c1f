/**
 * Audio sources: something that gives one frame of 16-bit PCM at 8 kHz per packetisation interval
 * (20 ms = 160 samples). Generated tone and silence live here; the WAV player in wav-player.ts.
 */

export const SAMPLE_RATE = 8000;
export const FRAME_SAMPLES = 160;

export interface AudioSource {
  /** The next frame of `FRAME_SAMPLES` samples, or undefined when the source has ended. */
  read(): Int16Array | undefined;
}

export interface AudioSink {
  /** One received frame (decoded), in arrival order. */
  write(pcm: Int16Array): void;
}

export interface ToneOptions {
  readonly frequency: number;
  /** Peak amplitude, 0..1 of full scale; default 0.5 (about -9 dBFS RMS). */
  readonly amplitude?: number;
  /** Stops after this many ms; default never. */
  readonly durationMs?: number;
  readonly frameSamples?: number;
}

/** A sine tone; phase carries over between frames so the tone has no clicks. */
export class ToneSource implements AudioSource {
  private phase = 0;
  private left: number;
  private readonly step: number;
  private readonly amplitude: number;
  private readonly frame: number;
  constructor(options: ToneOptions) {
    this.step = (2 * Math.PI * options.frequency) / SAMPLE_RATE;
    this.amplitude = Math.max(0, Math.min(1, options.amplitude ?? 0.5)) * 32767;
    this.left = options.durationMs === undefined ? Infinity : Math.round((options.durationMs * SAMPLE_RATE) / 1000);
    this.frame = options.frameSamples ?? FRAME_SAMPLES;
  }
  read(): Int16Array | undefined {
    if (this.left <= 0) return undefined;
    const out = new Int16Array(this.frame);
    const n = Math.min(this.frame, this.left);
    for (let i = 0; i < n; i++) {
      out[i] = Math.round(this.amplitude * Math.sin(this.phase));
      this.phase += this.step;
    }
    if (this.phase > 2 * Math.PI * 1e6) this.phase %= 2 * Math.PI;
    this.left -= n;
    return out;
  }
}

/** Digital silence, forever. */
export class SilenceSource implements AudioSource {
  private readonly frame: Int16Array;
  constructor(frameSamples = FRAME_SAMPLES) {
    this.frame = new Int16Array(frameSamples);
  }
  read(): Int16Array {
    return this.frame;
  }
}

/** Plays PCM already in memory (8 kHz mono), optionally looping; used by the WAV player. */
export class PcmSource implements AudioSource {
  private pos = 0;
  constructor(private readonly samples: Int16Array, private readonly loop = false, private readonly frame = FRAME_SAMPLES) {}
  read(): Int16Array | undefined {
    if (this.samples.length === 0) return undefined;
    if (this.pos >= this.samples.length) {
      if (!this.loop) return undefined;
      this.pos = 0;
    }
    const out = new Int16Array(this.frame);
    let filled = 0;
    while (filled < this.frame) {
      const take = Math.min(this.frame - filled, this.samples.length - this.pos);
      out.set(this.samples.subarray(this.pos, this.pos + take), filled);
      filled += take;
      this.pos += take;
      if (this.pos >= this.samples.length) {
        if (!this.loop) break;
        this.pos = 0;
      }
    }
    return out;
  }
}

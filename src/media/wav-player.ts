/** A WAV file as an audio source: read once, converted to 8 kHz mono, played (and looped) from memory. */
import { readFile } from 'node:fs/promises';
import { SipError } from '../core/errors.js';
import { PcmSource, type AudioSource } from './audio-source.js';
import { readWav, toTelephoneAudio } from './wav-file.js';

export interface WavPlayerOptions {
  /** Start again at the end (music on hold); default false. */
  readonly loop?: boolean;
}

/** Builds a source from WAV bytes. Throws `SipError` `ERR_MEDIA_FILE` for a file it cannot read. */
export function wavSource(bytes: Buffer, options: WavPlayerOptions = {}): AudioSource {
  const r = readWav(bytes);
  if (!r.ok) throw new SipError('ERR_MEDIA_FILE', `WAV: ${r.reason}`);
  return new PcmSource(toTelephoneAudio(r.audio), options.loop ?? false);
}

/** Reads a WAV file from disk. Rejects with `SipError` `ERR_MEDIA_FILE`. */
export async function openWavSource(path: string, options: WavPlayerOptions = {}): Promise<AudioSource> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SipError('ERR_MEDIA_FILE', `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  try {
    return wavSource(bytes, options);
  } catch (e) {
    throw new SipError('ERR_MEDIA_FILE', `${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

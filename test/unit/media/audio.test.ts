import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcmSource, SilenceSource, ToneSource } from '../../../src/media/audio-source.js';
import { LevelMeter, WavRecorder, rmsDbfs } from '../../../src/media/audio-sinks.js';
import { goertzelPower, toneRatio } from '../../../src/media/goertzel.js';
import { readWav, resample, writeWav } from '../../../src/media/wav-file.js';
import { openWavSource, wavSource } from '../../../src/media/wav-player.js';
import { encodeAlaw } from '../../../src/media/g711.js';
import { estimateMos, mosFromRating, rating } from '../../../src/media/e-model.js';

function collect(src: { read(): Int16Array | undefined }, frames: number): Int16Array {
  const out = new Int16Array(frames * 160);
  for (let i = 0; i < frames; i++) {
    const f = src.read();
    if (f === undefined) return out.subarray(0, i * 160);
    out.set(f, i * 160);
  }
  return out;
}

test('tone source: 20 ms frames of 160 samples, found at its frequency by Goertzel and not at others', () => {
  const pcm = collect(new ToneSource({ frequency: 440, amplitude: 0.5 }), 50);
  assert.equal(pcm.length, 8000);
  assert.ok(toneRatio(pcm, 440) > 0.9, `440: ${toneRatio(pcm, 440)}`);
  assert.ok(toneRatio(pcm, 1000) < 0.01);
  assert.ok(goertzelPower(pcm, 440) > 1000 * goertzelPower(pcm, 1000));
  assert.ok(Math.abs(rmsDbfs(pcm) - (20 * Math.log10(0.5) - 3.01)) < 0.1);
  assert.equal(collect(new ToneSource({ frequency: 440, durationMs: 100 }), 50).length, 800);
  assert.equal(rmsDbfs(collect(new SilenceSource(), 3)), -Infinity);
});

test('WAV: 16-bit mono 8 kHz round trip; stereo 16 kHz downmixed and resampled; A-law WAV decoded; garbage refused', async () => {
  const tone = collect(new ToneSource({ frequency: 1000, amplitude: 0.3 }), 10);
  const back = readWav(writeWav(tone));
  assert.ok(back.ok);
  assert.deepEqual(back.audio.samples, tone);
  // stereo 16 kHz: left a 500 Hz tone, right silence
  const n = 16000;
  const stereo = new Int16Array(2 * n);
  for (let i = 0; i < n; i++) stereo[2 * i] = Math.round(20000 * Math.sin((2 * Math.PI * 500 * i) / 16000));
  const raw = writeWav(stereo, 16000);
  raw.writeUInt16LE(2, 22); // channels
  raw.writeUInt32LE(16000 * 4, 28);
  raw.writeUInt16LE(4, 32);
  const src = wavSource(raw);
  const pcm = collect(src, 100);
  assert.equal(pcm.length, 8000);
  assert.ok(toneRatio(pcm, 500) > 0.9);
  // A-law WAV (format 6)
  const alaw = encodeAlaw(tone);
  const aw = Buffer.concat([writeWav(new Int16Array(0)), alaw]);
  aw.writeUInt16LE(6, 20);
  aw.writeUInt16LE(8, 34);
  aw.writeUInt32LE(alaw.length, 40);
  aw.writeUInt32LE(36 + alaw.length, 4);
  const ar = readWav(aw);
  assert.ok(ar.ok);
  assert.ok(toneRatio(ar.audio.samples, 1000) > 0.9);
  assert.deepEqual(readWav(Buffer.from('not a wav file at all')), { ok: false, reason: 'not a RIFF WAVE file' });
  assert.throws(() => wavSource(Buffer.from('RIFF....WAVE')), (e: Error & { code?: string }) => e.code === 'ERR_MEDIA_FILE');
  await assert.rejects(openWavSource('/nonexistent/x.wav'), (e: Error & { code?: string }) => e.code === 'ERR_MEDIA_FILE');
});

test('looping player restarts at the end; the non-looping one ends', () => {
  const samples = Int16Array.from({ length: 200 }, (_, i) => i);
  const once = new PcmSource(samples, false);
  assert.equal(once.read()![0], 0);
  assert.equal(once.read()![39], 199);
  assert.equal(once.read(), undefined);
  const loop = new PcmSource(samples, true);
  loop.read();
  const second = loop.read()!;
  assert.equal(second[40], 0, 'wrapped to the start inside the frame');
  assert.equal(resample(samples, 8000, 8000), samples);
  assert.equal(resample(samples, 16000, 8000).length, 100);
});

test('recorder writes a 16-bit 8 kHz mono WAV; level meter reads RMS dBFS', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hookflash-media-'));
  try {
    const path = join(dir, 'rec.wav');
    const rec = new WavRecorder(path);
    const meter = new LevelMeter();
    const tone = new ToneSource({ frequency: 440, amplitude: 1 });
    for (let i = 0; i < 25; i++) {
      const f = tone.read()!;
      rec.write(f);
      meter.write(f);
    }
    await rec.close();
    const w = readWav(await readFile(path));
    assert.ok(w.ok);
    assert.equal(w.audio.sampleRate, 8000);
    assert.equal(w.audio.channels, 1);
    assert.equal(w.audio.samples.length, 4000);
    assert.ok(Math.abs(meter.level + 3.01) < 0.2, `level ${meter.level}`);
    await writeFile(join(dir, 'x'), '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('E-model: MOS 4.4 for a clean G.711 call, lower with loss and with delay (ITU-T G.107)', () => {
  assert.ok(Math.abs(rating(0, 0) - 93.2) < 1e-9);
  assert.ok(Math.abs(mosFromRating(93.2) - 4.41) < 0.01);
  const clean = estimateMos({ jitterMs: 0, lossPercent: 0 });
  const lossy = estimateMos({ jitterMs: 0, lossPercent: 5 });
  const slow = estimateMos({ rttMs: 600, jitterMs: 0, lossPercent: 0 });
  assert.ok(clean > 4.3 && lossy < clean - 1 && slow < clean, `${clean} ${lossy} ${slow}`);
  assert.equal(mosFromRating(-5), 1);
  assert.equal(mosFromRating(120), 4.5);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alawToLinear, decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw, linearToAlaw, linearToUlaw, ulawToLinear,
} from '../../../src/media/g711.js';

test('µ-law known code points: 0 → 0xFF, full scale → 0x80/0x00, decode of 0xFF and 0x7F is ±0 (G.711 table 2a)', () => {
  assert.equal(linearToUlaw(0), 0xff);
  assert.equal(linearToUlaw(32767), 0x80);
  assert.equal(linearToUlaw(-32768), 0x00);
  assert.equal(ulawToLinear(0xff), 0);
  assert.equal(ulawToLinear(0x7f), 0);
  assert.equal(ulawToLinear(0x80), 32124);
  assert.equal(ulawToLinear(0x00), -32124);
});

test('A-law known code points: 0 → 0xD5, full scale → 0xAA/0x2A (G.711 table 1a, even bits inverted)', () => {
  assert.equal(linearToAlaw(0), 0xd5);
  assert.equal(linearToAlaw(32767), 0xaa);
  assert.equal(linearToAlaw(-32768), 0x2a);
  assert.equal(alawToLinear(0xd5), 8);
  assert.equal(alawToLinear(0xaa), 32256);
  assert.equal(alawToLinear(0x2a), -32256);
});

test('every code decodes and re-encodes to itself (both laws; µ-law ±0 pair excepted)', () => {
  for (let c = 0; c < 256; c++) {
    assert.equal(linearToAlaw(alawToLinear(c)), c, `A-law ${c}`);
    if (c !== 0x7f) assert.equal(linearToUlaw(ulawToLinear(c)), c, `µ-law ${c}`);
  }
});

test('round trip error stays within half a quantisation step: SNR of a sine above 35 dB for both laws', () => {
  const pcm = Int16Array.from({ length: 8000 }, (_, i) => Math.round(16000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
  for (const [name, enc, dec] of [['PCMU', encodeUlaw, decodeUlaw], ['PCMA', encodeAlaw, decodeAlaw]] as const) {
    const out = dec(enc(pcm));
    let sig = 0;
    let err = 0;
    for (let i = 0; i < pcm.length; i++) {
      sig += pcm[i]! ** 2;
      err += (pcm[i]! - out[i]!) ** 2;
      // the largest segment's step is 1024 (µ-law) / 1024 (A-law): error at most half of it
      assert.ok(Math.abs(pcm[i]! - out[i]!) <= 512, `${name} sample ${i}: ${pcm[i]} → ${out[i]}`);
    }
    const snr = 10 * Math.log10(sig / err);
    assert.ok(snr > 35, `${name} SNR ${snr.toFixed(1)} dB`);
  }
});

test('fast table encoders agree with the reference encoders on every 16-bit value', () => {
  const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
  const u = encodeUlaw(all);
  const a = encodeAlaw(all);
  for (let i = 0; i < all.length; i++) {
    assert.equal(u[i], linearToUlaw(all[i]!));
    assert.equal(a[i], linearToAlaw(all[i]!));
  }
});

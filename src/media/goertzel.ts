/**
 * The Goertzel algorithm: the power of one frequency in a block of samples, cheaper than an FFT
 * when a few frequencies are wanted (tone checks in tests, DTMF-by-ear tools).
 */

/** Power at `frequency` (Hz) in `samples`, normalised so a full-scale sine at that frequency gives about 0.25. */
export function goertzelPower(samples: Int16Array, frequency: number, sampleRate = 8000): number {
  const n = samples.length;
  if (n === 0) return 0;
  // The exact frequency, not the nearest DFT bin (k = N·f/fs rounded): a tone between two bins
  // would otherwise lose part of its power to leakage.
  const w = (2 * Math.PI * frequency) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! / 32768 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return power / (n * n);
}

/** The share (0..1) of the block's energy found at `frequency`: 1 for a pure tone there, near 0 elsewhere. */
export function toneRatio(samples: Int16Array, frequency: number, sampleRate = 8000): number {
  let energy = 0;
  for (let i = 0; i < samples.length; i++) energy += (samples[i]! / 32768) ** 2;
  if (energy === 0) return 0;
  // A sine of amplitude a has energy n·a²/2 and Goertzel power n²·a²/4 → ratio 2·P·n/energy.
  return Math.min(1, (2 * goertzelPower(samples, frequency, sampleRate) * samples.length) / energy);
}

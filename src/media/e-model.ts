/**
 * A call quality estimate by the simplified E-model (ITU-T G.107): the rating R from one-way
 * delay and packet loss, then MOS from R. Only the impairments a media session can measure are
 * used; everything else stays at the G.107 defaults, whose sum gives R0 - Is = 93.2.
 */

/** Equipment impairment of a codec (ITU-T G.113 Appendix I): Ie, and Bpl its loss robustness. */
export interface CodecImpairment {
  readonly ie: number;
  readonly bpl: number;
}

/** G.711 with packet loss concealment (G.113 Appendix I): Ie = 0, Bpl = 25.1; 4.3 without PLC. */
export const G711_PLC: CodecImpairment = { ie: 0, bpl: 25.1 };
/** G.711 without concealment (lost frames played as silence), what this layer does. */
export const G711_NO_PLC: CodecImpairment = { ie: 0, bpl: 4.3 };

/**
 * Delay impairment Id (G.107 §7.4, simplified by the usual Cole-Rosenbluth form):
 * Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3), d the one-way delay in ms.
 */
export function delayImpairment(oneWayMs: number): number {
  const d = Math.max(0, oneWayMs);
  return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
}

/** Ie,eff = Ie + (95 - Ie) · Ppl / (Ppl / BurstR + Bpl), random loss (BurstR = 1), Ppl in percent (G.107 §7.6). */
export function effectiveEquipmentImpairment(lossPercent: number, codec: CodecImpairment): number {
  const ppl = Math.max(0, Math.min(100, lossPercent));
  return codec.ie + ((95 - codec.ie) * ppl) / (ppl + codec.bpl);
}

/** R = 93.2 - Id - Ie,eff (G.107 with the default values, A = 0). */
export function rating(oneWayMs: number, lossPercent: number, codec: CodecImpairment = G711_NO_PLC): number {
  return 93.2 - delayImpairment(oneWayMs) - effectiveEquipmentImpairment(lossPercent, codec);
}

/** MOS_CQE from R (G.107 Annex B): 1 below 0, 4.5 above 100, else 1 + 0.035R + R(R-60)(100-R)·7e-6. */
export function mosFromRating(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/**
 * MOS from what a session measures: one-way delay (half the RTT, plus the jitter buffer the
 * receiver would need, taken as twice the jitter) and the loss percent.
 */
export function estimateMos(input: { rttMs?: number; jitterMs: number; lossPercent: number }, codec: CodecImpairment = G711_NO_PLC): number {
  const oneWay = (input.rttMs ?? 0) / 2 + 2 * input.jitterMs;
  return mosFromRating(rating(oneWay, input.lossPercent, codec));
}

/**
 * What a receiver knows about one source (RFC 3550 Appendix A.1, A.3, A.8): the extended highest
 * sequence number, packets expected and lost, the fraction lost between reports, and interarrival
 * jitter. Pure state; the session feeds it packets with their arrival time in timestamp units.
 */
import type { ReportBlock } from './rtcp-packet.js';

const RTP_SEQ_MOD = 1 << 16;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MIN_SEQUENTIAL = 2;

export class ReceiverStats {
  readonly ssrc: number;
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private probation = MIN_SEQUENTIAL;
  /** Packets accepted as valid (Appendix A.1 `received`). */
  received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit: number | undefined;
  /** Jitter estimate ×16 (Appendix A.8 keeps it scaled to avoid rounding). */
  private jitterScaled = 0;
  /** Fraction lost in the last report interval, 0..1. */
  lastFractionLost = 0;
  /** LSR and when it arrived (ms on the session clock), for DLSR (§6.4.1). */
  lastSr = 0;
  lastSrAt: number | undefined;

  constructor(ssrc: number, firstSeq: number) {
    this.ssrc = ssrc;
    this.initSeq(firstSeq);
    this.maxSeq = (firstSeq - 1) & 0xffff;
    this.probation = MIN_SEQUENTIAL;
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /**
   * Appendix A.1 `update_seq`: returns false while the source is on probation or when the number
   * jumped too far (the packet is not counted).
   */
  updateSeq(seq: number): boolean {
    const udelta = (seq - this.maxSeq + RTP_SEQ_MOD) % RTP_SEQ_MOD;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          this.received++;
          return true;
        }
      } else {
        this.probation = MIN_SEQUENTIAL - 1;
        this.maxSeq = seq;
      }
      return false;
    } else if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      if (seq === this.badSeq) {
        // Two sequential packets after a big jump: the source restarted (A.1).
        this.initSeq(seq);
      } else {
        this.badSeq = (seq + 1) & (RTP_SEQ_MOD - 1);
        return false;
      }
    }
    // else: duplicate or reordered packet, counted as received
    this.received++;
    return true;
  }

  /** Appendix A.8: J += (|D| - J) / 16, D the difference of relative transit times. */
  updateJitter(rtpTimestamp: number, arrivalUnits: number): void {
    const transit = (arrivalUnits - rtpTimestamp) | 0;
    if (this.transit !== undefined) {
      let d = (transit - this.transit) | 0;
      if (d < 0) d = -d;
      this.jitterScaled += d - ((this.jitterScaled + 8) >> 4);
    }
    this.transit = transit;
  }

  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /** Appendix A.3: expected = extended max - base + 1. */
  get expected(): number {
    return this.received === 0 ? 0 : this.extendedMax - this.baseSeq + 1;
  }

  /** Cumulative lost (may be negative with duplicates). */
  get cumulativeLost(): number {
    return this.received === 0 ? 0 : this.expected - this.received;
  }

  /** Jitter in timestamp units. */
  get jitter(): number {
    return this.jitterScaled >> 4;
  }

  /**
   * A report block for this source (RFC 3550 §6.4.1), closing the interval: fraction lost is
   * measured from the previous call. `nowMs` is the session clock, for DLSR.
   */
  reportBlock(nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.received - this.receivedPrior;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    this.lastFractionLost = Math.min(255, fraction) / 256;
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fraction),
      cumulativeLost: this.cumulativeLost,
      extendedHighestSequence: this.extendedMax >>> 0,
      jitter: this.jitter >>> 0,
      lastSr: this.lastSr,
      delaySinceLastSr: this.lastSrAt === undefined ? 0 : Math.round(((nowMs - this.lastSrAt) / 1000) * 65536) >>> 0,
    };
  }
}

/**
 * Round-trip time from a report block about our own stream (RFC 3550 §6.4.1):
 * RTT = A - LSR - DLSR, all in 1/65536 s, A being the middle 32 bits of our NTP time now.
 * Undefined when the peer has not received an SR from us yet.
 */
export function roundTripMs(block: ReportBlock, arrivalNtpMiddle: number): number | undefined {
  if (block.lastSr === 0) return undefined;
  const rtt = (arrivalNtpMiddle - block.lastSr - block.delaySinceLastSr) >>> 0;
  // A value past 2^31 is a negative result (clock skew): report none.
  if (rtt > 0x80000000) return undefined;
  return (rtt / 65536) * 1000;
}

/** The NTP timestamp (RFC 3550 §4) for a Unix time in ms: seconds since 1900 and fraction. */
export function ntpFromUnixMs(ms: number): { seconds: number; fraction: number; middle: number } {
  const total = ms / 1000 + 2208988800;
  const seconds = Math.floor(total) >>> 0;
  const fraction = Math.floor((total - Math.floor(total)) * 0x100000000) >>> 0;
  return { seconds, fraction, middle: (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0 };
}

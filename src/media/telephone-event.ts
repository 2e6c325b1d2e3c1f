/**
 * RFC 4733 telephone-events (DTMF digits): the 4-octet payload (§2.3), a sender that turns a digit
 * into a series of packets, and a receiver that reports each event once.
 */

/** DTMF event codes (RFC 4733 §3.2, table 7): 0-9, * = 10, # = 11, A-D = 12-15, flash = 16. */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D' | '!';

const DIGITS = '0123456789*#ABCD!';

/** The event code of a digit (`!` is hook flash, event 16), or undefined. */
export function eventCode(digit: string): number | undefined {
  const i = DIGITS.indexOf(digit.toUpperCase());
  return i < 0 ? undefined : i;
}

/** The digit of an event code 0-16, or undefined. */
export function digitOf(code: number): DtmfDigit | undefined {
  return code >= 0 && code < DIGITS.length ? (DIGITS[code] as DtmfDigit) : undefined;
}

/** True when every character is a DTMF digit. */
export function isDtmfString(s: string): boolean {
  return s.length > 0 && [...s].every((c) => eventCode(c) !== undefined);
}

export interface TelephoneEvent {
  readonly event: number;
  readonly end: boolean;
  /** Power level as -dBm0, 0-63 (§2.3.4). */
  readonly volume: number;
  /** In timestamp units since the event's timestamp (§2.3.5). */
  readonly duration: number;
}

/** Writes the payload (§2.3): event, E|R|volume, duration. */
export function buildTelephoneEvent(e: TelephoneEvent): Buffer {
  const b = Buffer.alloc(4);
  b[0] = e.event & 0xff;
  b[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  b.writeUInt16BE(Math.min(0xffff, e.duration), 2);
  return b;
}

/** Reads the payload; undefined if shorter than 4 octets (§2.3). Extra octets (redundancy) are ignored. */
export function parseTelephoneEvent(payload: Buffer): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  return { event: payload[0]!, end: (payload[1]! & 0x80) !== 0, volume: payload[1]! & 0x3f, duration: payload.readUInt16BE(2) };
}

/** One packet the sender wants sent on this tick. */
export interface DtmfPacket {
  readonly payload: Buffer;
  readonly marker: boolean;
  /** True on the event's first packet: the session fixes the event's timestamp there. */
  readonly eventStart: boolean;
}

export interface DtmfSenderOptions {
  /** Tone length per digit, ms; default 100 (a common minimum is 40, RFC 4733 §2.5.1.2 says nothing). */
  readonly durationMs?: number;
  /** Silence between digits, ms; default 60. */
  readonly gapMs?: number;
  /** -dBm0; default 10. */
  readonly volume?: number;
  readonly samplesPerTick?: number;
}

/**
 * Turns queued digits into packets, one call of `tick()` per packetisation interval. For each
 * digit (RFC 4733 §2.5.1): the first packet carries the marker bit; every packet has the same
 * timestamp (the event's start) and a growing duration; the last is sent three times with the E bit.
 */
export class DtmfSender {
  private readonly queue: number[] = [];
  private current: { event: number; elapsed: number; endSent: number } | undefined;
  private gapLeft = 0;
  private readonly duration: number;
  private readonly gap: number;
  private readonly volume: number;
  private readonly step: number;

  constructor(options: DtmfSenderOptions = {}) {
    this.step = options.samplesPerTick ?? 160;
    this.duration = Math.max(this.step, Math.round(((options.durationMs ?? 100) * 8000) / 1000));
    this.gap = Math.round(((options.gapMs ?? 60) * 8000) / 1000);
    this.volume = options.volume ?? 10;
  }

  /** Queues digits; characters that are not DTMF are refused with a RangeError before any is queued. */
  enqueue(digits: string): void {
    const codes = [...digits].map((d) => {
      const c = eventCode(d);
      if (c === undefined) throw new RangeError(`"${d}" is not a DTMF digit (0-9, *, #, A-D, ! for flash)`);
      return c;
    });
    this.queue.push(...codes);
  }

  /** True while an event is being sent or digits wait: the session sends no audio then (§2.5.1.5 spirit). */
  get busy(): boolean {
    return this.current !== undefined || this.queue.length > 0;
  }

  /** The packet for this tick, or undefined (no event, or the gap between digits). */
  tick(): DtmfPacket | undefined {
    if (this.current === undefined) {
      if (this.gapLeft > 0) {
        this.gapLeft -= this.step;
        return undefined;
      }
      const next = this.queue.shift();
      if (next === undefined) return undefined;
      this.current = { event: next, elapsed: this.step, endSent: 0 };
      return { payload: buildTelephoneEvent({ event: next, end: false, volume: this.volume, duration: this.step }), marker: true, eventStart: true };
    }
    const c = this.current;
    if (c.elapsed < this.duration) {
      c.elapsed = Math.min(this.duration, c.elapsed + this.step);
      if (c.elapsed < this.duration) {
        return { payload: buildTelephoneEvent({ event: c.event, end: false, volume: this.volume, duration: c.elapsed }), marker: false, eventStart: false };
      }
    }
    // RFC 4733 §2.5.1.4: the final packet is retransmitted (three in all), same duration.
    c.endSent++;
    const payload = buildTelephoneEvent({ event: c.event, end: true, volume: this.volume, duration: c.elapsed });
    if (c.endSent >= 3) {
      this.current = undefined;
      this.gapLeft = this.gap;
    }
    return { payload, marker: false, eventStart: false };
  }

  /** Drops whatever is queued (on close or direction change). */
  clear(): void {
    this.queue.length = 0;
    this.current = undefined;
    this.gapLeft = 0;
  }
}

/** A received digit. `durationMs` is what the sender said when the event ended. */
export interface DtmfEvent {
  readonly digit: DtmfDigit;
  readonly event: number;
  readonly durationMs: number;
  readonly timestamp: number;
}

/**
 * Reports each event once (RFC 4733 §2.5.2): events are told apart by their RTP timestamp; the
 * report is made on the first end packet, or, if every end packet was lost, when the next event
 * starts. Retransmitted end packets and late updates are ignored.
 */
export class DtmfReceiver {
  private currentTs: number | undefined;
  private currentEvent = -1;
  private currentDuration = 0;
  private reported = false;
  private readonly recent: number[] = [];

  constructor(private readonly onDigit: (e: DtmfEvent) => void, private readonly clockRate = 8000) {}

  receive(timestamp: number, payload: Buffer): void {
    const te = parseTelephoneEvent(payload);
    if (te === undefined) return;
    if (timestamp !== this.currentTs) {
      if (this.recent.includes(timestamp)) return; // a late packet of an event already reported
      this.flush();
      this.currentTs = timestamp;
      this.currentDuration = 0;
      this.currentEvent = te.event;
      this.reported = false;
    }
    this.currentDuration = Math.max(this.currentDuration, te.duration);
    if (te.end) this.flush();
  }

  private flush(): void {
    if (this.currentTs === undefined || this.reported) return;
    this.reported = true;
    this.recent.push(this.currentTs);
    if (this.recent.length > 8) this.recent.shift();
    const digit = digitOf(this.currentEvent);
    const duration = this.currentDuration;
    this.currentDuration = 0;
    if (digit !== undefined) this.onDigit({ digit, event: this.currentEvent, durationMs: (duration * 1000) / this.clockRate, timestamp: this.currentTs });
  }
}

/**
 * The ladder diagram of a call (or of the calls of one transfer), as data for the dashboard's SVG
 * and as text for the terminal: one column per element (phones and proxies, in the order they first
 * appear), one arrow per message, labelled as in the seed's figures (INVITE, 100, 180, 200, ACK,
 * REFER, 202, NOTIFY, BYE; a re-INVITE marked hold or resume).
 */
import type { StoredMessage } from './capture-store.js';

export interface LadderArrow {
  /** F1, F2... in the diagram's order (as the seed numbers its messages). */
  n: number;
  seq: number;
  time: number;
  from: number;
  to: number;
  label: string;
  /** The reason phrase of a response, `hold` / `resume` of a re-INVITE. */
  detail: string;
  note?: 'hold' | 'resume';
  method: string;
  callId: string;
  protocol: string;
  /** The whole message. */
  text: string;
}

export interface Ladder {
  columns: string[];
  arrows: LadderArrow[];
}

/** `columns`: names placed first, in this order (the others follow as they appear). */
export function buildLadder(messages: readonly StoredMessage[], columns: string[] = []): Ladder {
  columns = [...columns];
  const col = (name: string): number => {
    let i = columns.indexOf(name);
    if (i < 0) i = columns.push(name) - 1;
    return i;
  };
  const arrows: LadderArrow[] = messages.map((m, i) => {
    const from = col(m.from);
    const to = col(m.to);
    const detail = m.note ?? (m.isRequest ? '' : `${m.reason ?? ''}${m.method === 'INVITE' ? '' : ` (${m.method})`}`.trim());
    const arrow: LadderArrow = {
      n: i + 1, seq: m.seq, time: m.time, from, to, label: m.label, detail, method: m.method, callId: m.callId, protocol: m.protocol,
      text: m.bytes.toString('utf8'),
    };
    if (m.note !== undefined) arrow.note = m.note;
    return arrow;
  });
  return { columns, arrows };
}

const COL = 24;

/**
 * The ladder as fixed-width text:
 * ```
 *           alice           atlanta.example.com
 * F1          |-------INVITE-------->|
 * ```
 */
export function renderTextLadder(ladder: Ladder, options: { width?: number } = {}): string {
  const w = Math.max(12, options.width ?? COL);
  const n = ladder.columns.length;
  const centre = (i: number): number => i * w + Math.floor(w / 2);
  const lineLength = n * w;
  const pad = 6;
  const head = Array.from({ length: lineLength }, () => ' ');
  ladder.columns.forEach((name, i) => {
    const text = name.length > w - 2 ? name.slice(0, w - 3) + '…' : name;
    const start = Math.max(0, centre(i) - Math.floor(text.length / 2));
    for (let k = 0; k < text.length && start + k < lineLength; k++) head[start + k] = text[k]!;
  });
  const lines = [' '.repeat(pad) + head.join('').trimEnd()];
  for (const a of ladder.arrows) {
    const row = Array.from({ length: lineLength }, () => ' ');
    for (let i = 0; i < n; i++) row[centre(i)] = '|';
    const lo = Math.min(a.from, a.to);
    const hi = Math.max(a.from, a.to);
    const label = a.note === undefined ? a.label : `${a.label} (${a.note})`;
    if (lo === hi) {
      // A message from an element to itself (one process answering its own request).
      const text = `-${label}`;
      for (let k = 0; k < text.length && centre(lo) + 1 + k < lineLength; k++) row[centre(lo) + 1 + k] = text[k]!;
    } else {
      const left = centre(lo) + 1;
      const right = centre(hi) - 1;
      for (let k = left; k <= right; k++) row[k] = '-';
      if (a.from < a.to) row[right] = '>';
      else row[left] = '<';
      const room = right - left - 1;
      const text = label.length > room ? label.slice(0, Math.max(0, room)) : label;
      const start = left + 1 + Math.floor((room - text.length) / 2);
      for (let k = 0; k < text.length; k++) row[start + k] = text[k]!;
    }
    lines.push(`F${a.n}`.padEnd(pad) + row.join('').trimEnd());
  }
  return lines.join('\n');
}

/**
 * The terminal view of `hookflash phone` (issue 8): our URI, the registration, and one line per
 * call (short id, direction, state, duration, MOS and loss when media runs, peer). Pure: a model
 * in, the lines out, no escape codes but the optional colours, so that it is tested as text.
 * phone-screen.ts puts the lines on the terminal below the event lines and above the prompt.
 */

/**
 * What the view says a call is doing; finer than Call.state: the hold flags (ours: `held here`;
 * the peer's: `held there`), an unsettled transfer of ours, a call replaced by an INVITE with
 * Replaces (RFC 3891) at the transfer target.
 */
export type PhoneViewState = 'calling' | 'ringing' | 'talking' | 'held here' | 'held there' | 'held both' | 'transferring' | 'replaced' | 'ended';

/** What a call's facts make of its view state (see PhoneViewState). */
export interface PhoneViewFacts {
  readonly state: 'calling' | 'ringing' | 'answered' | 'ended';
  readonly localHold: boolean;
  readonly remoteHold: boolean;
  /** Our transfers of the call not settled yet. */
  readonly transferring: boolean;
  /** The call was replaced (it is ended too). */
  readonly replaced: boolean;
}

/** The view state of a call: replaced and ended first, then an open transfer, then the holds. */
export function viewState(f: PhoneViewFacts): PhoneViewState {
  if (f.replaced) return 'replaced';
  if (f.state === 'ended') return 'ended';
  if (f.state === 'calling' || f.state === 'ringing') return f.state;
  if (f.transferring) return 'transferring';
  if (f.localHold && f.remoteHold) return 'held both';
  if (f.localHold) return 'held here';
  if (f.remoteHold) return 'held there';
  return 'talking';
}

/** One call of the view. Times are milliseconds of one clock (the model's `now`). */
export interface PhoneViewCall {
  /** Its index in the `calls` listing (from 1). */
  readonly index: number;
  /** The Call-ID; the view shows its first characters. */
  readonly id: string;
  readonly peer: string;
  readonly direction: 'incoming' | 'outgoing';
  readonly state: PhoneViewState;
  /** The current call (the one commands apply to). */
  readonly current: boolean;
  /** When the phone saw the call first. */
  readonly startedAt: number;
  /** When it was answered: the duration counts from here once there. */
  readonly answeredAt?: number;
  /** When it ended: the duration stops here. */
  readonly endedAt?: number;
  /** From the call's media statistics, while it has media. */
  readonly media?: { readonly mos: number; readonly lossRatio: number };
}

/** Where the registration of our URI stands (`none`: no --register). */
export type PhoneViewRegistration = 'none' | 'registering' | 'registered' | 'failed' | 'unregistered';

export interface PhoneViewModel {
  /** Our address of record. */
  readonly uri: string;
  readonly registration: PhoneViewRegistration;
  readonly registrar?: string;
  /** Every call the phone has seen, in index order. */
  readonly calls: readonly PhoneViewCall[];
  readonly now: number;
}

export interface PhoneViewOptions {
  /** Columns: no line is longer (counting characters, not colour codes). At least 20. */
  readonly width: number;
  /** ANSI colours (SGR) for the states and the header; false: plain text. */
  readonly color: boolean;
  /** At most this many call lines (default 6): live calls first, the oldest ended ones left out. */
  readonly maxCalls?: number;
}

/** SGR codes per state: green talking, yellow ringing, cyan holds, magenta transfers, dim the rest. */
const STATE_COLOR: Readonly<Record<PhoneViewState, string>> = {
  calling: '33', ringing: '33;1', talking: '32;1', 'held here': '36', 'held there': '36', 'held both': '36',
  transferring: '35', replaced: '2', ended: '2',
};

const ELLIPSIS = '…';

/** `text` cut to `width` characters, the last one an ellipsis when cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 0) return '';
  return chars.slice(0, width - 1).join('') + ELLIPSIS;
}

/** `m:ss`, or `h:mm:ss` from an hour. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

const ID_CHARS = 8;
/** Widths of the fixed columns: marker+index, id, direction, state, duration, media. */
const STATE_WIDTH = 12;
const DURATION_WIDTH = 7;
const MEDIA_WIDTH = 20;
/** Narrower than this for the peer, the media column goes. */
const MIN_PEER = 12;

function paint(text: string, sgr: string, color: boolean): string {
  return color ? `\x1b[${sgr}m${text}\x1b[0m` : text;
}

function mediaText(media: PhoneViewCall['media']): string {
  if (media === undefined) return '';
  return `MOS ${media.mos.toFixed(2)} loss ${(100 * media.lossRatio).toFixed(1)}%`;
}

/** The calls shown: all when they fit, else the live ones and the latest ended ones, in index order. */
function shown(calls: readonly PhoneViewCall[], max: number): PhoneViewCall[] {
  if (calls.length <= max) return [...calls];
  const live = calls.filter((c) => c.state !== 'ended' && c.state !== 'replaced');
  const keep = new Set(live.slice(-max));
  for (let i = calls.length - 1; i >= 0 && keep.size < max; i--) keep.add(calls[i]!);
  return calls.filter((c) => keep.has(c));
}

function registrationText(model: PhoneViewModel): string {
  const at = model.registrar === undefined ? '' : ` at ${model.registrar}`;
  switch (model.registration) {
    case 'none': return 'not registering';
    case 'registering': return `registering${at}`;
    case 'registered': return `registered${at}`;
    case 'failed': return `registration failed${at}`;
    case 'unregistered': return `unregistered${at}`;
  }
}

function callLine(call: PhoneViewCall, now: number, width: number, color: boolean): string {
  const end = call.endedAt ?? now;
  const duration = formatDuration(end - (call.answeredAt ?? call.startedAt));
  const head = `${call.current ? '*' : ' '}${String(call.index).padStart(2)} ${[...call.id].slice(0, ID_CHARS).join('').padEnd(ID_CHARS)} ${call.direction === 'incoming' ? 'in ' : 'out'} `;
  const state = call.state.padEnd(STATE_WIDTH);
  const mid = ` ${duration.padStart(DURATION_WIDTH)} `;
  const fixed = head.length + state.length + mid.length;
  const withMedia = width - fixed - MEDIA_WIDTH - 1 >= MIN_PEER;
  const media = withMedia ? `${mediaText(call.media).padEnd(MEDIA_WIDTH)} ` : '';
  // The fixed columns are ASCII; what is left of the width is the peer's, cut when longer.
  const plain = truncate(`${head}${state}${mid}${media}${call.peer}`, width);
  if (!color || plain.length < head.length + STATE_WIDTH) return plain;
  return `${plain.slice(0, head.length)}${paint(state, STATE_COLOR[call.state], true)}${plain.slice(head.length + state.length)}`;
}

/**
 * The view as lines (no line breaks): a header (URI, registration, count of live calls), then one
 * line per call shown, or `no calls`, then `+N more` when calls were left out.
 */
export function renderPhoneView(model: PhoneViewModel, options: PhoneViewOptions): string[] {
  const width = Math.max(20, Math.floor(options.width));
  const max = Math.max(1, options.maxCalls ?? 6);
  const live = model.calls.filter((c) => c.state !== 'ended' && c.state !== 'replaced').length;
  const title = ` ${model.uri} | ${registrationText(model)} | ${live} live call${live === 1 ? '' : 's'} `;
  const header = truncate(`──${title}${'─'.repeat(Math.max(0, width - 2 - [...title].length))}`, width);
  const lines = [paint(header, '7', options.color)];
  if (model.calls.length === 0) {
    lines.push('  no calls');
    return lines;
  }
  const calls = shown(model.calls, max);
  for (const call of calls) lines.push(callLine(call, model.now, width, options.color));
  const more = model.calls.length - calls.length;
  if (more > 0) lines.push(truncate(`  +${more} more (calls lists them all)`, width));
  return lines;
}

/**
 * The call store behind the dashboard, the ladder diagrams and the per-call pcap: captured
 * messages grouped by Call-ID into calls (a call starts with an INVITE outside a dialog), with
 * their state read from the signalling:
 * - calling, ringing (a 1xx), talking (a 2xx);
 * - held, by the caller or the callee, from the SDP direction of an accepted re-INVITE (RFC 3264
 *   §8.4: sendonly or inactive holds, sendrecv resumes); the re-INVITE is marked hold or resume;
 * - transferring (a REFER in the call, RFC 3515) until a final NOTIFY fails it or a BYE ends it;
 * - replaced (an INVITE with Replaces naming it was answered, RFC 3891);
 * - ended (a BYE, or a final non-2xx to the INVITE), with the outcome.
 * Calls of one transfer are linked: the REFER's Refer-To (and its Replaces) to the call it names,
 * the transferee's new INVITE (To matching the Refer-To, Referred-By) to the REFER's call, an
 * INVITE with Replaces to the call it replaces. Memory is bounded: a ring of the latest messages of
 * every kind (for /api/pcap), the newest calls (the oldest ended ones go first), and a cap on the
 * messages kept per call.
 */
import type { CapturedMessage } from './capture-trace.js';
import { ElementNames } from './capture-names.js';

export type CallState = 'calling' | 'ringing' | 'talking' | 'held' | 'transferring' | 'replaced' | 'ended';

/** A captured message as the store keeps it: its ladder ends and its label. */
export interface StoredMessage extends CapturedMessage {
  /** The sending and receiving elements' names (ladder columns). */
  from: string;
  to: string;
  /** As in the seed's figures: `INVITE`, `180`, `200`, `ACK`, `REFER`, `202`, `NOTIFY`, `BYE`. */
  label: string;
  /** A re-INVITE that holds or resumes (from its SDP direction). */
  note?: 'hold' | 'resume';
}

export interface TransferInfo {
  referTo: string;
  referredBy?: string;
  /** The Call-ID in the Refer-To's Replaces (attended transfer). */
  replaces?: string;
  /** The final sipfrag status seen in a NOTIFY. */
  result?: number;
}

/** What /api/calls lists. */
export interface CallSummary {
  callId: string;
  caller: string;
  callee: string;
  state: CallState;
  /** While held: who holds. */
  heldBy?: 'caller' | 'callee';
  /** How an ended call ended: `bye`, `transferred`, `replaced`, `rejected 486`, `cancelled`. */
  outcome?: string;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  updatedAt: number;
  messages: number;
  /** Call-IDs of the calls linked to this one by a transfer. */
  related: string[];
  transfer?: TransferInfo;
  replacedBy?: string;
  replaces?: string;
}

interface CallRecord {
  summary: CallSummary;
  messages: StoredMessage[];
  callerTag: string | undefined;
  inviteCseq: number;
  /** Re-INVITEs awaiting their answer: CSeq → what they do. */
  reinvites: Map<number, { by: 'caller' | 'callee'; hold: boolean }>;
  /** The state a failed transfer returns to. */
  beforeTransfer: CallState | undefined;
  referTarget: string | undefined;
}

export interface CallStoreOptions {
  /** Calls kept (default 1000). */
  maxCalls?: number;
  /** Messages kept per call (default 1000); beyond, the oldest go. */
  maxMessagesPerCall?: number;
  /** Messages of every kind kept for the whole-capture export (default 20 000). */
  maxMessages?: number;
  /** Messages kept in calls, all calls together (default 50 000); beyond, the oldest calls go (ended ones first). */
  maxCallMessages?: number;
  names?: ElementNames;
}

export type CallStoreEvent =
  | { type: 'call'; call: CallSummary }
  | { type: 'message'; callId: string; seq: number };

const LIVE: ReadonlySet<CallState> = new Set(['calling', 'ringing', 'talking', 'held', 'transferring', 'replaced']);

export class CallStore {
  readonly names: ElementNames;
  private readonly calls = new Map<string, CallRecord>();
  /** A circular buffer of the latest messages: `ringNext` is where the next one goes. */
  private readonly ring: Array<StoredMessage | undefined>;
  private ringNext = 0;
  private ringSize = 0;
  private readonly maxCalls: number;
  private readonly maxPerCall: number;
  private readonly maxCallMessages: number;
  private callMessages = 0;
  private readonly listeners = new Set<(e: CallStoreEvent) => void>();

  constructor(options: CallStoreOptions = {}) {
    this.maxCalls = options.maxCalls ?? 1000;
    this.maxPerCall = options.maxMessagesPerCall ?? 1000;
    this.ring = new Array<StoredMessage | undefined>(Math.max(1, options.maxMessages ?? 20_000));
    this.maxCallMessages = options.maxCallMessages ?? 50_000;
    this.names = options.names ?? new ElementNames();
  }

  /** Listens to changes (the SSE stream); returns the removal. */
  subscribe(listener: (e: CallStoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every kept message, oldest first (the whole-capture pcap). */
  allMessages(): StoredMessage[] {
    const n = this.ring.length;
    const out: StoredMessage[] = [];
    for (let i = 0; i < this.ringSize; i++) out.push(this.ring[(this.ringNext - this.ringSize + i + n) % n]!);
    return out;
  }

  /** Calls, newest first; `query` matches a Call-ID, caller or callee (case-insensitive substring). */
  list(query?: string): CallSummary[] {
    const q = query?.trim().toLowerCase();
    const out: CallSummary[] = [];
    for (const c of this.calls.values()) {
      const s = c.summary;
      if (q && !s.callId.toLowerCase().includes(q) && !s.caller.toLowerCase().includes(q) && !s.callee.toLowerCase().includes(q)) continue;
      out.push(s);
    }
    return out.reverse();
  }

  get(callId: string): { summary: CallSummary; messages: StoredMessage[] } | undefined {
    const c = this.calls.get(callId);
    return c === undefined ? undefined : { summary: c.summary, messages: c.messages };
  }

  /** The call and every call linked to it, transitively, in the order they started. */
  group(callId: string): string[] {
    if (!this.calls.has(callId)) return [];
    const seen = new Set<string>([callId]);
    const todo = [callId];
    while (todo.length > 0) {
      const c = this.calls.get(todo.pop()!);
      for (const r of c?.summary.related ?? []) {
        if (!seen.has(r) && this.calls.has(r)) {
          seen.add(r);
          todo.push(r);
        }
      }
    }
    return [...seen].sort((a, b) => this.calls.get(a)!.summary.startedAt - this.calls.get(b)!.summary.startedAt);
  }

  /** The messages of a group of calls merged in capture order. */
  groupMessages(callIds: readonly string[]): StoredMessage[] {
    const all: StoredMessage[] = [];
    for (const id of callIds) all.push(...(this.calls.get(id)?.messages ?? []));
    return all.sort((a, b) => a.seq - b.seq);
  }

  /** Takes one captured message (the TraceHook's consumer). */
  add(m: CapturedMessage): void {
    this.names.learn(m);
    // The record becomes the stored message (no copy: the hook made it for its consumers).
    const stored = m as StoredMessage;
    stored.from = this.names.nameOf(m.src);
    stored.to = this.names.nameOf(m.dst);
    stored.label = labelOf(m);
    this.ring[this.ringNext] = stored;
    this.ringNext = (this.ringNext + 1) % this.ring.length;
    if (this.ringSize < this.ring.length) this.ringSize++;
    let call = this.calls.get(m.callId);
    if (call === undefined) {
      if (!(m.isRequest && m.method === 'INVITE' && m.toTag === undefined)) return;
      call = this.startCall(stored);
    }
    this.track(call, stored);
    call.messages.push(stored);
    this.callMessages++;
    if (call.messages.length > this.maxPerCall) {
      // Drop a tenth of the cap at once, so a long call costs no shift per message.
      const drop = Math.max(1, Math.floor(this.maxPerCall / 10));
      call.messages.splice(0, drop);
      this.callMessages -= drop;
    }
    if (this.callMessages > this.maxCallMessages) this.evict(call);
    call.summary.messages = call.messages.length;
    call.summary.updatedAt = m.time;
    if (this.listeners.size > 0) {
      this.emit({ type: 'message', callId: m.callId, seq: m.seq });
      this.emit({ type: 'call', call: call.summary });
    }
  }

  private emit(e: CallStoreEvent): void {
    if (this.listeners.size === 0) return;
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  private startCall(invite: StoredMessage): CallRecord {
    const text = invite.bytes.toString('utf8');
    const record: CallRecord = {
      summary: {
        callId: invite.callId,
        caller: addressOf(header(text, 'from', 'f') ?? ''),
        callee: addressOf(header(text, 'to', 't') ?? ''),
        state: 'calling',
        startedAt: invite.time,
        updatedAt: invite.time,
        messages: 0,
        related: [],
      },
      messages: [],
      callerTag: invite.fromTag,
      inviteCseq: invite.cseq,
      reinvites: new Map(),
      beforeTransfer: undefined,
      referTarget: undefined,
    };
    this.calls.set(invite.callId, record);
    this.evict(record);
    return record;
  }

  /** Over a cap: the oldest ended call goes, or the oldest call when none has ended; never `keep`. */
  private evict(keep: CallRecord): void {
    while (this.calls.size > this.maxCalls || this.callMessages > this.maxCallMessages) {
      let victim: string | undefined;
      for (const [id, c] of this.calls) {
        if (c !== keep && !LIVE.has(c.summary.state)) {
          victim = id;
          break;
        }
      }
      if (victim === undefined) {
        for (const [id, c] of this.calls) {
          if (c !== keep) {
            victim = id;
            break;
          }
        }
      }
      if (victim === undefined) return;
      this.callMessages -= this.calls.get(victim)!.messages.length;
      this.calls.delete(victim);
    }
  }

  private link(a: string, b: string): void {
    if (a === b) return;
    const ca = this.calls.get(a);
    const cb = this.calls.get(b);
    if (ca !== undefined && !ca.summary.related.includes(b)) ca.summary.related.push(b);
    if (cb !== undefined && !cb.summary.related.includes(a)) {
      cb.summary.related.push(a);
      this.emit({ type: 'call', call: cb.summary });
    }
  }

  private track(call: CallRecord, m: StoredMessage): void {
    const s = call.summary;
    // Only INVITE, REFER and NOTIFY are read further than their record: the others cost no text.
    const text = m.isRequest && (m.method === 'INVITE' || m.method === 'REFER' || m.method === 'NOTIFY') ? m.bytes.toString('utf8') : '';
    const ended = s.state === 'ended';
    const byCaller = m.fromTag !== undefined && m.fromTag === call.callerTag;
    if (m.isRequest) {
      switch (m.method) {
        case 'INVITE': {
          if (m.toTag === undefined) {
            if (m.cseq === call.inviteCseq && call.messages.length === 0) this.linkNewCall(call, text);
            break;
          }
          const direction = sdpDirection(text);
          if (direction === undefined) break;
          const hold = direction === 'sendonly' || direction === 'inactive';
          const by = byCaller ? 'caller' : 'callee';
          const wasHeld = s.state === 'held' && s.heldBy === by;
          if (hold) m.note = 'hold';
          else if (wasHeld || [...call.reinvites.values()].some((r) => r.hold && r.by === by)) m.note = 'resume';
          call.reinvites.set(m.cseq, { by, hold });
          break;
        }
        case 'REFER': {
          const referTo = header(text, 'refer-to', 'r');
          if (referTo === undefined) break;
          const info: TransferInfo = { referTo: referTo.trim() };
          const by = header(text, 'referred-by', 'b');
          if (by !== undefined) info.referredBy = by.trim();
          const replaces = /[?&]Replaces=([^&>;]+)/i.exec(referTo);
          if (replaces !== undefined && replaces !== null) {
            const id = decodeURIComponent(replaces[1]!).split(';')[0]!;
            info.replaces = id;
            this.link(s.callId, id);
          }
          s.transfer = info;
          call.referTarget = addressOf(referTo);
          if (!ended && s.state !== 'transferring') {
            call.beforeTransfer = s.state;
            s.state = 'transferring';
          }
          break;
        }
        case 'NOTIFY': {
          if (!/^event\s*:\s*refer/im.test(text) && !/^o\s*:\s*refer/im.test(text)) break;
          const frag = /\r\n\r\nSIP\/2\.0 (\d{3})/.exec(text);
          if (frag === null) break;
          const status = Number(frag[1]);
          if (status < 200) break;
          if (s.transfer !== undefined) s.transfer.result = status;
          if (status >= 300 && s.state === 'transferring') s.state = call.beforeTransfer ?? 'talking';
          break;
        }
        case 'BYE':
          if (!ended) this.end(call, m, s.state === 'replaced' ? 'replaced' : s.transfer?.result !== undefined && s.transfer.result < 300 ? 'transferred' : 'bye');
          break;
        case 'CANCEL':
          break;
        default:
          break;
      }
      return;
    }
    // Responses.
    const status = m.status ?? 0;
    if (m.method === 'INVITE' && m.cseq === call.inviteCseq) {
      if (status < 200 && status > 100 && s.state === 'calling') s.state = 'ringing';
      else if (status >= 200 && status < 300 && (s.state === 'calling' || s.state === 'ringing')) {
        s.state = 'talking';
        s.answeredAt = m.time;
        if (s.replaces !== undefined) this.markReplaced(s.replaces, s.callId);
      } else if (status >= 300 && !ended && s.answeredAt === undefined) {
        this.end(call, m, status === 487 ? 'cancelled' : `rejected ${status}`);
      }
    } else if (m.method === 'INVITE' && status >= 200) {
      const r = call.reinvites.get(m.cseq);
      call.reinvites.delete(m.cseq);
      if (r !== undefined && status < 300 && !ended && s.state !== 'transferring' && s.state !== 'replaced') {
        if (r.hold) {
          s.state = 'held';
          s.heldBy = r.by;
        } else if (s.state === 'held' && s.heldBy === r.by) {
          s.state = 'talking';
          delete s.heldBy;
        }
      }
    }
  }

  private end(call: CallRecord, m: StoredMessage, outcome: string): void {
    const s = call.summary;
    s.state = 'ended';
    s.outcome = outcome;
    s.endedAt = m.time;
    delete s.heldBy;
  }

  private markReplaced(replacedId: string, byId: string): void {
    const old = this.calls.get(replacedId);
    if (old === undefined || old.summary.state === 'ended') return;
    old.summary.state = 'replaced';
    old.summary.replacedBy = byId;
    this.emit({ type: 'call', call: old.summary });
  }

  /** A new call made by a transfer: Replaces names the call it replaces; To matching a REFER's target links it to that REFER's call. */
  private linkNewCall(call: CallRecord, text: string): void {
    const s = call.summary;
    const replaces = header(text, 'replaces');
    if (replaces !== undefined) {
      const id = replaces.split(';')[0]!.trim();
      s.replaces = id;
      this.link(s.callId, id);
    }
    const referredBy = header(text, 'referred-by', 'b');
    if (referredBy === undefined && replaces === undefined) return;
    // The REFER whose target this INVITE calls: the most recent transferring call naming it.
    const target = s.callee.toLowerCase();
    let found: CallRecord | undefined;
    for (const c of this.calls.values()) {
      if (c !== call && c.referTarget !== undefined && c.referTarget.toLowerCase() === target && c.summary.state === 'transferring') found = c;
    }
    if (found !== undefined) this.link(found.summary.callId, s.callId);
  }
}

/** The label the seed's figures give a message: the method, or the status code. */
export function labelOf(m: CapturedMessage): string {
  return m.isRequest ? m.method : String(m.status ?? 0);
}

/** header()'s patterns by name (a handful: compiled once). */
const headerPatterns = new Map<string, RegExp>();

/** One header's first value from message text (long or compact name), unfolded. */
export function header(text: string, name: string, compact?: string): string | undefined {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const names = compact === undefined ? name : `${name}|${compact}`;
  let re = headerPatterns.get(names);
  if (re === undefined) {
    re = new RegExp(`\\r\\n(?:${names})[ \\t]*:[ \\t]*((?:[^\\r\\n]|\\r\\n[ \\t])*)`, 'i');
    headerPatterns.set(names, re);
  }
  const found = re.exec(head);
  return found === null ? undefined : found[1]!.replace(/\r\n[ \t]+/g, ' ').trim();
}

/** `"Alice" <sips:alice@atlanta.example.com>;tag=1` → `sips:alice@atlanta.example.com` (URI params and headers dropped). */
export function addressOf(value: string): string {
  const angle = /<([^>]*)>/.exec(value);
  const uri = angle !== null ? angle[1]! : value.split(';')[0]!.trim();
  return uri.split('?')[0]!.split(';')[0]!;
}

/** The audio direction of an SDP body (RFC 3264 §8.4): the first m= line's, else the session's; c=0.0.0.0 counts as hold (RFC 2543). */
export function sdpDirection(text: string): 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' | undefined {
  const at = text.indexOf('\r\n\r\n');
  if (at < 0) return undefined;
  const body = text.slice(at + 4);
  if (!/^v=0/m.test(body)) return undefined;
  const firstM = body.search(/^m=/m);
  const media = firstM < 0 ? '' : body.slice(firstM).split(/\r?\nm=/)[0]!;
  const session = firstM < 0 ? body : body.slice(0, firstM);
  const pick = (part: string): 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' | undefined => {
    const d = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(part);
    return d === null ? undefined : (d[1] as 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive');
  };
  if (/^c=IN IP4 0\.0\.0\.0\s*$/m.test(media) || (!/^c=/m.test(media) && /^c=IN IP4 0\.0\.0\.0\s*$/m.test(session))) return 'sendonly';
  return pick(media) ?? pick(session) ?? 'sendrecv';
}

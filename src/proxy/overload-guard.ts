/**
 * The server's request guard (the job of Kamailio's pike, sanity and htable modules): every
 * request the transport delivers passes `inspect` before the transaction layer sees it, so a
 * flood costs a parse and a few map lookups, never a transaction, a lookup or a challenge.
 *
 * In order: the block list; the token bucket of the source address (and, for a source past half
 * its burst, the shared budget of all untrusted sources); the bucket of the user (From
 * user@host of an initial request); the sanity checks (400 with a reason); the limits on live
 * transactions and dialogs (calls), per source address and in total. A source that keeps going
 * over its rate (`blockAfter` refused requests within `blockWindowMs`) is blocked for `blockMs`.
 * What happens to a refused request is `action`: 'reject' answers 503 with Retry-After (statelessly;
 * an ACK is never answered), 'drop' sends nothing. Sanity failures always get their 400.
 *
 * Trusted addresses (default: loopback, i.e. local services and benchmarks) skip the per-source and
 * per-user limits and the block list, but count toward the totals.
 */
import { AuthLockout } from '../auth/lockout.js';
import type { Clock } from '../core/clock.js';
import { isSipUri, type SipRequest } from '../message/index.js';
import type { ClientTransaction, ServerTransaction, TransactionUser } from '../transaction/index.js';
import { normalizeAddress } from '../transport/addresses.js';
import type { Source } from '../transport/index.js';
import { BlockList, BucketTable, WindowCounter } from './rate-limit.js';
import { sanityCheck } from './sanity.js';

export interface GuardLimits {
  /** What a refused request gets: 'reject' (503 with Retry-After) or 'drop' (nothing). Default 'drop'. */
  action: 'reject' | 'drop';
  /** Retry-After of the 503, seconds. Default 30. */
  retryAfter: number;
  /** Requests per second per source address; 0 off. Default 200. */
  requestsPerSecond: number;
  /** Burst per source address. Default 2 × requestsPerSecond. */
  burst: number;
  /**
   * Requests per second from all untrusted sources together that have used more than half their
   * own burst (heavy senders); 0 off (the default). A source that stays within half its burst (a
   * phone, a PBX at its usual pace) is never charged, so a distributed flood is held to this rate
   * while light sources go on.
   */
  totalRequestsPerSecond: number;
  /** Initial requests per second per user (From user@host); 0 off. Default 20. */
  userRequestsPerSecond: number;
  /** Burst per user. Default 2 × userRequestsPerSecond. */
  userBurst: number;
  /** Refused requests within blockWindowMs that put the source on the block list; 0 never. Default 200. */
  blockAfter: number;
  blockWindowMs: number;
  /** How long a block lasts, ms. Default 60 000. */
  blockMs: number;
  /**
   * Server transactions still working on a request (no final response sent yet) per source
   * address; 0 off. Default 200. Transactions that have answered and only wait out retransmissions
   * (Timer J/I, up to 32 s on UDP) are not counted: they cost little and end by themselves, and
   * counting them would cap a steady load at limit/32 requests a second.
   */
  transactionsPerSource: number;
  /** Server transactions still working on a request, in total; 0 off. Default 20 000. */
  transactions: number;
  /** Calls (initial INVITE until its failure or BYE) per source address; 0 off. Default 500. */
  dialogsPerSource: number;
  /** Calls in total; 0 off. Default 50 000. */
  dialogs: number;
  /** Failed authentications per user name within authWindowMs that lock it out; 0 off. Default 10. */
  authFailuresPerUser: number;
  /** Failed authentications per source address within authWindowMs that lock it out; 0 off. Default 30. */
  authFailuresPerSource: number;
  authWindowMs: number;
  /** How long a lockout lasts, ms. Default 300 000. */
  lockoutMs: number;
  /** Addresses exempt from the per-source and per-user limits. Default loopback. */
  trusted: string[];
  /** Run the sanity checks. Default true. */
  sanity: boolean;
  /** Most addresses or users tracked in each table (memory bound under spoofed floods). Default 100 000. */
  maxTracked: number;
}

export const DEFAULT_GUARD_LIMITS: Readonly<GuardLimits> = Object.freeze({
  action: 'drop',
  retryAfter: 30,
  requestsPerSecond: 200,
  burst: 0,
  totalRequestsPerSecond: 0,
  userRequestsPerSecond: 20,
  userBurst: 0,
  blockAfter: 200,
  blockWindowMs: 10_000,
  blockMs: 60_000,
  transactionsPerSource: 200,
  transactions: 20_000,
  dialogsPerSource: 500,
  dialogs: 50_000,
  authFailuresPerUser: 10,
  authFailuresPerSource: 30,
  authWindowMs: 60_000,
  lockoutMs: 300_000,
  trusted: ['127.0.0.1', '::1'],
  sanity: true,
  maxTracked: 100_000,
});

/** Why a request was refused (the `reason` label of hookflash_dropped_total). */
export type GuardReason =
  | 'blocked' | 'datagram-rate' | 'source-rate' | 'total-rate' | 'user-rate' | 'sanity' | 'transactions-source' | 'transactions-total'
  | 'dialogs-source' | 'dialogs-total' | 'auth-lockout'
  /** The ACK of an INVITE answered statelessly (not counted as refused). */
  | 'absorbed';

export type GuardVerdict =
  | { kind: 'pass' }
  /** Send nothing. */
  | { kind: 'drop'; reason: GuardReason }
  /** Answer statelessly with this status and reason phrase (and Retry-After when given). */
  | { kind: 'reply'; reason: GuardReason; status: number; phrase: string; retryAfter?: number };

export interface GuardOptions {
  clock: Clock;
  limits?: Partial<GuardLimits>;
  /** Told of every refused request (metrics). */
  onRefused?: (reason: GuardReason, source: Source) => void;
}

interface Call {
  address: string;
  at: number;
}

const SWEEP_MS = 10_000;
/** Datagrams a source may send per request it may send (requests, responses, ACKs, retransmissions). */
const DATAGRAM_FACTOR = 10;
/** How long a recount of pending server transactions is reused, ms. */
const PENDING_MS = 100;
/** A call whose end never passes here (a phone that died) is forgotten after this. */
const CALL_MAX_AGE_MS = 12 * 3600 * 1000;
/** How long, and how many, statelessly answered INVITEs are remembered for their ACK. */
const ABSORB_MS = 32_000;
const ABSORB_MAX = 50_000;

export class RequestGuard {
  readonly limits: GuardLimits;
  /** Failed-authentication lockout (used by the server around its Digest checks). */
  readonly lockout: AuthLockout;
  private readonly clock: Clock;
  private readonly onRefused: ((reason: GuardReason, source: Source) => void) | undefined;
  private readonly sources: BucketTable;
  /** UDP datagrams per source before parsing: DATAGRAM_FACTOR × the request rate and burst (responses, ACKs and retransmissions count too). */
  private readonly datagrams: BucketTable;
  private readonly users: BucketTable;
  private readonly total: BucketTable;
  private readonly overs: WindowCounter;
  private readonly blocks: BlockList;
  private readonly trusted: ReadonlySet<string>;
  private readonly txBySource = new Map<string, number>();
  private readonly txSource = new Map<ServerTransaction, string>();
  private readonly calls = new Map<string, Call>();
  private readonly callsBySource = new Map<string, number>();
  private readonly refusedCounts = new Map<GuardReason, number>();
  /** INVITEs answered statelessly (Call-ID and CSeq number): their ACKs are dropped. */
  private readonly absorbed = new Map<string, number>();
  private lastSweep: number;
  /** Pending (unanswered) server transactions, in total and per source, recounted at most every PENDING_MS. */
  private pendingAt = -Infinity;
  private pendingTotal = 0;
  private readonly pendingBySource = new Map<string, number>();

  constructor(options: GuardOptions) {
    const l: GuardLimits = { ...DEFAULT_GUARD_LIMITS, ...options.limits };
    if (l.burst <= 0) l.burst = l.requestsPerSecond * 2;
    if (l.userBurst <= 0) l.userBurst = l.userRequestsPerSecond * 2;
    this.limits = l;
    this.clock = options.clock;
    this.onRefused = options.onRefused;
    this.sources = new BucketTable({ rate: l.requestsPerSecond, burst: l.burst }, l.maxTracked);
    this.datagrams = new BucketTable({ rate: l.requestsPerSecond * DATAGRAM_FACTOR, burst: l.burst * DATAGRAM_FACTOR }, l.maxTracked);
    this.users = new BucketTable({ rate: l.userRequestsPerSecond, burst: l.userBurst }, l.maxTracked);
    this.total = new BucketTable({ rate: l.totalRequestsPerSecond, burst: l.totalRequestsPerSecond }, 1);
    this.overs = new WindowCounter(l.blockWindowMs, l.maxTracked);
    this.blocks = new BlockList(l.maxTracked);
    this.trusted = new Set(l.trusted.map((a) => normalizeAddress(a)));
    this.lockout = new AuthLockout({
      clock: options.clock, maxFailures: l.authFailuresPerUser, maxSourceFailures: l.authFailuresPerSource,
      windowMs: l.authWindowMs, lockoutMs: l.lockoutMs, maxKeys: l.maxTracked,
    });
    this.lastSweep = options.clock.now();
  }

  /** Source addresses on the block list now. */
  get blockedSources(): number {
    return this.blocks.count(this.clock.now());
  }

  /** Live server transactions counted, and calls tracked. */
  get load(): { transactions: number; calls: number } {
    return { transactions: this.txSource.size, calls: this.calls.size };
  }

  /** Requests refused so far, by reason. */
  get refused(): ReadonlyMap<GuardReason, number> {
    return this.refusedCounts;
  }

  isTrusted(address: string): boolean {
    return this.trusted.has(normalizeAddress(address));
  }

  /** Blocks an address for `ms` (default blockMs), e.g. after an authentication lockout. */
  block(address: string, ms = this.limits.blockMs): void {
    this.blocks.block(normalizeAddress(address), this.clock.now(), ms);
  }

  /**
   * Before a UDP datagram is parsed: false drops it unread, so a flood from one source costs no
   * parsing. Trusted sources always pass. With `action: 'drop'` a source on the block list is
   * dropped here ('blocked'); with 'reject' it is let through to be answered 503 with the block's
   * remaining time. Any source sending more than DATAGRAM_FACTOR times its request rate (and
   * burst) in datagrams of any kind is dropped here in either mode ('datagram-rate'): nothing can
   * be answered before parsing.
   */
  admitDatagram(source: Source): boolean {
    const address = normalizeAddress(source.remoteAddress);
    if (this.trusted.has(address)) return true;
    const now = this.clock.now();
    if (this.limits.action === 'drop' && this.blocks.blockedUntil(address, now) !== undefined) {
      this.countRefused('blocked', source);
      return false;
    }
    if (!this.datagrams.take(address, now)) {
      this.countRefused('datagram-rate', source);
      return false;
    }
    return true;
  }

  /**
   * The verdict on a request just received, before any transaction. `serverTransactions` is the
   * transaction layer's live server transactions (for the total limit).
   */
  inspect(request: SipRequest, source: Source, serverTransactions: number): GuardVerdict {
    const now = this.clock.now();
    if (now - this.lastSweep >= SWEEP_MS) this.sweep(now);
    const address = normalizeAddress(source.remoteAddress);
    const trusted = this.trusted.has(address);
    const method = request.method;
    if (!trusted) {
      if (this.blocks.blockedUntil(address, now) !== undefined) return this.refuse('blocked', source, method, now);
      const level = this.sources.takeLevel(address, now);
      if (level < 0) {
        if (this.limits.blockAfter > 0 && this.overs.hit(address, now) >= this.limits.blockAfter) {
          this.blocks.block(address, now, this.limits.blockMs);
          this.overs.reset(address);
        }
        return this.refuse('source-rate', source, method, now);
      }
      // A heavy sender (past half its burst) also draws on the shared budget.
      if (level < 0.5 && this.total.enabled && !this.total.take('*', now)) return this.refuse('total-rate', source, method, now);
    }
    if (this.limits.sanity) {
      const sane = sanityCheck(request);
      if (!sane.ok) {
        this.countRefused('sanity', source);
        return method === 'ACK' ? { kind: 'drop', reason: 'sanity' } : { kind: 'reply', reason: 'sanity', status: sane.status, phrase: sane.reason };
      }
    }
    if (method === 'ACK' && this.absorbed.size > 0) {
      const key = ackKey(request);
      if (key !== undefined && this.absorbed.delete(key)) return { kind: 'drop', reason: 'absorbed' };
    }
    // ACK and CANCEL finish work already admitted; they create nothing that lasts.
    if (method === 'ACK' || method === 'CANCEL') return { kind: 'pass' };
    const initial = request.toTag === undefined;
    if (!trusted && initial && this.users.enabled) {
      const user = userKey(request);
      if (user !== undefined && !this.users.take(user, now)) return this.refuse('user-rate', source, method, now);
    }
    const l = this.limits;
    // Cheap first test: the live count (answered ones included) bounds the pending count.
    if (l.transactions > 0 && serverTransactions >= l.transactions && this.pending(now).total >= l.transactions) {
      return this.refuse('transactions-total', source, method, now);
    }
    if (!trusted && l.transactionsPerSource > 0 && (this.txBySource.get(address) ?? 0) >= l.transactionsPerSource
      && (this.pending(now).bySource.get(address) ?? 0) >= l.transactionsPerSource) {
      return this.refuse('transactions-source', source, method, now);
    }
    if (method === 'INVITE' && initial && !this.calls.has(request.callId)) {
      if (l.dialogs > 0 && this.calls.size >= l.dialogs) return this.refuse('dialogs-total', source, method, now);
      if (!trusted && l.dialogsPerSource > 0 && (this.callsBySource.get(address) ?? 0) >= l.dialogsPerSource) {
        return this.refuse('dialogs-source', source, method, now);
      }
      this.calls.set(request.callId, { address, at: now });
      this.callsBySource.set(address, (this.callsBySource.get(address) ?? 0) + 1);
    }
    return { kind: 'pass' };
  }

  /**
   * A response went upstream for `request`: a failed initial INVITE, or an answered BYE, ends the
   * call it counted.
   */
  responded(request: SipRequest, status: number): void {
    if (status < 200) return;
    const method = request.method;
    if (method === 'BYE' || (method === 'INVITE' && status >= 300 && request.toTag === undefined)) this.endCall(request.callId);
  }

  /**
   * An INVITE was answered with a final non-2xx and its transaction ended at once (a stateless
   * challenge): the ACK for that answer, which no transaction will match, is dropped when it comes.
   */
  absorbAck(invite: SipRequest): void {
    const key = ackKey(invite);
    if (key === undefined) return;
    const now = this.clock.now();
    if (this.absorbed.size >= ABSORB_MAX) {
      for (const [k, at] of this.absorbed) {
        if (this.absorbed.size < ABSORB_MAX && now - at < ABSORB_MS) break;
        this.absorbed.delete(k);
      }
    }
    this.absorbed.delete(key);
    this.absorbed.set(key, now);
  }

  /** Forgets a call (its end was seen some other way). */
  endCall(callId: string): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    this.calls.delete(callId);
    this.decrement(this.callsBySource, call.address);
  }

  /** The transaction user to give the transaction layer: `user`, with server transactions counted per source. */
  wrap(user: TransactionUser): TransactionUser {
    return {
      onRequest: (request, tx) => {
        const address = normalizeAddress(tx.source.remoteAddress);
        this.txSource.set(tx, address);
        this.txBySource.set(address, (this.txBySource.get(address) ?? 0) + 1);
        user.onRequest(request, tx);
      },
      onAck: (ack, source, tx) => user.onAck(ack, source, tx),
      ...(user.onStrayResponse === undefined ? {} : { onStrayResponse: (r, s) => user.onStrayResponse!(r, s) }),
      onServerError: (tx, error) => user.onServerError?.(tx, error),
      onTransactionTerminated: (tx: ClientTransaction | ServerTransaction) => {
        const address = this.txSource.get(tx as ServerTransaction);
        if (address !== undefined) {
          this.txSource.delete(tx as ServerTransaction);
          this.decrement(this.txBySource, address);
        }
        user.onTransactionTerminated?.(tx);
      },
    };
  }

  /**
   * The server transactions that have not sent a final response yet ('trying', 'proceeding'), in
   * total and per source. Recounted from the live ones at most every PENDING_MS, and only when a
   * limit is near (the live count is at the limit), so it costs nothing in normal operation.
   */
  private pending(now: number): { total: number; bySource: ReadonlyMap<string, number> } {
    if (now - this.pendingAt >= PENDING_MS) {
      this.pendingAt = now;
      this.pendingTotal = 0;
      this.pendingBySource.clear();
      for (const [tx, address] of this.txSource) {
        const state = tx.state;
        if (state !== 'trying' && state !== 'proceeding') continue;
        this.pendingTotal++;
        this.pendingBySource.set(address, (this.pendingBySource.get(address) ?? 0) + 1);
      }
    }
    return { total: this.pendingTotal, bySource: this.pendingBySource };
  }

  /** Drops what has expired (refilled buckets, ended windows and blocks, very old calls). */
  sweep(now = this.clock.now()): void {
    this.lastSweep = now;
    this.sources.sweep(now);
    this.datagrams.sweep(now);
    this.users.sweep(now);
    this.overs.sweep(now);
    this.blocks.sweep(now);
    for (const [k, at] of this.absorbed) {
      if (now - at < ABSORB_MS) break;
      this.absorbed.delete(k);
    }
    for (const [id, call] of this.calls) {
      if (now - call.at < CALL_MAX_AGE_MS) break;
      this.endCall(id);
    }
  }

  private refuse(reason: GuardReason, source: Source, method: string, now: number): GuardVerdict {
    this.countRefused(reason, source);
    if (this.limits.action === 'drop' || method === 'ACK') return { kind: 'drop', reason };
    let retryAfter = this.limits.retryAfter;
    if (reason === 'blocked') {
      const until = this.blocks.blockedUntil(normalizeAddress(source.remoteAddress), now);
      if (until !== undefined) retryAfter = Math.max(1, Math.ceil((until - now) / 1000));
    }
    return { kind: 'reply', reason, status: 503, phrase: PHRASES[reason], retryAfter };
  }

  /** Counts a refusal made elsewhere (the authentication lockout). */
  countRefused(reason: GuardReason, source: Source): void {
    this.refusedCounts.set(reason, (this.refusedCounts.get(reason) ?? 0) + 1);
    this.onRefused?.(reason, source);
  }

  private decrement(map: Map<string, number>, key: string): void {
    const n = (map.get(key) ?? 0) - 1;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  }
}

const PHRASES: Record<GuardReason, string> = {
  blocked: 'Service Unavailable (source blocked)',
  'source-rate': 'Service Unavailable (rate limit)',
  'datagram-rate': 'Service Unavailable (rate limit)',
  'total-rate': 'Service Unavailable (overloaded)',
  'user-rate': 'Service Unavailable (user rate limit)',
  sanity: 'Bad Request',
  'transactions-source': 'Service Unavailable (too many transactions from this source)',
  'transactions-total': 'Service Unavailable (overloaded)',
  'dialogs-source': 'Service Unavailable (too many calls from this source)',
  'dialogs-total': 'Service Unavailable (too many calls)',
  'auth-lockout': 'Forbidden (locked out)',
  absorbed: '',
};

/** The Call-ID and CSeq number an ACK shares with its INVITE. */
function ackKey(request: SipRequest): string | undefined {
  try {
    return `${request.callId} ${request.cseq.seq}`;
  } catch {
    return undefined;
  }
}

/** user@host of the From URI, lower case; undefined when it has no user part. */
function userKey(request: SipRequest): string | undefined {
  try {
    const from = request.from.uri;
    if (!isSipUri(from) || from.user === undefined) return undefined;
    return `${from.user}@${from.host}`.toLowerCase();
  } catch {
    return undefined;
  }
}

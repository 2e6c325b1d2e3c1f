/**
 * The response context of one forwarded request (RFC 3261 §16.7): its branches (one client
 * transaction each, per target of the target set), the responses they bring, and the choice of
 * what goes upstream. Provisionals but 100 and every 2xx are forwarded at once; when all branches
 * have ended without a 2xx, the best final is (§16.7 steps 6-7). Targets of one q are tried in
 * parallel, the next q only when they all failed (§16.6). Timer C (§16.8) guards INVITE branches,
 * and a CANCEL from upstream, a 2xx or a 6xx cancels the branches still pending (§16.7 step 10,
 * §16.10).
 *
 * A 3xx is a final response like any other: the proxy does not recurse on its Contacts (§16.7
 * step 4 allows it, and leaves it to local policy); the UAC gets the 3xx if it is the best.
 *
 * DEVIATION(RFC 3261 §16.10): on an upstream CANCEL the INVITE is answered 487 at once, rather
 * than with the best response once every branch has ended; the branches are cancelled all the
 * same and whatever they answer later is absorbed (a late 2xx still goes up, §16.7 step 5).
 *
 * A Branch is the ClientTransactionListener of its transactions, so a response costs no closure.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import type { ClientTransaction, ClientTransactionListener, ServerTransaction, TransactionError, TransactionLayer } from '../transaction/index.js';
import type { Target } from '../transport/index.js';
import { chooseBest, convert503, mergeChallenges } from './best-response.js';
import { createCancel } from './cancel-request.js';
import type { Flow } from './flow-token.js';

/** What a branch sends to: a new Request-URI, Route values to push, or a flow to use. */
export interface BranchSpec {
  /** New Request-URI (a registered Contact, §16.5); unchanged when absent. */
  uri?: string;
  /** Route values to put on top (a binding's Path, RFC 3327), first on top. */
  routes?: readonly string[];
  /** Send over this flow (RFC 5626 §5.3): a registration's connection, or its UDP source. */
  flow?: Flow;
}

/** The next hop of a branch: RFC 3263 targets to try in order, or a failure status. */
export type NextHop =
  | { ok: true; targets: Target[]; connectionId?: string | undefined }
  | { ok: false; status: number; reason?: string };

/** What a context needs from the proxy core. */
export interface ContextHost {
  readonly transactions: TransactionLayer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Timer C, ms (§16.8: more than 3 minutes). */
  readonly timerC: number;
  /** T1, ms, for the 64*T1 wait on a cancelled branch (§9.1). */
  readonly t1: number;
  /** Where a branch goes (RFC 3263 on its next hop, or a flow). */
  nextHop(ctx: ResponseContext, spec: BranchSpec): NextHop | Promise<NextHop>;
  /** The copy of the request for one attempt of a branch, with our Via (and Record-Route) on top. */
  build(ctx: ResponseContext, spec: BranchSpec, target: Target, connectionId: string | undefined): SipRequest;
  /** Sends a response upstream (on the server transaction, or statelessly when it has ended). */
  sendUpstream(ctx: ResponseContext, response: SipResponse): void;
  /** The context has nothing left to do. */
  finished(ctx: ResponseContext): void;
}

/** One branch (§16.6): a target, and the client transaction(s) that try it. */
export class Branch implements ClientTransactionListener {
  readonly ctx: ResponseContext;
  readonly spec: BranchSpec;
  tx: ClientTransaction | undefined = undefined;
  targets: Target[] = [];
  connectionId: string | undefined = undefined;
  next = 0;
  provisional = false;
  done = false;
  cancelWanted = false;
  cancelSent = false;
  timer: TimerHandle | undefined = undefined;
  /** Timer C, or the 64*T1 wait after our CANCEL. */
  readonly onTimer = (): void => {
    this.timer = undefined;
    this.ctx.branchTimer(this);
  };

  constructor(ctx: ResponseContext, spec: BranchSpec) {
    this.ctx = ctx;
    this.spec = spec;
  }

  onResponse(response: SipResponse, transaction: ClientTransaction): void {
    if (transaction === this.tx) this.ctx.branchResponse(this, response);
  }

  onError(error: TransactionError, transaction: ClientTransaction): void {
    if (transaction === this.tx) this.ctx.branchError(this, error);
  }
}

type FinalState = 'none' | '2xx' | 'other';

export class ResponseContext {
  readonly server: ServerTransaction;
  /** The request as received (never changed: the server transaction answers from it). */
  readonly request: SipRequest;
  readonly isInvite: boolean;
  /** For the host: what it decided when it processed the request. */
  readonly data: unknown;
  private readonly host: ContextHost;
  private readonly branches: Branch[] = [];
  private readonly finals: SipResponse[] = [];
  private groups: readonly (readonly BranchSpec[])[] = [];
  private group = 0;
  private active = 0;
  private final: FinalState = 'none';
  private started = false;
  private ended = false;
  /** Upstream CANCEL received (§16.10). */
  cancelled = false;

  constructor(host: ContextHost, server: ServerTransaction, data: unknown) {
    this.host = host;
    this.server = server;
    this.request = server.request;
    this.isInvite = server.request.method === 'INVITE';
    this.data = data;
  }

  /** Whether a final response went upstream. */
  get answered(): boolean {
    return this.final !== 'none';
  }

  /** Branches still waiting for a final response. */
  get pending(): number {
    return this.active;
  }

  /** Starts forwarding: each group (one q value) in parallel, the groups in sequence. */
  start(groups: readonly (readonly BranchSpec[])[]): void {
    if (this.started) return;
    this.started = true;
    this.groups = groups;
    if (this.cancelled || this.final !== 'none') {
      this.end();
      return;
    }
    this.nextGroup();
  }

  /** Answers upstream with a response built elsewhere (the registrar's), when no final went yet. */
  respond(response: SipResponse): void {
    if (this.final === 'none') {
      this.final = response.status >= 200 && response.status < 300 ? '2xx' : response.status >= 200 ? 'other' : 'none';
      this.host.sendUpstream(this, response);
    }
    if (!this.started && this.final !== 'none') {
      this.started = true;
      this.end();
    }
  }

  /** Answers upstream with a response of ours (a failure before any branch, or a rejection). */
  reply(status: number, options: { reason?: string; headers?: Array<[string, string]> } = {}): void {
    if (this.final === 'none') {
      this.final = status >= 200 && status < 300 ? '2xx' : 'other';
      this.host.sendUpstream(this, createResponse(this.request, status, options));
    }
    if (!this.started) {
      this.started = true;
      this.end();
    }
  }

  /**
   * §16.10: an upstream CANCEL for this INVITE. The pending branches are cancelled (§16.7 step
   * 10), and the INVITE is answered 487 at once unless a final went already.
   */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.final === 'none') {
      this.final = 'other';
      this.host.sendUpstream(this, createResponse(this.request, 487));
    }
    for (const b of this.branches) this.cancelBranch(b, 'SIP;cause=487;text="Request Terminated"');
    if (!this.started) {
      this.started = true;
      this.end();
    }
  }

  /** Ends everything now (server closing): branches terminated, timers cleared. */
  abort(): void {
    for (const b of this.branches) {
      this.clearTimer(b);
      b.tx?.terminate();
    }
    this.ended = true;
  }

  // ---- branches ----

  private nextGroup(): void {
    const specs = this.groups[this.group++];
    if (specs === undefined) {
      this.finish();
      return;
    }
    for (const spec of specs) {
      const b = new Branch(this, spec);
      this.branches.push(b);
      this.active++;
    }
    // Started after all are counted, so that one failing at once does not end the group early.
    for (let i = this.branches.length - specs.length; i < this.branches.length; i++) this.launch(this.branches[i]!);
  }

  private launch(b: Branch): void {
    let hop: NextHop | Promise<NextHop>;
    try {
      hop = this.host.nextHop(this, b.spec);
    } catch (err) {
      this.hopFailed(b, err);
      return;
    }
    if (hop instanceof Promise) hop.then((h) => this.launched(b, h), (err: unknown) => this.hopFailed(b, err));
    else this.launched(b, hop);
  }

  private hopFailed(b: Branch, err: unknown): void {
    this.host.logger.info({ err }, 'proxy: next hop failed');
    this.launched(b, { ok: false, status: 500, reason: 'Next hop failed' });
  }

  private launched(b: Branch, hop: NextHop): void {
    if (b.done) return;
    if (this.cancelled || this.final === '2xx' || this.ended) {
      this.branchEnded(b, undefined);
      return;
    }
    if (!hop.ok) {
      this.branchEnded(b, createResponse(this.request, hop.status, hop.reason === undefined ? {} : { reason: hop.reason }));
      return;
    }
    b.targets = hop.targets;
    b.connectionId = hop.connectionId;
    this.attempt(b);
  }

  /** Sends the branch to its next target (RFC 3263 §4.3: a failed target gives way to the next). */
  private attempt(b: Branch): void {
    const target = b.targets[b.next++]!;
    let tx: ClientTransaction;
    try {
      const copy = this.host.build(this, b.spec, target, b.connectionId);
      tx = this.host.transactions.sendRequest(copy, target, { listener: b, via: 'keep', connectionId: b.connectionId });
    } catch (err) {
      this.host.logger.info({ err }, 'proxy: could not send a branch');
      this.branchEnded(b, createResponse(this.request, 503));
      return;
    }
    b.tx = tx;
    b.provisional = false;
    if (this.isInvite) this.armTimer(b, this.host.timerC);
  }

  /** @internal A response on a branch's transaction. */
  branchResponse(b: Branch, response: SipResponse): void {
    const status = response.status;
    // §16.7 step 3: the top Via is ours; what goes upstream never carries it.
    response.removeFirst('via');
    if (status < 200) {
      if (b.done) return;
      const first = !b.provisional;
      b.provisional = true;
      if (this.isInvite) {
        // §16.8: a provisional restarts Timer C (but not the wait after our CANCEL).
        if (!b.cancelSent) this.armTimer(b, this.host.timerC);
        if (first && b.cancelWanted) this.sendCancel(b, 'SIP;cause=487;text="Request Terminated"');
      }
      // §16.7 step 5: 100 Trying is not forwarded; the server transaction sent its own.
      if (status > 100 && this.final === 'none') this.host.sendUpstream(this, response);
      return;
    }
    if (status < 300) {
      // §16.7 step 5 and RFC 6026: every 2xx of an INVITE goes upstream, from every fork, the
      // retransmissions too, even after another final went.
      const firstFinal = !b.done;
      if (firstFinal) this.branchDone(b);
      if (this.isInvite || this.final === 'none') {
        this.final = '2xx';
        this.host.sendUpstream(this, response);
      }
      if (firstFinal) {
        // §16.7 step 10: a 2xx ends the other branches.
        if (this.isInvite) for (const other of this.branches) if (other !== b) this.cancelBranch(other, 'SIP;cause=200;text="Call completed elsewhere"');
        this.afterBranch();
      }
      return;
    }
    if (b.done) return;
    this.branchDone(b);
    this.finals.push(response);
    // §16.7 step 10: a 6xx ends the other branches too, and no more groups are tried.
    if (status >= 600 && this.isInvite) for (const other of this.branches) if (other !== b) this.cancelBranch(other, 'SIP;cause=600;text="Busy Everywhere"');
    this.afterBranch();
  }

  /** @internal The branch's transaction failed: the next target, or a 408 / 503 of our own (§16.7 step 2, §16.9). */
  branchError(b: Branch, error: TransactionError): void {
    if (b.done) return;
    this.clearTimer(b);
    const timeout = error.code === 'ERR_TIMEOUT';
    if (!timeout && error.code === 'ERR_TRANSPORT' && b.next < b.targets.length && !this.cancelled && this.final === 'none') {
      this.attempt(b);
      return;
    }
    if (timeout && b.next < b.targets.length && !b.provisional && !this.cancelled && this.final === 'none') {
      this.attempt(b);
      return;
    }
    // §16.9: a transport error counts as a 503, a timeout as a 408.
    this.branchEnded(b, createResponse(this.request, timeout ? 408 : 503));
  }

  /** @internal Timer C, or the wait after our CANCEL, fired. */
  branchTimer(b: Branch): void {
    if (b.done) return;
    if (b.cancelSent || !b.provisional) {
      // §16.8: no provisional yet: as if a 408 came. §9.1: a cancelled INVITE with no final after
      // 64*T1 is taken as ended.
      b.tx?.terminate();
      this.branchEnded(b, createResponse(this.request, 408));
      return;
    }
    // §16.8: Timer C with a provisional: CANCEL the branch, whose 487 ends it.
    this.sendCancel(b, 'SIP;cause=408;text="Timer C"');
  }

  private cancelBranch(b: Branch, reason: string): void {
    if (b.done || b.cancelSent || !this.isInvite) return;
    if (b.tx === undefined) {
      // Not sent yet (next hop still being resolved): it will not be.
      this.branchEnded(b, undefined);
      return;
    }
    // §9.1: no CANCEL before a provisional; it goes when one comes (or Timer B ends the branch).
    if (!b.provisional) b.cancelWanted = true;
    else this.sendCancel(b, reason);
  }

  private sendCancel(b: Branch, reason: string): void {
    if (b.cancelSent || b.tx === undefined) return;
    b.cancelSent = true;
    try {
      const cancel = createCancel(b.tx.request, reason);
      this.host.transactions.sendRequest(cancel, b.tx.target, { via: 'keep', connectionId: b.connectionId });
    } catch (err) {
      this.host.logger.info({ err }, 'proxy: could not send CANCEL');
    }
    this.armTimer(b, 64 * this.host.t1);
  }

  /** Ends a branch with a final response of ours (or none, for a branch never sent). */
  private branchEnded(b: Branch, response: SipResponse | undefined): void {
    if (b.done) return;
    this.branchDone(b);
    if (response !== undefined) this.finals.push(response);
    this.afterBranch();
  }

  private branchDone(b: Branch): void {
    b.done = true;
    this.active--;
    this.clearTimer(b);
  }

  private afterBranch(): void {
    if (this.active > 0 || this.ended) return;
    const sixxx = this.finals.some((r) => r.status >= 600);
    if (this.final !== 'none' || this.cancelled || sixxx || this.group >= this.groups.length) this.finish();
    else this.nextGroup();
  }

  /** Every branch has ended: the best response goes upstream unless a final already went (§16.7 step 6). */
  private finish(): void {
    if (this.final === 'none') {
      this.final = 'other';
      let best = chooseBest(this.finals);
      if (best === undefined) best = createResponse(this.request, 408);
      else {
        mergeChallenges(best, this.finals);
        best = convert503(best, this.request);
      }
      this.host.sendUpstream(this, best);
    }
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.host.finished(this);
  }

  private armTimer(b: Branch, ms: number): void {
    const clock = this.host.clock;
    if (b.timer !== undefined) clock.clearTimeout(b.timer);
    b.timer = clock.setTimeout(b.onTimer, ms);
  }

  private clearTimer(b: Branch): void {
    if (b.timer !== undefined) {
      this.host.clock.clearTimeout(b.timer);
      b.timer = undefined;
    }
  }
}

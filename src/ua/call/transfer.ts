/**
 * Call transfer by REFER (RFC 3515, RFC 5589 §6 basic transfer) as one awaitable operation per
 * role, each with its own small state machine:
 *
 * - Transferor (`runTransferor`): REFER in the call's dialog with Refer-To and Referred-By (RFC
 *   3892, our AOR); a non-2xx is the outcome (403, 405, 501, 603...); after 202 the NOTIFYs'
 *   sipfrags are reported as progress until a final one: a 2xx means transferred, and the
 *   transferor ends the original call with BYE (RFC 5589 §6); a failure leaves the call as it
 *   was (still held, resumable); no final NOTIFY within the bound is a timeout (408).
 * - Transferee (`runTransferee`): after the 202, NOTIFY 100 Trying, hold the original call, call
 *   the Refer-To target with the REFER's Referred-By, NOTIFY each provisional and the final
 *   status; on success wait for the transferor's BYE (ending the call itself if none comes in
 *   time), on failure take the original call off hold.
 * - `Refer-Sub: false` (RFC 4488) both ways; RFC 5589 §7's attended transfer falling back to basic
 *   transfer (`fallbackToBlind`); REFER outside a dialog naming the call by Target-Dialog (RFC 4538,
 *   `UserAgent.refer`); the subscription refreshed by SUBSCRIBE (RFC 3515 §2.4.6) when the new
 *   call takes longer than its interval (the transferee answers each with a NOTIFY carrying the
 *   new expires; unrefreshed, it ends with `terminated;reason=timeout`).
 *
 * The Call is reached only through the host interfaces here (no import of call.ts: no cycle).
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { REFER_EVENT, ReferNotifier, ReferSubscriber, wantsReferSubscription, type DialogId, type ReferNotify, type ReferResult } from '../../dialog/index.js';
import { reasonPhrase } from '../../core/methods.js';
import { createResponse, formatNameAddr, formatTargetDialog, formatUri, isSipUri, type SipRequest, type SipResponse, type SipfragStatus } from '../../message/index.js';
import type { UasTransaction } from '../uas-transaction.js';
import { replacesFromUriHeaders } from './replaces.js';
import type { Outcome } from './types.js';

/** Timings of transfers; every field optional. */
export interface TransferConfig {
  /** Transferor: how long to wait for the final NOTIFY after the 202, ms (default 64 s). */
  readonly notifyTimeoutMs?: number;
  /** Transferee: how long to wait for the transferor's BYE after a successful transfer before ending the call itself, ms (default 32 s). */
  readonly byeWaitMs?: number;
  /** Transferee: the implicit subscription's interval, s (default 60). */
  readonly subscriptionExpires?: number;
  /**
   * Transferee: how long the target may take to answer before we give up (CANCEL, so the final
   * NOTIFY says 487 and the original call is taken off hold; RFC 5589 §6.2.2), ms (default 60 s,
   * inside the transferor's default NOTIFY wait of 64 s).
   */
  readonly answerTimeoutMs?: number;
}

const DEFAULT_NOTIFY_TIMEOUT_MS = 64_000;
const DEFAULT_BYE_WAIT_MS = 32_000;
const DEFAULT_ANSWER_TIMEOUT_MS = 60_000;

/** What the transferor's side needs from its Call. */
export interface TransferorHost {
  readonly clock: Clock;
  /** The REFER with these headers: in the call's dialog, or outside any with Target-Dialog (RFC 4538). */
  createRefer(headers: Array<[string, string]>): SipRequest;
  /** Our identity (a name-addr with our AOR): the Referred-By (RFC 3892 §3). */
  readonly referredBy: string;
  readonly config: TransferConfig | undefined;
  /** Sends a request of the call (with digest retry). */
  request(request: SipRequest): Promise<SipResponse>;
  /** Files the subscription so that the dialog's NOTIFYs reach it; the returned function unfiles it. */
  addSubscriber(subscriber: ReferSubscriber): () => void;
  progress(frag: SipfragStatus): void;
  /** Ends the original call with BYE (RFC 5589 §6). */
  hangup(): Promise<Outcome>;
  /** Refreshes the subscription of the REFER with CSeq `id` (SUBSCRIBE, RFC 3515 §2.4.6); absent: no refresh. */
  subscribe?(id: number): Promise<unknown>;
}

/** Options of one transfer, as the transferor gives them to `Call.transfer`. */
export interface TransferOptions {
  /**
   * `false`: ask for no implicit subscription (RFC 4488 §4: `Refer-Sub: false` on the REFER, and
   * `Supported: norefersub`). When the 2xx echoes `Refer-Sub: false` no NOTIFY will come: the
   * transfer settles on the 2xx alone with `{ ok: true, subscription: false }`, and the original
   * call is NOT ended: the transferor learns nothing of the new call and decides itself when to
   * hang up (the transferee ends the call itself after its BYE wait otherwise). A recipient that
   * ignores the header (no `Refer-Sub: false` in its 2xx) creates the subscription as usual and
   * the transfer runs as without the option. Default true.
   */
  readonly referSub?: boolean;
  /**
   * Attended transfer only (RFC 5589 §7, "attended transfer falling back to basic transfer"):
   * when the transferee reports 481 for its INVITE with Replaces (the consultation call is gone),
   * retry at once as a blind transfer to the other call's remote URI. Default false.
   */
  readonly fallbackToBlind?: boolean;
}

/**
 * How a transfer ended for the transferor (`outcome` names it, the state machine):
 * - `transferred`: a 2xx sipfrag came; the original call was ended with BYE (RFC 5589 §6);
 * - `accepted`: the REFER's 2xx echoed `Refer-Sub: false` (RFC 4488): no NOTIFY will tell more;
 * - `rejected`: the REFER itself was refused (`status`: 403, 405, 501, 603, 481...);
 * - `failed`: the target's failure from the final NOTIFY (486, 481...), or the subscription ended
 *   without a final status (487), or the REFER could not be sent (503);
 * - `timeout`: no response to the REFER, or no final NOTIFY in time (408).
 * On anything but `transferred` the original call is left exactly as it was (held if the
 * application held it): `resume()` takes it back.
 */
export type TransferOutcome =
  | { readonly ok: true; readonly outcome: 'transferred' }
  | { readonly ok: true; readonly outcome: 'accepted'; readonly subscription: false }
  | { readonly ok: false; readonly outcome: 'rejected' | 'failed' | 'timeout'; readonly status: number; readonly reason: string };

/**
 * The transferor's side (see the module comment); `referTo` is the Refer-To value, a name-addr;
 * `fallbackTo` (a URI) is the blind transfer to retry when an attended one comes back with 481.
 */
export async function runTransferor(host: TransferorHost, referTo: string, options: TransferOptions = {}, fallbackTo?: string): Promise<TransferOutcome> {
  const outcome = await referOnce(host, referTo, options);
  if (!outcome.ok && outcome.outcome === 'failed' && outcome.status === 481 && fallbackTo !== undefined && options.fallbackToBlind === true) {
    // RFC 5589 §7: the Replaces matched nothing at the target; fall back to basic transfer (§6).
    return referOnce(host, `<${fallbackTo}>`, options);
  }
  return outcome;
}

async function referOnce(host: TransferorHost, referTo: string, options: TransferOptions): Promise<TransferOutcome> {
  const headers: Array<[string, string]> = [['Refer-To', referTo], ['Referred-By', host.referredBy]];
  // RFC 4488 §4: ask for no implicit subscription.
  // (Supported, not Require: a recipient without the extension then just creates the subscription.)
  if (options.referSub === false) headers.push(['Refer-Sub', 'false'], ['Supported', 'norefersub']);
  const refer = host.createRefer(headers);
  let settle!: (result: ReferResult) => void;
  const done = new Promise<ReferResult>((resolve) => {
    settle = resolve;
  });
  // Filed before the REFER goes: the first NOTIFY may overtake the 202 (RFC 3515 §2.4.4).
  const subscriber = new ReferSubscriber({
    // A getter: a digest retry (RFC 3261 §22.2) sends the REFER again with a higher CSeq, and the
    // Event id of its NOTIFYs is that one (RFC 3515 §2.4.6).
    id: () => refer.cseq.seq,
    clock: host.clock,
    timeoutMs: host.config?.notifyTimeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS,
    onProgress: (frag) => host.progress(frag),
    onDone: settle,
    ...(host.subscribe === undefined ? {} : { refresh: () => void host.subscribe?.(refer.cseq.seq).catch(() => undefined) }),
  });
  const unfile = host.addSubscriber(subscriber);
  let response: SipResponse;
  try {
    response = await host.request(refer);
  } catch (err) {
    subscriber.close();
    unfile();
    const timeout = (err as { code?: unknown } | undefined)?.code === 'ERR_TIMEOUT';
    // RFC 3261 §8.1.3.1: a timeout is a 408, a transport failure a 503.
    return { ok: false, outcome: timeout ? 'timeout' : 'failed', status: timeout ? 408 : 503, reason: err instanceof Error ? err.message : String(err) };
  }
  if (response.status < 200 || response.status >= 300) {
    // RFC 3515 §2.4.2 (403, 603), RFC 3261 §21.4.6 (405: the peer does not allow REFER), §21.5.2
    // (501: it does not implement it): the REFER is refused; nothing was started.
    subscriber.close();
    unfile();
    return { ok: false, outcome: 'rejected', status: response.status, reason: response.reasonPhrase };
  }
  let noSubscription = false;
  try {
    noSubscription = response.referSub?.value === false;
  } catch {
    // A Refer-Sub we cannot read: take the subscription as created (RFC 4488 §4's default).
  }
  if (noSubscription) {
    // RFC 4488 §4: no subscription: the 2xx is all we learn; the caller decides when to BYE.
    subscriber.close();
    unfile();
    return { ok: true, outcome: 'accepted', subscription: false };
  }
  const result = await done;
  unfile();
  switch (result.kind) {
    case 'final': {
      const { status, reason } = result.frag;
      if (status >= 200 && status < 300) {
        await host.hangup();
        return { ok: true, outcome: 'transferred' };
      }
      return { ok: false, outcome: 'failed', status, reason };
    }
    case 'terminated':
      return { ok: false, outcome: 'failed', status: 487, reason: 'the subscription (or the call) ended without a final status' };
    case 'timeout':
      return { ok: false, outcome: 'timeout', status: 408, reason: 'no final NOTIFY in time (RFC 3515 §2.4.7)' };
  }
}

/**
 * RFC 4538 §7: the Target-Dialog naming our dialog `id` as the REFER's recipient sees it (its
 * local tag is our remote tag).
 */
export function targetDialogFor(id: DialogId): string {
  return formatTargetDialog({ callId: id.callId, localTag: id.remoteTag, remoteTag: id.localTag, params: {} });
}

/** The new call the transferee places to the target, as transfer.ts sees it. */
export interface TransferCall {
  readonly id: string;
  readonly established: Promise<Outcome>;
  onRinging(listener: (status: number) => void): void;
  /** Gives up on it (CANCEL while it rings). */
  hangup(): Promise<unknown>;
}

/** What the transferee's side needs from its Call. */
export interface TransfereeHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: TransferConfig | undefined;
  /** Settles when the original call has ended. */
  readonly ended: Promise<unknown>;
  /** Sends a NOTIFY in the original dialog; settles when answered (or failed). */
  sendNotify(notify: ReferNotify): Promise<void>;
  /**
   * Files the subscription so that the subscriber's SUBSCRIBEs (refreshes, RFC 3515 §2.4.6) reach
   * `refresh` (after their 200); the returned function unfiles it.
   */
  addNotifier?(notifier: ReferNotifier, refresh: (expires: number) => void): () => void;
  hold(): Promise<Outcome>;
  resume(): Promise<Outcome>;
  /** Places the new call; undefined when the user agent cannot (closed). */
  startCall(target: string, headers: Array<[string, string]>): TransferCall | undefined;
  hangup(): Promise<Outcome>;
  /** Files a cleanup run when the original call ends. */
  onEnd(cleanup: () => void): void;
  transferred(target: string, callId: string): void;
  failed(status: number, reason: string): void;
}

/** What a REFER asks for: the target, and the Replaces its INVITE carries (attended transfer, RFC 5589 §7). */
export interface ReferTarget {
  readonly target: string;
  readonly replaces: string | undefined;
}

/** The target of a REFER, or a status to refuse it with (RFC 3515 §2.4.2). */
export function referTarget(refer: SipRequest): ReferTarget | { status: number; reason: string } {
  let referTo;
  try {
    referTo = refer.referTo;
  } catch {
    return { status: 400, reason: 'Bad Refer-To' };
  }
  if (referTo === undefined) return { status: 400, reason: 'Missing Refer-To' };
  // RFC 3515 §2.4.2: a URI scheme we cannot act on is refused.
  const uri = referTo.uri;
  if (!isSipUri(uri)) return { status: 416, reason: 'Unsupported URI Scheme' };
  let replaces: string | undefined;
  try {
    replaces = replacesFromUriHeaders(uri.headers);
  } catch {
    return { status: 400, reason: 'Bad Replaces in Refer-To' };
  }
  // Only Replaces is taken from the URI's headers (RFC 3261 §19.1.5 leaves the rest to our judgement).
  return { target: formatUri({ ...uri, headers: {} }), replaces };
}

/** The transferee's side of a REFER already answered 202 (see the module comment). */
export async function runTransferee(host: TransfereeHost, refer: SipRequest, what: ReferTarget): Promise<Outcome> {
  const target = what.target;
  const notifier = wantsReferSubscription(refer)
    ? new ReferNotifier({
        id: refer.cseq.seq,
        clock: host.clock,
        expires: host.config?.subscriptionExpires ?? 60,
        onExpired: (n) => send(n),
      })
    : undefined;
  let chain = Promise.resolve();
  // RFC 6665 §4.2.2: one NOTIFY at a time, in order.
  const send = (n: ReferNotify): void => {
    chain = chain.then(() => host.sendNotify(n)).catch((err: unknown) => host.logger.info({ err }, 'NOTIFY failed'));
  };
  const notify = (status: number, reason: string): void => {
    if (notifier !== undefined && !notifier.terminated) send(notifier.notify(status, reason));
  };
  host.onEnd(() => notifier?.close());
  if (notifier !== undefined && host.addNotifier !== undefined) {
    // RFC 6665 §4.2.1.2: a refresh gets a NOTIFY at once, with the new expires.
    const unfile = host.addNotifier(notifier, (expires) => {
      const n = notifier.refresh(expires);
      if (n !== undefined) send(n);
    });
    host.onEnd(unfile);
  }
  // RFC 3515 §2.4.5: the first NOTIFY follows the 202 at once.
  notify(100, 'Trying');
  // RFC 5589 §6: the transferee holds the original call while it calls the target.
  await host.hold().catch(() => undefined);
  const headers: Array<[string, string]> = [];
  // RFC 3892 §3: the Referred-By goes into the triggered request (always with a scheme).
  const referredBy = refer.referredBy;
  if (referredBy !== undefined) headers.push(['Referred-By', formatNameAddr(referredBy)]);
  // RFC 5589 §7, RFC 3891 §3: an attended transfer's INVITE replaces the transferor's call with the target.
  if (what.replaces !== undefined) headers.push(['Replaces', what.replaces]);
  const call = host.startCall(target, headers);
  if (call === undefined) {
    notify(480, reasonPhrase(480));
    await chain;
    await host.resume().catch(() => undefined);
    host.failed(480, reasonPhrase(480));
    return { ok: false, status: 480, reason: reasonPhrase(480) };
  }
  call.onRinging((status) => notify(status, reasonPhrase(status)));
  // RFC 5589 §6.2.2: the target does not answer: the transferee gives up (CANCEL, then 487).
  let noAnswer: TimerHandle | undefined = host.clock.setTimeout(() => {
    noAnswer = undefined;
    host.logger.info({ target }, 'the transfer target did not answer in time: cancelling');
    void call.hangup().catch(() => undefined);
  }, host.config?.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS);
  const outcome = await call.established;
  if (noAnswer !== undefined) host.clock.clearTimeout(noAnswer);
  noAnswer = undefined;
  if (outcome.ok) {
    notify(200, reasonPhrase(200));
    await chain;
    host.transferred(target, call.id);
    await waitForBye(host);
    return outcome;
  }
  const reason = outcome.reason.replace(/^\d{3} /, '');
  notify(outcome.status, reason);
  await chain;
  await host.resume().catch(() => undefined);
  host.failed(outcome.status, reason);
  return outcome;
}

/** RFC 5589 §6: the transferor BYEs the original call; if it does not in time, we do. */
async function waitForBye(host: TransfereeHost): Promise<void> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = host.clock.setTimeout(() => resolve('timeout'), host.config?.byeWaitMs ?? DEFAULT_BYE_WAIT_MS);
  });
  host.onEnd(() => {
    if (timer !== undefined) host.clock.clearTimeout(timer);
    timer = undefined;
  });
  const first = await Promise.race([host.ended.then(() => 'ended' as const), timeout]);
  if (timer !== undefined) host.clock.clearTimeout(timer);
  if (first === 'timeout') await host.hangup();
}

/** The subscriptions a dialog's accepted REFERs created, each with what a refresh does. */
export type ReferNotifiers = Map<ReferNotifier, (expires: number) => void>;

/** The longest interval a refresh is granted, s (RFC 6665 §4.2.1.1 lets the notifier shorten it). */
const MAX_SUBSCRIPTION_EXPIRES = 3600;

/**
 * RFC 3515 §2.4.6, RFC 6665 §4.2.1: a SUBSCRIBE in a dialog where we accepted REFERs refreshes
 * (or, with Expires: 0, ends) the subscription its `Event: refer;id=` names (the only one when
 * there is no id): 200 with the granted Expires, then the notifier's NOTIFY. 489 for another
 * event package (RFC 6665 §4.2.1.1), 481 for no such subscription (§4.2.1.2).
 */
export function answerReferSubscribe(request: SipRequest, uas: UasTransaction, notifiers: ReferNotifiers, defaultExpires: number): void {
  let event;
  try {
    event = request.event;
  } catch {
    event = undefined;
  }
  if (event === undefined || event.type !== REFER_EVENT) {
    uas.respond(createResponse(request, 489));
    return;
  }
  for (const n of [...notifiers.keys()]) if (n.terminated) notifiers.delete(n);
  const id = event.params.id;
  const live = [...notifiers.keys()];
  const found = id === undefined || id === null ? (live.length === 1 ? live[0] : undefined) : live.find((n) => String(n.id) === id);
  const refresh = found === undefined ? undefined : notifiers.get(found);
  if (refresh === undefined) {
    uas.respond(createResponse(request, 481));
    return;
  }
  const expires = Math.min(request.expires ?? defaultExpires, MAX_SUBSCRIPTION_EXPIRES);
  uas.respond(createResponse(request, 200, { headers: [['Expires', String(expires)]] }));
  refresh(expires);
}

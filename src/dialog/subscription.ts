/**
 * The implicit subscription a REFER creates (RFC 3515 §2.4.4, RFC 6665): the notifier (who
 * accepted the REFER) reports the referenced request's progress in NOTIFYs carrying
 * message/sipfrag bodies (RFC 3420), with `Event: refer;id=<CSeq of the REFER>` (RFC 3515 §2.4.6,
 * so that several REFERs in one dialog are told apart) and `Subscription-State: active;expires=N`
 * until the final one, `terminated;reason=noresource` (RFC 6665 §4.2.2, RFC 3515 §2.4.7).
 * `Refer-Sub: false` (RFC 4488 §4) asks for no subscription at all.
 *
 * Both sides keep time with the injected clock: the notifier's subscription expires after its
 * interval (it then sends its terminating NOTIFY), and the subscriber gives up when no final
 * NOTIFY comes by a bound or the subscription's expiry.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { SipRequest } from '../message/index.js';
import { formatSipfrag, parseSipfrag, SIPFRAG_TYPE, type SipfragStatus } from '../message/sipfrag.js';

/** The event package of REFER (RFC 3515 §3). */
export const REFER_EVENT = 'refer';

/** RFC 4488 §4: `Refer-Sub: false` on a REFER asks for no implicit subscription. */
export function wantsReferSubscription(refer: SipRequest): boolean {
  return refer.referSub?.value !== false;
}

/** A NOTIFY to send: its extra headers, body and content type. */
export interface ReferNotify {
  readonly headers: Array<[string, string]>;
  readonly body: string;
  readonly contentType: string;
  /** Whether this NOTIFY terminates the subscription. */
  readonly final: boolean;
}

export interface ReferNotifierOptions {
  /** The CSeq number of the REFER: the Event's `id` (RFC 3515 §2.4.6). */
  readonly id: number;
  readonly clock: Clock;
  /** The subscription's interval in seconds (RFC 6665 §4.2.1.1); default 60. */
  readonly expires?: number;
  /** The subscription expired before a final status: send the NOTIFY given (RFC 6665 §4.2.2). */
  readonly onExpired?: (notify: ReferNotify) => void;
}

/** The notifier side of a REFER's subscription. */
export class ReferNotifier {
  readonly id: number;
  readonly #clock: Clock;
  readonly #options: ReferNotifierOptions;
  #expiresAt = 0;
  #timer: TimerHandle | undefined;
  #terminated = false;
  #last: SipfragStatus | undefined;

  constructor(options: ReferNotifierOptions) {
    this.id = options.id;
    this.#clock = options.clock;
    this.#options = options;
    this.#armExpiry(options.expires ?? 60);
  }

  #armExpiry(expires: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#expiresAt = this.#clock.now() + expires * 1000;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#terminated) return;
      // RFC 6665 §4.2.2: the notifier ends the subscription with a NOTIFY; the body still says
      // where the referenced request stands (RFC 3515 §2.4.7: "the last known status").
      this.#options.onExpired?.(this.#lastStatus(true, 'timeout'));
    }, expires * 1000);
  }

  #lastStatus(final: boolean, why: string): ReferNotify {
    const last = this.#last;
    return this.#build(last?.status ?? 100, last?.reason ?? 'Trying', final, why);
  }

  /**
   * The subscriber refreshed the subscription with a SUBSCRIBE (RFC 3515 §2.4.6, RFC 6665
   * §4.2.1.2): it now lasts `expires` seconds more; the NOTIFY to send at once (RFC 6665
   * §4.2.1.2) repeats the last status with the new expires, or terminates the subscription when
   * `expires` is 0 (an unsubscription, RFC 6665 §4.2.1.4). Undefined once terminated.
   */
  refresh(expires: number): ReferNotify | undefined {
    if (this.#terminated) return undefined;
    if (expires <= 0) return this.#lastStatus(true, 'timeout');
    this.#armExpiry(expires);
    return this.#lastStatus(false, 'noresource');
  }

  get terminated(): boolean {
    return this.#terminated;
  }

  /** The NOTIFY reporting `status`; a final status (>= 200) terminates the subscription. */
  notify(status: number, reason: string): ReferNotify {
    if (this.#terminated) throw new Error('the refer subscription is terminated');
    return this.#build(status, reason, status >= 200, 'noresource');
  }

  /** Stops the expiry timer without signalling (the dialog is gone). */
  close(): void {
    this.#terminated = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #build(status: number, reason: string, final: boolean, why: string): ReferNotify {
    this.#last = { status, reason, headers: [] };
    let state: string;
    if (final) {
      state = `terminated;reason=${why}`;
      this.close();
    } else {
      const left = Math.max(0, Math.ceil((this.#expiresAt - this.#clock.now()) / 1000));
      state = `active;expires=${left}`;
    }
    return {
      headers: [['Event', `${REFER_EVENT};id=${this.id}`], ['Subscription-State', state]],
      body: formatSipfrag(status, reason),
      contentType: SIPFRAG_TYPE,
      final,
    };
  }
}

/** How a REFER's subscription ended for its subscriber. */
export type ReferResult =
  | { readonly kind: 'final'; readonly frag: SipfragStatus }
  | { readonly kind: 'terminated'; readonly frag: SipfragStatus | undefined }
  | { readonly kind: 'timeout' };

export interface ReferSubscriberOptions {
  /**
   * The CSeq number of our REFER; a function when it may change (a REFER sent again with
   * credentials takes a higher CSeq, RFC 3261 §22.2, and its NOTIFYs carry that one).
   */
  readonly id: number | (() => number);
  readonly clock: Clock;
  /** How long to wait for the final NOTIFY, ms. */
  readonly timeoutMs: number;
  /** Each NOTIFY's sipfrag, in order. */
  readonly onProgress?: (frag: SipfragStatus) => void;
  /** Called once, when the subscription ends. */
  readonly onDone: (result: ReferResult) => void;
  /**
   * Refreshes the subscription (a SUBSCRIBE, RFC 3515 §2.4.6) when it would expire before the
   * final NOTIFY's bound: called half way through each interval the notifier gives. Without it
   * the subscription's expiry ends the wait (a timeout).
   */
  readonly refresh?: () => void;
}

/** The subscriber side: the REFER's sender, reading NOTIFYs. */
export class ReferSubscriber {
  readonly #options: ReferSubscriberOptions;
  readonly #deadline: number;
  #timer: TimerHandle | undefined;
  #refreshTimer: TimerHandle | undefined;
  #done = false;
  #last: SipfragStatus | undefined;

  constructor(options: ReferSubscriberOptions) {
    this.#options = options;
    this.#deadline = options.clock.now() + options.timeoutMs;
    this.#arm(options.timeoutMs);
  }

  /** The CSeq number of the REFER as last sent: the Event `id` of its NOTIFYs (RFC 3515 §2.4.6). */
  get id(): number {
    const id = this.#options.id;
    return typeof id === 'function' ? id() : id;
  }

  get done(): boolean {
    return this.#done;
  }

  /**
   * Whether a NOTIFY belongs to this subscription: Event `refer` with our id (a NOTIFY without
   * an id is taken too, as RFC 3515 §2.4.6 lets a single REFER's NOTIFYs go without one).
   */
  matches(notify: SipRequest): boolean {
    const event = notify.event;
    if (event === undefined || event.type !== REFER_EVENT) return false;
    const id = event.params.id;
    return id === undefined || id === null || id === String(this.id);
  }

  /**
   * A NOTIFY of this subscription (matches() said so). Returns the status to answer it with:
   * 200, or 400 for a body that is not a sipfrag status line, or 481 once the subscription is over.
   */
  receive(notify: SipRequest): number {
    if (this.#done) return 481;
    const state = notify.subscriptionState;
    if (state === undefined) return 400;
    let frag: SipfragStatus | undefined;
    if (notify.body.length > 0) {
      const ct = notify.contentType;
      if (ct === undefined || `${ct.type}/${ct.subtype}`.toLowerCase() !== SIPFRAG_TYPE) return 415;
      try {
        frag = parseSipfrag(notify.bodyText);
      } catch {
        return 400;
      }
    }
    if (frag !== undefined) {
      this.#last = frag;
      this.#options.onProgress?.(frag);
    }
    if (state.state === 'terminated') {
      const last = this.#last;
      this.#finish(last !== undefined && last.status >= 200 ? { kind: 'final', frag: last } : { kind: 'terminated', frag: last });
    } else if (frag !== undefined && frag.status >= 200) {
      // A final status in an active NOTIFY: the outcome is known; the terminating NOTIFY may follow.
      this.#finish({ kind: 'final', frag });
    } else if (state.expires !== undefined) {
      const bound = this.#deadline - this.#options.clock.now();
      const refresh = this.#options.refresh;
      if (refresh !== undefined && state.expires * 1000 < bound) {
        // RFC 6665 §4.1.2.1: refreshed before it expires; the bound stays (the notifier's
        // terminating NOTIFY ends the wait sooner if the refresh fails).
        this.#arm(bound);
        this.#clearRefresh();
        this.#refreshTimer = this.#options.clock.setTimeout(() => {
          this.#refreshTimer = undefined;
          if (!this.#done) refresh();
        }, (state.expires * 1000) / 2);
      } else {
        // RFC 6665 §4.1.2.3: the subscription lasts as the notifier says; not past our bound.
        this.#clearRefresh();
        this.#arm(Math.min(bound, state.expires * 1000));
      }
    }
    return 200;
  }

  /** The dialog is gone: the subscription ends now, as terminated with the last status seen. */
  end(): void {
    this.#finish({ kind: 'terminated', frag: this.#last });
  }

  /** Gives up without a result callback (the caller lost interest). */
  close(): void {
    this.#done = true;
    this.#disarm();
  }

  #arm(ms: number): void {
    this.#disarm();
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#finish({ kind: 'timeout' });
    }, Math.max(0, ms));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#clearRefresh();
  }

  #clearRefresh(): void {
    if (this.#refreshTimer !== undefined) this.#options.clock.clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
  }

  #finish(result: ReferResult): void {
    if (this.#done) return;
    this.#done = true;
    this.#disarm();
    this.#options.onDone(result);
  }
}

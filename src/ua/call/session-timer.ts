/**
 * Session timers (RFC 4028): the negotiation of Session-Expires and Min-SE on INVITE, re-INVITE
 * and UPDATE, and the timers of one call.
 *
 * - UAC (§7): every INVITE carries `Supported: timer` (with the UA's capability headers),
 *   Session-Expires and Min-SE; a 422 is retried once with the larger Min-SE it gives (§7.4).
 *   The 2xx's Session-Expires says the interval and who refreshes (§7.2); none means no timer.
 * - UAS (§9): a Session-Expires below our Min-SE gets 422 with our Min-SE; otherwise the 2xx
 *   carries Session-Expires with the refresher (the request's choice, else ours when the UAC
 *   supports timers, else `uas`) and `Require: timer` when the UAC supports timers.
 * - The refresher refreshes at half the interval (§10), by UPDATE when the peer allows it (no
 *   offer, so no offer/answer to disturb), else by a re-INVITE. Both sides end the call with a
 *   BYE when no refresh has come by the expiry minus min(32 s, a third of the interval) (§10:
 *   "The minimum of 32 seconds and one third of the session interval is RECOMMENDED").
 *
 * Every timer runs on the injected Clock.
 */
import { randomInt } from 'node:crypto';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Dialog } from '../../dialog/index.js';
import { formatSessionExpires, parseMessage, SipRequest, type SipResponse } from '../../message/index.js';
import type { SipEndpoint } from '../endpoint.js';
import type { Outcome } from './types.js';

/** RFC 4028 §4: Session-Expires and Min-SE are never below 90 seconds. */
export const MIN_SESSION_EXPIRES = 90;

/** `UserAgentOptions.sessionTimer`. */
export interface SessionTimerOptions {
  /** The session interval we ask for, seconds (default 1800, RFC 4028 §4 recommends it). */
  expires?: number;
  /** The smallest interval we accept, seconds (default and floor 90, §5). */
  minSE?: number;
  /**
   * Who we would like to refresh when the choice is ours (§7.1, §9): `local` (this UA) or
   * `remote` (the peer). Default: no preference as UAC (the UAS chooses), the UAC as UAS.
   */
  refresher?: 'local' | 'remote';
}

/** The options with their defaults, checked. */
export interface SessionTimerConfig {
  readonly expires: number;
  readonly minSE: number;
  readonly refresher: 'local' | 'remote' | undefined;
}

/** The agreed session timer of a call: the interval, and whether we refresh. */
export interface SessionTimerAgreement {
  readonly interval: number;
  readonly weRefresh: boolean;
}

export function sessionTimerConfig(options: SessionTimerOptions = {}): SessionTimerConfig {
  const minSE = Math.max(MIN_SESSION_EXPIRES, Math.floor(options.minSE ?? MIN_SESSION_EXPIRES));
  const expires = Math.max(minSE, Math.floor(options.expires ?? 1800));
  if (!Number.isFinite(expires) || !Number.isFinite(minSE)) throw new RangeError('sessionTimer expires and minSE are numbers of seconds');
  return { expires, minSE, refresher: options.refresher };
}

/** The headers of a session refresh request we send (§7.1, §7.4): Session-Expires and Min-SE. */
export function requestHeaders(config: SessionTimerConfig, interval = config.expires, refresher?: 'uac' | 'uas', minSE = config.minSE): Array<[string, string]> {
  return [
    ['Session-Expires', formatSessionExpires({ deltaSeconds: interval, ...(refresher === undefined ? {} : { refresher }), params: {} })],
    ['Min-SE', String(minSE)],
  ];
}

/** The refresher param of an initial INVITE of ours: our preference, if any. */
function initialRefresher(config: SessionTimerConfig): 'uac' | 'uas' | undefined {
  return config.refresher === 'local' ? 'uac' : config.refresher === 'remote' ? 'uas' : undefined;
}

/** The headers of our initial INVITE (§7.1). */
export function inviteHeaders(config: SessionTimerConfig): Array<[string, string]> {
  return requestHeaders(config, config.expires, initialRefresher(config));
}

/**
 * §7.4: the INVITE again after a 422, with Session-Expires and Min-SE raised to the 422's Min-SE
 * and the next CSeq; undefined when the 422 gives nothing larger than what we sent (no loop).
 */
export function retryAfter422(invite: SipRequest, response: SipResponse, config: SessionTimerConfig): SipRequest | undefined {
  const required = response.minSE;
  const sent = invite.sessionExpires?.deltaSeconds ?? 0;
  if (required === undefined || required <= sent) return undefined;
  const retry = parseMessage(invite.toBuffer());
  if (!(retry instanceof SipRequest)) return undefined;
  retry.removeAll('Via');
  retry.set('CSeq', `${Math.max(invite.cseq.seq, response.cseq.seq) + 1} INVITE`);
  const [se, minSE] = requestHeaders(config, Math.max(required, config.expires), initialRefresher(config), required);
  retry.set(se[0], se[1]);
  retry.set(minSE[0], minSE[1]);
  return retry;
}

/**
 * §7.2: the timer a 2xx to an INVITE (or re-INVITE, UPDATE) sets; undefined when it has none.
 * `role`: ours in that transaction: `uac` for a 2xx we received, `uas` for one we sent.
 */
export function agreementFromResponse(response: SipResponse, role: 'uac' | 'uas' = 'uac'): SessionTimerAgreement | undefined {
  const se = response.sessionExpires;
  if (se === undefined) return undefined;
  // §7.2: the UAS always names the refresher; a 2xx without one is read as the UAC refreshing.
  return { interval: se.deltaSeconds, weRefresh: (se.refresher ?? 'uac') === role };
}

/** The UAS's verdict on a request (§9): a 422, or the headers of the 2xx and the timer they set. */
export type UasVerdict =
  | { readonly ok: false; readonly status: 422; readonly headers: Array<[string, string]> }
  | { readonly ok: true; readonly headers: Array<[string, string]>; readonly agreement: SessionTimerAgreement };

/**
 * §9: what we answer to an INVITE, re-INVITE or UPDATE as UAS. `current` is the timer in force
 * (for a refresh), which keeps the refresher where it was unless the request names one.
 */
export function uasVerdict(request: SipRequest, config: SessionTimerConfig, current?: SessionTimerAgreement): UasVerdict {
  const se = request.sessionExpires;
  const uacSupports = request.supported.some((t) => t.toLowerCase() === 'timer') || request.require.some((t) => t.toLowerCase() === 'timer');
  if (se !== undefined && se.deltaSeconds < config.minSE) {
    // §9: "If the value is less than the Min-SE, the UAS MUST reject it with a 422 ... [with] a Min-SE header field".
    return { ok: false, status: 422, headers: [['Min-SE', String(config.minSE)]] };
  }
  // §9: the UAS may lower the interval, never below the request's Min-SE (nor ours).
  const floor = Math.max(config.minSE, request.minSE ?? MIN_SESSION_EXPIRES);
  const interval = se === undefined ? Math.max(config.expires, floor) : Math.max(Math.min(se.deltaSeconds, config.expires), floor);
  let refresher: 'uac' | 'uas';
  if (!uacSupports) refresher = 'uas';
  else if (se?.refresher !== undefined) refresher = se.refresher;
  else if (current !== undefined) refresher = current.weRefresh ? 'uas' : 'uac';
  else refresher = config.refresher === 'local' ? 'uas' : 'uac';
  const headers: Array<[string, string]> = [['Session-Expires', formatSessionExpires({ deltaSeconds: interval, refresher, params: {} })]];
  if (uacSupports) headers.push(['Require', 'timer']);
  return { ok: true, headers, agreement: { interval, weRefresh: refresher === 'uas' } };
}

/** What one call's session timer needs from its call. */
export interface SessionTimerHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly endpoint: SipEndpoint;
  readonly dialog: Dialog;
  readonly config: SessionTimerConfig;
  /** Capability headers of our requests (Allow, Supported). */
  readonly capabilityHeaders: Array<[string, string]>;
  /** The peer lists UPDATE in Allow: refreshes go by UPDATE (RFC 4028 §7.4, RFC 3311). */
  readonly peerAllowsUpdate: boolean;
  /** A refresh by re-INVITE (no change to the session, RFC 3264 §8), through the call's queue. */
  reinvite(): Promise<Outcome>;
  /** §10: no refresh came in time: the call ends with a BYE. */
  expired(): void;
  /** A refresh's 481 or 408 ended the dialog (RFC 3261 §12.2.1.2). */
  dialogLost(status: number, reason: string): void;
}

/** One call's session timer. */
export class SessionTimer {
  readonly #host: SessionTimerHost;
  #agreement: SessionTimerAgreement | undefined;
  #refreshTimer: TimerHandle | undefined;
  #expiryTimer: TimerHandle | undefined;
  #closed = false;

  constructor(host: SessionTimerHost) {
    this.#host = host;
  }

  /** The timer in force, if any. */
  get agreement(): SessionTimerAgreement | undefined {
    return this.#agreement;
  }

  /** (Re)starts the timers for `agreement` (a refresh happened now); undefined stops them. */
  start(agreement: SessionTimerAgreement | undefined): void {
    this.#clear();
    this.#agreement = agreement;
    if (agreement === undefined || this.#closed) return;
    const { clock } = this.#host;
    const ms = agreement.interval * 1000;
    if (agreement.weRefresh) {
      this.#refreshTimer = clock.setTimeout(() => {
        this.#refreshTimer = undefined;
        void this.#refresh();
      }, ms / 2);
    }
    // §10: "slightly before the session expiration. The minimum of 32 seconds and one third of the
    // session interval is RECOMMENDED."
    const margin = Math.min(32_000, ms / 3);
    this.#expiryTimer = clock.setTimeout(() => {
      this.#expiryTimer = undefined;
      if (this.#closed) return;
      this.#host.logger.info({ interval: agreement.interval }, 'no session refresh in time: BYE (RFC 4028 §10)');
      this.#host.expired();
    }, ms - margin);
  }

  /** RFC 4028 §7.4: Session-Expires and Min-SE for a re-INVITE of ours (the timer in force, if any). */
  reinviteHeaders(): Array<[string, string]> {
    const a = this.#agreement;
    const config = this.#host.config;
    return requestHeaders(config, a?.interval ?? config.expires, a === undefined ? undefined : a.weRefresh ? 'uac' : 'uas');
  }

  /** RFC 4028 §9: our verdict on the peer's re-INVITE: a 422, or the headers of our 2xx. */
  verdict(request: SipRequest): UasVerdict {
    return uasVerdict(request, this.#host.config, this.#agreement);
  }

  /**
   * RFC 4028 §10: a session refresh succeeded: a 2xx to a re-INVITE or UPDATE, received for ours
   * (`uac`) or sent for the peer's (`uas`). The timer restarts with the interval and refresher
   * of that 2xx (§7.2); a 2xx without Session-Expires turns the timer off for the session.
   */
  refreshedBy(response: SipResponse, role: 'uac' | 'uas'): void {
    if (this.#closed) return;
    this.start(agreementFromResponse(response, role));
  }

  /** A refresh we accepted by other means (an UPDATE answered 2xx). */
  refreshed(agreement: SessionTimerAgreement): void {
    this.start(agreement);
  }

  close(): void {
    this.#closed = true;
    this.#clear();
  }

  #clear(): void {
    const { clock } = this.#host;
    if (this.#refreshTimer !== undefined) clock.clearTimeout(this.#refreshTimer);
    if (this.#expiryTimer !== undefined) clock.clearTimeout(this.#expiryTimer);
    this.#refreshTimer = undefined;
    this.#expiryTimer = undefined;
  }

  /** §10: the refresh at half the interval. */
  async #refresh(): Promise<void> {
    const host = this.#host;
    const agreement = this.#agreement;
    if (this.#closed || agreement === undefined) return;
    if (!host.peerAllowsUpdate) {
      // A 2xx restarts the timer through refreshedBy() (reinvite.ts), with the interval it grants.
      const outcome = await host.reinvite();
      if (this.#closed) return;
      if (!outcome.ok) host.logger.info({ outcome }, 'session refresh re-INVITE failed (RFC 4028 §10)');
      return;
    }
    let minSE = host.config.minSE;
    let interval = agreement.interval;
    for (let attempt = 0; attempt < 2 && !this.#closed; attempt++) {
      if (host.dialog.state === 'terminated') return;
      const update = host.dialog.createRequest('UPDATE', {
        headers: [...host.capabilityHeaders, ...requestHeaders(host.config, interval, 'uac', minSE)],
      });
      let response: SipResponse;
      try {
        response = await host.endpoint.request(update);
      } catch (err) {
        if (this.#closed) return;
        const timeout = typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_TIMEOUT';
        if (timeout) host.dialogLost(408, err instanceof Error ? err.message : String(err));
        return;
      }
      if (this.#closed) return;
      host.dialog.receiveResponse(response);
      const status = response.status;
      if (status >= 200 && status < 300) {
        // §7.2: the 2xx says the interval and the refresher from now on; without Session-Expires
        // "the session timer can be 'turned-off' in mid dialog".
        this.refreshedBy(response, 'uac');
        return;
      }
      if (status === 481 || status === 408) {
        host.dialogLost(status, response.reasonPhrase);
        return;
      }
      if (status === 422 && response.minSE !== undefined && response.minSE > interval) {
        // §7.4: again with the larger Min-SE.
        minSE = response.minSE;
        interval = Math.max(interval, minSE);
        continue;
      }
      if (status === 491) {
        // RFC 3311 §5.1 / RFC 3261 §14.1: a glare; a single retry a little later.
        const handle = host.clock.setTimeout(() => {
          this.#refreshTimer = undefined;
          void this.#refresh();
        }, randomInt(0, 201) * 10);
        this.#refreshTimer = handle;
        return;
      }
      host.logger.info({ status }, 'session refresh UPDATE refused (RFC 4028 §10)');
      return;
    }
  }
}

/**
 * A call: one INVITE dialog and its session, as the application sees it (RFC 3261 §13-§15).
 *
 * - Outgoing (UAC, §13.2): INVITE with our offer; a 1xx makes it `ringing`; the 2xx creates the
 *   dialog (§12.1.2), is ACKed from it (§13.2.2.4) and makes it `answered`; a non-2xx ends it with
 *   that status. `hangup()` before the answer CANCELs (§9.1), after it sends BYE (§15.1.1).
 *   Forking (forking.ts, §12.1.2, §13.2.2.4): each fork's 1xx makes an early dialog, `ringing`
 *   comes once; the first 2xx is the answer, and every other fork's 2xx is ACKed and BYEd.
 * - Incoming (UAS, §13.3): 180 goes out at once; `answer()` sends the 2xx with our answer and the
 *   call is `answered` when its ACK arrives (§13.3.1.4: a BYE when none comes in 64*T1);
 *   `reject()` sends any final non-2xx.
 * - In the dialog: hold and resume (hold.ts) by re-INVITE (reinvite.ts); BYE either way.
 *
 * Media (media.ts): with the UserAgent's MediaFactory each call has an RTP session whose port is
 * in our SDP and which follows every completed offer/answer; without one, signalling only.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { newCallId } from '../../core/ids.js';
import { SipError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { Dialog, newCSeqNumber, REFER_EVENT, wantsReferSubscription, type DialogId, type ReferNotifier, type ReferSubscriber } from '../../dialog/index.js';
import { createRequest, createResponse, formatUri, type ExtraHeaders, type NameAddr, type SipRequest, type SipResponse } from '../../message/index.js';
import { OfferAnswer, type LocalMediaConfig, type SessionDescription } from '../../sdp/index.js';
import type { SipEndpoint } from '../endpoint.js';
import type { UasTransaction } from '../uas-transaction.js';
import { CallAuth, type DigestCredentials } from './authenticate.js';
import { createCancel } from './cancel.js';
import { UacForks } from './forking.js';
import { TypedEvents } from './events.js';
import { Hold } from './hold.js';
import { Reinvites } from './reinvite.js';
import type { CallDirection, CallEndReason, CallEvents, CallState, Outcome } from './types.js';
import { receiveInfo } from './info.js';
import { agreementFromResponse, inviteHeaders, retryAfter422, SessionTimer, sessionTimerConfig, uasVerdict, type SessionTimerAgreement, type SessionTimerConfig } from './session-timer.js';
import { receiveUpdate, type UpdateHost } from './update.js';
import { answerReferSubscribe, referTarget, runTransferee, runTransferor, type ReferNotifiers, type TransferConfig, type TransferOptions, type TransferOutcome } from './transfer.js';
import { referToWithReplaces } from './replaces.js';
import { CallMedia, type CallAudioSource, type CallMediaSession, type CallMediaStats, type MediaFactory } from './media.js';

const SDP = 'application/sdp';

/** Options of `UserAgent.call`. */
export interface CallOptions {
  /** Call-ID of the INVITE; default a new random one (RFC 3261 §8.1.1.4). */
  callId?: string;
  /** Extra headers for the INVITE (Subject, X-...); not Via, From, To, Call-ID, CSeq or Contact. */
  headers?: ExtraHeaders;
  /**
   * Send the INVITE without an offer: the callee offers in its 2xx and our answer goes in the
   * ACK (RFC 3261 §13.2.1, RFC 3264 §2). Default false.
   */
  offerless?: boolean;
}

/**
 * @internal What a Call needs from its UserAgent; declared here so that call/ never imports the
 * UserAgent (ARCHITECTURE.md: a lower module reaches upward only through an interface of its own).
 */
export interface CallHost {
  readonly endpoint: SipEndpoint;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The local side of every session: address, port, codecs. */
  readonly media: LocalMediaConfig;
  /** From of our INVITEs (RFC 3261 §8.1.1.3). */
  readonly identity: string;
  /** Contact of our INVITEs (§8.1.1.8). */
  readonly contact: string;
  /** Allow (and any other capability headers) on INVITEs and their 2xx (§20.5). */
  readonly capabilityHeaders: Array<[string, string]>;
  /** Session timers (RFC 4028); default sessionTimerConfig(). */
  readonly sessionTimer?: SessionTimerConfig;
  /** RFC 3261 T1, ms. */
  readonly t1: number;
  /** For 401/407 challenges to the call's requests (RFC 3261 §22.2); without them a challenge ends the request. */
  readonly credentials?: DigestCredentials;
  /** Files the dialog so that requests in it reach `call` (§12.2.2). */
  addDialog(dialog: Dialog, call: Call): void;
  /** The call is over: its dialog is forgotten; requests in it get 481. */
  callEnded(call: Call, dialog: Dialog | undefined): void;
  /** Transferee (transfer.ts): places the call to a REFER's target; undefined when it cannot. */
  startCall?(target: string, options: CallOptions): Call | undefined;
  /** Transferee: the application's say on a REFER: a status (403, 603) refuses it, undefined accepts. */
  referPolicy?(refer: SipRequest, call: Call): number | undefined;
  /** Timings of transfers (transfer.ts). */
  readonly transfer?: TransferConfig;
  /**
   * Transferee of a REFER outside the call (RFC 4538): files the dialog its 202 created so that
   * the requests in it (the subscriber's refresh SUBSCRIBEs) reach `receive`; the returned
   * function unfiles it.
   */
  addSubscriptionDialog?(dialog: Dialog, receive: (request: SipRequest, uas: UasTransaction) => void): () => void;
  /** Media (media.ts): makes each call's RTP session; without it calls are signalling only. */
  readonly mediaFactory?: MediaFactory;
  /** What each call sends normally (default silence). */
  readonly audioSource?: () => CallAudioSource;
  /** What a call sends while we hold it. */
  readonly musicOnHold?: () => CallAudioSource;
}

/** A call (see the module comment). Made by `UserAgent.call` and the UserAgent's `incoming` event. */
export class Call extends TypedEvents<CallEvents> {
  /** Whether we sent the INVITE (`outgoing`) or received it (`incoming`). */
  readonly direction: CallDirection;
  /** The Call-ID shared by every message of the call. */
  readonly id: string;
  /** The peer: the To URI of our INVITE, or the From URI of the peer's. */
  readonly remoteUri: string;
  /**
   * The application's say on each offer the peer makes in a re-INVITE (already acceptable to
   * the SDP layer): return a status (e.g. 488) to refuse it, nothing to take it.
   */
  onOffer: ((offer: SessionDescription) => number | undefined) | undefined;

  readonly #host: CallHost;
  #offerAnswer: OfferAnswer;
  /** The call's RTP session (media.ts), with a MediaFactory. */
  #media: CallMedia | undefined;
  readonly #auth: CallAuth;
  #state: CallState = 'calling';
  #dialog: Dialog | undefined;
  #session: { readonly reinvites: Reinvites; readonly hold: Hold; readonly timer: SessionTimer } | undefined;
  /** RFC 4028: the timer agreed by the INVITE exchange, and whether the peer allows UPDATE. */
  #timerAgreement: SessionTimerAgreement | undefined;
  #peerAllowsUpdate = false;
  #endReason: CallEndReason | undefined;
  readonly #established: Promise<Outcome>;
  #settleEstablished!: (outcome: Outcome) => void;
  readonly #ended: Promise<CallEndReason>;
  #settleEnded!: (reason: CallEndReason) => void;
  // UAC
  #invite: SipRequest | undefined;
  /** The early dialogs of our INVITE's forks, and the ACK and BYE of every 2xx but the first (forking.ts). */
  #forks: UacForks | undefined;
  #provisionalSeen = false;
  #cancelling = false;
  #cancelSent = false;
  // UAS
  #uas: UasTransaction | undefined;
  #ackTimer: TimerHandle | undefined;
  #answerInAck = false;
  /** Transfers (transfer.ts): our REFERs' subscriptions, and what to undo when the call ends. */
  readonly #referSubs = new Set<ReferSubscriber>();
  /** Transferee: the subscriptions of REFERs we accepted in this dialog, for their refreshes (SUBSCRIBE). */
  readonly #referNotifiers = new Map<ReferNotifier, (expires: number) => void>();
  readonly #endCleanups: Array<() => void> = [];
  #referredBy: NameAddr | undefined;

  private constructor(host: CallHost, direction: CallDirection, id: string, remoteUri: string, offerAnswer?: OfferAnswer) {
    super();
    this.#host = host;
    this.direction = direction;
    this.id = id;
    this.remoteUri = remoteUri;
    this.onOffer = undefined;
    this.#offerAnswer = offerAnswer ?? new OfferAnswer(host.media);
    this.#auth = new CallAuth(host.endpoint, host.credentials, () => this.#dialog, host.contact, () => this.#cancelling);
    this.#established = new Promise((resolve) => {
      this.#settleEstablished = resolve;
    });
    this.#ended = new Promise((resolve) => {
      this.#settleEnded = resolve;
    });
  }

  /** @internal Starts an outgoing call: sends the INVITE with our offer (RFC 3261 §13.2.1, RFC 3264 §5). */
  static outgoing(host: CallHost, target: string, options: CallOptions = {}): Call {
    const callId = options.callId ?? newCallId();
    const call = new Call(host, 'outgoing', callId, target);
    if (host.mediaFactory === undefined) call.#sendInvite(target, options);
    else void call.#startWithMedia(host.mediaFactory, target, options);
    return call;
  }

  /** With a MediaFactory, the session's port goes in the offer: the INVITE waits for it. */
  async #startWithMedia(factory: MediaFactory, target: string, options: CallOptions): Promise<void> {
    const secure = /^sips:/i.test(target);
    let session: CallMediaSession;
    try {
      session = await factory.create({ callId: this.id, direction: 'outgoing', remoteUri: target, secure });
    } catch (err) {
      this.#host.logger.warn({ err }, 'no media session for the call');
      this.#end({ cause: 'failed', status: 503, text: `no media session: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    if (this.#state === 'ended' || this.#cancelling) {
      session.close();
      this.#end({ cause: 'cancelled', status: 487, text: 'hung up before the INVITE went out' });
      return;
    }
    this.#attachMedia(session, secure);
    this.#sendInvite(target, options);
  }

  /** Takes `session` as the call's media: a new OfferAnswer with its port (and SDES key). */
  #attachMedia(session: CallMediaSession, secure: boolean): void {
    const host = this.#host;
    const media = new CallMedia({
      session,
      secure,
      ...(host.audioSource === undefined ? {} : { source: host.audioSource() }),
      ...(host.musicOnHold === undefined ? {} : { musicOnHold: host.musicOnHold }),
      onDtmf: (e) => this.emit('dtmf', { digit: e.digit, durationMs: e.durationMs }),
    });
    this.#media = media;
    this.#offerAnswer = new OfferAnswer(media.localConfig(host.media));
  }

  #sendInvite(target: string, options: CallOptions): void {
    const host = this.#host;
    const callId = this.id;
    const offer = options.offerless === true ? undefined : this.#offerAnswer.createOffer();
    const extra = options.headers === undefined ? [] : Array.isArray(options.headers) ? options.headers : Object.entries(options.headers);
    this.#invite = createRequest({
      method: 'INVITE',
      uri: target,
      from: host.identity,
      to: `<${target}>`,
      callId,
      cseq: newCSeqNumber(),
      contact: host.contact,
      headers: [...host.capabilityHeaders, ...inviteHeaders(host.sessionTimer ?? sessionTimerConfig()), ...extra],
      ...(offer === undefined ? {} : { body: offer, contentType: SDP }),
    });
    this.#forks = new UacForks({ endpoint: host.endpoint, logger: host.logger, invite: () => this.#invite!, media: host.media, offerless: offer === undefined });
    void this.#runInvite(this.#invite);
  }

  /**
   * @internal An incoming INVITE (RFC 3261 §13.3.1): its offer, if any, is taken now (the UA has
   * answered 488 already when it could not be), then 180 goes out and creates the early dialog.
   */
  static incoming(host: CallHost, uas: UasTransaction, offerAnswer: OfferAnswer, media?: { session: CallMediaSession; secure: boolean }): Call {
    const request = uas.request;
    const call = new Call(host, 'incoming', request.callId, formatUri(request.from.uri), offerAnswer);
    if (media !== undefined) {
      // The UserAgent checked the offer with a stand-in port; ours has the session's (and our key).
      call.#attachMedia(media.session, media.secure);
      if (request.body.length > 0) call.#offerAnswer.setRemoteOffer(request.bodyText);
    }
    call.#uas = uas;
    call.#state = 'ringing';
    try {
      call.#referredBy = request.referredBy;
    } catch {
      // RFC 3892: a Referred-By that cannot be read is only information; it is ignored.
    }
    // §13.3.1.1: "the UAS ... SHOULD send a 180 (Ringing)" while the user is alerted.
    const ringing = createResponse(request, 180, { toTag: uas.toTag });
    uas.respond(ringing);
    const dialog = Dialog.forUas(request, ringing, { transport: uas.source.protocol });
    call.#dialog = dialog;
    host.addDialog(dialog, call);
    return call;
  }

  get state(): CallState {
    return this.#state;
  }

  /** We hold the call: our hold re-INVITE was answered (RFC 5359 §2.1). */
  get localHold(): boolean {
    return this.#session?.hold.localHold ?? false;
  }

  /** The peer holds the call: its last offer stopped receiving (RFC 3264 §8.4). */
  get remoteHold(): boolean {
    return this.#session?.hold.remoteHold ?? false;
  }

  /** Our SDP as last agreed. */
  get localDescription(): SessionDescription | undefined {
    return this.#offerAnswer.localDescription;
  }

  /** The peer's SDP as last agreed. */
  get remoteDescription(): SessionDescription | undefined {
    return this.#offerAnswer.remoteDescription;
  }

  /** The call's RTP session, with the UserAgent's MediaFactory (media.ts). */
  get mediaSession(): CallMediaSession | undefined {
    return this.#media?.session;
  }

  /** The call uses SRTP (RTP/SAVP with SDES keys, RFC 4568). */
  get secureMedia(): boolean {
    return this.#media?.secure ?? false;
  }

  /** Media statistics: packets and bytes each way, loss, jitter, MOS; undefined without media. */
  stats(): CallMediaStats | undefined {
    return this.#media?.session.stats();
  }

  /**
   * Sends DTMF digits (0-9 * # A-D) as RFC 4733 events. False when the call has no media, the
   * peer took no telephone-event, we do not send (held with inactive), or a digit is not DTMF.
   */
  sendDtmf(digits: string): boolean {
    if (this.#state === 'ended') return false;
    return this.#media?.session.sendDtmf(digits) ?? false;
  }

  /** What the call sends (music on hold still wins while we hold); undefined: silence. */
  setAudioSource(source: CallAudioSource | undefined): void {
    this.#media?.setSource(source);
  }

  /** The Referred-By of the peer's INVITE (RFC 3892): who referred the caller to us, if anyone. */
  get referredBy(): NameAddr | undefined {
    return this.#referredBy;
  }

  /** Why the call ended, once it has. */
  get endReason(): CallEndReason | undefined {
    return this.#endReason;
  }

  /**
   * Settles when the call is answered ({ok: true}) or ends before that, with the status that
   * ended it (487 when there was none, e.g. the UserAgent closed).
   */
  get established(): Promise<Outcome> {
    return this.#established;
  }

  /** Settles with the reason once the call has ended. */
  get ended(): Promise<CallEndReason> {
    return this.#ended;
  }

  /**
   * Answers an incoming call: 200 with our answer (RFC 3264 §6), or with our offer when the
   * INVITE had none (the answer then comes in the ACK, §13.2.1). Settles once the ACK arrives.
   * Throws SipError ERR_INVALID_STATE unless the call is incoming and ringing.
   */
  answer(): Promise<Outcome> {
    const uas = this.#uas;
    if (this.direction !== 'incoming' || this.#state !== 'ringing' || uas === undefined || uas.answered) {
      return Promise.reject(new SipError('ERR_INVALID_STATE', `answer() needs a ringing incoming call, not ${this.direction} ${this.#state}`));
    }
    const oa = this.#offerAnswer;
    let sdp: string;
    if (oa.state === 'have-remote-offer') sdp = oa.createAnswer();
    else {
      sdp = oa.createOffer();
      this.#answerInAck = true;
    }
    // RFC 4028 §9: the 2xx carries the session timer (the UserAgent sent 422 for one too small).
    const timer = uasVerdict(uas.request, this.#host.sessionTimer ?? sessionTimerConfig());
    this.#timerAgreement = timer.ok ? timer.agreement : undefined;
    this.#peerAllowsUpdate = uas.request.allow?.includes('UPDATE') ?? false;
    const response = createResponse(uas.request, 200, { toTag: uas.toTag, headers: [...this.#host.capabilityHeaders, ...(timer.ok ? timer.headers : [])], body: sdp, contentType: SDP });
    uas.respond(response);
    this.#dialog?.sendingResponse(response);
    // §13.3.1.4: the 2xx is retransmitted (by the endpoint) for 64*T1; with no ACK by then, the
    // session SHOULD be ended with a BYE.
    this.#ackTimer = this.#host.clock.setTimeout(() => {
      this.#ackTimer = undefined;
      void this.#sendBye({ cause: 'failed', status: 408, text: 'no ACK for our 2xx (RFC 3261 §13.3.1.4)' });
    }, 64 * this.#host.t1);
    return this.#established;
  }

  /**
   * Sends another provisional response to an incoming call that is ringing: 183 Session Progress
   * by default, or 181/182/199 and the like (RFC 3261 §13.3.1.1, §21.1). No SDP rides on it: early
   * media needs reliable provisionals (RFC 3262), which this UA does not offer. Throws SipError
   * ERR_INVALID_STATE unless the call is incoming and ringing.
   */
  progress(status = 183): void {
    const uas = this.#uas;
    if (this.direction !== 'incoming' || this.#state !== 'ringing' || uas === undefined || uas.answered) {
      throw new SipError('ERR_INVALID_STATE', `progress() needs a ringing incoming call, not ${this.direction} ${this.#state}`);
    }
    if (!Number.isInteger(status) || status < 101 || status > 199) {
      throw new SipError('ERR_INVALID_ARGUMENT', `progress() takes a provisional status from 101 to 199, not ${status}`);
    }
    const response = createResponse(uas.request, status, { toTag: uas.toTag });
    uas.respond(response);
    this.#dialog?.sendingResponse(response);
  }

  /**
   * Refuses an incoming call with a final non-2xx (default 486 Busy Here, §21.4.24; 603 Decline
   * for "no"). Throws SipError ERR_INVALID_STATE unless the call is incoming and ringing.
   */
  reject(status = 486): Promise<Outcome> {
    const uas = this.#uas;
    if (this.direction !== 'incoming' || this.#state !== 'ringing' || uas === undefined || uas.answered) {
      return Promise.reject(new SipError('ERR_INVALID_STATE', `reject() needs a ringing incoming call, not ${this.direction} ${this.#state}`));
    }
    if (!Number.isInteger(status) || status < 300 || status > 699) {
      return Promise.reject(new SipError('ERR_INVALID_ARGUMENT', `a rejection is a final non-2xx status (300-699), not ${status}`));
    }
    const response = createResponse(uas.request, status, { toTag: uas.toTag });
    uas.respond(response);
    this.#dialog?.sendingResponse(response);
    this.#end({ cause: 'rejected', status, text: `rejected with ${status}` });
    return Promise.resolve({ ok: true });
  }

  /**
   * Puts the call on hold (RFC 5359 §2.1): re-INVITE with a=sendonly (a=inactive while the peer
   * holds us). Queued behind a pending re-INVITE; a 491 is retried by itself (RFC 3261 §14.1).
   * Settles with the outcome: a refusal (488...) leaves the call exactly as it was.
   */
  hold(): Promise<Outcome> {
    return this.#withSession((s) => s.hold.hold());
  }

  /** Takes the call off hold: re-INVITE with a=sendrecv (a=recvonly while the peer holds us). */
  resume(): Promise<Outcome> {
    return this.#withSession((s) => s.hold.resume());
  }

  /**
   * Blind transfer (RFC 5589 §6) of the peer to `target` (a sip: or sips: URI): REFER with
   * Refer-To and Referred-By; `transfer-progress` for each NOTIFY's sipfrag. Settles with
   * {ok: true} once a 2xx sipfrag came (the call is then ended with BYE), or {ok: false} with the
   * REFER's refusal (403, 405, 501, 603...), the target's failure (486...) or 408 when no final
   * NOTIFY came in time; on failure the call stays as it was (`resume()` takes it off hold).
   * Attended transfer (RFC 5589 §7) when `target` is another call (answered, or ended after it was
   * answered: the transferee's INVITE then gets 481, and `fallbackToBlind` retries as a blind
   * transfer to that call's peer). `referSub: false` (RFC 4488): see TransferOptions; the call is
   * then not ended by the transfer: the caller hangs up when it sees fit.
   */
  transfer(target: string | Call, options: TransferOptions = {}): Promise<TransferOutcome> {
    const dialog = this.#dialog;
    if (this.#state !== 'answered' || dialog === undefined) {
      return Promise.reject(new SipError('ERR_INVALID_STATE', `transfer() needs an answered call, not ${this.#state}`));
    }
    let referTo: string;
    if (typeof target === 'string') referTo = `<${target}>`;
    else {
      // RFC 5589 §7: attended transfer: the target is the peer of our other call, whose dialog the
      // transferee's INVITE replaces (RFC 3891).
      const other = target.#dialog;
      const cause = target.#endReason?.cause;
      const wasAnswered = target.#state === 'answered' || (target.#state === 'ended' && (cause === 'remote-bye' || cause === 'local-bye'));
      if (target === this || !wasAnswered || other === undefined) {
        return Promise.reject(new SipError('ERR_INVALID_STATE', 'an attended transfer needs another answered call'));
      }
      referTo = referToWithReplaces(target.remoteUri, other.id);
    }
    const targetText = typeof target === 'string' ? target : target.remoteUri;
    return runTransferor({
      clock: this.#host.clock,
      createRefer: (headers) => dialog.createRequest('REFER', { headers }),
      referredBy: this.#host.identity,
      config: this.#host.transfer,
      request: (request) => this.#auth.request(request),
      addSubscriber: (subscriber) => {
        this.#referSubs.add(subscriber);
        return () => this.#referSubs.delete(subscriber);
      },
      progress: (frag) => this.emit('transfer-progress', { status: frag.status, reason: frag.reason }),
      hangup: () => this.hangup(),
      // RFC 3515 §2.4.6: the subscription is refreshed by SUBSCRIBE in the dialog, Event refer;id=.
      subscribe: (id) => {
        if (dialog.state === 'terminated') return Promise.resolve();
        const expires = String(this.#host.transfer?.subscriptionExpires ?? 60);
        return this.#auth.request(dialog.createRequest('SUBSCRIBE', { headers: [['Event', `${REFER_EVENT};id=${id}`], ['Expires', expires]] }));
      },
    }, referTo, options, typeof target === 'string' ? undefined : target.remoteUri).then((outcome) => {
      if (outcome.ok) this.emit('transferred', { target: targetText, callId: undefined });
      else this.emit('transfer-failed', { status: outcome.status, reason: outcome.reason });
      return outcome;
    });
  }

  /**
   * Ends the call whatever its state: BYE once answered (§15.1.1), CANCEL while our INVITE is
   * pending (§9.1: sent once a provisional response has come), a 603 for a ringing incoming call.
   * Settles when the call has ended; an ended call settles at once.
   */
  async hangup(): Promise<Outcome> {
    if (this.#state === 'ended') return { ok: true };
    if (this.#state === 'answered' || (this.direction === 'incoming' && this.#uas?.answered === true)) {
      return this.#sendBye({ cause: 'local-bye', text: 'we hung up' });
    }
    if (this.direction === 'incoming') return this.reject(603);
    this.#cancelling = true;
    if (this.#provisionalSeen) this.#sendCancel();
    await this.#ended;
    return { ok: true };
  }

  // ---- UAC ----

  async #runInvite(invite: SipRequest): Promise<void> {
    const host = this.#host;
    let response: SipResponse;
    try {
      response = await this.#auth.request(invite, { onProvisional: (r) => this.#provisional(r), on2xx: (r) => this.#forks?.on2xx(r) });
    } catch (err) {
      this.#offerAnswer.rollback();
      const timeout = (err as { code?: unknown } | undefined)?.code === 'ERR_TIMEOUT';
      // RFC 3261 §8.1.3.1: a timeout is a 408, a transport failure a 503.
      this.#end({ cause: 'failed', status: timeout ? 408 : 503, text: err instanceof Error ? err.message : String(err) });
      return;
    }
    const status = response.status;
    if (status >= 200 && status < 300) {
      await this.#uacAnswered(invite, response);
      return;
    }
    // RFC 4028 §7.4: a 422 is retried once with the larger Min-SE it gives (same offer, next CSeq).
    const retry = status === 422 && !this.#cancelling ? retryAfter422(invite, response, host.sessionTimer ?? sessionTimerConfig()) : undefined;
    if (retry !== undefined) {
      this.#invite = retry;
      await this.#runInvite(retry);
      return;
    }
    this.#offerAnswer.rollback();
    this.#forks?.failed(response);
    const cancelled = this.#cancelling && status === 487;
    this.#end({ cause: cancelled ? 'cancelled' : 'rejected', status, text: `${status} ${response.reasonPhrase}` });
  }

  #provisional(response: SipResponse): void {
    this.#provisionalSeen = true;
    // §12.1.2: a 1xx with a To tag makes the early dialog of its fork; 'ringing' comes once for all.
    this.#forks?.provisional(response);
    if (this.#cancelling) {
      this.#sendCancel();
      return;
    }
    if (this.#state === 'calling' && response.status > 100) {
      this.#state = 'ringing';
      this.emit('ringing', { status: response.status });
    }
  }

  /** §9.1: the CANCEL goes where the INVITE went (same Request-URI and Route, so the same target). */
  #sendCancel(): void {
    const invite = this.#invite;
    if (invite === undefined || this.#cancelSent || this.#state === 'ended') return;
    this.#cancelSent = true;
    this.#host.endpoint.request(createCancel(invite)).then(
      (r) => this.#host.logger.debug({ status: r.status }, 'CANCEL answered'),
      (err: unknown) => this.#host.logger.info({ err }, 'CANCEL failed'),
    );
  }

  async #uacAnswered(invite: SipRequest, response: SipResponse): Promise<void> {
    const host = this.#host;
    if (this.#state === 'ended') return;
    // §13.2.2.4: the first 2xx confirms its fork's dialog; the other forks' early dialogs are dropped.
    const dialog = this.#forks?.answered(response) ?? Dialog.forUac(invite, response);
    this.#dialog = dialog;
    host.addDialog(dialog, this);
    const oa = this.#offerAnswer;
    let usable = true;
    let answer: string | undefined;
    try {
      if (oa.state === 'have-local-offer') oa.setRemoteAnswer(response.bodyText);
      else {
        // RFC 3264 §2, RFC 3261 §13.2.1: our INVITE had no offer: the 2xx carries it, the ACK our answer.
        oa.setRemoteOffer(response.bodyText);
        answer = oa.createAnswer();
      }
    } catch (err) {
      host.logger.info({ err }, 'the 2xx to our INVITE has no usable SDP');
      oa.rollback();
      usable = false;
    }
    // §13.2.2.4: every 2xx gets an ACK from the UA core, even one we then BYE.
    const ack = dialog.createAck(invite.cseq.seq, response, { invite, ...(answer === undefined ? {} : { body: answer, contentType: SDP }) });
    await host.endpoint.ack(response, { request: ack }).catch((err: unknown) => host.logger.info({ err }, 'ACK not sent'));
    if (this.#cancelling) {
      // §9.1: a 2xx that crossed our CANCEL: the call was set up, so it is ended with a BYE (§15).
      await this.#sendBye({ cause: 'cancelled', status: 200, text: 'answered as we cancelled: ended with BYE (RFC 3261 §9.1)' });
      return;
    }
    if (!usable) {
      await this.#sendBye({ cause: 'failed', status: 488, text: 'the answer was unusable (RFC 3264 §6)' });
      return;
    }
    // RFC 4028 §7.2: the 2xx says the session interval and who refreshes.
    this.#timerAgreement = agreementFromResponse(response);
    this.#peerAllowsUpdate = response.allow?.includes('UPDATE') ?? false;
    this.#confirm();
  }

  // ---- UAS ----

  /** @internal The peer's CANCEL ended our pending INVITE (the endpoint answered 487, §9.2). */
  cancelled(): void {
    this.#end({ cause: 'cancelled', status: 487, text: 'the caller cancelled (RFC 3261 §9.2)' });
  }

  /** @internal An ACK in the dialog: for our 2xx to the INVITE, or to a re-INVITE's. */
  receiveAck(ack: SipRequest): void {
    const uas = this.#uas;
    if (this.#state === 'ringing' && uas !== undefined && uas.answered && ack.cseq.seq === uas.request.cseq.seq) {
      if (this.#ackTimer !== undefined) this.#host.clock.clearTimeout(this.#ackTimer);
      this.#ackTimer = undefined;
      if (this.#answerInAck) {
        try {
          this.#offerAnswer.setRemoteAnswer(ack.bodyText);
        } catch (err) {
          this.#host.logger.info({ err }, 'the ACK has no usable answer to our offer');
          this.#offerAnswer.rollback();
          void this.#sendBye({ cause: 'failed', status: 488, text: 'the ACK carried no usable answer (RFC 3264 §6)' });
          return;
        }
      }
      this.#confirm();
      return;
    }
    this.#session?.reinvites.receiveAck(ack);
  }

  /**
   * @internal A request in the dialog (§12.2.2). Returns false to leave it to the endpoint's
   * defaults (OPTIONS 200, others 405).
   */
  receiveRequest(request: SipRequest, uas: UasTransaction): boolean {
    const dialog = this.#dialog;
    if (dialog === undefined) return false;
    const verdict = dialog.receiveRequest(request);
    if (!verdict.accept) {
      uas.respond(createResponse(request, verdict.status, { reason: verdict.reason }));
      return true;
    }
    switch (request.method) {
      case 'BYE': {
        uas.respond(createResponse(request, 200));
        const invite = this.#uas;
        if (invite !== undefined && !invite.answered) {
          // §15.1.2: a BYE in an early dialog (the caller's) gets the INVITE answered 487.
          invite.respond(createResponse(invite.request, 487, { toTag: invite.toTag }));
        }
        this.#end({ cause: 'remote-bye', text: 'the peer hung up' });
        return true;
      }
      case 'INVITE': {
        const session = this.#session;
        if (session === undefined) {
          // §14.2: our INVITE exchange is not finished (2xx not yet ACKed): the peer retries later.
          uas.respond(createResponse(request, 491));
          return true;
        }
        // RFC 3261 §14.2; a session refresh too (RFC 4028 §9, §10: reinvite.ts asks the timer).
        session.reinvites.receive(request, uas);
        return true;
      }
      case 'UPDATE': {
        // RFC 3311 §5.2 (update.ts); before the call is up, the peer retries later.
        const session = this.#session;
        if (session === undefined) uas.respond(createResponse(request, 491, { toTag: uas.toTag }));
        else receiveUpdate(request, uas, this.#updateHost(dialog, session));
        return true;
      }
      case 'INFO':
        // RFC 6086 (info.ts): 200, and the `info` event.
        this.emit('info', receiveInfo(request, uas));
        return true;
      case 'REFER':
        this.#receiveRefer(request, uas);
        return true;
      case 'SUBSCRIBE':
        // RFC 3515 §2.4.6: a refresh of one of the subscriptions our accepted REFERs created (transfer.ts).
        answerReferSubscribe(request, uas, this.#referNotifiers, this.#host.transfer?.subscriptionExpires ?? 60);
        return true;
      case 'NOTIFY': {
        // RFC 3515 §2.4.4: a NOTIFY of one of our REFERs' subscriptions; any other is 481 (RFC 6665 §4.1.3).
        const subscriber = [...this.#referSubs].find((s) => s.matches(request));
        uas.respond(createResponse(request, subscriber?.receive(request) ?? 481));
        return true;
      }
      default:
        return false;
    }
  }

  /** @internal The dialog's id once there is one (Target-Dialog, RFC 4538). */
  get dialogId(): DialogId | undefined {
    return this.#dialog?.id;
  }

  /**
   * @internal RFC 4538: a REFER outside any dialog whose Target-Dialog names this call: handled as
   * a REFER in the call (policy, hold, resume, the BYE wait), but its 202 creates a dialog of its
   * own and the NOTIFYs go in that one (RFC 3515 §2.4.4, RFC 6665 §4.2.1).
   */
  receiveTargetedRefer(request: SipRequest, uas: UasTransaction): void {
    this.#receiveRefer(request, uas, true);
  }

  /** Transferee (transfer.ts): a REFER in the call: the policy's say, then 202 and the transfer. */
  #receiveRefer(request: SipRequest, uas: UasTransaction, outside = false): void {
    const host = this.#host;
    const checked = referTarget(request);
    if ('status' in checked) {
      uas.respond(createResponse(request, checked.status, { reason: checked.reason }));
      return;
    }
    if (this.#session === undefined || host.startCall === undefined) {
      // Before the call is up (or with no way to place a call) the REFER cannot be acted on.
      uas.respond(createResponse(request, this.#session === undefined ? 491 : 501));
      return;
    }
    const refused = host.referPolicy?.(request, this);
    if (refused !== undefined) {
      uas.respond(createResponse(request, refused));
      return;
    }
    const startCall = host.startCall.bind(host);
    // RFC 4488 §4: a REFER with Refer-Sub: false gets its 202 with Refer-Sub: false, and no NOTIFY.
    const acceptHeaders: Array<[string, string]> = wantsReferSubscription(request) ? [] : [['Refer-Sub', 'false']];
    // RFC 4538: outside a dialog the 202 creates the subscription's dialog (§12.1.1: with a Contact).
    if (outside) acceptHeaders.push(['Contact', host.contact]);
    const accepted = createResponse(request, 202, outside ? { toTag: uas.toTag, headers: acceptHeaders } : { headers: acceptHeaders });
    uas.respond(accepted);
    const notifyDialog = outside ? Dialog.forUas(request, accepted, { transport: uas.source.protocol }) : undefined;
    void runTransferee({
      clock: host.clock,
      logger: host.logger,
      config: host.transfer,
      ended: this.#ended,
      sendNotify: async (notify) => {
        if (notifyDialog !== undefined) {
          if (notifyDialog.state === 'terminated') return;
          await host.endpoint.request(notifyDialog.createRequest('NOTIFY', { headers: notify.headers, body: notify.body, contentType: notify.contentType }));
          if (notify.final) notifyDialog.terminate();
          return;
        }
        const dialog = this.#dialog;
        if (dialog === undefined || dialog.state === 'terminated') return;
        await this.#auth.request(dialog.createRequest('NOTIFY', { headers: notify.headers, body: notify.body, contentType: notify.contentType }));
      },
      // Refreshes come in the dialog of the NOTIFYs: this call's, or the one the 202 of a REFER
      // outside it created (filed with the UserAgent for as long as the subscription lives).
      addNotifier: (notifier: ReferNotifier, refresh: (expires: number) => void) => {
        if (notifyDialog === undefined) {
          this.#referNotifiers.set(notifier, refresh);
          return () => this.#referNotifiers.delete(notifier);
        }
        const notifiers: ReferNotifiers = new Map([[notifier, refresh]]);
        return host.addSubscriptionDialog?.(notifyDialog, (subscribe, subscribeUas) => {
          const verdict = notifyDialog.receiveRequest(subscribe);
          if (!verdict.accept) subscribeUas.respond(createResponse(subscribe, verdict.status, { reason: verdict.reason }));
          else if (subscribe.method === 'SUBSCRIBE') answerReferSubscribe(subscribe, subscribeUas, notifiers, host.transfer?.subscriptionExpires ?? 60);
          // RFC 6665 §4.1.3 / RFC 3261 §12.2.2: nothing else belongs in a REFER's own dialog.
          else subscribeUas.respond(createResponse(subscribe, 481));
        }) ?? (() => undefined);
      },
      hold: () => this.hold(),
      resume: () => this.resume(),
      startCall: (target, headers) => {
        const call = startCall(target, { headers });
        if (call === undefined) return undefined;
        return { id: call.id, established: call.established, onRinging: (listener) => call.on('ringing', ({ status }) => listener(status)), hangup: () => call.hangup() };
      },
      hangup: () => this.hangup(),
      onEnd: (cleanup) => {
        if (this.#state === 'ended') cleanup();
        else this.#endCleanups.push(cleanup);
      },
      transferred: (target, callId) => this.emit('transferred', { target, callId }),
      failed: (status, reason) => this.emit('transfer-failed', { status, reason }),
    }, request, checked).catch((err: unknown) => host.logger.error({ err }, 'transfer failed'));
  }

  /**
   * @internal Transfer target (RFC 3891 §3): `replacement`, an incoming call whose INVITE's Replaces
   * named this call, is answered, and only then is this call ended (BYE; CANCEL or a decline
   * while it is not answered).
   */
  async replacedBy(replacement: Call): Promise<Outcome> {
    const outcome = await replacement.answer().catch((err: unknown): Outcome => ({ ok: false, status: 500, reason: err instanceof Error ? err.message : String(err) }));
    if (!outcome.ok) return outcome;
    this.emit('replaced', { callId: replacement.id });
    await this.hangup().catch(() => undefined);
    return outcome;
  }

  /** @internal The UserAgent closes: the call ends without signalling. */
  close(): void {
    this.#end({ cause: 'closed', text: 'the user agent closed' });
  }

  // ---- both ----

  /** The dialog is confirmed and the first exchange done: the call is up. */
  #confirm(): void {
    const dialog = this.#dialog;
    if (dialog === undefined || this.#state === 'ended') return;
    const host = this.#host;
    const reinvites = new Reinvites({
      endpoint: this.#auth.endpoint,
      dialog,
      offerAnswer: this.#offerAnswer,
      clock: host.clock,
      logger: host.logger,
      // §14.1: the owner of the Call-ID is the UA that generated it: the one that sent the INVITE.
      ownsCallId: this.direction === 'outgoing',
      capabilityHeaders: host.capabilityHeaders,
      t1: host.t1,
      judgeOffer: (offer) => this.onOffer?.(offer),
      settled: () => this.#settled(),
      dialogLost: (status, reason) => this.#end({ cause: 'failed', status, text: `the dialog is gone: ${status} ${reason} (RFC 3261 §12.2.1.2)` }),
      // RFC 4028: every re-INVITE of ours, and our 2xx to the peer's, carries the session timer;
      // each 2xx either way is a session refresh (§10).
      sessionTimerHeaders: () => timer.reinviteHeaders(),
      sessionTimerAnswer: (request) => timer.verdict(request),
      onSessionRefreshed: (response, role) => timer.refreshedBy(response, role),
    });
    const hold = new Hold(this.#offerAnswer, reinvites, (event) => this.emit(event, {}));
    const timer = this.#sessionTimer(dialog, reinvites);
    this.#session = { reinvites, hold, timer };
    this.#state = 'answered';
    this.#mediaSettled();
    this.emit('answered', { remoteDescription: this.#offerAnswer.remoteDescription });
    this.#settleEstablished({ ok: true });
    // An initial offer may already hold (a call placed on hold from the start).
    hold.settled();
  }

  /** An offer/answer exchange ended (done or rolled back): the hold model, then the media, follow. */
  #settled(): void {
    this.#session?.hold.settled();
    this.#mediaSettled();
  }

  /** The media follows the SDP as agreed (issue 7): direction, address, port, music on hold. */
  #mediaSettled(): void {
    const oa = this.#offerAnswer;
    if (this.#media === undefined || oa.isPending || this.#state === 'ended') return;
    this.#media.apply(oa.localDescription, oa.remoteDescription, oa.localHold);
  }

  /** RFC 4028 (session-timer.ts): the call's session timer, started with what the INVITE agreed. */
  #sessionTimer(dialog: Dialog, reinvites: Reinvites): SessionTimer {
    const host = this.#host;
    const timer = new SessionTimer({
      clock: host.clock,
      logger: host.logger,
      endpoint: this.#auth.endpoint,
      dialog,
      config: host.sessionTimer ?? sessionTimerConfig(),
      capabilityHeaders: host.capabilityHeaders,
      peerAllowsUpdate: this.#peerAllowsUpdate,
      reinvite: () => reinvites.offer({}),
      expired: () => void this.#sendBye({ cause: 'session-expired', text: 'no session refresh in time (RFC 4028 §10)' }),
      dialogLost: (status, reason) => this.#end({ cause: 'failed', status, text: `the dialog is gone: ${status} ${reason} (RFC 3261 §12.2.1.2)` }),
    });
    timer.start(this.#timerAgreement);
    return timer;
  }

  /** What update.ts needs to answer an UPDATE. */
  #updateHost(dialog: Dialog, session: { readonly hold: Hold; readonly timer: SessionTimer }): UpdateHost {
    return {
      dialog,
      offerAnswer: this.#offerAnswer,
      logger: this.#host.logger,
      capabilityHeaders: this.#host.capabilityHeaders,
      sessionTimer: this.#host.sessionTimer ?? sessionTimerConfig(),
      agreement: session.timer.agreement,
      judgeOffer: (offer) => this.onOffer?.(offer),
      settled: () => this.#settled(),
      refreshed: (agreement) => session.timer.refreshed(agreement),
    };
  }

  #withSession(action: (session: { reinvites: Reinvites; hold: Hold }) => Promise<Outcome>): Promise<Outcome> {
    if (this.#state === 'ended') return Promise.resolve({ ok: false, status: 481, reason: 'the call has ended' });
    const session = this.#session;
    if (session === undefined) return Promise.reject(new SipError('ERR_INVALID_STATE', `the call is ${this.#state}, not answered`));
    return action(session);
  }

  /** §15.1.1: the call ends as the BYE goes out; the outcome is the BYE's response. */
  async #sendBye(reason: CallEndReason): Promise<Outcome> {
    const dialog = this.#dialog;
    if (dialog === undefined || dialog.state === 'terminated' || this.#state === 'ended') {
      this.#end(reason);
      return { ok: true };
    }
    const bye = dialog.createRequest('BYE');
    this.#end(reason);
    try {
      const response = await this.#auth.request(bye);
      return response.status >= 200 && response.status < 300 ? { ok: true } : { ok: false, status: response.status, reason: response.reasonPhrase };
    } catch (err) {
      return { ok: false, status: 408, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  #end(reason: CallEndReason): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#endReason = reason;
    if (this.#ackTimer !== undefined) this.#host.clock.clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#session?.reinvites.close();
    this.#session?.timer.close();
    this.#dialog?.terminate();
    this.#forks?.close();
    this.#media?.close();
    for (const subscriber of [...this.#referSubs]) subscriber.end();
    this.#referSubs.clear();
    for (const cleanup of this.#endCleanups.splice(0)) cleanup();
    this.#host.callEnded(this, this.#dialog);
    this.#settleEstablished({ ok: false, status: reason.status ?? 487, reason: reason.text });
    this.#settleEnded(reason);
    this.emit('ended', { reason });
  }

  protected override listenerFailed(event: string, err: unknown): void {
    this.#host.logger.error({ err, event }, 'a call event listener threw');
  }
}

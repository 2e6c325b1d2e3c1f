/**
 * The RFC 3264 offer/answer state of one dialog, with the hold model riding on it.
 *
 * States, as RFC 6337 §2 describes the exchange: `stable` (no offer outstanding),
 * `have-local-offer` (we sent an offer, no answer yet), `have-remote-offer` (the peer's offer is
 * waiting for our answer). SIP decides which message carries what (RFC 3261 §13.2.1, RFC 6337
 * §2.2): offer in the INVITE and answer in the 2xx, or, for an INVITE without a body, offer in
 * the 2xx and answer in the ACK. This machine is the same for both; only the caller's order of
 * calls differs.
 *
 * Strings in, strings out: SDP text goes in through `setRemoteOffer`/`setRemoteAnswer` and comes
 * out of `createOffer`/`createAnswer`. A failed exchange (a re-INVITE rejected with 488, 491...)
 * is undone with `rollback()`, which puts back the descriptions and the hold state exactly.
 */
import { buildAnswer } from './build-answer.js';
import { buildInitialOffer, buildSubsequentOffer, newOrigin } from './build-offer.js';
import {
  INITIAL_HOLD_STATE, isRemoteHolding, withLocalHold, withRemoteOffer, type HoldState,
} from './hold-state.js';
import { resolveLocalMedia, type LocalMediaConfig, type ResolvedLocalMedia } from './local-media.js';
import { negotiatedStreams, type NegotiatedStream } from './negotiated.js';
import { OfferAnswerError, SdpError } from './sdp-error.js';
import { nextVersion, parseSdp, serializeSdp } from './session-description.js';
import type { Origin, SessionDescription } from './sdp-types.js';

/** Where the exchange stands (RFC 6337 §2). */
export type OfferAnswerState = 'stable' | 'have-local-offer' | 'have-remote-offer';

/** Options of one offer. */
export interface CreateOfferOptions {
  /**
   * Our hold intent from this offer on: true to hold (RFC 5359 §2.1), false to resume; absent
   * keeps the current intent (a session refresh, an offer for an offerless re-INVITE).
   */
  readonly hold?: boolean;
}

/** What `rollback()` restores: everything an exchange can change. */
interface Committed {
  readonly local: SessionDescription | undefined;
  readonly remote: SessionDescription | undefined;
  readonly hold: HoldState;
}

/** The offer/answer state machine of one dialog. */
export class OfferAnswer {
  readonly #config: ResolvedLocalMedia;
  /** Our o= for the whole session: only the version changes (RFC 3264 §8). */
  readonly #origin: Origin;
  #state: OfferAnswerState = 'stable';
  #local: SessionDescription | undefined;
  #remote: SessionDescription | undefined;
  #hold: HoldState = INITIAL_HOLD_STATE;
  /** The state before the outstanding offer, for `rollback()`. */
  #before: Committed | undefined;
  #pendingLocal: SessionDescription | undefined;
  #pendingRemote: SessionDescription | undefined;

  /** Throws `SipError` `ERR_INVALID_ARGUMENT` for an unusable config (see `resolveLocalMedia`). */
  constructor(config: LocalMediaConfig) {
    this.#config = resolveLocalMedia(config);
    this.#origin = newOrigin(this.#config);
  }

  get state(): OfferAnswerState {
    return this.#state;
  }

  /**
   * True while an offer is outstanding. A SIP UA uses it for glare (RFC 3261 §14.1): a re-INVITE
   * with an offer arriving now gets 491, and our own `hold()` waits until the exchange ends.
   */
  get isPending(): boolean {
    return this.#state !== 'stable';
  }

  /** Our description as last agreed (the last offer answered, or the last answer we gave). */
  get localDescription(): SessionDescription | undefined {
    return this.#local;
  }

  /** The peer's description as last agreed. */
  get remoteDescription(): SessionDescription | undefined {
    return this.#remote;
  }

  /** Our outstanding offer, or the answer prepared for the peer's outstanding offer. */
  get pendingLocalDescription(): SessionDescription | undefined {
    return this.#pendingLocal;
  }

  /** The peer's outstanding offer, in `have-remote-offer`. */
  get pendingRemoteDescription(): SessionDescription | undefined {
    return this.#pendingRemote;
  }

  /** The hold model: our intent and the peer's per stream (see hold-state.ts). */
  get holdState(): HoldState {
    return this.#hold;
  }

  /** Our intent: the user holds the call. */
  get localHold(): boolean {
    return this.#hold.localHold;
  }

  /** The peer holds the call: its last offer declined to receive on every stream. */
  get remoteHolding(): boolean {
    return isRemoteHolding(this.#hold);
  }

  /** The streams as agreed, for media; empty before the first exchange completes. */
  get negotiated(): NegotiatedStream[] {
    return this.#local === undefined || this.#remote === undefined ? [] : negotiatedStreams(this.#local, this.#remote);
  }

  /**
   * Makes an offer and enters `have-local-offer`. The first one lists every local stream and
   * codec (RFC 3264 §5); later ones keep the m= lines of our previous description (§8), with each
   * direction from the hold model and the o= version incremented only if something changed.
   * Throws `OfferAnswerError` `ERR_OFFER_PENDING` while another offer is outstanding.
   */
  createOffer(options: CreateOfferOptions = {}): string {
    if (this.#state !== 'stable') {
      throw new OfferAnswerError('ERR_OFFER_PENDING', `cannot make an offer in state ${this.#state}: one offer at a time (RFC 3264 §4)`, 491);
    }
    const hold = options.hold === undefined ? this.#hold : withLocalHold(this.#hold, options.hold);
    const candidate = this.#local === undefined
      ? buildInitialOffer(this.#config, this.#origin, hold)
      : buildSubsequentOffer(this.#config, hold, this.#local, this.#remote);
    const offer = nextVersion(this.#local, candidate);
    this.#begin('have-local-offer');
    this.#hold = hold;
    this.#pendingLocal = offer;
    return serializeSdp(offer);
  }

  /**
   * Applies the peer's answer to our offer and returns to `stable`. Returns the parsed answer.
   * Throws `OfferAnswerError` `ERR_NO_OFFER` when no offer of ours is outstanding, and `SdpError`
   * when the answer is malformed or has a different number of m= lines than the offer (RFC 3264
   * §6); in both cases nothing changes, and the caller may `rollback()`.
   */
  setRemoteAnswer(sdp: string): SessionDescription {
    if (this.#state !== 'have-local-offer' || this.#pendingLocal === undefined) {
      throw new OfferAnswerError('ERR_NO_OFFER', `an answer in state ${this.#state}, with no offer of ours outstanding (RFC 3264 §4)`, 400);
    }
    const answer = parseSdp(sdp);
    const offered = this.#pendingLocal.media.length;
    if (answer.media.length !== offered) {
      throw new SdpError(`the answer has ${answer.media.length} m= lines for an offer of ${offered} (RFC 3264 §6: exactly as many, in the same order)`);
    }
    // The peer's intent is not read from its answer (see hold-state.ts): the hold model stays.
    this.#local = this.#pendingLocal;
    this.#remote = answer;
    this.#end();
    return answer;
  }

  /**
   * Takes the peer's offer, prepares our answer, and enters `have-remote-offer`. Returns the
   * parsed offer; `remoteHolding` and `holdState` already reflect it. Throws, changing nothing:
   * - `OfferAnswerError` `ERR_OFFER_PENDING` while an offer is outstanding: status 491 when it is
   *   ours (glare, RFC 3261 §14.2), 500 when the peer's previous one is unanswered;
   * - `SdpError` for a malformed offer;
   * - `OfferAnswerError` `ERR_SDP_NOT_ACCEPTABLE` (488) when nothing offered can be accepted, or a
   *   later offer drops m= lines of the session (RFC 3264 §8).
   */
  setRemoteOffer(sdp: string): SessionDescription {
    if (this.#state === 'have-local-offer') {
      throw new OfferAnswerError('ERR_OFFER_PENDING', 'an offer from the peer while ours is outstanding: glare (RFC 3261 §14.2)', 491);
    }
    if (this.#state === 'have-remote-offer') {
      throw new OfferAnswerError('ERR_OFFER_PENDING', 'an offer from the peer while its previous one is unanswered (RFC 3261 §14.2)', 500);
    }
    const offer = parseSdp(sdp);
    const previous = this.#local?.media.length ?? 0;
    if (offer.media.length < previous) {
      throw new OfferAnswerError(
        'ERR_SDP_NOT_ACCEPTABLE',
        `the offer has ${offer.media.length} m= lines, fewer than the ${previous} of the session (RFC 3264 §8: m= lines are never removed)`,
        488,
      );
    }
    const hold = withRemoteOffer(this.#hold, offer);
    const candidate = buildAnswer(offer, this.#config, hold, this.#local?.origin ?? this.#origin);
    const answer = nextVersion(this.#local, candidate);
    this.#begin('have-remote-offer');
    this.#hold = hold;
    this.#pendingRemote = offer;
    this.#pendingLocal = answer;
    return offer;
  }

  /**
   * Our answer to the peer's outstanding offer (RFC 3264 §6); returns to `stable` with both
   * descriptions agreed. Throws `OfferAnswerError` `ERR_NO_OFFER` when no peer offer is outstanding.
   */
  createAnswer(): string {
    if (this.#state !== 'have-remote-offer' || this.#pendingLocal === undefined || this.#pendingRemote === undefined) {
      throw new OfferAnswerError('ERR_NO_OFFER', `cannot answer in state ${this.#state}: no offer from the peer outstanding (RFC 3264 §4)`, 500);
    }
    this.#local = this.#pendingLocal;
    this.#remote = this.#pendingRemote;
    this.#end();
    return serializeSdp(this.#local);
  }

  /**
   * Abandons the outstanding offer, ours or the peer's: the descriptions and the hold state are
   * put back exactly as they were before it, o= version included, so the session is as if the
   * exchange never happened (a re-INVITE answered 488 or 491 changes nothing, RFC 3261 §14.1).
   * Returns false, doing nothing, in `stable`.
   */
  rollback(): boolean {
    const before = this.#before;
    if (this.#state === 'stable' || before === undefined) return false;
    this.#local = before.local;
    this.#remote = before.remote;
    this.#hold = before.hold;
    this.#end();
    return true;
  }

  #begin(state: OfferAnswerState): void {
    this.#before = { local: this.#local, remote: this.#remote, hold: this.#hold };
    this.#state = state;
  }

  #end(): void {
    this.#state = 'stable';
    this.#before = undefined;
    this.#pendingLocal = undefined;
    this.#pendingRemote = undefined;
  }
}

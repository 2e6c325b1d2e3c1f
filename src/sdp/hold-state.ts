/**
 * The hold model (RFC 3264 §8.4, RFC 5359 §2.1): two separate facts, never one flag.
 *
 * - Our intent: whether the user put the call on hold. Only `hold()` and `resume()` change it;
 *   nothing the peer sends does.
 * - The peer's intent, per stream: the direction the peer last *offered*. A peer holds us when it
 *   offers not to receive: `sendonly`, `inactive`, or the RFC 2543 `c=0.0.0.0`.
 *
 * Answers do not change the peer's intent: an answer is bounded by our offer (RFC 3264 §6.1), so
 * `inactive` answered to our `sendonly` says nothing about whether the peer wants to hold us.
 * Keeping the two facts apart is what makes the hard cases right: a peer re-offering `sendrecv`
 * while we hold gets `sendonly` back and our hold stays; when both sides hold, each resume
 * restores only its own half, whichever side held first.
 */
import { answerDirection, intersect, offerDirection, receives, type Direction } from './direction.js';
import { effectiveDirection } from './session-description.js';
import type { SessionDescription } from './sdp-types.js';

export interface HoldState {
  /** Our intent: the user holds the call. */
  readonly localHold: boolean;
  /**
   * Per m= line, the direction the peer last offered for it, RFC 2543 hold folded in
   * (c=0.0.0.0 reads as not receiving); `undefined` where the peer offered port 0 or never offered.
   */
  readonly remoteOffered: ReadonlyArray<Direction | undefined>;
}

/** No hold on either side, nothing offered yet. */
export const INITIAL_HOLD_STATE: HoldState = { localHold: false, remoteOffered: [] };

/** The state with our intent set; the peer's side untouched. */
export function withLocalHold(state: HoldState, localHold: boolean): HoldState {
  return state.localHold === localHold ? state : { ...state, localHold };
}

/** The state after the peer offered `offer`: the peer's intent per stream, ours untouched. */
export function withRemoteOffer(state: HoldState, offer: SessionDescription): HoldState {
  return {
    ...state,
    remoteOffered: offer.media.map((m, i) => (m.port === 0 ? undefined : effectiveDirection(offer, i))),
  };
}

/** True when the peer's last offer for stream `index` declined to receive: it holds that stream. */
export function isRemoteHoldingStream(state: HoldState, index: number): boolean {
  const offered = state.remoteOffered[index];
  return offered !== undefined && !receives(offered);
}

/**
 * True when the peer holds the call: every stream it offered (port not 0) is held, and there is
 * at least one. A peer that stops receiving video but keeps audio two-way is not holding the call.
 */
export function isRemoteHolding(state: HoldState): boolean {
  const active = state.remoteOffered.map((d, i) => (d === undefined ? undefined : i)).filter((i) => i !== undefined);
  return active.length > 0 && active.every((i) => isRemoteHoldingStream(state, i));
}

/** What we want on a stream, before hearing the peer: everything our capability allows, minus receiving while we hold. */
export function localIntent(state: HoldState, capability: Direction = 'sendrecv'): Direction {
  return intersect(capability, state.localHold ? 'sendonly' : 'sendrecv');
}

/**
 * The direction to offer on stream `index` (RFC 3264 §8.4, RFC 5359 §2.1): `sendonly` to hold,
 * `inactive` to hold while the peer holds us, `sendrecv` to resume, `recvonly` to resume while
 * the peer still holds us; narrowed by what the stream can do at all.
 */
export function holdOfferDirection(state: HoldState, index: number, capability: Direction = 'sendrecv'): Direction {
  return intersect(capability, offerDirection(state.localHold, isRemoteHoldingStream(state, index)));
}

/**
 * The direction to answer an offered direction with (RFC 3264 §6.1), given our intent: a
 * `sendrecv` offer while we hold is answered `sendonly`, a `sendonly` offer `recvonly`, or
 * `inactive` when we hold too.
 */
export function holdAnswerDirection(state: HoldState, offered: Direction, capability: Direction = 'sendrecv'): Direction {
  return answerDirection(offered, localIntent(state, capability));
}

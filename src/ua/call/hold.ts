/**
 * Hold and resume (RFC 3264 §8.4, RFC 5359 §2.1) as a signalling decision of the call, with state
 * of its own (ARCHITECTURE.md): our intent and the peer's, read from the SDP layer's hold model,
 * and the events a change in either raises.
 *
 * The directions themselves are the SDP layer's (`holdOfferDirection`, `holdAnswerDirection`):
 * hold offers sendonly, or inactive when the peer holds us; resume offers sendrecv, or recvonly
 * while the peer holds us; the peer's offers are answered by §6.1. What this module adds is when
 * the state counts as changed: only once an exchange has completed. While our hold re-INVITE is
 * pending the call is not yet held, and a refused one (488, 500...) never was.
 */
import type { OfferAnswer } from '../../sdp/index.js';
import type { Reinvites } from './reinvite.js';
import type { Outcome } from './types.js';

/** The two facts of the hold model as last agreed. */
export interface HoldSnapshot {
  /** We hold the call (our offer stopped receiving, and the peer answered it). */
  readonly localHold: boolean;
  /** The peer holds the call (its last offer, answered, stopped receiving on every stream). */
  readonly remoteHold: boolean;
}

export type HoldEvent = 'held' | 'resumed' | 'remote-held' | 'remote-resumed';

/** The events that take the hold state from `before` to `after`, ours first. */
export function holdEvents(before: HoldSnapshot, after: HoldSnapshot): HoldEvent[] {
  const events: HoldEvent[] = [];
  if (before.localHold !== after.localHold) events.push(after.localHold ? 'held' : 'resumed');
  if (before.remoteHold !== after.remoteHold) events.push(after.remoteHold ? 'remote-held' : 'remote-resumed');
  return events;
}

/** One call's hold state, and hold()/resume() as re-INVITEs. */
export class Hold {
  readonly #offerAnswer: OfferAnswer;
  readonly #reinvites: Reinvites;
  readonly #emit: (event: HoldEvent) => void;
  #agreed: HoldSnapshot = { localHold: false, remoteHold: false };

  constructor(offerAnswer: OfferAnswer, reinvites: Reinvites, emit: (event: HoldEvent) => void) {
    this.#offerAnswer = offerAnswer;
    this.#reinvites = reinvites;
    this.#emit = emit;
  }

  get localHold(): boolean {
    return this.#agreed.localHold;
  }

  get remoteHold(): boolean {
    return this.#agreed.remoteHold;
  }

  /**
   * RFC 5359 §2.1: a re-INVITE whose SDP stops receiving (sendonly, or inactive while the peer
   * holds us), same c= address, o= version incremented (RFC 3264 §8: the SDP layer does both).
   * Queued behind a pending re-INVITE (RFC 3261 §14.1).
   */
  hold(): Promise<Outcome> {
    return this.#reinvites.offer({ hold: true });
  }

  /** RFC 3264 §8.4: a re-INVITE that receives again (sendrecv, or recvonly while the peer holds us). */
  resume(): Promise<Outcome> {
    return this.#reinvites.offer({ hold: false });
  }

  /**
   * An offer/answer exchange ended, done or rolled back: takes the SDP layer's model as agreed
   * and raises an event for each fact that changed. Only called while the layer is stable, so its
   * model is the agreed one, not a pending offer's.
   */
  settled(): void {
    const oa = this.#offerAnswer;
    if (oa.isPending) return;
    const after: HoldSnapshot = { localHold: oa.localHold, remoteHold: oa.remoteHolding };
    const events = holdEvents(this.#agreed, after);
    this.#agreed = after;
    for (const event of events) this.#emit(event);
  }
}

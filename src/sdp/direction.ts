/**
 * Media direction (RFC 8866 §6.7, RFC 3264 §5.1, §6.1) and the two decisions made with it: which
 * direction to answer an offered stream with, and which direction to offer for hold and resume.
 *
 * A direction is two independent bits seen from the side that writes it: "I send" and "I receive".
 * Every rule below is a statement about those bits, which is why they are computed rather than
 * tabulated: a table of sixteen cases is easy to get one row wrong in.
 */

/** The four direction attributes (RFC 8866 §6.7.1-§6.7.4). Absent means `sendrecv` (RFC 3264 §5.1). */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** All four, in the order RFC 8866 §6.7 lists them. */
export const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** Narrowing check for an attribute name read from the wire. */
export function isDirection(value: unknown): value is Direction {
  return value === 'sendrecv' || value === 'sendonly' || value === 'recvonly' || value === 'inactive';
}

/** True when the side that wrote `direction` is willing to send media. */
export function sends(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

/** True when the side that wrote `direction` is willing to receive media. */
export function receives(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

/** The direction with these two bits. */
export function directionOf(send: boolean, recv: boolean): Direction {
  if (send) return recv ? 'sendrecv' : 'sendonly';
  return recv ? 'recvonly' : 'inactive';
}

/**
 * The same stream seen from the other end: what one side sends, the other receives.
 * `sendonly` in an offer is `recvonly` for the answerer, and so on (RFC 3264 §6.1).
 */
export function reverse(direction: Direction): Direction {
  return directionOf(receives(direction), sends(direction));
}

/** The bits both directions allow: what is left after each side has said what it will not do. */
export function intersect(a: Direction, b: Direction): Direction {
  return directionOf(sends(a) && sends(b), receives(a) && receives(b));
}

/**
 * The direction to answer an offered stream with (RFC 3264 §6.1).
 *
 * `offered` is the offer's direction as the offerer wrote it (after RFC 2543 `c=0.0.0.0` has been
 * folded in, see `effectiveDirection`); `localWants` is what the answerer would like to do.
 * The answerer may send only if the offerer receives, and receive only if the offerer sends:
 * - sendonly offered -> recvonly, or inactive if we do not want to receive;
 * - recvonly offered -> sendonly, or inactive if we do not want to send;
 * - inactive offered -> inactive;
 * - sendrecv offered -> whatever we want.
 */
export function answerDirection(offered: Direction, localWants: Direction): Direction {
  return intersect(reverse(offered), localWants);
}

/**
 * The direction to offer for a stream given our hold intent and the peer's
 * (RFC 3264 §8.4, RFC 5359 §2.1).
 *
 * Holding means we stop receiving: we offer `sendonly` (we may still send, e.g. music on hold),
 * or `inactive` when the peer already holds us, since the peer's own hold means it does not want
 * to receive either. Resuming means `sendrecv`, or `recvonly` while the peer still holds us:
 * offering `sendrecv` then would ask the peer to receive media it has said it does not want.
 */
export function offerDirection(localHold: boolean, remoteHoldsUs: boolean): Direction {
  return directionOf(!remoteHoldsUs, !localHold);
}

/**
 * The public types of a call: its states, why it ended, what a method's promise settles with, and
 * its events. Kept apart from call.ts so that hold.ts and reinvite.ts use them without importing Call.
 */
import type { SessionDescription } from '../../sdp/index.js';
import type { InfoEvent } from './info.js';

/** Where a call stands: the UAC's INVITE (or the UAS's) is pending, a 1xx came, it is set up, it is over. */
export type CallState = 'calling' | 'ringing' | 'answered' | 'ended';

/** Which side the call is on: we sent the INVITE (`outgoing`) or received it (`incoming`). */
export type CallDirection = 'outgoing' | 'incoming';

/**
 * Why a call ended:
 * - `local-bye` / `remote-bye`: a BYE (RFC 3261 §15);
 * - `cancelled`: our CANCEL (UAC, §9.1) or the peer's (UAS, §9.2) ended it before the answer;
 * - `rejected`: a final non-2xx to the INVITE, ours or the peer's (`status` says which);
 * - `failed`: a timeout, a transport failure, a 481 in the dialog, no ACK for our 2xx (§13.3.1.4);
 * - `session-expired`: no session refresh came in time (RFC 4028 §10): we sent BYE;
 * - `closed`: the UserAgent was closed.
 */
export interface CallEndReason {
  readonly cause: 'local-bye' | 'remote-bye' | 'cancelled' | 'rejected' | 'failed' | 'session-expired' | 'closed';
  /** The SIP status behind it, when there is one (486, 487, 408...). */
  readonly status?: number;
  /** Words for a log. */
  readonly text: string;
}

/**
 * How a request made by a Call method ended. A non-2xx final response is an outcome, not an error
 * (ARCHITECTURE.md); a timeout counts as 408 and a transport failure as 503 (RFC 3261 §8.1.3.1).
 */
export type Outcome = { readonly ok: true } | { readonly ok: false; readonly status: number; readonly reason: string };

/** The events of a Call and their argument. */
export interface CallEvents {
  /** A provisional response (180, 183) to our INVITE. */
  ringing: { status: number };
  /** The call is set up: our INVITE's 2xx was ACKed (UAC), or our 2xx got its ACK (UAS). */
  answered: { remoteDescription: SessionDescription | undefined };
  /** Our hold (re-INVITE a=sendonly or inactive) was accepted (RFC 5359 §2.1). */
  held: Record<string, never>;
  /** Our resume was accepted. */
  resumed: Record<string, never>;
  /** The peer's offer stopped receiving on every stream: it holds us (RFC 3264 §8.4). */
  'remote-held': Record<string, never>;
  /** The peer's offer receives again. */
  'remote-resumed': Record<string, never>;
  /** A DTMF digit arrived as an RFC 4733 event on the call's RTP session (with a MediaFactory). */
  dtmf: { digit: string; durationMs: number };
  /** An INFO arrived in the dialog (RFC 6086) and was answered 200. */
  info: InfoEvent;
  ended: { reason: CallEndReason };
  /** Transferor: a NOTIFY of our REFER reported the target's progress (its sipfrag, RFC 3515 §2.4.5). */
  'transfer-progress': { status: number; reason: string };
  /**
   * The transfer succeeded: as transferor (`callId` undefined) the target answered and we BYE
   * the call; as transferee the new call (`callId`, in `UserAgent.calls`) is up.
   */
  transferred: { target: string; callId: string | undefined };
  /** The transfer failed (the call is kept: taken off hold by the transferee). */
  'transfer-failed': { status: number; reason: string };
  /** Transfer target: an INVITE with Replaces (RFC 3891) named this call; the new call (`callId`) is answered and this one ended. */
  replaced: { callId: string };
}

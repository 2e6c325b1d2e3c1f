/**
 * The UA's dialogs by id: where an incoming in-dialog request finds its dialog (RFC 3261 §12.2.2),
 * and where an INVITE with Replaces finds the dialog it replaces (RFC 3891 §3).
 */
import { SipError } from '../core/errors.js';
import type { ReplacesValue, SipRequest, SipResponse } from '../message/index.js';
import { dialogIdOf, dialogKey, type DialogId } from './dialog-id.js';
import type { Dialog } from './dialog.js';

/**
 * What an INVITE with Replaces meets (RFC 3891 §3): the dialog to replace, or the status the UA
 * answers the INVITE with.
 */
export type ReplacesMatch =
  | { dialog: Dialog }
  | { status: 481 | 486 | 603; reason: string };

export class DialogTable {
  private readonly byKey = new Map<string, Dialog>();

  get size(): number {
    return this.byKey.size;
  }

  [Symbol.iterator](): IterableIterator<Dialog> {
    return this.byKey.values();
  }

  /** Files a dialog under its id. Throws SipError ERR_INVALID_ARGUMENT when another dialog has that id. */
  add(dialog: Dialog): void {
    const filed = this.byKey.get(dialog.key);
    if (filed !== undefined && filed !== dialog) {
      throw new SipError('ERR_INVALID_ARGUMENT', `a dialog with id ${JSON.stringify(dialog.id)} is already filed`);
    }
    this.byKey.set(dialog.key, dialog);
  }

  /** Removes a dialog; true when it was filed. */
  remove(dialog: Dialog): boolean {
    if (this.byKey.get(dialog.key) !== dialog) return false;
    return this.byKey.delete(dialog.key);
  }

  /** The dialog with this id, whatever its state. */
  get(id: DialogId): Dialog | undefined {
    return this.byKey.get(dialogKey(id));
  }

  /**
   * The dialog an incoming request belongs to (§12.2.2): its To tag is the local tag, its From tag
   * the remote one. Undefined for a request without a To tag (not in a dialog: §12.2.2 hands it
   * to §8.2), and for one whose dialog is unknown or terminated: the UA answers that 481 (an ACK,
   * which cannot be answered, it drops).
   */
  match(request: SipRequest): Dialog | undefined {
    if (request.toTag === undefined) return undefined;
    const dialog = this.byKey.get(dialogKey(dialogIdOf(request, 'uas')));
    return dialog?.state === 'terminated' ? undefined : dialog;
  }

  /**
   * The dialog a response to a request this UA sent belongs to: its From tag is the local tag, its
   * To tag the remote one. Undefined when there is none, or it is terminated (a 2xx from a fork
   * the UA has not seen yet goes to the request's DialogSet instead).
   */
  matchResponse(response: SipResponse): Dialog | undefined {
    const dialog = this.byKey.get(dialogKey(dialogIdOf(response, 'uac')));
    return dialog?.state === 'terminated' ? undefined : dialog;
  }

  /**
   * The dialog an INVITE's Replaces names (RFC 3891 §3). The tags are read as if they were in a
   * request this UA received: to-tag is the local tag, from-tag the remote one. Then:
   * - no such dialog, or one not created by an INVITE: 481;
   * - a terminated dialog: 603;
   * - a confirmed dialog when `early-only` is given: 486;
   * - an early dialog this UA did not initiate (it is its UAS): 481;
   * - otherwise the dialog, which the UA ends once the new one is set up.
   * A tag `0` also matches an empty tag (RFC 3891 §6.1).
   * Checking that the sender may replace the dialog (RFC 3891 §3, §7) is the UA's.
   */
  matchReplaces(replaces: ReplacesValue): ReplacesMatch {
    const dialog = this.findReplaced(replaces);
    if (dialog === undefined || dialog.method !== 'INVITE') return { status: 481, reason: 'Call/Transaction Does Not Exist' };
    if (dialog.state === 'terminated') return { status: 603, reason: 'Decline' };
    if (dialog.state === 'confirmed' && replaces.earlyOnly) return { status: 486, reason: 'Busy Here' };
    if (dialog.state === 'early' && dialog.role === 'uas') return { status: 481, reason: 'Call/Transaction Does Not Exist' };
    return { dialog };
  }

  /**
   * RFC 3891 §6.1: "a tag of zero matches both tags of zero and null", for dialogs with an RFC
   * 2543 peer, which sent no tag (kept here as the empty tag).
   */
  private findReplaced(replaces: ReplacesValue): Dialog | undefined {
    const { callId, toTag, fromTag } = replaces;
    const locals = toTag === '0' ? ['0', ''] : [toTag];
    const remotes = fromTag === '0' ? ['0', ''] : [fromTag];
    for (const localTag of locals) {
      for (const remoteTag of remotes) {
        const dialog = this.byKey.get(dialogKey({ callId, localTag, remoteTag }));
        if (dialog !== undefined) return dialog;
      }
    }
    return undefined;
  }
}

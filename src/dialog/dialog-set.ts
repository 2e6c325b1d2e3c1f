/**
 * The dialogs one dialog-creating request leads to (RFC 3261 §12.1.2, §13.2.2.4): a forking proxy
 * may deliver it to several UASs, each answering with its own To tag, so one INVITE may have
 * several early dialogs and even several confirmed ones. They share the Call-ID and the local
 * tag, and differ by remote tag.
 */
import { SipError } from '../core/errors.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import { Dialog, type DialogOptions } from './dialog.js';

/** Options of `DialogSet`. */
export interface DialogSetOptions extends DialogOptions {
  /** Called with each dialog the set creates, before `receiveResponse` returns it (to file it in a DialogTable). */
  onDialog?(dialog: Dialog): void;
}

export class DialogSet {
  /** The dialog-creating request this UA sent (an INVITE, a SUBSCRIBE...). */
  readonly request: SipRequest;
  readonly callId: string;
  readonly localTag: string;
  /** Call-ID and local tag: the set's key in maps. */
  readonly key: string;
  private readonly options: DialogSetOptions;
  /** By remote tag, lower-cased as dialogKey compares it. */
  private readonly byTag = new Map<string, Dialog>();
  private _finalNon2xx = false;

  constructor(request: SipRequest, options: DialogSetOptions = {}) {
    this.request = request;
    this.callId = request.callId;
    this.localTag = request.fromTag ?? '';
    this.key = this.callId + '\n' + this.localTag.toLowerCase();
    this.options = options;
  }

  /** The dialogs, in the order they were created. */
  get dialogs(): Dialog[] {
    return [...this.byTag.values()];
  }

  /** The dialogs a 2xx confirmed (§13.2.2.4: with forking, there may be more than one). */
  get confirmed(): Dialog[] {
    return this.dialogs.filter((d) => d.state === 'confirmed');
  }

  /** The dialog of this remote tag, if any. */
  get(remoteTag: string): Dialog | undefined {
    return this.byTag.get(remoteTag.toLowerCase());
  }

  /** True once a non-2xx final response came: no further dialog can be created. */
  get failed(): boolean {
    return this._finalNon2xx;
  }

  /**
   * A response to the request. Returns the dialog it belongs to, created when needed, or
   * undefined when it has none:
   * - 100, and other 1xx without a To tag, create nothing (§12.1);
   * - a 101-198 with a To tag creates an early dialog for that tag (§12.1.2), or updates the one
   *   it has; a 199 ends the early dialog of its tag (RFC 6228) and creates none;
   * - a 2xx confirms the early dialog of its To tag, or creates a confirmed one: each fork that
   *   answers 2xx gets its own (§13.2.2.4), and the UA acknowledges each and may end the extras;
   * - a non-2xx final ends every early dialog of the set (§12.3) and returns undefined.
   * Throws SipError ERR_INVALID_ARGUMENT for a response to another request.
   */
  receiveResponse(response: SipResponse): Dialog | undefined {
    const cseq = response.cseq;
    const reqCseq = this.request.cseq;
    if (response.callId !== this.callId || (response.fromTag ?? '') !== this.localTag || cseq.seq !== reqCseq.seq || cseq.method !== reqCseq.method) {
      throw new SipError('ERR_INVALID_ARGUMENT', `the ${response.status} (${cseq.seq} ${cseq.method}) does not answer this ${reqCseq.seq} ${reqCseq.method}`);
    }
    const status = response.status;
    if (status >= 300) {
      this._finalNon2xx = true;
      for (const dialog of this.byTag.values()) if (dialog.state === 'early') dialog.terminate();
      return undefined;
    }
    const toTag = response.toTag;
    if (status < 200 && (status === 100 || toTag === undefined)) return undefined;
    const existing = this.byTag.get((toTag ?? '').toLowerCase());
    if (existing !== undefined) {
      existing.receiveResponse(response);
      return existing;
    }
    // After a non-2xx final, a late provisional response creates nothing; a late 2xx still gets
    // its dialog, so that the UA can ACK it and end it (§13.2.2.4).
    if ((this._finalNon2xx && status < 200) || status === 199) return undefined;
    const dialog = Dialog.forUac(this.request, response, this.options);
    this.byTag.set((toTag ?? '').toLowerCase(), dialog);
    this.options.onDialog?.(dialog);
    return dialog;
  }

  /** Ends every dialog of the set that is not terminated yet. */
  terminate(): void {
    for (const dialog of this.byTag.values()) dialog.terminate();
  }
}

/**
 * A dialog (RFC 3261 §12): the state two UAs share between the request that creates it and its
 * end, and the in-dialog requests built from that state.
 *
 * The Dialog neither sends nor answers anything: the UA feeds it the messages of the dialog and
 * gets back decisions (`receiveRequest` returns a verdict, e.g. 500 for an out-of-order request)
 * and requests to send (`createRequest`, `createAck`).
 */
import { randomInt } from 'node:crypto';
import { SipError } from '../core/errors.js';
import { isSipUri, type NameAddr, type SipRequest, type SipResponse, type Uri } from '../message/index.js';
import { newParams } from '../message/params.js';
import type { TransportProtocol } from '../transport/index.js';
import { dialogIdOf, dialogKey, sameDialog, type DialogId, type DialogRole } from './dialog-id.js';
import { buildInDialogRequest, type AckOptions, type DialogRequestOptions, type InDialogState } from './in-dialog-request.js';
import { RouteSet } from './route-set.js';
import { contactOf, contactTextOf, isTargetRefresh, type ContactText } from './target-refresh.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

/** Options of `Dialog.forUac` and `Dialog.forUas`. */
export interface DialogOptions {
  /**
   * The transport the creating request was sent (UAC) or received (UAS) over; with a sips:
   * Request-URI, TLS or WSS makes the dialog secure (§12.1.1, §12.1.2). A UAS passes its
   * `Source.protocol`. When omitted, a sips: Request-URI alone makes the dialog secure: hookflash
   * resolves a sips: URI to TLS targets only (RFC 3263 §4.1, RFC 3261 §26.2.2).
   */
  transport?: TransportProtocol;
}

/**
 * What the UA does with a request received in the dialog (§12.2.2): go on with it, or answer it
 * with `status` and stop. Never sent by the Dialog itself.
 */
export type RequestVerdict =
  | { accept: true; /** The request moved the remote target (§12.2.2). */ targetRefreshed: boolean }
  | { accept: false; status: 481 | 500; reason: string };

/** The largest CSeq number (§8.1.1.5: a 32-bit unsigned integer). */
const MAX_CSEQ = 2 ** 32 - 1;

/**
 * An initial CSeq number for a new call or an empty local sequence number (§8.1.1.5, §12.2.1.1):
 * random, and below 2^30 rather than just below 2^31, so that the numbers a long dialog counts
 * up to stay below 2^31 too, for peers that keep them in signed 32-bit integers.
 */
export function newCSeqNumber(): number {
  return randomInt(1, 2 ** 30);
}

interface DialogInit {
  role: DialogRole;
  method: string;
  id: DialogId;
  state: 'early' | 'confirmed';
  localIdentity: NameAddr;
  remoteIdentity: NameAddr;
  localContact: ContactText | undefined;
  remoteTarget: Uri;
  routeSet: RouteSet;
  localSeq: number | undefined;
  remoteSeq: number | undefined;
  creatingSeq: number;
  secure: boolean;
}

export class Dialog {
  /** This UA's role in the transaction that created the dialog. */
  readonly role: DialogRole;
  /** The method of the request that created the dialog: INVITE, SUBSCRIBE, REFER... */
  readonly method: string;
  readonly id: DialogId;
  /** `dialogKey(id)`: the dialog's key in maps. */
  readonly key: string;
  /** §12.1.1, §12.1.2: a sips: Request-URI, over TLS. */
  readonly secure: boolean;
  /** The local URI and display name, as the From of requests this UA sends (no tag: that is `id.localTag`). */
  readonly localIdentity: NameAddr;
  /** The remote URI and display name, as the To of requests this UA sends. */
  readonly remoteIdentity: NameAddr;
  private _state: DialogState;
  private _routeSet: RouteSet;
  private _remoteTarget: Uri;
  private _localContact: ContactText | undefined;
  private _localSeq: number | undefined;
  private _remoteSeq: number | undefined;
  /** CSeq number of the creating request: its responses are told from those of later requests by it. */
  private readonly creatingSeq: number;

  private constructor(init: DialogInit) {
    this.role = init.role;
    this.method = init.method;
    this.id = Object.freeze({ ...init.id });
    this.key = dialogKey(init.id);
    this.secure = init.secure;
    this.localIdentity = init.localIdentity;
    this.remoteIdentity = init.remoteIdentity;
    this._state = init.state;
    this._routeSet = init.routeSet;
    this._remoteTarget = init.remoteTarget;
    this._localContact = init.localContact;
    this._localSeq = init.localSeq;
    this._remoteSeq = init.remoteSeq;
    this.creatingSeq = init.creatingSeq;
  }

  /**
   * The dialog a UAC gets from a response to its dialog-creating `request` (§12.1.2): early for a
   * 101-199 with a To tag, confirmed for a 2xx. The route set is the response's Record-Route
   * reversed; the remote target its Contact; the local sequence number the request's CSeq; the
   * remote one empty. A 2xx without a To tag (RFC 2543) gives an empty remote tag.
   * Throws SipError ERR_INVALID_ARGUMENT when the response cannot create a dialog or is not one
   * of `request`'s.
   */
  static forUac(request: SipRequest, response: SipResponse, options: DialogOptions = {}): Dialog {
    const status = response.status;
    if (status <= 100 || status >= 300) invalid(`a ${status} creates no dialog (RFC 3261 §12.1)`);
    if (status === 199) invalid('a 199 ends an early dialog rather than creating one (RFC 6228)');
    if (status < 200 && response.toTag === undefined) invalid('a provisional response without a To tag creates no dialog (RFC 3261 §12.1)');
    checkResponseOf(request, response);
    return new Dialog({
      role: 'uac',
      method: request.method,
      id: dialogIdOf(response, 'uac'),
      state: status < 200 ? 'early' : 'confirmed',
      localIdentity: identity(request.from),
      remoteIdentity: identity(request.to),
      localContact: contactTextOf(request),
      // DEVIATION(RFC 3261 §12.1.2): a response without Contact (common on 18x, a fault on a
      // 2xx) leaves the request's Request-URI as the remote target rather than no target at all.
      remoteTarget: contactOf(response)?.uri ?? request.uri,
      routeSet: RouteSet.forUac(response),
      localSeq: request.cseq.seq,
      remoteSeq: undefined,
      creatingSeq: request.cseq.seq,
      secure: isSecure(request, options),
    });
  }

  /**
   * The dialog a UAS gets when it answers the dialog-creating `request` with `response` (§12.1.1):
   * early for a 101-199, confirmed for a 2xx. The route set is the request's Record-Route in
   * order; the remote target its Contact; the remote sequence number its CSeq; the local one
   * empty until the first request this UA sends. The local tag is the response's To tag.
   * Throws SipError ERR_INVALID_ARGUMENT when the response cannot create a dialog, is not one of
   * `request`'s, or the request has no Contact (§8.1.1.8: the UA answers such a request 400).
   */
  static forUas(request: SipRequest, response: SipResponse, options: DialogOptions = {}): Dialog {
    const status = response.status;
    if (status <= 100 || status >= 300) invalid(`a ${status} creates no dialog (RFC 3261 §12.1)`);
    if (response.toTag === undefined) invalid('a response that creates a dialog carries a To tag (RFC 3261 §12.1.1)');
    checkResponseOf(request, response);
    const remoteTarget = contactOf(request)?.uri;
    if (remoteTarget === undefined) invalid(`a dialog-creating ${request.method} carries a Contact (RFC 3261 §8.1.1.8)`);
    return new Dialog({
      role: 'uas',
      method: request.method,
      id: dialogIdOf(response, 'uas'),
      state: status < 200 ? 'early' : 'confirmed',
      localIdentity: identity(request.to),
      remoteIdentity: identity(request.from),
      localContact: contactTextOf(response),
      remoteTarget,
      routeSet: RouteSet.forUas(request),
      localSeq: undefined,
      remoteSeq: request.cseq.seq,
      creatingSeq: request.cseq.seq,
      secure: isSecure(request, options),
    });
  }

  get state(): DialogState {
    return this._state;
  }

  /** The route set (§12.1.1, §12.1.2); fixed once the dialog is confirmed. */
  get routeSet(): RouteSet {
    return this._routeSet;
  }

  /** Where requests in the dialog go (§12.2.1.1): the peer's latest Contact (§12.2). */
  get remoteTarget(): Uri {
    return this._remoteTarget;
  }

  /** This UA's Contact in the dialog, sent in target refresh requests (§12.2.1.1); undefined until known. */
  get localTarget(): Uri | undefined {
    return this._localContact?.uri;
  }

  get localUri(): Uri {
    return this.localIdentity.uri;
  }

  get remoteUri(): Uri {
    return this.remoteIdentity.uri;
  }

  /** The CSeq number of the last request this UA sent in the dialog, other than ACK and CANCEL; undefined while empty. */
  get localSeq(): number | undefined {
    return this._localSeq;
  }

  /** The highest CSeq number received from the peer (§12.2.2); undefined while empty. */
  get remoteSeq(): number | undefined {
    return this._remoteSeq;
  }

  /**
   * A request received in this dialog (§12.2.2), as `DialogTable.match` found it. Checks its CSeq
   * against the remote sequence number: lower means out of order, and the verdict is 500 (the
   * dialog is left as it was). Otherwise the remote sequence number moves up to it, and a target
   * refresh request with a Contact replaces the remote target, as §12.2.2 says, on receipt.
   * ACK and CANCEL reuse their INVITE's number and are not counted; they always get `accept`.
   * A terminated dialog answers 481. Throws SipError ERR_INVALID_ARGUMENT for another dialog's request.
   */
  receiveRequest(request: SipRequest): RequestVerdict {
    if (!sameDialog(dialogIdOf(request, 'uas'), this.id)) invalid(`${request.method} is not a request of dialog ${describe(this.id)}`);
    const method = request.method;
    if (method === 'ACK' || method === 'CANCEL') return { accept: true, targetRefreshed: false };
    if (this._state === 'terminated') return { accept: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
    const seq = request.cseq.seq;
    if (this._remoteSeq !== undefined && seq < this._remoteSeq) {
      return { accept: false, status: 500, reason: `CSeq ${seq} is lower than ${this._remoteSeq} (out of order)` };
    }
    this._remoteSeq = seq;
    return { accept: true, targetRefreshed: isTargetRefresh(method) && this.refreshTarget(request) };
  }

  /**
   * A response to a request this UA sent in the dialog, the creating one included:
   * - to the creating request: a later provisional response with a Contact moves the remote
   *   target of the early dialog; a 2xx confirms it, and the route set and remote target are
   *   recomputed from the 2xx (§13.2.2.4); a non-2xx final, or a 199 (RFC 6228), ends the early
   *   dialog (§12.3). A retransmitted 2xx changes nothing.
   * - to a later request: a 2xx to a target refresh request moves the remote target to its
   *   Contact (§12.2.1.2); a 481 ends the dialog (§12.2.1.2).
   * Throws SipError ERR_INVALID_ARGUMENT for another dialog's response.
   */
  receiveResponse(response: SipResponse): void {
    if (!sameDialog(dialogIdOf(response, 'uac'), this.id)) invalid(`${response.status} is not a response of dialog ${describe(this.id)}`);
    if (this._state === 'terminated') return;
    const status = response.status;
    const cseq = response.cseq;
    if (this.role === 'uac' && cseq.method === this.method && cseq.seq === this.creatingSeq) {
      if (this._state !== 'early') return;
      if (status === 199) {
        // RFC 6228: 199 Early Dialog Terminated says this fork has given up.
        this._state = 'terminated';
      } else if (status < 200) {
        // A choice: RFC 3261 does not say whether a later provisional response moves the target
        // of an early dialog; its Contact is where the UAS can be reached now, so it does.
        if (status > 100) this.refreshTarget(response);
      } else if (status < 300) {
        this._state = 'confirmed';
        this._routeSet = RouteSet.forUac(response);
        this.refreshTarget(response);
      } else {
        this._state = 'terminated';
      }
      return;
    }
    if (status >= 200 && status < 300 && isTargetRefresh(cseq.method)) this.refreshTarget(response);
    // §12.2.1.2 also says a 408 SHOULD end the dialog. A 408 (or a timeout) ends the usage it
    // happened in, which the UA decides; with several usages (RFC 5057) the others live on.
    else if (status === 481) this._state = 'terminated';
  }

  /**
   * A response this UA (as UAS) is about to send to a request of the dialog. A 2xx to the
   * creating request confirms an early dialog; a non-2xx final to it ends the early dialog
   * (§12.3). A Contact in a 2xx (or, for the creating request, a provisional response) becomes
   * the local target. Throws SipError ERR_INVALID_ARGUMENT for another dialog's response.
   */
  sendingResponse(response: SipResponse): void {
    if (!sameDialog(dialogIdOf(response, 'uas'), this.id)) invalid(`${response.status} is not a response of dialog ${describe(this.id)}`);
    if (this._state === 'terminated') return;
    const status = response.status;
    const cseq = response.cseq;
    const creating = this.role === 'uas' && cseq.method === this.method && cseq.seq === this.creatingSeq;
    const success = status >= 200 && status < 300;
    if ((success && (creating || isTargetRefresh(cseq.method))) || (creating && status > 100 && status < 200)) {
      this._localContact = contactTextOf(response) ?? this._localContact;
    }
    if (!creating || this._state !== 'early' || status < 200) return;
    this._state = status < 300 ? 'confirmed' : 'terminated';
  }

  /** Ends the dialog (a BYE sent or received, a usage ended...). Idempotent. */
  terminate(): void {
    this._state = 'terminated';
  }

  /**
   * A request in the dialog (§12.2.1.1): Request-URI and Route from the route set and the remote
   * target, From and To with the dialog's URIs and tags, its Call-ID, the next local CSeq number
   * (an empty local sequence number starts at a random value, §8.1.1.5), Max-Forwards, and, for a
   * target refresh request, the local Contact. No Via: the transaction layer adds it.
   *
   * ACK is built by `createAck` (§13.2.2.4) and CANCEL from the request it cancels (§9.1): both
   * are refused here, as they take no CSeq number of their own. Throws SipError
   * ERR_INVALID_ARGUMENT for those, and for a target refresh request when no local Contact is
   * known and none is given; ERR_INVALID_STATE once the dialog is terminated.
   */
  createRequest(method: string, options: DialogRequestOptions = {}): SipRequest {
    if (method === 'ACK') invalid('the ACK for a 2xx is built with createAck (RFC 3261 §13.2.2.4)');
    if (method === 'CANCEL') invalid('a CANCEL is built from the request it cancels (RFC 3261 §9.1), not from the dialog');
    if (this._state === 'terminated') throw new SipError('ERR_INVALID_STATE', `dialog ${describe(this.id)} is terminated`);
    const contact = options.contact ?? (isTargetRefresh(method) ? this._localContact?.text : undefined);
    if (contact === undefined && isTargetRefresh(method)) {
      invalid(`a ${method} in a dialog is a target refresh and carries a Contact (RFC 3261 §12.2.1.1): none is known, pass options.contact`);
    }
    const seq = this._localSeq === undefined ? newCSeqNumber() : this._localSeq + 1;
    if (seq > MAX_CSEQ) throw new SipError('ERR_INVALID_STATE', `the dialog's CSeq numbers are used up (RFC 3261 §8.1.1.5: 32 bits)`);
    const request = buildInDialogRequest(this.requestState(), method, seq, { ...options, contact });
    this._localSeq = seq;
    return request;
  }

  /**
   * The ACK for a 2xx to the INVITE whose CSeq number is `inviteSeq` (§13.2.2.4): built like any
   * request in the dialog, with that number and method ACK, and no Via, so the transaction layer
   * gives it a new branch (§17.1.1.3: it is a transaction of its own). Pass `options.invite` to
   * copy the INVITE's credentials. The local sequence number does not move. A terminated dialog
   * still acknowledges (a 2xx retransmitted after a BYE is ACKed all the same, §13.2.2.4).
   * Throws SipError ERR_INVALID_ARGUMENT when `response` is not a 2xx to that INVITE in this
   * dialog, and ERR_INVALID_STATE while the dialog is early (pass the 2xx to receiveResponse, or
   * DialogSet.receiveResponse, first: it sets the route set the ACK follows).
   */
  createAck(inviteSeq: number, response: SipResponse, options: AckOptions = {}): SipRequest {
    const status = response.status;
    if (status < 200 || status >= 300) invalid(`only a 2xx is acknowledged by the UA, not a ${status} (RFC 3261 §17.1.1.3)`);
    const cseq = response.cseq;
    if (cseq.method !== 'INVITE' || cseq.seq !== inviteSeq) invalid(`the ${status} answers ${cseq.seq} ${cseq.method}, not ${inviteSeq} INVITE`);
    if (!sameDialog(dialogIdOf(response, 'uac'), this.id)) invalid(`the ${status} is not a response of dialog ${describe(this.id)}`);
    if (this._state === 'early') throw new SipError('ERR_INVALID_STATE', 'the dialog is still early: apply the 2xx first (RFC 3261 §13.2.2.4)');
    const credentials: Array<[string, string]> = [];
    if (options.invite !== undefined) {
      // §13.2.2.4: the ACK carries the INVITE's credentials (an ACK cannot be challenged).
      for (const name of ['Authorization', 'Proxy-Authorization']) for (const v of options.invite.getAll(name)) credentials.push([name, v]);
    }
    const extra = options.headers === undefined ? [] : Array.isArray(options.headers) ? options.headers : Object.entries(options.headers);
    return buildInDialogRequest(this.requestState(), 'ACK', inviteSeq, {
      headers: [...credentials, ...extra],
      body: options.body,
      contentType: options.contentType,
      maxForwards: options.maxForwards,
    });
  }

  private requestState(): InDialogState {
    return {
      id: this.id,
      localIdentity: this.localIdentity,
      remoteIdentity: this.remoteIdentity,
      routeSet: this._routeSet,
      remoteTarget: this._remoteTarget,
    };
  }

  /** §12.2.1.2, §12.2.2: the remote target becomes the message's Contact, when it has one. */
  private refreshTarget(message: SipRequest | SipResponse): boolean {
    const target = contactOf(message)?.uri;
    if (target === undefined) return false;
    this._remoteTarget = target;
    return true;
  }
}

/** A From or To value as the dialog keeps it: URI, display name and parameters, without the tag. */
function identity(value: NameAddr): NameAddr {
  const params = Object.assign(newParams(), value.params);
  delete params.tag;
  return value.displayName === undefined ? { uri: value.uri, params } : { displayName: value.displayName, uri: value.uri, params };
}

/**
 * §12.1.1, §12.1.2: secure when the request's Request-URI is sips: and it went over TLS. WSS is
 * TLS too (RFC 7118 §5.2 maps sips: onto WSS).
 */
function isSecure(request: SipRequest, options: DialogOptions): boolean {
  const uri = request.uri;
  if (!isSipUri(uri) || uri.scheme !== 'sips') return false;
  return options.transport === undefined || options.transport === 'TLS' || options.transport === 'WSS';
}

/** The response must be one of the request's: same Call-ID, From tag and CSeq (§8.1.3.3, §17.1.3 did the rest). */
function checkResponseOf(request: SipRequest, response: SipResponse): void {
  const cseq = response.cseq;
  const reqCseq = request.cseq;
  if (response.callId !== request.callId || (response.fromTag ?? '') !== (request.fromTag ?? '') || cseq.seq !== reqCseq.seq || cseq.method !== reqCseq.method) {
    invalid(`the ${response.status} (${cseq.seq} ${cseq.method}) does not answer this ${reqCseq.seq} ${reqCseq.method}`);
  }
}

function describe(id: DialogId): string {
  return `${id.callId};local-tag=${id.localTag};remote-tag=${id.remoteTag}`;
}

function invalid(message: string): never {
  throw new SipError('ERR_INVALID_ARGUMENT', message);
}

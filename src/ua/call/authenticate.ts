/**
 * Digest authentication for a call's requests (RFC 3261 §22.2): the initial INVITE, re-INVITEs,
 * BYE and whatever else the call sends through `CallAuth.request` or `CallAuth.endpoint`.
 *
 * - The initial INVITE, challenged, goes again as a new transaction with the same Call-ID, From
 *   tag and To, and CSeq+1 (§22.2); the same object, so a CANCEL is built from the last one sent.
 * - A request in the dialog takes its retry's CSeq from the dialog (§12.2.1.1), so the requests
 *   after it go on from there; a BYE sent as the dialog ends takes the number after the last.
 * - Each call has its own DigestClient: nonces are not offered to other peers, and a wrong
 *   password shows as the challenge coming back, which ends the request with that 401/407.
 *
 * No credentials are sent before a challenge asks for them (§22.1 allows it, but a server that
 * issues a nonce per request then rejects them, and the request fails for nothing).
 */
import { DigestClient, type DigestCredentials } from '../../auth/digest-client.js';
import type { Dialog } from '../../dialog/index.js';
import type { SipRequest, SipResponse } from '../../message/index.js';
import { requestWithAuth } from '../auth-retry.js';
import type { EndpointRequestOptions, SipEndpoint } from '../endpoint.js';

export type { DigestCredentials };

export class CallAuth {
  /**
   * The endpoint as the call's parts (the re-INVITE machinery) see it: `request` answers
   * challenges, everything else is the endpoint's own.
   */
  readonly endpoint: SipEndpoint;
  readonly #raw: SipEndpoint;
  readonly #digest: DigestClient | undefined;
  readonly #dialog: () => Dialog | undefined;
  readonly #contact: string;
  readonly #cancelling: () => boolean;
  /** The highest CSeq number used in the dialog by a retry, for retries after the dialog ended. */
  #lastSeq = 0;
  /** Retries sent, for tests and logs. */
  retries = 0;

  /**
   * `dialog`: the call's dialog, once there is one; `contact`: our Contact; `cancelling`: true
   * once the call is being cancelled, when a challenged initial INVITE is not sent again.
   */
  constructor(endpoint: SipEndpoint, credentials: DigestCredentials | undefined, dialog: () => Dialog | undefined, contact: string, cancelling: () => boolean = () => false) {
    this.#raw = endpoint;
    this.#cancelling = cancelling;
    this.#digest = credentials === undefined ? undefined : new DigestClient(credentials);
    this.#dialog = dialog;
    this.#contact = contact;
    this.endpoint = this.#digest === undefined ? endpoint : new Proxy(endpoint, {
      get: (target, prop): unknown => {
        if (prop === 'request') return (request: SipRequest, options?: EndpointRequestOptions) => this.request(request, options);
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  /** SipEndpoint.request, with 401/407 challenges answered (see the module comment). */
  request(request: SipRequest, options: EndpointRequestOptions = {}): Promise<SipResponse> {
    return requestWithAuth(this.#raw, request, this.#digest, {
      ...options,
      nextCSeq: (r) => this.#nextCSeq(r),
      onRetry: () => this.retries++,
      shouldRetry: () => request.toTag !== undefined || !this.#cancelling(),
    });
  }

  #nextCSeq(request: SipRequest): number {
    const dialog = this.#dialog();
    if (request.toTag === undefined || dialog === undefined) return request.cseq.seq + 1;
    let seq: number;
    if (dialog.state !== 'terminated') {
      // Dialog.createRequest moves the local CSeq on; the request it builds is not sent.
      seq = dialog.createRequest(request.method, { contact: this.#contact }).cseq.seq;
    } else {
      seq = Math.max(dialog.localSeq ?? 0, this.#lastSeq, request.cseq.seq) + 1;
    }
    this.#lastSeq = Math.max(this.#lastSeq, seq);
    return seq;
  }
}

/**
 * Building a request inside a dialog from the dialog's state (RFC 3261 §12.2.1.1), for Dialog's
 * createRequest and createAck.
 */
import { createRequest, type ExtraHeaders, type NameAddr, type SipRequest, type Uri } from '../message/index.js';
import { newParams } from '../message/params.js';
import type { DialogId } from './dialog-id.js';
import type { RouteSet } from './route-set.js';

/** Options of `Dialog.createRequest`. */
export interface DialogRequestOptions {
  headers?: ExtraHeaders;
  body?: Uint8Array | string;
  contentType?: string;
  /** 70 when absent (§8.1.1.6). */
  maxForwards?: number;
  /**
   * The Contact of this request, instead of the dialog's local target. Target refresh requests
   * carry the local target by default (§12.2.1.1: "the same as used in previous requests" unless
   * it must change); other requests carry a Contact only when given one here.
   */
  contact?: string | NameAddr;
}

/** Options of `Dialog.createAck`. */
export interface AckOptions {
  /** The INVITE being acknowledged: its Authorization and Proxy-Authorization are copied (§13.2.2.4). */
  invite?: SipRequest;
  headers?: ExtraHeaders;
  /** The answer, when the 2xx carried the offer (RFC 3264 §2; §13.2.2.4). */
  body?: Uint8Array | string;
  contentType?: string;
  maxForwards?: number;
}

/** The dialog state an in-dialog request is built from. */
export interface InDialogState {
  id: DialogId;
  localIdentity: NameAddr;
  remoteIdentity: NameAddr;
  routeSet: RouteSet;
  remoteTarget: Uri;
}

/**
 * §12.2.1.1: "The URI in the To field of the request MUST be set to the remote URI from the dialog
 * state. The tag in the To header field of the request MUST be set to the remote tag of the dialog
 * ID. The From URI of the request MUST be set to the local URI from the dialog state. The tag in
 * the From header field of the request MUST be set to the local tag of the dialog ID." Call-ID is
 * the dialog's; CSeq is `seq` with `method`; the Request-URI and Route come from the route set.
 */
export function buildInDialogRequest(state: InDialogState, method: string, seq: number, options: DialogRequestOptions): SipRequest {
  const { requestUri, route } = state.routeSet.requestTarget(state.remoteTarget);
  return createRequest({
    method,
    uri: requestUri,
    from: withTag(state.localIdentity, state.id.localTag),
    to: withTag(state.remoteIdentity, state.id.remoteTag),
    callId: state.id.callId,
    cseq: seq,
    maxForwards: options.maxForwards,
    route,
    contact: options.contact,
    headers: options.headers,
    body: options.body,
    contentType: options.contentType,
  });
}

/** A From or To value with the dialog's tag; an empty tag (an RFC 2543 peer's, §12.1.1) is left out. */
function withTag(identity: NameAddr, tag: string): NameAddr {
  const params = Object.assign(newParams(), identity.params);
  if (tag !== '') params.tag = tag;
  return identity.displayName === undefined ? { uri: identity.uri, params } : { displayName: identity.displayName, uri: identity.uri, params };
}

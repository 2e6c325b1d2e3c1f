/**
 * Requests a UAC sends in the dialog an INVITE's 2xx created: the ACK for that 2xx (RFC 3261
 * §13.2.2.4) and later requests such as BYE (§12.2.1.1, §15.1.1).
 *
 * A stopgap until src/dialog/ lands: the dialog state (route set, remote target, tags, Call-ID)
 * is read from the INVITE and its 2xx each time rather than kept in a Dialog object.
 */
import { createRequest, isSipUri, type ExtraHeaders, type NameAddr, type SipRequest, type SipResponse, type SipUri, type Uri } from '../message/index.js';
import { newParams } from '../message/params.js';
import { SipError } from '../core/errors.js';

export interface DialogRequestOptions {
  /**
   * CSeq number. Default for an ACK: the INVITE's (§13.2.2.4); for anything else: the INVITE's
   * plus one (§12.2.1.1: one higher than the last request of the dialog, which the caller tracks
   * when it sends more than one).
   */
  cseq?: number;
  body?: Uint8Array | string;
  contentType?: string;
  headers?: ExtraHeaders;
}

/**
 * The ACK for a 2xx to `invite` (§13.2.2.4): built like any in-dialog request (§12.2.1.1), with
 * the INVITE's CSeq number and its credentials. No Via: the transaction layer adds one with a new
 * branch, as the ACK for a 2xx is a transaction of its own (§17.1.1.3).
 */
export function createAck(invite: SipRequest, response: SipResponse, options: DialogRequestOptions = {}): SipRequest {
  if (response.status < 200 || response.status >= 300) {
    throw new SipError('ERR_INVALID_ARGUMENT', `the UA core acknowledges only 2xx responses, not ${response.status} (RFC 3261 §17.1.1.3)`);
  }
  // §13.2.2.4: "the same credentials as the INVITE" (an ACK cannot be challenged).
  const credentials: Array<[string, string]> = [];
  for (const name of ['Authorization', 'Proxy-Authorization']) for (const v of invite.getAll(name)) credentials.push([name, v]);
  const extra = options.headers === undefined ? [] : Array.isArray(options.headers) ? options.headers : Object.entries(options.headers);
  return build(invite, response, 'ACK', options.cseq ?? invite.cseq.seq, { ...options, headers: [...credentials, ...extra] });
}

/** A request other than ACK in the dialog of `invite` and its 2xx `response` (§12.2.1.1), e.g. BYE (§15.1.1). */
export function createDialogRequest(invite: SipRequest, response: SipResponse, method: string, options: DialogRequestOptions = {}): SipRequest {
  if (method === 'ACK') return createAck(invite, response, options);
  return build(invite, response, method, options.cseq ?? invite.cseq.seq + 1, options);
}

function build(invite: SipRequest, response: SipResponse, method: string, cseq: number, options: DialogRequestOptions): SipRequest {
  // §12.1.2: the route set is the 2xx's Record-Route in reverse order; the remote target its
  // Contact. A 2xx without Contact breaks §12.1.1; the INVITE's Request-URI is the best guess left.
  const routeSet = [...response.recordRoute].reverse();
  const contact = response.contact;
  const remoteTarget: Uri = contact !== undefined && contact !== '*' && contact[0] !== undefined ? contact[0].uri : invite.uri;
  let uri: Uri = remoteTarget;
  let route: NameAddr[] = routeSet;
  const first = routeSet[0];
  if (first !== undefined && isSipUri(first.uri) && first.uri.params.lr === undefined) {
    // §12.2.1.1: a strict router first: it goes in the Request-URI, and the remote target
    // becomes the last Route.
    uri = requestUriOf(first.uri);
    route = [...routeSet.slice(1), { uri: remoteTarget, params: newParams() }];
  }
  const request = createRequest({
    method,
    uri,
    from: invite.get('from')!,
    to: response.get('to')!,
    callId: invite.callId,
    cseq,
    route,
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
  });
  return request;
}

/** §12.2.1.1, §19.1.1: a route URI as a Request-URI: without the parameters and headers not allowed there. */
function requestUriOf(uri: SipUri): SipUri {
  const params = Object.assign(newParams(), uri.params);
  delete params.method;
  return { ...uri, params, headers: {} };
}

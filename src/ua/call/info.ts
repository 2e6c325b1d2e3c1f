/**
 * INFO received in a dialog (RFC 6086 §4.2.2): answered 200 and surfaced as the Call's `info`
 * event with its content type and body. (Info-Package negotiation is not done: every INFO is
 * taken, as legacy INFO usage, RFC 6086 §2, expects.) Outside a dialog the UserAgent answers 481.
 */
import { createResponse, type SipRequest } from '../../message/index.js';
import type { UasTransaction } from '../uas-transaction.js';

/** The argument of a Call's `info` event. */
export interface InfoEvent {
  /** Content-Type of the body (`type/subtype`, lower case), undefined when there is no body. */
  readonly contentType: string | undefined;
  /** The Info-Package the INFO names (RFC 6086 §7), if any. */
  readonly infoPackage: string | undefined;
  /** The body as text (UTF-8). */
  readonly body: string;
  /** The body as bytes. */
  readonly raw: Uint8Array;
  /** The INFO itself, for other headers. */
  readonly request: SipRequest;
}

/** Answers an INFO already accepted by the dialog, and returns the event to raise. */
export function receiveInfo(request: SipRequest, uas: UasTransaction): InfoEvent {
  uas.respond(createResponse(request, 200));
  const ct = request.contentType;
  return {
    contentType: ct === undefined || request.body.length === 0 ? undefined : `${ct.type}/${ct.subtype}`.toLowerCase(),
    infoPackage: request.get('info-package')?.trim(),
    body: request.bodyText,
    raw: request.body,
    request,
  };
}

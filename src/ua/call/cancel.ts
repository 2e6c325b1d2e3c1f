/**
 * The CANCEL for an INVITE this UA sent (RFC 3261 §9.1), built from the INVITE as it went out.
 */
import { createRequest, type SipRequest } from '../../message/index.js';

/**
 * §9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the
 * CANCEL request MUST be identical to those in the request being cancelled, including tags. A
 * CANCEL constructed by a client MUST have only a single Via header field value matching the top
 * Via value in the request being cancelled", and the same Route. The shared branch is what makes
 * the server match it to the INVITE's transaction (§9.2); the transaction layer keeps a CANCEL's
 * Via as it is. `invite` must have been sent (it carries our Via).
 */
export function createCancel(invite: SipRequest): SipRequest {
  const cancel = createRequest({
    method: 'CANCEL',
    uri: invite.uriText,
    from: invite.get('from')!,
    to: invite.get('to')!,
    callId: invite.callId,
    cseq: invite.cseq.seq,
    route: invite.route,
  });
  cancel.prepend('Via', invite.getAll('via')[0]!);
  return cancel;
}

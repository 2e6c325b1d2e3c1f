/**
 * The CANCEL a proxy sends for one branch (RFC 3261 §9.1, §16.10): the branch INVITE's
 * Request-URI, Call-ID, From, To, CSeq number and Route, and its top Via alone (same branch, so it
 * matches the server transaction downstream).
 */
import { createRequest, type SipRequest } from '../message/index.js';

export function createCancel(invite: SipRequest, reason?: string): SipRequest {
  const via = invite.topVia!;
  const from = invite.get('from')!;
  const cancel = createRequest({
    method: 'CANCEL',
    uri: invite.uriText,
    via,
    from,
    to: invite.get('to')!,
    callId: invite.callId,
    cseq: invite.cseq.seq,
    route: invite.getAll('route'),
    headers: reason === undefined ? undefined : [['Reason', reason]],
  });
  // createRequest adds a From tag to an RFC 2543 From; the CANCEL must carry it exactly.
  if (invite.fromTag === undefined) cancel.set('From', from);
  return cancel;
}

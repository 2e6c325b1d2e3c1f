/**
 * Answering Digest challenges for any request a UA sends (RFC 3261 §22.2, §22.3; RFC 7616; RFC
 * 8760): when a request gets 401 or 407, the DigestClient (src/auth) answers the challenge and the
 * request is sent again as a new transaction, with the same Call-ID, From and To and a higher CSeq
 * (§22.2: "... MUST increment the CSeq header field value as it would normally when sending an
 * updated request"); its ACK for the non-2xx was sent by the transaction layer (§17.1.1.3).
 *
 * The retry is the same SipRequest object, changed in place (Via removed, CSeq set, credentials
 * replaced), so that whoever holds it (the INVITE a CANCEL is built from, the re-INVITE whose 2xx
 * is ACKed with its CSeq and credentials, §13.2.2.4) holds the request that was last sent. The
 * INVITE client transaction built its ACK for the 401/407 when that came, so the change does not
 * reach it.
 *
 * Giving up is the DigestClient's call: a challenge it cannot answer, or one that rejects the
 * credentials it just sent (a wrong password) ends the loop, and the 401/407 is the outcome.
 */
import type { AuthorizationHeader, DigestClient } from '../auth/digest-client.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import type { EndpointRequestOptions, SipEndpoint } from './endpoint.js';

/** Challenges answered for one request at most (a proxy's 407, then the UAS's 401, stale nonces). */
export const MAX_AUTH_RETRIES = 4;

export interface AuthRetryOptions extends EndpointRequestOptions {
  /**
   * The CSeq number of the retry. Default the request's plus one, right for a request outside a
   * dialog; a request in a dialog takes the dialog's next local CSeq (§12.2.1.1).
   */
  nextCSeq?(request: SipRequest): number;
  /** Asked before each retry; false gives up (e.g. a call cancelled meanwhile). */
  shouldRetry?(challenge: SipResponse): boolean;
  /** Told of each retry (for logs and tests). */
  onRetry?(request: SipRequest, challenge: SipResponse): void;
}

/**
 * Sends `request` through `endpoint`, answering 401/407 challenges with `digest`, and resolves
 * with the last final response (rejects as SipEndpoint.request does). Without `digest`, a plain
 * SipEndpoint.request.
 */
export async function requestWithAuth(
  endpoint: Pick<SipEndpoint, 'request'>,
  request: SipRequest,
  digest: DigestClient | undefined,
  options: AuthRetryOptions = {},
): Promise<SipResponse> {
  const { nextCSeq, onRetry, shouldRetry, ...sendOptions } = options;
  let response = await endpoint.request(request, sendOptions);
  if (digest === undefined) return response;
  /** Credentials answered for this request so far: a retry carries every one (a proxy's and the UAS's). */
  const answered: AuthorizationHeader[] = [];
  for (let i = 0; i < MAX_AUTH_RETRIES && (response.status === 401 || response.status === 407); i++) {
    if (shouldRetry !== undefined && !shouldRetry(response)) break;
    const answer = digest.respond(request, response);
    if (answer === undefined) break;
    const seq = nextCSeq === undefined ? request.cseq.seq + 1 : nextCSeq(request);
    request.removeAll('Via');
    request.set('CSeq', `${seq} ${request.method}`);
    request.removeAll('Authorization');
    request.removeAll('Proxy-Authorization');
    for (const earlier of answered) {
      if (earlier.realm === answer.realm && earlier.name === answer.name) continue;
      for (const h of digest.authorize(request, earlier.realm)) if (h.name === earlier.name) request.append(h.name, h.value);
    }
    request.append(answer.name, answer.value);
    const known = answered.findIndex((h) => h.realm === answer.realm && h.name === answer.name);
    if (known >= 0) answered.splice(known, 1);
    answered.push(answer);
    onRetry?.(request, response);
    response = await endpoint.request(request, sendOptions);
  }
  return response;
}

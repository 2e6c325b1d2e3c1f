/**
 * Choosing the response to forward when every branch has ended without a 2xx (RFC 3261 §16.7
 * step 6), and merging the challenges of several branches into it (step 7).
 */
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';

/** §16.7 step 6: in the 4xx class these are preferred, as their sender can act on them. */
const PREFERRED_4XX = [401, 407, 415, 420, 484];

/**
 * The best final response: a 6xx if any; otherwise one of the lowest class received, preferring
 * 401, 407, 415, 420, 484 within 4xx; undefined when there is none (the caller answers 408).
 * Ties go to the response received first.
 */
export function chooseBest(finals: readonly SipResponse[]): SipResponse | undefined {
  let best: SipResponse | undefined;
  for (const r of finals) {
    if (r.status >= 600) return r;
    if (best === undefined || classOf(r.status) < classOf(best.status)) best = r;
  }
  if (best === undefined || classOf(best.status) !== 4) return best;
  for (const code of PREFERRED_4XX) {
    const p = finals.find((r) => r.status === code);
    if (p !== undefined) return p;
  }
  return best;
}

function classOf(status: number): number {
  return Math.floor(status / 100);
}

/**
 * §16.7 step 7: a chosen 401 or 407 gets every WWW-Authenticate and Proxy-Authenticate value of
 * the other 401 and 407 responses, unmodified, so the UAC can answer all the realms at once.
 */
export function mergeChallenges(chosen: SipResponse, finals: readonly SipResponse[]): void {
  if (chosen.status !== 401 && chosen.status !== 407) return;
  for (const r of finals) {
    if (r === chosen || (r.status !== 401 && r.status !== 407)) continue;
    for (const v of r.getAll('www-authenticate')) chosen.append('WWW-Authenticate', v);
    for (const v of r.getAll('proxy-authenticate')) chosen.append('Proxy-Authenticate', v);
  }
}

/**
 * §16.7 step 6: a 503 chosen to forward becomes a 500, so that the UAC does not take it as the
 * proxy's own unavailability and fail over (RFC 3263); its other headers are lost with it.
 */
export function convert503(chosen: SipResponse, request: SipRequest): SipResponse {
  if (chosen.status !== 503) return chosen;
  const toTag = chosen.toTag;
  return createResponse(request, 500, toTag === undefined ? {} : { toTag });
}

/**
 * The copy of a request that goes to one target (RFC 3261 §16.6 steps 1-8): the received bytes
 * parsed again (lazily: only the lines touched are rewritten on output), then the Route plan,
 * the new Request-URI and Route set of the target, Max-Forwards less one, Record-Route, and our
 * Via.
 */
import { formatNameAddr, parseMessage, type SipRequest } from '../message/index.js';
import type { ViaSentBy } from '../transport/index.js';
import { proxyBranch } from './loop-detection.js';
import { listenerUri, needsDoubleRecordRoute } from './record-route.js';
import type { RoutePlan } from './route-plan.js';

export interface CopyOptions {
  plan: RoutePlan;
  /** New Request-URI (§16.5 target). */
  uri?: string;
  /** Route values to push on top, first on top (a binding's Path). */
  routes?: readonly string[];
  /** Our sent-by toward the target: the Via, and the outbound Record-Route. */
  outbound: ViaSentBy;
  /** Our sent-by toward the sender: the inbound Record-Route (RFC 5658). */
  inbound: ViaSentBy;
  /** Flow tokens (RFC 5626 §5.3) for the Record-Route entries: the sender's connection, the target's. */
  inboundToken?: string;
  outboundToken?: string;
}

export function forwardCopy(original: SipRequest, o: CopyOptions): SipRequest {
  const copy = parseMessage(original.toBuffer(), { lazy: true }) as SipRequest;
  const plan = o.plan;
  // §16.4 / §16.6 step 3 (route processing).
  if (plan.strictUri !== undefined) {
    copy.uri = plan.strictUri;
    copy.removeAll('route');
    for (const r of plan.routes) copy.append('Route', formatNameAddr(r));
  } else {
    for (let i = 0; i < plan.popped; i++) copy.removeFirst('route');
  }
  // §16.6 step 2: the Request-URI becomes the target's.
  if (o.uri !== undefined) copy.uri = o.uri;
  // §16.6 step 6 (RFC 3327): a Path becomes the first Route entries.
  if (o.routes !== undefined) for (let i = o.routes.length - 1; i >= 0; i--) copy.prepend('Route', o.routes[i]!);
  // §16.6 step 3: Max-Forwards less one, 70 when absent.
  const mf = original.maxForwards;
  copy.set('Max-Forwards', String(mf === undefined ? 70 : mf - 1));
  // §16.6 step 4, RFC 5658: our Record-Route, twice when the two sides differ; the outbound one
  // ends on top, nearer the callee, who reads the route set in that order.
  // A side reached over a connection gets its flow token in its entry (RFC 5626 §5.3), so the
  // dialog's requests toward it take that connection (a WebSocket client has no other address);
  // a token on either side makes two entries, one per side.
  if (plan.recordRoute) {
    const sips = plan.uri.scheme === 'sips';
    const tokens = o.inboundToken !== undefined || o.outboundToken !== undefined;
    if (tokens || needsDoubleRecordRoute(o.inbound, o.outbound)) copy.prepend('Record-Route', listenerUri(o.inbound, { sips, user: o.inboundToken }));
    copy.prepend('Record-Route', listenerUri(o.outbound, { sips, user: o.outboundToken }));
  }
  // §16.6 step 8: our Via, with a branch carrying the loop hash.
  const host = o.outbound.host;
  copy.prepend('Via', `SIP/2.0/${o.outbound.transport} ${host}:${o.outbound.port};branch=${proxyBranch(plan.hash)};rport`);
  return copy;
}

/**
 * Route information processing (RFC 3261 §16.4) decided once per received request: the
 * strict-route fix (a Request-URI we put in a Record-Route is replaced by the last Route), the
 * Route entries of ours on top (popped; two of them after a double Record-Route, RFC 5658), and
 * the flow a popped entry's token names (RFC 5626 §5.3). The request itself is never changed:
 * each forwarded copy applies the plan (forward-copy.ts).
 */
import { formatUri, isSipUri, type NameAddr, type SipRequest, type Uri } from '../message/index.js';
import type { Flow, FlowTokens } from './flow-token.js';
import type { LocalDomains } from './local-domains.js';

export interface RoutePlan {
  /** The Request-URI after the strict-route fix. */
  uri: Uri;
  /** Set when the strict-route fix applied: the new Request-URI's text. */
  strictUri: string | undefined;
  /** Route entries left after ours were popped (and the strict-route one removed), top first. */
  routes: NameAddr[];
  /** How many Route entries of ours were popped from the top. */
  popped: number;
  /** The flow named by the token of a popped Route of ours, if any. */
  flow: Flow | undefined;
  /**
   * Whether that Route was a Path of ours (`ob`, RFC 5626 §5.3): a flow that is gone is then a
   * 430. A Record-Route token is a shortcut only: without its connection the request is routed
   * as usual (a proxy peer is dialled again).
   */
  flowRequired: boolean;
  /** §16.3 step 4 / §16.6 step 8 hash (empty for ACK). */
  hash: string;
  /** Whether copies get our Record-Route (dialog-creating requests outside a dialog, §16.6 step 4). */
  recordRoute: boolean;
}

/** Requests that may create a dialog (RFC 3261 §12, RFC 6665, RFC 3515). */
const DIALOG_CREATING: ReadonlySet<string> = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

export function planRoute(request: SipRequest, domains: LocalDomains, tokens: FlowTokens, hash: string): RoutePlan {
  let uri = request.uri;
  let strictUri: string | undefined;
  let routes = request.route;
  // §16.4: a strict router upstream put our Record-Route URI (no user, lr) in the Request-URI
  // and the real one at the end of the Route set.
  if (routes.length > 0 && isSipUri(uri) && uri.user === undefined && uri.params.lr !== undefined && domains.isOurs(uri)) {
    uri = routes[routes.length - 1]!.uri;
    strictUri = formatUri(uri);
    routes = routes.slice(0, -1);
  }
  let popped = 0;
  let flow: Flow | undefined;
  let flowRequired = false;
  while (popped < routes.length) {
    const top = routes[popped]!.uri;
    if (!domains.isOurs(top)) break;
    // The last entry of ours decides: with a double Record-Route (RFC 5658) it is the one facing
    // the side the request goes to, and only a token there names the flow to take.
    flow = top.user === undefined ? undefined : tokens.decode(top.user);
    flowRequired = flow !== undefined && top.params.ob !== undefined;
    popped++;
  }
  if (popped > 0) routes = routes.slice(popped);
  return {
    uri,
    strictUri,
    routes,
    popped,
    flow,
    flowRequired,
    hash,
    recordRoute: DIALOG_CREATING.has(request.method) && request.toTag === undefined,
  };
}

/**
 * A dialog's route set (RFC 3261 §12.1.1, §12.1.2) and how it shapes the Request-URI and Route
 * header of every request sent in the dialog (§12.2.1.1), with loose routing (§16.12) and the
 * strict-route compatibility of RFC 2543.
 */
import { isSipUri, type NameAddr, type SipRequest, type SipResponse, type Uri } from '../message/index.js';
import { newParams } from '../message/params.js';

/** Where an in-dialog request goes: its Request-URI and its Route values, in order. */
export interface RequestTarget {
  requestUri: Uri;
  route: NameAddr[];
}

/** The route set of a dialog: the URIs a request visits, in the order it visits them. */
export class RouteSet {
  /** The routes, first hop first, each with all its URI and header parameters (§12.2.1.1). */
  readonly routes: readonly NameAddr[];

  private constructor(routes: readonly NameAddr[]) {
    this.routes = Object.freeze(routes.map(copy));
  }

  /** A route set of these routes, first hop first. */
  static of(routes: readonly NameAddr[]): RouteSet {
    return new RouteSet(routes);
  }

  /** No proxy asked to stay on the path: requests go straight to the remote target. */
  static empty(): RouteSet {
    return EMPTY;
  }

  /**
   * The UAC's route set (§12.1.2): the Record-Route of the response that creates (or, for a 2xx
   * after an early dialog, confirms, §13.2.2.4) the dialog, in reverse order. Proxies add
   * Record-Route on top as the request travels away from the UAC, so the proxy nearest the UAC is
   * the last value.
   */
  static forUac(response: SipResponse): RouteSet {
    return new RouteSet([...response.recordRoute].reverse());
  }

  /** The UAS's route set (§12.1.1): the request's Record-Route in order, nearest proxy first. */
  static forUas(request: SipRequest): RouteSet {
    return new RouteSet(request.recordRoute);
  }

  get isEmpty(): boolean {
    return this.routes.length === 0;
  }

  /**
   * True when requests are loose-routed: the set is empty, or its first URI has `lr` (§16.12,
   * §12.2.1.1). Only a sip: or sips: URI can carry `lr`; any other URI first in the set is taken
   * as a strict router, as §12.2.1.1 reads ("does not contain the lr parameter").
   */
  get isLoose(): boolean {
    const first = this.routes[0];
    return first === undefined || (isSipUri(first.uri) && first.uri.params.lr !== undefined);
  }

  /**
   * The Request-URI and Route values of a request sent in the dialog to `remoteTarget`
   * (§12.2.1.1):
   * - empty route set: the remote target, no Route;
   * - first route loose (`lr`): the remote target, and the whole route set as Route;
   * - first route strict: that route's URI as the Request-URI (less the parameters a Request-URI
   *   may not hold), the rest of the route set as Route, and the remote target last, so that the
   *   last strict router can put it back in the Request-URI.
   */
  requestTarget(remoteTarget: Uri): RequestTarget {
    if (this.isLoose) return { requestUri: asRequestUri(remoteTarget), route: this.routes.map(copy) };
    const [first, ...rest] = this.routes;
    return {
      requestUri: asRequestUri(first!.uri),
      route: [...rest.map(copy), { uri: asRouteUri(remoteTarget), params: newParams() }],
    };
  }
}

const EMPTY = RouteSet.of([]);

/** A copy whose params can be changed without touching the message the route came from. */
function copy(route: NameAddr): NameAddr {
  const params = Object.assign(newParams(), route.params);
  return route.displayName === undefined ? { uri: route.uri, params } : { displayName: route.displayName, uri: route.uri, params };
}

/**
 * §19.1.1 (table): `method` and URI headers are not allowed in a Request-URI; a remote target or
 * route that holds them is used without them.
 */
function asRequestUri(uri: Uri): Uri {
  if (!isSipUri(uri) || (uri.params.method === undefined && Object.keys(uri.headers).length === 0)) return uri;
  const params = Object.assign(newParams(), uri.params);
  delete params.method;
  return { ...uri, params, headers: {} };
}

/** §19.1.1 (table): a Route URI holds neither `method` nor headers either. */
const asRouteUri = asRequestUri;

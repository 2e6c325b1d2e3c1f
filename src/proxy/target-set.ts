/**
 * The target set of a request for one of our users (RFC 3261 §16.5, §16.6): the AOR's bindings,
 * ordered by q. Targets of equal q are tried in parallel; lower q ones only after all the higher
 * ones failed (sequential forking by q, §16.6). A public GRUU (RFC 5627 §5.1) narrows the set to
 * its instance.
 */
import { parseNameAddr, type SipUri, type Uri } from '../message/index.js';
import { canonicalAor } from '../registrar/aor.js';
import type { Binding, BindingFlow } from '../registrar/binding.js';
import { instanceUrn, parseGruu } from '../registrar/gruu.js';
import type { TransportProtocol } from '../transport/index.js';
import type { Flow, FlowTokens } from './flow-token.js';
import type { LocalDomains } from './local-domains.js';
import type { BranchSpec } from './response-context.js';

export interface ProxyTarget {
  /** The Request-URI of the branch: the registered Contact URI. */
  uri: string;
  /** Path values (RFC 3327) the request gets as Route, top first. */
  path: readonly string[];
  flow?: BindingFlow;
  /** Registered with RFC 5626 outbound (reg-id): the flow must be used whatever its transport. */
  outbound: boolean;
  q: number;
}

/** The location service key of a Request-URI, and the GRUU instance it names if any. */
export function lookupKey(uri: SipUri): { aor: string; instance?: string } {
  const gruu = parseGruu(uri);
  if (gruu !== undefined) return gruu;
  return { aor: canonicalAor(uri)! };
}

/** Bindings grouped by q, highest first; each group keeps the store's order. */
export function targetGroups(bindings: readonly Binding[], instance?: string): ProxyTarget[][] {
  const chosen = instance === undefined ? bindings : bindings.filter((b) => b.instanceId !== undefined && instanceUrn(b.instanceId) === instance);
  const sorted = [...chosen].sort((a, b) => b.q - a.q);
  const groups: ProxyTarget[][] = [];
  let last = NaN;
  for (const b of sorted) {
    const t: ProxyTarget = { uri: b.contact, path: b.path, q: b.q, outbound: b.regId !== undefined };
    if (b.flow !== undefined) t.flow = b.flow;
    if (b.q !== last) {
      groups.push([t]);
      last = b.q;
    } else groups[groups.length - 1]!.push(t);
  }
  return groups;
}

/**
 * A binding as a branch (§16.6): its Contact as Request-URI, its Path as Route (RFC 3327), and
 * its flow (RFC 5626 §5.3) when this node holds it. Path entries of ours on top (our registrar's,
 * see SipServer.registrarPathFor) are consumed here: they name this node and, by their token, the
 * flow.
 */
export function branchSpecFor(t: ProxyTarget, domains: LocalDomains, tokens: FlowTokens, nodeId: string): BranchSpec {
  const spec: BranchSpec = { uri: t.uri };
  let routes = t.path;
  let flow: Flow | undefined;
  while (routes.length > 0) {
    let u: Uri;
    try {
      u = parseNameAddr(routes[0]!).uri;
    } catch {
      break;
    }
    if (!domains.isOurs(u)) break;
    if (u.user !== undefined) flow = tokens.decode(u.user) ?? flow;
    routes = routes.slice(1);
  }
  if (routes.length > 0) spec.routes = routes;
  const bf = t.flow;
  if (bf !== undefined && (bf.node === undefined || bf.node === nodeId) && routes.length === 0) {
    const protocol = bf.transport.toUpperCase() as TransportProtocol;
    // Over the connection of the REGISTER (stream), or to the flow's address (UDP with outbound;
    // a plain UDP binding is reached at its Contact, RFC 3261 §16.5).
    if (bf.connectionId !== undefined || (protocol === 'UDP' && t.outbound)) {
      const own: Flow = { protocol, address: bf.address, port: bf.port, node: nodeId, kind: 'path' };
      if (bf.connectionId !== undefined) own.connectionId = bf.connectionId;
      spec.flow = own;
    }
  } else if (flow !== undefined && routes.length === 0) {
    spec.flow = flow;
  }
  return spec;
}

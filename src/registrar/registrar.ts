/**
 * The registrar (RFC 3261 §10.3) with Path (RFC 3327), outbound (RFC 5626 §6) and public GRUUs
 * (RFC 5627). `register` takes an authenticated REGISTER (the caller runs Digest first) and
 * returns the complete final response; the bindings live in an injected BindingStore.
 */
import type { Clock } from '../core/clock.js';
import { noopLogger, type Logger } from '../core/logger.js';
import { createResponse } from '../message/build.js';
import { formatNameAddr } from '../message/name-addr.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { isSipUri, parseUri, uriEquals, formatUri } from '../message/uri.js';
import type { NameAddr, Uri } from '../message/types.js';
import type { Source } from '../transport/types.js';
import type { Binding, BindingStore } from './binding.js';
import { canonicalAor } from './aor.js';
import { instanceUrn, parseGruu, publicGruu } from './gruu.js';

export interface RegistrarOptions {
  store: BindingStore;
  /**
   * Binding times (expiresAt, updatedAt) are ms on this clock. With a persistent (SQLite) or shared
   * (Redis) store use a wall clock (Date.now-based): RealClock's performance.now() restarts at 0
   * with the process and differs between nodes.
   */
  clock: Clock;
  /** Whether this registrar is responsible for `host` (lower-cased). */
  isLocalDomain(host: string): boolean;
  /** Shortest registration accepted, seconds (423 below it, §10.3 step 7). Default 60. */
  minExpires?: number;
  /** Longest registration granted, seconds (longer requests are shortened). Default 3600. */
  maxExpires?: number;
  /** Expiry when the REGISTER names none, seconds. Default 3600. */
  defaultExpires?: number;
  /** Most bindings one AOR may hold; a REGISTER that would exceed it gets 403. Default 20. */
  maxContacts?: number;
  /** Id of this node, recorded in each binding's flow. */
  nodeId?: string;
  /** Hand out public GRUUs (RFC 5627). Default true. */
  gruu?: boolean;
  logger?: Logger;
  /**
   * A Path value (e.g. `<sip:TOKEN@10.0.0.1:5060;transport=tcp;lr;ob>`) the server wants
   * prepended for bindings made over this source; the proxy uses it to reach the flow from other nodes.
   */
  pathFor?(source: Source): string | undefined;
}

/** Extra context from the layer that authenticated the request. */
export interface RegisterContext {
  /** The Digest username; the AOR's user must equal it (§10.3 step 4). */
  authenticatedUser?: string;
}

/** Option tags this registrar implements (RFC 3327, RFC 5626, RFC 5627). */
export const REGISTRAR_EXTENSIONS: readonly string[] = ['path', 'outbound', 'gruu'];

/** Thrown inside the store's change function to abort the whole REGISTER (§10.3: all or nothing). */
class Abort {
  constructor(readonly status: number, readonly reason: string, readonly headers: Array<[string, string]> = []) {}
}

interface ContactRequest {
  uri: Uri;
  text: string;
  expires: number;
  q: number;
  instanceId?: string;
  regId?: number;
  outbound: boolean;
}

export class Registrar {
  private readonly store: BindingStore;
  private readonly clock: Clock;
  private readonly isLocalDomain: (host: string) => boolean;
  private readonly minExpires: number;
  private readonly maxExpires: number;
  private readonly defaultExpires: number;
  private readonly nodeId: string | undefined;
  private readonly maxContacts: number;
  private readonly gruu: boolean;
  private readonly logger: Logger;
  private readonly pathFor: ((source: Source) => string | undefined) | undefined;

  constructor(options: RegistrarOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.isLocalDomain = options.isLocalDomain;
    this.minExpires = options.minExpires ?? 60;
    this.maxExpires = options.maxExpires ?? 3600;
    this.defaultExpires = Math.min(options.defaultExpires ?? 3600, this.maxExpires);
    this.nodeId = options.nodeId;
    this.maxContacts = options.maxContacts ?? 20;
    this.gruu = options.gruu ?? true;
    this.logger = options.logger ?? noopLogger;
    this.pathFor = options.pathFor;
  }

  /** Processes a REGISTER (§10.3 steps 1-8) and returns the response to send. Never throws. */
  async register(request: SipRequest, source: Source, context: RegisterContext = {}): Promise<SipResponse> {
    try {
      return await this.process(request, source, context);
    } catch (e) {
      if (e instanceof Abort) return createResponse(request, e.status, { reason: e.reason, headers: e.headers });
      const status = typeof (e as { status?: unknown }).status === 'number' ? (e as { status: number }).status : 500;
      const reason = status === 500 ? 'Registrar Error' : 'Bad Request';
      if (status === 500) this.logger.error({ err: e }, 'registrar: REGISTER failed');
      return createResponse(request, status >= 400 && status < 700 ? status : 400, {
        reason: status === 500 ? reason : `Bad Request (${(e as Error).message})`.slice(0, 200),
      });
    }
  }

  /** The bindings a public GRUU reaches: those of its AOR with its instance (RFC 5627 §5.5). */
  async resolveGruu(uri: string | Uri): Promise<Binding[]> {
    const g = parseGruu(uri);
    if (g === undefined) return [];
    const all = await this.store.lookup(g.aor, this.clock.now());
    return all.filter((b) => b.instanceId !== undefined && instanceUrn(b.instanceId) === g.instance);
  }

  private async process(request: SipRequest, source: Source, context: RegisterContext): Promise<SipResponse> {
    if (request.method !== 'REGISTER') throw new Abort(405, 'Method Not Allowed', [['Allow', 'REGISTER']]);
    // §8.2.2.3: an extension the UAC requires and we do not implement.
    const unsupported = request.require.filter((t) => !REGISTRAR_EXTENSIONS.includes(t.toLowerCase()));
    if (unsupported.length > 0) throw new Abort(420, 'Bad Extension', [['Unsupported', unsupported.join(', ')]]);

    // Step 1: the Request-URI names the domain; we do not forward REGISTERs, so a foreign domain is refused.
    const ruri = request.uri;
    if (!isSipUri(ruri)) throw new Abort(416, 'Unsupported URI Scheme');
    if (!this.isLocalDomain(ruri.host.toLowerCase())) throw new Abort(403, 'Not a registrar for this domain');

    // Step 3/5: the AOR (To) must be one of our domains.
    const toUri = request.to.uri;
    if (!isSipUri(toUri)) throw new Abort(404, 'Not Found (AOR must be a SIP URI)');
    if (!this.isLocalDomain(toUri.host.toLowerCase())) throw new Abort(404, 'Not Found (domain not served here)');
    const aor = canonicalAor(toUri)!;

    // Step 4: an authenticated user may only change its own bindings.
    if (context.authenticatedUser !== undefined && context.authenticatedUser !== toUri.user) {
      throw new Abort(403, 'Only your own address');
    }

    const supported = new Set(request.supported.map((t) => t.toLowerCase()));
    const path = request.path.map((p) => formatNameAddr(p));
    // RFC 3327 §5.3: Path from a UA that did not say it supports path is refused with 420.
    if (path.length > 0 && !supported.has('path')) throw new Abort(420, 'Bad Extension', [['Unsupported', 'path']]);

    const now = this.clock.now();
    const callId = request.callId;
    const cseq = request.cseq.seq;
    const contact = request.contact;
    const headerExpires = request.expires;

    if (contact === undefined) {
      // A query (§10.2.3): the current bindings, nothing changed.
      return this.ok(request, aor, await this.store.lookup(aor, now), now, supported, false, path);
    }

    if (contact === '*') {
      // Step 6: `*` only alone and only with Expires: 0.
      if (request.countOf('Contact') !== 1 || headerExpires !== 0) throw new Abort(400, 'Bad Request (Contact * needs Expires: 0 and no other contact)');
      const stored = await this.store.update(aor, now, (current) => current.filter((b) => {
        // Step 6: remove unless the same Call-ID with a CSeq not higher than the stored one.
        if (b.callId === callId && cseq <= b.cseq) return true;
        return false;
      }));
      this.logger.info({ aor, callId }, 'registrar: all bindings removed');
      return this.ok(request, aor, stored, now, supported, false, path);
    }

    const contacts = contact.map((c) => this.contactRequest(c, headerExpires, supported));
    // RFC 5626 §6: two contacts for the same flow in one REGISTER make no sense.
    const flowKeys = new Set<string>();
    for (const c of contacts) {
      if (!c.outbound) continue;
      const k = `${c.instanceId}\n${c.regId}`;
      if (flowKeys.has(k)) throw new Abort(400, 'Bad Request (two contacts with the same +sip.instance and reg-id)');
      flowKeys.add(k);
    }
    // RFC 5626 §6: over an edge proxy, the first hop (the last Path value) must have said `ob`.
    if (contacts.some((c) => c.outbound) && request.path.length > 0) {
      const firstHop = request.path[request.path.length - 1]!.uri;
      if (!isSipUri(firstHop) || firstHop.params.ob === undefined) throw new Abort(439, 'First Hop Lacks Outbound Support');
    }
    // Step 7 (and §20.19 Min-Expires): too brief, unless 0 (a removal).
    const brief = contacts.find((c) => c.expires > 0 && c.expires < this.minExpires);
    if (brief !== undefined) throw new Abort(423, 'Interval Too Brief', [['Min-Expires', String(this.minExpires)]]);

    const serverPath = this.pathFor?.(source);
    const storedPath = serverPath !== undefined ? [serverPath, ...path] : path;
    const flow = {
      transport: source.protocol.toLowerCase(), address: source.remoteAddress, port: source.remotePort,
      connectionId: source.connectionId, node: this.nodeId,
    };
    const userAgent = request.get('User-Agent');

    const stored = await this.store.update(aor, now, (current) => {
      let next = [...current];
      for (const c of contacts) {
        const i = next.findIndex((b) => sameBinding(b, c));
        const existing = i >= 0 ? next[i] : undefined;
        // Step 7: the same Call-ID with a CSeq not higher than the binding's: out of order, abort all.
        if (existing !== undefined && existing.callId === callId && cseq <= existing.cseq) {
          // No Retry-After: repeating the same CSeq would fail again; the UA must send a higher one.
          throw new Abort(500, 'Server Internal Error (REGISTER out of order: CSeq not higher)');
        }
        if (i >= 0) next.splice(i, 1);
        if (c.expires === 0) continue;
        const binding: Binding = {
          aor, contact: c.text, expiresAt: now + Math.min(c.expires, this.maxExpires) * 1000, q: c.q,
          callId, cseq, path: storedPath, flow, updatedAt: now,
        };
        if (c.instanceId !== undefined) binding.instanceId = c.instanceId;
        if (c.outbound) binding.regId = c.regId;
        if (userAgent !== undefined) binding.userAgent = userAgent;
        next.push(binding);
      }
      next = next.filter((b) => b.expiresAt > now);
      // Bounded state per AOR: a UA (or an attacker with its password) cannot grow it without end.
      if (next.length > this.maxContacts && next.length > current.length) throw new Abort(403, `Too many contacts (at most ${this.maxContacts})`);
      return next;
    });
    this.logger.info({ aor, bindings: stored.length, callId }, 'registrar: bindings updated');
    return this.ok(request, aor, stored, now, supported, contacts.some((c) => c.outbound), path);
  }

  private contactRequest(na: NameAddr, headerExpires: number | undefined, supported: Set<string>): ContactRequest {
    const p = na.params;
    let expires: number;
    const raw = p.expires;
    if (raw !== undefined && raw !== null) {
      // §10.2.1.1: the expires param wins over the Expires header; not a number → 400.
      if (!/^\d{1,10}$/.test(raw)) throw new Abort(400, 'Bad Request (Contact expires is not a number)');
      expires = Number(raw);
    } else {
      expires = headerExpires ?? this.defaultExpires;
    }
    let q = 1;
    if (p.q !== undefined && p.q !== null) {
      if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(p.q)) throw new Abort(400, 'Bad Request (Contact q out of range)');
      q = Number(p.q);
    }
    const instance = p['+sip.instance'];
    const instanceId = instance === undefined || instance === null || instance === '' ? undefined : instance;
    let regId: number | undefined;
    const rawReg = p['reg-id'];
    if (rawReg !== undefined && rawReg !== null) {
      if (!/^\d{1,10}$/.test(rawReg) || Number(rawReg) < 1) throw new Abort(400, 'Bad Request (reg-id is not a positive integer)');
      regId = Number(rawReg);
    }
    // RFC 5626 §6: reg-id counts only with an instance id and a UA supporting outbound.
    const outbound = instanceId !== undefined && regId !== undefined && supported.has('outbound');
    return { uri: na.uri, text: formatUri(na.uri), expires, q, instanceId, regId: outbound ? regId : undefined, outbound };
  }

  /** Step 8: 200 with every current binding and its remaining expiry, q order first. */
  private ok(request: SipRequest, aor: string, bindings: Binding[], now: number, supported: Set<string>,
    outbound: boolean, path: string[]): SipResponse {
    const headers: Array<[string, string]> = [];
    const sorted = [...bindings].sort((a, b) => b.q - a.q || a.updatedAt - b.updatedAt);
    for (const b of sorted) {
      let v = `<${b.contact}>;expires=${Math.max(0, Math.ceil((b.expiresAt - now) / 1000))}`;
      if (b.q !== 1) v += `;q=${b.q}`;
      if (b.instanceId !== undefined) {
        v += `;+sip.instance="${b.instanceId.replace(/["\\]/g, '')}"`;
        if (b.regId !== undefined) v += `;reg-id=${b.regId}`;
        // RFC 5627 §5.3: a pub-gruu for a UA that supports gruu and gave an instance id.
        if (this.gruu && supported.has('gruu')) v += `;pub-gruu="${publicGruu(aor, b.instanceId)}"`;
      }
      headers.push(['Contact', v]);
    }
    // RFC 3327 §5.3: the Path as received, echoed in the 200.
    if (supported.has('path')) for (const p of path) headers.push(['Path', p]);
    // RFC 5626 §6: the registrar says it applied outbound.
    if (outbound) headers.push(['Require', 'outbound']);
    headers.push(['Supported', REGISTRAR_EXTENSIONS.join(', ')]);
    return createResponse(request, 200, { headers });
  }
}

/**
 * Whether stored binding `b` is the one `c` refers to: by (+sip.instance, reg-id) for outbound
 * flows (RFC 5626 §6), by instance id for other contacts that carry one (RFC 5626 §6 / RFC 5627),
 * else by URI equality (RFC 3261 §10.3 step 7, §19.1.4).
 */
function sameBinding(b: Binding, c: ContactRequest): boolean {
  if (c.outbound) return b.instanceId === c.instanceId && b.regId === c.regId;
  if (c.instanceId !== undefined) return b.instanceId === c.instanceId && b.regId === undefined;
  if (b.instanceId !== undefined && b.regId !== undefined) return false;
  try {
    return uriEquals(parseUri(b.contact), c.uri);
  } catch {
    return false;
  }
}

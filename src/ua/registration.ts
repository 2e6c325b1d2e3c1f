/**
 * Registration (RFC 3261 §10.2): binding contacts to an address of record at a registrar, over a
 * SipEndpoint, with Digest (§22, via src/auth), 423 Interval Too Brief (§10.2.8), refresh before
 * the granted expiry (§10.2.1, §10.2.4) and removal (§10.2.2).
 *
 * Every REGISTER of one Registration has the same Call-ID and From tag, and CSeq goes up by one
 * per request (§10.2: "a UA SHOULD use the same Call-ID for all registrations during a single
 * boot cycle", §10.2.4 refreshes). Operations run one at a time in the order they are asked for.
 */
import { DigestClient, type AuthorizationHeader, type DigestCredentials } from '../auth/digest-client.js';
import { RealClock, type Clock, type TimerHandle } from '../core/clock.js';
import { SipError } from '../core/errors.js';
import { newCallId, newTag } from '../core/ids.js';
import {
  createRequest, formatNameAddr, formatUri, isSipUri, parseNameAddr, uriEquals,
  type NameAddr, type SipRequest, type SipResponse,
} from '../message/index.js';
import type { Target } from '../transport/index.js';
import type { SipEndpoint } from './endpoint.js';

export interface RegistrationOptions {
  /** The address of record, `sip:alice@example.com` or `Alice <sip:alice@example.com>`: To and From (§10.2). */
  aor: string;
  /** The Request-URI, the registrar (§10.2): default the AOR's domain, `sip:example.com`. */
  registrar?: string;
  /** Contacts to bind (URIs or name-addrs). Default one for the endpoint's first listener. */
  contacts?: string[];
  /** Seconds asked for (§10.2.1.1). Default 3600. */
  expires?: number;
  /** For 401 / 407 challenges. Without them a challenge is a failure. */
  credentials?: DigestCredentials;
  /** Send here instead of resolving the registrar per RFC 3263. */
  target?: Target;
  /** Times the refresh. Default RealClock. */
  clock?: Clock;
  /**
   * Refresh this many seconds before the binding expires, or at half the granted time when that
   * is less than twice this margin. Default 32 (Timer F, so a refresh sent on time is answered
   * before the binding lapses).
   */
  refreshMargin?: number;
  /** Extra headers on every REGISTER. */
  headers?: ReadonlyArray<readonly [string, string]>;
}

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'unregistering' | 'unregistered' | 'failed' | 'closed';

export interface RegistrationOutcome {
  ok: boolean;
  /** The final status; 0 when no response came (timeout, transport error: see `error`). */
  status: number;
  response?: SipResponse;
  /** Seconds granted for our contacts (0 after unregister or on failure). */
  expires: number;
  /** Every binding the registrar listed for the AOR (§10.2.4: the 200 lists all of them). */
  bindings: NameAddr[];
  /** Why it failed, in words. */
  reason?: string;
  error?: unknown;
}

export type RegistrationEvent =
  | { type: 'registered'; refresh: boolean; outcome: RegistrationOutcome }
  | { type: 'unregistered'; outcome: RegistrationOutcome }
  | { type: 'failed'; refresh: boolean; outcome: RegistrationOutcome };

/** Requests one operation may send: challenges and one 423 retry, with room to spare. */
const MAX_REQUESTS = 6;

export class Registration {
  readonly callId: string;
  private readonly endpoint: SipEndpoint;
  private readonly clock: Clock;
  private readonly aor: NameAddr;
  private readonly fromTag = newTag();
  private readonly registrar: string;
  private readonly contacts: NameAddr[];
  private readonly digest: DigestClient | undefined;
  private readonly target: Target | undefined;
  private readonly margin: number;
  private readonly extra: ReadonlyArray<readonly [string, string]>;
  private readonly listeners = new Set<(event: RegistrationEvent) => void>();
  private requested: number;
  private cseq = 0;
  private granted = 0;
  private timer: TimerHandle | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private _state: RegistrationState = 'idle';

  constructor(endpoint: SipEndpoint, options: RegistrationOptions) {
    this.endpoint = endpoint;
    this.clock = options.clock ?? new RealClock();
    this.aor = parseNameAddr(options.aor);
    const uri = this.aor.uri;
    if (!isSipUri(uri)) throw new SipError('ERR_INVALID_ARGUMENT', `the AOR must be a sip: or sips: URI: ${options.aor}`);
    delete this.aor.params.tag;
    this.registrar = options.registrar ?? formatUri({ scheme: uri.scheme, host: uri.host, hostType: uri.hostType, port: uri.port, params: {}, headers: {} });
    this.contacts = (options.contacts ?? [defaultContact(endpoint, uri.user)]).map((c) => {
      const na = parseNameAddr(c);
      delete na.params.expires;
      return na;
    });
    if (this.contacts.length === 0) throw new SipError('ERR_INVALID_ARGUMENT', 'a Registration needs at least one contact');
    this.requested = options.expires ?? 3600;
    this.digest = options.credentials === undefined ? undefined : new DigestClient(options.credentials);
    this.target = options.target;
    this.margin = options.refreshMargin ?? 32;
    this.extra = options.headers ?? [];
    this.callId = newCallId();
  }

  get state(): RegistrationState {
    return this._state;
  }

  /** Seconds last granted (0 when not registered). */
  get expires(): number {
    return this.granted;
  }

  /** The CSeq number of the last REGISTER sent. */
  get lastCSeq(): number {
    return this.cseq;
  }

  /** Listens to outcomes, refreshes included; returns the function that stops listening. */
  on(listener: (event: RegistrationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Registers (or refreshes now); resolves with the outcome, also told to listeners. Never rejects. */
  register(): Promise<RegistrationOutcome> {
    return this.enqueue(() => this.doRegister(false));
  }

  /** Removes our contacts (Expires 0, §10.2.2), or every binding of the AOR (`Contact: *`) with `all`. */
  unregister(options: { all?: boolean } = {}): Promise<RegistrationOutcome> {
    return this.enqueue(async () => {
      this.cancelRefresh();
      this._state = 'unregistering';
      const outcome = await this.transact(0, options.all === true);
      this.granted = 0;
      if (this.closed) return outcome;
      this._state = outcome.ok ? 'unregistered' : 'failed';
      this.emit(outcome.ok ? { type: 'unregistered', outcome } : { type: 'failed', refresh: false, outcome });
      return outcome;
    });
  }

  /** Stops the refresh timer; no further REGISTER is sent (a request under way still completes). */
  close(): void {
    this.cancelRefresh();
    this._state = 'closed';
  }

  private get closed(): boolean {
    return this._state === 'closed';
  }

  private enqueue(op: () => Promise<RegistrationOutcome>): Promise<RegistrationOutcome> {
    const run = this.queue.then(() => (this.closed ? closedOutcome() : op()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doRegister(refresh: boolean): Promise<RegistrationOutcome> {
    this.cancelRefresh();
    this._state = 'registering';
    const outcome = await this.transact(this.requested, false);
    if (this.closed) return outcome;
    if (outcome.ok && outcome.expires > 0) {
      this.granted = outcome.expires;
      this._state = 'registered';
      this.scheduleRefresh(outcome.expires);
      this.emit({ type: 'registered', refresh, outcome });
    } else {
      this.granted = 0;
      this._state = 'failed';
      this.emit({ type: 'failed', refresh, outcome: outcome.ok ? { ...outcome, ok: false, reason: 'the registrar granted no time to our contacts' } : outcome });
    }
    return outcome;
  }

  /** One REGISTER with its challenge and 423 retries (each a new request with CSeq+1). */
  private async transact(expires: number, all: boolean): Promise<RegistrationOutcome> {
    let requested = expires;
    let answer: AuthorizationHeader | undefined;
    let intervalRetried = false;
    for (let i = 0; i < MAX_REQUESTS; i++) {
      const request = this.build(requested, all);
      if (answer !== undefined) request.append(answer.name, answer.value);
      else for (const h of this.digest?.authorize(request) ?? []) request.append(h.name, h.value);
      answer = undefined;
      let response: SipResponse;
      try {
        response = await this.endpoint.request(request, this.target === undefined ? {} : { target: this.target });
      } catch (error) {
        return { ok: false, status: 0, expires: 0, bindings: [], reason: error instanceof Error ? error.message : String(error), error };
      }
      const status = response.status;
      if (status === 401 || status === 407) {
        answer = this.digest?.respond(request, response);
        if (answer === undefined) return failure(response, this.digest === undefined ? 'challenged, and no credentials' : 'authentication failed');
        continue;
      }
      if (status === 423 && requested > 0) {
        // §10.2.8: ask again with at least Min-Expires, once.
        const min = safely(() => response.minExpires);
        if (intervalRetried || min === undefined || min <= requested) return failure(response, 'interval too brief, and no usable Min-Expires');
        intervalRetried = true;
        requested = min;
        this.requested = Math.max(this.requested, min);
        continue;
      }
      if (status < 200 || status >= 300) return failure(response, `${status} ${response.reasonPhrase}`);
      const bindings = safely(() => response.contact);
      const list = bindings === undefined || bindings === '*' ? [] : bindings;
      return { ok: true, status, response, expires: requested === 0 ? 0 : this.grantedIn(response, list, requested), bindings: list };
    }
    return { ok: false, status: 0, expires: 0, bindings: [], reason: 'too many retries' };
  }

  private build(expires: number, all: boolean): SipRequest {
    this.cseq++;
    const contacts: [string, string][] = all
      ? [['Contact', '*']]
      : this.contacts.map((c) => ['Contact', formatNameAddr({ ...c, params: { ...c.params, expires: String(expires) } })]);
    return createRequest({
      method: 'REGISTER',
      uri: this.registrar,
      from: { ...this.aor, params: { ...this.aor.params, tag: this.fromTag } },
      to: this.aor,
      callId: this.callId,
      cseq: this.cseq,
      headers: [...contacts, ['Expires', String(expires)], ...this.extra],
    });
  }

  /**
   * §10.2.4: the time granted to a contact is its expires param in the 200, else the 200's
   * Expires. With several contacts of ours, the least of them. Our contacts missing from the
   * 200 (a registrar that lists none) fall back to Expires, then to what we asked for.
   */
  private grantedIn(response: SipResponse, bindings: NameAddr[], requested: number): number {
    const header = safely(() => response.expires);
    let least: number | undefined;
    for (const ours of this.contacts) {
      const b = bindings.find((x) => uriEquals(x.uri, ours.uri));
      if (b === undefined) continue;
      const p = b.params.expires;
      const n = typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : header ?? requested;
      least = least === undefined ? n : Math.min(least, n);
    }
    return least ?? header ?? requested;
  }

  private scheduleRefresh(granted: number): void {
    const seconds = granted > 2 * this.margin ? granted - this.margin : granted / 2;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.enqueue(() => this.doRegister(true));
    }, seconds * 1000);
  }

  private cancelRefresh(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private emit(event: RegistrationEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}

function failure(response: SipResponse, reason: string): RegistrationOutcome {
  return { ok: false, status: response.status, response, expires: 0, bindings: [], reason };
}

function closedOutcome(): RegistrationOutcome {
  return { ok: false, status: 0, expires: 0, bindings: [], reason: 'the registration is closed' };
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** `<sip:user@host:port;transport=x>` for the endpoint's first listener (its advertised sent-by). */
function defaultContact(endpoint: SipEndpoint, user: string | undefined): string {
  const l = endpoint.listeners[0];
  if (l === undefined) throw new SipError('ERR_INVALID_ARGUMENT', 'the endpoint has no listener: give contacts');
  const host = l.viaHost ?? (l.family === 6 ? `[${l.host}]` : l.host);
  const transport = l.protocol === 'UDP' ? '' : `;transport=${l.protocol.toLowerCase()}`;
  return `<sip:${user === undefined ? '' : `${user}@`}${host}:${l.viaPort}${transport}>`;
}

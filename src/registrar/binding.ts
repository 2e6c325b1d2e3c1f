/**
 * The location service's data (RFC 3261 §10.3): bindings of an address of record to contacts, and
 * the store they live in. The registrar writes bindings; the proxy reads them (§16.5). The store is
 * an interface so the proxy never knows whether SQLite (one node) or Redis (several) holds them.
 */

/** Where a binding's REGISTER came from: the flow a request to it must reuse (RFC 5626 §5.3). */
export interface BindingFlow {
  /** 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' (lower case). */
  transport: string;
  /** The registering UA's source address and port, as seen by the node that took the REGISTER. */
  address: string;
  port: number;
  /** The connection it arrived on (stream transports); only meaningful on `node`. */
  connectionId?: string;
  /** Id of the node (hookflash serve process) holding that connection; requests from other nodes go through it. */
  node?: string;
}

export interface Binding {
  /** The address of record, canonical form: `sip:user@domain` (scheme, user and lower-case host; no params). */
  aor: string;
  /** The Contact URI exactly as registered (its own params, e.g. `;transport=tcp`, `;ob`, kept). */
  contact: string;
  /** Absolute expiry, ms on the server's Clock (`clock.now()`). */
  expiresAt: number;
  /** The Contact's q (0..1); 1 when absent. */
  q: number;
  /** Call-ID and CSeq of the REGISTER that last wrote the binding (§10.3 step 7 ordering). */
  callId: string;
  cseq: number;
  /** Path header values (RFC 3327), top first, as received; a request to this contact gets them as Route. */
  path: string[];
  /** `+sip.instance` (RFC 5626 §4.1), without the angle quotes' outer double quotes. */
  instanceId?: string;
  /** `reg-id` (RFC 5626 §4.2). */
  regId?: number;
  /** The flow the REGISTER arrived on (outbound, or NAT on stream transports). */
  flow?: BindingFlow;
  /** User-Agent of the registering phone, for listings. */
  userAgent?: string;
  /** When the binding was last written, ms on the server's Clock. */
  updatedAt: number;
}

/** The registrar's storage. Every method may be asynchronous (Redis); SQLite answers synchronously inside a resolved promise. */
export interface BindingStore {
  /** The live bindings of one AOR (those with expiresAt > now). */
  lookup(aor: string, now: number): Promise<Binding[]>;
  /**
   * Read-modify-write of one AOR's bindings, atomically with respect to other writers (other
   * nodes on Redis too): `change` gets the current live bindings and returns the new full set.
   * Resolves with the set as stored.
   */
  update(aor: string, now: number, change: (current: Binding[]) => Binding[]): Promise<Binding[]>;
  /** Drops expired bindings; resolves with how many were dropped. */
  purgeExpired(now: number): Promise<number>;
  /** How many live bindings there are in all (metrics). */
  count(now: number): Promise<number>;
  /** Every live binding (dashboard listings); implementations may cap the number returned. */
  list(now: number, limit?: number): Promise<Binding[]>;
  close(): Promise<void>;
}

/** What the proxy needs of the location service (§16.5): the targets for a Request-URI. */
export interface LocationService {
  lookup(aor: string, now: number): Promise<Binding[]>;
}

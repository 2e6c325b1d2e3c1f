/**
 * The typed values of parsed URIs and header fields. Parsers live in uri.ts, name-addr.ts and
 * headers/*.ts; each pairs a `parseX(value): X` (throws SipParseError) with a `formatX(x): string`.
 */
import type { Params } from './params.js';

/** sip: and sips: URIs (RFC 3261 §19.1). `user`, `password` and header values are stored unescaped. */
export interface SipUri {
  scheme: 'sip' | 'sips';
  user?: string;
  password?: string;
  /** Host as written, lower-cased for names; an IPv6 reference keeps its brackets: `[2001:db8::10]`. */
  host: string;
  hostType: 'name' | 'ipv4' | 'ipv6';
  port?: number;
  /** uri-parameters by lower-cased name, values unescaped; `null` for a flag (`;lr`). */
  params: Params;
  /** Headers component (`?Replaces=...&Require=replaces`), names as written, values unescaped. */
  headers: Record<string, string>;
}

/** tel: URIs (RFC 3966), kept simple: the number with its visual separators, and parameters. */
export interface TelUri {
  scheme: 'tel';
  number: string;
  params: Params;
}

/** Any other absolute URI (RFC 3986), kept opaque: `scheme:rest`. */
export interface AbsoluteUri {
  scheme: string;
  opaque: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

/**
 * A name-addr or addr-spec with header parameters (From, To, Contact, Route, Record-Route,
 * Refer-To, Referred-By, Path, Reply-To...). `params` are the header's params (tag, q, expires),
 * never the URI's.
 */
export interface NameAddr {
  displayName?: string;
  uri: Uri;
  params: Params;
}

/** Via (RFC 3261 §20.42): one entry per hop. */
export interface Via {
  /** 'SIP/2.0' normally; kept as written (upper-cased). */
  protocol: string;
  /** UDP, TCP, TLS, SCTP, WS, WSS or any extension token, upper-cased. */
  transport: string;
  /** sent-by host; an IPv6 reference keeps its brackets. */
  host: string;
  port?: number;
  /** branch, received, rport (null when empty), maddr, ttl, alias... by lower-cased name. */
  params: Params;
}

/** CSeq (RFC 3261 §20.16): sequence number below 2^31 and method. */
export interface CSeq {
  seq: number;
  method: string;
}

/** `Contact: *` or a list of contacts. */
export type ContactValue = '*' | NameAddr[];

/** WWW-Authenticate, Proxy-Authenticate, Authorization, Proxy-Authorization (RFC 3261 §25.1, RFC 7616). */
export interface AuthValue {
  /** 'Digest' or another scheme, as written. */
  scheme: string;
  /** auth-params by lower-cased name, quoted strings unquoted. */
  params: Record<string, string>;
  /** For schemes that carry a token68 or other opaque credentials instead of params. */
  token?: string;
}

/** Event (RFC 6665 §8.2.1): `refer;id=93809824`. */
export interface EventValue {
  /** event-type, lower-cased (event packages are compared case-insensitively). */
  type: string;
  params: Params;
}

/** Subscription-State (RFC 6665 §8.2.3). */
export interface SubscriptionStateValue {
  /** 'active' | 'pending' | 'terminated' or an extension, lower-cased. */
  state: string;
  reason?: string;
  expires?: number;
  retryAfter?: number;
  params: Params;
}

/** Replaces (RFC 3891) header or the decoded value of a `?Replaces=` URI header. */
export interface ReplacesValue {
  callId: string;
  toTag: string;
  fromTag: string;
  earlyOnly: boolean;
  params: Params;
}

/** Target-Dialog (RFC 4538). */
export interface TargetDialogValue {
  callId: string;
  localTag?: string;
  remoteTag?: string;
  params: Params;
}

/** Session-Expires (RFC 4028 §4). */
export interface SessionExpiresValue {
  deltaSeconds: number;
  refresher?: 'uac' | 'uas';
  params: Params;
}

/** RAck (RFC 3262 §7.2). */
export interface RAckValue {
  rseq: number;
  cseq: number;
  method: string;
}

/** One Reason value (RFC 3326): `SIP ;cause=200 ;text="Call completed elsewhere"`. */
export interface ReasonValue {
  protocol: string;
  cause?: number;
  text?: string;
  params: Params;
}

/** Content-Type / Accept entry (RFC 3261 §20.15): type and subtype lower-cased. */
export interface MediaType {
  type: string;
  subtype: string;
  params: Params;
}

/** Refer-Sub (RFC 4488). */
export interface ReferSubValue {
  value: boolean;
  params: Params;
}

/** Retry-After (RFC 3261 §20.33). */
export interface RetryAfterValue {
  seconds: number;
  comment?: string;
  duration?: number;
  params: Params;
}

/** One Warning value (RFC 3261 §20.43): three-digit code, agent, quoted text. */
export interface WarningValue {
  code: number;
  agent: string;
  text: string;
}

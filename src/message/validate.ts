/**
 * Semantic checks on a parsed request before any work is done with it: RFC 3261 §8.2 (UAS) and
 * §16.3 (proxy). Returns the response an element must give, or ok.
 */
import { SipParseError } from '../core/errors.js';
import { KNOWN_METHODS } from '../core/methods.js';
import { MAGIC_COOKIE } from '../core/ids.js';
import type { SipRequest } from './message.js';
import type { MediaType } from './types.js';

export interface ValidateOptions {
  /**
   * 'uas' (an endpoint or registrar: checks Require, Content-Type, Accept) or 'proxy' (checks
   * Max-Forwards and Proxy-Require). Default 'uas'.
   */
  role?: 'uas' | 'proxy';
  /** Option tags this element supports (for Require / Proxy-Require, RFC 3261 §8.2.2.3, §16.3 step 5). */
  supported?: readonly string[];
  /** Body types a UAS accepts (RFC 3261 §8.2.3). Default application/sdp, multipart/mixed, message/sipfrag, text/plain. */
  acceptTypes?: readonly string[];
  /** Authentication schemes the element can check; credentials in another scheme get 401 (RFC 4475 regaut01). Default ['digest']. */
  authSchemes?: readonly string[];
}

export type ValidationResult =
  | { ok: true }
  | { ok: false; status: number; reason: string; /** Headers the response must carry (Unsupported, Accept). */ headers?: Array<[string, string]> };

const SINGLETONS = ['call-id', 'from', 'to', 'cseq', 'max-forwards', 'content-length', 'content-type'];
const REQUIRED = ['via', 'from', 'to', 'call-id', 'cseq'];
const DEFAULT_ACCEPT = ['application/sdp', 'multipart/mixed', 'message/sipfrag', 'text/plain'];

function fail(status: number, reason: string, headers?: Array<[string, string]>): ValidationResult {
  return headers ? { ok: false, status, reason, headers } : { ok: false, status, reason };
}

function countOf(req: SipRequest, key: string): number {
  return req.countOf(key);
}

function mediaMatches(accepted: MediaType, type: string): boolean {
  const [t, s] = type.split('/');
  return (accepted.type === '*' || accepted.type === t) && (accepted.subtype === '*' || accepted.subtype === s);
}

/**
 * Checks `req` and returns the response an element must give when it cannot proceed, with the
 * RFC's reason. Never throws: a malformed header found now is a 400 with its reason.
 */
export function validateRequest(req: SipRequest, options: ValidateOptions = {}): ValidationResult {
  try {
    return check(req, options);
  } catch (e) {
    if (e instanceof SipParseError) return fail(e.status, e.reason);
    return fail(400, e instanceof Error ? e.message : String(e));
  }
}

function check(req: SipRequest, options: ValidateOptions): ValidationResult {
  const role = options.role ?? 'uas';
  // §8.1.1: To, From, CSeq, Call-ID and Via are mandatory; Max-Forwards is not checked for RFC 2543 peers.
  for (const key of REQUIRED) {
    if (countOf(req, key) === 0) return fail(400, `Missing ${key === 'call-id' ? 'Call-ID' : key === 'cseq' ? 'CSeq' : key.replace(/^./, (c) => c.toUpperCase())} header`);
  }
  // §7.3.1: single-valued headers appear once (RFC 4475 multi01, mcl01).
  for (const key of SINGLETONS) {
    if (countOf(req, key) > 1) {
      const distinct = new Set(req.getAll(key).map((v) => v.trim()));
      if (key !== 'content-length' || distinct.size > 1) return fail(400, `Multiple ${key} headers`);
    }
  }
  const cseq = req.cseq;
  if (cseq.method !== req.method) {
    return fail(KNOWN_METHODS.has(req.method) ? 400 : 501, `CSeq method ${cseq.method} does not match ${req.method}`);
  }
  const length = req.contentLength;
  if (length !== undefined && length !== req.body.length) return fail(400, 'Content-Length does not match the body');
  req.parseAll();
  const uri = req.uri;
  // RFC 4475 badbranch: a branch that is only the magic cookie identifies nothing.
  const branch = req.topVia?.params.branch;
  if (branch === MAGIC_COOKIE) return fail(400, 'Via branch is only the magic cookie');
  // §8.2.2.1, §16.3 step 2: schemes we cannot route or serve get 416.
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips' && uri.scheme !== 'tel') return fail(416, `Unsupported URI scheme ${uri.scheme}`);
  if (role === 'proxy') {
    // §16.3 step 3: a request with Max-Forwards of zero is not forwarded. (A proxy MAY answer an
    // OPTIONS itself instead; that choice is the proxy core's, after validation.)
    if (req.maxForwards === 0) return fail(483, 'Too Many Hops');
  }
  // RFC 4475 unksm2, RFC 3261 §10.3 step 4 context: a REGISTER's To is the AOR, a SIP or SIPS URI.
  if (req.method === 'REGISTER' && req.to.uri.scheme !== 'sip' && req.to.uri.scheme !== 'sips') {
    return fail(400, 'REGISTER To must be a SIP or SIPS URI');
  }
  const supported = new Set((options.supported ?? []).map((t) => t.toLowerCase()));
  const required = role === 'proxy' ? req.proxyRequire : req.method === 'CANCEL' || req.method === 'ACK' ? [] : req.require;
  const unknown = required.filter((t) => !supported.has(t.toLowerCase()));
  if (unknown.length > 0) {
    return fail(420, 'Bad Extension', unknown.map((t): [string, string] => ['Unsupported', t]));
  }
  const schemes = (options.authSchemes ?? ['digest']).map((s) => s.toLowerCase());
  for (const cred of [...req.authorization, ...req.proxyAuthorization]) {
    if (!schemes.includes(cred.scheme.toLowerCase())) return fail(401, `Unsupported authentication scheme ${cred.scheme}`);
  }
  if (role === 'uas') {
    const acceptTypes = options.acceptTypes ?? DEFAULT_ACCEPT;
    const ct = req.contentType;
    if (req.body.length > 0 && ct && !acceptTypes.includes(`${ct.type}/${ct.subtype}`)) {
      return fail(415, `Unsupported Media Type ${ct.type}/${ct.subtype}`, [['Accept', acceptTypes.join(', ')]]);
    }
    // §8.2.3 / RFC 4475 sdp01: an INVITE whose Accept excludes SDP cannot be answered with a session.
    if (req.method === 'INVITE' && req.has('accept')) {
      const accepted = req.getParsed('accept') as MediaType[];
      if (!accepted.some((a) => mediaMatches(a, 'application/sdp'))) return fail(406, 'Not Acceptable: Accept excludes application/sdp');
    }
  }
  return { ok: true };
}

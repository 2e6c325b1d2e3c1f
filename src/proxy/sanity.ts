/**
 * Sanity checks run on a request before the server does any work for it (no transaction, no
 * lookup), in the spirit of Kamailio's sanity module. The proxy core's validateRequest (RFC 3261
 * §16.3) checks more later; these are the cheap ones that stop hostile or broken input early, each
 * with a 400 whose reason phrase names what was wrong (RFC 3261 §21.4.1).
 *
 * Already guaranteed by the transport before this runs (message-receiver checkRequest): a
 * parseable Via list, Call-ID, CSeq, From and To. Checked again by validateRequest after this:
 * duplicate single-valued headers, Proxy-Require, Max-Forwards 0 (483), auth schemes.
 */
import { SipParseError } from '../core/errors.js';
import type { SipRequest } from '../message/index.js';

export type SanityResult = { ok: true } | { ok: false; status: number; reason: string };

/** RFC 3261 §8.1.1.5: the CSeq sequence number must be less than 2**31. */
const MAX_CSEQ = 2 ** 31 - 1;
const REQUIRED: ReadonlyArray<[string, string]> = [
  ['via', 'Via'], ['from', 'From'], ['to', 'To'], ['call-id', 'Call-ID'], ['cseq', 'CSeq'],
];
/** Request-URI schemes a proxy can route or answer (others get 416, §16.3 step 2). */
const SCHEMES: ReadonlySet<string> = new Set(['sip', 'sips', 'tel']);

const bad = (reason: string, status = 400): SanityResult => ({ ok: false, status, reason });

/** The first problem of `request`, or ok. Never throws. */
export function sanityCheck(request: SipRequest): SanityResult {
  try {
    return check(request);
  } catch (e) {
    if (e instanceof SipParseError) return bad(oneLine(e.reason), e.status >= 400 && e.status < 700 ? e.status : 400);
    return bad(oneLine(e instanceof Error ? e.message : String(e)));
  }
}

function check(request: SipRequest): SanityResult {
  for (const [key, name] of REQUIRED) if (!request.has(key)) return bad(`Missing ${name} header`);
  const method = request.method;
  // RFC 3261 §8.1.1.8: an INVITE carries a Contact (the dialog's remote target).
  if (method === 'INVITE' && !request.has('contact')) return bad('Missing Contact header in INVITE');

  let maxForwards: number | undefined;
  try {
    maxForwards = request.maxForwards;
  } catch {
    return bad('Bad Max-Forwards (must be 0 to 255)');
  }
  if (maxForwards !== undefined && (!Number.isInteger(maxForwards) || maxForwards < 0 || maxForwards > 255)) {
    return bad('Bad Max-Forwards (must be 0 to 255)');
  }

  const cseq = request.cseq;
  if (cseq.method !== method) return bad(`CSeq method ${cseq.method.slice(0, 20)} does not match ${method.slice(0, 20)}`);
  if (!Number.isInteger(cseq.seq) || cseq.seq < 0 || cseq.seq > MAX_CSEQ) return bad('CSeq number out of range');

  const length = request.contentLength;
  if (length !== undefined && length !== request.body.length) {
    return bad(`Content-Length ${length} does not match the body (${request.body.length} bytes)`);
  }

  const scheme = request.uri.scheme.toLowerCase();
  if (!SCHEMES.has(scheme)) return bad(`Unsupported URI scheme ${scheme.slice(0, 20)}`, 416);
  // The From and To URIs must at least parse; a REGISTER's To is an address of record (sip/sips).
  const to = request.to.uri;
  void request.from.uri;
  if (method === 'REGISTER' && to.scheme !== 'sip' && to.scheme !== 'sips') return bad('REGISTER To must be a SIP or SIPS URI');
  return { ok: true };
}

function oneLine(text: string): string {
  const t = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 120);
  return t === '' ? 'Bad Request' : t;
}

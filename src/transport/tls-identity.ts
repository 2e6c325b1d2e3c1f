/**
 * Whose certificate is it: SIP domain identities per RFC 5922 §7.1, compared per §7.2.
 *
 * - subjectAltName dNSName entries are SIP domain identities; so is a uniformResourceIdentifier
 *   `sip:domain` without a user part (§7.1). Other URI schemes are ignored.
 * - No wildcards (§7.2): a `*.example.com` entry matches nothing, not even `a.example.com`.
 * - The subject's CN is not used. §7.1 allows it only when there is no subjectAltName at all, as a
 *   MAY; we decline it, because a CN is not typed and certificates without SANs are obsolete.
 * - A target reached by IP literal with no name to check (a numeric Request-URI or sent-by)
 *   matches an iPAddress entry, as HTTPS does (RFC 2818 §3.1); RFC 5922 covers names only.
 */
import type { PeerCertificate } from 'node:tls';
import { ipFamily, normalizeAddress } from './addresses.js';

interface AltName {
  type: string;
  value: string;
}

/**
 * Splits Node's `subjectaltname` text: `DNS:a.example.com, IP Address:127.0.0.1, URI:sip:x`.
 * Node writes a value holding a comma or quote as a JSON string (`DNS:"a,b"`), so those are read
 * as JSON rather than split blindly.
 */
export function parseSubjectAltName(text: string | undefined): AltName[] {
  const out: AltName[] = [];
  if (text === undefined) return out;
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    i = colon + 1;
    let value: string;
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        value = '';
      }
      i = j + 1;
    } else {
      const end = text.indexOf(', ', i);
      value = end < 0 ? text.slice(i) : text.slice(i, end);
      i = end < 0 ? text.length : end;
    }
    out.push({ type, value });
  }
  return out;
}

/** The SIP domain identities and IP addresses a certificate vouches for, lower-cased and canonical. */
export function certificateIdentities(cert: PeerCertificate | undefined): Set<string> {
  const ids = new Set<string>();
  if (cert === undefined || cert === null) return ids;
  for (const { type, value } of parseSubjectAltName(cert.subjectaltname)) {
    if (type === 'DNS') {
      // RFC 5922 §7.2: wildcard entries are not identities.
      if (!value.includes('*')) ids.add(normalizeAddress(value));
    } else if (type === 'URI') {
      // RFC 5922 §7.1: only `sip:` URIs without a user part name a SIP domain.
      const m = /^sip:([^@;?:]+)(?::\d+)?(?:[;?].*)?$/i.exec(value);
      if (m !== null) ids.add(normalizeAddress(m[1]!));
    } else if (type === 'IP Address') {
      ids.add(normalizeAddress(value));
    }
  }
  return ids;
}

/**
 * A `checkServerIdentity` for node:tls: undefined when `cert` identifies `expected` (a SIP domain
 * or, for numeric targets, an IP address), else an Error saying why.
 */
export function checkSipIdentity(expected: string, cert: PeerCertificate): Error | undefined {
  const want = normalizeAddress(expected);
  const ids = certificateIdentities(cert);
  if (ids.has(want)) return undefined;
  const what = ipFamily(expected) === 0 ? 'SIP domain' : 'IP address';
  const err = new Error(`certificate does not identify ${what} ${want} (RFC 5922 §7.2; it names: ${[...ids].join(', ') || 'nothing usable'})`);
  (err as Error & { code: string }).code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  return err;
}

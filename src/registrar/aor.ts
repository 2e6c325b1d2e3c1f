/**
 * Address-of-record keys (RFC 3261 §10.3 step 5): the To URI reduced to what names the record.
 */
import { formatUri, isSipUri } from '../message/uri.js';
import type { Uri } from '../message/types.js';

/**
 * The canonical AOR of a To URI: `sip:user@host`, host lower-cased, no port, params or headers.
 * A sips: AOR maps to the same record as its sip: form (RFC 3261 §10.3 step 5 compares AORs
 * "independent of scheme" for our purposes: one user, one record). Undefined for non-SIP URIs.
 */
export function canonicalAor(uri: Uri): string | undefined {
  if (!isSipUri(uri)) return undefined;
  return formatUri({
    scheme: 'sip', user: uri.user, host: uri.host.toLowerCase(), hostType: uri.hostType,
    params: Object.create(null) as Record<string, string | null>, headers: {},
  });
}

/**
 * Public GRUUs (RFC 5627 §3.1): `AOR;gr=<instance-id>`, a URI that reaches one instance. Ours are
 * derived, not stored: the AOR plus the instance URN (its angle brackets removed), so every node
 * computes the same GRUU and resolves it without a table.
 */
import { formatUri, isSipUri, parseUri } from '../message/uri.js';
import type { Uri } from '../message/types.js';
import { canonicalAor } from './aor.js';

/** `urn:uuid:...` from a `+sip.instance` value `<urn:uuid:...>` (brackets optional). */
export function instanceUrn(instanceId: string): string {
  const s = instanceId.trim();
  return s.startsWith('<') && s.endsWith('>') ? s.slice(1, -1) : s;
}

/** The public GRUU of (aor, instance): `sip:alice@example.com;gr=urn:uuid:...` (RFC 5627 §5.3). */
export function publicGruu(aor: string, instanceId: string): string {
  const u = parseUri(aor);
  if (!isSipUri(u)) throw new TypeError(`publicGruu: not a SIP AOR: ${aor}`);
  u.params.gr = instanceUrn(instanceId);
  return formatUri(u);
}

/** The (AOR, instance URN) a public GRUU names, or undefined when `uri` has no `gr` value. */
export function parseGruu(uri: string | Uri): { aor: string; instance: string } | undefined {
  let u: Uri;
  try {
    u = typeof uri === 'string' ? parseUri(uri) : uri;
  } catch {
    return undefined;
  }
  if (!isSipUri(u)) return undefined;
  const gr = u.params.gr;
  if (gr === undefined || gr === null || gr === '') return undefined;
  const aor = canonicalAor(u);
  return aor === undefined ? undefined : { aor, instance: gr };
}

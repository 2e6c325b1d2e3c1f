/**
 * Loop detection (RFC 3261 §16.3 step 4, §16.6 step 8). The branch of every request we forward is
 * `z9hG4bK<unique>.<hash>`: the unique part makes it a transaction id (§8.1.1.7), the hash covers
 * the fields that decide how the request is routed. A request that comes back carrying one of our
 * Vias whose hash equals the one it would get now has looped (482); a changed hash is a spiral.
 *
 * DEVIATION(RFC 3261 §16.6 step 8): the hash leaves out the topmost Via the RFC suggests. A looped
 * request arrives with the previous hop's Via on top, never the one it first had, so a hash
 * over it would see every loop as a spiral (RFC 5393 §3 discusses the same weakness).
 */
import { MAGIC_COOKIE, randomToken } from '../core/ids.js';
import type { SipRequest } from '../message/index.js';

/**
 * The routing fields' hash (§16.6 step 8 list, minus the top Via): 16 hex digits. Any good hash
 * will do here (the RFC's MD5 is only "a reasonable choice"): it must tell a changed request from
 * an unchanged one, not resist an attacker, so two 32-bit FNV-1a lanes over the text are used,
 * several times cheaper than node:crypto for a few hundred bytes.
 */
export function loopHash(request: SipRequest): string {
  let text = request.uriText + '\0' + (request.toTag ?? '') + '\0' + (request.fromTag ?? '') + '\0' + request.callId + '\0' + request.cseq.seq;
  if (request.has('route')) for (const v of request.getAll('route')) text += '\0' + v;
  if (request.has('proxy-require')) for (const v of request.getAll('proxy-require')) text += '\0' + v;
  if (request.has('proxy-authorization')) for (const v of request.getAll('proxy-authorization')) text += '\0' + v;
  return hash64(text);
}

/** Two FNV-1a 32-bit lanes with different offsets: 64 bits as 16 hex digits. */
export function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return hex8(a) + hex8(b);
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** A branch for one forwarded copy: unique, and carrying the loop hash after the last dot. */
export function proxyBranch(hash: string): string {
  return `${MAGIC_COOKIE}${randomToken(9)}.${hash}`;
}

/**
 * §16.3 step 4: true when a Via we wrote (sent-by ours) carries `hash`, i.e. this very request
 * passed here before unchanged. A cheap text search comes first: most requests never passed here.
 */
export function isLoop(request: SipRequest, hash: string, isOwnSentBy: (host: string, port: number | undefined) => boolean): boolean {
  const tail = '.' + hash;
  let seen = false;
  for (const line of request.getAll('via')) {
    if (line.includes(tail)) {
      seen = true;
      break;
    }
  }
  if (!seen) return false;
  for (const via of request.via) {
    const branch = via.params.branch;
    if (typeof branch !== 'string' || !branch.endsWith(tail)) continue;
    if (isOwnSentBy(via.host, via.port)) return true;
  }
  return false;
}

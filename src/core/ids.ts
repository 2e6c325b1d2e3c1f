import { randomBytes } from 'node:crypto';

/** RFC 3261 §8.1.1.7: every branch this stack creates starts with the magic cookie. */
export const MAGIC_COOKIE = 'z9hG4bK';

// Randomness comes in blocks so that ids on the hot path do not each pay for a syscall.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;

function randomChunk(bytes: number): Buffer {
  if (poolOffset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const chunk = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return chunk;
}

/** `bytes` random bytes in base64url: only token characters, so safe in any SIP header. */
export function randomToken(bytes = 12): string {
  return randomChunk(bytes).toString('base64url');
}

/** A new Via branch with the magic cookie and 96 bits of randomness (RFC 3261 §8.1.1.7). */
export function newBranch(): string {
  return MAGIC_COOKIE + randomToken(12);
}

/** A new From/To tag: 64 bits of randomness (RFC 3261 §19.3 asks for at least 32). */
export function newTag(): string {
  return randomToken(8);
}

/** A new Call-ID, globally unique: 128 bits of randomness, optionally `@host` (RFC 3261 §8.1.1.4). */
export function newCallId(host?: string): string {
  const id = randomToken(16);
  return host ? `${id}@${host}` : id;
}

/**
 * SDES key exchange (RFC 4568): the `a=crypto` attribute that carries an SRTP master key and salt
 * in SDP, read and written, and fresh keys made with node:crypto.
 */
import { randomBytes } from 'node:crypto';
import type { SrtpSuite } from './srtp-context.js';

/** One `a=crypto:<tag> <suite> inline:<key||salt base64>[|lifetime][|MKI:length]` (RFC 4568 §9.1). */
export interface CryptoAttribute {
  readonly tag: number;
  readonly suite: SrtpSuite;
  readonly masterKey: Buffer;
  readonly masterSalt: Buffer;
}

export const SUPPORTED_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/**
 * Reads the value of an a=crypto line (without `a=crypto:`). Undefined for an unsupported suite,
 * a key of the wrong length, or an MKI (this layer does not use MKIs).
 */
export function parseCryptoAttribute(value: string): CryptoAttribute | undefined {
  const m = /^(\d{1,9})\s+(\S+)\s+inline:([A-Za-z0-9+/=]+)(\|[^\s|]+)*(?:\s.*)?$/.exec(value.trim());
  if (m === null) return undefined;
  const suite = m[2] as SrtpSuite;
  if (!SUPPORTED_SUITES.includes(suite)) return undefined;
  const params = value.trim().split(/\s+/)[2]!.split('|').slice(1);
  // RFC 4568 §6.1: a parameter with ':' is an MKI; we do not use MKIs, so refuse the key.
  if (params.some((p) => p.includes(':'))) return undefined;
  const raw = Buffer.from(m[3]!, 'base64');
  if (raw.length !== 30) return undefined;
  return { tag: Number(m[1]), suite, masterKey: raw.subarray(0, 16), masterSalt: raw.subarray(16, 30) };
}

/** Writes the value of an a=crypto line. */
export function formatCryptoAttribute(c: CryptoAttribute): string {
  return `${c.tag} ${c.suite} inline:${Buffer.concat([c.masterKey, c.masterSalt]).toString('base64')}`;
}

/** A fresh random key (RFC 4568 §6.1: keys must be random and new for each session). */
export function newCryptoAttribute(tag = 1, suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80'): CryptoAttribute {
  const raw = randomBytes(30);
  return { tag, suite, masterKey: raw.subarray(0, 16), masterSalt: raw.subarray(16, 30) };
}

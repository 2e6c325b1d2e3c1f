/**
 * SRTP key derivation (RFC 3711 §4.3) with the AES-CM PRF (§4.3.3), key derivation rate 0, and the
 * AES-128 counter-mode keystream (§4.1.1). node:crypto only.
 */
import { createCipheriv } from 'node:crypto';

/** Key derivation labels (RFC 3711 §4.3.1, §4.3.2). */
export const LABEL = { srtpEncryption: 0, srtpAuth: 1, srtpSalt: 2, srtcpEncryption: 3, srtcpAuth: 4, srtcpSalt: 5 } as const;

/**
 * AES counter-mode keystream of `length` octets from a 16-octet IV (RFC 3711 §4.1.1): AES of IV,
 * IV+1, IV+2... Node's aes-128-ctr increments the whole block, the same thing for fewer than 2^16 blocks.
 */
export function aesCmKeystream(key: Buffer, iv: Buffer, length: number): Buffer {
  const c = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([c.update(Buffer.alloc(length)), c.final()]);
}

/**
 * One session key (RFC 3711 §4.3.1): x = (label || index DIV kdr) XOR master salt; with kdr = 0
 * the index part is zero, so only the label octet (the 8th of the 14-octet salt) changes. The PRF
 * is AES-CM keyed with the master key, IV = x · 2^16.
 */
export function deriveSessionKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, 14);
  iv[7] = iv[7]! ^ label;
  return aesCmKeystream(masterKey, iv, length);
}

export interface SessionKeys {
  readonly encryptionKey: Buffer;
  readonly authKey: Buffer;
  readonly salt: Buffer;
}

/** The three SRTP (or SRTCP) session keys for AES_CM_128_HMAC_SHA1_*: 16-octet key, 20-octet auth key, 14-octet salt. */
export function deriveSessionKeys(masterKey: Buffer, masterSalt: Buffer, rtcp = false): SessionKeys {
  const base = rtcp ? 3 : 0;
  return {
    encryptionKey: deriveSessionKey(masterKey, masterSalt, base + LABEL.srtpEncryption, 16),
    authKey: deriveSessionKey(masterKey, masterSalt, base + LABEL.srtpAuth, 20),
    salt: deriveSessionKey(masterKey, masterSalt, base + LABEL.srtpSalt, 14),
  };
}

/**
 * The packet IV (RFC 3711 §4.1.1): (salt · 2^16) XOR (SSRC · 2^64) XOR (index · 2^16), index being
 * the 48-bit SRTP packet index or the 31-bit SRTCP index.
 */
export function packetIv(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0, 0, 14);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const hi = Math.floor(index / 0x100000000);
  const lo = index >>> 0;
  iv.writeUInt16BE((iv.readUInt16BE(8) ^ hi) & 0xffff, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ lo) >>> 0, 10);
  return iv;
}

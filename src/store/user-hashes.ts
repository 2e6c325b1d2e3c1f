/** The HA1 hashes kept for a user (RFC 7616 §3.4.2): never the password itself. */
import { computeHa1Base, SUPPORTED_ALGORITHMS } from '../auth/digest.js';
import type { UserRecord } from '../auth/user-store.js';

/** H(username:realm:password) for MD5, SHA-256 and (where node has it) SHA-512-256. */
export function userRecord(username: string, realm: string, password: string): UserRecord {
  const rec: UserRecord = {
    username, realm,
    ha1Md5: computeHa1Base('MD5', username, realm, password),
    ha1Sha256: computeHa1Base('SHA-256', username, realm, password),
  };
  if (SUPPORTED_ALGORITHMS.includes('SHA-512-256')) rec.ha1Sha512_256 = computeHa1Base('SHA-512-256', username, realm, password);
  return rec;
}

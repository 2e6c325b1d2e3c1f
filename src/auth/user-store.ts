/**
 * Where a digest server finds its users (RFC 7616 §3.4.2): only HA1 hashes are kept, one per
 * algorithm, so a stolen store does not give the passwords away.
 */

export interface UserRecord {
  /** The digest username (the user part of the AOR, e.g. `alice`). */
  username: string;
  realm: string;
  /** H(username:realm:password) with MD5, lower-case hex. */
  ha1Md5: string;
  /** The same with SHA-256 (RFC 8760). */
  ha1Sha256: string;
  /** The same with SHA-512-256, when known. */
  ha1Sha512_256?: string;
}

export interface UserStore {
  find(username: string, realm: string): Promise<UserRecord | undefined>;
  close(): Promise<void>;
}

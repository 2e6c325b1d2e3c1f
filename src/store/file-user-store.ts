/**
 * Digest users from configuration (a plain object read from a config file). Each entry gives a
 * password (hashed at load, then dropped) or precomputed HA1 hashes.
 */
import type { UserRecord, UserStore } from '../auth/user-store.js';
import { UserConfigError } from './store-error.js';
import { userRecord } from './user-hashes.js';

/** One user as written in the config file. */
export interface FileUserEntry {
  user: string;
  /** Default: the store's realm. */
  realm?: string;
  password?: string;
  /** H(user:realm:password), MD5, lower-case hex (instead of a password). */
  ha1Md5?: string;
  /** The same with SHA-256. */
  ha1Sha256?: string;
}

export interface FileUserStoreOptions {
  /** Realm of entries that name none. */
  realm: string;
}

const HEX = (n: number): RegExp => new RegExp(`^[0-9a-fA-F]{${n}}$`);

/**
 * Users kept in memory. An entry with only one hash can log in only with that algorithm (the other
 * hash is left empty and never matches).
 */
export class FileUserStore implements UserStore {
  private readonly users = new Map<string, UserRecord>();

  /** Throws UserConfigError naming the first bad entry. */
  constructor(entries: readonly FileUserEntry[], options: FileUserStoreOptions) {
    if (!Array.isArray(entries)) throw new UserConfigError(-1, undefined, 'users must be a list');
    entries.forEach((raw, i) => {
      const e = raw as Partial<FileUserEntry> | null;
      if (e === null || typeof e !== 'object') throw new UserConfigError(i, undefined, 'not an object');
      if (typeof e.user !== 'string' || e.user === '' || /[\s@:]/.test(e.user)) throw new UserConfigError(i, typeof e.user === 'string' ? e.user : undefined, '`user` must be a non-empty name without spaces, @ or :');
      const realm = e.realm ?? options.realm;
      if (typeof realm !== 'string' || realm === '') throw new UserConfigError(i, e.user, '`realm` must be a non-empty string');
      let rec: UserRecord;
      if (e.password !== undefined) {
        if (typeof e.password !== 'string' || e.password === '') throw new UserConfigError(i, e.user, '`password` must be a non-empty string');
        if (e.ha1Md5 !== undefined || e.ha1Sha256 !== undefined) throw new UserConfigError(i, e.user, 'give `password` or HA1 hashes, not both');
        rec = userRecord(e.user, realm, e.password);
      } else {
        if (e.ha1Md5 === undefined && e.ha1Sha256 === undefined) throw new UserConfigError(i, e.user, 'needs `password`, `ha1Md5` or `ha1Sha256`');
        if (e.ha1Md5 !== undefined && (typeof e.ha1Md5 !== 'string' || !HEX(32).test(e.ha1Md5))) throw new UserConfigError(i, e.user, '`ha1Md5` must be 32 hex digits');
        if (e.ha1Sha256 !== undefined && (typeof e.ha1Sha256 !== 'string' || !HEX(64).test(e.ha1Sha256))) throw new UserConfigError(i, e.user, '`ha1Sha256` must be 64 hex digits');
        rec = { username: e.user, realm, ha1Md5: (e.ha1Md5 ?? '').toLowerCase(), ha1Sha256: (e.ha1Sha256 ?? '').toLowerCase() };
      }
      const key = `${rec.username}\n${realm}`;
      if (this.users.has(key)) throw new UserConfigError(i, e.user, `duplicate user in realm ${realm}`);
      this.users.set(key, rec);
    });
  }

  async find(username: string, realm: string): Promise<UserRecord | undefined> {
    const r = this.users.get(`${username}\n${realm}`);
    return r === undefined ? undefined : { ...r };
  }

  async list(): Promise<UserRecord[]> {
    return [...this.users.values()].map((r) => ({ ...r }));
  }

  async close(): Promise<void> {}
}

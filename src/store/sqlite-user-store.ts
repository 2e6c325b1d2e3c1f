/**
 * Digest users in SQLite: username, realm and the HA1 hashes (MD5, SHA-256, SHA-512-256); the
 * password is hashed on `add` and never stored.
 */
import Database from 'better-sqlite3';
import type { UserRecord, UserStore } from '../auth/user-store.js';
import { StoreError } from './store-error.js';
import { userRecord } from './user-hashes.js';

const SCHEMA_VERSION = 1;

interface Row { username: string; realm: string; ha1_md5: string; ha1_sha256: string; ha1_sha512_256: string | null }

function toRecord(r: Row): UserRecord {
  const rec: UserRecord = { username: r.username, realm: r.realm, ha1Md5: r.ha1_md5, ha1Sha256: r.ha1_sha256 };
  if (r.ha1_sha512_256 !== null) rec.ha1Sha512_256 = r.ha1_sha512_256;
  return rec;
}

export class SqliteUserStore implements UserStore {
  private readonly db: Database.Database;
  private readonly findStmt: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly del: Database.Statement;
  private readonly all: Database.Statement;
  private closed = false;

  private constructor(db: Database.Database) {
    this.db = db;
    this.findStmt = db.prepare('SELECT * FROM users WHERE username = ? AND realm = ?');
    this.upsert = db.prepare(`INSERT INTO users (username, realm, ha1_md5, ha1_sha256, ha1_sha512_256) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (username, realm) DO UPDATE SET ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256, ha1_sha512_256 = excluded.ha1_sha512_256`);
    this.del = db.prepare('DELETE FROM users WHERE username = ? AND realm = ?');
    this.all = db.prepare('SELECT * FROM users ORDER BY realm, username');
  }

  /** Opens (creating when absent) the user database at `file`. */
  static open(file: string): SqliteUserStore {
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (e) {
      throw new StoreError('ERR_STORE_OPEN', `cannot open user store ${file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      db.pragma('journal_mode = WAL');
      // Users change rarely and a lost change is a support call: pay the fsync.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.exec('CREATE TABLE IF NOT EXISTS schema_version (name TEXT PRIMARY KEY, version INTEGER NOT NULL)');
      const row = db.prepare("SELECT version FROM schema_version WHERE name = 'users'").get() as { version: number } | undefined;
      if (row !== undefined && row.version > SCHEMA_VERSION) throw new StoreError('ERR_STORE_SCHEMA', `user store schema ${row.version} is newer than ${SCHEMA_VERSION}`);
      if (row === undefined) {
        db.transaction(() => {
          db.exec(`CREATE TABLE IF NOT EXISTS users (
            username TEXT NOT NULL, realm TEXT NOT NULL,
            ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL, ha1_sha512_256 TEXT,
            PRIMARY KEY (username, realm)) WITHOUT ROWID`);
          db.prepare("INSERT INTO schema_version (name, version) VALUES ('users', ?)").run(SCHEMA_VERSION);
        }).immediate();
      }
      return new SqliteUserStore(db);
    } catch (e) {
      db.close();
      throw e instanceof StoreError ? e : new StoreError('ERR_STORE_OPEN', `cannot prepare user store ${file}: ${(e as Error).message}`, { cause: e });
    }
  }

  async find(username: string, realm: string): Promise<UserRecord | undefined> {
    this.check();
    const r = this.findStmt.get(username, realm) as Row | undefined;
    return r === undefined ? undefined : toRecord(r);
  }

  /** Adds the user, or changes its password when it exists. */
  async add(username: string, realm: string, password: string): Promise<UserRecord> {
    this.check();
    if (username === '' || realm === '') throw new StoreError('ERR_USER_CONFIG', 'username and realm must not be empty');
    const rec = userRecord(username, realm, password);
    this.upsert.run(username, realm, rec.ha1Md5, rec.ha1Sha256, rec.ha1Sha512_256 ?? null);
    return rec;
  }

  /** Resolves with whether the user existed. */
  async remove(username: string, realm: string): Promise<boolean> {
    this.check();
    return this.del.run(username, realm).changes > 0;
  }

  async list(): Promise<UserRecord[]> {
    this.check();
    return (this.all.all() as Row[]).map(toRecord);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private check(): void {
    if (this.closed) throw new StoreError('ERR_STORE_CLOSED', 'user store is closed');
  }
}

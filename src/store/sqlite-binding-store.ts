/**
 * The location service in SQLite (one node): one row per binding, the Binding as JSON beside the
 * columns that are queried (aor, expires_at). better-sqlite3 is synchronous, so each call finishes
 * inside one turn of the event loop; `update` also runs in BEGIN IMMEDIATE, so a second process
 * on the same file waits (busy_timeout) instead of interleaving.
 *
 * Journal: WAL, so readers (the proxy's lookups) never wait for the writer. synchronous=NORMAL:
 * in WAL mode that survives a crash of the process with no loss and keeps the file consistent
 * on power loss, losing at most the last commits; every binding is refreshed by its UA within
 * its expiry anyway, so we trade those for an fsync-free commit on each REGISTER.
 */
import Database from 'better-sqlite3';
import type { Binding, BindingStore } from '../registrar/binding.js';
import { StoreError } from './store-error.js';

const SCHEMA_VERSION = 1;

type Db = Database.Database;
type Stmt = Database.Statement;

export class SqliteBindingStore implements BindingStore {
  private readonly db: Db;
  private readonly selectAor: Stmt;
  private readonly deleteAor: Stmt;
  private readonly insert: Stmt;
  private readonly purge: Stmt;
  private readonly countLive: Stmt;
  private readonly listLive: Stmt;
  private readonly tx: (aor: string, now: number, change: (current: Binding[]) => Binding[]) => Binding[];
  private closed = false;

  private constructor(db: Db) {
    this.db = db;
    this.selectAor = db.prepare('SELECT data FROM bindings WHERE aor = ? AND expires_at > ? ORDER BY position');
    this.deleteAor = db.prepare('DELETE FROM bindings WHERE aor = ?');
    this.insert = db.prepare('INSERT INTO bindings (aor, position, expires_at, data) VALUES (?, ?, ?, ?)');
    this.purge = db.prepare('DELETE FROM bindings WHERE expires_at <= ?');
    this.countLive = db.prepare('SELECT count(*) AS n FROM bindings WHERE expires_at > ?');
    this.listLive = db.prepare('SELECT data FROM bindings WHERE expires_at > ? ORDER BY aor, position LIMIT ?');
    const run = db.transaction((aor: string, now: number, change: (current: Binding[]) => Binding[]): Binding[] => {
      const current = this.read(aor, now);
      const next = change(current).filter((b) => b.expiresAt > now);
      this.deleteAor.run(aor);
      next.forEach((b, i) => this.insert.run(aor, i, b.expiresAt, JSON.stringify(b)));
      return next;
    });
    this.tx = (aor, now, change) => run.immediate(aor, now, change);
  }

  /** Opens (creating when absent) the database at `file`; `:memory:` for a throw-away store. */
  static open(file: string): SqliteBindingStore {
    let db: Db;
    try {
      db = new Database(file);
    } catch (e) {
      throw new StoreError('ERR_STORE_OPEN', `cannot open binding store ${file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
      return new SqliteBindingStore(db);
    } catch (e) {
      db.close();
      throw e instanceof StoreError ? e : new StoreError('ERR_STORE_OPEN', `cannot prepare binding store ${file}: ${(e as Error).message}`, { cause: e });
    }
  }

  async lookup(aor: string, now: number): Promise<Binding[]> {
    this.check();
    return this.read(aor, now);
  }

  async update(aor: string, now: number, change: (current: Binding[]) => Binding[]): Promise<Binding[]> {
    this.check();
    return this.tx(aor, now, change);
  }

  async purgeExpired(now: number): Promise<number> {
    this.check();
    return this.purge.run(now).changes;
  }

  async count(now: number): Promise<number> {
    this.check();
    return (this.countLive.get(now) as { n: number }).n;
  }

  async list(now: number, limit = 10_000): Promise<Binding[]> {
    this.check();
    return (this.listLive.all(now, limit) as Array<{ data: string }>).map((r) => JSON.parse(r.data) as Binding);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private read(aor: string, now: number): Binding[] {
    return (this.selectAor.all(aor, now) as Array<{ data: string }>).map((r) => JSON.parse(r.data) as Binding);
  }

  private check(): void {
    if (this.closed) throw new StoreError('ERR_STORE_CLOSED', 'binding store is closed');
  }
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (name TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const row = db.prepare("SELECT version FROM schema_version WHERE name = 'bindings'").get() as { version: number } | undefined;
  if (row !== undefined && row.version > SCHEMA_VERSION) {
    throw new StoreError('ERR_STORE_SCHEMA', `binding store schema ${row.version} is newer than this build's ${SCHEMA_VERSION}`);
  }
  if (row === undefined) {
    db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS bindings (
        aor TEXT NOT NULL,
        position INTEGER NOT NULL,
        expires_at REAL NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (aor, position)
      ) WITHOUT ROWID`);
      db.exec('CREATE INDEX IF NOT EXISTS bindings_expires ON bindings (expires_at)');
      db.prepare("INSERT INTO schema_version (name, version) VALUES ('bindings', ?)").run(SCHEMA_VERSION);
    }).immediate();
  }
}

/**
 * The stores `hookflash serve` opens from its configuration: the bindings (SQLite file or Redis)
 * and the users (inline in the file, and the SQLite table `hookflash user add` writes), looked up
 * in that order.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  FileUserStore, RedisBindingStore, SqliteBindingStore, SqliteUserStore,
  type BindingStore, type UserRecord, type UserStore,
} from '../index.js';
import type { ServeConfig } from './config.js';
import { ConfigError } from './config.js';

export interface ServeStores {
  bindings: BindingStore;
  users: UserStore;
  /** How many users there are in all (0: authentication is off, on loopback only). */
  userCount: number;
  /** The realms the users are in (a user outside the server's realm can never log in). */
  realms: Set<string>;
  /** Where they came from, for the start log. */
  describe: { bindings: string; users: string };
  close(): Promise<void>;
}

/** Finds a user in each store in turn. */
class UserStores implements UserStore {
  constructor(private readonly stores: UserStore[]) {}
  async find(username: string, realm: string): Promise<UserRecord | undefined> {
    for (const s of this.stores) {
      const u = await s.find(username, realm);
      if (u !== undefined) return u;
    }
    return undefined;
  }
  async close(): Promise<void> {
    await Promise.all(this.stores.map((s) => s.close()));
  }
}

export async function openStores(config: ServeConfig): Promise<ServeStores> {
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    let inline: UserStore | undefined;
    if (config.users.length > 0) {
      try {
        inline = new FileUserStore(config.users.map((u) => {
          const at = u.user.lastIndexOf('@');
          return { ...u, user: u.user.slice(0, at), realm: u.user.slice(at + 1).toLowerCase() };
        }), { realm: config.domains[0] ?? 'hookflash' });
      } catch (e) {
        // A bad entry (UserConfigError names its index and user): a configuration error.
        throw new ConfigError(`config: "users": ${e instanceof Error ? e.message : String(e)}`);
      }
      opened.push(inline);
    }
    mkdirSync(dirname(config.usersDb), { recursive: true });
    const db = SqliteUserStore.open(config.usersDb);
    opened.push(db);
    const dbUsers = await db.list();
    const dbCount = dbUsers.length;
    const realms = new Set(dbUsers.map((u) => u.realm));
    for (const u of config.users) realms.add(u.user.slice(u.user.lastIndexOf('@') + 1).toLowerCase());

    let bindings: BindingStore;
    let where: string;
    if (config.store.kind === 'redis') {
      bindings = new RedisBindingStore({ url: config.store.url, keyPrefix: config.store.keyPrefix });
      where = `redis ${config.store.url} prefix ${config.store.keyPrefix}`;
    } else {
      mkdirSync(dirname(config.store.file), { recursive: true });
      bindings = SqliteBindingStore.open(config.store.file);
      where = `sqlite ${config.store.file}`;
    }
    opened.push(bindings);
    const users = new UserStores(inline === undefined ? [db] : [inline, db]);
    return {
      bindings,
      users,
      userCount: config.users.length + dbCount,
      realms,
      describe: { bindings: where, users: `${config.users.length} in the config file, ${dbCount} in ${config.usersDb}` },
      close: async () => {
        await Promise.allSettled([users.close(), bindings.close()]);
      },
    };
  } catch (e) {
    await Promise.allSettled(opened.map((s) => s.close()));
    throw e;
  }
}

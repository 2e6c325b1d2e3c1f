/**
 * `hookflash user add|list|remove`: the users `hookflash serve` authenticates, kept in
 * DATA/users.db (SQLite) as HA1 hashes only (RFC 7616 §3.4.2: H(user:realm:password) per
 * algorithm), never the password.
 *
 *   hookflash user add alice@atlanta.example.com --password secret
 *   echo secret | hookflash user add alice@atlanta.example.com
 *   hookflash user list
 *   hookflash user remove alice@atlanta.example.com
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SqliteUserStore } from '../index.js';
import { ConfigError, resolveConfig } from './config.js';

export const USER_HELP = `hookflash user: the users hookflash serve authenticates (HA1 hashes in DATA/users.db)

  hookflash user add USER@DOMAIN [--password P]   add or replace (password from stdin when --password is not given)
  hookflash user list                             one USER@DOMAIN a line
  hookflash user remove USER@DOMAIN               exit 1 when there is no such user

  --data DIR       the data directory (default ./data, or "data" from --config)
  --config FILE    take the data directory and "usersDb" from the serve configuration file
`;

/** `alice@atlanta.example.com` -> Digest username and realm. */
export function splitUser(text: string): { username: string; realm: string } | undefined {
  const m = /^([^@\s:]+)@([^@\s]+)$/.exec(text);
  return m === null ? undefined : { username: m[1]!, realm: m[2]!.toLowerCase() };
}

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}

export async function user(args: string[]): Promise<number> {
  let values: { password?: string; data?: string; config?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { password: { type: 'string' }, data: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    process.stderr.write(`hookflash user: ${e instanceof Error ? e.message : String(e)}\n\n${USER_HELP}`);
    return 2;
  }
  const [action, target, ...extra] = positionals;
  if (values.help === true || action === undefined) {
    process.stdout.write(USER_HELP);
    return values.help === true ? 0 : 2;
  }
  const usage = (msg: string): number => {
    process.stderr.write(`hookflash user: ${msg}\n\n${USER_HELP}`);
    return 2;
  };
  if (extra.length > 0) return usage(`unexpected ${JSON.stringify(extra[0])}`);
  if (action !== 'add' && action !== 'list' && action !== 'remove') return usage(`unknown action ${JSON.stringify(action)}`);
  if (action === 'list' && target !== undefined) return usage('list takes no USER@DOMAIN');
  const who = target === undefined ? undefined : splitUser(target);
  if (action !== 'list' && who === undefined) return usage(`${action} needs USER@DOMAIN, not ${JSON.stringify(target ?? '')}`);
  if (action !== 'add' && values.password !== undefined) return usage('--password is for add');

  let file: string;
  try {
    const flags = values.data === undefined ? {} : { data: values.data };
    file = resolveConfig(values.config === undefined ? flags : { ...flags, config: values.config }).usersDb;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`hookflash user: ${e.message}\n`);
    return 2;
  }

  let password: string | undefined;
  if (action === 'add') {
    password = values.password ?? (await readPassword());
    if (password === '') {
      process.stderr.write('hookflash user: empty password\n');
      return 2;
    }
  }
  mkdirSync(dirname(file), { recursive: true });
  const store = SqliteUserStore.open(file);
  try {
    switch (action) {
      case 'add':
        await store.add(who!.username, who!.realm, password!);
        process.stdout.write(`added ${who!.username}@${who!.realm}\n`);
        return 0;
      case 'remove': {
        const removed = await store.remove(who!.username, who!.realm);
        if (!removed) {
          process.stderr.write(`hookflash user: no user ${who!.username}@${who!.realm} in ${file}\n`);
          return 1;
        }
        process.stdout.write(`removed ${who!.username}@${who!.realm}\n`);
        return 0;
      }
      case 'list':
        for (const u of await store.list()) process.stdout.write(`${u.username}@${u.realm}\n`);
        return 0;
    }
  } finally {
    await store.close();
  }
}

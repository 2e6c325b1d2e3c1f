/** SqliteUserStore and FileUserStore: HA1 hashes only, add/remove/list, typed config errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeHa1Base } from '../../../src/auth/digest.js';
import { SqliteUserStore } from '../../../src/store/sqlite-user-store.js';
import { FileUserStore } from '../../../src/store/file-user-store.js';
import { UserConfigError } from '../../../src/store/store-error.js';

function tempFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-users-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'users.db');
}

test('SqliteUserStore keeps H(user:realm:password) per algorithm, never the password, across a reopen', async (t) => {
  const file = tempFile(t);
  const store = SqliteUserStore.open(file);
  await store.add('alice', 'example.com', 'correct horse battery');
  await store.add('bob', 'example.com', 'hunter2');
  await store.close();
  const bytes = readFileSync(file);
  assert.equal(bytes.includes('correct horse battery'), false);
  const again = SqliteUserStore.open(file);
  t.after(() => again.close());
  const alice = await again.find('alice', 'example.com');
  assert.equal(alice?.ha1Md5, computeHa1Base('MD5', 'alice', 'example.com', 'correct horse battery'));
  assert.equal(alice?.ha1Sha256, computeHa1Base('SHA-256', 'alice', 'example.com', 'correct horse battery'));
  assert.equal(await again.find('alice', 'other.realm'), undefined);
  assert.deepEqual((await again.list()).map((u) => u.username), ['alice', 'bob']);
  await again.add('alice', 'example.com', 'new password');
  assert.equal((await again.find('alice', 'example.com'))?.ha1Md5, computeHa1Base('MD5', 'alice', 'example.com', 'new password'));
  assert.equal(await again.remove('alice', 'example.com'), true);
  assert.equal(await again.remove('alice', 'example.com'), false);
  assert.equal(await again.find('alice', 'example.com'), undefined);
});

test('FileUserStore loads passwords and precomputed HA1s, the store realm by default', async () => {
  const ha1 = computeHa1Base('MD5', 'carol', 'other.org', 'pw');
  const store = new FileUserStore([
    { user: 'alice', password: 'secret' },
    { user: 'carol', realm: 'other.org', ha1Md5: ha1.toUpperCase() },
  ], { realm: 'example.com' });
  const alice = await store.find('alice', 'example.com');
  assert.equal(alice?.ha1Sha256, computeHa1Base('SHA-256', 'alice', 'example.com', 'secret'));
  assert.equal((await store.find('carol', 'other.org'))?.ha1Md5, ha1);
  assert.equal((await store.find('carol', 'other.org'))?.ha1Sha256, '');
  assert.equal(await store.find('carol', 'example.com'), undefined);
  assert.equal((await store.list()).length, 2);
});

test('FileUserStore names the bad entry in a typed error', () => {
  const bad = (entries: unknown[], index: number, user: string | undefined, re: RegExp): void => {
    assert.throws(() => new FileUserStore(entries as never, { realm: 'example.com' }), (e: unknown) =>
      e instanceof UserConfigError && e.code === 'ERR_USER_CONFIG' && e.index === index && e.user === user && re.test(e.message));
  };
  bad([{ user: 'alice', password: 'x' }, { user: 'bob' }], 1, 'bob', /users\[1\] \(bob\): needs `password`/);
  bad([{ password: 'x' }], 0, undefined, /`user`/);
  bad([{ user: 'dave', ha1Md5: 'nothex' }], 0, 'dave', /32 hex/);
  bad([{ user: 'eve', password: 'a' }, { user: 'eve', password: 'b' }], 1, 'eve', /duplicate/);
  bad([42], 0, undefined, /not an object/);
});

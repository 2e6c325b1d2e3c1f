/**
 * `hookflash user add|list|remove` as a real process: users land in DATA/users.db as HA1 hashes
 * only (RFC 7616 §3.4.2), the password from --password or stdin, bad arguments exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { SqliteUserStore } from '../../src/store/index.js';
import { runCli, tempDir } from './serve-process.js';

test('user add, list and remove keep HA1 hashes in DATA/users.db, never the password', async (t) => {
  const data = join(tempDir(t), 'data');
  const added = await runCli(['user', 'add', 'alice@Atlanta.Example.com', '--password', 'correct horse', '--data', data]);
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.stdout, 'added alice@atlanta.example.com\n');
  // The password from stdin when --password is not given (one line; the newline is not part of it).
  const fromStdin = await runCli(['user', 'add', 'bob@biloxi.example.com', '--data', data], 'battery staple\n');
  assert.equal(fromStdin.code, 0, fromStdin.stderr);

  const listed = await runCli(['user', 'list', '--data', data]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.stdout.trim().split('\n').sort(), ['alice@atlanta.example.com', 'bob@biloxi.example.com']);

  const store = SqliteUserStore.open(join(data, 'users.db'));
  try {
    const alice = await store.find('alice', 'atlanta.example.com');
    assert.equal(alice?.ha1Md5, createHash('md5').update('alice:atlanta.example.com:correct horse').digest('hex'));
    assert.equal(alice?.ha1Sha256, createHash('sha256').update('alice:atlanta.example.com:correct horse').digest('hex'));
    const bob = await store.find('bob', 'biloxi.example.com');
    assert.equal(bob?.ha1Md5, createHash('md5').update('bob:biloxi.example.com:battery staple').digest('hex'));
  } finally {
    await store.close();
  }
  for (const f of readdirSync(data)) {
    const bytes = readFileSync(join(data, f)).toString('latin1');
    assert.ok(!bytes.includes('correct horse') && !bytes.includes('battery staple'), `${f} holds a password`);
  }

  const removed = await runCli(['user', 'remove', 'alice@atlanta.example.com', '--data', data]);
  assert.equal(removed.code, 0, removed.stderr);
  const again = await runCli(['user', 'remove', 'alice@atlanta.example.com', '--data', data]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no user alice@atlanta\.example\.com/);
  const after = await runCli(['user', 'list', '--data', data]);
  assert.equal(after.stdout, 'bob@biloxi.example.com\n');
});

test('user: bad arguments exit 2 with the reason and touch nothing', async (t) => {
  const data = join(tempDir(t), 'data');
  const cases: Array<[string[], RegExp]> = [
    [['user', 'add', 'alice', '--password', 'x'], /add needs USER@DOMAIN, not "alice"/],
    [['user', 'add'], /add needs USER@DOMAIN/],
    [['user', 'rename', 'a@b'], /unknown action "rename"/],
    [['user', 'list', 'a@b'], /list takes no USER@DOMAIN/],
    [['user', 'remove', 'a@b', '--password', 'x'], /--password is for add/],
    [['user', 'add', 'a@b', '--colour'], /Unknown option '--colour'/],
  ];
  for (const [args, expected] of cases) {
    const r = await runCli([...args, '--data', data]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expected);
  }
  const empty = await runCli(['user', 'add', 'a@b', '--data', data], '');
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /empty password/);
  assert.equal(existsSync(join(data, 'users.db')), false);
});

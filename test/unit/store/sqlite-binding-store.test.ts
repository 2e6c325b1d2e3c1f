/** SqliteBindingStore: the BindingStore contract on a real file, restarts, two connections, schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteBindingStore } from '../../../src/store/sqlite-binding-store.js';
import { StoreError } from '../../../src/store/store-error.js';
import { binding, bindingStoreContract } from './binding-store-contract.js';

function tempFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-sqlite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'bindings.db');
}

bindingStoreContract('SqliteBindingStore', async (t) => {
  const store = SqliteBindingStore.open(tempFile(t));
  t.after(() => store.close());
  return store;
});

test('SqliteBindingStore: close and open the same file keeps every binding', async (t) => {
  const file = tempFile(t);
  const first = SqliteBindingStore.open(file);
  await first.update('sip:alice@example.com', 0, () => [
    binding('sip:alice@example.com', 'sip:a@192.0.2.1', 60_000, { flow: { transport: 'udp', address: '192.0.2.1', port: 5060 } }),
    binding('sip:alice@example.com', 'sip:a@192.0.2.2', 60_000, { q: 0.1 }),
  ]);
  await first.update('sip:bob@example.com', 0, () => [binding('sip:bob@example.com', 'sip:b@192.0.2.3', 60_000)]);
  await first.close();
  const second = SqliteBindingStore.open(file);
  t.after(() => second.close());
  assert.equal(await second.count(1), 3);
  const alice = await second.lookup('sip:alice@example.com', 1);
  assert.deepEqual(alice.map((b) => [b.contact, b.q, b.flow?.port]), [['sip:a@192.0.2.1', 1, 5060], ['sip:a@192.0.2.2', 0.1, undefined]]);
});

test('SqliteBindingStore: WAL journal, synchronous=NORMAL, schema version recorded', async (t) => {
  const file = tempFile(t);
  const store = SqliteBindingStore.open(file);
  await store.close();
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(db.prepare("SELECT version FROM schema_version WHERE name = 'bindings'").get(), { version: 1 });
});

test('SqliteBindingStore: two stores on one file (two processes) see and do not lose each other\'s updates', async (t) => {
  const file = tempFile(t);
  const a = SqliteBindingStore.open(file);
  const b = SqliteBindingStore.open(file);
  t.after(() => a.close());
  t.after(() => b.close());
  const aor = 'sip:alice@example.com';
  await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).update(aor, 0, (cur) => [...cur, binding(aor, `sip:a@192.0.2.${i + 1}`, 10_000)])));
  assert.equal((await a.lookup(aor, 0)).length, 10);
  assert.equal((await b.lookup(aor, 0)).length, 10);
});

test('SqliteBindingStore: a newer schema is refused with a typed error; a closed store throws', async (t) => {
  const file = tempFile(t);
  const db = new Database(file);
  db.exec("CREATE TABLE schema_version (name TEXT PRIMARY KEY, version INTEGER NOT NULL); INSERT INTO schema_version VALUES ('bindings', 99)");
  db.close();
  assert.throws(() => SqliteBindingStore.open(file), (e: unknown) => e instanceof StoreError && e.code === 'ERR_STORE_SCHEMA');
  const ok = SqliteBindingStore.open(tempFile(t));
  await ok.close();
  await assert.rejects(ok.lookup('sip:a@example.com', 0), (e: unknown) => e instanceof StoreError && e.code === 'ERR_STORE_CLOSED');
});

test('SqliteBindingStore: two threads with their own connections writing one AOR lose no update (BEGIN IMMEDIATE)', async (t) => {
  const file = tempFile(t);
  await SqliteBindingStore.open(file).close();
  const count = 150;
  const run = (id: string): Promise<void> => new Promise((resolve, reject) => {
    const w = new Worker(new URL('./sqlite-writer.worker.js', import.meta.url), { workerData: { file, id, count } });
    w.once('message', () => resolve());
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exit ${code}`))));
  });
  await Promise.all([run('w1'), run('w2'), run('w3')]);
  const store = SqliteBindingStore.open(file);
  t.after(() => store.close());
  assert.equal((await store.lookup('sip:alice@example.com', 0)).length, 3 * count);
});

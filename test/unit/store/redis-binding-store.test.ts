/** RedisBindingStore against a real redis-server: the contract, two nodes, atomic updates, TTL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisBindingStore } from '../../../src/store/redis-binding-store.js';
import { startRedis } from '../../helpers/redis.js';
import { binding, bindingStoreContract } from './binding-store-contract.js';

bindingStoreContract('RedisBindingStore', async (t) => {
  const server = await startRedis(t);
  if (!server) return undefined;
  const store = new RedisBindingStore({ url: server.url });
  t.after(() => store.close());
  return store;
});

test('RedisBindingStore: two nodes share bindings, and their concurrent updates are not lost', async (t) => {
  const server = await startRedis(t);
  if (!server) return;
  const node1 = new RedisBindingStore({ url: server.url });
  const node2 = new RedisBindingStore({ host: '127.0.0.1', port: server.port });
  t.after(() => node1.close());
  t.after(() => node2.close());
  const aor = 'sip:alice@example.com';
  await node1.update(aor, 0, () => [binding(aor, 'sip:a@192.0.2.1', 60_000, { flow: { transport: 'tcp', address: '192.0.2.1', port: 5070, node: 'n1' } })]);
  assert.deepEqual((await node2.lookup(aor, 0)).map((b) => b.flow?.node), ['n1']);
  await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? node1 : node2)
    .update(aor, 0, (cur) => [...cur, binding(aor, `sip:a@198.51.100.${i + 1}`, 60_000)])));
  assert.equal((await node1.lookup(aor, 0)).length, 21);
  assert.equal(await node2.count(0), 21);
});

test('RedisBindingStore: keys carry the prefix and expire with the longest binding', async (t) => {
  const server = await startRedis(t);
  if (!server) return;
  const store = new RedisBindingStore({ url: server.url, keyPrefix: 'test:' });
  const raw = new Redis(server.url);
  t.after(() => store.close());
  t.after(async () => { await raw.quit(); });
  const aor = 'sip:alice@example.com';
  await store.update(aor, 1_000, () => [binding(aor, 'sip:a@192.0.2.1', 31_000), binding(aor, 'sip:a@192.0.2.2', 121_000)]);
  const ttl = await raw.pttl(`test:aor:${aor}`);
  assert.ok(ttl > 110_000 && ttl <= 120_000, `pttl ${ttl}`);
  assert.deepEqual(await raw.smembers('test:aors'), [aor]);
  await store.update(aor, 1_000, () => []);
  assert.equal(await raw.exists(`test:aor:${aor}`), 0);
  assert.deepEqual(await raw.smembers('test:aors'), []);
});

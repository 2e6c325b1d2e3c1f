/**
 * The BindingStore contract (src/registrar/binding.ts), written once and run against every store:
 * memory, SQLite, Redis. `open(t)` returns a fresh, empty store (or undefined to skip).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Binding, BindingStore } from '../../../src/registrar/binding.js';

export function binding(aor: string, contact: string, expiresAt: number, extra: Partial<Binding> = {}): Binding {
  return { aor, contact, expiresAt, q: 1, callId: 'call-1', cseq: 1, path: [], updatedAt: 0, ...extra };
}

export function bindingStoreContract(name: string, open: (t: TestContext) => Promise<BindingStore | undefined>): void {
  const A = 'sip:alice@example.com';
  const B = 'sip:bob@example.com';

  test(`${name}: update stores the set and lookup returns it, every field kept`, async (t) => {
    const store = await open(t);
    if (!store) return;
    const full = binding(A, 'sip:alice@192.0.2.1:5070;transport=tcp;ob', 60_000, {
      q: 0.5, callId: 'abc@host', cseq: 7, path: ['<sip:edge.example.com;lr;ob>'], instanceId: '<urn:uuid:00000000-0000-0000-0000-000000000001>',
      regId: 1, flow: { transport: 'tcp', address: '192.0.2.1', port: 5070, connectionId: 'c-1', node: 'n1' }, userAgent: 'phone/1.0', updatedAt: 5,
    });
    const stored = await store.update(A, 0, (current) => {
      assert.deepEqual(current, []);
      return [full];
    });
    assert.deepEqual(stored, [full]);
    assert.deepEqual(await store.lookup(A, 1), [full]);
    assert.deepEqual(await store.lookup(B, 1), []);
  });

  test(`${name}: lookup and update see only live bindings (expiresAt > now)`, async (t) => {
    const store = await open(t);
    if (!store) return;
    await store.update(A, 0, () => [binding(A, 'sip:a@192.0.2.1', 1_000), binding(A, 'sip:a@192.0.2.2', 5_000)]);
    assert.equal((await store.lookup(A, 999)).length, 2);
    assert.deepEqual((await store.lookup(A, 1_000)).map((b) => b.contact), ['sip:a@192.0.2.2']);
    await store.update(A, 2_000, (current) => {
      assert.deepEqual(current.map((b) => b.contact), ['sip:a@192.0.2.2']);
      return current;
    });
  });

  test(`${name}: an empty set removes the AOR; count and list follow`, async (t) => {
    const store = await open(t);
    if (!store) return;
    await store.update(A, 0, () => [binding(A, 'sip:a@192.0.2.1', 10_000), binding(A, 'sip:a@192.0.2.2', 10_000)]);
    await store.update(B, 0, () => [binding(B, 'sip:b@192.0.2.3', 10_000)]);
    assert.equal(await store.count(1), 3);
    assert.deepEqual((await store.list(1)).map((b) => b.contact).sort(), ['sip:a@192.0.2.1', 'sip:a@192.0.2.2', 'sip:b@192.0.2.3']);
    assert.equal((await store.list(1, 2)).length, 2);
    assert.deepEqual(await store.update(A, 1, () => []), []);
    assert.deepEqual(await store.lookup(A, 1), []);
    assert.equal(await store.count(1), 1);
    assert.deepEqual((await store.list(1)).map((b) => b.aor), [B]);
  });

  test(`${name}: purgeExpired drops expired bindings and says how many`, async (t) => {
    const store = await open(t);
    if (!store) return;
    await store.update(A, 0, () => [binding(A, 'sip:a@192.0.2.1', 1_000), binding(A, 'sip:a@192.0.2.2', 9_000)]);
    await store.update(B, 0, () => [binding(B, 'sip:b@192.0.2.3', 1_000)]);
    assert.equal(await store.count(2_000), 1);
    assert.equal(await store.purgeExpired(2_000), 2);
    assert.equal(await store.purgeExpired(2_000), 0);
    assert.equal(await store.count(0), 1, 'the expired rows are gone, not just hidden');
    assert.deepEqual((await store.list(2_000)).map((b) => b.contact), ['sip:a@192.0.2.2']);
  });

  test(`${name}: concurrent updates of one AOR are atomic (none lost)`, async (t) => {
    const store = await open(t);
    if (!store) return;
    const n = 20;
    await Promise.all(Array.from({ length: n }, (_, i) =>
      store.update(A, 0, (current) => [...current, binding(A, `sip:a@192.0.2.${i + 1}`, 10_000)])));
    const contacts = (await store.lookup(A, 0)).map((b) => b.contact).sort();
    assert.equal(contacts.length, n);
    assert.equal(new Set(contacts).size, n);
  });

  test(`${name}: a change that throws leaves the bindings as they were`, async (t) => {
    const store = await open(t);
    if (!store) return;
    await store.update(A, 0, () => [binding(A, 'sip:a@192.0.2.1', 10_000)]);
    await assert.rejects(store.update(A, 0, () => { throw new Error('abort'); }), /abort/);
    assert.deepEqual((await store.lookup(A, 0)).map((b) => b.contact), ['sip:a@192.0.2.1']);
  });
}

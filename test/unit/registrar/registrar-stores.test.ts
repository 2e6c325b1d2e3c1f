/** The registrar over the real stores: SQLite across a restart, Redis shared by two nodes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/core/clock.js';
import { parseMessage, type SipRequest } from '../../../src/message/index.js';
import type { Source } from '../../../src/transport/types.js';
import { Registrar } from '../../../src/registrar/registrar.js';
import { SqliteBindingStore } from '../../../src/store/sqlite-binding-store.js';
import { RedisBindingStore } from '../../../src/store/redis-binding-store.js';
import { startRedis } from '../../helpers/redis.js';

const TCP: Source = { protocol: 'TCP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.11', remotePort: 40000, connectionId: 'conn-1' };

function register(contact: string | undefined, callId = 'c1', cseq = 1): SipRequest {
  return parseMessage([
    'REGISTER sip:example.com SIP/2.0',
    'Via: SIP/2.0/TCP 192.0.2.11:40000;branch=z9hG4bK' + Math.random().toString(36).slice(2),
    'Max-Forwards: 70', 'To: <sip:alice@example.com>', 'From: <sip:alice@example.com>;tag=1',
    `Call-ID: ${callId}`, `CSeq: ${cseq} REGISTER`, 'Supported: outbound, gruu',
    ...(contact ? [`Contact: ${contact}`] : []), 'Content-Length: 0', '', '',
  ].join('\r\n')) as SipRequest;
}

const OB = '<sip:alice@192.0.2.11:40000;transport=tcp;ob>;+sip.instance="<urn:uuid:7e1bd08c-5ad2-4b1f-8f3e-0b6b1a2c3d4e>";reg-id=1';

test('registrar on SQLite: bindings survive a restart of the store', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-reg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'b.db');
  const clock = new FakeClock();
  const first = SqliteBindingStore.open(file);
  const r1 = new Registrar({ store: first, clock, isLocalDomain: (h) => h === 'example.com' });
  assert.equal((await r1.register(register(OB), TCP)).status, 200);
  await first.close();
  const second = SqliteBindingStore.open(file);
  t.after(() => second.close());
  clock.advance(10_000);
  const r2 = new Registrar({ store: second, clock, isLocalDomain: (h) => h === 'example.com' });
  const res = await r2.register(register(undefined, 'q'), TCP);
  const c = res.contact;
  assert.ok(Array.isArray(c) && c.length === 1);
  assert.equal(c[0]!.params.expires, '3590');
  assert.equal(c[0]!.params['pub-gruu'], 'sip:alice@example.com;gr=urn:uuid:7e1bd08c-5ad2-4b1f-8f3e-0b6b1a2c3d4e');
});

test('registrar on Redis: a flow registered at node 1 is found, with its node, by node 2 (GRUU too)', async (t) => {
  const server = await startRedis(t);
  if (!server) return;
  const clock = new FakeClock();
  const s1 = new RedisBindingStore({ url: server.url });
  const s2 = new RedisBindingStore({ url: server.url });
  t.after(() => s1.close());
  t.after(() => s2.close());
  const node1 = new Registrar({ store: s1, clock, isLocalDomain: () => true, nodeId: 'n1', pathFor: () => '<sip:conn-1@10.0.0.1:5060;transport=tcp;lr;ob>' });
  const node2 = new Registrar({ store: s2, clock, isLocalDomain: () => true, nodeId: 'n2' });
  assert.equal((await node1.register(register(OB), TCP)).status, 200);
  const [b] = await node2.resolveGruu('sip:alice@example.com;gr=urn:uuid:7e1bd08c-5ad2-4b1f-8f3e-0b6b1a2c3d4e');
  assert.equal(b?.flow?.node, 'n1');
  assert.equal(b?.flow?.connectionId, 'conn-1');
  assert.deepEqual(b?.path, ['<sip:conn-1@10.0.0.1:5060;transport=tcp;lr;ob>']);
  // An out-of-order REGISTER reaching node 2 is refused there too (§10.3 step 7 across nodes).
  assert.equal((await node2.register(register(OB, 'c1', 1), TCP)).status, 500);
});

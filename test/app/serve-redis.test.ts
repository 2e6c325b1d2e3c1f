/**
 * Several nodes (issue 6, "Running it"): two `hookflash serve` processes with one real Redis and one
 * configuration file (store redis, shared secret, the same users), each with its own node id. Bob
 * registers over TCP at node A; Alice's call enters at node B, which finds Bob's binding in Redis
 * and reaches him through A (the Path A recorded, RFC 3327), over the connection he registered on
 * (RFC 5626). Without users (loopback), and with Digest on at both nodes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StaticResolver } from '../../src/transport/index.js';
import { Registration } from '../../src/ua/registration.js';
import { UserAgent, type Call } from '../../src/ua/index.js';
import { startRedis } from '../helpers/redis.js';
import { bounded, spawnServe, tempDir, type ReadyLine, type ServeProcess } from './serve-process.js';

const DOMAIN = 'example.test';

async function twoNodes(t: TestContext, withUsers: boolean): Promise<void> {
  const redis = await startRedis(t);
  if (redis === undefined) return;
  const dir = tempDir(t);
  const file = join(dir, 'hookflash.json');
  writeFileSync(file, JSON.stringify({
    domains: [DOMAIN],
    store: { kind: 'redis', url: redis.url, keyPrefix: 'hf-test:' },
    secret: 'shared-by-both-nodes-0123456789',
    ...(withUsers ? { users: [{ user: `alice@${DOMAIN}`, password: 'a-secret' }, { user: `bob@${DOMAIN}`, password: 'b-secret' }] } : {}),
  }));
  const node = (id: string): Promise<ReadyLine> => {
    const p: ServeProcess = spawnServe(t, [
      '--config', file, '--node-id', id, '--data', join(dir, id),
      '--listen', 'udp:127.0.0.1:0', '--listen', 'tcp:127.0.0.1:0', '--http', '127.0.0.1:0',
    ]);
    return p.ready();
  };

  const [a, b] = await Promise.all([node('a'), node('b')]);
  const at = (ready: ReadyLine, transport: 'udp' | 'tcp'): { protocol: 'UDP' | 'TCP'; address: string; port: number } => ({
    protocol: transport === 'udp' ? 'UDP' : 'TCP', address: '127.0.0.1', port: ready.listeners.find((l) => l.transport === transport)!.port,
  });

  const bob = await UserAgent.create({
    uri: `sip:bob@${DOMAIN}`,
    listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({ [DOMAIN]: [at(a, 'tcp')] }),
    credentials: { username: 'bob', password: 'b-secret' },
  });
  const alice = await UserAgent.create({
    uri: `sip:alice@${DOMAIN}`,
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({ [DOMAIN]: [at(b, 'udp')] }),
    credentials: { username: 'alice', password: 'a-secret' },
  });
  const reg = new Registration(bob.endpoint, {
    aor: `sip:bob@${DOMAIN}`, target: at(a, 'tcp'), expires: 600, credentials: { username: 'bob', password: 'b-secret' },
    contacts: [`<sip:bob@127.0.0.1:${bob.endpoint.listeners[0]!.port};transport=tcp;ob>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-00000000b0b0>";reg-id=1`],
    headers: [['Supported', 'outbound, path']],
  });
  t.after(async () => {
    reg.close();
    await alice.close();
    await bob.close();
  });
  const registered = await reg.register();
  assert.equal(registered.status, 200, registered.reason);

  // Node B sees the registration made at node A (one Redis).
  const metricsB = await (await fetch(`http://127.0.0.1:${b.http.port}/metrics`)).text();
  assert.match(metricsB, /^hookflash_registrations\{node="b"\} 1$/m);

  const incoming = new Promise<Call>((resolve) => bob.on('incoming', resolve));
  const call = alice.call(`sip:bob@${DOMAIN}`);
  const bobCall = await bounded('Bob is called through B and A', incoming, 8_000).catch(async (e: unknown) => {
    // What each node answered, for the failure message.
    const answered = async (r: ReadyLine): Promise<string> => (await (await fetch(`http://127.0.0.1:${r.http.port}/metrics`)).text())
      .split('\n').filter((l) => l.startsWith('hookflash_sip_responses_total')).join('; ');
    throw new Error(`${e instanceof Error ? e.message : String(e)}; node A: ${await answered(a)}; node B: ${await answered(b)}`);
  });
  assert.deepEqual(await bobCall.answer(), { ok: true });
  assert.deepEqual(await bounded('Alice is answered', call.established), { ok: true });
  assert.deepEqual(await call.hangup(), { ok: true });

  const metricsA = await (await fetch(`http://127.0.0.1:${a.http.port}/metrics`)).text();
  assert.match(metricsA, /^hookflash_sip_requests_total\{method="INVITE",node="a"\} [1-9]/m, 'the INVITE went through node A');
}

test('two serve nodes on one Redis: Bob registered over TCP at A is called by Alice through B', (t) => twoNodes(t, false));

test('the same with Digest on at both nodes: B authenticates, A trusts the Path it minted (no second challenge)', (t) => twoNodes(t, true));

/**
 * Faults (issue 9), on the real CLI, loopback only, bounded:
 * - kill -9 of `hookflash serve` (SQLite, WAL) in the middle of a registration load from our own
 *   UDP sender, then a restart on the same data directory: every binding that got a 200 is
 *   still there (queried with REGISTER without Contact, RFC 3261 §10.2.3);
 * - two nodes on one Redis; Redis killed and restarted (append-only file, so its data survives)
 *   while calls enter at node B for a phone registered at node A: calls keep routing during the
 *   outage (B answers from its recent lookups: src/proxy/location-cache.ts), registrations fail
 *   meanwhile, and after Redis returns both registering and routing a new user work again.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SipResponse } from '../../src/message/index.js';
import { needBinary } from '../helpers/peers.js';
import { freePort, isResponse, RawUdp, requestText, sleep, startServeWith, stopServe, transact, until, type RunningServe } from './raw-sip.js';

const DOMAIN = 'hookflash.test';

test('kill -9 under registration load, then restart: every binding that got a 200 is still there', { timeout: 150_000 }, async (t) => {
  const config = { listen: ['udp:127.0.0.1:0'], domains: [DOMAIN], log: { level: 'warn' } };
  const first = await startServeWith(t, config);
  const senders = await Promise.all(Array.from({ length: 8 }, () => RawUdp.open('127.0.0.1')));
  t.after(() => senders.forEach((s) => s.close()));
  const sentAt = new Map<string, number>();
  let i = 0;
  let killedAt = 0;
  const start = Date.now();
  // About 500 REGISTERs a second, each for a new AOR; SIGKILL 2.5 s in, sending on for 0.5 s more.
  while (Date.now() - start < 3000) {
    for (let k = 0; k < 10; k++, i++) {
      const s = senders[i % senders.length]!;
      const user = `r${i}`;
      s.send(requestText('REGISTER', `sip:${DOMAIN}`, {
        from: `<sip:${user}@${DOMAIN}>`, to: `<sip:${user}@${DOMAIN}>`, callId: `kill-${user}`, contact: `<sip:${user}@127.0.0.1:${s.address.port}>;expires=3600`,
      }), first.udp);
      sentAt.set(user, Date.now());
    }
    if (killedAt === 0 && Date.now() - start >= 2500) {
      first.serve.child.kill('SIGKILL');
      killedAt = Date.now();
    }
    await sleep(20);
  }
  const exit = await first.serve.exited;
  assert.equal(exit.signal, 'SIGKILL');
  const ok = new Set<string>();
  for (const s of senders) {
    for (const r of s.received) {
      const m = r.message as SipResponse;
      if (isResponse(m) && m.status === 200) ok.add(m.callId.replace(/^kill-/, ''));
    }
  }
  assert.ok(ok.size > 300, `enough registrations were confirmed before the kill: ${ok.size}`);

  const second = await startServeWith(t, config, [], first.data);
  const missing: string[] = [];
  const users = [...ok];
  const probe = await RawUdp.open('127.0.0.1');
  t.after(() => probe.close());
  // Query every confirmed AOR (20 at a time, each retransmitted until answered).
  for (let k = 0; k < users.length; k += 20) {
    await Promise.all(users.slice(k, k + 20).map(async (user) => {
      const callId = `query-${user}`;
      const resp = await transact(probe, second.udp, requestText('REGISTER', `sip:${DOMAIN}`, {
        from: `<sip:${user}@${DOMAIN}>`, to: `<sip:${user}@${DOMAIN}>`, callId, contact: null,
      }), (m) => m.callId === callId);
      const contacts = resp?.getAll('contact').join(',') ?? '';
      if (resp?.status !== 200 || !contacts.includes(`sip:${user}@127.0.0.1:`)) missing.push(user);
    }));
  }
  t.diagnostic(JSON.stringify({ sent: i, confirmed: ok.size, sentBeforeKill: [...sentAt.values()].filter((at) => at < killedAt).length, missingAfterRestart: missing.length }));
  assert.deepEqual(missing, [], 'no confirmed binding lost');
  assert.equal(await stopServe(second), 0);
});

interface Redis {
  port: number;
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** A redis-server that writes every command to its append-only file, so that it can be killed and started again with its data. */
async function persistentRedis(t: TestContext, bin: string): Promise<Redis> {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-redis-fault-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const ping = async (): Promise<boolean> => {
    const { connect } = await import('node:net');
    return new Promise((resolve) => {
      const s = connect({ port, host: '127.0.0.1' }, () => s.write('PING\r\n'));
      s.setTimeout(500, () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(false));
      s.on('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
    });
  };
  const redis: Redis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
        { stdio: 'ignore' });
      assert.ok(await until(ping, 10_000, 100), 'redis-server answers PING');
    },
    async kill() {
      const c = child;
      if (c === undefined || c.exitCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGKILL');
      await exited;
    },
  };
  t.after(async () => {
    await redis.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  await redis.start();
  return redis;
}

/** A UDP phone that answers every INVITE 486 (and remembers the Call-IDs it saw). */
async function busyPhone(): Promise<{ ua: RawUdp; invites: Set<string> }> {
  const ua = await RawUdp.open('127.0.0.1');
  const invites = new Set<string>();
  ua.socket.on('message', (buf, rinfo) => {
    const text = buf.toString('latin1');
    if (!text.startsWith('INVITE ')) return;
    const get = (name: string): string[] => [...text.matchAll(new RegExp(`^${name}:[ \\t]*([^\\r\\n]*)`, 'gim'))].map((m) => m[1]!);
    const callId = get('Call-ID')[0] ?? '';
    invites.add(callId);
    const busy = ['SIP/2.0 486 Busy Here', ...get('Via').map((v) => `Via: ${v}`), `From: ${get('From')[0]}`, `To: ${get('To')[0]};tag=busy`,
      `Call-ID: ${callId}`, `CSeq: ${get('CSeq')[0]}`, 'Content-Length: 0', '', ''].join('\r\n');
    ua.send(busy, rinfo.port, rinfo.address);
  });
  return { ua, invites };
}

test('two nodes on one Redis: Redis killed and restarted under calls; calls keep routing, registrations catch up', { timeout: 150_000 }, async (t) => {
  const bin = needBinary(t, 'redis-server', 'apt-get install redis-server');
  if (bin === undefined) return;
  const redis = await persistentRedis(t, bin);
  const store = { kind: 'redis', url: redis.url, keyPrefix: `fault${process.pid}:` };
  const common = { listen: ['udp:127.0.0.1:0'], domains: [DOMAIN], log: { level: 'warn' }, store, secret: 'a-shared-secret-of-the-nodes' };
  const a = await startServeWith(t, { ...common, nodeId: 'node-a' });
  const b = await startServeWith(t, { ...common, nodeId: 'node-b' });
  const bob = await busyPhone();
  const carol = await busyPhone();
  const caller = await RawUdp.open('127.0.0.1');
  t.after(() => {
    bob.ua.close();
    carol.ua.close();
    caller.close();
  });

  const register = async (node: RunningServe, ua: RawUdp, user: string, id: string): Promise<number> => {
    const resp = await transact(ua, node.udp, requestText('REGISTER', `sip:${DOMAIN}`, {
      from: `<sip:${user}@${DOMAIN}>`, to: `<sip:${user}@${DOMAIN}>`, callId: id, contact: `<sip:${user}@127.0.0.1:${ua.address.port}>;expires=3600`,
    }), (m) => m.callId === id);
    return resp?.status ?? 0;
  };
  let n = 0;
  /** A call entering at node B for user@DOMAIN: reached the phone (and its 486 came back)? */
  const call = async (user: string, phone: { invites: Set<string> }): Promise<boolean> => {
    const id = `fault-call-${++n}`;
    const text = requestText('INVITE', `sip:${user}@${DOMAIN}`, { callId: id, from: `<sip:caller@elsewhere.test>`, contact: `<sip:caller@127.0.0.1:${caller.address.port}>` });
    const resp = await transact(caller, b.udp, text, (m) => m.callId === id);
    if (resp !== undefined) {
      const inv = text.split('\r\n');
      caller.send([`ACK sip:${user}@${DOMAIN} SIP/2.0`, inv[1], inv[2], inv[3], `To: ${resp.get('to')}`, inv[5], `CSeq: 1 ACK`, 'Content-Length: 0', '', ''].join('\r\n'), b.udp);
    }
    return resp?.status === 486 && phone.invites.has(id);
  };

  assert.equal(await register(a, bob.ua, 'bob', 'reg-bob-1'), 200, 'bob registers at A');
  assert.ok(await call('bob', bob), 'a call entering at B reaches bob (registered at A) with Redis up');

  await redis.kill();
  const during: boolean[] = [];
  for (let k = 0; k < 5; k++) {
    during.push(await call('bob', bob));
    await sleep(300);
  }
  const regDuring = await register(a, carol.ua, 'carol', 'reg-carol-down');

  await redis.start();
  // The nodes reconnect by themselves (ioredis retries); then registering and routing work again.
  const caughtUp = await until(async () => (await register(a, carol.ua, 'carol', `reg-carol-${Date.now()}`)) === 200, 20_000, 500);
  const carolCall = caughtUp && (await call('carol', carol));
  const bobAfter = await call('bob', bob);
  t.diagnostic(JSON.stringify({ callsDuringOutage: `${during.filter(Boolean).length}/${during.length}`, registrationDuringOutage: regDuring, caughtUp, carolCall, bobAfter }));
  assert.ok(during.every(Boolean), `every call during the outage reached bob: ${during.join(' ')}`);
  assert.notEqual(regDuring, 200, 'a registration cannot be stored while Redis is down');
  assert.ok(caughtUp, 'registering works again once Redis is back');
  assert.ok(carolCall, 'a user registered after the outage is routed (B reads Redis again)');
  assert.ok(bobAfter);
  assert.equal(await stopServe(a), 0);
  assert.equal(await stopServe(b), 0);
});

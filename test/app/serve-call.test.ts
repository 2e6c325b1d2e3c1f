/**
 * The "done when": two phones register to `hookflash serve` (users added by the CLI, Digest
 * on) and call each other through it. Alice's INVITE to sip:bob@example.test is challenged, sent
 * again with credentials, routed by the location service to Bob's registered contact; Bob answers,
 * Alice holds and resumes (re-INVITEs through the proxy, RFC 5359 §2.1) and hangs up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StaticResolver } from '../../src/transport/index.js';
import { Registration } from '../../src/ua/registration.js';
import { UserAgent, type Call } from '../../src/ua/index.js';
import { bounded, runCli, spawnServe, tempDir } from './serve-process.js';

const DOMAIN = 'example.test';

test('two phones register through serve and call each other: answer, hold, resume, hang up', async (t) => {
  const data = join(tempDir(t), 'data');
  for (const [user, password] of [['alice', 'a-secret'], ['bob', 'b-secret']]) {
    const r = await runCli(['user', 'add', `${user}@${DOMAIN}`, '--password', password!, '--data', data]);
    assert.equal(r.code, 0, r.stderr);
  }
  const serve = spawnServe(t, ['--listen', 'udp:127.0.0.1:0', '--listen', 'tcp:127.0.0.1:0', '--http', '127.0.0.1:0',
    '--data', data, '--domain', DOMAIN]);
  const ready = await serve.ready();
  const port = ready.listeners.find((l) => l.transport === 'udp')!.port;
  const server = { protocol: 'UDP' as const, address: '127.0.0.1', port };
  const resolver = new StaticResolver({ [DOMAIN]: [server] });

  const phone = (user: string, password: string): Promise<UserAgent> => UserAgent.create({
    uri: `sip:${user}@${DOMAIN}`,
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    resolver,
    credentials: { username: user, password },
  });
  const alice = await phone('alice', 'a-secret');
  const bob = await phone('bob', 'b-secret');
  const registrations: Registration[] = [];
  t.after(async () => {
    for (const r of registrations) r.close();
    await alice.close();
    await bob.close();
  });
  for (const [ua, user, password] of [[alice, 'alice', 'a-secret'], [bob, 'bob', 'b-secret']] as const) {
    const reg = new Registration(ua.endpoint, { aor: `sip:${user}@${DOMAIN}`, target: server, expires: 600, credentials: { username: user, password } });
    registrations.push(reg);
    const outcome = await reg.register();
    assert.equal(outcome.status, 200, `${user} registers: ${outcome.reason ?? ''}`);
  }

  const incoming = new Promise<Call>((resolve) => bob.on('incoming', resolve));
  const call = alice.call(`sip:bob@${DOMAIN}`);
  const bobCall = await bounded('Bob is called', incoming);
  assert.deepEqual(await bobCall.answer(), { ok: true });
  assert.deepEqual(await bounded('Alice is answered', call.established), { ok: true });
  assert.ok(bobCall.remoteDescription !== undefined && call.remoteDescription !== undefined, 'offer and answer crossed the proxy');

  assert.deepEqual(await call.hold(), { ok: true });
  assert.equal(bobCall.remoteHold, true);
  assert.deepEqual(await call.resume(), { ok: true });
  assert.equal(bobCall.remoteHold, false);

  const metrics = (await (await fetch(`http://127.0.0.1:${ready.http.port}/metrics`)).text()).split('\n').filter((l) => l.startsWith('hookflash_'));
  for (const line of [
    'hookflash_registrations{node="node-1"} 2',
    'hookflash_calls_active{node="node-1"} 1',
    // The INVITE was challenged (407, RFC 3261 §22.3) and sent again with credentials.
    'hookflash_sip_responses_total{code="407",method="INVITE",node="node-1"} 1',
  ]) assert.ok(metrics.includes(line), `${line} in ${metrics.join('\n')}`);
  assert.ok(metrics.some((l) => /^hookflash_sip_requests_total\{method="INVITE",node="node-1"\} ([2-9]|\d\d+)$/.test(l)), metrics.join('\n'));

  assert.deepEqual(await call.hangup(), { ok: true });
  assert.equal((await bounded('Bob sees the BYE', bobCall.ended)).cause, 'remote-bye');

  serve.child.kill('SIGTERM');
  assert.equal((await bounded('serve exit', serve.exited)).code, 0);
});

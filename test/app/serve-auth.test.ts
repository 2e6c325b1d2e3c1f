/**
 * `hookflash serve` with a user added by `hookflash user add`: a REGISTER from the UA's
 * Registration (src/ua) is challenged (401, SHA-256 and MD5 offered, RFC 8760 §2.4), answered, and
 * gets 200; a wrong password does not register; after a restart of serve on the same data
 * directory a query REGISTER (no Contact, RFC 3261 §10.2.3) still lists the binding (SQLite).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DigestClient } from '../../src/auth/index.js';
import { createRequest, formatUri } from '../../src/message/index.js';
import { requestWithAuth } from '../../src/ua/auth-retry.js';
import { Registration } from '../../src/ua/registration.js';
import { MessageCapture, startEndpoint, type TestEndpoint } from '../helpers/endpoints.js';
import { bounded, runCli, spawnServe, tempDir, type ReadyLine, type ServeProcess } from './serve-process.js';

const DOMAIN = 'example.test';
const AOR = `sip:alice@${DOMAIN}`;

async function startServe(t: TestContext, data: string): Promise<{ serve: ServeProcess; ready: ReadyLine; udp: number }> {
  const serve = spawnServe(t, ['--listen', 'udp:127.0.0.1:0', '--listen', 'tcp:127.0.0.1:0', '--http', '127.0.0.1:0',
    '--data', data, '--domain', DOMAIN]);
  const ready = await serve.ready();
  const udp = ready.listeners.find((l) => l.transport === 'udp')!.port;
  return { serve, ready, udp };
}

async function stop(serve: ServeProcess): Promise<void> {
  serve.child.kill('SIGTERM');
  const exit = await bounded('serve exit', serve.exited);
  assert.equal(exit.code, 0, exit.stderr);
}

async function phone(t: TestContext): Promise<TestEndpoint> {
  const ua = await startEndpoint({ protocols: ['UDP'] });
  t.after(() => ua.close());
  return ua;
}

test('REGISTER against a user added by the CLI: 401, then 200; the binding survives a restart of serve', async (t) => {
  const data = join(tempDir(t), 'data');
  const added = await runCli(['user', 'add', `alice@${DOMAIN}`, '--password', 'wonderland', '--data', data]);
  assert.equal(added.code, 0, added.stderr);

  let { serve, ready, udp } = await startServe(t, data);
  assert.ok(serve.lines.some((l) => l.msg === 'authentication on' && l.realm === DOMAIN), 'digest authentication is on');

  const ua = await phone(t);
  const capture = new MessageCapture();
  t.after(() => capture.stop());
  const target = { protocol: 'UDP' as const, address: '127.0.0.1', port: udp };

  const wrong = new Registration(ua.endpoint, { aor: AOR, target, expires: 600, credentials: { username: 'alice', password: 'looking-glass' } });
  const refused = await wrong.register();
  wrong.close();
  assert.equal(refused.ok, false);
  assert.ok(refused.status === 401 || refused.status === 403, `a wrong password is refused (${refused.status})`);

  const reg = new Registration(ua.endpoint, { aor: AOR, target, expires: 600, credentials: { username: 'alice', password: 'wonderland' } });
  const from = capture.messages.length;
  const outcome = await reg.register();
  assert.equal(outcome.status, 200, outcome.reason);
  const seen = capture.messages.slice(from).filter((c) => c.direction === 'in' && c.port === ua.target('UDP').port);
  assert.deepEqual(seen.map((c) => c.label), ['401', '200']);
  const challenge = seen[0]!.text;
  assert.match(challenge, /WWW-Authenticate: Digest .*algorithm=SHA-256/);
  assert.match(challenge, /WWW-Authenticate: Digest .*algorithm=MD5/);
  const bound = outcome.bindings.map((b) => formatUri(b.uri));
  const ours = `@127.0.0.1:${ua.endpoint.listeners[0]!.port}`;
  assert.equal(bound.length, 1);
  assert.ok(bound[0]!.includes(ours), `our contact is bound: ${bound.join(', ')}`);
  reg.close();

  const metrics = await (await fetch(`http://127.0.0.1:${ready.http.port}/metrics`)).text();
  assert.match(metrics, /hookflash_registrations\{node="node-1"\} 1/);

  await stop(serve);
  ({ serve, ready, udp } = await startServe(t, data));

  // A query (no Contact) lists the bindings the restarted server kept (RFC 3261 §10.2.3).
  const query = createRequest({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `<${AOR}>`, to: `<${AOR}>` });
  const answer = await requestWithAuth(ua.endpoint, query, new DigestClient({ username: 'alice', password: 'wonderland' }),
    { target: { protocol: 'UDP', address: '127.0.0.1', port: udp } });
  assert.equal(answer.status, 200);
  const listed = answer.getAll('Contact').join(',');
  assert.match(listed, new RegExp(`:${ua.endpoint.listeners[0]!.port}\\b`), `the binding made before the restart: ${listed}`);
  await stop(serve);
});

test('users given inline in the config file authenticate too; the wrong user for the AOR is refused', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'hookflash.json');
  writeFileSync(file, JSON.stringify({
    domains: [DOMAIN],
    users: [
      { user: `carol@${DOMAIN}`, password: 'c-secret' }, { user: `dave@${DOMAIN}`, password: 'd-secret' },
      { user: 'eve@elsewhere.test', password: 'e-secret' },
    ],
  }));
  const serve = spawnServe(t, ['--config', file, '--listen', 'udp:127.0.0.1:0', '--http', '127.0.0.1:0', '--data', join(dir, 'data')]);
  const ready = await serve.ready();
  assert.ok(serve.lines.some((l) => l.msg === 'authentication on'));
  const other = serve.lines.find((l) => l.level === 40 && /other realms/.test(l.msg));
  assert.deepEqual(other?.otherRealms, ['elsewhere.test'], 'a user outside the realm is pointed out at start');
  const target = { protocol: 'UDP' as const, address: '127.0.0.1', port: ready.listeners[0]!.port };
  const ua = await phone(t);

  const carol = new Registration(ua.endpoint, { aor: `sip:carol@${DOMAIN}`, target, expires: 600, credentials: { username: 'carol', password: 'c-secret' } });
  const ok = await carol.register();
  carol.close();
  assert.equal(ok.status, 200, ok.reason);
  // Dave's good credentials do not let him bind Carol's address (RFC 3261 §10.3 step 4).
  const dave = new Registration(ua.endpoint, { aor: `sip:carol@${DOMAIN}`, target, expires: 600, credentials: { username: 'dave', password: 'd-secret' } });
  const refused = await dave.register();
  dave.close();
  assert.equal(refused.status, 403, refused.reason);
  await stop(serve);
});

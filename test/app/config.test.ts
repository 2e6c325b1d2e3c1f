/**
 * The `hookflash serve` configuration (src/app/config.ts): defaults with no file, flags over the
 * file, paths relative to the file, and errors that name the key for unknown keys and wrong types.
 * The CLI's exit code 2 for these is checked in serve-errors.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, isLoopback, resolveConfig } from '../../src/app/config.js';
import { closest } from '../../src/app/config-schema.js';
import { tempDir } from './serve-process.js';

function withFile(dir: string, content: unknown): string {
  const file = join(dir, 'hookflash.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

test('no file, no flags: UDP and TCP on 127.0.0.1:5060, ./data, HTTP 127.0.0.1:8080, domains the listen host and localhost', () => {
  const c = resolveConfig({}, '/srv/x');
  assert.deepEqual(c.listen, [{ protocol: 'UDP', host: '127.0.0.1', port: 5060 }, { protocol: 'TCP', host: '127.0.0.1', port: 5060 }]);
  assert.equal(c.data, '/srv/x/data');
  assert.deepEqual(c.domains, ['127.0.0.1', 'localhost']);
  assert.deepEqual(c.http, { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(c.store, { kind: 'sqlite', file: '/srv/x/data/bindings.db' });
  assert.equal(c.usersDb, '/srv/x/data/users.db');
  assert.equal(c.log.level, 'info');
  assert.equal(c.insecureOpen, false);
  assert.deepEqual(c.users, []);
  assert.ok(c.auth.required.includes('REGISTER') && c.auth.required.includes('INVITE') && !c.auth.required.includes('OPTIONS'));
});

test('flags override the file; paths in the file are relative to the file', (t) => {
  const dir = tempDir(t);
  const file = withFile(dir, {
    listen: ['udp:127.0.0.1:5070'], data: 'state', domains: ['atlanta.example.com'], http: { listen: '127.0.0.1:9000' },
    registrar: { minExpires: 30, maxExpires: 600 }, auth: { realm: 'atlanta.example.com', required: ['register'] }, log: { level: 'warn' },
    nodeId: 'a',
  });
  const fromFile = resolveConfig({ config: file }, '/elsewhere');
  assert.deepEqual(fromFile.listen, [{ protocol: 'UDP', host: '127.0.0.1', port: 5070 }]);
  assert.equal(fromFile.data, join(dir, 'state'));
  assert.equal(fromFile.usersDb, join(dir, 'state', 'users.db'));
  assert.deepEqual(fromFile.domains, ['atlanta.example.com']);
  assert.deepEqual(fromFile.registrar, { minExpires: 30, maxExpires: 600 });
  assert.deepEqual(fromFile.auth.required, ['REGISTER']);
  assert.equal(fromFile.nodeId, 'a');

  const flagged = resolveConfig({
    config: file, listen: ['tcp:[::1]:0'], data: 'd', http: '[::1]:0', domain: ['Biloxi.Example.com'], logLevel: 'debug', insecureOpen: true,
  }, '/elsewhere');
  assert.deepEqual(flagged.listen, [{ protocol: 'TCP', host: '::1', port: 0 }]);
  assert.equal(flagged.data, '/elsewhere/d');
  assert.deepEqual(flagged.http, { host: '::1', port: 0 });
  assert.deepEqual(flagged.domains, ['biloxi.example.com']);
  assert.equal(flagged.log.level, 'debug');
  assert.equal(flagged.insecureOpen, true);
});

test('an unknown key is named by its path, with the nearest known key', (t) => {
  const dir = tempDir(t);
  assert.throws(() => resolveConfig({ config: withFile(dir, { registrar: { minExpire: 60 } }) }),
    (e: unknown) => e instanceof ConfigError && e.message === 'config: unknown key "registrar.minExpire" (did you mean minExpires?)');
  assert.throws(() => resolveConfig({ config: withFile(dir, { lsiten: [] }) }),
    (e: unknown) => e instanceof ConfigError && e.message === 'config: unknown key "lsiten" (did you mean listen?)');
  assert.throws(() => resolveConfig({ config: withFile(dir, { colour: 'blue' }) }),
    (e: unknown) => e instanceof ConfigError && e.message === 'config: unknown key "colour"');
  assert.throws(() => resolveConfig({ config: withFile(dir, { users: [{ user: 'a@b', password: 'x', pasword: 'y' }] }) }),
    /unknown key "users\[0\]\.pasword" \(did you mean password\?\)/);
});

test('a wrong type is named by its path and says what was expected', (t) => {
  const dir = tempDir(t);
  const cases: Array<[unknown, RegExp]> = [
    [{ registrar: { minExpires: '60' } }, /"registrar\.minExpires" must be an integer, not string "60"/],
    [{ listen: 'udp:127.0.0.1:5060' }, /"listen" must be an array, not string/],
    [{ listen: [5060] }, /"listen\[0\]" must be a string, not number 5060/],
    [{ store: { kind: 'mysql' } }, /"store\.kind" must be one of "sqlite", "redis", not "mysql"/],
    [{ store: {} }, /"store\.kind" is required/],
    [{ log: { level: 'loud' } }, /"log\.level" must be one of/],
    [{ tls: { cert: 'c.pem' } }, /"tls\.key" is required/],
    [[1, 2], /the configuration must be an object, not an array/],
    ['{"listen": [', /is not valid JSON/],
    [{ listen: ['sctp:127.0.0.1:5060'] }, /bad --listen "sctp:127\.0\.0\.1:5060"/],
    [{ listen: ['tls:127.0.0.1:5061'] }, /needs a certificate: set "tls"/],
    [{ users: [{ user: 'alice', password: 'x' }] }, /"users\[0\]\.user" must be USER@DOMAIN/],
    [{ registrar: { minExpires: 600, maxExpires: 60 } }, /minExpires" is above/],
  ];
  for (const [content, expected] of cases) {
    assert.throws(() => resolveConfig({ config: withFile(dir, content) }), (e: unknown) => e instanceof ConfigError && expected.test(e.message),
      `${JSON.stringify(content)} should fail with ${expected}`);
  }
  assert.throws(() => resolveConfig({ config: join(dir, 'missing.json') }), /cannot read .*missing\.json: ENOENT/);
  assert.throws(() => resolveConfig({ logLevel: 'loud' }), /--log-level must be one of/);
  assert.throws(() => resolveConfig({ http: 'nowhere' }), /--http: "nowhere" is not HOST:PORT/);
});

test('HTTP on a non-loopback address needs a token', (t) => {
  assert.throws(() => resolveConfig({ http: '0.0.0.0:8080' }), /not loopback: set "http": \{"token"/);
  const dir = tempDir(t);
  const c = resolveConfig({ config: withFile(dir, { http: { listen: '0.0.0.0:8080', token: 's3cret' } }) });
  assert.deepEqual(c.http, { host: '0.0.0.0', port: 8080, token: 's3cret' });
});

test('"secret" (shared by nodes on one Redis) must be long enough to key nonces and flow tokens', (t) => {
  const dir = tempDir(t);
  assert.throws(() => resolveConfig({ config: withFile(dir, { secret: 'short' }) }), /"secret" must be at least 16 characters/);
  assert.equal(resolveConfig({ config: withFile(dir, { secret: 'a-long-enough-shared-secret' }) }).secret, 'a-long-enough-shared-secret');
  const redis = resolveConfig({ config: withFile(dir, { store: { kind: 'redis', url: 'redis://127.0.0.1:6390' } }) });
  assert.deepEqual(redis.store, { kind: 'redis', url: 'redis://127.0.0.1:6390', keyPrefix: 'hookflash:' });
  assert.throws(() => resolveConfig({ config: withFile(dir, { store: { kind: 'sqlite', url: 'redis://x' } }) }), /"store\.url" and "store\.keyPrefix" are for "kind": "redis"/);
});

test('wildcard listen addresses are not domains', () => {
  assert.deepEqual(resolveConfig({ listen: ['udp:0.0.0.0:5060', 'tcp:[::]:5060'], insecureOpen: true }).domains, ['localhost']);
});

test('loopback is 127/8, ::1 and localhost', () => {
  for (const h of ['127.0.0.1', '127.9.8.7', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '1127.0.0.1']) assert.equal(isLoopback(h), false, h);
});

test('did-you-mean suggests only near keys', () => {
  assert.equal(closest('defaultExpire', ['minExpires', 'maxExpires', 'defaultExpires']), 'defaultExpires');
  assert.equal(closest('Domains', ['domains', 'data']), 'domains');
  assert.equal(closest('zzz', ['listen', 'data']), undefined);
});

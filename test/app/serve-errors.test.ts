/**
 * `hookflash serve` refusing to start, as a real process: a clear one-line message on stderr and
 * no stack trace; exit 2 for bad configuration (unknown key, wrong type, bad flag, a public
 * listener with no users), exit 1 when it cannot start (SIP or HTTP port in use, unreadable or
 * invalid certificate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { bounded, quietFlags, runCli, spawnServe, tempDir, type Exit } from './serve-process.js';

function config(dir: string, content: unknown): string {
  const file = join(dir, 'hookflash.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

function assertClean(r: Exit, code: number, message: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

async function occupied(t: { after(fn: () => unknown): void }): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const a = server.address();
  assert.ok(a !== null && typeof a === 'object');
  return a.port;
}

test('an unknown key exits 2 naming its path and the nearest known key', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(['serve', '--config', config(dir, { registrar: { minExpire: 60 } }), ...quietFlags(join(dir, 'data'))]);
  assertClean(r, 2, /^hookflash serve: config: unknown key "registrar\.minExpire" \(did you mean minExpires\?\)$/m);
});

test('a wrong type exits 2 naming the key', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(['serve', '--config', config(dir, { domains: 'example.com' }), ...quietFlags(join(dir, 'data'))]);
  assertClean(r, 2, /config: "domains" must be an array, not string "example\.com"/);
});

test('an unknown flag or a bad --listen exits 2', async (t) => {
  const data = join(tempDir(t), 'data');
  assertClean(await runCli(['serve', '--colour', 'blue', '--data', data]), 2, /Unknown option '--colour'/);
  assertClean(await runCli(['serve', '--listen', 'udp:127.0.0.1', '--data', data]), 2, /bad --listen "udp:127\.0\.0\.1"/);
});

test('a SIP port in use exits 1 with "address already in use"', async (t) => {
  const dir = tempDir(t);
  const port = await occupied(t);
  const r = await runCli(['serve', '--listen', `tcp:127.0.0.1:${port}`, '--http', '127.0.0.1:0', '--data', join(dir, 'data')]);
  assertClean(r, 1, new RegExp(`cannot listen on tcp:127\\.0\\.0\\.1:${port}: address already in use`));
});

test('an HTTP port in use exits 1 and releases the SIP ports', async (t) => {
  const dir = tempDir(t);
  const port = await occupied(t);
  const r = await runCli(['serve', ...quietFlags(join(dir, 'data')), '--http', `127.0.0.1:${port}`]);
  assertClean(r, 1, new RegExp(`cannot listen on http 127\\.0\\.0\\.1:${port}: address already in use`));
});

test('an unreadable certificate exits 1 naming the file; a file that is not PEM too', async (t) => {
  const dir = tempDir(t);
  const missing = config(dir, { tls: { cert: 'nope.pem', key: 'nope.key' }, listen: ['tls:127.0.0.1:0'] });
  assertClean(await runCli(['serve', '--config', missing, '--http', '127.0.0.1:0', '--data', join(dir, 'data')]), 1,
    new RegExp(`cannot read TLS certificate ${join(dir, 'nope.pem').replace(/[.]/g, '\\.')}: ENOENT`));

  writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
  writeFileSync(join(dir, 'junk.key'), 'not a key\n');
  const junk = config(dir, { tls: { cert: 'junk.pem', key: 'junk.key' }, listen: ['tls:127.0.0.1:0'] });
  assertClean(await runCli(['serve', '--config', junk, '--http', '127.0.0.1:0', '--data', join(dir, 'data')]), 1, /junk\.pem is not PEM/);
});

test('a listener off loopback with no users refuses to start (exit 2) unless --insecure-open', async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data');
  const args = ['serve', '--listen', 'udp:0.0.0.0:0', '--http', '127.0.0.1:0', '--data', data];
  assertClean(await runCli(args), 2, /refusing to start: no users are configured and udp:0\.0\.0\.0:0 is not loopback.*--insecure-open/);

  const open = spawnServe(t, [...args.slice(1), '--insecure-open']);
  await open.ready();
  assert.ok(open.lines.some((l) => l.level === 40 && /authentication OFF on non-loopback listeners/.test(l.msg)));
  open.child.kill('SIGTERM');
  assert.equal((await bounded('exit', open.exited)).code, 0);
});

test('HTTP off loopback with no token exits 2', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(['serve', ...quietFlags(join(dir, 'data')), '--http', '0.0.0.0:0']);
  assertClean(r, 2, /HTTP on 0\.0\.0\.0:0 is not loopback: set "http": \{"token"/);
});

/**
 * `hookflash demo` as a real process (node dist/src/app/cli.js demo): with --exit it runs the
 * seed's steps over TLS on loopback, prints each step's ladder, and exits 0 only when every check
 * passed; a bad flag exits 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { haveOpenssl } from '../helpers/pki.js';

const CLI = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
const skip = haveOpenssl() ? false : 'the openssl CLI is not installed';

function run(args: string[], limitMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo ${args.join(' ')} did not exit within ${limitMs} ms\n${stdout}\n${stderr}`));
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('hookflash demo --exit: every step passes over TLS with real sockets, exit 0, and the ladders show the REFER flow', { skip }, async () => {
  const r = await run(['--exit', '--http', '127.0.0.1:0'], 90_000);
  assert.equal(r.code, 0, `exit code\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
  assert.match(r.stdout, /all 8 steps passed/);
  const steps = r.stdout.match(/^ {2}ok$/gm) ?? [];
  assert.equal(steps.length, 8);
  // The column heads, and arrows between the right columns.
  assert.match(r.stdout, /alice\s+atlanta\.example\.com\s+biloxi\.example\.com\s+bob\s+carol/);
  assert.match(r.stdout, /^F\d+\s+\|-+REFER-+>\|/m, 'alice sends the REFER to her proxy');
  assert.match(r.stdout, /\|<-+202-+\|/);
  assert.match(r.stdout, /NOTIFY/);
  assert.match(r.stdout, /INVITE \(hold\)/);
  assert.match(r.stdout, /INVITE \(resume\)/);
  assert.match(r.stdout, /Refer-To: <sips:carol@chicago\.example\.com>/);
  assert.match(r.stdout, /Referred-By: "Alice" <sips:alice@atlanta\.example\.com>/);
  assert.match(r.stdout, /Refer-To: <sips:carol@chicago\.example\.com\?Replaces=/);
  assert.match(r.stdout, /5 calls, all ended/);
});

test('hookflash demo: a non-loopback --http without --token, or a bad flag, exits 2 with the reason', async () => {
  const open = await run(['--exit', '--http', '0.0.0.0:0'], 20_000);
  assert.equal(open.code, 2);
  assert.match(open.stderr, /not loopback: give --token/);
  const bad = await run(['--exit', '--nope'], 20_000);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /hookflash demo: .*nope/);
});

/**
 * Interop: SIPp (a real peer) against `hookflash start`, the UDP responder: its OPTIONS pings are
 * parsed and answered 200, and a request with a mismatched CSeq method is answered 400.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { needBinary } from '../helpers/peers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = root + 'dist/src/app/cli.js';
const scenarios = root + 'test/interop/scenarios/';

async function startResponder(): Promise<{ port: number; stop: () => Promise<void>; lines: string[] }> {
  const child = spawn(process.execPath, [cli, 'start', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('responder did not start')), 10_000);
    rl.on('line', (line) => {
      lines.push(line);
      const rec = JSON.parse(line) as { event?: string; port?: number };
      if (rec.event === 'listening') {
        clearTimeout(timer);
        resolve(rec.port!);
      }
    });
    child.once('exit', () => reject(new Error('responder exited')));
  });
  return {
    port,
    lines,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

function runSipp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('timeout', ['60', 'sipp', ...args], { cwd: scenarios }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException & { code?: number }).code as number | undefined) ?? 1 : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

test('SIPp OPTIONS pings are answered 200 with Allow by hookflash start (RFC 3261 §11.2)', async (t) => {
  if (!needBinary(t, 'sipp', 'apt-get install sip-tester')) return;
  const responder = await startResponder();
  t.after(() => responder.stop());
  const r = await runSipp(['-sf', 'options-uac.xml', `127.0.0.1:${responder.port}`, '-i', '127.0.0.1', '-p', '0',
    '-m', '200', '-r', '100', '-nostdin', '-timeout', '30', '-timeout_error', '-bg'].filter((a) => a !== '-bg'));
  assert.equal(r.code, 0, `sipp failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  const requests = responder.lines.filter((l) => l.includes('"event":"request"')).length;
  assert.equal(requests, 200);
});

test('SIPp request with Max-Forwards out of range gets 400 with the reason from hookflash start (RFC 4475 §3.1.2.4)', async (t) => {
  if (!needBinary(t, 'sipp', 'apt-get install sip-tester')) return;
  const responder = await startResponder();
  t.after(() => responder.stop());
  const r = await runSipp(['-sf', 'malformed-uac.xml', `127.0.0.1:${responder.port}`, '-i', '127.0.0.1', '-p', '0',
    '-m', '20', '-nostdin', '-timeout', '30', '-timeout_error']);
  assert.equal(r.code, 0, `sipp failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  assert.ok(responder.lines.some((l) => l.includes('"event":"malformed"') && l.includes('Max-Forwards')));
});

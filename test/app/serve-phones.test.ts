/**
 * What the README promises: `hookflash serve` with no configuration, and two `hookflash phone`
 * processes that register to it and call each other through it. The phones' Contacts are
 * user-less addresses next to the server's own (`sip:127.0.0.1:PORT`): the hold and resume
 * re-INVITEs and the BYE must be routed on to them by the Record-Route, not taken for requests
 * to the server (serve's default domains include its listen address).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { bounded, CLI, quietFlags, spawnServe, tempDir } from './serve-process.js';

interface Line {
  event: string;
  port?: number;
  call?: string;
  status?: number;
  reason?: string;
}

interface Phone {
  write(text: string): void;
  line(event: string, after?: number): Promise<Line>;
  count(): number;
  quit(): Promise<number | null>;
}

function startPhone(t: TestContext, args: string[]): Phone {
  const child = spawn(process.execPath, [CLI, 'phone', '--json', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: Line[] = [];
  const waiting = new Set<() => void>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      return;
    }
    for (const w of waiting) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    write: (text) => child.stdin.write(text + '\n'),
    count: () => lines.length,
    line: (event, after = 0) => bounded(`a ${event} line (stderr: ${stderr})`, new Promise<Line>((resolve, reject) => {
      const look = (): boolean => {
        const found = lines.slice(after).find((l) => l.event === event);
        if (found === undefined) return false;
        waiting.delete(check);
        resolve(found);
        return true;
      };
      const check = (): void => void look();
      if (look()) return;
      waiting.add(check);
      void exited.then(() => reject(new Error(`the phone exited before a ${event} line; stderr: ${stderr}`)));
    })),
    quit: () => {
      child.stdin.end('quit\n');
      return bounded('the phone exits', exited);
    },
  };
}

test('two hookflash phones register at hookflash serve and call through it: answer, hold, resume, hang up, every request via the server', async (t) => {
  const data = tempDir(t);
  const serve = spawnServe(t, quietFlags(data));
  const ready = await serve.ready();
  const udp = ready.listeners.find((l) => l.transport === 'udp');
  assert.ok(udp, 'serve listens on UDP');
  const registrar = `sip:127.0.0.1:${udp.port}`;

  const bob = startPhone(t, ['--uri', 'sip:bob@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--register', registrar, '--auto-answer']);
  const alice = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--register', registrar]);
  await bob.line('registered');
  await alice.line('registered');

  alice.write(`call sip:bob@127.0.0.1:${udp.port}`);
  await alice.line('answered');
  const afterAnswer = bob.count();
  alice.write('hold');
  await alice.line('held');
  await bob.line('remote-held', afterAnswer);
  alice.write('resume');
  await alice.line('resumed');
  await bob.line('remote-resumed', afterAnswer);
  alice.write('hangup');
  const ended = await alice.line('ended');
  assert.equal(ended.reason, 'local-bye');
  const bobEnded = await bob.line('ended');
  assert.equal(bobEnded.reason, 'remote-bye');

  // The server saw the initial INVITE and both re-INVITEs, and the BYE: nothing went around it.
  const metrics = await (await fetch(`http://127.0.0.1:${ready.http.port}/metrics`)).text();
  const count = (method: string): number => {
    const m = new RegExp(`^hookflash_sip_requests_total\\{method="${method}"[^}]*\\} (\\d+)`, 'm').exec(metrics);
    return m === null ? 0 : Number(m[1]);
  };
  assert.equal(count('INVITE'), 3, 'INVITE, hold re-INVITE, resume re-INVITE through the server');
  assert.equal(count('BYE'), 1);
  assert.ok(count('ACK') >= 3, 'each INVITE\'s ACK through the server too');

  assert.equal(await alice.quit(), 0);
  assert.equal(await bob.quit(), 0);
  serve.child.kill('SIGTERM');
  assert.equal((await serve.exited).code, 0);
});

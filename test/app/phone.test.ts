/**
 * `hookflash phone` end to end: two phone processes on loopback UDP (port 0, read back from the
 * 'listening' line), Alice scripted through stdin, Bob answering by himself; and the ways a
 * script fails (a `wait` that times out, an unknown command, a bad flag).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CommandError, parseCommand } from '../../src/app/phone-script.js';

const cli = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
/** Every wait for a child is bounded by this. */
const BOUND_MS = 15_000;

interface Line {
  event: string;
  call?: string;
  transport?: string;
  address?: string;
  port?: number;
  reason?: string;
  from?: string;
}

interface Phone {
  child: ChildProcessWithoutNullStreams;
  lines: Line[];
  stderr(): string;
  /** Resolves with the first line (seen or to come) with this event. */
  line(event: string): Promise<Line>;
  /** Resolves with the exit code. */
  exit(): Promise<number | null>;
}

function bounded<T>(what: string, promise: Promise<T>, phone: Phone): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${BOUND_MS} ms; lines ${JSON.stringify(phone.lines)}; stderr ${phone.stderr()}`)), BOUND_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Starts `hookflash phone ARGS` with piped stdio; killed after the test if still running. */
function startPhone(t: TestContext, args: string[]): Phone {
  const child = spawn(process.execPath, [cli, 'phone', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: Line[] = [];
  const listeners = new Set<(line: Line) => void>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const l of listeners) l(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const phone: Phone = {
    child,
    lines,
    stderr: () => stderr,
    line: (event) => {
      const found = lines.find((l) => l.event === event);
      const p = found !== undefined ? Promise.resolve(found) : new Promise<Line>((resolve, reject) => {
        const l = (line: Line): void => {
          if (line.event !== event) return;
          listeners.delete(l);
          resolve(line);
        };
        listeners.add(l);
        void exited.then(() => reject(new Error(`exited before a ${event} line; stderr ${stderr}`)));
      });
      return bounded(`a ${event} line`, p, phone);
    },
    exit: () => bounded('exit', exited, phone),
  };
  return phone;
}

function events(phone: Phone): string[] {
  return phone.lines.map((l) => l.event);
}

async function bobListening(t: TestContext): Promise<{ bob: Phone; port: number }> {
  const bob = startPhone(t, ['--uri', 'sip:bob@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--auto-answer', '--json']);
  const listening = await bob.line('listening');
  assert.equal(listening.transport, 'udp');
  assert.equal(listening.address, '127.0.0.1');
  assert.ok(typeof listening.port === 'number' && listening.port > 0, `a port: ${JSON.stringify(listening)}`);
  return { bob, port: listening.port };
}

test('Alice calls Bob, holds, resumes and hangs up; both exit 0', async (t) => {
  const { bob, port } = await bobListening(t);
  const alice = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--json']);
  alice.child.stdin.end([
    `call sip:bob@127.0.0.1:${port}`,
    'wait answered 5',
    'hold',
    'wait held 5',
    'resume',
    'wait resumed 5',
    'hangup',
    'wait ended 5',
    'quit',
    '',
  ].join('\n'));
  assert.equal(await alice.exit(), 0, alice.stderr());
  // Bob runs until his input ends: once he has seen the BYE.
  await bob.line('ended');
  bob.child.stdin.end('quit\n');
  assert.equal(await bob.exit(), 0, bob.stderr());

  assert.deepEqual(events(alice), ['listening', 'ringing', 'answered', 'held', 'resumed', 'ended']);
  assert.deepEqual(events(bob), ['listening', 'incoming', 'answered', 'remote-held', 'remote-resumed', 'ended']);
  const callId = alice.lines[1]!.call;
  assert.ok(typeof callId === 'string' && callId !== '');
  for (const line of [...alice.lines, ...bob.lines].filter((l) => l.event !== 'listening')) assert.equal(line.call, callId);
  assert.equal(bob.lines[1]!.from, 'sip:alice@127.0.0.1');
  assert.equal(alice.lines.at(-1)!.reason, 'local-bye');
  assert.equal(bob.lines.at(-1)!.reason, 'remote-bye');
  assert.equal(alice.stderr(), '');
  assert.equal(bob.stderr(), '');
});

test('at the end of its input the phone hangs up the call still up and exits 0', async (t) => {
  const { bob, port } = await bobListening(t);
  const alice = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--json']);
  alice.child.stdin.end(`call sip:bob@127.0.0.1:${port}\nwait answered 5\n`);
  assert.equal(await alice.exit(), 0, alice.stderr());
  assert.deepEqual(events(alice), ['listening', 'ringing', 'answered', 'ended']);
  assert.equal((await bob.line('ended')).reason, 'remote-bye');
  bob.child.stdin.end();
  assert.equal(await bob.exit(), 0, bob.stderr());
});

test('Bob scripted too: wait incoming, then the call events in order', async (t) => {
  const bob = startPhone(t, ['--uri', 'sip:bob@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--auto-answer', '--json']);
  bob.child.stdin.end('wait incoming 10\nwait answered 5\nwait remote-held 5\nwait remote-resumed 5\nwait ended 5\n');
  const { port } = await bob.line('listening');
  const alice = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--json']);
  alice.child.stdin.end(`call sip:bob@127.0.0.1:${port!}\nwait answered 5\nhold\nwait held 5\nresume\nwait resumed 5\nhangup\nwait ended 5\n`);
  assert.equal(await alice.exit(), 0, alice.stderr());
  assert.equal(await bob.exit(), 0, bob.stderr());
  assert.deepEqual(events(bob), ['listening', 'incoming', 'answered', 'remote-held', 'remote-resumed', 'ended']);
});

test('a wait that times out fails the script: exit 1 with a message, later commands not run', async (t) => {
  const phone = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--json']);
  const started = Date.now();
  phone.child.stdin.end('wait incoming 0.3\ncall sip:nobody@127.0.0.1:9\n');
  assert.equal(await phone.exit(), 1);
  assert.ok(Date.now() - started >= 300);
  assert.match(phone.stderr(), /wait incoming: none within 0\.3 s/);
  assert.deepEqual(events(phone), ['listening']);
});

test('an unknown command is an error line and exit 1 at the end; the script goes on', async (t) => {
  const phone = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--json']);
  phone.child.stdin.end('dance\nhold\nquit\n');
  assert.equal(await phone.exit(), 1);
  assert.match(phone.stderr(), /unknown command "dance"/);
  assert.match(phone.stderr(), /hold: no call to hold/);
});

test('bad flags exit 2 naming the flag', async (t) => {
  for (const [args, pattern] of [
    [['--uri', 'sip:alice@127.0.0.1', '--bogus'], /--bogus/],
    [['--listen', 'udp:127.0.0.1:0'], /--uri is required/],
    [['--uri', 'mailto:alice@example.com'], /bad --uri/],
    [['--uri', 'sip:alice@127.0.0.1', '--listen', 'sctp:127.0.0.1:0'], /bad --listen "sctp:127\.0\.0\.1:0"/],
    [['--uri', 'sip:alice@127.0.0.1', '--register', 'http://proxy.example.com'], /bad --register/],
    [['--uri', 'sip:alice@127.0.0.1', '--auth', 'alice'], /--auth is USER:PASSWORD/],
  ] as const) {
    const phone = startPhone(t, [...args]);
    phone.child.stdin.end();
    assert.equal(await phone.exit(), 2, `${args.join(' ')}: ${phone.stderr()}`);
    assert.match(phone.stderr(), pattern);
  }
});

test('SIGTERM ends the phone with status 0', async (t) => {
  const phone = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--json']);
  await phone.line('listening');
  phone.child.kill('SIGTERM');
  assert.equal(await phone.exit(), 0, phone.stderr());
});

test('parseCommand: commands, arguments and their errors', () => {
  assert.deepEqual(parseCommand('  call   sip:bob@127.0.0.1:5070 '), { name: 'call', uri: 'sip:bob@127.0.0.1:5070' });
  assert.deepEqual(parseCommand('reject'), { name: 'reject', status: undefined });
  assert.deepEqual(parseCommand('reject 603'), { name: 'reject', status: 603 });
  assert.deepEqual(parseCommand('wait held'), { name: 'wait', event: 'held', seconds: 10 });
  assert.deepEqual(parseCommand('wait remote-resumed 2.5'), { name: 'wait', event: 'remote-resumed', seconds: 2.5 });
  assert.deepEqual(parseCommand('hangup'), { name: 'hangup' });
  assert.equal(parseCommand(''), null);
  assert.equal(parseCommand('# a comment'), null);
  for (const bad of ['call', 'reject 200', 'reject abc', 'wait', 'wait nothing', 'wait held -1', 'wait held 0', 'hold now', 'dial x']) {
    assert.throws(() => parseCommand(bad), CommandError, bad);
  }
});

/**
 * `hookflash phone` transfers end to end (RFC 5589): three phone processes on loopback UDP (port
 * 0, read back from the 'listening' line): Alice scripted through stdin as transferor, Bob
 * (transferee) and Carol (transfer target) answering by themselves. Blind transfer (§6) and
 * attended transfer with Replaces (§7); and the new commands' parsing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CommandError, parseCommand } from '../../src/app/phone-script.js';

const cli = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
/** Every wait for a child is bounded by this. */
const BOUND_MS = 20_000;

interface Line {
  event: string;
  call?: string;
  port?: number;
  reason?: string;
  from?: string;
  status?: number;
  target?: string;
  newCall?: string;
  by?: string;
  index?: number;
  direction?: string;
  state?: string;
  current?: boolean;
  remoteHold?: boolean;
}

interface Phone {
  child: ChildProcessWithoutNullStreams;
  lines: Line[];
  stderr(): string;
  /** Resolves with the first line (seen or to come) that `match` accepts. */
  line(what: string, match: (line: Line) => boolean): Promise<Line>;
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

/** Starts `hookflash phone ARGS --json` with piped stdio; killed after the test if still running. */
function startPhone(t: TestContext, args: string[]): Phone {
  const child = spawn(process.execPath, [cli, 'phone', ...args, '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
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
    line: (what, match) => {
      const found = lines.find(match);
      const p = found !== undefined ? Promise.resolve(found) : new Promise<Line>((resolve, reject) => {
        const l = (line: Line): void => {
          if (!match(line)) return;
          listeners.delete(l);
          resolve(line);
        };
        listeners.add(l);
        void exited.then(() => reject(new Error(`exited before ${what}; lines ${JSON.stringify(lines)}; stderr ${stderr}`)));
      });
      return bounded(what, p, phone);
    },
    exit: () => bounded('exit', exited, phone),
  };
  return phone;
}

const is = (event: string, call?: string) => (l: Line): boolean => l.event === event && (call === undefined || l.call === call);

/** The events of one call, in order. */
function eventsOf(phone: Phone, call: string | undefined): string[] {
  return phone.lines.filter((l) => l.call === call && l.event !== 'calls').map((l) => l.event);
}

async function answering(t: TestContext, user: string): Promise<{ phone: Phone; port: number }> {
  const phone = startPhone(t, ['--uri', `sip:${user}@127.0.0.1`, '--listen', 'udp:127.0.0.1:0', '--auto-answer']);
  const { port } = await phone.line(`${user}'s listening line`, is('listening'));
  assert.ok(typeof port === 'number' && port > 0);
  return { phone, port };
}

test('blind transfer: Alice transfers Bob to Carol; Bob\'s new call is answered by Carol, the original ends; all exit 0', async (t) => {
  const { phone: bob, port: bobPort } = await answering(t, 'bob');
  const { phone: carol, port: carolPort } = await answering(t, 'carol');
  const alice = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0']);
  alice.child.stdin.end([
    `call sip:bob@127.0.0.1:${bobPort}`,
    'wait answered 5',
    `transfer sip:carol@127.0.0.1:${carolPort}`,
    'wait transferred 10',
    'calls',
    'quit',
    '',
  ].join('\n'));
  assert.equal(await alice.exit(), 0, alice.stderr());

  // Alice: progress from the NOTIFYs up to 200 (Bob holds her meanwhile, RFC 5589 §6), her call
  // ended by her BYE, then transferred.
  const original = alice.lines.find(is('ringing'))?.call;
  assert.ok(original !== undefined);
  const progress = alice.lines.filter(is('transfer-progress', original)).map((l) => l.status);
  assert.equal(progress[0], 100);
  assert.equal(progress.at(-1), 200);
  const aliceEvents = eventsOf(alice, original).filter((e) => e !== 'transfer-progress');
  assert.deepEqual(aliceEvents, ['ringing', 'answered', 'remote-held', 'ended', 'transferred']);
  assert.equal(alice.lines.find(is('ended', original))!.reason, 'local-bye');
  assert.equal(alice.lines.find(is('transferred', original))!.target, `sip:carol@127.0.0.1:${carolPort}`);
  const aliceCalls = alice.lines.filter(is('calls'));
  assert.deepEqual(aliceCalls.map((l) => [l.index, l.call, l.direction, l.state, l.current]), [[1, original, 'outgoing', 'ended', true]]);

  // Bob: transferred (naming the new call), the new call answered by Carol, the original ended by Alice's BYE.
  const transferred = await bob.line('Bob transferred', is('transferred', original));
  const newCall = transferred.newCall;
  assert.ok(typeof newCall === 'string' && newCall !== original);
  assert.equal(transferred.target, `sip:carol@127.0.0.1:${carolPort}`);
  await bob.line('Bob\'s new call answered', is('answered', newCall));
  assert.equal((await bob.line('Bob\'s original call ended', is('ended', original))).reason, 'remote-bye');
  assert.deepEqual(eventsOf(bob, original), ['incoming', 'answered', 'held', 'transferred', 'ended']);
  bob.child.stdin.end('calls\nquit\n');
  assert.equal(await bob.exit(), 0, bob.stderr());
  const bobCalls = bob.lines.filter(is('calls'));
  assert.deepEqual(bobCalls.map((l) => [l.index, l.call, l.direction, l.state, l.current]), [
    [1, original, 'incoming', 'ended', false],
    [2, newCall, 'outgoing', 'answered', true],
  ]);

  // Carol: Bob's call came in, was answered, and ended when Bob quit.
  assert.equal((await carol.line('Carol\'s call ended', is('ended', newCall))).reason, 'remote-bye');
  carol.child.stdin.end();
  assert.equal(await carol.exit(), 0, carol.stderr());
  assert.deepEqual(eventsOf(carol, newCall), ['incoming', 'answered', 'ended']);
  assert.equal(carol.lines.find(is('incoming'))!.from, 'sip:bob@127.0.0.1');
  for (const p of [alice, bob, carol]) assert.equal(p.stderr(), '');
});

test('attended transfer: Alice holds Bob, consults Carol, transfers Bob to Carol with Replaces; Carol\'s call is replaced', async (t) => {
  const { phone: bob, port: bobPort } = await answering(t, 'bob');
  const { phone: carol, port: carolPort } = await answering(t, 'carol');
  const alice = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0']);
  alice.child.stdin.end([
    `call sip:bob@127.0.0.1:${bobPort}`,
    'wait answered 5',
    'hold',
    'wait held 5',
    `call sip:carol@127.0.0.1:${carolPort}`,
    'wait answered 5',
    'use 1',
    'calls',
    'transfer --attended 2',
    'wait transferred 10',
    // The consultation call is ended by Carol once Bob's call has replaced it.
    'use 2',
    'wait ended 10',
    'quit',
    '',
  ].join('\n'));
  assert.equal(await alice.exit(), 0, alice.stderr());

  const [toBob, toCarol] = alice.lines.filter(is('ringing')).map((l) => l.call);
  assert.ok(toBob !== undefined && toCarol !== undefined && toBob !== toCarol);
  // The listing before the transfer: Bob's call current and held, Carol's up.
  assert.deepEqual(alice.lines.filter(is('calls')).map((l) => [l.index, l.call, l.state, l.current]), [
    [1, toBob, 'answered', true],
    [2, toCarol, 'answered', false],
  ]);
  assert.equal(alice.lines.find(is('transfer-progress', toBob))?.status, 100);
  assert.equal(alice.lines.filter(is('transfer-progress', toBob)).at(-1)?.status, 200);
  assert.equal(alice.lines.find(is('ended', toBob))!.reason, 'local-bye');
  assert.equal(alice.lines.find(is('ended', toCarol))!.reason, 'remote-bye');

  // Carol: her call with Alice replaced by Bob's new one (answered, no incoming), then ended by her BYE.
  const replaced = await carol.line('Carol replaced', is('replaced', toCarol));
  const newCall = replaced.by;
  assert.ok(typeof newCall === 'string');
  await carol.line('Carol\'s new call answered', is('answered', newCall));
  assert.equal((await carol.line('Carol\'s consultation call ended', is('ended', toCarol))).reason, 'local-bye');
  assert.deepEqual(eventsOf(carol, toCarol), ['incoming', 'answered', 'replaced', 'ended']);

  // Bob: transferred to the same new call; his call with Alice ended by her BYE.
  assert.equal((await bob.line('Bob transferred', is('transferred', toBob))).newCall, newCall);
  await bob.line('Bob\'s new call answered', is('answered', newCall));
  assert.equal((await bob.line('Bob\'s original call ended', is('ended', toBob))).reason, 'remote-bye');
  bob.child.stdin.end();
  assert.equal(await bob.exit(), 0, bob.stderr());

  assert.equal((await carol.line('Carol\'s new call ended', is('ended', newCall))).reason, 'remote-bye');
  carol.child.stdin.end();
  assert.equal(await carol.exit(), 0, carol.stderr());
  for (const p of [alice, bob, carol]) assert.equal(p.stderr(), '');
});

test('a transfer with no answered call, or an attended one naming nothing, is an error: exit 1', async (t) => {
  const phone = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0']);
  phone.child.stdin.end('transfer sip:carol@127.0.0.1\ncalls\nuse 3\nquit\n');
  assert.equal(await phone.exit(), 1);
  assert.match(phone.stderr(), /no call to transfer/);
  assert.match(phone.stderr(), /use: no call "3"/);
});

test('parseCommand: transfer, calls, use and the transfer events', () => {
  assert.deepEqual(parseCommand('transfer sip:carol@127.0.0.1:5080'), { name: 'transfer', uri: 'sip:carol@127.0.0.1:5080', attended: false });
  assert.deepEqual(parseCommand('transfer --attended 2'), { name: 'transfer', call: '2', attended: true });
  assert.deepEqual(parseCommand('calls'), { name: 'calls' });
  assert.deepEqual(parseCommand('use abc@host'), { name: 'use', call: 'abc@host' });
  assert.deepEqual(parseCommand('wait transferred 10'), { name: 'wait', event: 'transferred', seconds: 10 });
  for (const event of ['transfer-progress', 'transfer-failed', 'replaced']) assert.equal(parseCommand(`wait ${event}`)?.name, 'wait');
  for (const bad of ['transfer', 'transfer --attended', 'transfer --blind sip:x@y', 'transfer a b', 'calls 1', 'use']) {
    assert.throws(() => parseCommand(bad), CommandError, bad);
  }
});

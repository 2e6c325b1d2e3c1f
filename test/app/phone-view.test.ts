/**
 * The terminal view of `hookflash phone` (issue 8): the pure renderer (phone-view.ts: states,
 * widths, truncation, colours or none), the screen's repaint arithmetic (phone-screen.ts), and
 * end to end: Bob's phone under a pseudo-terminal (util-linux `script`), called by Alice's phone
 * on loopback, shows the call ringing, talking, held here and ended, his prompt working throughout.
 * Off a terminal nothing changes (no escape codes) unless --tui asks for the view.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatDuration, renderPhoneView, truncate, viewState, type PhoneViewCall, type PhoneViewModel } from '../../src/app/phone-view.js';
import { eraseFrom, PhoneScreen, rowsOf } from '../../src/app/phone-screen.js';
import { needBinary } from '../helpers/peers.js';

const cli = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
const BOUND_MS = 15_000;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

const NOW = 1_000_000;

function call(over: Partial<PhoneViewCall> = {}): PhoneViewCall {
  return {
    index: 1, id: 'a84f3c2e9d1b4c77@host', peer: 'sip:bob@127.0.0.1:5070', direction: 'outgoing', state: 'talking',
    current: true, startedAt: NOW - 50_000, answeredAt: NOW - 42_000, ...over,
  };
}

function model(calls: PhoneViewCall[], over: Partial<PhoneViewModel> = {}): PhoneViewModel {
  return { uri: 'sip:alice@127.0.0.1', registration: 'none', calls, now: NOW, ...over };
}

test('viewState: replaced and ended first, then an open transfer, then the holds', () => {
  const base = { state: 'answered', localHold: false, remoteHold: false, transferring: false, replaced: false } as const;
  assert.equal(viewState(base), 'talking');
  assert.equal(viewState({ ...base, state: 'calling' }), 'calling');
  assert.equal(viewState({ ...base, state: 'ringing', localHold: true }), 'ringing');
  assert.equal(viewState({ ...base, localHold: true }), 'held here');
  assert.equal(viewState({ ...base, remoteHold: true }), 'held there');
  assert.equal(viewState({ ...base, localHold: true, remoteHold: true }), 'held both');
  assert.equal(viewState({ ...base, localHold: true, transferring: true }), 'transferring');
  assert.equal(viewState({ ...base, state: 'ended', transferring: true }), 'ended');
  assert.equal(viewState({ ...base, state: 'ended', replaced: true }), 'replaced');
});

test('formatDuration and truncate', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(42_900), '0:42');
  assert.equal(formatDuration(61_000), '1:01');
  assert.equal(formatDuration(3_723_000), '1:02:03');
  assert.equal(formatDuration(-5), '0:00');
  assert.equal(truncate('sip:bob@example.com', 30), 'sip:bob@example.com');
  assert.equal(truncate('sip:bob@example.com', 8), 'sip:bob…');
  assert.equal(truncate('abc', 0), '');
});

test('renderPhoneView: header, one line per call with id, direction, state, duration, media, peer', () => {
  const lines = renderPhoneView(model([
    call({ media: { mos: 4.41, lossRatio: 0.012 } }),
    call({ index: 2, id: 'zz', direction: 'incoming', state: 'ringing', current: false, peer: 'sip:carol@127.0.0.1', startedAt: NOW - 3_000, answeredAt: undefined }),
    call({ index: 3, state: 'ended', current: false, answeredAt: NOW - 20_000, endedAt: NOW - 10_000 }),
  ], { registration: 'registered', registrar: 'sip:127.0.0.1:5060' }), { width: 100, color: false });
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^── sip:alice@127\.0\.0\.1 \| registered at sip:127\.0\.0\.1:5060 \| 2 live calls ─+$/);
  assert.equal(lines[0]!.length, 100);
  assert.equal(lines[1], '* 1 a84f3c2e out talking         0:42 MOS 4.41 loss 1.2%   sip:bob@127.0.0.1:5070');
  // The duration counts from the answer once there, from the first sight before; it stops at the end.
  assert.equal(lines[2], '  2 zz       in  ringing         0:03                      sip:carol@127.0.0.1');
  assert.equal(lines[3], '  3 a84f3c2e out ended           0:10                      sip:bob@127.0.0.1:5070');
});

test('renderPhoneView: every state by name; no escape codes without colour, SGR around the state with it', () => {
  const states = ['calling', 'ringing', 'talking', 'held here', 'held there', 'held both', 'transferring', 'replaced', 'ended'] as const;
  const calls = states.map((state, i) => call({ index: i + 1, state, current: i === 0 }));
  const plain = renderPhoneView(model(calls), { width: 90, color: false, maxCalls: 20 });
  assert.equal(plain.length, 1 + states.length);
  for (const [i, state] of states.entries()) assert.equal(plain[i + 1]!.slice(17, 17 + state.length), state);
  for (const line of plain) assert.doesNotMatch(line, /\x1b/);
  const colored = renderPhoneView(model(calls), { width: 90, color: true, maxCalls: 20 });
  assert.match(colored[0]!, /^\x1b\[7m──/);
  assert.ok(colored[3]!.includes('\x1b[32;1mtalking'), colored[3]);
  assert.ok(colored[4]!.includes('\x1b[36mheld here'), colored[4]);
  // The colours add codes only: the text is the same.
  assert.deepEqual(colored.map((l) => l.replace(ANSI, '')), plain);
});

test('renderPhoneView: no line is wider than the width; the peer is cut, then the media column goes', () => {
  const long = call({ peer: `sip:${'x'.repeat(80)}@example.com`, media: { mos: 3.9, lossRatio: 0.5 } });
  for (const width of [20, 33, 40, 60, 79, 120]) {
    for (const line of renderPhoneView(model([long]), { width, color: true })) {
      assert.ok([...line.replace(ANSI, '')].length <= width, `${width}: ${JSON.stringify(line)}`);
    }
  }
  const wide = renderPhoneView(model([long]), { width: 79, color: false });
  assert.match(wide[1]!, /MOS 3\.90 loss 50\.0% {2}sip:x+…$/);
  assert.equal(wide[1]!.length, 79);
  // 60 columns leave the peer fewer than 12: the media column goes, the peer keeps the room.
  const narrow = renderPhoneView(model([long]), { width: 60, color: false });
  assert.doesNotMatch(narrow[1]!, /MOS/);
  assert.match(narrow[1]!, /0:42 sip:x+…$/);
  // Below the width floor (20) the view still renders at 20.
  assert.equal(renderPhoneView(model([]), { width: 5, color: false })[0]!.length, 20);
});

test('renderPhoneView: no calls; more calls than room keeps the live ones and says how many are left out', () => {
  assert.deepEqual(renderPhoneView(model([]), { width: 60, color: false }).slice(1), ['  no calls']);
  const calls = [
    ...[1, 2, 3, 4].map((index) => call({ index, state: 'ended', current: false })),
    call({ index: 5, state: 'talking', current: false }),
    call({ index: 6, state: 'ended', current: false }),
    call({ index: 7, state: 'ringing' }),
  ];
  const lines = renderPhoneView(model(calls), { width: 80, color: false, maxCalls: 3 });
  assert.deepEqual(lines.slice(1, 4).map((l) => l.slice(0, 3).replace('*', '').trim()), ['5', '6', '7']);
  assert.equal(lines[4], '  +4 more (calls lists them all)');
  assert.match(lines[0]!, /\| 2 live calls /);
});

test('PhoneScreen: each repaint goes back over the view (and the prompt rows), events above, prompt redrawn', () => {
  let written = '';
  let errors = '';
  let prompting = false;
  let redraws = 0;
  let view = ['v1', 'v2'];
  const screen = new PhoneScreen({
    output: { write: (s: string) => (written += s), columns: 40 },
    errors: { write: (s: string) => (errors += s) },
    render: (width) => {
      assert.equal(width, 39);
      return view;
    },
    prompt: { shown: () => prompting, cursorRow: () => 1, redraw: () => redraws++ },
  });
  screen.print(['listening']);
  assert.equal(written, `${eraseFrom(0)}listening\nv1\nv2\n`);
  written = '';
  prompting = true;
  view = ['v1', 'v2', 'v3'];
  screen.print(['event']);
  // Up over the 2 view rows and the prompt's row above the cursor; a row for readline to go back up.
  assert.equal(written, '\r\x1b[3A\x1b[Jevent\nv1\nv2\nv3\n\n');
  assert.equal(redraws, 1);
  written = '';
  screen.entered(`phone> ${'c'.repeat(40)}`);
  // Readline left the line (47 characters: 2 rows at 40 columns) below the 3 view rows; no prompt redrawn.
  assert.equal(written, `\r\x1b[5A\x1b[Jphone> ${'c'.repeat(40)}\nv1\nv2\nv3\n`);
  assert.equal(redraws, 1);
  written = '';
  prompting = false;
  screen.print([]);
  assert.equal(written, '\r\x1b[3A\x1b[Jv1\nv2\nv3\n');
  written = '';
  // An error line goes to the error stream, between the erase and the view on the output.
  screen.print(['hookflash phone: oops'], true);
  assert.equal(errors, 'hookflash phone: oops\n');
  assert.equal(written, '\r\x1b[3A\x1b[Jv1\nv2\nv3\n');
  screen.close();
  written = '';
  screen.print(['after']);
  assert.equal(written, '', 'nothing after close');
  assert.equal(rowsOf(0, 80), 1);
  assert.equal(rowsOf(81, 80), 2);
});

interface Proc {
  child: ChildProcessWithoutNullStreams;
  out(): string;
  err(): string;
  /** Resolves when the output (escape codes removed) matches. */
  until(pattern: RegExp): Promise<RegExpMatchArray>;
  exit(): Promise<number | null>;
}

function start(t: TestContext, command: string, args: string[]): Proc {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const bounded = <T>(what: string, p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${BOUND_MS} ms; output ${JSON.stringify(out.replace(ANSI, ''))}; stderr ${err}`)), BOUND_MS);
    });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  };
  return {
    child,
    out: () => out,
    err: () => err,
    until: (pattern) => bounded(`output ${pattern}`, new Promise((resolve) => {
      const check = (): void => {
        const m = out.replace(ANSI, '').match(pattern);
        if (m === null) return;
        waiters.delete(check);
        resolve(m);
      };
      waiters.add(check);
      check();
    })),
    exit: () => bounded('exit', exited),
  };
}

/** The states of call 1 in the view, in the order the repaints showed them (repeats folded). */
function viewStates(output: string): string[] {
  const states: string[] = [];
  for (const m of output.replace(ANSI, '').matchAll(/^[ *] 1 \S+ +(?:in|out) +(calling|ringing|talking|held here|held there|held both|transferring|replaced|ended) /gm)) {
    if (states.at(-1) !== m[1]) states.push(m[1]!);
  }
  return states;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

test('in a terminal the phone shows its call ringing, talking, held here, ended; the prompt keeps working', async (t) => {
  const script = needBinary(t, 'script', 'apt-get install util-linux');
  if (script === undefined) return;
  // Bob's phone on a pseudo-terminal: stdin and stdout are TTYs, so the view is on by default.
  const bob = start(t, script, ['-qfec', `${quote(process.execPath)} ${quote(cli)} phone --uri sip:bob@127.0.0.1 --listen udp:127.0.0.1:0`, '/dev/null']);
  const port = (await bob.until(/listening on udp 127\.0\.0\.1:(\d+)/))[1]!;
  await bob.until(/── sip:bob@127\.0\.0\.1 \| not registering \| 0 live calls ─+\r?\n {2}no calls/);
  await bob.until(/phone> $/);
  const alice = start(t, process.execPath, [cli, 'phone', '--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--json']);
  alice.child.stdin.end(`call sip:bob@127.0.0.1:${port}\nwait answered 10\nwait remote-held 10\nwait ended 10\n`);
  await bob.until(/incoming call from sip:alice@127\.0\.0\.1 \(answer or reject\)/);
  await bob.until(/^\* 1 \S+ +in +ringing /m);
  bob.child.stdin.write('answer\n');
  await bob.until(/^\* 1 \S+ +in +talking /m);
  bob.child.stdin.write('hold\n');
  await bob.until(/^\* 1 \S+ +in +held here /m);
  bob.child.stdin.write('hangup\n');
  await bob.until(/^\* 1 \S+ +in +ended /m);
  assert.equal(await alice.exit(), 0, alice.err());
  bob.child.stdin.end('quit\n');
  // `script -e` exits with the phone's status.
  assert.equal(await bob.exit(), 0, bob.err());

  // The terminal's text without escapes and carriage returns.
  const text = bob.out().replace(ANSI, '').replace(/\r/g, '');
  assert.deepEqual(viewStates(bob.out()), ['ringing', 'talking', 'held here', 'ended']);
  // Each command entered at the prompt stays above the view, followed by what it caused.
  assert.match(text, /\nphone> answer\n(?:.*\n)*?.*call \S+: answered\n/);
  assert.match(text, /\nphone> hold\n(?:.*\n)*?.*call \S+: held \(we hold the call\)\n/);
  assert.match(text, /\nphone> hangup\n(?:.*\n)*?.*call \S+: ended: we hung up\n/);
  // Media ran while the call was up: the view showed its MOS and loss.
  assert.match(text, /talking +\d:\d\d MOS \d\.\d\d loss \d+\.\d%/);
  assert.doesNotMatch(text, /hookflash phone:/, 'no error');
  // Alice (not a terminal, --json) printed JSON only, as before.
  for (const line of alice.out().trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
});

test('off a terminal the phone prints no view and no escape code; --tui asks for it; --tui with --no-tui is a usage error', async (t) => {
  const plain = start(t, process.execPath, [cli, 'phone', '--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0']);
  plain.child.stdin.end('calls\nquit\n');
  assert.equal(await plain.exit(), 0, plain.err());
  assert.match(plain.out(), /^listening on udp 127\.0\.0\.1:\d+\nno calls\n$/);

  const forced = start(t, process.execPath, [cli, 'phone', '--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--tui']);
  forced.child.stdin.end('quit\n');
  assert.equal(await forced.exit(), 0, forced.err());
  assert.match(forced.out(), /\x1b\[J/);
  // Not a TTY: no colours, whatever the environment says.
  assert.doesNotMatch(forced.out(), /\x1b\[[0-9;]*m/);
  const text = forced.out().replace(ANSI, '').replace(/\r/g, '');
  assert.match(text, /^── sip:alice@127\.0\.0\.1 \| not registering \| 0 live calls ─+\n {2}no calls\nlistening on udp 127\.0\.0\.1:\d+\n/);
  // The last view stays on the screen at exit.
  assert.match(text, /\n── sip:alice@127\.0\.0\.1 \| not registering \| 0 live calls ─+\n {2}no calls\n$/);

  const both = start(t, process.execPath, [cli, 'phone', '--uri', 'sip:alice@127.0.0.1', '--tui', '--no-tui']);
  both.child.stdin.end();
  assert.equal(await both.exit(), 2);
  assert.match(both.err(), /--tui and --no-tui do not go together/);
});

/**
 * `hookflash phone` with audio (issue 7), two processes on loopback: Alice plays a 440 Hz tone
 * (--tone), Bob plays a 330 Hz WAV at 16 kHz (--play), both record (--record), Bob has music on
 * hold (--moh, a 1000 Hz WAV); DTMF both ways
 * (`dtmf`, `dtmf` events), `stats` lines with the counters; Bob's recording has the tone, and
 * Alice's has the music on hold while Bob held the call.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ToneSource } from '../../src/media/audio-source.js';
import { readWav, writeWav } from '../../src/media/wav-file.js';
import { toneRatio } from '../../src/media/goertzel.js';

const cli = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
const BOUND_MS = 15_000;

type Line = Record<string, unknown> & { event: string };

interface Phone {
  child: ChildProcessWithoutNullStreams;
  lines: Line[];
  stderr(): string;
  /** Resolves once `n` lines of `event` were printed, with the n-th. */
  line(event: string, n?: number): Promise<Line>;
  send(text: string): void;
  exit(): Promise<number | null>;
}

function startPhone(t: TestContext, args: string[]): Phone {
  const child = spawn(process.execPath, [cli, 'phone', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: Line[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (text) => {
    lines.push(JSON.parse(text) as Line);
    for (const l of [...listeners]) l();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const bounded = <T>(what: string, p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${BOUND_MS} ms; lines ${JSON.stringify(lines)}; stderr ${stderr}`)), BOUND_MS);
    });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  };
  return {
    child,
    lines,
    stderr: () => stderr,
    line: (event, n = 1) => bounded(`${n} ${event} line(s)`, new Promise<Line>((resolve, reject) => {
      const check = (): void => {
        const found = lines.filter((l) => l.event === event);
        if (found.length < n) return;
        listeners.delete(check);
        resolve(found[n - 1]!);
      };
      listeners.add(check);
      check();
      void exited.then(() => reject(new Error(`exited before ${n} ${event} line(s); stderr ${stderr}`)));
    })),
    send: (text) => child.stdin.write(text),
    exit: () => bounded('exit', exited),
  };
}

/** The largest share of `frequency` in any 0.2 s window of `pcm`. */
function bestWindow(pcm: Int16Array, frequency: number): number {
  let best = 0;
  for (let i = 0; i + 1600 <= pcm.length; i += 800) best = Math.max(best, toneRatio(pcm.subarray(i, i + 1600), frequency));
  return best;
}

function readRecording(path: string): Int16Array {
  const r = readWav(readFileSync(path));
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.equal(r.audio.sampleRate, 8000);
  return r.audio.samples;
}

test('two phones: --tone and --play reach --record, --moh plays while held, dtmf both ways, stats prints the counters', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-phone-media-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tone = new ToneSource({ frequency: 1000, amplitude: 0.5 });
  const frames: Int16Array[] = [];
  for (let i = 0; i < 50; i++) frames.push(tone.read()!);
  const moh = join(dir, 'moh.wav');
  writeFileSync(moh, writeWav(Int16Array.from(frames.flatMap((f) => [...f]))));
  // Bob plays a 330 Hz WAV at 16 kHz (--play converts it to 8 kHz).
  const play = join(dir, 'play.wav');
  const at16k = new Int16Array(16000);
  for (let i = 0; i < at16k.length; i++) at16k[i] = Math.round(12000 * Math.sin((2 * Math.PI * 330 * i) / 16000));
  writeFileSync(play, writeWav(at16k, 16000));
  const bobWav = join(dir, 'bob.wav');
  const aliceWav = join(dir, 'alice.wav');

  const bob = startPhone(t, ['--uri', 'sip:bob@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--auto-answer', '--json',
    '--record', bobWav, '--moh', moh, '--play', play, '--rtp-ports', '42000-42999']);
  const port = (await bob.line('listening')).port as number;
  const alice = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--json',
    '--tone', '440', '--record', aliceWav, '--rtp-ports', '43000-43999']);
  await alice.line('listening');
  alice.send(`call sip:bob@127.0.0.1:${port}\nwait answered 5\n`);
  await alice.line('answered');
  await bob.line('answered');

  // A second of the tone first: Bob's `stats` asked until he has 50 packets.
  for (let n = 1; ; n++) {
    bob.send('stats\n');
    const line = await bob.line('stats', n);
    if ((line.packetsReceived as number) >= 50) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // DTMF Alice → Bob while the tone flows (ten digits: about 1.6 s).
  alice.send('dtmf 1234567890\n');
  await bob.line('dtmf', 10);
  assert.deepEqual(bob.lines.filter((l) => l.event === 'dtmf').map((l) => l.digit), [...'1234567890']);
  bob.send('stats\n');
  const bs = await bob.line('stats', bob.lines.filter((l) => l.event === 'stats').length + 1);
  assert.equal(bs.direction, 'sendrecv');
  assert.equal(bs.codec, 'PCMU');
  assert.ok((bs.packetsReceived as number) > 50, JSON.stringify(bs));
  // G.711 packets carry 160 bytes, telephone-event ones 4.
  assert.ok((bs.bytesReceived as number) >= 4 * (bs.packetsReceived as number) && (bs.bytesReceived as number) <= 160 * (bs.packetsReceived as number));
  assert.equal(bs.dtmfReceived, 10);
  assert.equal(bs.packetsLost, 0);
  assert.ok((bs.mos as number) > 4, JSON.stringify(bs));

  // Bob holds: music on hold to Alice; DTMF Bob → Alice rides on his sendonly stream.
  bob.send('hold\nwait held 5\n');
  await bob.line('held');
  await alice.line('remote-held');
  // Half a second of music (Alice's `stats` asked until 25 more packets came), then the digits.
  let base: number | undefined;
  for (;;) {
    alice.send('stats\n');
    const line = await alice.line('stats', alice.lines.filter((l) => l.event === 'stats').length + 1);
    base ??= line.packetsReceived as number;
    if ((line.packetsReceived as number) >= base + 25) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  bob.send('dtmf 42#\n');
  await alice.line('dtmf', 3);
  assert.deepEqual(alice.lines.filter((l) => l.event === 'dtmf').map((l) => l.digit), ['4', '2', '#']);
  alice.send('stats\n');
  const as = await alice.line('stats', alice.lines.filter((l) => l.event === 'stats').length + 1);
  assert.equal(as.direction, 'recvonly');
  assert.equal(as.dtmfSent, 10);
  assert.equal(as.dtmfReceived, 3);
  assert.ok((as.packetsSent as number) > 50);
  bob.send('resume\nwait resumed 5\n');
  await bob.line('resumed');

  alice.child.stdin.end('hangup\nwait ended 5\nquit\n');
  assert.equal(await alice.exit(), 0, alice.stderr());
  await bob.line('ended');
  bob.child.stdin.end('quit\n');
  assert.equal(await bob.exit(), 0, bob.stderr());
  assert.equal(alice.stderr(), '');
  assert.equal(bob.stderr(), '');

  // The recordings, written at exit.
  const atBob = readRecording(bobWav);
  assert.ok(atBob.length >= 8000, `Bob recorded ${atBob.length} samples`);
  assert.ok(toneRatio(atBob.subarray(800, 8000), 440) > 0.8, `440 Hz share at Bob ${toneRatio(atBob.subarray(800, 8000), 440)}`);
  const atAlice = readRecording(aliceWav);
  assert.ok(bestWindow(atAlice, 1000) > 0.8, 'the music on hold in Alice\'s recording');
  assert.ok(bestWindow(atAlice, 330) > 0.8, 'Bob\'s --play WAV in Alice\'s recording');
  assert.ok(bestWindow(atBob, 1000) < 0.1, 'Bob never received music');
});

test('phone media flags: bad values exit 2 naming the flag', async (t) => {
  for (const [flag, value] of [['--tone', 'loud'], ['--rtp-ports', '5-4'], ['--rtp-ports', '20000']] as const) {
    const p = startPhone(t, ['--uri', 'sip:a@127.0.0.1', '--listen', 'udp:127.0.0.1:0', flag, value]);
    p.child.stdin.end();
    assert.equal(await p.exit(), 2, `${flag} ${value}: ${p.stderr()}`);
    assert.match(p.stderr(), new RegExp(flag));
  }
  const missing = startPhone(t, ['--uri', 'sip:a@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--play', '/nonexistent/x.wav']);
  missing.child.stdin.end();
  assert.equal(await missing.exit(), 1);
  assert.match(missing.stderr(), /--play \/nonexistent\/x\.wav/);
});

/**
 * `npm run bench:parse:instructions`: hookflash's parser against the two fastest JavaScript SIP
 * parsers (`sip`, `drachtio-sip`) in instructions per message, counted by valgrind's callgrind.
 *
 *   node dist/bench/parse-instructions.js [--quick] [--concurrent]
 *   node dist/bench/parse-instructions.js --run PARSER WORKLOAD FILE N     (one measured child)
 *
 * Why instructions: on a shared machine wall time moves by tens of percent from run to run; the
 * number of instructions a given binary executes on a given input does not. Each case runs twice
 * under callgrind, parsing the message N = 10,000 and N = 40,000 times; the difference divided by
 * 30,000 is the cost of one message, start-up and one-time compilation cancelling out.
 *
 * Node runs with --no-concurrent-recompilation (unless --concurrent): under valgrind the threads
 * that compile optimized code run when valgrind's scheduler lets them, so on a loaded machine the
 * two runs can switch to optimized code at different points, and their difference then holds tens
 * of millions of instructions of compiling or of slower code (seen: the same case measuring 15,000
 * and 160,000). Compiling on the main thread makes tier-up deterministic; the optimized code, which
 * is what is measured, is the same. Every parser runs the same way.
 *
 * Workloads and adapters are those of `npm run bench:parse` (bench/peers/*.ts): 'proxy' is parse,
 * then the top Via branch, Max-Forwards, Route, Call-ID, CSeq and To tag (hookflash lazy, drachtio
 * lazy); 'everything' is parse, then every header's parsed value (hookflash strict). Goals
 * (issue 2, §5): 4x the fastest peer on 'proxy', 2x on 'everything'.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from './fixtures.js';
import { hookflashFull, hookflashLazy } from './peers/hookflash.js';
import { sipAdapter } from './peers/sip.js';
import { drachtioFull, drachtioLazy } from './peers/drachtio.js';
import type { ParserAdapter } from './peers/types.js';

type Workload = 'proxy' | 'everything';

const N1 = 10_000;
const N2 = 40_000;
const GOALS: Record<Workload, number> = { proxy: 4, everything: 2 };

const PARSERS: Record<string, Record<Workload, ParserAdapter>> = {
  hookflash: { proxy: hookflashLazy, everything: hookflashFull },
  sip: { proxy: sipAdapter, everything: sipAdapter },
  'drachtio-sip': { proxy: drachtioLazy, everything: drachtioFull },
};

const FIXTURES: Array<[string, string]> = [
  ['seed INVITE', 'test/fixtures/seed/seed-invite.sip'],
  ['200 OK (3 Via, 2 Record-Route)', 'test/fixtures/bench/200-ok-sdp.sip'],
];

const SELF = fileURLToPath(import.meta.url);

/** The measured child: N parses of one message by one adapter. */
function runChild(parser: string, workload: Workload, file: string, n: number): void {
  const adapter = PARSERS[parser]?.[workload];
  if (adapter === undefined) throw new Error(`unknown parser/workload ${parser}/${workload}`);
  const bytes = readFileSync(join(PROJECT_ROOT, file));
  let sink = 0;
  if (workload === 'proxy') {
    const f = adapter.proxy!;
    for (let i = 0; i < n; i++) sink += f(bytes).cseqSeq ?? 0;
  } else {
    const f = adapter.everything!;
    for (let i = 0; i < n; i++) sink += f(bytes);
  }
  // Printed so that the loop's result is used.
  process.stdout.write(`${sink}\n`);
}

/** Instructions valgrind counted for one child run (all threads). */
function callgrind(args: string[], nodeFlags: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...nodeFlags, SELF, '--run', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /Collected : (\d+)/.exec(err);
      if (code !== 0 || m === null) reject(new Error(`valgrind ${args.join(' ')} failed (exit ${code}):\n${err.slice(-2000)}`));
      else resolve(Number(m[1]));
    });
  });
}

/** Runs the jobs at most `limit` at a time (each valgrind run keeps one core busy). */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--run') {
    runChild(argv[1]!, argv[2] as Workload, argv[3]!, Number(argv[4]));
    return;
  }
  const quick = argv.includes('--quick');
  const nodeFlags = argv.includes('--concurrent') ? [] : ['--no-concurrent-recompilation'];
  if (spawnSync('valgrind', ['--version']).error !== undefined) {
    console.log('valgrind is not installed, so instructions cannot be counted (apt-get install valgrind); nothing measured.');
    return;
  }
  const fixtures = quick ? FIXTURES.slice(0, 1) : FIXTURES;
  const cases: Array<{ fixture: string; file: string; workload: Workload; parser: string }> = [];
  for (const [fixture, file] of fixtures) {
    for (const workload of ['proxy', 'everything'] as const) {
      for (const parser of Object.keys(PARSERS)) cases.push({ fixture, file, workload, parser });
    }
  }
  console.log(`Instructions per message (valgrind callgrind, (count at N=${fmt(N2)} - count at N=${fmt(N1)}) / ${fmt(N2 - N1)}; node ${process.version} ${nodeFlags.join(' ')}).`);
  console.log(`${cases.length * 2} valgrind runs, two at a time: several minutes.\n`);
  const jobs = cases.flatMap((c) => [N1, N2].map((n) => () => callgrind([c.parser, c.workload, c.file, String(n)], nodeFlags)));
  const counts = await pool(jobs, 2);
  const perMessage = new Map<string, number>();
  cases.forEach((c, i) => perMessage.set(`${c.fixture}|${c.workload}|${c.parser}`, (counts[2 * i + 1]! - counts[2 * i]!) / (N2 - N1)));

  const peers = Object.keys(PARSERS).filter((p) => p !== 'hookflash');
  const header = ['message', 'workload', ...Object.keys(PARSERS), 'hookflash vs fastest peer', 'goal'];
  const rows: string[][] = [];
  for (const [fixture] of fixtures) {
    for (const workload of ['proxy', 'everything'] as const) {
      const get = (p: string) => perMessage.get(`${fixture}|${workload}|${p}`)!;
      const fastest = Math.min(...peers.map(get));
      const ratio = fastest / get('hookflash');
      rows.push([fixture, workload, ...Object.keys(PARSERS).map((p) => fmt(get(p))), `${ratio.toFixed(2)}x`, `${GOALS[workload]}x ${ratio >= GOALS[workload] ? 'met' : 'missed'}`]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log('\nhookflash: proxy = parseMessage(buf, { lazy: true }) + the six reads; everything = parseMessage(buf) + getParsed for every header.');
  for (const p of peers) console.log(`${p}: proxy = ${PARSERS[p]!.proxy.how}; everything = ${PARSERS[p]!.everything.how}`);
}

await main();

/**
 * `npm run bench:parse`: hookflash's message parser against four npm SIP parsers.
 *
 *   node dist/bench/parse.js [--quick] [--json FILE] [--wall]
 *   npm run bench:parse -- [--quick] [--json FILE] [--wall]   (the `--` keeps npm off --json)
 *
 * Two workloads, each on five message sets (four single messages and the 17 RFC 4475 valid ones):
 * - proxy path: parse a datagram, then read the top Via branch, Max-Forwards, every Route value,
 *   Call-ID, CSeq (number and method) and the To tag. hookflash runs lazy (the proxy mode; its
 *   full-validation mode is shown too), drachtio-sip lazy.
 * - everything: parse, then read every header's richest parsed value each parser offers.
 * What each peer is called with is documented in bench/peers/*.ts and printed with the results.
 *
 * Before timing, every parser runs every message once: a parser that throws or returns undefined
 * has that message counted as failed and left out of its timing set; proxy-path values that differ
 * from hookflash's are printed. Timing uses mitata's measure() after a full GC and an explicit
 * warm-up; the rate is messages parsed per second from the mean time of a sample (GC included),
 * the best of ROUNDS interleaved rounds (the spread between rounds is printed). The "hookflash x" column is hookflash's messages/s over
 * that parser's, both on the same messages: when a parser failed some of a set, hookflash is timed
 * again on the messages both handled. Everything runs in one process, one parser at a time. Time
 * is this process's CPU time unless --wall is given (see `now` below).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { do_not_optimize, measure } from 'mitata';
import { PROJECT_ROOT, loadMessageSets, type BenchMessage, type MessageSet } from './fixtures.js';
import { hookflashFull, hookflashLazy } from './peers/hookflash.js';
import { sipAdapter } from './peers/sip.js';
import { jssipAdapter } from './peers/jssip.js';
import { sipjsAdapter } from './peers/sipjs.js';
import { drachtioFull, drachtioLazy } from './peers/drachtio.js';
import type { ParserAdapter, ProxyView } from './peers/types.js';

type Workload = 'proxy' | 'everything';

interface Row {
  parser: string;
  /** Messages per second over the messages this parser handled; null when it handled none. */
  msgsPerSec: number | null;
  /** hookflash's rate divided by this parser's, both on the messages both handled; null when not comparable. */
  hookflashRatio: number | null;
  /** Slowest round to fastest round of this parser's own timing, as a fraction; null when not timed. */
  spread: number | null;
  failures: number;
  failed: string[];
  messages: number;
  isHookflash: boolean;
}

interface SetResult {
  set: string;
  workload: Workload;
  rows: Row[];
  /** hookflash's ratio to the fastest peer in this set (the smallest per-peer ratio). */
  ratioToFastestPeer: number | null;
  fastestPeer: string | null;
}

const GOALS: Record<Workload, number> = { proxy: 4, everything: 2 };

const WORKLOADS: Record<Workload, { title: string; baseline: ParserAdapter; parsers: ParserAdapter[] }> = {
  proxy: {
    title: 'proxy path (parse + top Via branch, Max-Forwards, Route, Call-ID, CSeq, To tag)',
    baseline: hookflashLazy,
    parsers: [hookflashLazy, hookflashFull, sipAdapter, jssipAdapter, sipjsAdapter, drachtioLazy],
  },
  everything: {
    title: "everything (parse + every header's parsed value)",
    baseline: hookflashFull,
    parsers: [hookflashFull, sipAdapter, jssipAdapter, sipjsAdapter, drachtioFull],
  },
};

const HOOKFLASH = new Set<ParserAdapter>([hookflashLazy, hookflashFull]);

// ---------- options ----------

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    wall: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log('usage: node dist/bench/parse.js [--quick] [--json FILE] [--wall]');
  console.log('  --quick      short run (1 round, short warm-up and sampling)');
  console.log('  --json FILE  also write the results as JSON to FILE');
  console.log('  --wall       time with the wall clock instead of this process\'s CPU time');
  process.exit(0);
}
/** Warm-up and measuring time per (parser, set, workload) and round, in ms. */
const WARMUP_MS = opts.quick ? 40 : 200;
/** Warm-up again before each later round (the code is optimized by then; this refills caches). */
const REWARM_MS = opts.quick ? 10 : 25;
const MEASURE_MS = opts.quick ? 60 : 120;
/**
 * Rounds: every timing runs once per round, all timings in turn, and the best round counts. On a
 * shared machine a burst of someone else's load then hits one round of a few timings, not a whole one.
 */
const ROUNDS = opts.quick ? 1 : 5;
/**
 * The clock, in ns. By default this process's CPU time (user + system, all its threads, so GC
 * helper threads count): on a shared machine, time spent descheduled while other work runs would
 * otherwise be charged to whichever parser was being timed. For one single-threaded parser this is
 * messages per second of one busy core. --wall uses the wall clock instead.
 */
const CLOCK = opts.wall ? 'wall clock' : 'process CPU time';
const now: () => number = opts.wall
  ? () => performance.now() * 1e6
  : () => {
      const u = process.cpuUsage();
      return (u.user + u.system) * 1000;
    };

/** Target duration of one timed call (one mitata sample), in microseconds. */
const SAMPLE_US = 100;

/**
 * A real full GC, run before each measurement. Without one mitata falls back to allocating a
 * 1 GiB array per measurement (slow, and the zeroing would dominate a short run); the npm script
 * starts plain `node`, so the flag is set here rather than on the command line.
 */
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

// ---------- correctness pass ----------

function run(adapter: ParserAdapter, workload: Workload): ((b: Buffer) => unknown) | undefined {
  return workload === 'proxy' ? adapter.proxy : adapter.everything;
}

function describeError(e: unknown): string {
  const s = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return s.length > 110 ? `${s.slice(0, 107)}...` : s;
}

interface Failure {
  message: string;
  error: string;
}

/** Per adapter and workload, per set: the messages it handled and the failures. */
const handled = new Map<string, BenchMessage[]>();
const failures = new Map<string, Failure[]>();
const key = (a: ParserAdapter, w: Workload, set: MessageSet): string => `${a.name}|${w}|${set.name}`;

interface Mismatch {
  set: string;
  message: string;
  parser: string;
  field: string;
  hookflash: string;
  peer: string;
}
const mismatches: Mismatch[] = [];

function show(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (v === null) return '(no value)';
  return JSON.stringify(v);
}

/** The compared fields: the four the goal names, then Max-Forwards and the Route count. */
function fields(v: ProxyView): Array<[string, unknown]> {
  return [
    ['branch', v.branch ?? undefined],
    ['call-id', v.callId],
    ['cseq', v.cseqSeq === undefined && v.cseqMethod === undefined ? undefined : `${v.cseqSeq} ${v.cseqMethod}`],
    ['to-tag', v.toTag ?? undefined],
    ['max-forwards', v.maxForwards],
    ['route-count', v.routes.length],
  ];
}

function verify(sets: MessageSet[]): void {
  for (const set of sets) {
    for (const w of Object.keys(WORKLOADS) as Workload[]) {
      for (const a of WORKLOADS[w].parsers) {
        const fn = run(a, w)!;
        const ok: BenchMessage[] = [];
        const bad: Failure[] = [];
        for (const m of set.messages) {
          try {
            fn(m.bytes);
            ok.push(m);
          } catch (e) {
            bad.push({ message: m.name, error: describeError(e) });
          }
        }
        handled.set(key(a, w, set), ok);
        failures.set(key(a, w, set), bad);
      }
    }
    // Proxy-path values against hookflash's (lazy; full where lazy failed).
    for (const m of set.messages) {
      let ref: ProxyView | undefined;
      for (const h of [hookflashLazy, hookflashFull]) {
        if (ref !== undefined) break;
        try {
          ref = h.proxy!(m.bytes);
        } catch {
          // counted as a failure above
        }
      }
      if (ref === undefined) continue;
      const refFields = fields(ref);
      for (const a of WORKLOADS.proxy.parsers) {
        if (a === hookflashLazy) continue;
        let v: ProxyView;
        try {
          v = a.proxy!(m.bytes);
        } catch {
          continue;
        }
        const got = fields(v);
        for (let i = 0; i < refFields.length; i++) {
          const [field, want] = refFields[i]!;
          const have = got[i]![1];
          if (show(want) !== show(have)) {
            mismatches.push({ set: set.name, message: m.name, parser: a.name, field, hookflash: show(want), peer: show(have) });
          }
        }
      }
    }
  }
}

// ---------- timing ----------

/** Mutable so warm-up and measurement run the very same (already optimized) function. */
interface LoopConfig {
  reps: number;
}

/**
 * The timed function: parses every message of `msgs` `cfg.reps` times and feeds what it read to
 * do_not_optimize. It is compiled afresh (new Function) for every measurement, so its call site
 * `fn(...)` has feedback of its own and stays monomorphic; one shared closure would turn
 * megamorphic across parsers and tax whichever ran later.
 */
function makeLoop(workload: Workload, fn: (b: Buffer) => unknown, msgs: Buffer[], cfg: LoopConfig): () => void {
  const consume =
    workload === 'proxy'
      ? 'const v = fn(msgs[i]); s += v.routes.length + (v.callId === undefined ? 0 : v.callId.length) + (v.cseqSeq | 0);'
      : 's += fn(msgs[i]);';
  const factory = new Function(
    'fn',
    'msgs',
    'cfg',
    'sink',
    `return function timed() {
      let s = 0;
      const reps = cfg.reps;
      for (let r = 0; r < reps; r++) {
        for (let i = 0; i < msgs.length; i++) { ${consume} }
      }
      sink(s);
    };`,
  ) as (fn: (b: Buffer) => unknown, msgs: Buffer[], cfg: LoopConfig, sink: (v: unknown) => void) => () => void;
  return factory(fn, msgs, cfg, do_not_optimize);
}

/** One (parser, workload, messages) timing, measured once per round. */
interface Job {
  adapter: ParserAdapter;
  workload: Workload;
  msgs: BenchMessage[];
  cfg: LoopConfig;
  loop: () => void;
  /** Messages per second, one per round. */
  rates: number[];
}

const jobs = new Map<string, Job>();

/** The job for `adapter` on `msgs`, created on first use (so a repeated request is timed once). */
function job(adapter: ParserAdapter, workload: Workload, msgs: BenchMessage[]): Job {
  const id = `${adapter.name}|${workload}|${msgs.map((m) => m.name).join(',')}`;
  let j = jobs.get(id);
  if (j === undefined) {
    const cfg: LoopConfig = { reps: 1 };
    const loop = makeLoop(
      workload,
      run(adapter, workload)!,
      msgs.map((m) => m.bytes),
      cfg,
    );
    j = { adapter, workload, msgs, cfg, loop, rates: [] };
    jobs.set(id, j);
  }
  return j;
}

/** One round of one job: a warm-up, then mitata's measure() (which starts with a full GC); appends messages/s. */
async function measureOnce(j: Job, first: boolean): Promise<void> {
  // Warm-up: whole passes over the set until the time is up, so the JIT has reached its optimizing
  // tier before mitata's own short warm-up and its sampling. The first round also sizes a sample.
  const t0 = now();
  const warmNs = (first ? WARMUP_MS : REWARM_MS) * 1e6;
  let passes = 0;
  const saved = j.cfg.reps;
  j.cfg.reps = 1;
  do {
    j.loop();
    passes++;
  } while (now() - t0 < warmNs);
  const passUs = (now() - t0) / 1000 / passes;
  j.cfg.reps = first ? Math.max(1, Math.min(10_000, Math.round(SAMPLE_US / passUs))) : saved;
  // batch_threshold 0: a call already lasts ~SAMPLE_US, so mitata's own batching (4096 calls per
  // sample below 65 us) is not needed and would stretch a sample to hundreds of ms.
  const stats = await measure(j.loop, { min_cpu_time: MEASURE_MS * 1e6, min_samples: 5, batch_threshold: 0, gc: fullGc, now });
  j.rates.push((j.cfg.reps * j.msgs.length) / (stats.avg / 1e9));
}

/**
 * The best round. Interference from other work on the machine only ever slows a round down, so
 * the fastest round is the least disturbed estimate of the parser's own speed.
 */
function rateOf(j: Job): number {
  return Math.max(...j.rates);
}

function medianOf(j: Job): number {
  const r = [...j.rates].sort((x, y) => x - y);
  const mid = r.length >> 1;
  return r.length % 2 === 1 ? r[mid]! : (r[mid - 1]! + r[mid]!) / 2;
}

/** How far apart the rounds were: slowest to fastest, as a fraction (0.1 = 10 %). */
function spreadOf(j: Job): number {
  return Math.max(...j.rates) / Math.min(...j.rates) - 1;
}

function same(a: BenchMessage[], b: BenchMessage[]): boolean {
  return a.length === b.length && a.every((m, i) => m === b[i]);
}

/** What one table row needs timed: the parser on what it handled, and the pair behind its ratio. */
interface RowPlan {
  adapter: ParserAdapter;
  own: Job | undefined;
  /** hookflash and this parser on the messages both handled (hookflash itself: none). */
  pair: [Job, Job] | undefined;
}

function planSet(set: MessageSet, workload: Workload): RowPlan[] {
  const { baseline, parsers } = WORKLOADS[workload];
  const baseOk = handled.get(key(baseline, workload, set))!;
  return parsers.map((a) => {
    const ok = handled.get(key(a, workload, set))!;
    const own = ok.length > 0 ? job(a, workload, ok) : undefined;
    let pair: [Job, Job] | undefined;
    if (own !== undefined && baseOk.length > 0 && a !== baseline) {
      const common = ok.filter((m) => baseOk.includes(m));
      if (common.length > 0) {
        pair = same(common, ok) ? [job(baseline, workload, common), own] : [job(baseline, workload, common), job(a, workload, common)];
      }
    }
    return { adapter: a, own, pair };
  });
}

function resultOf(set: MessageSet, workload: Workload, plan: RowPlan[]): SetResult {
  const rows: Row[] = plan.map((p) => {
    const failed = failures.get(key(p.adapter, workload, set))!;
    return {
      parser: p.adapter.name,
      msgsPerSec: p.own === undefined ? null : rateOf(p.own),
      spread: p.own === undefined || p.own.rates.length < 2 ? null : spreadOf(p.own),
      hookflashRatio:
        p.adapter === WORKLOADS[workload].baseline
          ? p.own === undefined
            ? null
            : 1
          : p.pair === undefined
            ? null
            : rateOf(p.pair[0]) / rateOf(p.pair[1]),
      failures: failed.length,
      failed: failed.map((f) => f.message),
      messages: set.messages.length,
      isHookflash: HOOKFLASH.has(p.adapter),
    };
  });
  let ratioToFastestPeer: number | null = null;
  let fastestPeer: string | null = null;
  for (const r of rows) {
    if (r.isHookflash || r.hookflashRatio === null) continue;
    if (ratioToFastestPeer === null || r.hookflashRatio < ratioToFastestPeer) {
      ratioToFastestPeer = r.hookflashRatio;
      fastestPeer = r.parser;
    }
  }
  return { set: set.name, workload, rows, ratioToFastestPeer, fastestPeer };
}

// ---------- report ----------

function fmtRate(r: number | null): string {
  if (r === null) return 'n/a';
  return Math.round(r).toLocaleString('en-US');
}

function fmtRatio(r: number | null): string {
  return r === null ? 'n/a' : `${r.toFixed(2)}x`;
}

function table(head: string[], rows: string[][], right: boolean[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    '  ' + cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function geomean(xs: number[]): number | null {
  if (xs.length === 0) return null;
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

interface WorkloadSummary {
  workload: Workload;
  perSet: Array<{ set: string; fastestPeer: string | null; ratio: number | null }>;
  geomean: number | null;
  goal: number;
  /** Goal met on the geometric mean across message sets. */
  met: boolean;
  /** Goal met in every message set. */
  metInEverySet: boolean;
}

function summarize(
  w: Workload,
  results: SetResult[],
  ratioOf: (r: SetResult) => number | null,
  peerOf: (r: SetResult) => string | null,
): WorkloadSummary {
  const perSet = results.map((r) => ({ set: r.set, fastestPeer: peerOf(r), ratio: ratioOf(r) }));
  const known = perSet.map((p) => p.ratio).filter((x): x is number => x !== null);
  const g = known.length === perSet.length ? geomean(known) : null;
  return {
    workload: w,
    perSet,
    geomean: g,
    goal: GOALS[w],
    met: g !== null && g >= GOALS[w],
    metInEverySet: known.length === perSet.length && known.every((x) => x >= GOALS[w]),
  };
}

function printSummary(s: WorkloadSummary): void {
  console.log(
    table(
      ['message set', 'fastest peer', 'hookflash x'],
      s.perSet.map((p) => [p.set, p.fastestPeer ?? 'n/a', fmtRatio(p.ratio)]),
      [false, false, true],
    ),
  );
  const every = s.metInEverySet ? 'met in every set' : 'not met in every set';
  console.log(`  geometric mean ${fmtRatio(s.geomean)}; goal >= ${s.goal}x: ${s.met ? 'MET' : 'NOT MET'} (${every})`);
}

async function main(): Promise<void> {
  const sets = loadMessageSets();
  const started = performance.now();
  const peers = [sipAdapter, jssipAdapter, sipjsAdapter, drachtioLazy, drachtioFull];
  const versions: Record<string, string> = {};
  for (const p of peers) if (p.pkg !== undefined) versions[p.pkg] = version(p.pkg);

  console.log(`hookflash parse benchmark${opts.quick ? ' (--quick)' : ''}`);
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, mitata ${version('mitata')}`);
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on this machine skews the figures)`);
  console.log(`peers: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`clock: ${CLOCK}`);
  console.log(
    `${ROUNDS} round(s) of: warm-up ${WARMUP_MS} ms (later rounds ${REWARM_MS} ms), full GC, mitata measure >= ${MEASURE_MS} ms,` +
      ' per parser, set and workload',
  );
  console.log('messages/s = messages / mean sample time, best round (round spread = slowest to fastest round)');
  console.log('\nHow each parser is called:');
  for (const a of [hookflashLazy, hookflashFull, ...peers]) console.log(`  ${a.name}: ${a.how}`);
  console.log('\nMessage sets:');
  for (const s of sets) {
    console.log(`  ${s.name}: ${s.description}; ${s.messages.map((m) => `${m.name} (${m.bytes.length} B)`).join(', ')}`);
  }

  verify(sets);

  console.log('\nFailures (message left out of that parser\'s timing set):');
  let anyFailure = false;
  for (const set of sets) {
    for (const w of Object.keys(WORKLOADS) as Workload[]) {
      for (const a of WORKLOADS[w].parsers) {
        for (const f of failures.get(key(a, w, set))!) {
          anyFailure = true;
          console.log(`  [${w}] ${a.name} on ${set.name}/${f.message}: ${f.error}`);
        }
      }
    }
  }
  if (!anyFailure) console.log('  none');

  console.log('\nProxy-path values that differ from hookflash (branch, call-id, cseq, to-tag; also max-forwards, route-count):');
  if (mismatches.length === 0) console.log('  none');
  for (const m of mismatches) {
    console.log(`  ${m.parser} on ${m.set}/${m.message}: ${m.field} hookflash=${m.hookflash} ${m.parser}=${m.peer}`);
  }

  const plans: Array<{ set: MessageSet; workload: Workload; plan: RowPlan[] }> = [];
  for (const w of Object.keys(WORKLOADS) as Workload[]) {
    for (const set of sets) plans.push({ set, workload: w, plan: planSet(set, w) });
  }
  const all = [...jobs.values()];
  for (let round = 0; round < ROUNDS; round++) {
    const t = performance.now();
    for (const j of all) await measureOnce(j, round === 0);
    console.error(`round ${round + 1}/${ROUNDS}: ${all.length} timings in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  const results: SetResult[] = [];
  for (const w of Object.keys(WORKLOADS) as Workload[]) {
    console.log(`\n=== ${WORKLOADS[w].title} ===`);
    for (const { set, workload, plan } of plans) {
      if (workload !== w) continue;
      const r = resultOf(set, w, plan);
      results.push(r);
      console.log(`\n${set.name} (${set.messages.length} message${set.messages.length === 1 ? '' : 's'})`);
      console.log(
        table(
          ['parser', 'messages/s', 'hookflash x', 'failures', 'round spread'],
          r.rows.map((row) => [
            row.parser,
            fmtRate(row.msgsPerSec),
            fmtRatio(row.hookflashRatio),
            `${row.failures}/${row.messages}`,
            row.spread === null ? '-' : `${Math.round(row.spread * 100)}%`,
          ]),
          [false, true, true, true, true],
        ),
      );
    }
  }

  console.log('\n=== hookflash vs the fastest peer (hookflash messages/s / peer messages/s, same messages) ===');
  const summary = {} as Record<Workload, WorkloadSummary>;
  for (const w of Object.keys(WORKLOADS) as Workload[]) {
    const mine = results.filter((r) => r.workload === w);
    summary[w] = summarize(w, mine, (r) => r.ratioToFastestPeer, (r) => r.fastestPeer);
    console.log(`\n${w === 'proxy' ? 'proxy path' : 'everything'}, ${WORKLOADS[w].baseline.name}:`);
    printSummary(summary[w]);
  }
  // The proxy path with hookflash validating everything at parse time, for information (the goal
  // is judged on lazy mode, the proxy's mode). Its ratio to a peer = (lazy / peer) / (lazy / full).
  const proxyResults = results.filter((r) => r.workload === 'proxy');
  const fullProxy = summarize(
    'proxy',
    proxyResults,
    (r) => {
      const full = r.rows.find((x) => x.parser === hookflashFull.name)!;
      return r.ratioToFastestPeer === null || full.hookflashRatio === null ? null : r.ratioToFastestPeer / full.hookflashRatio;
    },
    (r) => r.fastestPeer,
  );
  console.log(`\nproxy path, ${hookflashFull.name} (for information; the goal is judged on lazy mode):`);
  printSummary(fullProxy);

  const seconds = (performance.now() - started) / 1000;
  console.log(`\n(${seconds.toFixed(1)} s; load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);

  if (opts.json !== undefined) {
    const out = {
      date: new Date().toISOString(),
      quick: opts.quick,
      node: process.version,
      cpu: cpus()[0]?.model ?? null,
      cores: cpus().length,
      loadAverageAtEnd: loadavg(),
      clock: CLOCK,
      rounds: ROUNDS,
      warmupMs: WARMUP_MS,
      rewarmMs: REWARM_MS,
      measureMs: MEASURE_MS,
      versions,
      parsers: Object.fromEntries([hookflashLazy, hookflashFull, ...peers].map((a) => [a.name, a.how])),
      sets: sets.map((s) => ({
        name: s.name,
        description: s.description,
        messages: s.messages.map((m) => ({ name: m.name, file: m.file, bytes: m.bytes.length })),
      })),
      failures: Object.fromEntries([...failures].filter(([, f]) => f.length > 0)),
      mismatches,
      results,
      timings: all.map((j) => ({
        parser: j.adapter.name,
        workload: j.workload,
        messages: j.msgs.map((m) => m.name),
        passesPerSample: j.cfg.reps,
        msgsPerSecByRound: j.rates,
        msgsPerSec: rateOf(j),
        medianMsgsPerSec: medianOf(j),
      })),
      summary,
      fullValidationProxySummary: fullProxy,
      seconds,
    };
    writeFileSync(opts.json, JSON.stringify(out, null, 2) + '\n');
    console.log(`results written to ${opts.json}`);
  }
}

await main();

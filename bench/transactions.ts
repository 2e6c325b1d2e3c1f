/**
 * `npm run bench:transactions`: the transaction layer over UDP loopback, and its memory per live
 * transaction.
 *
 *   node --expose-gc dist/bench/transactions.js [--quick] [--json FILE] [--windows 200,1000]
 *                                              [--duration S] [--count N] [--method OPTIONS|MESSAGE] [--no-sipp]
 *   npm run bench:transactions -- [--quick] [--json FILE]     (the `--` keeps npm off --json)
 *
 * 1. Throughput: hookflash UAC (this process) against a hookflash UAS in a child process
 *    (dist/bench/transactions-uas.js), both the SipTransportLayer + TransactionLayer wired directly,
 *    on 127.0.0.1. The UAC keeps a window of N non-INVITE transactions outstanding (closed loop),
 *    each final response starting the next, for a warm-up and then a measured interval; the rate is
 *    transactions completed (200 received) per second of the measured interval. Also counted:
 *    Timer E retransmissions, Timer F timeouts, those still open when the run stops, CPU time per
 *    transaction on each side (less noisy than the rate on a shared machine), latency.
 * 2. Reference, when `sipp` is installed: SIPp UAC -> SIPp UAS (bench/transactions/sipp-*.xml), SIPp
 *    UAC -> hookflash UAS and hookflash UAC -> SIPp UAS, same window (SIPp's `-l`, with `-r` as a cap
 *    far above the rate reached), reported as ratios to SIPp -> SIPp.
 * 3. Memory per live transaction with COUNT (100k) of them in one layer (see transactions/memory.ts):
 *    non-INVITE server transactions unanswered and in Completed, INVITE client transactions in
 *    Calling; node timers held by the layer (one at most); memory back after close().
 *
 * Everything is bounded: fixed durations, each child killed at the end (and a child whose parent
 * dies exits by itself), a watchdog on the whole run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureMemory, MEMORY_KINDS, type MemoryKind, type MemoryResult } from './transactions/memory.js';
import { freeUdpPort, killAll, runSippUac, sippVersion, startSippUas, udpDropsSince, udpKernelCounters, UasChild, type SippUacResult } from './transactions/peers.js';
import type { UasStats } from './transactions/stack.js';
import { runHookflashUac, type HookflashUacResult } from './transactions/throughput.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The compiled child script, next to this one. */
const UAS_SCRIPT = join(HERE, 'transactions-uas.js');
/** The scenarios stay in the source tree (tsc does not copy them); dist/bench/.. -> bench/transactions. */
const SCENARIOS = join(HERE, '..', '..', 'bench', 'transactions');
/** SIPp's `-r` cap: far above any rate reached here, so `-l` (the window) is what limits it. */
const SIPP_RATE_CAP = 100_000;
/** The whole run stops here whatever happens. */
const WATCHDOG_MS = 170_000;

// ---------- options ----------

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    windows: { type: 'string' },
    duration: { type: 'string' },
    count: { type: 'string' },
    method: { type: 'string', default: 'OPTIONS' },
    'no-sipp': { type: 'boolean', default: false },
  },
});
const quick = args.quick === true;
const windows = (args.windows ?? '200,1000').split(',').map((w) => Number(w.trim()));
if (windows.some((w) => !(Number.isInteger(w) && w > 0 && w <= 10_000))) throw new Error('--windows: integers 1..10000');
const durationS = Number(args.duration ?? (quick ? 3 : 10));
if (!(durationS > 0 && durationS <= 30)) throw new Error('--duration: 1..30 seconds');
const count = Number(args.count ?? 100_000);
if (!(Number.isInteger(count) && count > 0 && count <= 1_000_000)) throw new Error('--count: 1..1000000');
const method = args.method === 'MESSAGE' ? 'MESSAGE' : 'OPTIONS';
const warmupMs = quick ? 500 : 1000;
/** SIPp's statistics come per second: its runs use a 1 s warm-up and whole seconds. */
const sippSeconds = Math.max(2, Math.round(quick ? durationS : durationS * 0.4));
const drainMs = 1500;

// ---------- load average while running ----------

const loadSamples: number[] = [];
const loadAtStart = loadavg();
const sampler = setInterval(() => loadSamples.push(loadavg()[0]!), 1000);
sampler.unref();

const watchdog = setTimeout(() => {
  process.stderr.write(`bench:transactions: watchdog: still running after ${WATCHDOG_MS / 1000} s, stopping\n`);
  killAll();
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

// ---------- runs ----------

interface ThroughputRow {
  /** hookflash->hookflash, sipp->sipp, hookflash->sipp, sipp->hookflash (UAC->UAS). */
  pair: string;
  window: number;
  rate: number;
  measuredS: number;
  completed: number;
  non200: number | null;
  failed: number | null;
  timeouts: number | null;
  unfinished: number;
  /** UAC request retransmissions over the run. */
  retransmissions: number;
  uacCpuUsPerTx: number | null;
  uasCpuUsPerTx: number | null;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  /** Request copies that reached the hookflash UAS beyond the first (absorbed or answered from Completed). */
  uasRequestRetransmissions: number | null;
  /** Live server transactions in the hookflash UAS at the end (Completed ones wait 64*T1 for Timer J). */
  uasLiveAtEnd: number | null;
  uasHeapMB: number | null;
  /** Datagrams the host dropped for full socket buffers during the run (/proc/net/snmp; host-wide). */
  udpDrops: number | null;
  /** Wall time of the whole run (spawns, warm-up, drain), s. */
  wallS: number;
  uasLog: string[];
  uacLog: string[];
  detail: HookflashUacResult | SippUacResult | null;
}

function uasCpu(s: UasStats): number | null {
  return s.transactions > 0 ? (s.cpuUserUs + s.cpuSystemUs) / s.transactions : null;
}

async function hookflashUac(pair: string, port: number, window: number, durationMs: number, uas: UasChild | undefined): Promise<ThroughputRow> {
  let stats: UasStats | undefined;
  const kernel = udpKernelCounters();
  const t0 = performance.now();
  const r = await runHookflashUac({
    port,
    window,
    warmupMs,
    durationMs,
    drainMs,
    method,
    hooks: uas === undefined ? {} : { measureStart: () => uas.reset(), measureEnd: async () => void (stats = await uas.stats()) },
  });
  return {
    pair,
    window,
    rate: r.rate,
    measuredS: r.measuredMs / 1000,
    completed: r.completed,
    non200: r.non200,
    failed: r.errors,
    timeouts: r.timeouts,
    unfinished: r.unfinished,
    retransmissions: r.retransmissions,
    uacCpuUsPerTx: r.cpuUsPerTx,
    uasCpuUsPerTx: stats === undefined ? null : uasCpu(stats),
    latencyP50Ms: r.latencyP50Ms,
    latencyP99Ms: r.latencyP99Ms,
    uasRequestRetransmissions: stats === undefined ? null : stats.counters.requestsIn - stats.transactions,
    uasLiveAtEnd: stats?.serverCount ?? null,
    uasHeapMB: stats === undefined ? null : stats.heapUsed / 2 ** 20,
    udpDrops: udpDropsSince(kernel),
    wallS: (performance.now() - t0) / 1000,
    uasLog: stats?.firstLogLines ?? [],
    uacLog: r.firstLogLines,
    detail: r,
  };
}

async function hookflashPair(window: number): Promise<ThroughputRow> {
  const uas = await UasChild.start(UAS_SCRIPT);
  try {
    return await hookflashUac('hookflash -> hookflash', uas.port, window, durationS * 1000, uas);
  } finally {
    await uas.stop();
  }
}

function sippRow(pair: string, window: number, r: SippUacResult, stats: UasStats | undefined, udpDrops: number | null, wallS: number): ThroughputRow {
  return {
    pair,
    window,
    rate: r.rate,
    measuredS: r.measuredSeconds,
    completed: r.successful,
    non200: null,
    failed: r.failed,
    timeouts: null,
    unfinished: r.unfinished,
    retransmissions: r.retransmissions,
    uacCpuUsPerTx: null,
    uasCpuUsPerTx: stats === undefined ? null : uasCpu(stats),
    latencyP50Ms: null,
    latencyP99Ms: null,
    uasRequestRetransmissions: stats === undefined ? null : stats.counters.requestsIn - stats.transactions,
    uasLiveAtEnd: stats?.serverCount ?? null,
    uasHeapMB: stats === undefined ? null : stats.heapUsed / 2 ** 20,
    udpDrops,
    wallS,
    uasLog: stats?.firstLogLines ?? [],
    uacLog: [],
    detail: r,
  };
}

async function sippRuns(window: number, dir: string): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  const uacScenario = join(SCENARIOS, 'sipp-uac.xml');
  const uasScenario = join(SCENARIOS, 'sipp-uas.xml');
  const lifetime = 1 + sippSeconds + 15;

  // SIPp -> SIPp: the reference.
  {
    const kernel = udpKernelCounters();
    const t0 = performance.now();
    const port = await freeUdpPort();
    const uas = await startSippUas(uasScenario, port, lifetime, dir);
    try {
      const r = await runSippUac({ scenario: uacScenario, targetPort: port, window, rateCap: SIPP_RATE_CAP, warmupS: 1, seconds: sippSeconds, cwd: dir });
      rows.push(sippRow('sipp -> sipp', window, r, undefined, udpDropsSince(kernel), (performance.now() - t0) / 1000));
    } finally {
      await uas.stop();
    }
  }
  // hookflash UAC -> SIPp UAS.
  {
    const port = await freeUdpPort();
    const uas = await startSippUas(uasScenario, port, lifetime, dir);
    try {
      rows.push(await hookflashUac('hookflash -> sipp', port, window, sippSeconds * 1000, undefined));
    } finally {
      await uas.stop();
    }
  }
  // SIPp UAC -> hookflash UAS.
  {
    const kernel = udpKernelCounters();
    const t0 = performance.now();
    const uas = await UasChild.start(UAS_SCRIPT);
    try {
      const reset = new Promise<void>((resolve, reject) => setTimeout(() => uas.reset().then(resolve, reject), 1000));
      const r = await runSippUac({ scenario: uacScenario, targetPort: uas.port, window, rateCap: SIPP_RATE_CAP, warmupS: 1, seconds: sippSeconds, cwd: dir });
      await reset;
      rows.push(sippRow('sipp -> hookflash', window, r, await uas.stats(), udpDropsSince(kernel), (performance.now() - t0) / 1000));
    } finally {
      await uas.stop();
    }
  }
  return rows;
}

// ---------- output ----------

function fmt(n: number | null, digits = 0): string {
  if (n === null || Number.isNaN(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(headers: string[], rows: string[][], right: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (right[i] ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(headers), sep, ...rows.map(line)].join('\n');
}

function throughputTable(rows: ThroughputRow[]): string {
  return table(
    ['UAC -> UAS', 'window', 'tx/s', 'completed', 'failed', 'unfinished', 'UAC retrans', 'UAS got retrans', 'UAC µs/tx', 'UAS µs/tx', 'p50 ms', 'p99 ms', 'UDP drops (host)', 'UAS live at end', 'run s'],
    rows.map((r) => [
      r.pair,
      String(r.window),
      fmt(r.rate),
      fmt(r.completed),
      fmt((r.failed ?? 0) + (r.timeouts ?? 0) + (r.non200 ?? 0)),
      fmt(r.unfinished),
      fmt(r.retransmissions),
      fmt(r.uasRequestRetransmissions),
      fmt(r.uacCpuUsPerTx, 1),
      fmt(r.uasCpuUsPerTx, 1),
      fmt(r.latencyP50Ms, 1),
      fmt(r.latencyP99Ms, 1),
      fmt(r.udpDrops),
      fmt(r.uasLiveAtEnd),
      fmt(r.wallS, 1),
    ]),
    [false, true, true, true, true, true, true, true, true, true, true, true, true, true, true],
  );
}

function memoryTable(rows: MemoryResult[]): string {
  return table(
    ['live transactions', 'count', 'bytes/tx (heap)', 'bytes/tx (buffers)', 'bytes/tx total', 'request bytes', 'timer heap', 'node timers (max)', 'created/s', 'after close', 'timers after close'],
    rows.map((m) => [
      m.title,
      fmt(m.live),
      fmt(m.heapPerTx),
      fmt(m.arrayBuffersPerTx),
      fmt(m.totalPerTx),
      fmt(m.requestBytes),
      fmt(m.heapTimers),
      `${m.nodeTimers} (${m.maxNodeTimers})`,
      fmt(m.createPerSec),
      `${fmt(m.afterCloseBytes / 2 ** 20, 2)} MB ${m.returned ? 'ok' : 'NOT RETURNED'}`,
      String(m.nodeTimersAfterClose),
    ]),
    [false, true, true, true, true, true, true, true, true, true, true],
  );
}

interface Ratio {
  what: string;
  window: number;
  ratio: number;
}

function ratios(rows: ThroughputRow[]): Ratio[] {
  const out: Ratio[] = [];
  for (const w of windows) {
    const ref = rows.find((r) => r.pair === 'sipp -> sipp' && r.window === w);
    if (ref === undefined || ref.rate === 0) continue;
    for (const pair of ['hookflash -> hookflash', 'hookflash -> sipp', 'sipp -> hookflash']) {
      const r = rows.find((x) => x.pair === pair && x.window === w);
      if (r !== undefined) out.push({ what: `${pair} / sipp -> sipp`, window: w, ratio: r.rate / ref.rate });
    }
  }
  return out;
}

// ---------- main ----------

async function main(): Promise<void> {
  const started = performance.now();
  const sipp = args['no-sipp'] === true ? ({ ok: false, reason: '--no-sipp' } as const) : sippVersion();
  console.log(`bench:transactions  node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`  ${method} over UDP 127.0.0.1, windows ${windows.join(', ')}, ${durationS} s measured after ${warmupMs} ms warm-up; memory at ${fmt(count)}; ${quick ? 'quick' : 'full'} run`);
  console.log(`  SIPp: ${sipp.ok ? `${sipp.version}; its runs ${sippSeconds} s after 1 s` : `skipped (${sipp.reason})`}\n`);

  // Memory first, in a heap the network runs have not touched yet.
  const memory: MemoryResult[] = [];
  for (const kind of Object.keys(MEMORY_KINDS) as MemoryKind[]) {
    const m = await measureMemory(kind, count);
    memory.push(m);
    console.log(`  memory: ${m.title}: ${fmt(m.totalPerTx)} bytes/tx, ${m.nodeTimers} node timer(s)  [${fmt((performance.now() - started) / 1000, 1)} s]`);
  }

  const rows: ThroughputRow[] = [];
  for (const w of windows) {
    const r = await hookflashPair(w);
    rows.push(r);
    console.log(`  ${r.pair}, window ${w}: ${fmt(r.rate)} tx/s  [${fmt((performance.now() - started) / 1000, 1)} s]`);
  }
  let dir: string | undefined;
  if (sipp.ok) {
    dir = mkdtempSync(join(tmpdir(), 'hookflash-bench-tx-'));
    try {
      for (const w of windows) {
        for (const r of await sippRuns(w, dir)) {
          rows.push(r);
          console.log(`  ${r.pair}, window ${w}: ${fmt(r.rate)} tx/s  [${fmt((performance.now() - started) / 1000, 1)} s]`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const load = loadSamples.length > 0 ? loadSamples : [loadavg()[0]!];
  const loadEnd = loadavg();
  const elapsedS = (performance.now() - started) / 1000;
  const rs = ratios(rows);

  console.log(`\nThroughput: non-INVITE (${method}) transactions per second, UDP loopback, closed loop (window = transactions outstanding)\n`);
  console.log(throughputTable(rows));
  console.log(
    '\n  failed = non-200 finals + transport errors + Timer F timeouts (F is 32 s: longer than a run, so losses show as unfinished);' +
      '\n  unfinished = no final response 1.5 s after the run stopped; UAC retrans = Timer E resends; UAS got retrans = request copies beyond the first at the hookflash UAS.' +
      '\n  UDP drops = datagrams the kernel dropped for a full socket buffer during the run (RcvbufErrors + SndbufErrors in /proc/net/snmp, host-wide);' +
      '\n  µs/tx = CPU time (user+system) of that process per completed transaction: steadier than tx/s on a shared machine.',
  );
  if (rs.length > 0) {
    console.log('\nRatios to SIPp -> SIPp (same window, same run)\n');
    console.log(table(['', 'window', 'ratio'], rs.map((r) => [r.what, String(r.window), `${r.ratio.toFixed(2)}x`]), [false, true, true]));
  }
  console.log(`\nMemory per live transaction, ${fmt(count)} in one TransactionLayer (stub transport)\n`);
  console.log(memoryTable(memory));
  console.log('\n  heap = V8 heap; buffers = ArrayBuffers (the received request bytes a lazily parsed message keeps).');
  const logs = rows.flatMap((r) => [...r.uacLog.map((l) => `${r.pair} UAC ${l}`), ...r.uasLog.map((l) => `${r.pair} UAS ${l}`)]);
  if (logs.length > 0) console.log(`\nTransport warnings/errors (first of each run):\n${logs.map((l) => `  ${l}`).join('\n')}`);
  const loadMean = load.reduce((a, b) => a + b, 0) / load.length;
  console.log(
    `\nLoad average (1 min): ${loadAtStart[0]!.toFixed(2)} at start, mean ${loadMean.toFixed(2)} / max ${Math.max(...load).toFixed(2)} during, ${loadEnd[0]!.toFixed(2)} at end; ${cpus().length} CPUs; run took ${elapsedS.toFixed(1)} s`,
  );

  if (args.json !== undefined) {
    writeFileSync(
      args.json,
      JSON.stringify(
        {
          bench: 'transactions',
          date: new Date().toISOString(),
          node: process.version,
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model ?? null,
          quick,
          method,
          durationS,
          warmupMs,
          sippSeconds,
          sipp: sipp.ok ? sipp.version : null,
          sippSkipped: sipp.ok ? null : sipp.reason,
          load: { start: loadAtStart, samples: load, end: loadEnd },
          elapsedS,
          throughput: rows,
          ratios: rs,
          memory,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`JSON written to ${args.json}`);
  }
}

main().then(
  () => {
    clearTimeout(watchdog);
    killAll();
  },
  (e: unknown) => {
    process.stderr.write(`bench:transactions failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    killAll();
    process.exit(1);
  },
);

/**
 * bench:registrations: how many REGISTERs per second a running `hookflash serve` answers 200 with
 * no failure, and how much memory a binding costs at 100k bindings.
 *
 * Rate: over UDP against the real server (a child process, SQLite store in a fresh data
 * directory), driven by SIPp (bench/scenarios/register-many.xml: each SIPp call one REGISTER of a
 * user of its own, sip:PREFIX<call_number>@DOMAIN, expires 3600), because that is the path a phone
 * takes: parsing, the transaction layer, the registrar's checks and the SQLite commit per REGISTER.
 * A step passes when every REGISTER got its 200 in time: no failure, no more than 0.1 % retransmitted,
 * and the run no more than 10 % longer than offered. The search uses 5 s steps; the rate it finds is
 * then held for 45 s (longer than Timer J, 32 s, so the live transactions reach their steady
 * state), stepping down ×0.85 until that passes: the sustained rate.
 *
 * Memory, in the serve process: 1,000 warm-up bindings, then 100k more at 90 % of the sustained rate.
 * V8's heap used (from its /metrics) after a full GC forced from outside (a heap snapshot on
 * SIGUSR2), once before and once after the fill, each 34 s after the last REGISTER so that Timer J
 * has ended every transaction; also right after the fill, which gives what a live transaction
 * costs. The bindings.db file size beside them. The serve process's RSS is reported, not divided
 * per binding: V8 keeps the high-water mark of the transactions' heap. Hence also, in this process
 * (run with --expose-gc), the Registrar over a SqliteBindingStore fed REGISTERs built in memory:
 * heap after a full GC and RSS (SQLite's page cache) before and after 100k bindings, and its rate
 * with no network in the way.
 *
 *   npm run bench:registrations [-- --quick] [--bindings N] [--start N] [--step-seconds N] [--skip-udp] [--guard-totals-off] [--log-level L] [--out FILE]
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from './fixtures.js';
import { freePort, killAll, rssBytes, sleep } from './proxy/children.js';
import { heapFromMetrics, snapshotCli, startHookflash, type ProxyProcess } from './proxy/proxies.js';
import { measureRegistrarMemory, type RegistrarMemoryResult } from './proxy/registrar-memory.js';
import { searchMaxRate, type StepOutcome } from './proxy/search.js';
import { sippVersion, startSipp } from './proxy/sipp.js';

const SCENARIO = join(PROJECT_ROOT, 'bench/scenarios/register-many.xml');
const DOMAIN = 'bench.hookflash.test';
const RECV_TIMEOUT_MS = 10_000;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    bindings: { type: 'string' },
    start: { type: 'string' },
    'step-seconds': { type: 'string' },
    out: { type: 'string' },
    'log-level': { type: 'string' },
    'skip-udp': { type: 'boolean', default: false },
    'guard-totals-off': { type: 'boolean', default: false },
  },
});
const skipUdp = values['skip-udp'] === true;
const quick = values.quick === true;
/** hookflash serve's --log-level: info by default, what `npm start` runs (the registrar logs each REGISTER at info). */
const logLevel = (values['log-level'] ?? 'info') as 'debug' | 'info' | 'warn' | 'error';
const target = Number(values.bindings ?? (quick ? 5000 : 100_000));
const start = Number(values.start ?? (quick ? 200 : 500));
const stepSeconds = Number(values['step-seconds'] ?? (quick ? 1 : 5));

const stamp = new Date().toISOString().replace(/[:.]/g, '').slice(0, 15);
const runDir = join(PROJECT_ROOT, 'test-artifacts', 'bench', `registrations-${stamp}`);
mkdirSync(runDir, { recursive: true });
const outFile = values.out ?? join(runDir, 'result.json');
/** hookflash serve's CLI, from a copy of dist/src taken now (see snapshotCli). */
const CLI = snapshotCli(PROJECT_ROOT, runDir);
/**
 * serve's request guard refuses requests past 50,000 live server transactions in all by default; a
 * REGISTER's lives 32 s after its 200 over UDP (Timer J), which caps the rate near 1,560/s.
 * --guard-totals-off turns that limit off (config limits.transactions 0) to measure the server.
 */
const guardTotalsOff = values['guard-totals-off'] === true;
const SERVE_CONFIG = join(runDir, 'serve.json');
if (guardTotalsOff) writeFileSync(SERVE_CONFIG, JSON.stringify({ limits: { transactions: 0, dialogs: 0 } }) + '\n');

interface RegStep extends StepOutcome {
  successful: number;
  failed: number;
  retransmissions: number;
  /** SIPp's elapsed time for the step, s. */
  elapsedS: number;
  exitCode: number | null;
  /** Offered count / SIPp's elapsed time, per second. */
  achievedRate: number;
  errors: string[];
}

let prefixNo = 0;

/** `count` REGISTERs of new users at `rate` per second through SIPp. */
async function register(proxy: ProxyProcess, rate: number, count: number, name: string): Promise<RegStep> {
  const port = await freePort();
  const prefix = `r${++prefixNo}u`;
  const bound = Math.ceil(count / rate + 2 * RECV_TIMEOUT_MS / 1000 + 10);
  const run = startSipp(name, ['-sf', SCENARIO, `127.0.0.1:${proxy.port}`, '-i', '127.0.0.1', '-p', String(port),
    '-key', 'prefix', prefix, '-key', 'domain', DOMAIN, '-key', 'expires', '3600',
    '-m', String(count), '-r', String(rate), '-rp', '1000', '-l', String(Math.max(200, rate * 3)), '-buff_size', '4194304',
    '-recv_timeout', String(RECV_TIMEOUT_MS), '-timeout', String(bound), '-timeout_error'], runDir, bound + 10);
  const r = await run.done;
  const s = r.stats;
  const successful = s?.successful ?? 0;
  const failed = s?.failed ?? NaN;
  // Sustained, not merely eventually answered: past its limit the server answers late, SIPp
  // retransmits (T1 = 500 ms) and most REGISTERs still end in 200, at a lower rate than offered.
  // So a step passes only with every REGISTER answered 200, almost no retransmission (≤ 0.1 %), and
  // the run not longer than the offered time by more than 10 % (+ 1 s for the last answers).
  const retransmissions = s?.retransmissions ?? NaN;
  const sustained = s !== undefined && s.elapsedS <= (count / rate) * 1.1 + 1 && retransmissions <= count * 0.001;
  return {
    rate,
    calls: count,
    pass: r.exitCode === 0 && failed === 0 && successful === count && sustained,
    successful,
    failed,
    retransmissions,
    elapsedS: s?.elapsedS ?? NaN,
    exitCode: r.exitCode,
    achievedRate: s !== undefined && s.elapsedS > 0 ? Math.round((successful + failed) / s.elapsedS) : NaN,
    errors: r.errors,
  };
}

async function startServe(data: string): Promise<ProxyProcess> {
  return startHookflash({ cli: CLI, port: await freePort(), data, domains: [DOMAIN], logLevel, nodeFlags: ['--heapsnapshot-signal=SIGUSR2'],
    ...(guardTotalsOff ? { config: SERVE_CONFIG } : {}) });
}

interface MemorySample {
  rss?: number;
  heapUsed?: number;
  registrations?: number;
  transactions?: number;
  /** heapUsed is after a full GC. */
  gc: boolean;
}

/**
 * The serve process's memory, `waitMs` after the last REGISTER, with its garbage collected. An
 * idle process does not collect by itself, so a full GC is forced from outside: serve runs with
 * --heapsnapshot-signal=SIGUSR2, and V8 collects garbage before it writes a heap snapshot (the file
 * is deleted once written). RSS is read before that (the snapshot allocates buffers of its own).
 */
async function memory(proxy: ProxyProcess, data: string, waitMs: number): Promise<MemorySample> {
  await sleep(waitMs);
  const rss = rssBytes(proxy.child.pid);
  const live = await heapFromMetrics(proxy.http);
  const gc = await forceGc(proxy, data);
  const m = await heapFromMetrics(proxy.http);
  const out: MemorySample = { gc };
  if (rss !== undefined) out.rss = rss;
  if (m.heapUsed !== undefined) out.heapUsed = m.heapUsed;
  if (m.registrations !== undefined) out.registrations = m.registrations;
  if (live.transactions !== undefined) out.transactions = live.transactions;
  return out;
}

/** SIGUSR2 → a heap snapshot (after a full GC) in `dir`; waits until the file stops growing, then removes it. */
async function forceGc(proxy: ProxyProcess, dir: string): Promise<boolean> {
  const pid = proxy.child.pid;
  if (pid === undefined) return false;
  const snapshots = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
  const before = new Set(snapshots());
  process.kill(pid, 'SIGUSR2');
  const end = Date.now() + 180_000;
  let size = -1;
  while (Date.now() < end) {
    await sleep(1000);
    const file = snapshots().find((f) => !before.has(f));
    if (file === undefined) continue;
    const now = statSync(join(dir, file)).size;
    if (now > 0 && now === size) {
      rmSync(join(dir, file), { force: true });
      await sleep(500);
      return true;
    }
    size = now;
  }
  return false;
}

const mb = (n: number | undefined): string => (n === undefined ? '?' : `${(n / 1048576).toFixed(1)} MB`);

async function main(): Promise<void> {
  const sipp = sippVersion();
  if (sipp === undefined) throw new Error('sipp is not installed (apt-get install sip-tester)');
  console.log(`bench:registrations${quick ? ' --quick' : ''}: hookflash serve over UDP (SQLite store), ${sipp}, node ${process.version}, `
    + `${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`  traces: ${runDir}${guardTotalsOff ? '; serve with the request guard\'s total limits off' : '; serve with its default configuration'}`);

  const udp = skipUdp ? undefined : await overUdp();
  const inProcess = await inProcessMemory();

  const json = {
    bench: 'registrations',
    date: new Date().toISOString(),
    quick,
    guardTotalsOff,
    how: {
      udp: 'SIPp REGISTER (one new user per REGISTER) → hookflash serve child process, SQLite binding store; memory of that process (RSS /proc, V8 heap used from /metrics after a full GC forced by a heap snapshot on SIGUSR2, 34 s after the last REGISTER so Timer J has ended every transaction)',
      inProcess: 'Registrar + SqliteBindingStore in this process, REGISTERs built in memory; heap after forced GC (--expose-gc), RSS',
    },
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavgAtEnd: loadavg(), node: process.version },
    peers: { sipp },
    ...udp,
    inProcess,
  };
  writeFileSync(outFile, JSON.stringify(json, null, 2) + '\n');
  console.log(`\nJSON: ${outFile}`);
}

async function inProcessMemory(): Promise<RegistrarMemoryResult> {
  const dir = join(runDir, 'in-process-data');
  mkdirSync(dir, { recursive: true });
  const r = await measureRegistrarMemory({ dir, domain: DOMAIN, count: target });
  console.log(`  in process (Registrar + SqliteBindingStore, no network): ${r.registersPerSecond} REGISTER/s; at ${r.bindings} bindings `
    + `(store counts ${r.storeCount}, ${r.non200} not 200): V8 heap after GC ${mb(r.heapBefore)} → ${mb(r.heapAfter)} `
    + `(${String(r.heapBytesPerBinding)} B/binding${r.heapBefore === undefined ? ', run with --expose-gc' : ''}), `
    + `RSS ${mb(r.rssBefore)} → ${mb(r.rssAfter)} (${r.rssBytesPerBinding} B/binding)`);
  return r;
}

async function overUdp(): Promise<{ rate: unknown; memory: unknown }> {
  // 1. Rate: REGISTERs of new users per second with no failure.
  let n = 0;
  const rateData = join(runDir, 'rate-data');
  let proxy = await startServe(rateData);
  let search;
  try {
    search = await searchMaxRate<RegStep>({
      start,
      factor: 1.25,
      maxRate: 20_000,
      bisectSteps: quick ? 0 : 3,
      precision: 0.03,
      maxSteps: quick ? 2 : 22,
      step: async (rate) => {
        const count = Math.max(200, Math.min(Math.round(rate * stepSeconds), 50_000));
        const s = await register(proxy, rate, count, `rate-${String(++n).padStart(2, '0')}-${rate}`);
        const why = s.errors.slice(0, 3).join('\n           ') || (s.exitCode === 0 ? 'not sustained: answered late (retransmissions) or slower than offered' : `sipp exit ${String(s.exitCode)}`);
        console.log(`  ${String(rate).padStart(5)} REGISTER/s × ${count}: ${s.pass ? 'PASS' : 'FAIL'} (200 ${s.successful}, failed ${s.failed}, `
          + `retrans ${s.retransmissions}, ${s.elapsedS} s for ${(count / rate).toFixed(1)} s offered)${s.pass ? '' : `\n      why: ${why}`}`);
        return s;
      },
      afterFailure: async () => {
        await proxy.stop();
        proxy = await startServe(rateData);
      },
    });
  } finally {
    await proxy.stop();
  }
  console.log(`  highest rate with no failure in ${stepSeconds} s steps: ${search.maxRate} REGISTER/s${search.firstFailure !== undefined ? ` (failed at ${search.firstFailure})` : ''}`);

  // 1b. Sustained: a REGISTER's server transaction lives 32 s after its 200 (Timer J), so a 5 s step
  // never sees the steady-state population of live transactions (rate × 32 s), which costs memory
  // and, with serve's default request guard, meets its limit on live transactions in all. Hold a
  // rate for 45 s; step down ×0.85 until one passes (at most 5 tries).
  let sustained = 0;
  const sustainSteps: RegStep[] = [];
  if (!quick && search.maxRate > 0) {
    proxy = await startServe(join(runDir, 'sustain-data'));
    try {
      for (let rate = search.maxRate, i = 0; i < 5 && sustained === 0; i++, rate = Math.round(rate * 0.85)) {
        const s = await register(proxy, rate, rate * 45, `sustain-${i}-${rate}`);
        sustainSteps.push(s);
        console.log(`  ${String(rate).padStart(5)} REGISTER/s for 45 s: ${s.pass ? 'PASS' : 'FAIL'} (200 ${s.successful}, failed ${s.failed}, retrans ${s.retransmissions}, ${s.elapsedS} s)`);
        if (s.pass) sustained = rate;
        else {
          await proxy.stop();
          proxy = await startServe(join(runDir, `sustain-data-${i}`));
        }
      }
    } finally {
      await proxy.stop();
    }
    console.log(`  sustained for 45 s with no failure: ${sustained > 0 ? `${sustained} REGISTER/s` : 'none of the rates tried'}`);
  }

  // 2. Memory at `target` bindings: a fresh server and data directory, filled in chunks at a safe rate.
  const memData = join(runDir, 'memory-data');
  proxy = await startServe(memData);
  let mem;
  try {
    const fillRate = Math.max(100, Math.round((sustained || search.maxRate || 500) * (sustained > 0 ? 0.9 : 0.7)));
    const warm = await register(proxy, Math.min(fillRate, 1000), 1000, 'warmup');
    if (!warm.pass) throw new Error(`warm-up REGISTERs failed: ${warm.errors.join('; ')}`);
    // A non-INVITE server transaction over UDP stays Completed for Timer J (64*T1 = 32 s, RFC 3261
    // §17.2.2): the samples "before" and "after" are taken once those of the REGISTERs are gone.
    const settled = quick ? 2000 : 34_000;
    const before = await memory(proxy, memData, settled);
    let bound = 0;
    let failed = 0;
    const chunk = 20_000;
    const t0 = performance.now();
    for (let i = 0; bound < target && i < Math.ceil(target / chunk) + 3; i++) {
      const s = await register(proxy, fillRate, Math.min(chunk, target - bound), `fill-${i}`);
      bound += s.successful;
      failed += Number.isFinite(s.failed) ? s.failed : 0;
      process.stdout.write(`  filling: ${bound} bindings (+1,000 warm-up), ${failed} failed REGISTERs\n`);
    }
    const fillS = (performance.now() - t0) / 1000;
    // Right after the fill, with the last 32 s of REGISTER transactions still live: what they cost.
    const t1 = performance.now();
    const peak = await memory(proxy, memData, 0);
    const after = await memory(proxy, memData, Math.max(0, settled - (performance.now() - t1)));
    const dbFiles = ['bindings.db', 'bindings.db-wal'].map((f) => join(memData, f)).filter((f) => existsSync(f));
    const dbBytes = dbFiles.reduce((sum, f) => sum + statSync(f).size, 0);
    const per = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b !== undefined && bound > 0 ? Math.round((b - a) / bound) : undefined);
    mem = {
      bindings: bound + 1000,
      measuredBindings: bound,
      failedRegisters: failed,
      fillRate,
      fillSeconds: Math.round(fillS),
      registrationsMetric: after.registrations,
      rssBefore: before.rss,
      /** RSS right after the fill (before any heap snapshot): V8 keeps this high-water mark afterwards. */
      rssAtFillEnd: peak.rss,
      /** Polluted by the heap snapshot taken for the forced GC at the fill's end; not a per-binding figure. */
      rssAfterSnapshots: after.rss,
      heapUsedBefore: before.heapUsed,
      heapUsedAfter: after.heapUsed,
      heapAfterFullGc: before.gc && after.gc,
      heapBytesPerBinding: per(before.heapUsed, after.heapUsed),
      atFillEnd: peak,
      heapBytesPerLiveTransaction: peak.heapUsed !== undefined && after.heapUsed !== undefined && peak.transactions
        ? Math.round((peak.heapUsed - after.heapUsed) / peak.transactions) : undefined,
      dbBytes,
      dbBytesPerBinding: bound > 0 ? Math.round(dbBytes / (bound + 1000)) : undefined,
    };
    console.log(`  memory at ${mem.bindings} bindings (hookflash_registrations ${String(after.registrations)}): `
      + `V8 heap used ${mb(before.heapUsed)} → ${mb(after.heapUsed)} (${String(mem.heapBytesPerBinding)} B/binding${after.gc ? ', after a full GC' : ', NOT after a GC'}), `
      + `bindings.db ${mb(dbBytes)} (${String(mem.dbBytesPerBinding)} B/binding)`);
    console.log(`  right after the fill: ${String(peak.transactions)} live transactions (Completed, waiting for Timer J), V8 heap after GC ${mb(peak.heapUsed)} `
      + `(${String(mem.heapBytesPerLiveTransaction)} B per live transaction); serve's RSS ${mb(before.rss)} before the fill, ${mb(peak.rss)} after it: `
      + 'the transactions\' high-water mark, which V8 keeps; RSS per binding is measured in process below');
  } finally {
    await proxy.stop();
  }
  return { rate: { maxRate: search.maxRate, firstFailure: search.firstFailure, steps: search.steps, sustained45s: sustained, sustainSteps }, memory: mem };
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (e: unknown) => {
    killAll();
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);

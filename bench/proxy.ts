/**
 * bench:proxy: the highest call rate with no failed call through `hookflash serve` and through
 * Kamailio (bench/kamailio/proxy.cfg, a minimal stateful record-routing proxy), in one run on this
 * machine, and their ratio.
 *
 * For each proxy (a child process on a UDP port of 127.0.0.1): SIPp UAC → proxy → SIPp UAS, calls
 * INVITE/100/180/200/ACK/pause/BYE/200 (bench/scenarios/call-*.xml), the UAC sending every message
 * to the proxy (-rsa) with the Request-URI naming the UAS's host:port, so no registration is
 * needed. Variants: hookflash with its default configuration; hookflash-unlimited, with the request
 * guard's total limits off (Kamailio's config has none); hookflash-registered (totals off too),
 * calling sip:bob@DOMAIN with the UAS registered at hookflash as bob (the location service on the
 * call path). The search (bench/proxy/search.ts) starts at --start calls/s, goes
 * up ×1.25 until a step fails, then bisects; each step offers rate × --step-seconds calls (capped).
 * A failed step restarts the proxy. Everything stays on 127.0.0.1 and every child is killed on
 * exit, SIGINT or an error.
 *
 *   npm run bench:proxy [-- --quick] [-- --only kamailio|hookflash|hookflash-unlimited|hookflash-registered] [--call-ms N]
 *                       [--start N] [--step-seconds N] [--max-calls N] [--log-level L] [--out FILE]
 *
 * Prints the steps and a summary; writes JSON (default test-artifacts/bench/proxy-TIME/result.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from './fixtures.js';
import { runCallStep, type CallStep } from './proxy/call-step.js';
import { freePort, killAll } from './proxy/children.js';
import { kamailioVersion, snapshotCli, startHookflash, startKamailio, type ProxyProcess } from './proxy/proxies.js';
import { searchMaxRate, type SearchResult } from './proxy/search.js';
import { sippVersion, startSipp } from './proxy/sipp.js';

const SCENARIOS = join(PROJECT_ROOT, 'bench/scenarios');
const KAMAILIO_CFG = join(PROJECT_ROOT, 'bench/kamailio/proxy.cfg');
const DOMAIN = 'bench.hookflash.test';

type Variant = 'kamailio' | 'hookflash' | 'hookflash-unlimited' | 'hookflash-registered';
const VARIANTS: Variant[] = ['kamailio', 'hookflash', 'hookflash-unlimited', 'hookflash-registered'];

interface VariantResult {
  variant: Variant;
  description: string;
  maxRate: number;
  firstFailure: number | undefined;
  steps: CallStep[];
  error?: string;
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    'call-ms': { type: 'string' },
    start: { type: 'string' },
    'step-seconds': { type: 'string' },
    'max-calls': { type: 'string' },
    'max-rate': { type: 'string' },
    out: { type: 'string' },
    'log-level': { type: 'string' },
  },
});
const quick = values.quick === true;
/** hookflash serve's --log-level: info by default, what `npm start` runs (the registrar logs each REGISTER at info). */
const logLevel = (values['log-level'] ?? 'info') as 'debug' | 'info' | 'warn' | 'error';
const callMs = Number(values['call-ms'] ?? (quick ? 200 : 500));
const start = Number(values.start ?? 200);
const stepSeconds = Number(values['step-seconds'] ?? (quick ? 1 : 5));
const maxCalls = Number(values['max-calls'] ?? (quick ? 500 : 20_000));
const maxRate = Number(values['max-rate'] ?? 8000);
const variants: Variant[] = (values.only as Variant[] | undefined) ?? VARIANTS;
for (const v of variants) {
  if (!VARIANTS.includes(v)) throw new Error(`--only: unknown variant ${v} (${VARIANTS.join(', ')})`);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '').slice(0, 15);
const runDir = join(PROJECT_ROOT, 'test-artifacts', 'bench', `proxy-${stamp}`);
mkdirSync(runDir, { recursive: true });
const outFile = values.out ?? join(runDir, 'result.json');
/** hookflash serve's CLI, from a copy of dist/src taken now (see snapshotCli). */
const CLI = snapshotCli(PROJECT_ROOT, runDir);
/**
 * serve's request guard refuses requests past 50,000 live server transactions in all by default.
 * Over UDP an INVITE server transaction lives 32 s after its 2xx (Timer L, RFC 6026) and a BYE's
 * 32 s after its 200 (Timer J), so that limit caps the call rate near 50,000 / 64 s ≈ 780 calls/s.
 * The -unlimited variant turns the totals off, to measure the proxy rather than the policy.
 */
const UNLIMITED = join(runDir, 'serve-unlimited.json');
writeFileSync(UNLIMITED, JSON.stringify({ limits: { transactions: 0, dialogs: 0 } }) + '\n');

function describe(v: Variant): string {
  switch (v) {
    case 'kamailio': return 'SIPp UAC → Kamailio (tm, rr; 4 UDP workers) → SIPp UAS, Request-URI sip:service@UAS';
    case 'hookflash': return 'SIPp UAC → hookflash serve (default configuration) → SIPp UAS, Request-URI sip:service@UAS (not its own: proxied with Record-Route)';
    case 'hookflash-unlimited': return 'as hookflash, with the request guard\'s total limits off (config limits.transactions 0, limits.dialogs 0), as Kamailio\'s config has none';
    case 'hookflash-registered': return `SIPp UAC → hookflash serve (guard totals off) → SIPp UAS registered as bob, Request-URI sip:bob@${DOMAIN} (location lookup)`;
  }
}

async function startProxy(v: Variant, n: number): Promise<ProxyProcess> {
  const port = await freePort();
  if (v === 'kamailio') return startKamailio({ config: KAMAILIO_CFG, port, dir: runDir });
  const config = v === 'hookflash-unlimited' || v === 'hookflash-registered' ? UNLIMITED : undefined;
  return startHookflash({ cli: CLI, port, data: join(runDir, `${v}-data-${n}`), domains: [DOMAIN], logLevel, ...(config === undefined ? {} : { config }) });
}

/** Registers the UAS's address as bob at the proxy with SIPp (bench/scenarios/register.xml) from the UAS's own port. */
async function registerBob(proxy: ProxyProcess, uasPort: number, dir: string): Promise<void> {
  const run = startSipp('register-bob', ['-sf', join(SCENARIOS, 'register.xml'), `127.0.0.1:${proxy.port}`,
    '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1', '-key', 'user', 'bob', '-key', 'domain', DOMAIN, '-key', 'expires', '3600',
    '-timeout', '10', '-timeout_error'], dir, 15);
  const r = await run.done;
  if (r.exitCode !== 0) throw new Error(`REGISTER of bob failed (sipp exit ${String(r.exitCode)}): ${r.errors.join('; ')}`);
}

/** Stops it and keeps the tail of its output (logs) with the run's traces. */
async function stopProxy(v: Variant, proxy: ProxyProcess, n: number): Promise<void> {
  await proxy.stop();
  writeFileSync(join(runDir, `${v}-${n}.log`), proxy.child.output);
}

function fmtStep(v: Variant, s: CallStep): string {
  const cpu = s.proxyCpuUsPerCall === undefined ? '' : `, proxy CPU ${s.proxyCpuUsPerCall} µs/call`;
  const why = s.pass ? '' : `\n      why: ${s.errors.slice(0, 3).join('\n           ') || 'unknown'}`;
  return `  ${v.padEnd(21)} ${String(s.rate).padStart(5)} calls/s × ${s.calls}: ${s.pass ? 'PASS' : 'FAIL'} `
    + `(ok ${s.successful}, failed ${s.failed}, retrans ${s.retransmissions}, uas failed ${String(s.uasFailed)}${cpu}, ${s.seconds} s)${why}`;
}

async function runVariant(v: Variant): Promise<VariantResult> {
  let n = 0;
  let proxy = await startProxy(v, n);
  let stepNo = 0;
  try {
    const result: SearchResult<CallStep> = await searchMaxRate<CallStep>({
      start,
      factor: 1.25,
      maxRate,
      bisectSteps: quick ? 0 : 3,
      precision: 0.03,
      maxSteps: quick ? 2 : 22,
      step: async (rate) => {
        const calls = Math.max(Math.min(Math.round(rate * stepSeconds), maxCalls), Math.min(200, maxCalls));
        const dir = join(runDir, v, `step${String(++stepNo).padStart(2, '0')}-${rate}`);
        const s = await runCallStep({
          scenarios: SCENARIOS,
          proxy,
          rate,
          calls,
          callMs,
          dir,
          target: v === 'hookflash-registered' ? () => `sip:bob@${DOMAIN}` : (uasPort) => `sip:service@127.0.0.1:${uasPort}`,
          ...(v === 'hookflash-registered' ? { beforeUas: (uasPort: number, d: string) => registerBob(proxy, uasPort, d) } : {}),
        });
        console.log(fmtStep(v, s));
        return s;
      },
      afterFailure: async () => {
        // Start clean: no retransmissions or half-done transactions left from the failed step.
        await stopProxy(v, proxy, n);
        proxy = await startProxy(v, ++n);
      },
    });
    return { variant: v, description: describe(v), ...result };
  } finally {
    await stopProxy(v, proxy, n);
  }
}

async function main(): Promise<void> {
  const sipp = sippVersion();
  if (sipp === undefined) throw new Error('sipp is not installed (apt-get install sip-tester)');
  const kamailio = kamailioVersion();
  console.log(`bench:proxy${quick ? ' --quick' : ''}: ${sipp}, ${kamailio ?? 'kamailio not installed'}, node ${process.version}, `
    + `${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`  calls INVITE/100/180/200/ACK/${callMs} ms/BYE/200; steps of rate × ${stepSeconds} s calls (≤ ${maxCalls}), from ${start} calls/s ×1.25, then bisection`);
  console.log(`  traces: ${runDir}`);
  const results: VariantResult[] = [];
  for (const v of variants) {
    if (v === 'kamailio' && kamailio === undefined) {
      results.push({ variant: v, description: describe(v), maxRate: 0, firstFailure: undefined, steps: [], error: 'kamailio is not installed (apt-get install kamailio)' });
      console.log('  kamailio: not installed, skipped');
      continue;
    }
    try {
      results.push(await runVariant(v));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      console.log(`  ${v}: ERROR ${message.slice(0, 2000)}`);
      results.push({ variant: v, description: describe(v), maxRate: 0, firstFailure: undefined, steps: [], error: message });
    }
  }

  const rateOf = (v: Variant): number | undefined => results.find((r) => r.variant === v && r.error === undefined)?.maxRate;
  const kam = rateOf('kamailio');
  const hf = rateOf('hookflash');
  const hfReg = rateOf('hookflash-registered');
  const ratio = kam !== undefined && kam > 0 && hf !== undefined ? hf / kam : undefined;
  const ratioReg = kam !== undefined && kam > 0 && hfReg !== undefined ? hfReg / kam : undefined;
  const hfUnl = rateOf('hookflash-unlimited');
  const ratioUnl = kam !== undefined && kam > 0 && hfUnl !== undefined ? hfUnl / kam : undefined;
  console.log('\nHighest call rate with no failed call:');
  for (const r of results) {
    const cpu = r.steps.filter((s) => s.pass && s.rate === r.maxRate)[0]?.proxyCpuUsPerCall;
    console.log(`  ${r.variant.padEnd(21)} ${r.error !== undefined ? `error: ${r.error.split('\n')[0]}` : `${r.maxRate} calls/s`
      + `${r.firstFailure !== undefined ? ` (failed at ${r.firstFailure})` : ' (no failure found)'}${cpu !== undefined ? `, proxy CPU ${cpu} µs/call` : ''}`}`);
  }
  if (ratio !== undefined) console.log(`  ratio hookflash/kamailio: ${ratio.toFixed(2)}`);
  if (ratioUnl !== undefined) console.log(`  ratio hookflash (guard totals off)/kamailio: ${ratioUnl.toFixed(2)}`);
  if (ratioReg !== undefined) console.log(`  ratio hookflash (registered callee)/kamailio: ${ratioReg.toFixed(2)}`);

  const json = {
    bench: 'proxy',
    date: new Date().toISOString(),
    quick,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavgAtEnd: loadavg(), node: process.version },
    peers: { sipp, kamailio },
    method: {
      callMs, stepSeconds, maxCalls, start, factor: 1.25,
      pass: 'SIPp UAC exit 0, SuccessfulCall = calls offered, FailedCall = 0 (retransmissions allowed and reported)',
      sippFlags: '-buff_size 4194304 -pause_msg_ign -recv_timeout 10000 -timeout -timeout_error -trace_err -trace_stat',
    },
    results,
    ratio,
    ratioUnlimited: ratioUnl,
    ratioRegistered: ratioReg,
  };
  mkdirSync(join(outFile, '..'), { recursive: true });
  writeFileSync(outFile, JSON.stringify(json, null, 2) + '\n');
  console.log(`\nJSON: ${outFile}`);
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

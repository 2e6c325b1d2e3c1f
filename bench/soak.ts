/**
 * soak (`npm run soak`, not in CI): `hookflash serve` (a child process, SQLite in a temp dir, UDP
 * on 127.0.0.1) carries calls from a SIPp UAC to a SIPp UAS registered as bob, every call with
 * hold, resume and a transfer request (test/flood/scenarios/soak-uac.xml, soak-uas.xml:
 * re-INVITE sendonly, re-INVITE sendrecv, REFER/202/NOTIFY, BYE), at half the highest call rate
 * that completes with no failure, for --minutes (default 30). Every --sample seconds it prints
 * serve's RSS, heap, event-loop delay (prom-client's nodejs_eventloop_lag_* from /metrics), live
 * transactions and calls; at the end a summary and a JSON file.
 *
 *   npm run soak [-- --minutes N] [--rate CPS | --max-rate CPS] [--hold MS] [--sample S] [--out FILE]
 *
 * Without --rate or --max-rate the maximum is measured first: 15 s steps from 10 calls/s, doubling
 * until a step has a failed call (then half the last good step is used).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, startSipp, waitForListener, type SippProcess, type SippResult } from '../test/helpers/sipp.js';
import { freePort, RawUdp, requestText, rssOf, scrape, sleep, transact, until } from '../test/flood/raw-sip.js';

const DOMAIN = 'soak.hookflash.test';
const SCENARIOS = join(repoRoot, 'test/flood/scenarios');

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string' },
    'max-rate': { type: 'string' },
    hold: { type: 'string', default: '1000' },
    sample: { type: 'string' },
    out: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const hold = Number(values.hold);
const sampleSeconds = Number(values.sample ?? (minutes <= 2 ? 5 : 30));
if (!(minutes > 0) || !(hold >= 0) || !(sampleSeconds > 0)) throw new Error('--minutes, --hold and --sample must be positive numbers');

interface Sample {
  t: number;
  rssMB: number;
  heapUsedMB: number;
  lagMs: number;
  lagP99Ms: number;
  transactions: number;
  calls: number;
}

const children: Array<{ kill(): void }> = [];
const cleanup = (): void => {
  for (const c of children) c.kill();
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

async function startServe(data: string): Promise<{ pid: number; udp: number; http: number; kill(): void }> {
  const udp = await freePort();
  const http = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, 'dist/src/app/cli.js'), 'serve', '--listen', `udp:127.0.0.1:${udp}`,
    '--http', `127.0.0.1:${http}`, '--data', data, '--domain', DOMAIN, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  children.push({ kill });
  const up = await until(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${http}/healthz`)).ok;
    } catch {
      return false;
    }
  }, 20_000, 100);
  if (!up) throw new Error('hookflash serve did not start');
  return { pid: child.pid!, udp, http, kill };
}

/** bob's binding: the UAS's port. */
async function registerBob(serveUdp: number, port: number): Promise<void> {
  const ua = await RawUdp.open('127.0.0.1', port);
  const resp = await transact(ua, serveUdp, requestText('REGISTER', `sip:${DOMAIN}`, {
    from: `<sip:bob@${DOMAIN}>`, to: `<sip:bob@${DOMAIN}>`, callId: `soak-reg-${port}`, contact: `<sip:bob@127.0.0.1:${port}>;expires=86400`,
  }), (m) => m.callId === `soak-reg-${port}`);
  ua.close();
  if (resp?.status !== 200) throw new Error(`REGISTER of bob: ${resp?.status ?? 'no answer'}`);
}

/** One run of calls at `rate` for `seconds`: SIPp's result for the UAC and the UAS. */
async function run(serveUdp: number, rate: number, seconds: number, dir: string): Promise<{ uac: SippResult; uas: SippResult }> {
  const calls = Math.max(1, Math.round(rate * seconds));
  const uasPort = await freePort();
  await registerBob(serveUdp, uasPort);
  const uasDir = join(dir, `uas-${rate}`);
  const uacDir = join(dir, `uac-${rate}`);
  mkdirSync(uasDir, { recursive: true });
  mkdirSync(uacDir, { recursive: true });
  const limit = seconds + 120;
  const uas: SippProcess = startSipp(['-sf', join(SCENARIOS, 'soak-uas.xml'), '-i', '127.0.0.1', '-p', String(uasPort), '-m', String(calls),
    '-timeout', String(limit), '-timeout_error'], uasDir, limit + 30);
  children.push(uas);
  await waitForListener('udp', uasPort);
  const uac = startSipp(['-sf', join(SCENARIOS, 'soak-uac.xml'), `127.0.0.1:${serveUdp}`, '-rsa', `127.0.0.1:${serveUdp}`,
    '-key', 'target', `sip:bob@${DOMAIN}`, '-key', 'domain', DOMAIN, '-d', String(hold), '-i', '127.0.0.1', '-p', String(await freePort()),
    '-r', String(rate), '-m', String(calls), '-l', String(Math.ceil(rate * (hold * 2 / 1000 + 5)) + 50), '-timeout', String(limit), '-timeout_error'], uacDir, limit + 30);
  children.push(uac);
  const [uacResult, uasResult] = await Promise.all([uac.done, uas.done]);
  return { uac: uacResult, uas: uasResult };
}

const ok = (r: SippResult, calls: number): boolean => r.stats['SuccessfulCall(C)'] === String(calls) && r.stats['FailedCall(C)'] === '0';
const line = (r: SippResult): string => `successful ${r.stats['SuccessfulCall(C)']}, failed ${r.stats['FailedCall(C)']}, retransmissions ${r.stats['Retransmissions(C)']}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-soak-'));
  const serve = await startServe(join(dir, 'data'));
  let maxRate: number | undefined = values['max-rate'] === undefined ? undefined : Number(values['max-rate']);
  let rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate === undefined && maxRate === undefined) {
    let good = 0;
    for (let r = 10; r <= 2560; r *= 2) {
      const step = await run(serve.udp, r, 15, join(dir, 'probe'));
      const passed = ok(step.uac, Math.round(r * 15));
      process.stdout.write(`probe ${r} calls/s: ${passed ? 'ok' : 'failed'} (${line(step.uac)})\n`);
      if (!passed) break;
      good = r;
      await sleep(hold * 2 + 5000);
    }
    if (good === 0) throw new Error('not even 10 calls/s completed without a failure');
    maxRate = good;
  }
  rate ??= Math.max(1, Math.floor(maxRate! / 2));
  process.stdout.write(`soak: ${rate} calls/s (max measured/given ${maxRate ?? 'n/a'}) for ${minutes} min, hold ${hold} ms, every call with hold, resume and REFER\n`);
  process.stdout.write('   t(s)  rss(MB)  heap(MB)  lag(ms)  lag p99(ms)  transactions  calls\n');

  const samples: Sample[] = [];
  const started = Date.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const m = await scrape(serve.http);
        const s: Sample = {
          t: Math.round((Date.now() - started) / 1000),
          rssMB: +(rssOf(serve.pid) / 1048576).toFixed(1),
          heapUsedMB: +((m.get('nodejs_heap_size_used_bytes') ?? 0) / 1048576).toFixed(1),
          lagMs: +((m.get('nodejs_eventloop_lag_seconds') ?? 0) * 1000).toFixed(2),
          lagP99Ms: +((m.get('nodejs_eventloop_lag_p99_seconds') ?? 0) * 1000).toFixed(2),
          transactions: m.get('hookflash_transactions') ?? 0,
          calls: m.get('hookflash_calls_active') ?? 0,
        };
        samples.push(s);
        process.stdout.write(`${String(s.t).padStart(7)}  ${String(s.rssMB).padStart(7)}  ${String(s.heapUsedMB).padStart(8)}  ${String(s.lagMs).padStart(7)}  ${String(s.lagP99Ms).padStart(11)}  ${String(s.transactions).padStart(12)}  ${String(s.calls).padStart(5)}\n`);
      } catch (e) {
        process.stdout.write(`sample failed: ${String(e)}\n`);
      }
      const next = Date.now() + sampleSeconds * 1000;
      while (sampling && Date.now() < next) await sleep(200);
    }
  })();
  const result = await run(serve.udp, rate, minutes * 60, join(dir, 'soak'));
  sampling = false;
  await sampler;
  const calls = Math.max(1, Math.round(rate * minutes * 60));
  const first = samples.slice(0, Math.max(1, Math.floor(samples.length / 10)));
  const last = samples.slice(-Math.max(1, Math.floor(samples.length / 10)));
  const avg = (xs: Sample[], f: (s: Sample) => number): number => +(xs.reduce((a, s) => a + f(s), 0) / xs.length).toFixed(1);
  const summary = {
    rate, maxRate, minutes, hold, calls,
    uac: line(result.uac), uas: line(result.uas), allCompleted: ok(result.uac, calls),
    rssMB: { min: Math.min(...samples.map((s) => s.rssMB)), max: Math.max(...samples.map((s) => s.rssMB)), firstTenth: avg(first, (s) => s.rssMB), lastTenth: avg(last, (s) => s.rssMB) },
    heapUsedMB: { firstTenth: avg(first, (s) => s.heapUsedMB), lastTenth: avg(last, (s) => s.heapUsedMB) },
    eventLoopLagMs: { meanOfSamples: avg(samples, (s) => s.lagMs), maxP99: Math.max(...samples.map((s) => s.lagP99Ms)) },
    samples,
  };
  const out = values.out ?? join(repoRoot, 'test-artifacts', 'soak', `soak-${new Date().toISOString().replace(/[:.]/g, '')}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify(summary, null, 2));
  process.stdout.write(`\nUAC: ${summary.uac}\nUAS: ${summary.uas}\nRSS ${summary.rssMB.firstTenth} MB (first tenth) → ${summary.rssMB.lastTenth} MB (last tenth), max ${summary.rssMB.max}; heap ${summary.heapUsedMB.firstTenth} → ${summary.heapUsedMB.lastTenth} MB; event-loop lag mean ${summary.eventLoopLagMs.meanOfSamples} ms, worst p99 ${summary.eventLoopLagMs.maxP99} ms\nwritten to ${out}\n`);
  serve.kill();
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = summary.allCompleted ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`soak: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  cleanup();
  process.exitCode = 1;
});

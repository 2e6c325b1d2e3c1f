/**
 * Flood test (issue 9), loopback only and bounded (about 90 s): `hookflash serve` (the real CLI,
 * digest auth on, default-like limits with loopback not trusted) takes, for FLOOD_SECONDS,
 * - our flooder (test/flood/flooder.ts, a child process): INVITE and REGISTER floods, OPTIONS and
 *   garbage (random bytes, truncated and byte-flipped requests) from 40 addresses × 8 ports;
 * - a SIPp INVITE flood (scenarios/flood-invite.xml) from another address, never ACKing;
 * while a legitimate SIPp UAC calls a SIPp UAS registered as bob through it (serve-uac.xml,
 * serve-uas.xml) and a legitimate phone re-registers with Digest every second.
 * Checked: every legitimate call and registration completes; serve's RSS stays bounded; after the
 * flood the transactions gauge goes back to 0; the drops are in hookflash_dropped_total. The
 * figures go to the test's diagnostics and test-artifacts/flood/flood-figures.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needBinary } from '../helpers/peers.js';
import { artifactsDir, repoRoot, startSipp, waitForListener, type SippProcess, type SippResult } from '../helpers/sipp.js';
import type { FloodReport } from './flooder.js';
import { freePort, RawUdp, registerWith, rssOf, scrape, sleep, startServeWith, stopServe, until } from './raw-sip.js';

const INSTALL = 'apt-get install sip-tester';
const DOMAIN = 'hookflash.test';
const FLOOD_SECONDS = 25;
/** Packets a second from our flooder; FLOOD_RATE overrides (by hand, for a heavier run). */
const FLOOD_RATE = Number(process.env.FLOOD_RATE ?? 2500);
const SIPP_FLOOD_RATE = Number(process.env.SIPP_FLOOD_RATE ?? 200);
const CALLS = 100;
const CALL_RATE = 5;
const BOUNDS = ['-timeout', '90', '-timeout_error'];
const SCENARIOS = join(repoRoot, 'test/interop/scenarios');
const OWN = join(repoRoot, 'test/flood/scenarios');

function sippLine(r: SippResult): string {
  return `exit ${r.code}; successful ${r.stats['SuccessfulCall(C)']}, failed ${r.stats['FailedCall(C)']}, retransmissions ${r.stats['Retransmissions(C)']}`;
}

function runFlooder(options: Record<string, unknown>): Promise<FloodReport> {
  // Without NODE_TEST_CONTEXT (inherited from node --test), or the flooder takes itself for a test file.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, [join(repoRoot, 'dist/test/flood/flooder.js'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (Number(options.seconds) + 30) * 1000);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(killer);
      try {
        if (code !== 0) throw new Error(`flooder exit ${code}: ${err}`);
        resolve(JSON.parse(out.trim()) as FloodReport);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

test(`flood: ${FLOOD_RATE} packets/s of INVITE, REGISTER and garbage from 320 sources plus a SIPp INVITE flood; ${CALLS} legitimate calls and every re-registration complete; memory bounded; transactions back to 0`,
  { timeout: 180_000 }, async (t) => {
    if (!needBinary(t, 'sipp', INSTALL)) return;
    const dir = artifactsDir(`flood ${t.name.slice(0, 40)}`);
    const r = await startServeWith(t, {
      listen: ['udp:127.0.0.1:0'], domains: [DOMAIN], log: { level: 'warn' },
      users: [{ user: `bob@${DOMAIN}`, password: 'builder' }, { user: `carol@${DOMAIN}`, password: 'singer' }],
      limits: {
        action: 'drop', requestsPerSecond: 30, burst: 60, totalRequestsPerSecond: 300, userRequestsPerSecond: 50, blockAfter: 300,
        blockSeconds: 10, transactionsPerSource: 200, trusted: [],
      },
    });
    const sipps: SippProcess[] = [];
    let passed = false;
    t.after(async () => {
      for (const s of sipps) s.kill();
      await Promise.all(sipps.map((s) => s.done));
      if (passed) return;
      writeFileSync(join(dir, 'serve.stderr.log'), r.serve.stderr());
      t.diagnostic(`artifacts kept in ${dir}`);
    });

    // bob (the SIPp UAS) registers from the port the UAS will listen on.
    const uasPort = await freePort();
    const reg = await RawUdp.open('127.0.0.1', uasPort);
    const bobReg = await registerWith(reg, r.udp, DOMAIN, 'bob', 'builder', 'bob-reg', 3600);
    reg.close();
    assert.equal(bobReg.status, 200, `bob registers: ${bobReg.status} ${bobReg.reasonPhrase}`);

    const uasDir = join(dir, 'uas');
    const uacDir = join(dir, 'uac');
    const floodDir = join(dir, 'sipp-flood');
    for (const d of [uasDir, uacDir, floodDir]) mkdirSync(d, { recursive: true });
    const uas = startSipp(['-sf', join(SCENARIOS, 'serve-uas.xml'), '-i', '127.0.0.1', '-p', String(uasPort), '-m', String(CALLS), ...BOUNDS], uasDir, 150);
    sipps.push(uas);
    await waitForListener('udp', uasPort);

    await sleep(1000);
    const baseline = rssOf(r.pid);
    const samples: Array<{ at: number; rss: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          samples.push({ at: Date.now(), rss: rssOf(r.pid) });
        } catch {
          break;
        }
        await sleep(500);
      }
    })();

    // The floods.
    const floodStart = Date.now();
    const flooder = runFlooder({ port: r.udp, seconds: FLOOD_SECONDS, rate: FLOOD_RATE, addresses: 40, firstAddress: 2, portsPerAddress: 8, domain: DOMAIN });
    const sippFlood = startSipp(['-sf', join(OWN, 'flood-invite.xml'), `127.0.0.1:${r.udp}`, '-i', '127.0.0.100', '-p', String(await freePort()),
      '-key', 'domain', DOMAIN, '-r', String(SIPP_FLOOD_RATE), '-m', String(SIPP_FLOOD_RATE * FLOOD_SECONDS), '-l', '100000', ...BOUNDS], floodDir, 120);
    sipps.push(sippFlood);

    // The legitimate caller, started a moment into the flood.
    await sleep(2000);
    const uacPort = await freePort();
    const uac = startSipp(['-sf', join(SCENARIOS, 'serve-uac.xml'), `127.0.0.1:${r.udp}`, '-rsa', `127.0.0.1:${r.udp}`,
      '-key', 'target', `sip:bob@${DOMAIN}`, '-d', '200', '-i', '127.0.0.1', '-p', String(uacPort), '-m', String(CALLS), '-r', String(CALL_RATE),
      '-l', '50', ...BOUNDS], uacDir, 150);
    sipps.push(uac);

    // A legitimate phone re-registering with Digest every second during the flood.
    const phone = await RawUdp.open('127.0.0.1');
    t.after(() => phone.close());
    const registrations: number[] = [];
    for (let i = 0; i < FLOOD_SECONDS - 4; i++) {
      try {
        registrations.push((await registerWith(phone, r.udp, DOMAIN, 'carol', 'singer', `carol-${i}`, 600)).status);
      } catch {
        registrations.push(0);
      }
      await sleep(1000);
    }

    const report = await flooder;
    const floodResult = await sippFlood.done;
    const uacResult = await uac.done;
    const uasResult = await uas.done;
    const floodEnd = floodStart + FLOOD_SECONDS * 1000;
    const peak = Math.max(...samples.map((x) => x.rss));
    // Bounded: the RSS of the flood's last third is no higher than in its middle third (a plateau, not a climb).
    const third = (k: number): number => Math.max(0, ...samples.filter((x) => x.at >= floodStart + (k * (floodEnd - floodStart)) / 3
      && x.at < floodStart + ((k + 1) * (floodEnd - floodStart)) / 3).map((x) => x.rss));
    const [middle, last] = [third(1), third(2)];
    const during = await scrape(r.httpPort);

    // After the flood: every transaction ends by its timers (Timer H, 32 s, for unacknowledged INVITE answers).
    const drained = await until(async () => (await scrape(r.httpPort)).get('hookflash_transactions') === 0, 60_000, 1000);
    sampling = false;
    await sampler;
    const after = rssOf(r.pid);
    const m = await scrape(r.httpPort);
    const dropped = Object.fromEntries([...m].filter(([k]) => k.startsWith('hookflash_dropped_total')).map(([k, v]) => [/reason="([^"]+)"/.exec(k)![1], v]));
    const figures = {
      flood: { ownRate: report.rate, ownPackets: report.total, sent: report.sent, answers: report.answers, seconds: report.seconds, sippInviteRate: SIPP_FLOOD_RATE, sipp: sippLine(floodResult) },
      legitimate: { calls: CALLS, uac: sippLine(uacResult), uas: sippLine(uasResult), registrations: `${registrations.filter((s) => s === 200).length}/${registrations.length}` },
      rssMB: {
        baseline: +(baseline / 1048576).toFixed(1), middleThird: +(middle / 1048576).toFixed(1), lastThird: +(last / 1048576).toFixed(1),
        peak: +(peak / 1048576).toFixed(1), after: +(after / 1048576).toFixed(1),
      },
      dropped,
      blockedSourcesDuring: during.get('hookflash_blocked_sources'),
      transactionsDrained: drained,
    };
    mkdirSync(join(repoRoot, 'test-artifacts', 'flood'), { recursive: true });
    writeFileSync(join(repoRoot, 'test-artifacts', 'flood', 'flood-figures.json'), JSON.stringify(figures, null, 2));
    t.diagnostic(JSON.stringify(figures));

    assert.equal(r.serve.child.exitCode, null, 'serve is still running');
    assert.equal(uacResult.stats['SuccessfulCall(C)'], String(CALLS), `legitimate calls: ${sippLine(uacResult)}`);
    assert.equal(uacResult.stats['FailedCall(C)'], '0', sippLine(uacResult));
    assert.ok(registrations.every((s) => s === 200), `every legitimate registration got 200: ${registrations.join(' ')}`);
    assert.ok(report.rate >= FLOOD_RATE * 0.7, `the flooder reached ${report.rate}/s`);
    assert.ok(last <= middle * 1.25 + 20 * 1048576, `RSS levels off under the flood: middle third ${figures.rssMB.middleThird}, last third ${figures.rssMB.lastThird} MB`);
    assert.ok(peak < 600 * 1048576, `RSS stays under 600 MB: ${figures.rssMB.baseline} → peak ${figures.rssMB.peak} MB`);
    assert.ok(drained, 'the transactions gauge is back to 0');
    assert.ok((dropped['source-rate'] ?? 0) + (dropped.blocked ?? 0) > 0, 'the guard refused flood traffic');
    assert.equal(await stopServe(r), 0, 'serve drains and exits 0');
    passed = true;
  });

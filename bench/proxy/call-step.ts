/**
 * bench:proxy: one step of the search. A fresh SIPp UAS (bench/scenarios/call-uas.xml) on a free
 * port, then a SIPp UAC (bench/scenarios/call-uac.xml) offering `calls` calls at `rate` per second,
 * every message through the proxy (-rsa): INVITE/100/180/200/ACK/pause/BYE/200. The step passes
 * when SIPp's UAC exits 0 with every call successful and none failed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, freePort, sleep, waitUdpListener } from './children.js';
import type { ProxyProcess } from './proxies.js';
import type { StepOutcome } from './search.js';
import { startSipp, type SippStats } from './sipp.js';

/** SIPp's default 64 KiB socket buffer drops datagrams near 2,000 calls/s. */
const BUFF = ['-buff_size', '4194304'];
/** A recv that waits this long fails the call (bounds a step that goes wrong). */
const RECV_TIMEOUT_MS = 10_000;

export interface CallStep extends StepOutcome {
  /** The rate SIPp's UAC achieved over its whole run (calls / elapsed), per second. */
  achievedRate: number;
  successful: number;
  failed: number;
  retransmissions: number;
  unexpected: number;
  uacExit: number | null;
  /** The UAS's failed calls (a BYE or ACK that never came through). */
  uasFailed: number | undefined;
  /** Proxy CPU (user + system, all its processes) per call, µs; undefined without /proc. */
  proxyCpuUsPerCall: number | undefined;
  /** Why calls failed (SIPp -trace_err, grouped). */
  errors: string[];
  seconds: number;
  dir: string;
}

export interface CallStepOptions {
  scenarios: string;
  proxy: ProxyProcess;
  rate: number;
  calls: number;
  /** How long each call lasts between ACK and BYE (SIPp -d), ms. */
  callMs: number;
  /** Where this step's traces go. */
  dir: string;
  /** The Request-URI of the INVITEs, given the UAS's port: sip:service@127.0.0.1:PORT, or sip:bob@DOMAIN. */
  target(uasPort: number): string;
  /** Run before the UAS starts, with its port (register it at the proxy). */
  beforeUas?(uasPort: number, dir: string): Promise<void>;
}

export async function runCallStep(o: CallStepOptions): Promise<CallStep> {
  mkdirSync(o.dir, { recursive: true });
  const t0 = performance.now();
  const uasPort = await freePort();
  const uacPort = await freePort();
  await o.beforeUas?.(uasPort, o.dir);
  const offerS = o.calls / o.rate;
  const bound = Math.ceil(offerS + o.callMs / 1000 + 2 * RECV_TIMEOUT_MS / 1000 + 10);
  const uas = startSipp('uas', ['-sf', join(o.scenarios, 'call-uas.xml'), '-i', '127.0.0.1', '-p', String(uasPort),
    '-m', String(o.calls), ...BUFF, '-pause_msg_ign', '-recv_timeout', String(RECV_TIMEOUT_MS),
    '-timeout', String(bound), '-timeout_error'], o.dir, bound + 10);
  await waitUdpListener(uasPort, 10_000);

  const cpu0 = cpuSeconds(o.proxy.child.pid);
  // Open calls allowed: the calls of several seconds at this rate, so SIPp never throttles itself.
  const limit = Math.ceil(o.rate * (o.callMs / 1000 + 10));
  const uac = startSipp('uac', ['-sf', join(o.scenarios, 'call-uac.xml'), `127.0.0.1:${uasPort}`,
    '-rsa', `127.0.0.1:${o.proxy.port}`, '-key', 'target', o.target(uasPort), '-d', String(o.callMs),
    '-i', '127.0.0.1', '-p', String(uacPort), '-m', String(o.calls), '-r', String(o.rate), '-rp', '1000', '-l', String(limit),
    ...BUFF, '-pause_msg_ign', '-recv_timeout', String(RECV_TIMEOUT_MS), '-timeout', String(bound), '-timeout_error'], o.dir, bound + 10);
  const result = await uac.done;
  const cpu1 = cpuSeconds(o.proxy.child.pid);
  // The UAS ends each call after a 2 s timewait (retransmitted BYEs), then exits.
  if (!(await uas.child.waitExit(6000))) await uas.child.stop(2000);
  const uasResult = await uas.done;

  const s: SippStats = result.stats ?? { successful: 0, failed: NaN, retransmissions: NaN, unexpected: NaN, elapsedS: NaN };
  const pass = result.exitCode === 0 && s.failed === 0 && s.successful === o.calls;
  const errors = [...result.errors];
  if (!pass && errors.length === 0) errors.push(`sipp exit ${String(result.exitCode)}: ${result.output.trim().split('\n').slice(-3).join(' | ')}`);
  for (const e of uasResult.errors.slice(0, 2)) errors.push(`uas: ${e}`);
  await sleep(200);
  return {
    rate: o.rate,
    calls: o.calls,
    pass,
    achievedRate: s.elapsedS > 0 ? Math.round((s.successful + s.failed) / s.elapsedS) : NaN,
    successful: s.successful,
    failed: s.failed,
    retransmissions: s.retransmissions,
    unexpected: s.unexpected,
    uacExit: result.exitCode,
    uasFailed: uasResult.stats?.failed,
    proxyCpuUsPerCall: cpu0 !== undefined && cpu1 !== undefined && s.successful > 0 ? Math.round(((cpu1 - cpu0) * 1e6) / s.successful) : undefined,
    errors,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    dir: o.dir,
  };
}

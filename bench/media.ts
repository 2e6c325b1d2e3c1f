/**
 * bench:media (issue 7) — how many concurrent G.711 calls one process carries at 20 ms
 * packetisation before the send clock's jitter passes 5 ms, and the CPU each call costs.
 *
 * Each call is two RtpSessions on loopback (rtcp-mux, one socket each), driven by RealClock:
 * tone one way (A sendonly → B recvonly, B decodes into a level meter), or both ways with
 * `--both`. The load is raised step by step; each step runs `--step-seconds` and measures:
 *   - send jitter: per session the RFC 3550 A.8-style smoothed |interval − 20 ms|, averaged;
 *     and the 99th percentile of the per-session worst deviation;
 *   - loss: packets the receivers counted lost ÷ expected;
 *   - CPU: process.cpuUsage() over the step ÷ wall time ÷ calls, in % of one core.
 * Loopback only, bounded: stops at the first step over 5 ms, or after `--max-seconds` (default 100).
 * Not a test: prints a table and writes JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { RealClock } from '../src/core/clock.js';
import { MediaEngine } from '../src/media/media-engine.js';
import { ToneSource } from '../src/media/audio-source.js';
import { LevelMeter } from '../src/media/audio-sinks.js';
import type { RtpSession } from '../src/media/rtp-session.js';
import { parseSdp } from '../src/sdp/session-description.js';
import type { SessionDescription } from '../src/sdp/sdp-types.js';
import { PROJECT_ROOT } from './fixtures.js';

const { values } = parseArgs({
  options: {
    both: { type: 'boolean', default: false },
    'step-seconds': { type: 'string' },
    'max-seconds': { type: 'string' },
    steps: { type: 'string' },
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick === true;
const both = values.both === true;
const stepSeconds = Number(values['step-seconds'] ?? (quick ? 1.5 : 4));
const maxSeconds = Number(values['max-seconds'] ?? (quick ? 20 : 100));
const steps = (values.steps ?? (quick ? '10,50,100' : '10,25,50,100,200,300,400,600,800,1000,1500')).split(',').map(Number);
const LIMIT_MS = 5;

const stamp = new Date().toISOString().replace(/[:.]/g, '').slice(0, 15);
const outFile = values.out ?? join(PROJECT_ROOT, 'test-artifacts', 'bench', `media-${stamp}`, 'result.json');
mkdirSync(dirname(outFile), { recursive: true });

interface Call { a: RtpSession; b: RtpSession }

interface Step {
  calls: number;
  sessionsSending: number;
  meanSendJitterMs: number;
  p99MaxDeviationMs: number;
  packetsSent: number;
  packetsReceived: number;
  lossPercent: number;
  cpuPercentPerCall: number;
  cpuPercentTotal: number;
  meanMos: number;
}

const clock = new RealClock();
const engine = new MediaEngine({ clock, portMin: 40000, portMax: 60000 });

function sdpFor(port: number, direction: string): SessionDescription {
  return parseSdp(['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', `a=${direction}`, 'a=rtcp-mux', ''].join('\r\n'));
}
async function openCall(): Promise<Call> {
  const a = await engine.createSession({ rtcpMux: true, source: new ToneSource({ frequency: 440 }) });
  const b = await engine.createSession({ rtcpMux: true, sink: new LevelMeter(), ...(both ? { source: new ToneSource({ frequency: 1000 }) } : {}) });
  const offer = sdpFor(a.localPort, both ? 'sendrecv' : 'sendonly');
  const answer = sdpFor(b.localPort, both ? 'sendrecv' : 'recvonly');
  a.update(offer, answer);
  b.update(answer, offer);
  return { a, b };
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function measure(calls: Call[]): Promise<Step> {
  // Counters are read as deltas over the step; the send-jitter figures were reset before it.
  const sessions = calls.flatMap((c) => [c.a, c.b]);
  const sending = sessions.filter((s) => s.stats().direction === 'sendrecv' || s.stats().direction === 'sendonly');
  // Let the send clocks settle after the ramp-up before measuring.
  await new Promise((r) => setTimeout(r, 500));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const base = sessions.map((s) => s.stats());
  await new Promise((r) => setTimeout(r, stepSeconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const after = sessions.map((s) => s.stats());
  const sendStats = after.filter((_, i) => sending.includes(sessions[i]!));
  const sent = after.reduce((n, s, i) => n + s.packetsSent - base[i]!.packetsSent, 0);
  const received = after.reduce((n, s, i) => n + s.packetsReceived - base[i]!.packetsReceived, 0);
  const lost = after.reduce((n, s, i) => n + Math.max(0, s.packetsLost - base[i]!.packetsLost), 0);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / wall) * 100;
  return {
    calls: calls.length,
    sessionsSending: sending.length,
    meanSendJitterMs: sendStats.reduce((n, s) => n + s.sendJitterMs, 0) / Math.max(1, sendStats.length),
    p99MaxDeviationMs: percentile(sendStats.map((s) => s.maxSendDeviationMs), 99),
    packetsSent: sent,
    packetsReceived: received,
    lossPercent: received + lost === 0 ? 0 : (100 * lost) / (received + lost),
    cpuPercentPerCall: cpuPercent / calls.length,
    cpuPercentTotal: cpuPercent,
    meanMos: after.filter((s) => s.packetsReceived > 0).reduce((n, s, _, arr) => n + s.mos / arr.length, 0),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const calls: Call[] = [];
  const results: Step[] = [];
  let capacity = 0;
  console.log(`bench:media — G.711 calls at 20 ms, ${both ? 'tone both ways' : 'tone one way'}, loopback, ${stepSeconds} s per step (limit ${LIMIT_MS} ms send jitter)`);
  console.log('calls  sending  jitter(ms)  p99 max dev(ms)  sent/s   loss%   CPU%/call  CPU% total  MOS');
  for (const target of steps) {
    if ((performance.now() - started) / 1000 + stepSeconds + 1 > maxSeconds) {
      console.log(`(time budget of ${maxSeconds} s reached)`);
      break;
    }
    while (calls.length < target) calls.push(await openCall());
    // The send-jitter figures cover this step only (the ramp-up's set-up stalls are not counted).
    for (const c of calls) for (const s of [c.a, c.b]) s.resetSendStats();
    const step = await measure(calls);
    results.push(step);
    console.log(
      `${String(step.calls).padStart(5)}  ${String(step.sessionsSending).padStart(7)}  ${step.meanSendJitterMs.toFixed(2).padStart(10)}  `
      + `${step.p99MaxDeviationMs.toFixed(1).padStart(15)}  ${String(Math.round(step.packetsSent / stepSeconds)).padStart(6)}  `
      + `${step.lossPercent.toFixed(2).padStart(6)}  ${step.cpuPercentPerCall.toFixed(3).padStart(9)}  ${step.cpuPercentTotal.toFixed(1).padStart(10)}  ${step.meanMos.toFixed(2)}`,
    );
    if (step.meanSendJitterMs > LIMIT_MS) break;
    capacity = step.calls;
  }
  engine.close();
  const last = results.find((r) => r.calls === capacity);
  console.log(`\ncapacity: ${capacity} concurrent calls with mean send jitter ≤ ${LIMIT_MS} ms${last !== undefined ? `; CPU ${last.cpuPercentPerCall.toFixed(3)} % of one core per call` : ''}`);
  const json = {
    bench: 'media',
    date: new Date().toISOString(),
    mode: both ? 'both-ways' : 'one-way',
    how: 'two RtpSessions per call on 127.0.0.1 (rtcp-mux), RealClock 20 ms send clock, PCMU tone, receiver decodes into a level meter; load raised in steps; send jitter = RFC 3550 A.8-style smoothed |interval - 20 ms| per sending session, averaged; CPU = process.cpuUsage / wall time',
    limitMs: LIMIT_MS,
    stepSeconds,
    capacityCalls: capacity,
    cpuPercentPerCallAtCapacity: last?.cpuPercentPerCall,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavgAtEnd: loadavg(), node: process.version },
    steps: results,
  };
  writeFileSync(outFile, JSON.stringify(json, null, 2) + '\n');
  console.log(`JSON: ${outFile}`);
}

await main();

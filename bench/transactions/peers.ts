/**
 * bench:transactions: the peer processes. The hookflash UAS child (bench/transactions-uas.ts) and
 * SIPp, as UAS (bench/transactions/sipp-uas.xml) or UAC (sipp-uac.xml). Every process started here
 * is remembered and killed by its pid when the bench exits, however it exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { UasStats } from './stack.js';

const live = new Set<ChildProcess>();
let hooked = false;

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        killAll();
        process.exit(130);
      });
    }
  }
  return child;
}

/** Kills every process this bench started (each by its own pid). */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Ends `child`: `soft` first (close stdin, SIGTERM), SIGKILL after `ms`. */
async function stopProcess(child: ChildProcess, soft: 'stdin' | 'SIGTERM', ms = 2000): Promise<void> {
  if (soft === 'stdin') child.stdin?.end();
  else child.kill('SIGTERM');
  if (!(await waitExit(child, ms))) {
    child.kill('SIGKILL');
    await waitExit(child, 1000);
  }
}

/** The hookflash UAS in its own process, driven over its stdin/stdout line protocol. */
export class UasChild {
  private readonly waiters: Array<{ prefix: string; resolve(rest: string): void }> = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Spawns `node script 0` and waits for its `PORT n` line. */
  static async start(script: string, timeoutMs = 10_000): Promise<UasChild> {
    const child = track(spawn(process.execPath, [script, '0'], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`UAS child printed no port within ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', (code) => reject(new Error(`UAS child exited (${String(code)}) before printing its port`)));
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
    const m = /^PORT (\d+)$/.exec(first);
    if (m === null) throw new Error(`UAS child said ${JSON.stringify(first)}`);
    const uas = new UasChild(child, Number(m[1]));
    lines.on('line', (line) => uas.onLine(line));
    return uas;
  }

  /** Zeroes the child's counters and CPU baseline. */
  async reset(): Promise<void> {
    await this.ask('reset', 'OK');
  }

  async stats(): Promise<UasStats> {
    return JSON.parse(await this.ask('stats', 'STATS ')) as UasStats;
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 'stdin');
  }

  private ask(command: string, prefix: string, ms = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`UAS child did not answer ${command} within ${ms} ms`)), ms);
      this.waiters.push({
        prefix,
        resolve: (rest) => {
          clearTimeout(timer);
          resolve(rest);
        },
      });
      this.child.stdin!.write(`${command}\n`);
    });
  }

  private onLine(line: string): void {
    const w = this.waiters[0];
    if (w !== undefined && line.startsWith(w.prefix)) {
      this.waiters.shift();
      w.resolve(line.slice(w.prefix.length));
    }
  }
}

// ---------- SIPp ----------

/** SIPp's version line, or why it cannot be used. */
export function sippVersion(): { ok: true; version: string } | { ok: false; reason: string } {
  const r = spawnSync('sipp', ['-v'], { encoding: 'utf8', timeout: 5000 });
  if (r.error !== undefined) return { ok: false, reason: `sipp not runnable: ${r.error.message}` };
  const line = `${r.stdout}${r.stderr}`.split('\n').find((l) => /SIPp v/.test(l));
  return { ok: true, version: line?.trim() ?? 'SIPp (version unknown)' };
}

/** A UDP port free on 127.0.0.1 right now. */
export function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** Sends OPTIONS to 127.0.0.1:`port` from a raw socket until something answers (a started UAS). */
export async function waitForUas(port: number, timeoutMs = 5000): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const local = s.address().port;
  try {
    const answered = new Promise<void>((resolve) => s.once('message', () => resolve()));
    const end = Date.now() + timeoutMs;
    for (let i = 0; Date.now() < end; i++) {
      const text = [
        `OPTIONS sip:probe@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bKprobe${i}x${Date.now()}`,
        'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1:${local}>;tag=probe${i}`,
        `To: <sip:probe@127.0.0.1:${port}>`,
        `Call-ID: probe-${i}-${Date.now()}@127.0.0.1`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      s.send(Buffer.from(text, 'latin1'), port, '127.0.0.1');
      const ok = await Promise.race([answered.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);
      if (ok) return;
    }
    throw new Error(`nothing answered OPTIONS on 127.0.0.1:${port} within ${timeoutMs} ms`);
  } finally {
    s.close();
  }
}

const SIPP_COMMON = ['-i', '127.0.0.1', '-t', 'u1', '-nostdin', '-buff_size', '4194304'];

/** SIPp as UAS answering OPTIONS/MESSAGE 200 on 127.0.0.1:`port`; it quits by itself after `lifetimeS`. */
export async function startSippUas(scenario: string, port: number, lifetimeS: number, cwd: string): Promise<{ stop(): Promise<void> }> {
  const child = track(spawn('sipp', ['-sf', scenario, ...SIPP_COMMON, '-p', String(port), '-timeout', `${lifetimeS}s`], { cwd, stdio: 'ignore' }));
  try {
    await waitForUas(port);
  } catch (e) {
    await stopProcess(child, 'SIGTERM', 500);
    throw e;
  }
  return { stop: () => stopProcess(child, 'SIGTERM', 1000) };
}

export interface SippUacResult {
  /** Successful calls (200 received) per second between the first stats row at or after warm-up and the last. */
  rate: number;
  successful: number;
  /** Over the whole run. */
  failed: number;
  retransmissions: number;
  /** Calls still open when SIPp stopped. */
  unfinished: number;
  measuredSeconds: number;
  exitCode: number | null;
}

/**
 * SIPp as a closed-loop UAC: `-l window` calls in flight at most, a call rate cap (`-r rateCap`
 * per `-rp 1000` ms) far above what the UAS sustains, for `warmupS + seconds`; counters from its
 * `-trace_stat` CSV dumped every second.
 */
export async function runSippUac(o: { scenario: string; targetPort: number; window: number; rateCap: number; warmupS: number; seconds: number; cwd: string }): Promise<SippUacResult> {
  const stf = join(o.cwd, `uac-${o.targetPort}-${o.window}.csv`);
  const total = o.warmupS + o.seconds;
  const args = [
    `127.0.0.1:${o.targetPort}`, '-sf', o.scenario, ...SIPP_COMMON, '-p', String(await freeUdpPort()),
    '-r', String(o.rateCap), '-rp', '1000', '-l', String(o.window), '-timeout', `${total}s`,
    '-trace_stat', '-stf', stf, '-fd', '1',
  ];
  const child = track(spawn('sipp', args, { cwd: o.cwd, stdio: 'ignore' }));
  // SIPp may linger past -timeout while calls are still open (lost datagrams); its per-second
  // statistics rows are written by then.
  if (!(await waitExit(child, (total + 2) * 1000))) await stopProcess(child, 'SIGTERM', 1000);
  return { ...parseSippStats(readFileSync(stf, 'utf8'), o.warmupS), exitCode: child.exitCode };
}

/** Reads SIPp's `-trace_stat` CSV (semicolon-separated, one header row). */
export function parseSippStats(csv: string, warmupS: number): Omit<SippUacResult, 'exitCode'> {
  const rows = csv.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(';'));
  const header = rows.shift();
  if (header === undefined || rows.length < 2) throw new Error('SIPp wrote too few statistics rows');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`SIPp statistics have no ${name} column`);
    return i;
  };
  const iNow = col('CurrentTime');
  const iElapsed = col('ElapsedTime(C)');
  const iOk = col('SuccessfulCall(C)');
  const iFailed = col('FailedCall(C)');
  const iRetrans = col('Retransmissions(C)');
  const iCurrent = col('CurrentCall');
  // CurrentTime is "date<TAB>time<TAB>epoch.micros"; ElapsedTime(C) is "hh:mm:ss" (or with :ms).
  const epoch = (r: string[]): number => Number(r[iNow]!.split('\t').pop());
  const elapsed = (r: string[]): number => r[iElapsed]!.split(':').slice(0, 3).reduce((acc, part) => acc * 60 + Number(part), 0);
  const first = rows.find((r) => elapsed(r) >= warmupS) ?? rows[0]!;
  const last = rows[rows.length - 1]!;
  const seconds = epoch(last) - epoch(first);
  const successful = Number(last[iOk]) - Number(first[iOk]);
  return {
    rate: seconds > 0 ? successful / seconds : 0,
    successful,
    failed: Number(last[iFailed]),
    retransmissions: Number(last[iRetrans]),
    unfinished: Number(last[iCurrent]),
    measuredSeconds: seconds,
  };
}

// ---------- kernel counters ----------

/** The host's UDP error counters (Linux /proc/net/snmp), null elsewhere. Host-wide: other traffic counts too. */
export interface UdpKernelCounters {
  rcvbufErrors: number;
  sndbufErrors: number;
}

export function udpKernelCounters(): UdpKernelCounters | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    if (lines.length < 2) return null;
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    const get = (name: string): number => Number(values[names.indexOf(name)] ?? NaN);
    return { rcvbufErrors: get('RcvbufErrors'), sndbufErrors: get('SndbufErrors') };
  } catch {
    return null;
  }
}

/** Datagrams the host dropped for full socket buffers since `before`; null when unknown. */
export function udpDropsSince(before: UdpKernelCounters | null): number | null {
  const now = udpKernelCounters();
  if (before === null || now === null) return null;
  return now.rcvbufErrors - before.rcvbufErrors + (now.sndbufErrors - before.sndbufErrors);
}

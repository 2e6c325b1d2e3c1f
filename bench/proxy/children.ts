/**
 * bench:proxy and bench:registrations: the child processes (SIPp, Kamailio, hookflash serve).
 * Every process started here is remembered and killed by its own pid when the bench exits, however
 * it exits (normal end, thrown error, SIGINT, SIGTERM).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const live = new Set<ChildProcess>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
  process.once('uncaughtException', (err) => {
    killAll();
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    process.exit(1);
  });
}

/**
 * Kills every process this bench started and that still runs, each by its own id: every child is
 * the leader of a process group of its own (spawned detached), so the group id is its pid and the
 * kill reaches what it forked (Kamailio's workers, the SIPp under `timeout`).
 */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
}

/** A child process whose output is kept (its tail) and which is killed when the bench exits. */
export class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  #output = '';
  readonly #lineWaiters: Array<{ match: RegExp; resolve(line: string): void }> = [];
  #partial = '';

  constructor(command: string, args: string[], options: SpawnOptions = {}) {
    hook();
    this.process = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
    live.add(this.process);
    this.exited = new Promise((resolve) => {
      this.process.once('error', (err) => {
        this.#output += `\nspawn error: ${err.message}\n`;
        resolve(-1);
      });
      this.process.once('exit', (code, signal) => {
        live.delete(this.process);
        resolve(code ?? (signal === null ? null : -1));
      });
    });
    const keep = (d: Buffer): void => {
      const text = d.toString('latin1');
      this.#output = (this.#output + text).slice(-64_000);
      if (this.#lineWaiters.length === 0) return;
      const lines = (this.#partial + text).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        for (let i = this.#lineWaiters.length - 1; i >= 0; i--) {
          const w = this.#lineWaiters[i]!;
          if (w.match.test(line)) {
            this.#lineWaiters.splice(i, 1);
            w.resolve(line);
          }
        }
      }
    };
    this.process.stdout?.on('data', keep);
    this.process.stderr?.on('data', keep);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** The tail of its stdout and stderr. */
  get output(): string {
    return this.#output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  }

  /** The first line of output matching `match` from now on; rejects if it exits or after `ms`. */
  waitLine(match: RegExp, ms: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (line: string): void => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        const i = this.#lineWaiters.indexOf(waiter);
        if (i >= 0) this.#lineWaiters.splice(i, 1);
        reject(new Error(`no line matching ${String(match)} within ${ms} ms; output:\n${this.output.slice(-3000)}`));
      }, ms);
      this.#lineWaiters.push(waiter);
      void this.exited.then((code) => {
        const i = this.#lineWaiters.indexOf(waiter);
        if (i < 0) return;
        this.#lineWaiters.splice(i, 1);
        clearTimeout(timer);
        reject(new Error(`exited (${String(code)}) before a line matching ${String(match)}; output:\n${this.output.slice(-3000)}`));
      });
    });
  }

  /** Resolves true when it has exited within `ms`. */
  async waitExit(ms: number): Promise<boolean> {
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    return exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited after `ms`. */
  async stop(ms = 5000): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGTERM');
    if (!(await this.waitExit(ms))) {
      const pid = this.process.pid;
      try {
        if (pid !== undefined) process.kill(-pid, 'SIGKILL');
      } catch {
        this.process.kill('SIGKILL');
      }
      await this.waitExit(2000);
    }
  }
}

/** A port free on 127.0.0.1 for both UDP and TCP right now (serve may listen on both). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        const p = typeof a === 'object' && a !== null ? a.port : 0;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

/** Waits until something listens on UDP 127.0.0.1:`port` (Linux /proc/net/udp). */
export async function waitUdpListener(port: number, ms = 10_000): Promise<void> {
  const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const end = Date.now() + ms;
  for (;;) {
    if (!existsSync('/proc/net/udp')) {
      await sleep(500);
      return;
    }
    const found = readFileSync('/proc/net/udp', 'latin1').split('\n').some((line) => line.trim().split(/\s+/)[1] === wanted);
    if (found) return;
    if (Date.now() > end) throw new Error(`nothing listens on udp 127.0.0.1:${port}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const TICKS_PER_SECOND = 100;

function statOf(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command (in parentheses, which may hold spaces): state ppid ... utime(14) stime(15).
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) used so far by `pid` and its live child processes (Kamailio's
 * workers are processes of their own), from /proc; undefined where /proc is missing.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  let ticks = statOf(pid)?.ticks ?? 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(Number(name));
    if (s !== undefined && s.ppid === pid) ticks += s.ticks;
  }
  return ticks / TICKS_PER_SECOND;
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

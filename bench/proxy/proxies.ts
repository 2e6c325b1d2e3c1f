/**
 * bench:proxy and bench:registrations: the proxies under test, each a child process on a UDP port
 * of 127.0.0.1: `hookflash serve` (node dist/src/app/cli.js serve) and Kamailio with
 * bench/kamailio/proxy.cfg (a minimal stateful record-routing proxy).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Child, freePort, sleep, waitUdpListener } from './children.js';

/**
 * A copy of dist/src in `runDir` (under the repository, so node_modules still resolves), and the
 * path of its cli.js: the bench runs the build it started with, even if dist/ is rebuilt meanwhile.
 */
export function snapshotCli(root: string, runDir: string): string {
  const to = join(runDir, 'dist', 'src');
  cpSync(join(root, 'dist', 'src'), to, { recursive: true });
  return join(to, 'app', 'cli.js');
}

export interface ProxyProcess {
  /** 'hookflash' | 'kamailio'. */
  readonly name: string;
  readonly port: number;
  readonly child: Child;
  /** The HTTP address of /metrics (hookflash only). */
  readonly http?: { host: string; port: number };
  stop(): Promise<void>;
}

/** Kamailio's version line, or undefined when it is not installed. */
export function kamailioVersion(): string | undefined {
  const r = spawnSync('kamailio', ['-v'], { encoding: 'utf8' });
  if (r.error !== undefined) return undefined;
  return /kamailio \S+/.exec(`${r.stdout}${r.stderr}`)?.[0];
}

/**
 * Kamailio in the foreground with its workers (`-DD -E`: daemon mode leaves a zombie where PID 1
 * does not reap), listening on udp:127.0.0.1:`port` (given with -l, so the config names no port).
 */
export async function startKamailio(o: { config: string; port: number; dir: string }): Promise<ProxyProcess> {
  const run = join(o.dir, `kamailio-${o.port}`);
  mkdirSync(run, { recursive: true });
  const child = new Child('kamailio', ['-DD', '-E', '-f', o.config, '-l', `udp:127.0.0.1:${o.port}`,
    '-P', join(run, 'kamailio.pid'), '-Y', run, '-m', '512', '-M', '16'], { cwd: run });
  try {
    await Promise.race([
      waitUdpListener(o.port, 10_000),
      child.exited.then((code) => {
        throw new Error(`kamailio exited (${String(code)}):\n${child.output.slice(-3000)}`);
      }),
    ]);
    // The listener is bound by the main process before it forks its workers: let them start.
    await sleep(500);
  } catch (e) {
    await child.stop(2000);
    throw e;
  }
  return { name: 'kamailio', port: o.port, child, stop: () => child.stop(5000) };
}

export interface HookflashOptions {
  /** dist/src/app/cli.js */
  cli: string;
  port: number;
  /** The data directory (bindings.db lives there); a fresh one per run. */
  data: string;
  /** Domains it serves (--domain), besides its listen address. */
  domains?: string[];
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Extra node flags (e.g. --max-old-space-size). */
  nodeFlags?: string[];
  /** A configuration file (--config); the flags above override it. */
  config?: string;
}

/**
 * `hookflash serve` on udp:127.0.0.1:`port`, HTTP on a free port. Ready when it logs `hookflash
 * serve ready`, or, at log levels that hide that line (warn, error), when /healthz answers.
 */
export async function startHookflash(o: HookflashOptions): Promise<ProxyProcess> {
  mkdirSync(o.data, { recursive: true });
  const http = { host: '127.0.0.1', port: await freePort() };
  const level = o.logLevel ?? 'info';
  const args = [...(o.nodeFlags ?? []), o.cli, 'serve', ...(o.config === undefined ? [] : ['--config', o.config]), '--listen', `udp:127.0.0.1:${o.port}`, '--data', o.data,
    '--http', `${http.host}:${http.port}`, '--log-level', level];
  for (const d of o.domains ?? []) args.push('--domain', d);
  const child = new Child(process.execPath, args, { cwd: o.data });
  try {
    if (level === 'info' || level === 'debug') await child.waitLine(/hookflash serve ready/, 20_000);
    else await waitHealthy(child, http, 20_000);
  } catch (e) {
    await child.stop(2000);
    throw e;
  }
  return {
    name: 'hookflash',
    port: o.port,
    child,
    http,
    // SIGTERM drains (running transactions finish); a bench step is over by then, so 10 s is plenty.
    stop: () => child.stop(10_000),
  };
}

async function waitHealthy(child: Child, http: { host: string; port: number }, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (!child.running) throw new Error(`hookflash serve exited:\n${child.output.slice(-3000)}`);
    try {
      const res = await fetch(`http://${http.host}:${http.port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > end) throw new Error(`hookflash serve: /healthz did not answer within ${ms} ms:\n${child.output.slice(-3000)}`);
    await sleep(100);
  }
}

/** Node's heap figures from hookflash serve's Prometheus /metrics (prom-client default metrics), if it exports them. */
export async function heapFromMetrics(http: { host: string; port: number } | undefined): Promise<{ heapUsed?: number; rss?: number; registrations?: number; transactions?: number }> {
  if (http === undefined) return {};
  try {
    const res = await fetch(`http://${http.host}:${http.port}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    const value = (name: string): number | undefined => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    const out: { heapUsed?: number; rss?: number; registrations?: number; transactions?: number } = {};
    const heap = value('nodejs_heap_size_used_bytes');
    const rss = value('process_resident_memory_bytes');
    const regs = value('hookflash_registrations') ?? value('hookflash_registrations_total') ?? value('hookflash_bindings');
    if (heap !== undefined) out.heapUsed = heap;
    if (rss !== undefined) out.rss = rss;
    if (regs !== undefined) out.registrations = regs;
    const tx = value('hookflash_transactions');
    if (tx !== undefined) out.transactions = tx;
    return out;
  } catch {
    return {};
  }
}

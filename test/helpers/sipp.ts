/**
 * Running SIPp (Debian package sip-tester) from a test: headless and bounded (-nostdin, an outer
 * `timeout`), with its message trace, error trace and statistics written to an artifacts
 * directory that the test keeps when it fails and removes when it passes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/helpers/). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface SippResult {
  code: number | null;
  /** The tail of SIPp's screen output. */
  output: string;
  /** The last row of the -trace_stat file, by column name (SuccessfulCall(C), FailedCall(C), Retransmissions(C)...). */
  stats: Record<string, string>;
}

export interface SippProcess {
  /** Settles when SIPp exits (or the outer timeout kills it). */
  done: Promise<SippResult>;
  /** Where the traces go. */
  dir: string;
  kill(): void;
}

/**
 * A fresh artifacts directory for one run of a test under test-artifacts/ (gitignored), named
 * after the test and the time, so that a later run does not overwrite a failure's traces.
 */
export function artifactsDir(name: string): string {
  const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 80).replace(/-+$/, '');
  const dir = join(repoRoot, 'test-artifacts', 'interop', `${slug}-${new Date().toISOString().replace(/[:.]/g, '')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Starts `sipp ARGS` with -nostdin, traces into `dir`, and an outer timeout of `seconds` (plus 10 s
 * of grace before SIGKILL). The caller passes -m, -timeout and -timeout_error itself.
 */
export function startSipp(args: string[], dir: string, seconds = 90): SippProcess {
  const traces = [
    '-nostdin',
    '-trace_msg', '-message_file', join(dir, 'sipp-messages.log'),
    '-trace_err', '-error_file', join(dir, 'sipp-errors.log'),
    '-trace_stat', '-stf', join(dir, 'sipp-stats.csv'), '-fd', '1',
  ];
  const child = spawn('timeout', ['-k', '10', String(seconds), 'sipp', ...args, ...traces], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString('latin1')).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const done = new Promise<SippResult>((resolve) => {
    child.once('error', (err) => resolve({ code: -1, output: `could not run sipp: ${err.message}`, stats: {} }));
    child.once('exit', (code) => resolve({ code, output: output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''), stats: readStats(join(dir, 'sipp-stats.csv')) }));
  });
  return {
    done,
    dir,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

function readStats(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const rows = readFileSync(file, 'latin1').split('\n').filter((l) => l.trim() !== '');
  const header = rows[0]?.split(';') ?? [];
  const last = rows.at(-1)?.split(';') ?? [];
  const out: Record<string, string> = {};
  header.forEach((name, i) => {
    if (name !== '') out[name] = last[i] ?? '';
  });
  return out;
}

/**
 * Waits until something listens on 127.0.0.1:`port` over `protocol` (Linux /proc/net), so that a
 * SIPp UAS is ready before the test calls it. Elsewhere, a fixed wait.
 */
export async function waitForListener(protocol: 'udp' | 'tcp', port: number, ms = 10_000): Promise<void> {
  const file = `/proc/net/${protocol}`;
  if (!existsSync(file)) {
    await new Promise((r) => setTimeout(r, 1000));
    return;
  }
  const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  // UDP sockets show state 07 (unconnected), TCP listeners 0A (LISTEN).
  const state = protocol === 'udp' ? '07' : '0A';
  const end = Date.now() + ms;
  for (;;) {
    const found = readFileSync(file, 'latin1').split('\n').some((line) => {
      const f = line.trim().split(/\s+/);
      return f[1] === wanted && f[3] === state;
    });
    if (found) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${protocol} 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs the real `hookflash` CLI (dist/src/app/cli.js) as a child process for the serve and user
 * tests: temp data directories, pino's JSON lines on stdout read as they come, waits bounded in
 * time, and every process killed in `t.after` if the test did not stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
export const BOUND_MS = 20_000;

/** One pino line. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface ReadyLine extends LogLine {
  listeners: Array<{ transport: string; host: string; port: number }>;
  http: { host: string; port: number; token: boolean };
  node: string;
}

export function bounded<T>(what: string, promise: Promise<T>, ms = BOUND_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** A temp directory removed after the test. */
export function tempDir(t: TestContext, prefix = 'hookflash-serve-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ServeProcess {
  child: ChildProcess;
  lines: LogLine[];
  /** The first line matching, waiting for it (rejects when the process exits first). */
  line(match: (line: LogLine) => boolean, what: string): Promise<LogLine>;
  /** The `hookflash serve ready` line. */
  ready(): Promise<ReadyLine>;
  exited: Promise<Exit>;
  stderr(): string;
}

/** Spawns `hookflash serve ARGS` (or any CLI command when `command` is given). */
export function spawnServe(t: TestContext, args: string[], options: { command?: string; cwd?: string } = {}): ServeProcess {
  const child = spawn(process.execPath, [CLI, options.command ?? 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd,
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: LogLine[] = [];
  const waiting = new Set<(line: LogLine) => void>();
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const reader = createInterface({ input: child.stdout! });
  reader.on('line', (text) => {
    stdout += text + '\n';
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of waiting) w(line);
  });
  const closed = new Promise<void>((resolve) => reader.once('close', resolve));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      void closed.then(() => resolve({ code, signal, stdout, stderr }));
    });
  });
  const line = (match: (line: LogLine) => boolean, what: string): Promise<LogLine> => {
    const found = lines.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return bounded(`${what} (stderr: ${stderr})`, new Promise<LogLine>((resolve, reject) => {
      const w = (l: LogLine): void => {
        if (!match(l)) return;
        waiting.delete(w);
        resolve(l);
      };
      waiting.add(w);
      void exited.then((e) => {
        waiting.delete(w);
        reject(new Error(`exited (${e.code ?? e.signal}) before ${what}; stderr: ${e.stderr}; stdout: ${e.stdout}`));
      });
    }));
  };
  return {
    child,
    lines,
    line,
    ready: () => line((l) => l.msg === 'hookflash serve ready', 'the ready line') as Promise<ReadyLine>,
    exited,
    stderr: () => stderr,
  };
}

/** Runs a CLI command to its end, with `input` on stdin. */
export function runCli(args: string[], input?: string): Promise<Exit> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input ?? '');
  return bounded(`hookflash ${args.join(' ')}`, new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  })).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
}

/** The flags every test passes: loopback, port 0 everywhere, its own data dir. */
export function quietFlags(data: string): string[] {
  return ['--listen', 'udp:127.0.0.1:0', '--listen', 'tcp:127.0.0.1:0', '--http', '127.0.0.1:0', '--data', data];
}

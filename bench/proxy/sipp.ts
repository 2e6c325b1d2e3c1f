/**
 * bench:proxy and bench:registrations: running SIPp headless and bounded (-nostdin, -m, -timeout,
 * an outer `timeout`), with its statistics (-trace_stat) and the reasons calls failed (-trace_err)
 * written to a directory of the run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Child } from './children.js';

/** Counters from the last row of SIPp's -trace_stat file. */
export interface SippStats {
  successful: number;
  failed: number;
  retransmissions: number;
  unexpected: number;
  /** SIPp's own elapsed time of the run, seconds. */
  elapsedS: number;
}

export interface SippRun {
  child: Child;
  /** Settles when SIPp exits (or the outer timeout ends it). */
  done: Promise<SippResult>;
}

export interface SippResult {
  exitCode: number | null;
  stats: SippStats | undefined;
  /** The first distinct error lines from -trace_err, or SIPp's last words when it wrote none. */
  errors: string[];
  output: string;
}

/** SIPp's version line, or undefined when it is not installed. */
export function sippVersion(): string | undefined {
  const r = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  if (r.error !== undefined) return undefined;
  return /SIPp v[^\s,]+[^\s,.]/.exec(`${r.stdout}${r.stderr}`)?.[0];
}

/** "HH:MM:SS" or "HH:MM:SS:mmm" → seconds. */
function elapsed(text: string | undefined): number {
  if (text === undefined) return NaN;
  const [h, m, s, ms] = text.split(':').map(Number);
  return (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0) + (ms ?? 0) / 1000;
}

export function readSippStats(file: string): SippStats | undefined {
  if (!existsSync(file)) return undefined;
  const rows = readFileSync(file, 'latin1').split('\n').filter((l) => l.trim() !== '');
  if (rows.length < 2) return undefined;
  const header = rows[0]!.split(';');
  const last = rows.at(-1)!.split(';');
  const col = (name: string): string | undefined => {
    const i = header.indexOf(name);
    return i < 0 ? undefined : last[i];
  };
  return {
    successful: Number(col('SuccessfulCall(C)') ?? NaN),
    failed: Number(col('FailedCall(C)') ?? NaN),
    retransmissions: Number(col('Retransmissions(C)') ?? NaN),
    unexpected: Number(col('FailedUnexpectedMessage(C)') ?? NaN),
    elapsedS: elapsed(col('ElapsedTime(C)')),
  };
}

/**
 * Distinct error reasons from a -trace_err file, most frequent first, at most `max`. Each entry
 * starts with a timestamp ("2026-01-01\t10:00:00.000\t1767261600.000: ") and may go on with a
 * dump of the message that caused it; only its first line is kept, with numbers and Call-IDs
 * folded so that entries of the same kind group.
 */
export function readSippErrors(file: string, max = 5): string[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'latin1');
  const seen = new Map<string, number>();
  const entry = /\d{4}-\d\d-\d\d\t[\d:.]+\t[\d.]+: ([^\n]*)/g;
  for (let m = entry.exec(text); m !== null; m = entry.exec(text)) {
    const first = m[1]!.split(/\d{4}-\d\d-\d\d\t/)[0]!;
    const key = first.replace(/\S+@[\d.]+/g, 'CALLID').replace(/\d+/g, 'N').slice(0, 140);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  // A message for a call that already succeeded (a late retransmission) is not why a call failed: list those last.
  const late = (reason: string): number => (reason.includes('(successful)') ? 1 : 0);
  return [...seen].sort((a, b) => late(a[0]) - late(b[0]) || b[1] - a[1]).slice(0, max).map(([reason, n]) => `${n}x ${reason.trim()}`);
}

/**
 * Starts `sipp ARGS` in `dir` (-nostdin, -trace_err, -trace_stat every second) under an outer
 * `timeout` of `seconds` (SIGKILL 5 s later). `name` prefixes the trace files. The caller gives -m
 * and -timeout itself.
 */
export function startSipp(name: string, args: string[], dir: string, seconds: number): SippRun {
  const errFile = join(dir, `${name}-errors.log`);
  const statFile = join(dir, `${name}-stats.csv`);
  const traces = ['-nostdin', '-trace_err', '-error_file', errFile, '-trace_stat', '-stf', statFile, '-fd', '1'];
  const child = new Child('timeout', ['-k', '5', String(Math.ceil(seconds)), 'sipp', ...args, ...traces], { cwd: dir });
  const done = child.exited.then((exitCode) => {
    const errors = readSippErrors(errFile);
    if (errors.length === 0 && exitCode !== 0) errors.push(child.output.trim().split('\n').slice(-3).join(' | '));
    return { exitCode, stats: readSippStats(statFile), errors, output: child.output };
  });
  return { child, done };
}

/**
 * Running `hookflash serve` (node dist/src/app/cli.js serve) as a child process from an interop
 * test: loopback listeners on a free port, a fresh temporary data directory, HTTP on a free port,
 * ready when it logs `hookflash serve ready`; stopped with SIGTERM (it drains), SIGKILL 10 s later.
 * With no users configured and only loopback listeners it asks for no authentication.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeDualPort } from './endpoints.js';
import { repoRoot } from './sipp.js';

export interface ServeProcessOptions {
  /** Domains it serves besides its listen address (--domain). */
  domains?: string[];
  /** Also listen on TCP on the same port. */
  tcp?: boolean;
  /** Rejects if it does not log its ready line within this (default 20 s). */
  readyMs?: number;
}

/** A running `hookflash serve`. */
export class ServeProcess {
  /** Its SIP port on 127.0.0.1 (UDP, and TCP with `tcp`). */
  readonly port: number;
  /** Its data directory (bindings.db), removed by stop(). */
  readonly data: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #output = '';

  private constructor(child: ChildProcess, port: number, data: string) {
    this.#child = child;
    this.port = port;
    this.data = data;
    const keep = (d: Buffer): void => {
      this.#output = (this.#output + d.toString('utf8')).slice(-200_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => {
      child.once('error', () => resolve(-1));
      child.once('exit', (code) => resolve(code));
    });
  }

  /** Starts it and waits for `hookflash serve ready`; rejects (and stops it) otherwise. */
  static async start(options: ServeProcessOptions = {}): Promise<ServeProcess> {
    const port = await freeDualPort();
    const data = mkdtempSync(join(tmpdir(), 'hookflash-serve-'));
    const args = [join(repoRoot, 'dist/src/app/cli.js'), 'serve', '--listen', `udp:127.0.0.1:${port}`];
    if (options.tcp === true) args.push('--listen', `tcp:127.0.0.1:${port}`);
    args.push('--data', data, '--http', '127.0.0.1:0');
    for (const d of options.domains ?? []) args.push('--domain', d);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const serve = new ServeProcess(child, port, data);
    const ms = options.readyMs ?? 20_000;
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      const check = (): void => {
        if (serve.#output.includes('hookflash serve ready')) {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          child.stderr?.off('data', check);
          resolve(true);
        }
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      void serve.#exited.then(() => {
        clearTimeout(timer);
        resolve(serve.#output.includes('hookflash serve ready'));
      });
    });
    if (!ready) {
      const output = serve.output;
      await serve.stop();
      throw new Error(`hookflash serve did not log "hookflash serve ready" within ${ms} ms:\n${output.slice(-3000)}`);
    }
    return serve;
  }

  /** What it logged (pino JSON lines) so far. */
  get output(): string {
    return this.#output;
  }

  /** SIGTERM (drain), SIGKILL after `ms`; resolves with its exit code; removes the data directory. Idempotent. */
  async stop(ms = 10_000): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        this.#exited.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
      ]);
      clearTimeout(timer);
      if (!exited) this.#child.kill('SIGKILL');
    }
    const code = await this.#exited;
    rmSync(this.data, { recursive: true, force: true });
    return code;
  }
}

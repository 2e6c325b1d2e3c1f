/**
 * Running baresip (Debian package baresip), a real softphone, headless from a test: a config of
 * its own in a temporary directory, one account, and its ctrl_tcp module as the remote control
 * (netstring-framed JSON: `LEN:{"command":"dial","params":"sip:...","token":"1"},`), through which
 * it also reports its events (CALL_ESTABLISHED, CALL_CLOSED...).
 *
 * Modules that work on a machine without a sound card (baresip 1.0.0, /usr/lib/baresip/modules):
 * g711 (PCMU/PCMA), ausine as the audio source (a 440 Hz tone; it only does 48 kHz stereo, so
 * ausrc_srate 48000 and ausrc_channels 2, baresip resamples to PCMU), alsa loaded only so that
 * `audio_player alsa,null` / `audio_alert alsa,null` resolve to ALSA's null device (nothing is
 * opened on a sound card), and account, menu (the commands: dial, hold, resume, hangup, quit...)
 * and ctrl_tcp as application modules. Its media goes to 127.0.0.1 only (net_interface 127.0.0.1,
 * not `lo`, or its SDP carries another address); rtp_timeout 0 so a peer that sends no RTP (the
 * hookflash UA has no media) does not end the call.
 *
 * sip_listen PORT also binds TCP PORT+1 (TLS): the port picked here has both free.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeDualPort } from './endpoints.js';

/** An event baresip reported over ctrl_tcp (`{"event":true,"type":"CALL_ESTABLISHED",...}`). */
export interface BaresipEvent {
  readonly type: string;
  readonly class?: string;
  readonly direction?: string;
  readonly peeruri?: string;
  readonly param?: string;
  readonly id?: string;
}

/** The reply to a command. */
export interface BaresipReply {
  readonly ok: boolean;
  readonly data: string;
}

export interface BaresipOptions {
  /** The user part of its account's address of record (default `baresip`). */
  user?: string;
  /** `auto`: it answers incoming calls by itself (default); `manual`: they ring. */
  answermode?: 'auto' | 'manual';
  /** baresip quits by itself after this long, and is killed 10 s later (default 120 s). */
  seconds?: number;
  /**
   * The line of its accounts file, given its SIP port (default
   * `<sip:USER@127.0.0.1:PORT>;regint=0;answermode=...`): e.g. an account that registers at a registrar.
   */
  account?: (sipPort: number) => string;
  /** More config lines, after the defaults (e.g. `module sndfile.so` and `snd_path DIR` to record the call's audio). */
  extraConfig?: readonly string[];
}

interface Pending {
  resolve(reply: BaresipReply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  type: string;
  resolve(event: BaresipEvent): void;
}

/** A running baresip and its ctrl_tcp connection. */
export class Baresip {
  /** Its SIP port (UDP and TCP) on 127.0.0.1. */
  readonly sipPort: number;
  /** Its account's address, to call it: `sip:USER@127.0.0.1:PORT`. */
  readonly uri: string;
  /** Every event it reported, in order. */
  readonly events: BaresipEvent[] = [];
  readonly #child: ChildProcess;
  readonly #configDir: string;
  readonly #exited: Promise<void>;
  #output = '';
  #socket: Socket | undefined;
  #buffer = Buffer.alloc(0);
  #token = 0;
  readonly #pending = new Map<string, Pending>();
  /** How many events of each type a waitEvent() has taken. */
  readonly #taken = new Map<string, number>();
  readonly #waiters: Waiter[] = [];

  private constructor(child: ChildProcess, configDir: string, sipPort: number, user: string) {
    this.#child = child;
    this.#configDir = configDir;
    this.sipPort = sipPort;
    this.uri = `sip:${user}@127.0.0.1:${sipPort}`;
    const keep = (d: Buffer): void => {
      this.#output = (this.#output + d.toString('latin1')).slice(-200_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  /** Starts baresip with a fresh config and connects to its ctrl_tcp; rejects (and stops it) if it does not come up in 10 s. */
  static async start(options: BaresipOptions = {}): Promise<Baresip> {
    const user = options.user ?? 'baresip';
    const seconds = options.seconds ?? 120;
    const sipPort = await freeSipPort();
    const ctrlPort = await freeDualPort();
    const configDir = mkdtempSync(join(tmpdir(), 'hookflash-baresip-'));
    writeFileSync(join(configDir, 'config'), [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      'audio_source ausine,440',
      'ausrc_srate 48000',
      'ausrc_channels 2',
      'audio_player alsa,null',
      'audio_alert alsa,null',
      'statmode_default off',
      'rtp_timeout 0',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module ausine.so',
      'module alsa.so',
      'module_app account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'));
    writeFileSync(join(configDir, 'accounts'), `${options.account?.(sipPort) ?? `<sip:${user}@127.0.0.1:${sipPort}>;regint=0;answermode=${options.answermode ?? 'auto'}`}\n`);
    writeFileSync(join(configDir, 'contacts'), '');
    // -s: SIP trace on its output, kept with a failing test's artifacts.
    const child = spawn('timeout', ['-k', '10', String(seconds), 'baresip', '-4', '-s', '-f', configDir, '-t', String(seconds)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const baresip = new Baresip(child, configDir, sipPort, user);
    try {
      await baresip.#connect(ctrlPort, 10_000);
    } catch (err) {
      await baresip.stop();
      throw new Error(`baresip did not come up: ${(err as Error).message}\n${baresip.output.slice(-3000)}`);
    }
    return baresip;
  }

  /** Its output so far (the SIP trace among it). */
  get output(): string {
    return this.#output;
  }

  async #connect(port: number, ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) throw new Error(`baresip exited (${this.#child.exitCode ?? this.#child.signalCode})`);
      try {
        this.#socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1');
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        break;
      } catch (err) {
        if (Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    this.#socket.on('data', (d: Buffer) => this.#receive(d));
    this.#socket.on('error', () => {});
    this.#socket.on('close', () => {
      for (const [token, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(new Error('ctrl_tcp connection closed'));
        this.#pending.delete(token);
      }
    });
  }

  /** Netstrings: `LEN:DATA,`, LEN in bytes. */
  #receive(data: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, data]);
    for (;;) {
      const colon = this.#buffer.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.#buffer.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(len) || len < 0) throw new Error(`bad netstring from baresip: ${this.#buffer.toString('latin1').slice(0, 80)}`);
      if (this.#buffer.length < colon + 1 + len + 1) return;
      const text = this.#buffer.subarray(colon + 1, colon + 1 + len).toString('utf8');
      this.#buffer = this.#buffer.subarray(colon + 1 + len + 1);
      this.#message(JSON.parse(text) as Record<string, unknown>);
    }
  }

  #message(m: Record<string, unknown>): void {
    if (m.response === true) {
      const token = typeof m.token === 'string' ? m.token : '';
      const p = this.#pending.get(token);
      if (p === undefined) return;
      this.#pending.delete(token);
      clearTimeout(p.timer);
      p.resolve({ ok: m.ok === true, data: typeof m.data === 'string' ? m.data : '' });
      return;
    }
    if (m.event !== true || typeof m.type !== 'string') return;
    const str = (k: string): string | undefined => (typeof m[k] === 'string' ? (m[k] as string) : undefined);
    const event: BaresipEvent = { type: m.type, class: str('class'), direction: str('direction'), peeruri: str('peeruri'), param: str('param'), id: str('id') };
    this.events.push(event);
    const i = this.#waiters.findIndex((w) => w.type === event.type);
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      this.#taken.set(event.type, (this.#taken.get(event.type) ?? 0) + 1);
      w!.resolve(event);
    }
  }

  /** Sends a command (`dial`, `hold`, `resume`, `hangup`, `listcalls`...) and resolves with its reply. */
  command(command: string, params = '', ms = 5000): Promise<BaresipReply> {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return Promise.reject(new Error('not connected to baresip'));
    const token = String(++this.#token);
    const json = JSON.stringify({ command, params, token });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(new Error(`baresip did not answer "${command} ${params}" in ${ms} ms`));
      }, ms);
      this.#pending.set(token, { resolve, reject, timer });
      socket.write(`${Buffer.byteLength(json)}:${json},`);
    });
  }

  /**
   * The next event of `type` not yet taken by an earlier waitEvent() (events that came before the
   * call count), or a rejection after `ms`.
   */
  waitEvent(type: string, ms = 10_000): Promise<BaresipEvent> {
    const taken = this.#taken.get(type) ?? 0;
    const past = this.events.filter((e) => e.type === type);
    if (past.length > taken) {
      this.#taken.set(type, taken + 1);
      return Promise.resolve(past[taken]!);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        type,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`no ${type} from baresip in ${ms} ms (events: ${this.events.map((e) => e.type).join(', ')})`));
      }, ms);
      this.#waiters.push(waiter);
    });
  }

  /** Stops it: `quit` over ctrl_tcp, SIGTERM after 3 s, SIGKILL after 2 more; removes its config. Idempotent. */
  async stop(): Promise<void> {
    const running = (): boolean => this.#child.exitCode === null && this.#child.signalCode === null;
    if (running() && this.#socket !== undefined && !this.#socket.destroyed) {
      await this.command('quit', '', 1000).catch(() => undefined);
    }
    const within = (ms: number): Promise<boolean> =>
      Promise.race([this.#exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    if (running() && !(await within(3000))) {
      this.#child.kill('SIGTERM');
      if (!(await within(2000))) this.#child.kill('SIGKILL');
    }
    await this.#exited;
    this.#socket?.destroy();
    rmSync(this.#configDir, { recursive: true, force: true });
  }
}

/** A port free for UDP and TCP with PORT+1 free for TCP too (baresip's sip_listen binds both). */
async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freeDualPort();
    const nextFree = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (nextFree) return port;
  }
  throw new Error('no port free for baresip (PORT and PORT+1)');
}

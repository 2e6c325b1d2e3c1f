/**
 * Helpers of the flood, fuzz and fault tests: raw SIP over UDP from any loopback address
 * (127.0.0.2... stand for other hosts: Linux routes all of 127/8 to lo), a serve child process
 * started with a JSON config, its RSS from /proc, and its Prometheus metrics scraped.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { DigestClient } from '../../src/auth/index.js';
import { parseMessage, type SipRequest, type SipResponse } from '../../src/message/index.js';
import { spawnServe, tempDir, type ReadyLine, type ServeProcess } from '../app/serve-process.js';

export interface Received {
  message: SipRequest | SipResponse;
  from: { address: string; port: number };
}

/** A UDP socket that sends text and collects parsed replies. */
export class RawUdp {
  readonly socket: Socket;
  readonly received: Received[] = [];
  private waiters = new Set<() => void>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (buf, rinfo) => {
      try {
        this.received.push({ message: parseMessage(buf, { lazy: true }), from: { address: rinfo.address, port: rinfo.port } });
      } catch {
        return;
      }
      for (const w of [...this.waiters]) w();
    });
    socket.on('error', () => undefined);
  }

  static async open(host = '127.0.0.1', port = 0): Promise<RawUdp> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RawUdp(socket);
  }

  get address(): { address: string; port: number } {
    return this.socket.address();
  }

  send(data: string | Buffer, port: number, host = '127.0.0.1'): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, port, host);
  }

  /** The first message (already received or to come) matching `match`, or undefined after `ms`. */
  wait(match: (m: SipRequest | SipResponse) => boolean, ms = 5000): Promise<Received | undefined> {
    const found = this.received.find((r) => match(r.message));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => {
      const done = (r: Received | undefined): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(r);
      };
      const check = (): void => {
        const r = this.received.find((x) => match(x.message));
        if (r !== undefined) done(r);
      };
      const timer = setTimeout(() => done(undefined), ms);
      this.waiters.add(check);
    });
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // closed already
    }
  }
}

let counter = 0;

/** A request's text, headers overridable (`null` leaves one out). */
export function requestText(method: string, uri: string, o: {
  from?: string; to?: string; callId?: string; cseq?: number; via?: string; contact?: string | null; extra?: string[]; body?: string;
} = {}): string {
  const n = ++counter;
  const body = o.body ?? '';
  const lines = [
    `${method} ${uri} SIP/2.0`,
    `Via: ${o.via ?? `SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-raw-${process.pid}-${n}`}`,
    'Max-Forwards: 70',
    `From: ${o.from ?? '<sip:flood@hookflash.test>'};tag=f${n}`,
    `To: ${o.to ?? `<${uri}>`}`,
    `Call-ID: ${o.callId ?? `raw-${process.pid}-${n}`}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
  ];
  if (o.contact !== null) lines.push(`Contact: ${o.contact ?? '<sip:flood@127.0.0.1:9>'}`);
  lines.push(...(o.extra ?? []));
  if (body !== '') lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return lines.join('\r\n');
}

export const isResponse = (m: SipRequest | SipResponse): m is SipResponse => 'status' in m;

/** Resident set size of a process, bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** /metrics as name{labels} → value (the default `node` label left out of the key). */
export async function scrape(httpPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels = (m[2] ?? '').replace(/,?node="[^"]*"/, '').replace(/^\{,/, '{').replace(/^\{\}$/, '');
    out.set(m[1]! + labels, Number(m[3]));
  }
  return out;
}

export interface RunningServe {
  serve: ServeProcess;
  ready: ReadyLine;
  pid: number;
  udp: number;
  tcp?: number;
  httpPort: number;
  data: string;
  port(transport: string): number;
}

/** A port free on 127.0.0.1 for both UDP and TCP. */
export async function freePort(): Promise<number> {
  for (;;) {
    const srv = createServer();
    const port = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port)));
    const udp = createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    if (free) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      return port;
    }
    udp.close();
  }
}

/**
 * Starts `hookflash serve --config FILE` with `config` (JSON; listen entries with port 0 get a free
 * port here) plus the flags; ready when /healthz answers (so it works at log level warn too).
 * Killed after the test if still running.
 */
export async function startServeWith(t: TestContext, config: Record<string, unknown>, flags: string[] = [], data?: string): Promise<RunningServe> {
  // A free port taken by another process between the probe and serve's bind: pick again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServeOnce(t, config, flags, data);
    } catch (e) {
      if (attempt >= 3 || !/address already in use/.test(String(e))) throw e;
    }
  }
}

async function startServeOnce(t: TestContext, config: Record<string, unknown>, flags: string[], data: string | undefined): Promise<RunningServe> {
  const dir = tempDir(t, 'hookflash-flood-');
  const dataDir = data ?? join(dir, 'data');
  const file = join(dir, 'serve.json');
  const listen = await Promise.all(((config.listen as string[] | undefined) ?? ['udp:127.0.0.1:0']).map(async (l) =>
    (l.endsWith(':0') ? `${l.slice(0, -1)}${await freePort()}` : l)));
  const httpPort = await freePort();
  writeFileSync(file, JSON.stringify({ ...config, listen }));
  const serve = spawnServe(t, ['--config', file, '--data', dataDir, '--http', `127.0.0.1:${httpPort}`, ...flags]);
  const up = await until(async () => {
    if (serve.child.exitCode !== null) return true;
    try {
      return (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok;
    } catch {
      return false;
    }
  }, 20_000, 100);
  if (!up || serve.child.exitCode !== null) throw new Error(`serve did not start: ${serve.stderr()}`);
  const listeners = listen.map((l) => {
    const [transport, host, port] = l.split(':');
    return { transport: transport!, host: host!, port: Number(port) };
  });
  const ready = { level: 30, msg: 'hookflash serve ready', listeners, http: { host: '127.0.0.1', port: httpPort, token: false }, node: 'node-1' } as ReadyLine;
  const port = (transport: string): number => listeners.find((l) => l.transport === transport)!.port;
  const tcp = listeners.find((l) => l.transport === 'tcp')?.port;
  return {
    serve, ready, pid: serve.child.pid!, udp: listeners.find((l) => l.transport === 'udp')?.port ?? 0,
    ...(tcp === undefined ? {} : { tcp }), httpPort, data: dataDir, port,
  };
}

/** SIGTERM and wait for the exit (bounded). */
export async function stopServe(r: RunningServe, ms = 40_000): Promise<number | null> {
  if (r.serve.child.exitCode === null && r.serve.child.signalCode === null) r.serve.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    r.serve.exited,
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]);
  clearTimeout(timer);
  if (exit === undefined) {
    r.serve.child.kill('SIGKILL');
    return (await r.serve.exited).code;
  }
  return exit.code;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `f` until it returns true or `ms` pass; the last value. */
export async function until(f: () => Promise<boolean> | boolean, ms: number, every = 200): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await f()) return true;
    if (Date.now() >= end) return false;
    await sleep(every);
  }
}

/**
 * Sends `text` and retransmits it as a UDP client transaction does (RFC 3261 §17.1.2.2: T1 = 500 ms
 * doubling to T2 = 4 s) until a final response matching `match` arrives or 64 × T1 passes.
 */
export async function transact(s: RawUdp, port: number, text: string, match: (m: SipResponse) => boolean): Promise<SipResponse | undefined> {
  const end = Date.now() + 32_000;
  let interval = 500;
  for (;;) {
    s.send(text, port);
    const got = await s.wait((m) => isResponse(m) && m.status >= 200 && match(m), Math.min(interval, end - Date.now()));
    if (got !== undefined) return got.message as SipResponse;
    if (Date.now() >= end) return undefined;
    interval = Math.min(interval * 2, 4000);
  }
}

/**
 * REGISTER user@domain from `s` (Contact: its own address), answering one 401 with Digest, each
 * request retransmitted as a phone would: the final response. Throws when none comes (32 s).
 */
export async function registerWith(s: RawUdp, port: number, domain: string, user: string, password: string, callId: string, expires = 600): Promise<SipResponse> {
  const uri = `sip:${domain}`;
  const base = { from: `<sip:${user}@${domain}>`, to: `<sip:${user}@${domain}>`, callId, contact: `<sip:${user}@${s.address.address}:${s.address.port}>;expires=${expires}` };
  const first = requestText('REGISTER', uri, { ...base, cseq: 1 });
  const resp = await transact(s, port, first, (m) => m.callId === callId && m.cseq.seq === 1);
  if (resp === undefined) throw new Error(`no answer to REGISTER ${callId}`);
  if (resp.status !== 401) return resp;
  const req = parseMessage(Buffer.from(first, 'latin1'), { lazy: true }) as SipRequest;
  const auth = new DigestClient({ username: user, password }).respond(req, resp);
  if (auth === undefined) throw new Error('the client cannot answer the challenge');
  const final = await transact(s, port, requestText('REGISTER', uri, { ...base, cseq: 2, extra: [`${auth.name}: ${auth.value}`] }),
    (m) => m.callId === callId && m.cseq.seq === 2);
  if (final === undefined) throw new Error(`no answer to REGISTER ${callId} with credentials`);
  return final;
}

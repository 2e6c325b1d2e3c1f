/**
 * The dashboard's HTTP routes, mounted on the ServeHttp of `hookflash serve` and of
 * `hookflash demo` (access control is ServeHttp's: loopback, or the configured token):
 *   GET /                      the dashboard page (dist/web, built by `npm run build`)
 *   GET /app.js, /style.css    its script and style
 *   GET /api/calls[?q=TEXT]    calls, newest first; q matches a user or a Call-ID
 *   GET /api/calls/ID          one call, the calls linked to it by a transfer, and their ladder
 *   GET /api/calls/ID/pcap     the call's messages as a pcap file
 *   GET /api/pcap              every message kept, as a pcap file
 *   GET /api/registrations     the registrar's bindings
 *   GET /api/events            server-sent events: `call` (a call's summary changed), `ping`
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { buildLadder } from './capture-ladder.js';
import { toPcap } from './capture-pcap.js';
import type { CallStore, CallSummary } from './capture-store.js';

/** A registration as the dashboard lists it. */
export interface RegistrationView {
  aor: string;
  contact: string;
  /** Seconds left. */
  expiresIn: number;
  userAgent?: string;
  /** The registrar that holds it (several in the demo). */
  registrar?: string;
  /** `transport address:port` of the flow it came over. */
  source?: string;
}

export interface DashboardOptions {
  store: CallStore;
  /** The bindings to list; default none. */
  registrations?: () => Promise<RegistrationView[]>;
  /** Where the built page lives (default dist/web next to this module's dist/src/app). */
  webRoot?: string;
  /** What the page's title names (`hookflash serve node-1`, `hookflash demo`). */
  title?: string;
  /** SSE keep-alive comment interval, ms (default 15 000). */
  pingMs?: number;
}

const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>hookflash dashboard</title>
<p>The dashboard's page is not built: run <code>npm run build</code> (it bundles web/ into dist/web).</p>
<p>The API works without it: <a href="/api/calls">/api/calls</a>, <a href="/api/registrations">/api/registrations</a>, <a href="/api/pcap">/api/pcap</a>.</p>\n`;

export class Dashboard {
  private readonly streams = new Set<ServerResponse>();
  private readonly webRoot: string;
  private readonly unsubscribe: () => void;
  private readonly ping: NodeJS.Timeout;

  constructor(private readonly options: DashboardOptions) {
    this.webRoot = options.webRoot ?? fileURLToPath(new URL('../../web/', import.meta.url));
    this.unsubscribe = options.store.subscribe((e) => {
      if (e.type === 'call') this.broadcast('call', e.call);
    });
    this.ping = setInterval(() => this.comment('ping'), options.pingMs ?? 15_000);
    this.ping.unref();
  }

  /** Open event streams. */
  get clients(): number {
    return this.streams.size;
  }

  /** Answers a dashboard path; false when the path is not the dashboard's. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const file = STATIC[path];
    if (file !== undefined) {
      await this.serveFile(res, file);
      return true;
    }
    if (!path.startsWith('/api/')) return false;
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    if (path === '/api/calls') {
      json(res, 200, { calls: this.options.store.list(query.get('q') ?? undefined) });
      return true;
    }
    if (path === '/api/registrations') {
      const list = this.options.registrations === undefined ? [] : await this.options.registrations();
      json(res, 200, { registrations: list });
      return true;
    }
    if (path === '/api/events') {
      this.openStream(req, res);
      return true;
    }
    if (path === '/api/pcap') {
      pcap(res, toPcap(this.options.store.allMessages()), 'hookflash.pcap');
      return true;
    }
    const m = /^\/api\/calls\/([^/]+)(\/pcap)?$/.exec(path);
    if (m !== null) {
      let id: string;
      try {
        id = decodeURIComponent(m[1]!);
      } catch {
        json(res, 400, { error: 'bad Call-ID in the path' });
        return true;
      }
      const call = this.options.store.get(id);
      if (call === undefined) {
        json(res, 404, { error: `no call ${id}` });
        return true;
      }
      if (m[2] !== undefined) {
        const related = query.get('related') === '1';
        const messages = related ? this.options.store.groupMessages(this.options.store.group(id)) : call.messages;
        pcap(res, toPcap(messages), `call-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.pcap`);
        return true;
      }
      const group = this.options.store.group(id);
      const calls = group.map((g) => this.options.store.get(g)!.summary);
      json(res, 200, { call: call.summary, group: calls, ladder: buildLadder(this.options.store.groupMessages(group)) });
      return true;
    }
    json(res, 404, { error: 'not found' });
    return true;
  }

  /** Ends every event stream (the HTTP server is closing). */
  close(): void {
    clearInterval(this.ping);
    this.unsubscribe();
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`retry: 2000\n\n`);
    this.streams.add(res);
    const drop = (): void => {
      this.streams.delete(res);
    };
    req.on('close', drop);
    res.on('error', drop);
    res.write(`event: hello\ndata: ${JSON.stringify({ title: this.options.title ?? 'hookflash' })}\n\n`);
  }

  private broadcast(event: string, data: CallSummary): void {
    if (this.streams.size === 0) return;
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of this.streams) s.write(text);
  }

  private comment(text: string): void {
    for (const s of this.streams) s.write(`: ${text}\n\n`);
  }

  private async serveFile(res: ServerResponse, file: string): Promise<void> {
    let body: Buffer;
    try {
      body = await readFile(this.webRoot + file);
    } catch {
      if (file === 'index.html') {
        res.writeHead(200, { 'content-type': TYPES[file]!, 'cache-control': 'no-store' });
        res.end(NOT_BUILT);
      } else {
        json(res, 404, { error: `${file} is not built: run npm run build` });
      }
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[file]!,
      'cache-control': 'no-cache',
      // The page loads only its own script and style, and talks only to this server.
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body) + '\n');
}

function pcap(res: ServerResponse, body: Buffer, name: string): void {
  res.writeHead(200, {
    'content-type': 'application/vnd.tcpdump.pcap',
    'content-disposition': `attachment; filename="${name}"`,
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Bindings as the dashboard lists them (`now` on the bindings' clock). */
export function registrationViews(bindings: ReadonlyArray<{ aor: string; contact: string; expiresAt: number; userAgent?: string; flow?: { transport: string; address: string; port: number }; registrar?: string }>, now: number): RegistrationView[] {
  return bindings.map((b) => {
    const v: RegistrationView = { aor: b.aor, contact: b.contact, expiresIn: Math.max(0, Math.round((b.expiresAt - now) / 1000)) };
    if (b.userAgent !== undefined) v.userAgent = b.userAgent;
    if (b.registrar !== undefined) v.registrar = b.registrar;
    if (b.flow !== undefined) v.source = `${b.flow.transport} ${b.flow.address}:${b.flow.port}`;
    return v;
  });
}

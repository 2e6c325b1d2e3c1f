/**
 * The HTTP side of `hookflash serve` (node:http): GET /healthz and GET /metrics, the dashboard
 * later. Loopback by default; configuration refuses a non-loopback address without a token, and
 * with a token every request must carry `Authorization: Bearer TOKEN`.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpOptions {
  host: string;
  port: number;
  token?: string;
  /** The body of /healthz. */
  health(): Record<string, unknown>;
  /** The body of /metrics and its content type. */
  metrics(): Promise<{ body: string; contentType: string }>;
  /** More GET routes (the dashboard, src/app/dashboard-http.ts): true when the path was answered. */
  routes?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
}

/** The cookie a browser keeps the token in, so the dashboard's requests and event stream carry it. */
const TOKEN_COOKIE = 'hookflash_token';

export class ServeHttp {
  private constructor(private readonly server: Server, readonly host: string, readonly port: number) {}

  /** Listens; rejects with the listen error (EADDRINUSE, EACCES). */
  static async start(options: HttpOptions): Promise<ServeHttp> {
    const expected = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
    const server = createServer((req, res) => {
      handle(req, res, options, expected).catch((e: unknown) => {
        if (!res.headersSent) reply(res, 500, 'text/plain', `internal error: ${e instanceof Error ? e.message : String(e)}\n`);
        else res.destroy();
      });
    });
    // Scrapers keep connections alive; close() must not wait for them.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address() as AddressInfo;
    return new ServeHttp(server, a.address, a.port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function reply(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...extra });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpOptions, expected: Buffer | undefined): Promise<void> {
  if (expected !== undefined) {
    // Compared as fixed-length hashes so the comparison takes the same time whatever was sent.
    // A browser (EventSource cannot send headers) opens /?token=TOKEN once: the token goes into an
    // HttpOnly cookie and the address bar loses it.
    const url = new URL(req.url ?? '/', 'http://localhost');
    const queryToken = url.pathname === '/' ? url.searchParams.get('token') : null;
    if (queryToken !== null && timingSafeEqual(digest(`Bearer ${queryToken}`), expected)) {
      res.writeHead(303, {
        location: '/',
        'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(queryToken)}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
      });
      res.end();
      return;
    }
    const cookie = /(?:^|;\s*)hookflash_token=([^;]*)/.exec(req.headers.cookie ?? '');
    const fromCookie = cookie === null ? undefined : safeDecode(cookie[1]!);
    const given = digest(req.headers.authorization ?? (fromCookie === undefined ? '' : `Bearer ${fromCookie}`));
    if (!timingSafeEqual(given, expected)) {
      reply(res, 401, 'application/json', '{"error":"a Bearer token is required"}\n', { 'www-authenticate': 'Bearer' });
      return;
    }
  }
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(res, 405, 'application/json', '{"error":"only GET"}\n', { allow: 'GET, HEAD' });
    return;
  }
  if (path === '/healthz') {
    reply(res, 200, 'application/json', JSON.stringify(options.health()) + '\n');
  } else if (path === '/metrics') {
    const m = await options.metrics();
    reply(res, 200, m.contentType, m.body);
  } else if (options.routes === undefined || !(await options.routes(req, res, path ?? '/'))) {
    reply(res, 404, 'application/json', '{"error":"not found: try /healthz or /metrics"}\n');
  }
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * `hookflash serve`: the registrar and stateful proxy, what `npm start` runs. Wires a SipServer
 * to a Registrar over the binding store (SQLite in DATA/bindings.db, or Redis), a Digest
 * authenticator over the users (config file and DATA/users.db), pino logging, and HTTP /healthz and
 * /metrics. SIGTERM or SIGINT drains (no new transactions, running ones finish), closes the
 * stores and exits 0; a second signal exits at once.
 *
 * Exit codes: 0 after a drain, 2 for a bad configuration or flag (the message names the key),
 * 1 when the server cannot start (port in use, unreadable certificate, store unreachable).
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DigestAuthenticator, isSipUri, LocationCache, RealClock, WallClock, Registrar, RequestGuard, SipServer, type SipRequest,
} from '../index.js';
import { ConfigError, isLoopback, resolveConfig, type ServeConfig, type ServeFlags } from './config.js';
import { startServeDashboard, type ServeDashboard } from './dashboard-serve.js';
import { ServeHttp } from './http-server.js';
import { hostPort } from './listen-flags.js';
import { ServeMetrics } from './metrics.js';
import { PinoLogger } from './pino-logger.js';
import { shareFreePorts } from './serve-ports.js';
import { openStores, type ServeStores } from './serve-stores.js';

export const SERVE_HELP = `hookflash serve: registrar and stateful proxy (what 'npm start' runs)

  --config FILE               JSON configuration (docs/serve.md); the flags below override it
  --listen PROTO:HOST:PORT    udp, tcp, tls, ws or wss (tls/wss need "tls" in the config); repeatable
                              (default udp:127.0.0.1:5060 and tcp:127.0.0.1:5060; port 0 picks a free one)
  --data DIR                  bindings.db and users.db live here (default ./data, created)
  --http HOST:PORT            /healthz, /metrics and the dashboard (default 127.0.0.1:8080; port 0 picks a free one)
  --domain NAME               a domain served; repeatable (default the listen hosts and localhost)
  --node-id ID                this node's id, for several nodes on one Redis (default node-1)
  --insecure-open             allow non-loopback listeners with no users (no authentication at all)
  --log-level LEVEL           debug, info, warn or error (default info)

The dashboard (calls, ladder diagrams, pcap) is at the --http address; HOOKFLASH_HEP=HOST:PORT sends
HEP v3 copies to a Homer collector. To see it with calls, run 'hookflash demo' (docs/dashboard.md).
`;

/** The longest a drain waits for running transactions: Timer C's floor would be 3 minutes; a deploy will not wait that long. */
const DRAIN_LIMIT_MS = 32_000;

/** The server cannot start (port in use, unreadable certificate): exit 1 with the message. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

function parseFlags(args: string[]): ServeFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        config: { type: 'string' },
        listen: { type: 'string', multiple: true },
        data: { type: 'string' },
        http: { type: 'string' },
        domain: { type: 'string', multiple: true },
        'node-id': { type: 'string' },
        'insecure-open': { type: 'boolean' },
        'log-level': { type: 'string' },
      },
    }));
  } catch (e) {
    throw new ConfigError(e instanceof Error ? e.message : String(e));
  }
  const flags: ServeFlags = {};
  if (values.config !== undefined) flags.config = values.config;
  if (values.listen !== undefined) flags.listen = values.listen;
  if (values.data !== undefined) flags.data = values.data;
  if (values.http !== undefined) flags.http = values.http;
  if (values.domain !== undefined) flags.domain = values.domain;
  if (values['node-id'] !== undefined) flags.nodeId = values['node-id'];
  if (values['insecure-open'] === true) flags.insecureOpen = true;
  if (values['log-level'] !== undefined) flags.logLevel = values['log-level'];
  return flags;
}

/** Reads the certificate files now, so an unreadable one is named before anything binds. */
function checkCertificates(config: ServeConfig): void {
  if (config.tls === undefined) return;
  const files: Array<[string, string]> = [['certificate', config.tls.cert], ['key', config.tls.key]];
  if (config.tls.ca !== undefined) files.push(['CA', config.tls.ca]);
  for (const [what, file] of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new StartError(`cannot read TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    if (!text.includes('-----BEGIN')) throw new StartError(`TLS ${what} ${file} is not PEM`);
  }
}

/** Why a listen failed, in words: the OS code is the useful part. */
function listenFailure(e: unknown, what: string): StartError {
  const code = (e as NodeJS.ErrnoException).code ?? (e as { cause?: NodeJS.ErrnoException }).cause?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'EADDRINUSE' || /EADDRINUSE/.test(message)) return new StartError(`cannot listen on ${what}: address already in use`);
  if (code === 'EACCES' || /EACCES/.test(message)) return new StartError(`cannot listen on ${what}: permission denied (ports below 1024 need privileges)`);
  if (code === 'EADDRNOTAVAIL' || /EADDRNOTAVAIL/.test(message)) return new StartError(`cannot listen on ${what}: no such local address`);
  return new StartError(`cannot listen on ${what}: ${message}`);
}

/**
 * Which requests are challenged: a REGISTER in `required` always (one's own address only); other
 * methods in `required` when outside a dialog (a To tag: the dialog was authorised when it was made)
 * and From one of our domains (our users; a call from another domain comes through its own proxy).
 */
function needsAuth(request: SipRequest, required: ReadonlySet<string>, domains: ReadonlySet<string>): boolean {
  if (!required.has(request.method)) return false;
  if (request.method === 'REGISTER') return true;
  if (request.toTag !== undefined) return false;
  try {
    const from = request.from.uri;
    return isSipUri(from) && domains.has(from.host.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
  } catch {
    return false;
  }
}

/**
 * The drain: new transactions refused (503), then wait until every response context is answered.
 * Completed transactions only absorb retransmissions (up to Timer J, 32 s on UDP), so they are not
 * waited for; `limitMs` bounds the whole wait.
 */
async function drain(server: SipServer, limitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<void>((resolve) => {
    const started = Date.now();
    const poll = (): void => {
      if (server.stats.contexts === 0 || Date.now() - started >= limitMs) resolve();
      else timer = setTimeout(poll, 50);
    };
    poll();
  });
  await Promise.race([server.drain(), idle]);
  clearTimeout(timer);
}

/** A running `hookflash serve`. */
export interface RunningServe {
  server: SipServer;
  http: ServeHttp;
  /** Drains the SIP server, then closes HTTP and the stores. */
  stop(): Promise<void>;
}

/**
 * Starts everything `config` asks for and logs the ready line. Throws ConfigError (refusing an
 * open server on a public address) or StartError; whatever was opened is closed again first.
 */
export async function startServe(config: ServeConfig, logger: PinoLogger): Promise<RunningServe> {
  checkCertificates(config);
  try {
    mkdirSync(config.data, { recursive: true });
  } catch (e) {
    throw new StartError(`cannot create the data directory ${config.data}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let stores: ServeStores;
  try {
    stores = await openStores(config);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new StartError(e instanceof Error ? e.message : String(e));
  }
  let server: SipServer | undefined;
  let http: ServeHttp | undefined;
  let capture: ServeDashboard | undefined;
  try {
    const open = config.listen.filter((l) => !isLoopback(l.host));
    const authOn = stores.userCount > 0;
    if (!authOn && open.length > 0 && !config.insecureOpen) {
      throw new ConfigError(`refusing to start: no users are configured and ${open.map((l) => `${l.protocol.toLowerCase()}:${hostPort(l.host, l.port)}`).join(', ')} `
        + 'is not loopback, so anyone could register and call; add users (`hookflash user add USER@DOMAIN`) or pass --insecure-open');
    }

    // Timers run on the monotonic clock; binding expiry and nonce times are stored or shared
    // between nodes, so they are epoch milliseconds (WallClock).
    const clock = new RealClock();
    const wallClock = new WallClock();
    // Hosts compared without IPv6 brackets: a Request-URI says [::1], a listener ::1.
    const bare = (host: string): string => host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    const domains = new Set(config.domains.map(bare));
    // The registrar also takes AORs at our own listen addresses (sip:alice@127.0.0.1), as the proxy routes them as ours.
    const registrarDomains = new Set([...domains, ...config.listen.map((l) => bare(l.host)).filter((h) => h !== '0.0.0.0' && h !== '::')]);
    const required = new Set(config.auth.required);
    const realm = config.auth.realm ?? config.domains[0] ?? 'hookflash';
    let pathFor: SipServer | undefined;
    const registrar = new Registrar({
      store: stores.bindings,
      clock: wallClock,
      isLocalDomain: (host) => registrarDomains.has(bare(host)),
      nodeId: config.nodeId,
      logger: logger.child({ component: 'registrar' }),
      pathFor: (source) => pathFor?.registrarPathFor(source),
      ...config.registrar,
    });
    const authenticator = authOn
      ? new DigestAuthenticator({
        users: stores.users, realm, clock: wallClock, nonceLifetimeMs: config.auth.nonceLifetime * 1000,
        ...(config.secret === undefined ? {} : { nonceSecret: new TextEncoder().encode(`nonce:${config.secret}`) }),
      })
      : undefined;

    // Rate limits, block list, sanity, transaction/call limits, auth lockout (config "limits").
    let metrics: ServeMetrics | undefined;
    const guard = config.limits === undefined ? undefined : new RequestGuard({
      clock, limits: config.limits, onRefused: (reason) => metrics?.dropped(reason),
    });
    for (let attempt = 0; server === undefined; attempt++) {
      const listeners = await shareFreePorts(config.listen);
      try {
        server = await SipServer.create({
          listeners,
          clock,
          bindingClock: wallClock,
          logger: logger.child({ component: 'sip' }),
          domains: config.domains,
          // Redis shared by several nodes: a node keeps routing from its recent lookups while Redis is down.
          location: config.store.kind === 'redis'
            ? new LocationCache(stores.bindings, { clock, logger: logger.child({ component: 'location' }) })
            : stores.bindings,
          registrar,
          nodeId: config.nodeId,
          ...(config.secret === undefined ? {} : { flowTokenKey: `flow:${config.secret}` }),
          // Outbound TLS (to other domains' proxies, phones on TLS flows): our certificate, and the CAs when given.
          ...(config.tls === undefined ? {} : { tls: { ...config.tls } }),
          ...(guard === undefined ? {} : { guard }),
          ...(authenticator === undefined ? {} : { authenticator, authenticate: (request: SipRequest) => needsAuth(request, required, domains) }),
        });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        // A shared free port taken between the probe and the bind: probe again.
        if (attempt < 5 && /EADDRINUSE/.test(message) && listeners.some((l, i) => l.port !== config.listen[i]!.port)) continue;
        const what = config.listen.map((l) => `${l.protocol.toLowerCase()}:${hostPort(l.host, l.port)}`).join(', ');
        if (/certificate|PEM|key|SSL|TLS/i.test(message) && !/EADDR/.test(message)) throw new StartError(`TLS: ${message}`);
        throw listenFailure(e, what);
      }
    }
    pathFor = server;
    const running = server;

    metrics = new ServeMetrics({
      registrations: () => stores.bindings.count(wallClock.now()),
      transactions: () => running.stats.transactions,
      activeCalls: () => running.stats.activeCalls,
      blockedSources: () => guard?.blockedSources ?? 0,
    }, { node: config.nodeId });
    const served = metrics;
    running.on('request', (e) => served.request(e.method));
    running.on('response', (e) => served.response(e.status, e.method));

    try {
      capture = startServeDashboard({
        listeners: running.listeners, name: `hookflash ${config.nodeId}`, logger,
        bindings: () => stores.bindings.list(wallClock.now()), now: () => wallClock.now(),
      });
    } catch (e) {
      throw new ConfigError(e instanceof Error ? e.message : String(e));
    }
    const dashboard = capture;
    const started = Date.now();
    try {
      http = await ServeHttp.start({
        host: config.http.host,
        port: config.http.port,
        ...(config.http.token === undefined ? {} : { token: config.http.token }),
        health: () => ({ status: 'ok', uptime: Math.round((Date.now() - started) / 1000), node: config.nodeId }),
        metrics: () => served.render(),
        routes: (req, res, path) => dashboard.routes(req, res, path),
      });
    } catch (e) {
      throw listenFailure(e, `http ${hostPort(config.http.host, config.http.port)}`);
    }

    const listeners = running.listeners.map((l) => ({ transport: l.protocol.toLowerCase(), host: l.host, port: l.port }));
    for (const l of listeners) logger.info({ ...l }, 'sip listener');
    logger.info({ domains: config.domains }, 'domains');
    logger.info({ store: stores.describe.bindings, users: stores.describe.users, data: config.data }, 'store');
    if (authOn) {
      logger.info({ auth: 'digest', realm, required: [...required] }, 'authentication on');
      const elsewhere = [...stores.realms].filter((r) => r !== realm.toLowerCase());
      if (elsewhere.length > 0) {
        logger.warn({ realm, otherRealms: elsewhere }, 'some users are in other realms and cannot log in: add them as USER@REALM, or set auth.realm');
      }
    } else if (open.length === 0) {
      logger.warn({ auth: 'off' }, 'authentication off: no users configured and every listener is on loopback');
    } else {
      logger.warn({ auth: 'off', insecureOpen: true }, 'authentication OFF on non-loopback listeners (--insecure-open): anyone can register and call');
    }
    const httpAddress = { host: http.host, port: http.port, token: config.http.token !== undefined };
    logger.info({ http: httpAddress, ...(dashboard.hep === undefined ? {} : { hep: dashboard.hep }) }, 'http: /healthz, /metrics and the dashboard');
    logger.info({}, "the dashboard shows calls as they happen; 'hookflash demo' runs the seed's calls on loopback with one");
    logger.info({ listeners, http: httpAddress }, 'hookflash serve ready');

    const runningHttp = http;
    // Expired bindings are not returned by lookups; this drops them from the store itself.
    const purge = setInterval(() => {
      stores.bindings.purgeExpired(wallClock.now()).then(
        (n) => { if (n > 0) logger.debug({ purged: n }, 'expired bindings purged'); },
        (err: unknown) => logger.warn({ err }, 'purging expired bindings failed'),
      );
    }, PURGE_INTERVAL_MS);
    purge.unref();
    return {
      server: running,
      http: runningHttp,
      stop: async () => {
        clearInterval(purge);
        logger.info({}, 'draining');
        await drain(running, DRAIN_LIMIT_MS);
        await running.close();
        await runningHttp.close();
        await dashboard.close();
        await stores.close();
        logger.info({}, 'stopped');
      },
    };
  } catch (e) {
    await http?.close();
    await capture?.close();
    await server?.close();
    await stores.close();
    throw e;
  }
}

/** How often expired bindings are dropped from the store, ms. */
const PURGE_INTERVAL_MS = 60_000;

export async function serve(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  let config: ServeConfig;
  try {
    config = resolveConfig(parseFlags(args));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`hookflash serve: ${e.message}\n`);
    return 2;
  }
  const logger = PinoLogger.create({ level: config.log.level, bindings: { node: config.nodeId } });
  // Signals are taken from the start: one that comes while starting stops the server once it is up.
  let signalled: NodeJS.Signals | undefined;
  let onStop: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      // A second signal: the operator does not want to wait for the drain.
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = signal;
    logger.info({ signal }, 'signal: draining, send it again to exit at once');
    onStop?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    let running: RunningServe;
    try {
      running = await startServe(config, logger);
    } catch (e) {
      if (!(e instanceof ConfigError) && !(e instanceof StartError)) throw e;
      logger.error({}, e.message);
      process.stderr.write(`hookflash serve: ${e.message}\n`);
      return e instanceof ConfigError ? 2 : 1;
    }
    await new Promise<void>((resolve) => {
      onStop = resolve;
      if (signalled !== undefined) resolve();
    });
    try {
      await running.stop();
      return 0;
    } catch (e) {
      logger.error({ err: e }, 'stop failed');
      return 1;
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

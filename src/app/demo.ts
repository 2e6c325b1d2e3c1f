/**
 * `hookflash demo [--exit] [--http HOST:PORT] [--hep HOST:PORT] [--pcap FILE] [--no-media]`: the
 * seed on loopback, over TLS, with real sockets (and real media): two proxies (atlanta.example.com,
 * biloxi.example.com), Alice, Bob and Carol (demo-topology.ts) go through the steps of
 * demo-flows.ts. Each step is printed with its checks and a text ladder of every message it made;
 * the dashboard (dashboard-http.ts) shows the same calls live. Every message passes the trace hook
 * (capture-trace.ts) into the call store; `--hep` sends copies to a Homer collector, `--pcap`
 * writes the whole capture when the demo ends.
 *
 * Exit codes: with --exit, 0 when every step passed and 1 otherwise; without it the demo stays up
 * (the last call live on the dashboard) until SIGINT or SIGTERM, then exits 0 (1 if a step failed);
 * 2 for a bad flag.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildLadder, renderTextLadder } from './capture-ladder.js';
import { HepSender } from './capture-hep.js';
import { toPcap } from './capture-pcap.js';
import { CallStore } from './capture-store.js';
import { TraceHook } from './capture-trace.js';
import { ConfigError, isLoopback, parseHostPort } from './config.js';
import { Dashboard, registrationViews } from './dashboard-http.js';
import { DEMO_STEPS, type DemoContext } from './demo-flows.js';
import { startDemoTopology, type DemoTopology } from './demo-topology.js';
import { ServeHttp } from './http-server.js';
import { hostPort } from './listen-flags.js';

export const DEMO_HELP = `hookflash demo: the seed's calls on loopback over TLS, with a live dashboard

  --exit               run the steps once, check each, exit 0 only when all passed
  --http HOST:PORT     the dashboard (default 127.0.0.1:8090; port 0 picks a free one)
  --token TOKEN        required for a non-loopback --http: the dashboard then asks for it
  --hep HOST:PORT      send a copy of every message to a Homer collector (HEP v3 over UDP)
  --hep-id N           HEP capture agent id (default 2001)
  --pcap FILE          write every message as a pcap file when the demo ends
  --no-media           signalling only (no RTP)
`;

interface DemoFlags {
  exit: boolean;
  http: { host: string; port: number };
  token?: string;
  hep?: { host: string; port: number };
  hepId: number;
  pcap?: string;
  media: boolean;
}

function parseFlags(args: string[]): DemoFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        exit: { type: 'boolean' },
        http: { type: 'string' },
        token: { type: 'string' },
        hep: { type: 'string' },
        'hep-id': { type: 'string' },
        pcap: { type: 'string' },
        'no-media': { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new ConfigError(e instanceof Error ? e.message : String(e));
  }
  const http = parseHostPort(values.http ?? '127.0.0.1:8090', '--http');
  if (!isLoopback(http.host) && values.token === undefined) {
    throw new ConfigError(`--http ${values.http ?? ''} is not loopback: give --token so the dashboard asks for it`);
  }
  const flags: DemoFlags = { exit: values.exit === true, http, hepId: 2001, media: values['no-media'] !== true };
  if (values.token !== undefined) flags.token = values.token;
  if (values.hep !== undefined) flags.hep = parseHostPort(values.hep, '--hep');
  if (values['hep-id'] !== undefined) {
    const n = Number(values['hep-id']);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new ConfigError(`--hep-id: ${values['hep-id']} is not a 32-bit number`);
    flags.hepId = n;
  }
  if (values.pcap !== undefined) flags.pcap = values.pcap;
  return flags;
}

const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};

/** Waits until no message has been captured for `quietMs` (at most `maxMs`): the replies a step causes after it resolves. */
async function settle(hook: TraceHook, quietMs = 150, maxMs = 2000): Promise<void> {
  const end = Date.now() + maxMs;
  let last = hook.count;
  let since = Date.now();
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 25));
    if (hook.count !== last) {
      last = hook.count;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
  }
}

export async function demo(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  let flags: DemoFlags;
  try {
    flags = parseFlags(args);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`hookflash demo: ${e.message}\n`);
    return 2;
  }

  const hook = new TraceHook();
  const store = new CallStore();
  hook.onMessage((m) => store.add(m));
  let hep: HepSender | undefined;
  if (flags.hep !== undefined) {
    const h = new HepSender({ ...flags.hep, captureId: flags.hepId, onError: (err) => process.stderr.write(`hookflash demo: HEP: ${err.message}\n`) });
    hep = h;
    hook.onMessage((m) => h.send(m));
  }
  let topology: DemoTopology | undefined;
  let dashboard: Dashboard | undefined;
  let http: ServeHttp | undefined;
  const closeAll = async (): Promise<void> => {
    await topology?.close();
    dashboard?.close();
    await http?.close();
    await hep?.close();
    if (flags.pcap !== undefined) {
      writeFileSync(flags.pcap, toPcap(store.allMessages()));
      out(`pcap: ${store.allMessages().length} messages written to ${flags.pcap}`);
    }
    hook.close();
  };

  try {
    topology = await startDemoTopology({ media: flags.media });
  } catch (e) {
    process.stderr.write(`hookflash demo: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    await closeAll();
    return 1;
  }
  const t = topology;
  for (const e of t.elements) store.names.set('127.0.0.1', e.port, e.name);
  const columns = t.elements.map((e) => e.name);
  dashboard = new Dashboard({
    store,
    title: 'hookflash demo',
    registrations: async () => registrationViews(await t.bindings(), Date.now()),
  });
  const d = dashboard;
  try {
    http = await ServeHttp.start({
      ...flags.http,
      ...(flags.token === undefined ? {} : { token: flags.token }),
      health: () => ({ status: 'ok', demo: true }),
      metrics: async () => ({ body: '', contentType: 'text/plain; version=0.0.4' }),
      routes: (req, res, path) => d.handle(req, res, path),
    });
  } catch (e) {
    process.stderr.write(`hookflash demo: cannot listen on http ${hostPort(flags.http.host, flags.http.port)}: ${e instanceof Error ? e.message : String(e)}\n`);
    await closeAll();
    return 1;
  }

  out('hookflash demo: the seed on loopback, over TLS with real sockets' + (t.media ? ', with real media (SRTP)' : ', signalling only'));
  for (const e of t.elements) out(`  ${e.name.padEnd(22)} tls 127.0.0.1:${e.port}`);
  const address = `http://${hostPort(http.host, http.port)}/`;
  out(`dashboard: ${address}${flags.token === undefined ? '' : ' (open it once with ?token=TOKEN)'}`);
  out();

  const ctx: DemoContext = { topology: t, store, calls: new Map(), keepLastCall: !flags.exit };
  let passed = 0;
  let failed: string | undefined;
  for (const [i, step] of DEMO_STEPS.entries()) {
    const before = hook.count;
    out(`[${i + 1}/${DEMO_STEPS.length}] ${step.title}`);
    let lines: string[] = [];
    try {
      lines = await step.run(ctx);
    } catch (e) {
      failed = `step ${i + 1}: ${e instanceof Error ? e.message : String(e)}`;
    }
    await settle(hook);
    const messages = store.allMessages().filter((m) => m.seq > before);
    if (messages.length > 0) out(renderTextLadder(buildLadder(messages, columns), { width: 22 }));
    for (const l of lines) out(`      ${l}`);
    if (failed !== undefined) {
      out(`  FAILED ${failed}`);
      break;
    }
    out(`  ok`);
    out();
    passed++;
  }
  if (failed === undefined) out(`all ${passed} steps passed`);
  else out(`${passed} of ${DEMO_STEPS.length} steps passed; ${failed}`);

  if (flags.exit) {
    await closeAll();
    return failed === undefined ? 0 : 1;
  }
  out(`dashboard: ${address} (Ctrl-C ends the demo)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  out('stopping');
  await closeAll();
  return failed === undefined ? 0 : 1;
}

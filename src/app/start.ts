/**
 * What `npm start` runs until `hookflash serve` lands: a SipEndpoint that answers OPTIONS (a
 * health check for phones and monitoring: `sipsak -s sip:127.0.0.1:5060`) and answers other
 * requests 405 (known methods) or 501, malformed ones 400 with the parser's reason. Every request is logged as one JSON
 * line on stdout, as is each listener once bound (event 'listening').
 *
 *   hookflash start                                   UDP and TCP on 127.0.0.1:5060
 *   hookflash start --listen udp:127.0.0.1:5060 --listen tls:[::1]:5061 --cert C --key K
 *   hookflash start --host H --port P                 UDP and TCP on H:P (0: one free port for both)
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SipEndpoint, type ListenerConfig, type LogContext, type Logger } from '../index.js';
import { hostPort, parseListen, UsageError } from './listen-flags.js';
import { shareFreePorts } from './serve-ports.js';

const HELP = `hookflash start: answer OPTIONS on the listeners given (UDP and TCP on 127.0.0.1:5060 by default)

  --listen PROTO:HOST:PORT   udp, tcp, tls, ws or wss; HOST an IPv4 address or [IPv6]; repeatable
  --cert FILE --key FILE     certificate and key (PEM) for tls and wss listeners
  --host HOST --port PORT    UDP and TCP on HOST:PORT when no --listen is given (PORT 0: a free port)
`;

/** What start() logs: one JSON object per line on stdout. */
function log(fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...fields }) + '\n');
}

/** The stack's own log lines, in the same JSON-line format; the ones about bad input get event 'malformed'. */
const EVENTS: Readonly<Record<string, string>> = {
  'malformed request answered': 'malformed',
  'malformed request dropped: no response possible': 'malformed',
  'unparseable message dropped': 'malformed',
  'stream framing failed: closing connection': 'malformed',
  'request rejected': 'rejected',
};

class LineLogger implements Logger {
  debug(): void {}
  info(obj: LogContext, msg: string): void {
    this.write('info', obj, msg);
  }
  warn(obj: LogContext, msg: string): void {
    this.write('warn', obj, msg);
  }
  error(obj: LogContext, msg: string): void {
    this.write('error', obj, msg);
  }
  private write(level: string, obj: LogContext, msg: string): void {
    // The transport announces each listener itself; start() logs them as 'listening' events.
    if (msg === 'listening') return;
    const fields: Record<string, unknown> = { level, event: EVENTS[msg] ?? 'log', msg };
    for (const [k, v] of Object.entries(obj)) fields[k] = v instanceof Error ? { name: v.name, message: v.message } : v;
    if (typeof obj.remote === 'string' && typeof obj.port === 'number') fields.peer = hostPort(obj.remote, obj.port);
    log(fields);
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`bad --port ${JSON.stringify(text)}: an integer from 0 to 65535`);
  return port;
}

function listenersFrom(args: string[]): ListenerConfig[] {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        listen: { type: 'string', multiple: true },
        cert: { type: 'string' },
        key: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
      },
    }));
  } catch (e) {
    // parseArgs names the flag: "Unknown option '--foo'", "Option '--port <value>' argument missing".
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  for (const flag of ['cert', 'key'] as const) {
    const file = values[flag];
    if (file !== undefined && !existsSync(file)) throw new UsageError(`--${flag} ${JSON.stringify(file)}: no such file`);
  }
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  const tls = values.cert !== undefined && values.key !== undefined ? { cert: values.cert, key: values.key } : undefined;
  if (values.listen !== undefined && values.listen.length > 0) {
    if (values.host !== undefined || values.port !== undefined) throw new UsageError('--host/--port and --listen do not mix');
    return values.listen.map((spec) => parseListen(spec, tls));
  }
  const host = values.host ?? '127.0.0.1';
  const port = parsePort(values.port ?? process.env.HOOKFLASH_PORT ?? '5060');
  return [{ protocol: 'UDP', host, port }, { protocol: 'TCP', host, port }];
}

export async function start(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  let requested: ListenerConfig[];
  try {
    requested = listenersFrom(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`hookflash start: ${e.message}\n\n${HELP}`);
    return 2;
  }
  let endpoint: SipEndpoint | undefined;
  for (let attempt = 0; endpoint === undefined; attempt++) {
    const listeners = await shareFreePorts(requested);
    try {
      endpoint = await SipEndpoint.create({ listeners, logger: new LineLogger(), allow: ['OPTIONS'] });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // A shared free port taken between the probe and the bind: probe again.
      if (attempt < 5 && /EADDRINUSE/.test(message) && listeners.some((l, i) => l.port !== requested[i]!.port)) continue;
      process.stderr.write(`hookflash start: ${message}\n`);
      return 1;
    }
  }
  endpoint.onRequest((request, _transaction, source) => {
    log({ level: 'info', event: 'request', method: request.method, peer: hostPort(source.remoteAddress, source.remotePort),
      transport: source.protocol.toLowerCase(), callId: request.callId });
    // The endpoint's defaults answer: OPTIONS 200 with Allow, Accept and Supported; other known methods 405, unknown ones 501.
    return false;
  });
  for (const l of endpoint.listeners) {
    log({ level: 'info', event: 'listening', transport: l.protocol.toLowerCase(), address: l.host, port: l.port,
      note: 'answers OPTIONS; `hookflash lint FILE` checks messages in files' });
  }
  const running = endpoint;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log({ level: 'info', event: 'stopped' });
  return 0;
}

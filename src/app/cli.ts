#!/usr/bin/env node
/**
 * The `hookflash` command line.
 */
import { parseArgs } from 'node:util';
import { formatLintResult, lintFiles } from './lint.js';

const USAGE = `hookflash: a SIP stack, user agent and server for call control

Usage:
  hookflash lint [--json] [--role uas|proxy] FILE...   check SIP messages in files (exit 1 if any is invalid)
  hookflash start [--listen PROTO:HOST:PORT]... [--cert FILE --key FILE]
                                                       run a SIP endpoint: OPTIONS gets 200,
                                                       malformed requests 400, anything else (INVITE too) 501;
                                                       PROTO is udp, tcp, tls, ws or wss, HOST an IPv4 address or
                                                       [IPv6]; --listen repeats; tls and wss need --cert and --key (PEM)
  hookflash start [--host HOST] [--port N]             UDP and TCP on HOST:N (default 127.0.0.1 and $HOOKFLASH_PORT or
                                                       5060; N 0: one free port for both); not with --listen
  hookflash start --help                               the start options
  hookflash phone --uri URI [--listen PROTO:HOST:PORT]... [--auto-answer] [--json]
                                                       a scriptable softphone: commands from the terminal or stdin
                                                       (call URI, answer, reject [CODE], hold, resume, hangup,
                                                       transfer URI, transfer --attended CALL, calls, use CALL,
                                                       wait EVENT [SECONDS], quit); one JSON line per event with --json
  hookflash phone --help                               the phone options and commands
  hookflash serve [--config FILE] [--listen PROTO:HOST:PORT]... [--data DIR] [--http HOST:PORT] [--domain NAME]...
                  [--node-id ID] [--insecure-open] [--log-level L]
                                                       the registrar and proxy (what 'npm start' runs): UDP and TCP on
                                                       127.0.0.1:5060, data in ./data, /healthz and /metrics on
                                                       127.0.0.1:8080 by default; docs/serve.md lists the config keys
  hookflash serve --help                               the serve options
  hookflash demo [--exit] [--http HOST:PORT] [--hep HOST:PORT] [--pcap FILE]
                                                       the seed's calls on loopback over TLS: two proxies, Alice,
                                                       Bob and Carol; call, hold, resume, blind and attended
                                                       transfer, each step checked and drawn as a ladder; the
                                                       live dashboard on 127.0.0.1:8090; --exit runs once and
                                                       exits 0 only when every step passed
  hookflash user add USER@DOMAIN [--password P] [--data DIR]
                                                       add a user serve authenticates (password from stdin without
                                                       --password); HA1 hashes only, in DATA/users.db
  hookflash user list [--data DIR] | remove USER@DOMAIN [--data DIR]
  hookflash help
`;

async function lint(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, role: { type: 'string', default: 'uas' } },
  });
  if (values.role !== 'uas' && values.role !== 'proxy') {
    process.stderr.write(`hookflash lint: --role must be uas or proxy, not ${JSON.stringify(values.role)}\n`);
    return 2;
  }
  if (positionals.length === 0) {
    process.stderr.write('hookflash lint: give at least one FILE\n');
    return 2;
  }
  const results = await lintFiles(positionals, { role: values.role });
  for (const r of results) {
    if (values.json) {
      process.stdout.write(JSON.stringify({ file: r.file, parsed: r.parsed, valid: r.valid, code: r.code, reason: r.reason }) + '\n');
    } else {
      process.stdout.write(formatLintResult(r) + '\n');
    }
  }
  return results.every((r) => r.valid) ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'lint':
      return lint(rest);
    case 'start': {
      const { start } = await import('./start.js');
      return start(rest);
    }
    case 'serve': {
      const { serve } = await import('./serve.js');
      const code = await serve(rest);
      // Everything is closed by now; should a handle linger, it must not keep a stopped server alive.
      setTimeout(() => process.exit(code), 2_000).unref();
      return code;
    }
    case 'user': {
      const { user } = await import('./user-command.js');
      return user(rest);
    }
    case 'demo': {
      const { demo } = await import('./demo.js');
      const code = await demo(rest);
      // Everything is closed by now; a lingering handle must not keep the demo alive.
      setTimeout(() => process.exit(code), 2_000).unref();
      return code;
    }
    case 'phone': {
      const { phone } = await import('./phone.js');
      return phone(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`hookflash: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`hookflash: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);

/**
 * `hookflash start` end to end: the command on its own listeners, a SipEndpoint sending it
 * OPTIONS and INVITE over each transport, and the JSON lines it logs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createRequest } from '../../src/message/index.js';
import type { TransportProtocol } from '../../src/transport/types.js';
import { startEndpoint } from '../helpers/endpoints.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';

const cli = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
const skipTls = haveOpenssl() ? false : 'the openssl CLI is not installed';
let pki: NamedPki | undefined;
before(() => {
  if (skipTls === false) pki = makeNamedPki(['localhost']);
});
after(() => pki?.cleanup());

interface Line {
  event?: string;
  transport?: string;
  address?: string;
  port?: number;
  method?: string;
  peer?: string;
}

interface Running {
  child: ChildProcess;
  lines: Line[];
  listening: Line[];
  stop(): Promise<number | null>;
}

async function run(args: string[], listeners: number): Promise<Running> {
  const child = spawn(process.execPath, [cli, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const rl = createInterface({ input: child.stdout! });
  const listening = await new Promise<Line[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start did not listen: ${stderr}`)), 10_000);
    const found: Line[] = [];
    rl.on('line', (text) => {
      const line = JSON.parse(text) as Line;
      lines.push(line);
      if (line.event === 'listening') found.push(line);
      if (found.length === listeners) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once('exit', (code) => reject(new Error(`start exited ${code}: ${stderr}`)));
  });
  return {
    child,
    lines,
    listening,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

function runToExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'start', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

test('hookflash start answers OPTIONS 200 and INVITE 405 (RFC 3261 §8.2.1) on UDP, TCP, TLS and WS listeners, logging each request (RFC 3261 §11.2)', { skip: skipTls }, async (t) => {
  const certArgs = ['--cert', pki!.certFile, '--key', pki!.keyFile];
  const server = await run(['--listen', 'udp:127.0.0.1:0', '--listen', 'tcp:127.0.0.1:0', '--listen', 'tls:127.0.0.1:0',
    '--listen', 'ws:127.0.0.1:0', ...certArgs], 4);
  const client = await startEndpoint({ protocols: ['UDP', 'TCP'], tls: { ca: pki!.ca } });
  t.after(async () => {
    await client.close();
    await server.stop();
  });
  assert.deepEqual(server.listening.map((l) => l.transport), ['udp', 'tcp', 'tls', 'ws']);
  for (const l of server.listening) {
    const protocol = l.transport!.toUpperCase() as TransportProtocol;
    const target = { protocol, address: l.address!, port: l.port! };
    const uri = protocol === 'TLS' ? 'sips:ping@127.0.0.1' : 'sip:ping@127.0.0.1';
    const from = '<sip:probe@127.0.0.1>';
    const res = await client.endpoint.request(createRequest({ method: 'OPTIONS', uri, from, to: `<${uri}>` }), { target });
    assert.equal(res.status, 200, protocol);
    assert.equal(res.get('allow'), 'OPTIONS');
    const invite = await client.endpoint.request(createRequest({ method: 'INVITE', uri, from, to: `<${uri}>`, contact: '<sip:probe@127.0.0.1>' }), { target });
    assert.equal(invite.status, 405, protocol);
  }
  // The child writes its log line before it answers, but the pipe may deliver it after the answer.
  const end = Date.now() + 2000;
  while (server.lines.filter((l) => l.event === 'request').length < 8 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  const requests = server.lines.filter((l) => l.event === 'request');
  assert.equal(requests.length, 8);
  assert.ok(requests.every((l) => typeof l.peer === 'string' && l.peer.startsWith('127.0.0.1:')));
  assert.deepEqual(requests.map((l) => `${l.method}/${l.transport}`), [
    'OPTIONS/udp', 'INVITE/udp', 'OPTIONS/tcp', 'INVITE/tcp', 'OPTIONS/tls', 'INVITE/tls', 'OPTIONS/ws', 'INVITE/ws',
  ]);
  assert.equal(await server.stop(), 0);
  assert.equal(server.lines.at(-1)?.event, 'stopped');
});

test('hookflash start --port 0 listens on UDP and TCP on one free port (RFC 3261 §18.1.1)', async (t) => {
  const server = await run(['--port', '0'], 2);
  t.after(() => server.stop());
  const [udp, tcp] = server.listening;
  assert.equal(udp?.transport, 'udp');
  assert.equal(tcp?.transport, 'tcp');
  assert.ok(udp!.port! > 0);
  assert.equal(udp!.port, tcp!.port);
});

test('hookflash start: a bad flag is named on stderr and exits 2', async () => {
  for (const [args, pattern] of [
    [['--bogus'], /--bogus/],
    [['--listen', 'sctp:127.0.0.1:5060'], /--listen "sctp:127\.0\.0\.1:5060"/],
    [['--listen', 'tls:127.0.0.1:5061'], /needs --cert and --key/],
    [['--port', 'x'], /--port "x"/],
    [['--listen', 'udp:127.0.0.1:0', '--cert', '/nonexistent.pem', '--key', '/nonexistent.key'], /--cert "\/nonexistent\.pem"/],
  ] as const) {
    const r = await runToExit([...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, pattern);
  }
});

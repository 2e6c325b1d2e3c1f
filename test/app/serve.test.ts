/**
 * `hookflash serve` as a real process on loopback ports it picks (port 0), with a temp data
 * directory: it answers OPTIONS over UDP and TCP, serves /healthz and /metrics over HTTP (the
 * counters move after a REGISTER), warns that authentication is off on loopback with no users,
 * and SIGTERM drains and exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { makeTestPki, opensslVersion } from '../helpers/certs.js';
import { bounded, quietFlags, spawnServe, tempDir, type ReadyLine } from './serve-process.js';

function options(transport: 'UDP' | 'TCP' | 'TLS', port: number, extra = ''): string {
  const branch = `z9hG4bK-${Math.random().toString(36).slice(2)}`;
  return [
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:9;branch=${branch};rport`,
    'Max-Forwards: 70',
    'From: <sip:probe@127.0.0.1>;tag=probe',
    'To: <sip:127.0.0.1>',
    `Call-ID: ${branch}@probe`,
    'CSeq: 1 OPTIONS',
    ...(extra === '' ? [] : [extra]),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Sends `message` over UDP and resolves with the first datagram back. */
function overUdp(port: number, message: string): Promise<string> {
  const socket = createSocket('udp4');
  return bounded('a UDP response', new Promise<string>((resolve, reject) => {
    socket.once('message', (m) => resolve(m.toString('latin1')));
    socket.once('error', reject);
    socket.send(message, port, '127.0.0.1');
  })).finally(() => socket.close());
}

/** Sends `message` over a TCP connection and resolves with the first whole response. */
function overTcp(port: number, message: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  return bounded('a TCP response', new Promise<string>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
    socket.once('error', reject);
    socket.write(message);
  })).finally(() => socket.destroy());
}

function port(ready: ReadyLine, transport: string): number {
  const l = ready.listeners.find((x) => x.transport === transport);
  assert.ok(l !== undefined, `a ${transport} listener in ${JSON.stringify(ready.listeners)}`);
  return l.port;
}

async function get(ready: ReadyLine, path: string): Promise<{ status: number; type: string | null; body: string }> {
  const r = await fetch(`http://127.0.0.1:${ready.http.port}${path}`);
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
}

function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries((m[2] ?? '').split(',').filter(Boolean).map((kv) => {
      const [k, v] = kv.split('=');
      return [k!, JSON.parse(v!) as string];
    }));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

test('serve on port 0 answers OPTIONS over UDP and TCP on one port, and logs its listeners and the open-auth warning', async (t) => {
  const data = join(tempDir(t), 'data');
  const serve = spawnServe(t, quietFlags(data));
  const ready = await serve.ready();
  const udp = port(ready, 'udp');
  assert.ok(udp > 0);
  assert.equal(port(ready, 'tcp'), udp, 'UDP and TCP asking for 0 share one port (RFC 3261 §18.1.1)');
  assert.ok(existsSync(join(data, 'bindings.db')), 'the SQLite bindings live in DATA/bindings.db');

  assert.match(await overUdp(udp, options('UDP', udp)), /^SIP\/2\.0 200 /);
  assert.match(await overTcp(udp, options('TCP', udp)), /^SIP\/2\.0 200 /);

  const listening = serve.lines.filter((l) => l.msg === 'sip listener').map((l) => `${String(l.transport)}:${String(l.port)}`);
  assert.deepEqual(listening.sort(), [`tcp:${udp}`, `udp:${udp}`]);
  const warning = serve.lines.find((l) => l.level === 40 && /authentication off/.test(l.msg));
  assert.ok(warning !== undefined, 'a warn line says authentication is off');
  assert.deepEqual(serve.lines.find((l) => l.msg === 'domains')?.domains, ['127.0.0.1', 'localhost']);

  serve.child.kill('SIGTERM');
  const exit = await bounded('exit after SIGTERM', serve.exited);
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(serve.lines.some((l) => l.msg === 'stopped'));
});

test('GET /healthz and /metrics over HTTP; counters and the registrations gauge move after a REGISTER', async (t) => {
  const data = join(tempDir(t), 'data');
  // --domain replaces the default domains; AORs at the listen address (alice@127.0.0.1) still register.
  const serve = spawnServe(t, [...quietFlags(data), '--node-id', 'n1', '--domain', 'example.test']);
  const ready = await serve.ready();
  assert.equal(ready.http.host, '127.0.0.1');

  const health = await get(ready, '/healthz');
  assert.equal(health.status, 200);
  assert.match(health.type ?? '', /application\/json/);
  const body = JSON.parse(health.body) as { status: string; uptime: number; node: string };
  assert.equal(body.status, 'ok');
  assert.equal(body.node, 'n1');
  assert.equal(typeof body.uptime, 'number');
  assert.equal((await get(ready, '/nothing')).status, 404);

  const before = await get(ready, '/metrics');
  assert.equal(before.status, 200);
  assert.match(before.type ?? '', /text\/plain/);
  assert.equal(metric(before.body, 'hookflash_registrations'), 0);
  assert.equal(metric(before.body, 'hookflash_sip_requests_total', { method: 'REGISTER' }), undefined);
  assert.ok(metric(before.body, 'hookflash_transactions') !== undefined);
  assert.ok(metric(before.body, 'hookflash_calls_active') !== undefined);
  assert.ok(metric(before.body, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics');

  const udp = port(ready, 'udp');
  const register = options('UDP', udp).replace(/OPTIONS/g, 'REGISTER').replace('To: <sip:127.0.0.1>', 'To: <sip:alice@127.0.0.1>')
    .replace('From: <sip:probe@127.0.0.1>', 'From: <sip:alice@127.0.0.1>')
    .replace('Content-Length: 0', 'Contact: <sip:alice@127.0.0.1:9>;expires=600\r\nContent-Length: 0');
  assert.match(await overUdp(udp, register), /^SIP\/2\.0 200 /);

  const after = await get(ready, '/metrics');
  assert.equal(metric(after.body, 'hookflash_sip_requests_total', { method: 'REGISTER', node: 'n1' }), 1);
  assert.equal(metric(after.body, 'hookflash_sip_responses_total', { method: 'REGISTER', code: '200' }), 1);
  assert.equal(metric(after.body, 'hookflash_registrations'), 1);

  serve.child.kill('SIGTERM');
  assert.equal((await bounded('exit', serve.exited)).code, 0);
});

test('with http.token every HTTP request needs the Bearer token', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'hookflash.json');
  writeFileSync(file, JSON.stringify({ http: { listen: '127.0.0.1:0', token: 'let-me-in' } }));
  const serve = spawnServe(t, ['--config', file, '--listen', 'udp:127.0.0.1:0', '--data', join(dir, 'data')]);
  const ready = await serve.ready();
  assert.equal(ready.http.token, true);
  const url = `http://127.0.0.1:${ready.http.port}/healthz`;
  const none = await fetch(url);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await fetch(url, { headers: { authorization: 'Bearer let-me-in' } })).status, 200);
  assert.equal((await fetch(url.replace('healthz', 'metrics'), { headers: { authorization: 'Bearer let-me-in' } })).status, 200);
  serve.child.kill('SIGTERM');
  assert.equal((await bounded('exit', serve.exited)).code, 0);
});

test('a TLS listener from the config file\'s certificate answers OPTIONS over TLS', async (t) => {
  if (opensslVersion() === undefined) {
    t.skip('openssl is not installed (apt-get install openssl)');
    return;
  }
  const pki = makeTestPki();
  t.after(() => pki.cleanup());
  const dir = tempDir(t);
  const file = join(dir, 'hookflash.json');
  writeFileSync(file, JSON.stringify({ tls: { cert: pki.server.certFile, key: pki.server.keyFile }, listen: ['tls:127.0.0.1:0'] }));
  const serve = spawnServe(t, ['--config', file, '--http', '127.0.0.1:0', '--data', join(dir, 'data')]);
  const ready = await serve.ready();
  const port = ready.listeners.find((l) => l.transport === 'tls')!.port;
  const socket = tlsConnect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'ss1.example.com' });
  let text = '';
  const answer = await bounded('a TLS response', new Promise<string>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n\r\n')) resolve(text);
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => socket.write(options('TLS', port)));
  })).finally(() => socket.destroy());
  assert.match(answer, /^SIP\/2\.0 200 /);
  serve.child.kill('SIGTERM');
  assert.equal((await bounded('exit', serve.exited)).code, 0);
});

test('SIGINT drains and exits 0 too', async (t) => {
  const serve = spawnServe(t, quietFlags(join(tempDir(t), 'data')));
  await serve.ready();
  serve.child.kill('SIGINT');
  const exit = await bounded('exit after SIGINT', serve.exited);
  assert.equal(exit.code, 0, `${exit.signal ?? ''} ${exit.stderr} ${exit.stdout}`);
  assert.ok(serve.lines.some((l) => l.msg === 'draining'));
});

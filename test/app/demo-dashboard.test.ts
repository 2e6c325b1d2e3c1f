/**
 * The dashboard's HTTP API on a real ServeHttp (src/app/dashboard-http.ts), over a call store
 * filled by the trace hook from a real call through a SipServer on loopback: the call list and
 * search, one call with its ladder, pcap downloads, registrations, server-sent events, the page,
 * and the token rule (Bearer header, or the cookie set by /?token=).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallStore } from '../../src/app/capture-store.js';
import { TraceHook } from '../../src/app/capture-trace.js';
import { Dashboard, registrationViews } from '../../src/app/dashboard-http.js';
import { ServeHttp } from '../../src/app/http-server.js';
import { startPhone, startServer } from '../flows/server-helpers.js';
import { createSocket } from 'node:dgram';
import { noopLogger } from '../../src/index.js';
import { decodeHep, HEP_CHUNK } from '../../src/app/capture-hep.js';
import { startServeDashboard } from '../../src/app/dashboard-serve.js';
import { bounded, quietFlags, spawnServe, tempDir } from './serve-process.js';

const DOMAIN = 'example.com';

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function request(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

async function setup(t: TestContext, options: { token?: string; webRoot?: string } = {}) {
  const hook = new TraceHook();
  t.after(() => hook.close());
  const store = new CallStore();
  hook.onMessage((m) => store.add(m));
  const s = await startServer(t, DOMAIN);
  store.names.set('127.0.0.1', s.target('UDP').port, 'proxy');
  const dashboard = new Dashboard({
    store,
    registrations: async () => registrationViews(await s.store.list(s.clock.now()), s.clock.now()),
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
  });
  const http = await ServeHttp.start({
    host: '127.0.0.1', port: 0, ...(options.token === undefined ? {} : { token: options.token }),
    health: () => ({ status: 'ok' }),
    metrics: async () => ({ body: '', contentType: 'text/plain' }),
    routes: (req, res, path) => dashboard.handle(req, res, path),
  });
  t.after(async () => {
    dashboard.close();
    await http.close();
  });
  return { store, s, dashboard, http };
}

test('dashboard API: calls and search, one call with its ladder, pcap per call and of everything, registrations, 404s', async (t) => {
  const { s, http } = await setup(t);
  const alice = await startPhone(t, s, 'alice', DOMAIN);
  const bob = await startPhone(t, s, 'bob', DOMAIN);
  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const b = await incoming;
  await Promise.all([a.established, b.answer()]);
  const ended = b.ended;
  await a.hangup();
  await ended;
  await new Promise((r) => setTimeout(r, 50));

  const list = JSON.parse((await request(http.port, '/api/calls')).body.toString()) as { calls: Array<{ callId: string; state: string; caller: string }> };
  assert.equal(list.calls.length, 1);
  assert.equal(list.calls[0]!.callId, a.id);
  assert.equal(list.calls[0]!.state, 'ended');
  assert.equal(list.calls[0]!.caller, `sip:alice@${DOMAIN}`);
  assert.equal(JSON.parse((await request(http.port, '/api/calls?q=BOB')).body.toString()).calls.length, 1);
  assert.equal(JSON.parse((await request(http.port, '/api/calls?q=nobody')).body.toString()).calls.length, 0);

  const one = await request(http.port, `/api/calls/${encodeURIComponent(a.id)}`);
  assert.equal(one.status, 200);
  const detail = JSON.parse(one.body.toString()) as { group: unknown[]; ladder: { columns: string[]; arrows: Array<{ label: string; text: string }> } };
  assert.equal(detail.group.length, 1);
  assert.equal(detail.ladder.columns[1], 'proxy');
  assert.deepEqual(detail.ladder.arrows.filter((x) => /^[A-Z]/.test(x.label)).map((x) => x.label), ['INVITE', 'INVITE', 'ACK', 'ACK', 'BYE', 'BYE']);
  assert.match(detail.ladder.arrows[0]!.text, /^INVITE sip:bob@example\.com SIP\/2\.0\r\n/);

  const pcap = await request(http.port, `/api/calls/${encodeURIComponent(a.id)}/pcap`);
  assert.equal(pcap.status, 200);
  assert.equal(pcap.headers['content-type'], 'application/vnd.tcpdump.pcap');
  assert.match(pcap.headers['content-disposition'] ?? '', /attachment; filename="call-.+\.pcap"/);
  assert.equal(pcap.body.readUInt32LE(0), 0xa1b2c3d4);
  const all = await request(http.port, '/api/pcap');
  assert.equal(all.body.readUInt32LE(0), 0xa1b2c3d4);
  assert.ok(all.body.length > pcap.body.length, 'everything includes the REGISTERs too');

  const regs = JSON.parse((await request(http.port, '/api/registrations')).body.toString()) as { registrations: Array<{ aor: string; expiresIn: number }> };
  assert.deepEqual(regs.registrations.map((r) => r.aor).sort(), [`sip:alice@${DOMAIN}`, `sip:bob@${DOMAIN}`]);
  assert.ok(regs.registrations.every((r) => r.expiresIn > 250 && r.expiresIn <= 300));

  assert.equal((await request(http.port, '/api/calls/nope')).status, 404);
  assert.equal((await request(http.port, '/api/calls/%E0%A4%A')).status, 400);
  assert.equal((await request(http.port, '/api/other')).status, 404);
  assert.equal((await request(http.port, '/healthz')).status, 200, 'serve\'s own routes still answer');
});

test('dashboard events: a call\'s changes arrive as server-sent events while it happens', async (t) => {
  const { s, http, dashboard } = await setup(t);
  const alice = await startPhone(t, s, 'alice', DOMAIN);
  const bob = await startPhone(t, s, 'bob', DOMAIN);
  let text = '';
  const req = get({ host: '127.0.0.1', port: http.port, path: '/api/events' });
  const res = await new Promise<IncomingMessage>((resolve) => req.on('response', resolve));
  t.after(() => req.destroy());
  assert.equal(res.headers['content-type'], 'text/event-stream');
  res.on('data', (c: Buffer) => (text += c.toString()));
  const until = async (re: RegExp): Promise<void> => {
    const end = Date.now() + 5000;
    while (!re.test(text)) {
      assert.ok(Date.now() < end, `no ${re} in ${text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until(/event: hello\n/);
  assert.equal(dashboard.clients, 1);
  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const b = await incoming;
  await Promise.all([a.established, b.answer()]);
  await until(/"state":"talking"/);
  const ended = b.ended;
  await a.hangup();
  await ended;
  await until(/"state":"ended"/);
  const events = text.split('\n\n').filter((e) => e.startsWith('event: call\n'));
  assert.ok(events.every((e) => JSON.parse(e.split('\ndata: ')[1]!).callId === a.id));
});

test('dashboard page: served from the web root with a strict CSP, or a page that says to build it; with a token: Bearer or the cookie from /?token=', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'hookflash-web-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(root, 'app.js'), 'console.log(1)');
  const { http } = await setup(t, { token: 's3cret', webRoot: root + '/' });
  const bearer = { authorization: 'Bearer s3cret' };
  assert.equal((await request(http.port, '/')).status, 401);
  assert.equal((await request(http.port, '/api/calls')).status, 401);
  assert.equal((await request(http.port, '/api/events')).status, 401);
  assert.equal((await request(http.port, '/?token=wrong')).status, 401);
  const page = await request(http.port, '/', bearer);
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'] ?? '', /^text\/html/);
  assert.match(String(page.headers['content-security-policy'] ?? ''), /default-src 'self'/);
  assert.equal((await request(http.port, '/app.js', bearer)).headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal((await request(http.port, '/style.css', bearer)).status, 404, 'not in this web root');

  const login = await request(http.port, '/?token=s3cret');
  assert.equal(login.status, 303);
  assert.equal(login.headers.location, '/');
  const cookie = [login.headers['set-cookie'] ?? []].flat()[0] ?? '';
  assert.match(cookie, /^hookflash_token=s3cret; HttpOnly; SameSite=Strict; Path=\//);
  const withCookie = { cookie: cookie.split(';')[0]! };
  assert.equal((await request(http.port, '/api/calls', withCookie)).status, 200);
  assert.equal((await request(http.port, '/api/calls', { cookie: 'hookflash_token=nope' })).status, 401);

  // No built page: a page saying how to build it (the API still works).
  const { http: bare } = await setup(t, { webRoot: join(root, 'missing') + '/' });
  const missing = await request(bare.port, '/');
  assert.equal(missing.status, 200);
  assert.match(missing.body.toString(), /npm run build/);
});

test('hookflash serve mounts the dashboard: a REGISTER shows in /api/registrations and /api/pcap, and goes to the HEP collector of HOOKFLASH_HEP', async (t) => {
  const collector = createSocket('udp4');
  await new Promise<void>((resolve) => collector.bind(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => collector.close(() => resolve())));
  const packets: Buffer[] = [];
  collector.on('message', (b) => packets.push(b));
  // The child inherits the environment at spawn.
  process.env['HOOKFLASH_HEP'] = `127.0.0.1:${collector.address().port}`;
  process.env['HOOKFLASH_HEP_ID'] = '42';
  let serve;
  try {
    serve = spawnServe(t, quietFlags(join(tempDir(t), 'data')));
  } finally {
    delete process.env['HOOKFLASH_HEP'];
    delete process.env['HOOKFLASH_HEP_ID'];
  }
  const ready = await serve.ready();
  const http = await serve.line((l) => l.msg === 'http: /healthz, /metrics and the dashboard', 'the http line');
  assert.equal(http['hep'], `127.0.0.1:${collector.address().port}`);
  assert.ok(serve.lines.some((l) => /hookflash demo/.test(l.msg)), 'the start-up log mentions the demo');
  const udp = ready.listeners.find((l) => l.transport === 'udp')!;
  const phone = createSocket('udp4');
  await new Promise<void>((resolve) => phone.bind(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => phone.close(() => resolve())));
  const me = phone.address().port;
  const register = [
    `REGISTER sip:127.0.0.1:${udp.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKdash1;rport`, 'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1>;tag=d1`, `To: <sip:alice@127.0.0.1>`, 'Call-ID: dash-reg-1', 'CSeq: 1 REGISTER',
    `Contact: <sip:alice@127.0.0.1:${me}>`, 'Expires: 300', 'Content-Length: 0', '', '',
  ].join('\r\n');
  const answered = new Promise<string>((resolve) => phone.once('message', (b) => resolve(b.toString())));
  phone.send(register, udp.port, '127.0.0.1');
  assert.match(await bounded('the 200', answered), /^SIP\/2\.0 200 /);

  const regs = JSON.parse((await request(ready.http.port, '/api/registrations')).body.toString()) as { registrations: Array<{ aor: string; contact: string }> };
  assert.deepEqual(regs.registrations.map((r) => r.aor), ['sip:alice@127.0.0.1']);
  const pcap = await request(ready.http.port, '/api/pcap');
  assert.ok(pcap.body.includes('dash-reg-1'), 'the REGISTER is in the capture');
  assert.equal((await request(ready.http.port, '/api/calls')).status, 200);
  const end = Date.now() + 5000;
  while (packets.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  const hep = packets.map((p) => decodeHep(p));
  assert.ok(hep.some((c) => c.find((x) => x.type === HEP_CHUNK.payload)!.value.toString().startsWith('REGISTER ')));
  assert.ok(hep.some((c) => c.find((x) => x.type === HEP_CHUNK.payload)!.value.toString().startsWith('SIP/2.0 200 ')));
  assert.ok(hep.every((c) => c.find((x) => x.type === HEP_CHUNK.captureId)!.value.readUInt32BE() === 42));
  serve.child.kill('SIGTERM');
  assert.equal((await bounded('exit', serve.exited)).code, 0);
});

test('serve dashboard settings: HOOKFLASH_DASHBOARD=off mounts nothing; a bad HOOKFLASH_HEP is refused by name', async () => {
  const base = { listeners: [], name: 'x', bindings: async () => [], now: () => 0, logger: noopLogger };
  const off = startServeDashboard({ ...base, env: { HOOKFLASH_DASHBOARD: 'off' } });
  assert.equal(await off.routes({} as never, {} as never, '/api/calls'), false);
  await off.close();
  assert.throws(() => startServeDashboard({ ...base, env: { HOOKFLASH_HEP: 'nowhere' } }), /HOOKFLASH_HEP must be HOST:PORT/);
});

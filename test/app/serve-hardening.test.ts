/**
 * Hardening of `hookflash serve` (issue 9), on the real CLI where the behaviour is the process's:
 * - per-source rate limit (config "limits"): 503 with Retry-After, then the block list, with
 *   hookflash_dropped_total{reason} and hookflash_blocked_sources in /metrics; others unaffected;
 * - sanity checks: a 400 whose reason phrase names the problem, before any transaction;
 * - "limits" keys checked like the rest of the file (unknown keys named, types, addresses);
 * - authentication lockout after N failures, the same for an unknown user as for a wrong password,
 *   and the Digest check doing the same work for both (timing);
 * - a peer that stops answering mid-call: timers end the BYE, every transaction and the guard's
 *   call count go back to 0 (in process, FakeClock).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DigestAuthenticator, DigestClient } from '../../src/auth/index.js';
import { FakeClock } from '../../src/core/clock.js';
import { parseMessage, type SipRequest, type SipResponse } from '../../src/message/index.js';
import { RequestGuard } from '../../src/proxy/overload-guard.js';
import { SipServer } from '../../src/proxy/index.js';
import type { Binding, LocationService } from '../../src/registrar/binding.js';
import { FileUserStore } from '../../src/store/file-user-store.js';
import { isResponse, RawUdp, registerWith, requestText, scrape, startServeWith, stopServe, until } from '../flood/raw-sip.js';
import { runCli, tempDir } from './serve-process.js';

const DOMAIN = 'hookflash.test';

test('per-source rate limit: 503 with Retry-After, then blocked; counted in /metrics; another source is served', { timeout: 60_000 }, async (t) => {
  const r = await startServeWith(t, {
    listen: ['udp:127.0.0.1:0'], domains: [DOMAIN], log: { level: 'warn' },
    limits: { action: 'reject', retryAfter: 9, requestsPerSecond: 5, burst: 5, blockAfter: 10, blockSeconds: 30, trusted: [] },
  });
  const flooder = await RawUdp.open('127.0.0.2');
  const other = await RawUdp.open('127.0.0.3');
  t.after(() => {
    flooder.close();
    other.close();
  });
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const id = `rl-${i}`;
    ids.push(id);
    flooder.send(requestText('OPTIONS', `sip:${DOMAIN}`, { callId: id }), r.udp);
  }
  assert.ok(await until(() => flooder.received.length >= 30, 10_000), `30 answers (got ${flooder.received.length})`);
  const answers = flooder.received.map((x) => x.message as SipResponse);
  const ok = answers.filter((a) => a.status === 200);
  const limited = answers.filter((a) => a.status === 503 && a.reasonPhrase === 'Service Unavailable (rate limit)');
  const blocked = answers.filter((a) => a.status === 503 && a.reasonPhrase === 'Service Unavailable (source blocked)');
  assert.ok(ok.length >= 5 && ok.length <= 7, `the burst of 5 (and what refilled meanwhile) passes: ${ok.length}`);
  assert.equal(limited.length, 10, 'refused for the rate until blockAfter (10) refusals');
  assert.equal(blocked.length, 30 - ok.length - 10);
  assert.ok(limited.every((a) => a.get('retry-after') === '9'));
  const retry = Number(blocked[0]!.get('retry-after'));
  assert.ok(retry > 25 && retry <= 30, `a blocked source is told the block's remaining time: ${retry}`);

  other.send(requestText('OPTIONS', `sip:${DOMAIN}`, { callId: 'other-1' }), r.udp);
  const answer = await other.wait(() => true);
  assert.equal((answer?.message as SipResponse | undefined)?.status, 200, 'another address is not affected');

  const m = await scrape(r.httpPort);
  assert.equal(m.get('hookflash_dropped_total{reason="source-rate"}'), 10);
  assert.equal(m.get('hookflash_dropped_total{reason="blocked"}'), blocked.length);
  assert.equal(m.get('hookflash_blocked_sources'), 1);
  assert.equal(await stopServe(r), 0);
});

test('sanity checks answer 400 with the reason, before any transaction; silent drop mode sends nothing', { timeout: 60_000 }, async (t) => {
  const r = await startServeWith(t, {
    listen: ['udp:127.0.0.1:0'], domains: [DOMAIN], log: { level: 'warn' },
    limits: { action: 'drop', requestsPerSecond: 2, burst: 2, blockAfter: 0, trusted: [] },
  });
  const s = await RawUdp.open('127.0.0.4');
  t.after(() => s.close());
  const cases: Array<[string, RegExp]> = [
    [requestText('INVITE', `sip:bob@${DOMAIN}`, { contact: null, callId: 'nocontact' }), /^Missing Contact header in INVITE$/],
    [requestText('OPTIONS', `sip:${DOMAIN}`, { callId: 'mf', extra: [] }).replace('Max-Forwards: 70', 'Max-Forwards: 999'), /Max-Forwards/],
  ];
  for (const [text] of cases) s.send(text, r.udp);
  for (const [text, reason] of cases) {
    const id = /Call-ID: (\S+)/.exec(text)![1]!;
    const got = await s.wait((m) => isResponse(m) && m.callId === id);
    assert.ok(got, `an answer for ${id}`);
    const resp = got.message as SipResponse;
    assert.equal(resp.status, 400);
    assert.match(resp.reasonPhrase, reason);
  }
  // The two above used the burst; these are dropped without an answer.
  const before = s.received.length;
  for (let i = 0; i < 5; i++) s.send(requestText('OPTIONS', `sip:${DOMAIN}`), r.udp);
  await new Promise((res) => setTimeout(res, 700));
  assert.ok(s.received.length - before <= 1, 'dropped silently (one may pass on the refill)');
  const m = await scrape(r.httpPort);
  assert.equal(m.get('hookflash_dropped_total{reason="sanity"}'), 2);
  assert.ok((m.get('hookflash_dropped_total{reason="source-rate"}') ?? 0) >= 4);
  assert.equal(m.get('hookflash_transactions'), 0, 'no transaction was made for them');
  assert.equal(await stopServe(r), 0);
});

test('"limits" is checked like the rest of the file: unknown keys named, types, addresses', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const cases: Array<[unknown, RegExp]> = [
    [{ requestsPerSecnd: 5 }, /unknown key "limits\.requestsPerSecnd" \(did you mean requestsPerSecond\?\)/],
    [{ action: 'ignore' }, /"limits\.action" must be one of "reject", "drop"/],
    [{ blockSeconds: 0 }, /"limits\.blockSeconds" must be at least 1/],
    [{ trusted: ['example.com'] }, /"limits\.trusted\[0\]" must be an IP address/],
  ];
  for (const [limits, message] of cases) {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ limits }));
    const exit = await runCli(['serve', '--config', file, '--data', join(dir, 'data')]);
    assert.equal(exit.code, 2, exit.stderr);
    assert.match(exit.stderr, message);
  }
});

test('authentication lockout: after 3 failures the user is refused 403 even with the right password; an unknown user is treated the same', { timeout: 60_000 }, async (t) => {
  const r = await startServeWith(t, {
    listen: ['udp:127.0.0.1:0'], domains: [DOMAIN], log: { level: 'warn' },
    users: [{ user: `alice@${DOMAIN}`, password: 'wonderland' }],
    limits: { authFailuresPerUser: 3, authFailuresPerSource: 100, lockoutSeconds: 60, trusted: [] },
  });
  const s = await RawUdp.open('127.0.0.5');
  t.after(() => s.close());
  const wrong: SipResponse[] = [];
  const unknown: SipResponse[] = [];
  for (let i = 0; i < 3; i++) {
    wrong.push(await registerWith(s, r.udp, DOMAIN, 'alice', 'looking-glass', `wrong-${i}`));
    unknown.push(await registerWith(s, r.udp, DOMAIN, 'mallory', 'anything', `unknown-${i}`));
  }
  for (const [a, b] of wrong.map((w, i) => [w, unknown[i]!] as const)) {
    assert.deepEqual([a.status, a.reasonPhrase], [b.status, b.reasonPhrase], 'a wrong password and an unknown user get the same answer');
    assert.equal(a.status, 401);
  }
  const locked = await registerWith(s, r.udp, DOMAIN, 'alice', 'wonderland', 'right-after');
  assert.deepEqual([locked.status, locked.reasonPhrase], [403, 'Forbidden (locked out)']);
  const lockedUnknown = await registerWith(s, r.udp, DOMAIN, 'mallory', 'anything', 'unknown-after');
  assert.deepEqual([lockedUnknown.status, lockedUnknown.reasonPhrase], [403, 'Forbidden (locked out)']);
  const m = await scrape(r.httpPort);
  assert.equal(m.get('hookflash_dropped_total{reason="auth-lockout"}'), 2);
  assert.equal(await stopServe(r), 0);
});

test('the Digest check costs the same for an unknown user as for a wrong password (medians within 25 %)', async () => {
  const users = new FileUserStore([{ user: 'alice', password: 'wonderland' }], { realm: DOMAIN });
  const auth = new DigestAuthenticator({ users, realm: DOMAIN, clock: new FakeClock() });
  const requestFor = (user: string, password: string): Promise<SipRequest> => (async () => {
    const text = requestText('REGISTER', `sip:${DOMAIN}`, { from: `<sip:${user}@${DOMAIN}>`, to: `<sip:${user}@${DOMAIN}>` });
    const req = parseMessage(Buffer.from(text, 'latin1'), { lazy: true }) as SipRequest;
    const outcome = auth.challenge('www');
    const challenge = parseMessage(Buffer.from(`SIP/2.0 401 Unauthorized\r\n${outcome.headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n`), { lazy: true }) as SipResponse;
    const header = new DigestClient({ username: user, password }).respond(req, challenge)!;
    req.append(header.name, header.value);
    return req;
  })();
  const time = async (req: SipRequest): Promise<number> => {
    const t0 = process.hrtime.bigint();
    const o = await auth.check(req, 'www');
    const dt = Number(process.hrtime.bigint() - t0);
    assert.equal(o.kind, 'challenge');
    return dt;
  };
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const [a, b] = [await requestFor('alice', 'nope'), await requestFor('mallory', 'nope')];
    if (i % 2 === 0) {
      wrong.push(await time(a));
      unknown.push(await time(b));
    } else {
      unknown.push(await time(b));
      wrong.push(await time(a));
    }
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const ratio = median(unknown) / median(wrong);
  assert.ok(ratio > 0.75 && ratio < 1.33, `unknown/wrong median time ratio ${ratio.toFixed(3)} (${median(unknown)} ns vs ${median(wrong)} ns)`);
});

/** A location service from a table (the registrar is not under test). */
class Table implements LocationService {
  readonly map = new Map<string, Binding[]>();
  async lookup(aor: string): Promise<Binding[]> {
    return this.map.get(aor) ?? [];
  }
}

test('a peer that stops answering mid-call: Timer F ends the BYE (408 upstream); every transaction and the call count go back to 0', async (t) => {
  const clock = new FakeClock();
  const guard = new RequestGuard({ clock, limits: { trusted: [] } });
  const location = new Table();
  const server = await SipServer.create({
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }], domains: [DOMAIN], location, clock, guard,
  });
  const port = server.listeners[0]!.port;
  const caller = await RawUdp.open('127.0.0.6');
  const callee = await RawUdp.open('127.0.0.7');
  t.after(async () => {
    caller.close();
    callee.close();
    await server.close();
  });
  const bob = `sip:bob@${callee.address.address}:${callee.address.port}`;
  location.map.set(`sip:bob@${DOMAIN}`, [{ aor: `sip:bob@${DOMAIN}`, contact: bob, expiresAt: Number.MAX_SAFE_INTEGER, q: 1, callId: 'r', cseq: 1, path: [], updatedAt: 0 }]);
  const via = `SIP/2.0/UDP ${caller.address.address}:${caller.address.port};rport;branch=z9hG4bK-dead-1`;
  const me = `<sip:alice@${caller.address.address}:${caller.address.port}>`;
  caller.send(requestText('INVITE', `sip:bob@${DOMAIN}`, { callId: 'dead', via, contact: me, from: `<sip:alice@${DOMAIN}>` }), port);
  const invite = await callee.wait((m) => !isResponse(m) && m.method === 'INVITE');
  assert.ok(invite);
  const inv = invite.message as SipRequest;
  // The callee answers 200 (with its Contact), then goes silent.
  const ok = [
    'SIP/2.0 200 OK', ...inv.getAll('via').map((v) => `Via: ${v}`), ...inv.getAll('record-route').map((v) => `Record-Route: ${v}`),
    `From: ${inv.get('from')}`, `To: ${inv.get('to')};tag=callee`, `Call-ID: ${inv.callId}`, `CSeq: ${inv.get('cseq')}`,
    `Contact: <${bob}>`, 'Content-Length: 0', '', '',
  ].join('\r\n');
  callee.send(ok, invite.from.port, invite.from.address);
  const answered = await caller.wait((m) => isResponse(m) && m.status === 200);
  assert.ok(answered, 'the 200 reached the caller');
  assert.equal(server.stats.activeCalls, 1);
  assert.equal(guard.load.calls, 1);
  const rr = (answered.message as SipResponse).getAll('record-route');
  const route = rr.map((v) => `Route: ${v}`);
  caller.send(requestText('ACK', bob, { callId: 'dead', via: via.replace('dead-1', 'dead-2'), to: `<sip:bob@${DOMAIN}>;tag=callee`, contact: me, from: `<sip:alice@${DOMAIN}>`, extra: route }), port);
  caller.send(requestText('BYE', bob, { callId: 'dead', cseq: 2, via: via.replace('dead-1', 'dead-3'), to: `<sip:bob@${DOMAIN}>;tag=callee`, contact: me, from: `<sip:alice@${DOMAIN}>`, extra: route }), port);
  assert.ok(await callee.wait((m) => !isResponse(m) && m.method === 'BYE'), 'the BYE was forwarded to the (now silent) callee');
  // Timer E retransmissions, then Timer F (64 × T1 = 32 s): 408 to the caller.
  for (let i = 0; i < 34 && (await caller.wait((m) => isResponse(m) && m.cseq.method === 'BYE', 1)) === undefined; i++) {
    clock.advance(1000);
    await new Promise((res) => setImmediate(res));
  }
  const timeout = await caller.wait((m) => isResponse(m) && m.cseq.method === 'BYE', 2000);
  assert.ok(timeout, 'the caller got a final answer to its BYE');
  assert.equal((timeout.message as SipResponse).status, 408);
  // Timer K, Timer J and the INVITE transaction's Timer L: then nothing is left.
  clock.advance(64_000);
  await new Promise((res) => setImmediate(res));
  assert.equal(server.stats.transactions, 0, 'no transaction left');
  assert.equal(server.stats.activeCalls, 0, 'the call is over');
  assert.equal(guard.load.calls, 0, 'the guard forgot the call');
  assert.equal(guard.load.transactions, 0);
  assert.equal(server.stats.contexts, 0);
});

/**
 * The request guard (src/proxy/overload-guard.ts) and its parts: token buckets, the block list,
 * the sanity checks, transaction and call limits, the authentication lockout. FakeClock throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthLockout } from '../../../src/auth/lockout.js';
import { FakeClock } from '../../../src/core/clock.js';
import { parseMessage, type SipRequest } from '../../../src/message/index.js';
import { RequestGuard, type GuardLimits } from '../../../src/proxy/overload-guard.js';
import { BlockList, BucketTable, WindowCounter } from '../../../src/proxy/rate-limit.js';
import { sanityCheck } from '../../../src/proxy/sanity.js';
import type { ServerTransaction, TransactionUser } from '../../../src/transaction/index.js';
import type { Source } from '../../../src/transport/index.js';

let seq = 0;
function req(method: string, o: { callId?: string; from?: string; toTag?: string; extra?: string[]; cseq?: string; body?: string; contact?: boolean; mf?: string } = {}): SipRequest {
  const body = o.body ?? '';
  const lines = [
    `${method} sip:bob@example.com SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK${++seq}`,
    `Max-Forwards: ${o.mf ?? '70'}`,
    `From: <sip:${o.from ?? 'alice'}@example.com>;tag=f${seq}`,
    `To: <sip:bob@example.com>${o.toTag === undefined ? '' : `;tag=${o.toTag}`}`,
    `Call-ID: ${o.callId ?? `call-${seq}`}`,
    `CSeq: ${o.cseq ?? `1 ${method}`}`,
    ...(o.contact === false ? [] : ['Contact: <sip:alice@192.0.2.1>']),
    ...(o.extra ?? []),
    `Content-Length: ${body.length}`,
    '', body,
  ];
  return parseMessage(Buffer.from(lines.join('\r\n')), { lazy: true }) as SipRequest;
}

const src = (address: string, port = 5060): Source => ({ protocol: 'UDP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: address, remotePort: port });

function guard(limits: Partial<GuardLimits> = {}, clock = new FakeClock()): { g: RequestGuard; clock: FakeClock; refused: string[] } {
  const refused: string[] = [];
  const g = new RequestGuard({ clock, limits: { trusted: [], ...limits }, onRefused: (r) => refused.push(r) });
  return { g, clock, refused };
}

test('BucketTable: a burst, then refusals, then the rate refills it; rate 0 never refuses', () => {
  const b = new BucketTable({ rate: 10, burst: 5 });
  let ok = 0;
  for (let i = 0; i < 20; i++) if (b.take('a', 0)) ok++;
  assert.equal(ok, 5);
  assert.equal(b.take('a', 99), false, 'less than one token after 99 ms at 10/s');
  assert.equal(b.take('a', 100), true, 'one token after 100 ms');
  assert.equal(b.take('b', 100), true, 'another key has its own bucket');
  const off = new BucketTable({ rate: 0 });
  for (let i = 0; i < 1000; i++) assert.equal(off.take('x', 0), true);
});

test('BucketTable and BlockList stay within maxKeys under many addresses', () => {
  const b = new BucketTable({ rate: 1, burst: 1 }, 100);
  for (let i = 0; i < 10_000; i++) b.take(`10.0.${i >> 8}.${i & 255}`, 0);
  assert.ok(b.size <= 100);
  const l = new BlockList(50);
  for (let i = 0; i < 1000; i++) l.block(`a${i}`, 0, 1000);
  assert.equal(l.count(0), 50);
  const w = new WindowCounter(1000, 10);
  for (let i = 0; i < 100; i++) w.hit(`k${i}`, 0);
  assert.ok(w.size <= 10);
});

test('BlockList entries expire; a block is extended, never shortened', () => {
  const l = new BlockList();
  l.block('a', 0, 1000);
  l.block('a', 0, 500);
  assert.equal(l.blockedUntil('a', 999), 1000);
  assert.equal(l.blockedUntil('a', 1000), undefined);
  assert.equal(l.count(1000), 0);
});

test('per-source rate: over the burst is dropped; the source is blocked after blockAfter refusals, until blockMs', () => {
  const { g, clock, refused } = guard({ requestsPerSecond: 10, burst: 10, blockAfter: 5, blockMs: 60_000 });
  const s = src('192.0.2.7');
  const verdicts = Array.from({ length: 15 }, () => g.inspect(req('OPTIONS'), s, 0).kind);
  assert.deepEqual(verdicts.filter((v) => v === 'pass').length, 10);
  assert.deepEqual(refused, ['source-rate', 'source-rate', 'source-rate', 'source-rate', 'source-rate']);
  assert.equal(g.blockedSources, 1);
  clock.advance(10_000);
  assert.deepEqual(g.inspect(req('OPTIONS'), s, 0), { kind: 'drop', reason: 'blocked' }, 'blocked though the bucket has refilled');
  assert.equal(g.inspect(req('OPTIONS'), src('192.0.2.8'), 0).kind, 'pass', 'other sources unaffected');
  clock.advance(50_000);
  assert.equal(g.blockedSources, 0);
  assert.equal(g.inspect(req('OPTIONS'), s, 0).kind, 'pass', 'the block expired');
});

test("action 'reject': 503 with Retry-After (the block's remaining time when blocked); an ACK is never answered", () => {
  const { g } = guard({ action: 'reject', requestsPerSecond: 1, burst: 1, blockAfter: 2, blockMs: 42_000, retryAfter: 7 });
  const s = src('192.0.2.9');
  assert.equal(g.inspect(req('OPTIONS'), s, 0).kind, 'pass');
  const v = g.inspect(req('OPTIONS'), s, 0);
  assert.deepEqual(v, { kind: 'reply', reason: 'source-rate', status: 503, phrase: 'Service Unavailable (rate limit)', retryAfter: 7 });
  g.inspect(req('OPTIONS'), s, 0);
  const blocked = g.inspect(req('OPTIONS'), s, 0);
  assert.ok(blocked.kind === 'reply' && blocked.reason === 'blocked' && blocked.retryAfter === 42);
  assert.deepEqual(g.inspect(req('ACK', { cseq: '1 ACK' }), s, 0), { kind: 'drop', reason: 'blocked' });
});

test('trusted addresses skip the per-source limits', () => {
  const { g } = guard({ requestsPerSecond: 1, burst: 1, trusted: ['127.0.0.1'] });
  for (let i = 0; i < 100; i++) assert.equal(g.inspect(req('OPTIONS'), src('127.0.0.1'), 0).kind, 'pass');
});

test('per-user rate: initial requests of one From user are limited across sources; in-dialog requests are not', () => {
  const { g, refused } = guard({ requestsPerSecond: 0, userRequestsPerSecond: 2, userBurst: 2 });
  for (let i = 0; i < 2; i++) assert.equal(g.inspect(req('MESSAGE', { from: 'eve' }), src(`192.0.2.${i + 1}`), 0).kind, 'pass');
  assert.equal(g.inspect(req('MESSAGE', { from: 'eve' }), src('192.0.2.50'), 0).kind, 'drop');
  assert.deepEqual(refused, ['user-rate']);
  assert.equal(g.inspect(req('MESSAGE', { from: 'alice' }), src('192.0.2.50'), 0).kind, 'pass');
  assert.equal(g.inspect(req('BYE', { from: 'eve', toTag: 't' }), src('192.0.2.50'), 0).kind, 'pass');
});

test('transactions per source and in total: counted through the wrapped transaction user, freed when they end', () => {
  const { g, clock, refused } = guard({ requestsPerSecond: 0, transactionsPerSource: 2, transactions: 3 });
  const seen: string[] = [];
  const inner: TransactionUser = { onRequest: (r) => seen.push(r.method), onAck: () => undefined, onTransactionTerminated: () => seen.push('end') };
  const user = g.wrap(inner);
  const s = src('192.0.2.20');
  const txs = [0, 1].map(() => ({ source: s, state: 'trying' }) as unknown as ServerTransaction);
  for (const tx of txs) {
    assert.equal(g.inspect(req('OPTIONS'), s, 0).kind, 'pass');
    user.onRequest(req('OPTIONS'), tx);
  }
  assert.equal(g.inspect(req('OPTIONS'), s, 2).kind, 'drop');
  assert.equal(g.inspect(req('OPTIONS'), src('192.0.2.21'), 2).kind, 'pass', 'another source may still');
  user.onRequest(req('OPTIONS'), { source: src('192.0.2.21'), state: 'proceeding' } as unknown as ServerTransaction);
  clock.advance(200);
  assert.equal(g.inspect(req('OPTIONS'), src('192.0.2.22'), 3).kind, 'drop', 'the total is reached');
  assert.deepEqual(refused, ['transactions-source', 'transactions-total']);
  user.onTransactionTerminated!(txs[0]!);
  assert.equal(g.load.transactions, 2);
  clock.advance(200);
  assert.equal(g.inspect(req('OPTIONS'), s, 2).kind, 'pass');
  assert.deepEqual(seen, ['OPTIONS', 'OPTIONS', 'OPTIONS', 'end']);
});

test('transactions that have answered and only wait out retransmissions (Timer J) do not count against the limits', () => {
  const { g, clock, refused } = guard({ requestsPerSecond: 0, transactionsPerSource: 2, transactions: 3 });
  const user = g.wrap({ onRequest: () => undefined, onAck: () => undefined });
  const s = src('192.0.2.40');
  const txs = [0, 1, 2, 3].map(() => ({ source: s, state: 'trying' }) as unknown as ServerTransaction);
  for (const tx of txs.slice(0, 2)) user.onRequest(req('REGISTER'), tx);
  assert.equal(g.inspect(req('REGISTER'), s, 2).kind, 'drop', 'two pending from one source: the per-source limit');
  for (const tx of txs.slice(0, 2)) (tx as unknown as { state: string }).state = 'completed';
  clock.advance(200);
  assert.equal(g.inspect(req('REGISTER'), s, 2).kind, 'pass', 'both answered: nothing pending');
  for (const tx of txs.slice(2)) user.onRequest(req('REGISTER'), tx);
  for (const tx of txs.slice(2)) (tx as unknown as { state: string }).state = 'completed';
  clock.advance(200);
  assert.equal(g.inspect(req('REGISTER'), src('192.0.2.41'), 4).kind, 'pass', 'four live, none pending: under the total of 3');
  assert.deepEqual(refused, ['transactions-source']);
});

test('calls per source: an initial INVITE counts until its failure or its BYE is answered; retransmissions count once', () => {
  const { g, refused } = guard({ requestsPerSecond: 0, dialogsPerSource: 2, dialogs: 10 });
  const s = src('192.0.2.30');
  const a = req('INVITE', { callId: 'A' });
  const b = req('INVITE', { callId: 'B' });
  assert.equal(g.inspect(a, s, 0).kind, 'pass');
  assert.equal(g.inspect(a, s, 0).kind, 'pass', 'a retransmission');
  assert.equal(g.inspect(b, s, 0).kind, 'pass');
  assert.equal(g.inspect(req('INVITE', { callId: 'C' }), s, 0).kind, 'drop');
  assert.deepEqual(refused, ['dialogs-source']);
  g.responded(a, 180);
  g.responded(a, 486);
  assert.equal(g.inspect(req('INVITE', { callId: 'C' }), s, 0).kind, 'pass', 'A failed: room for C');
  g.responded(b, 200);
  assert.equal(g.load.calls, 2);
  g.responded(req('BYE', { callId: 'B', toTag: 'x' }), 200);
  assert.equal(g.load.calls, 1);
});

test('sanity: each problem gets a 400 (416 for a URI scheme) whose reason says which, before any transaction', () => {
  const cases: Array<[SipRequest, number, RegExp]> = [
    [req('INVITE', { cseq: '1 BYE' }), 400, /CSeq method BYE does not match INVITE/],
    [req('OPTIONS', { cseq: '4294967295 OPTIONS' }), 400, /CSeq number out of range/],
    [req('OPTIONS', { mf: '300' }), 400, /Max-Forwards/],
    [req('INVITE', { contact: false }), 400, /Missing Contact header in INVITE/],
  ];
  for (const [r, status, reason] of cases) {
    const v = sanityCheck(r);
    assert.ok(!v.ok && v.status === status && reason.test(v.reason), `${reason}: ${JSON.stringify(v)}`);
  }
  // Content-Length larger than the body (a UDP datagram cut short) is refused by the parser
  // itself, whose 400 names it (the transport answers it: src/transport/bad-request.ts).
  assert.throws(() => parseMessage(Buffer.from('OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 50\r\n\r\nabc'), { lazy: true }),
    (e: unknown) => (e as { status: number; reason: string }).status === 400 && /Content-Length 50/.test((e as { reason: string }).reason));
  const mailto = parseMessage(Buffer.from('OPTIONS mailto:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'), { lazy: true });
  const sc = sanityCheck(mailto as SipRequest);
  assert.ok(!sc.ok && sc.status === 416 && /Unsupported URI scheme mailto/.test(sc.reason), JSON.stringify(sc));
  assert.deepEqual(sanityCheck(req('INVITE')), { ok: true });
  const { g } = guard();
  const v = g.inspect(req('INVITE', { cseq: '1 BYE' }), src('192.0.2.40'), 0);
  assert.ok(v.kind === 'reply' && v.status === 400 && v.reason === 'sanity');
});

test('lockout: N failures lock a user name (known or not alike) and a source; success resets the user; both expire', () => {
  const clock = new FakeClock();
  const l = new AuthLockout({ clock, maxFailures: 3, maxSourceFailures: 5, windowMs: 60_000, lockoutMs: 300_000 });
  for (let i = 0; i < 2; i++) l.failure('alice', `192.0.2.${i}`);
  l.success('alice');
  for (let i = 0; i < 2; i++) l.failure('alice', `192.0.2.${i}`);
  assert.equal(l.check('alice', '192.0.2.99').locked, false, 'success reset the count');
  l.failure('Alice', '192.0.2.3');
  assert.deepEqual(l.check('alice', '192.0.2.99'), { locked: true, by: 'user', until: 300_000 });
  for (let i = 0; i < 3; i++) l.failure('nosuchuser', '198.51.100.1');
  assert.equal(l.check('nosuchuser', '198.51.100.2').locked, true, 'an unknown name locks the same way');
  for (let i = 0; i < 5; i++) l.failure(`u${i}`, '203.0.113.5');
  assert.deepEqual(l.check('someone', '203.0.113.5'), { locked: true, by: 'source', until: 300_000 });
  assert.deepEqual(l.lockedCount(), { users: 2, sources: 1 });
  clock.advance(300_000);
  assert.equal(l.check('alice', '192.0.2.99').locked, false);
  assert.equal(l.check('someone', '203.0.113.5').locked, false);
});

test('failures spread over more than the window do not lock', () => {
  const clock = new FakeClock();
  const l = new AuthLockout({ clock, maxFailures: 3, windowMs: 1000 });
  for (let i = 0; i < 10; i++) {
    l.failure('bob', '192.0.2.1');
    clock.advance(600);
  }
  assert.equal(l.check('bob', '192.0.2.2').locked, false);
});

test('total rate: sources past half their burst share one budget; light sources are never charged', () => {
  const { g, refused } = guard({ requestsPerSecond: 100, burst: 20, totalRequestsPerSecond: 5, blockAfter: 0 });
  // A heavy source: its first 10 requests leave it at half or more; then it draws on the budget of 5.
  let passed = 0;
  for (let i = 0; i < 20; i++) if (g.inspect(req('OPTIONS'), src('192.0.2.60'), 0).kind === 'pass') passed++;
  assert.equal(passed, 10 + 5, 'ten light, then five while the shared budget lasts');
  // The budget is spent, yet a light source still passes.
  assert.equal(g.inspect(req('OPTIONS'), src('192.0.2.61'), 0).kind, 'pass');
  assert.ok(refused.includes('total-rate'));
});

test('LocationCache: a failing store is answered from the last lookup (expired bindings left out); the store is read again once it answers', async () => {
  const { LocationCache } = await import('../../../src/proxy/location-cache.js');
  const clock = new FakeClock();
  let down = false;
  let reads = 0;
  const binding = (contact: string, expiresAt: number): import('../../../src/registrar/binding.js').Binding =>
    ({ aor: 'sip:bob@example.com', contact, expiresAt, q: 1, callId: 'c', cseq: 1, path: [], updatedAt: 0 });
  let table = [binding('sip:bob@192.0.2.1', 1000), binding('sip:bob@192.0.2.2', 5000)];
  const store = {
    async lookup(): Promise<import('../../../src/registrar/binding.js').Binding[]> {
      reads++;
      if (down) throw new Error('ECONNREFUSED');
      return table;
    },
  };
  const cache = new LocationCache(store, { clock, downMs: 1000 });
  assert.equal((await cache.lookup('sip:bob@example.com', 0)).length, 2);
  down = true;
  const during = await cache.lookup('sip:bob@example.com', 2000);
  assert.deepEqual(during.map((b) => b.contact), ['sip:bob@192.0.2.2'], 'from memory, the expired binding left out');
  const before = reads;
  await cache.lookup('sip:bob@example.com', 2000);
  assert.equal(reads, before, 'within downMs of a failure the store is not asked');
  await assert.rejects(cache.lookup('sip:carol@example.com', 2000), /ECONNREFUSED/, 'an AOR never seen fails with the store');
  down = false;
  table = [binding('sip:bob@192.0.2.3', 9000)];
  clock.advance(1000);
  assert.deepEqual((await cache.lookup('sip:bob@example.com', 3000)).map((b) => b.contact), ['sip:bob@192.0.2.3'], 'caught up');
  assert.ok(cache.served >= 2);
});

test('admitDatagram: before parsing, a source may send 10x its request rate in datagrams, beyond that they are dropped unread; a blocked source is dropped here in drop mode only', () => {
  const { g, clock, refused } = guard({ requestsPerSecond: 10, burst: 10, blockMs: 60_000 });
  const s = src('192.0.2.60');
  let admitted = 0;
  for (let i = 0; i < 150; i++) if (g.admitDatagram(s)) admitted++;
  assert.equal(admitted, 100, 'the burst: 10 x 10 datagrams');
  assert.equal(refused.filter((r) => r === 'datagram-rate').length, 50);
  clock.advance(100);
  assert.equal(g.admitDatagram(s), true, '100 ms at 100 datagrams/s refills 10');
  g.block('192.0.2.60');
  assert.equal(g.admitDatagram(s), false, 'drop mode: a blocked source is dropped unread');
  assert.equal(refused.at(-1), 'blocked');
  assert.equal(g.admitDatagram(src('192.0.2.61')), true, 'another source is untouched');
  const reject = guard({ requestsPerSecond: 10, burst: 10, action: 'reject' }).g;
  reject.block('192.0.2.62');
  assert.equal(reject.admitDatagram(src('192.0.2.62')), true, 'reject mode: parsed, so that it can be answered 503 with Retry-After');
  const trusted = guard({ requestsPerSecond: 1, burst: 1, trusted: ['127.0.0.1'] }).g;
  for (let i = 0; i < 1000; i++) assert.equal(trusted.admitDatagram(src('127.0.0.1')), true, 'trusted sources are never limited');
});

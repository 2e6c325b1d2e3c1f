/**
 * The registrar (RFC 3261 §10.3; RFC 3327 Path; RFC 5626 §6 outbound; RFC 5627 public GRUU) on
 * MemoryBindingStore and FakeClock, fed REGISTERs parsed from wire text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { parseMessage, type SipRequest, type SipResponse } from '../../../src/message/index.js';
import type { Source } from '../../../src/transport/types.js';
import { MemoryBindingStore } from '../../../src/registrar/memory-binding-store.js';
import { Registrar, type RegistrarOptions } from '../../../src/registrar/registrar.js';
import type { NameAddr } from '../../../src/message/types.js';

const UDP: Source = { protocol: 'UDP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.10', remotePort: 5070 };
const TCP: Source = { protocol: 'TCP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.11', remotePort: 40000, connectionId: 'conn-7' };
const INSTANCE = '<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>';

interface Req {
  to?: string;
  ruri?: string;
  callId?: string;
  cseq?: number;
  contact?: string[];
  expires?: number;
  headers?: string[];
}

function register(r: Req = {}): SipRequest {
  const lines = [
    `REGISTER ${r.ruri ?? 'sip:example.com'} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK' + Math.random().toString(36).slice(2),
    'Max-Forwards: 70',
    `To: <${r.to ?? 'sip:alice@example.com'}>`,
    `From: <${r.to ?? 'sip:alice@example.com'}>;tag=f1`,
    `Call-ID: ${r.callId ?? 'call-a@192.0.2.10'}`,
    `CSeq: ${r.cseq ?? 1} REGISTER`,
    ...(r.contact ?? []).map((c) => `Contact: ${c}`),
    ...(r.expires !== undefined ? [`Expires: ${r.expires}`] : []),
    ...(r.headers ?? []),
    'Content-Length: 0', '', '',
  ];
  return parseMessage(lines.join('\r\n')) as SipRequest;
}

function setup(options: Partial<RegistrarOptions> = {}): { clock: FakeClock; store: MemoryBindingStore; registrar: Registrar } {
  const clock = new FakeClock();
  const store = new MemoryBindingStore();
  const registrar = new Registrar({ store, clock, isLocalDomain: (h) => h === 'example.com', nodeId: 'node-1', ...options });
  return { clock, store, registrar };
}

function contacts(res: SipResponse): NameAddr[] {
  const c = res.contact;
  return c === undefined || c === '*' ? [] : c;
}

function summary(res: SipResponse): Array<[string, string | null | undefined]> {
  return contacts(res).map((c) => [String((c.uri as { host?: string }).host) + ':' + String((c.uri as { port?: number }).port ?? ''), c.params.expires]);
}

test('To domain not served here → 404; Request-URI of a foreign domain → 403 (RFC 3261 §10.3 steps 1, 3)', async () => {
  const { registrar, store } = setup();
  const r1 = await registrar.register(register({ to: 'sip:alice@elsewhere.org', contact: ['<sip:alice@192.0.2.10:5070>'] }), UDP);
  assert.equal(r1.status, 404);
  const r2 = await registrar.register(register({ ruri: 'sip:elsewhere.org', contact: ['<sip:alice@192.0.2.10:5070>'] }), UDP);
  assert.equal(r2.status, 403);
  assert.equal(await store.count(0), 0);
});

test('an authenticated user registering another user\'s AOR → 403 Only your own address (§10.3 step 4)', async () => {
  const { registrar, store } = setup();
  const res = await registrar.register(register({ contact: ['<sip:alice@192.0.2.10:5070>'] }), UDP, { authenticatedUser: 'bob' });
  assert.equal(res.status, 403);
  assert.equal(res.reasonPhrase, 'Only your own address');
  assert.equal(await store.count(0), 0);
  const ok = await registrar.register(register({ contact: ['<sip:alice@192.0.2.10:5070>'] }), UDP, { authenticatedUser: 'alice' });
  assert.equal(ok.status, 200);
});

test('Contact * needs Expires: 0 and no other contact, else 400; with them it removes every binding (§10.3 step 6)', async () => {
  const { registrar, store } = setup();
  await registrar.register(register({ callId: 'old', contact: ['<sip:alice@192.0.2.10:5070>', '<sip:alice@192.0.2.20>'] }), UDP);
  assert.equal((await registrar.register(register({ cseq: 2, contact: ['*'], expires: 60 }), UDP)).status, 400);
  assert.equal((await registrar.register(register({ cseq: 2, contact: ['*'] }), UDP)).status, 400);
  // `*` beside another contact never reaches the registrar: the message layer answers 400.
  assert.throws(() => register({ cseq: 2, contact: ['*', '<sip:alice@192.0.2.30>'], expires: 0 }), (e: unknown) => (e as { status?: number }).status === 400);
  assert.equal(await store.count(0), 2);
  const res = await registrar.register(register({ cseq: 2, contact: ['*'], expires: 0 }), UDP);
  assert.equal(res.status, 200);
  assert.deepEqual(contacts(res), []);
  assert.equal(await store.count(0), 0);
});

test('same Call-ID with a CSeq not above the binding\'s → 500 and nothing changes (§10.3 step 7)', async () => {
  const { registrar, store, clock } = setup();
  assert.equal((await registrar.register(register({ cseq: 5, contact: ['<sip:alice@192.0.2.10:5070>'] }), UDP)).status, 200);
  clock.advance(1000);
  for (const cseq of [5, 4]) {
    const res = await registrar.register(register({ cseq, contact: ['<sip:alice@192.0.2.10:5070>', '<sip:alice@192.0.2.99>'], expires: 0 }), UDP);
    assert.equal(res.status, 500);
  }
  assert.deepEqual((await store.lookup('sip:alice@example.com', clock.now())).map((b) => b.cseq), [5]);
  // Another Call-ID (another UA, or a reboot) may update regardless of CSeq.
  assert.equal((await registrar.register(register({ callId: 'other', cseq: 1, contact: ['<sip:alice@192.0.2.10:5070>'], expires: 0 }), UDP)).status, 200);
  assert.equal(await store.count(clock.now()), 0);
});

test('expiry: the Contact param wins over Expires, which wins over the default (§10.2.1.1)', async () => {
  const { registrar } = setup({ defaultExpires: 1800 });
  const res = await registrar.register(register({
    contact: ['<sip:alice@192.0.2.1>;expires=120', '<sip:alice@192.0.2.2>'], expires: 600,
  }), UDP);
  assert.equal(res.status, 200);
  assert.deepEqual(summary(res).sort(), [['192.0.2.1:', '120'], ['192.0.2.2:', '600']]);
  const res2 = await registrar.register(register({ callId: 'c2', contact: ['<sip:alice@192.0.2.3>'] }), UDP);
  assert.equal(summary(res2).find(([h]) => h === '192.0.2.3:')?.[1], '1800');
});

test('expiry below Min-Expires (not 0) → 423 with Min-Expires; above the maximum → shortened (§10.3 step 7, §21.4.17)', async () => {
  const { registrar, store } = setup({ minExpires: 60, maxExpires: 3600 });
  const brief = await registrar.register(register({ contact: ['<sip:alice@192.0.2.1>;expires=30'] }), UDP);
  assert.equal(brief.status, 423);
  assert.equal(brief.minExpires, 60);
  assert.equal(await store.count(0), 0);
  const long = await registrar.register(register({ cseq: 2, contact: ['<sip:alice@192.0.2.1>'], expires: 86400 }), UDP);
  assert.equal(long.status, 200);
  assert.deepEqual(summary(long), [['192.0.2.1:', '3600']]);
});

test('several contacts per AOR, listed by q, each with its remaining expiry (§10.3 step 8)', async () => {
  const { registrar, clock } = setup();
  await registrar.register(register({ callId: 'ua1', contact: ['<sip:alice@192.0.2.1>;q=0.2'], expires: 600 }), UDP);
  clock.advance(100_000);
  const res = await registrar.register(register({ callId: 'ua2', contact: ['<sip:alice@192.0.2.2>;q=0.9'], expires: 600 }), UDP);
  assert.deepEqual(summary(res), [['192.0.2.2:', '600'], ['192.0.2.1:', '500']]);
  assert.deepEqual(contacts(res).map((c) => c.params.q), ['0.9', '0.2']);
});

test('Expires: 0 removes just that binding; bindings expire on the clock', async () => {
  const { registrar, clock } = setup();
  await registrar.register(register({ contact: ['<sip:alice@192.0.2.1>', '<sip:alice@192.0.2.2>;expires=100'], expires: 600 }), UDP);
  const res = await registrar.register(register({ cseq: 2, contact: ['<sip:alice@192.0.2.1>'], expires: 0 }), UDP);
  assert.deepEqual(summary(res), [['192.0.2.2:', '100']]);
  clock.advance(100_000);
  const q = await registrar.register(register({ cseq: 3 }), UDP);
  assert.deepEqual(contacts(q), []);
});

test('a REGISTER without Contact is a query: the bindings, unchanged (§10.2.3)', async () => {
  const { registrar, store } = setup();
  await registrar.register(register({ contact: ['<sip:alice@192.0.2.1>'], expires: 600 }), UDP);
  const before = await store.lookup('sip:alice@example.com', 0);
  const res = await registrar.register(register({ callId: 'query', cseq: 1 }), UDP);
  assert.equal(res.status, 200);
  assert.deepEqual(summary(res), [['192.0.2.1:', '600']]);
  assert.deepEqual(await store.lookup('sip:alice@example.com', 0), before);
});

test('a re-REGISTER of an equal URI (§19.1.4) replaces the binding instead of adding one (§10.3 step 7)', async () => {
  const { registrar, store } = setup();
  await registrar.register(register({ contact: ['<sip:alice@192.0.2.1:5060;transport=udp>'], expires: 600 }), UDP);
  const res = await registrar.register(register({ cseq: 2, contact: ['<sip:alice@192.0.2.1:5060;TRANSPORT=UDP>'], expires: 300 }), UDP);
  assert.equal(contacts(res).length, 1);
  const [b] = await store.lookup('sip:alice@example.com', 0);
  assert.equal(b!.cseq, 2);
  assert.equal(b!.expiresAt, 300_000);
});

test('the AOR is canonical: host lower-case, no port or params, sips: the same record', async () => {
  const { registrar, store } = setup();
  await registrar.register(register({ to: 'sip:alice@EXAMPLE.com:5060;user=phone', contact: ['<sip:alice@192.0.2.1>'] }), UDP);
  const res = await registrar.register(register({ to: 'sips:alice@example.com', callId: 'x', contact: ['<sip:alice@192.0.2.2>'] }), UDP);
  assert.equal(contacts(res).length, 2);
  assert.deepEqual((await store.list(0)).map((b) => b.aor), ['sip:alice@example.com', 'sip:alice@example.com']);
});

test('each binding records its flow, node and User-Agent', async () => {
  const { registrar, store } = setup();
  await registrar.register(register({ contact: ['<sip:alice@192.0.2.11:40000;transport=tcp>'], headers: ['User-Agent: phone/2.0'] }), TCP);
  const [b] = await store.lookup('sip:alice@example.com', 0);
  assert.deepEqual(b!.flow, { transport: 'tcp', address: '192.0.2.11', port: 40000, connectionId: 'conn-7', node: 'node-1' });
  assert.equal(b!.userAgent, 'phone/2.0');
});

test('Path is stored and echoed when the UA supports path (RFC 3327 §5.3); pathFor is prepended for the node', async () => {
  const { registrar, store } = setup({ pathFor: (s) => s.connectionId ? `<sip:${s.connectionId}@10.0.0.1:5060;transport=tcp;lr;ob>` : undefined });
  const res = await registrar.register(register({
    contact: ['<sip:alice@192.0.2.11>'],
    headers: ['Path: <sip:p2.example.com;lr>', 'Path: <sip:p1.example.com;lr>', 'Supported: path'],
  }), TCP);
  assert.equal(res.status, 200);
  assert.deepEqual(res.getAll('Path'), ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
  const [b] = await store.lookup('sip:alice@example.com', 0);
  assert.deepEqual(b!.path, ['<sip:conn-7@10.0.0.1:5060;transport=tcp;lr;ob>', '<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
});

test('Path without Supported: path → 420 with Unsupported: path (RFC 3327 §5.3); an unknown Require → 420', async () => {
  const { registrar, store } = setup();
  const res = await registrar.register(register({ contact: ['<sip:alice@192.0.2.11>'], headers: ['Path: <sip:p1.example.com;lr>'] }), UDP);
  assert.equal(res.status, 420);
  assert.deepEqual(res.unsupported, ['path']);
  const res2 = await registrar.register(register({ contact: ['<sip:alice@192.0.2.11>'], headers: ['Require: foo'] }), UDP);
  assert.equal(res2.status, 420);
  assert.deepEqual(res2.unsupported, ['foo']);
  assert.equal(await store.count(0), 0);
});

test('outbound: (+sip.instance, reg-id) keys the binding, a new flow replaces the old, 200 has Require: outbound (RFC 5626 §6)', async () => {
  const { registrar, store } = setup();
  const c = (host: string): string => `<sip:alice@${host};transport=tcp;ob>;+sip.instance="${INSTANCE}";reg-id=1`;
  const r1 = await registrar.register(register({ contact: [c('192.0.2.11:40000')], headers: ['Supported: outbound, path'] }), TCP);
  assert.equal(r1.status, 200);
  assert.deepEqual(r1.require, ['outbound']);
  // The UA reconnects from another port (a new flow) with a new Call-ID: same binding, new flow.
  const moved: Source = { ...TCP, remotePort: 40001, connectionId: 'conn-8' };
  const r2 = await registrar.register(register({ callId: 'after-reconnect', contact: [c('192.0.2.11:40001')], headers: ['Supported: outbound'] }), moved);
  assert.equal(contacts(r2).length, 1);
  const [b] = await store.lookup('sip:alice@example.com', 0);
  assert.equal(b!.regId, 1);
  assert.equal(b!.instanceId, INSTANCE);
  assert.deepEqual(b!.flow, { transport: 'tcp', address: '192.0.2.11', port: 40001, connectionId: 'conn-8', node: 'node-1' });
  // A second flow (reg-id 2) lives beside it.
  const r3 = await registrar.register(register({ callId: 'flow2', contact: [c('192.0.2.11:40002').replace('reg-id=1', 'reg-id=2')], headers: ['Supported: outbound'] }), TCP);
  assert.equal(contacts(r3).length, 2);
  assert.deepEqual(contacts(r3).map((x) => x.params['reg-id']).sort(), ['1', '2']);
});

test('outbound: without Supported: outbound reg-id is ignored; an edge proxy without ob → 439 (RFC 5626 §6)', async () => {
  const { registrar, store } = setup();
  const c = `<sip:alice@192.0.2.11:40000;transport=tcp;ob>;+sip.instance="${INSTANCE}";reg-id=1`;
  const r1 = await registrar.register(register({ contact: [c] }), TCP);
  assert.equal(r1.status, 200);
  assert.deepEqual(r1.require, []);
  assert.equal((await store.lookup('sip:alice@example.com', 0))[0]!.regId, undefined);
  const r2 = await registrar.register(register({ callId: 'x', contact: [c], headers: ['Supported: outbound, path', 'Path: <sip:edge.example.com;lr>'] }), TCP);
  assert.equal(r2.status, 439);
  const r3 = await registrar.register(register({ callId: 'y', contact: [c], headers: ['Supported: outbound, path', 'Path: <sip:edge.example.com;lr;ob>'] }), TCP);
  assert.equal(r3.status, 200);
});

test('GRUU: Supported: gruu with +sip.instance → pub-gruu in the 200, and resolveGruu finds the binding (RFC 5627 §5)', async () => {
  const { registrar } = setup();
  const res = await registrar.register(register({
    contact: [`<sip:alice@192.0.2.11:40000;transport=tcp>;+sip.instance="${INSTANCE}"`], headers: ['Supported: gruu'],
  }), TCP);
  const [c] = contacts(res);
  assert.equal(c!.params['pub-gruu'], 'sip:alice@example.com;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
  const found = await registrar.resolveGruu(c!.params['pub-gruu']!);
  assert.deepEqual(found.map((b) => b.contact), ['sip:alice@192.0.2.11:40000;transport=tcp']);
  assert.deepEqual(await registrar.resolveGruu('sip:alice@example.com;gr=urn:uuid:00000000-0000-0000-0000-000000000000'), []);
  assert.deepEqual(await registrar.resolveGruu('sip:alice@example.com'), []);
  // Without Supported: gruu no pub-gruu is handed out.
  const plain = await registrar.register(register({ callId: 'p', contact: [`<sip:alice@192.0.2.11:40000;transport=tcp>;+sip.instance="${INSTANCE}"`] }), TCP);
  assert.equal(contacts(plain)[0]!.params['pub-gruu'], undefined);
});

test('malformed input is answered with 400, never thrown: bad Expires header, bad reg-id', async () => {
  const { registrar } = setup();
  // A non-numeric Contact expires is already refused by the parser (400 from the message layer).
  assert.throws(() => register({ contact: ['<sip:alice@192.0.2.1>;expires=soon'] }), (e: unknown) => (e as { status?: number }).status === 400);
  assert.equal((await registrar.register(register({ contact: [`<sip:alice@192.0.2.1>;+sip.instance="${INSTANCE}";reg-id=x`], headers: ['Supported: outbound'] }), UDP)).status, 400);
  assert.throws(() => register({ contact: ['<sip:alice@192.0.2.1>;q=2'] }), (e: unknown) => (e as { status?: number }).status === 400);
  assert.throws(() => register({ contact: ['<sip:alice@192.0.2.1>'], headers: ['Expires: never'] }), (e: unknown) => (e as { status?: number }).status === 400);
  // A header changed after parsing is read lazily; its parse error becomes a 400 too.
  const bad = register({ contact: ['<sip:alice@192.0.2.1>'] }).set('Expires', 'never') as SipRequest;
  const res = await registrar.register(bad, UDP);
  assert.equal(res.status, 400);
});

test('an AOR holds at most maxContacts bindings; beyond it 403 and nothing changes', async () => {
  const { registrar, store } = setup({ maxContacts: 2 });
  assert.equal((await registrar.register(register({ contact: ['<sip:alice@192.0.2.1>', '<sip:alice@192.0.2.2>'] }), UDP)).status, 200);
  const res = await registrar.register(register({ callId: 'third', contact: ['<sip:alice@192.0.2.3>'] }), UDP);
  assert.equal(res.status, 403);
  assert.equal(await store.count(0), 2);
  // Refreshing or removing existing bindings still works at the limit.
  assert.equal((await registrar.register(register({ cseq: 2, contact: ['<sip:alice@192.0.2.1>'] }), UDP)).status, 200);
});

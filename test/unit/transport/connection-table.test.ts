import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { SipError } from '../../../src/core/errors.js';
import { noopLogger } from '../../../src/core/logger.js';
import { Connection, newConnectionId } from '../../../src/transport/connection.js';
import { ConnectionTable, type ConnectionLimits } from '../../../src/transport/connection-table.js';
import type { TransportProtocol } from '../../../src/transport/types.js';

/** A connection without a socket: the table's timers and bookkeeping, nothing else. */
class FakeConnection extends Connection {
  pings = 0;
  how: 'open' | 'closed' | 'destroyed' = 'open';
  constructor(table: ConnectionTable, clock: FakeClock, o: { remote?: string; port?: number; outbound?: boolean; protocol?: TransportProtocol; ids?: string[] } = {}) {
    const protocol = o.protocol ?? 'TCP';
    super({
      id: newConnectionId(protocol),
      protocol,
      outbound: o.outbound ?? false,
      localAddress: '127.0.0.1',
      localPort: 5060,
      remoteAddress: o.remote ?? '192.0.2.1',
      remotePort: o.port ?? 40000,
      peerIdentities: new Set(o.ids ?? []),
      owner: table,
      clock,
    });
  }
  send(): Promise<void> {
    this.touch();
    return Promise.resolve();
  }
  sendPing(): void {
    this.pings++;
    this.touch();
    this.pingSentAt = this.clock.now();
  }
  close(): void {
    this.how = 'closed';
    this.markClosed();
  }
  destroy(): void {
    this.how = 'destroyed';
    this.markClosed();
  }
  activity(): void {
    this.touch();
  }
  pong(): void {
    this.pongReceived();
  }
  startMessage(): void {
    this.messageStartedAt = this.clock.now();
    this.owner.timersChanged(this);
  }
}

function setup(limits: Partial<ConnectionLimits> = {}): { clock: FakeClock; table: ConnectionTable } {
  const clock = new FakeClock();
  const table = new ConnectionTable({ clock, logger: noopLogger, limits, sink: { message: () => undefined, framingError: () => undefined } });
  return { clock, table };
}

test('an idle connection closes after idleTimeoutMs; traffic moves the deadline', () => {
  const { clock, table } = setup({ idleTimeoutMs: 1000, messageTimeoutMs: 0 });
  const c = new FakeConnection(table, clock);
  table.add(c);
  clock.advance(600);
  c.activity();
  clock.advance(999);
  assert.equal(c.how, 'open');
  clock.advance(1);
  assert.equal(c.how, 'closed');
  assert.equal(table.size, 0);
  assert.equal(clock.pending, 0);
});

test('a message not completed within messageTimeoutMs destroys the connection (slow sender)', () => {
  const { clock, table } = setup({ idleTimeoutMs: 60_000, messageTimeoutMs: 2000 });
  const c = new FakeConnection(table, clock);
  table.add(c);
  clock.advance(500);
  c.startMessage();
  clock.advance(1999);
  c.activity();
  assert.equal(c.how, 'open', 'trickling bytes does not extend the message deadline');
  clock.advance(1);
  assert.equal(c.how, 'destroyed');
});

test('outbound flows ping after 80-100% of the interval; a pong keeps them, none fails them (RFC 5626 §4.4.1)', () => {
  const { clock, table } = setup({ idleTimeoutMs: 0, keepAliveIntervalMs: 10_000, pongTimeoutMs: 3000 });
  const out = new FakeConnection(table, clock, { outbound: true });
  const inbound = new FakeConnection(table, clock, { port: 40001 });
  table.add(out);
  table.add(inbound);
  clock.advance(7999);
  assert.equal(out.pings, 0);
  clock.advance(2001);
  assert.equal(out.pings, 1);
  assert.equal(inbound.pings, 0, 'inbound flows are the client\'s to keep alive');
  out.pong();
  clock.advance(3000);
  assert.equal(out.how, 'open');
  clock.advance(10_000);
  assert.equal(out.pings, 2);
  clock.advance(3000);
  assert.equal(out.how, 'destroyed');
  assert.equal(inbound.how, 'open');
});

test('limits per peer and in total; connect() refuses beyond them', async () => {
  const { clock, table } = setup({ maxConnections: 3, maxConnectionsPerPeer: 2 });
  table.add(new FakeConnection(table, clock, { port: 1 }));
  table.add(new FakeConnection(table, clock, { port: 2 }));
  assert.equal(table.admits('192.0.2.1'), false);
  assert.equal(table.admits('::ffff:192.0.2.1'), false, 'the same peer through a dual-stack socket');
  assert.equal(table.admits('192.0.2.2'), true);
  table.add(new FakeConnection(table, clock, { remote: '192.0.2.2' }));
  assert.equal(table.admits('192.0.2.3'), false);
  await assert.rejects(
    table.connect({ protocol: 'TCP', address: '192.0.2.3', port: 5060 }, () => Promise.reject(new Error('not called'))),
    (e: unknown) => e instanceof SipError && e.code === 'ERR_TRANSPORT' && /limit/.test(e.message),
  );
  for (const c of table.connections()) c.destroy();
  assert.equal(table.admits('192.0.2.1'), true);
});

test('connect() shares one dial among concurrent callers and files the result for reuse', async () => {
  const { clock, table } = setup();
  let dials = 0;
  const target = { protocol: 'TCP' as const, address: '192.0.2.9', port: 5060 };
  const dial = async (): Promise<Connection> => {
    dials++;
    await new Promise((r) => setImmediate(r));
    return new FakeConnection(table, clock, { remote: '192.0.2.9', port: 5060, outbound: true });
  };
  const [c1, c2] = await Promise.all([table.connect(target, dial), table.connect(target, dial)]);
  assert.equal(c1, c2);
  assert.equal(await table.connect(target, dial), c1);
  assert.equal(dials, 1);
  assert.equal(table.find({ ...target, address: '::ffff:192.0.2.9' }), c1);
});

test('a TLS flow is found only for server names its peer was verified for; aliases file it under more keys (RFC 5922, RFC 5923)', () => {
  const { clock, table } = setup();
  const c = new FakeConnection(table, clock, { protocol: 'TLS', remote: '192.0.2.5', port: 5061, ids: ['ss1.example.com'] });
  table.add(c);
  const t = { protocol: 'TLS' as const, address: '192.0.2.5', port: 5061 };
  assert.equal(table.find(t), c);
  assert.equal(table.find({ ...t, serverName: 'ss1.example.com' }), c);
  assert.equal(table.find({ ...t, serverName: 'evil.example.com' }), undefined);
  table.addAlias(c, 'TLS', 'ss1.example.com', 5071);
  assert.equal(table.find({ protocol: 'TLS', address: '198.51.100.1', port: 5071, serverName: 'ss1.example.com' }), c);
  c.destroy();
  assert.equal(table.find(t), undefined);
  assert.equal(table.find({ protocol: 'TLS', address: '198.51.100.1', port: 5071, serverName: 'ss1.example.com' }), undefined);
});

test('closeAll closes everything and refuses new connections', async () => {
  const { clock, table } = setup();
  const a = new FakeConnection(table, clock);
  table.add(a);
  await table.closeAll();
  assert.equal(a.how, 'closed');
  assert.equal(table.admits('192.0.2.1'), false);
  assert.equal(clock.pending, 0);
});

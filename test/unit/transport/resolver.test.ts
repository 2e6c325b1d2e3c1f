import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NaptrRecord, SrvRecord } from 'node:dns';
import { orderSrv, Rfc3263Resolver, type DnsClient } from '../../../src/transport/resolver.js';
import { StaticResolver } from '../../../src/transport/static-resolver.js';

/** A DNS with fixed records; every query is logged so tests can check which were made. */
class FakeDns implements DnsClient {
  readonly queries: string[] = [];
  constructor(
    private readonly records: {
      naptr?: Record<string, NaptrRecord[]>;
      srv?: Record<string, SrvRecord[]>;
      a?: Record<string, string[]>;
      aaaa?: Record<string, string[]>;
    },
  ) {}
  private answer<T>(type: string, table: Record<string, T[]> | undefined, name: string): Promise<T[]> {
    this.queries.push(`${type} ${name}`);
    const r = table?.[name];
    if (r === undefined) return Promise.reject(Object.assign(new Error(`queryNotFound ${name}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(r);
  }
  resolveNaptr(name: string): Promise<NaptrRecord[]> {
    return this.answer('NAPTR', this.records.naptr, name);
  }
  resolveSrv(name: string): Promise<SrvRecord[]> {
    return this.answer('SRV', this.records.srv, name);
  }
  resolve4(name: string): Promise<string[]> {
    return this.answer('A', this.records.a, name);
  }
  resolve6(name: string): Promise<string[]> {
    return this.answer('AAAA', this.records.aaaa, name);
  }
}

const naptr = (order: number, preference: number, service: string, replacement: string, flags = 's'): NaptrRecord =>
  ({ order, preference, service, replacement, flags, regexp: '' });
const srv = (priority: number, weight: number, port: number, name: string): SrvRecord => ({ priority, weight, port, name });
const brief = (ts: { protocol: string; address: string; port: number }[]): string[] => ts.map((t) => `${t.protocol} ${t.address}:${t.port}`);

test('numeric hosts are used directly, with the URI port or the default (RFC 3263 §4.1, §4.2)', async () => {
  const dns = new FakeDns({});
  const r = new Rfc3263Resolver({ dns });
  assert.deepEqual(brief(await r.resolve('192.0.2.4')), ['UDP 192.0.2.4:5060']);
  assert.deepEqual(brief(await r.resolve('192.0.2.4', 5070, 'tcp')), ['TCP 192.0.2.4:5070']);
  assert.deepEqual(brief(await r.resolve('[2001:db8::4]', undefined, undefined, true)), ['TLS 2001:db8::4:5061']);
  assert.deepEqual(brief(await r.resolve('2001:db8::4', 5080, 'ws')), ['WS 2001:db8::4:5080']);
  assert.deepEqual(brief(await r.resolve('192.0.2.4', undefined, 'tcp', true)), ['TLS 192.0.2.4:5061']);
  assert.deepEqual(await r.resolve('192.0.2.4', undefined, 'udp', true), [], 'sips: over UDP is impossible');
  assert.deepEqual(dns.queries, []);
});

test('a name with a port: A and AAAA only, no NAPTR or SRV (RFC 3263 §4.2)', async () => {
  const dns = new FakeDns({ a: { 'atlanta.example.com': ['192.0.2.10'] }, aaaa: { 'atlanta.example.com': ['2001:db8::10'] } });
  const targets = await new Rfc3263Resolver({ dns }).resolve('Atlanta.Example.com', 5062);
  assert.deepEqual(brief(targets), ['UDP 192.0.2.10:5062', 'UDP 2001:db8::10:5062']);
  assert.equal(targets[0]!.serverName, 'atlanta.example.com');
  assert.deepEqual(dns.queries.sort(), ['A atlanta.example.com', 'AAAA atlanta.example.com']);
});

test('NAPTR records are taken by order then preference, unsupported services dropped (RFC 3263 §4.1)', async () => {
  const dns = new FakeDns({
    naptr: {
      'example.com': [
        naptr(20, 10, 'SIP+D2U', '_sip._udp.example.com'),
        naptr(10, 50, 'SIP+D2T', '_sip._tcp.example.com'),
        naptr(10, 20, 'SIPS+D2T', '_sips._tcp.example.com'),
        naptr(5, 10, 'SIP+D2S', '_sip._sctp.example.com'),
        naptr(1, 1, 'SIP+D2T', 'ignored.example.com', 'a'),
      ],
    },
    srv: {
      '_sip._udp.example.com': [srv(0, 0, 5060, 'udp.example.com')],
      '_sip._tcp.example.com': [srv(0, 0, 5060, 'tcp.example.com')],
      '_sips._tcp.example.com': [srv(0, 0, 5061, 'tls.example.com')],
    },
    a: { 'udp.example.com': ['192.0.2.1'], 'tcp.example.com': ['192.0.2.2'], 'tls.example.com': ['192.0.2.3'] },
  });
  const targets = await new Rfc3263Resolver({ dns, ipv6: false }).resolve('example.com');
  assert.deepEqual(brief(targets), ['TLS 192.0.2.3:5061', 'TCP 192.0.2.2:5060', 'UDP 192.0.2.1:5060']);
  // RFC 5922 §4: the certificate is checked against the URI's domain, not the SRV target.
  assert.equal(targets[0]!.serverName, 'example.com');
  assert.ok(!dns.queries.includes('SRV _sip._sctp.example.com'));
});

test('for a sips: URI only SIPS+ NAPTR services are used (RFC 3263 §4.1)', async () => {
  const dns = new FakeDns({
    naptr: { 'example.com': [naptr(10, 10, 'SIP+D2U', '_sip._udp.example.com'), naptr(20, 10, 'SIPS+D2T', '_sips._tcp.example.com')] },
    srv: { '_sip._udp.example.com': [srv(0, 0, 5060, 'udp.example.com')], '_sips._tcp.example.com': [srv(0, 0, 5061, 'tls.example.com')] },
    a: { 'udp.example.com': ['192.0.2.1'], 'tls.example.com': ['192.0.2.3'] },
  });
  assert.deepEqual(brief(await new Rfc3263Resolver({ dns, ipv6: false }).resolve('example.com', undefined, undefined, true)), ['TLS 192.0.2.3:5061']);
});

test('WebSocket NAPTR services are used when WS is supported (RFC 7118)', async () => {
  const dns = new FakeDns({
    naptr: { 'example.com': [naptr(10, 10, 'SIPS+D2W', '_sips._ws.example.com')] },
    srv: { '_sips._ws.example.com': [srv(0, 0, 443, 'wss.example.com')] },
    a: { 'wss.example.com': ['192.0.2.8'] },
  });
  assert.deepEqual(brief(await new Rfc3263Resolver({ dns, ipv6: false, protocols: ['WSS'] }).resolve('example.com')), ['WSS 192.0.2.8:443']);
  assert.deepEqual(await new Rfc3263Resolver({ dns, ipv6: false }).resolve('nothing.example.com'), []);
});

test('SRV records are ordered by priority, then by weight (RFC 2782)', async () => {
  const dns = new FakeDns({
    srv: {
      '_sip._tcp.example.com': [srv(20, 0, 5060, 'backup.example.com'), srv(10, 10, 5060, 'light.example.com'), srv(10, 90, 5060, 'heavy.example.com')],
    },
    a: { 'backup.example.com': ['192.0.2.30'], 'light.example.com': ['192.0.2.10'], 'heavy.example.com': ['192.0.2.90'] },
  });
  // A draw near the top of the weight range lands on the heavy record first.
  const high = await new Rfc3263Resolver({ dns, ipv6: false, random: () => 0.99 }).resolve('example.com', undefined, 'tcp');
  assert.deepEqual(brief(high), ['TCP 192.0.2.90:5060', 'TCP 192.0.2.10:5060', 'TCP 192.0.2.30:5060']);
  // A draw of 1..10 of 100 lands on the light one.
  const low = await new Rfc3263Resolver({ dns, ipv6: false, random: () => 0.05 }).resolve('example.com', undefined, 'tcp');
  assert.deepEqual(brief(low), ['TCP 192.0.2.10:5060', 'TCP 192.0.2.90:5060', 'TCP 192.0.2.30:5060']);
});

test('orderSrv: weight-0 records come first only on a zero draw; a "." target is skipped by the resolver', async () => {
  const records = [srv(1, 0, 1, 'zero'), srv(1, 5, 2, 'five'), srv(0, 0, 3, 'first')];
  assert.deepEqual(orderSrv(records, () => 0).map((r) => r.name), ['first', 'zero', 'five']);
  assert.deepEqual(orderSrv(records, () => 0.5).map((r) => r.name), ['first', 'five', 'zero']);
  const dns = new FakeDns({ srv: { '_sip._udp.example.com': [srv(0, 0, 5060, '.')] }, a: { 'example.com': ['192.0.2.5'] } });
  assert.deepEqual(brief(await new Rfc3263Resolver({ dns, ipv6: false }).resolve('example.com', undefined, 'udp')), ['UDP 192.0.2.5:5060']);
});

test('without NAPTR: SRV for each supported transport in order; without SRV: A/AAAA at 5060 UDP, or 5061 TLS for sips: (RFC 3263 §4.1, §4.2)', async () => {
  const dns = new FakeDns({
    srv: { '_sip._tcp.example.com': [srv(0, 0, 5070, 'tcp.example.com')], '_sips._tcp.example.com': [srv(0, 0, 5071, 'tls.example.com')] },
    a: { 'tcp.example.com': ['192.0.2.2'], 'tls.example.com': ['192.0.2.3'], 'plain.example.com': ['192.0.2.4'] },
    aaaa: { 'plain.example.com': ['2001:db8::4'] },
  });
  const r = new Rfc3263Resolver({ dns });
  assert.deepEqual(brief(await r.resolve('example.com')), ['TCP 192.0.2.2:5070', 'TLS 192.0.2.3:5071']);
  assert.deepEqual(brief(await r.resolve('plain.example.com')), ['UDP 192.0.2.4:5060', 'UDP 2001:db8::4:5060']);
  assert.deepEqual(brief(await r.resolve('plain.example.com', undefined, undefined, true)), ['TLS 192.0.2.4:5061', 'TLS 2001:db8::4:5061']);
  assert.deepEqual(brief(await new Rfc3263Resolver({ dns, ipv6: 'prefer' }).resolve('plain.example.com', 5062)), ['UDP 2001:db8::4:5062', 'UDP 192.0.2.4:5062']);
});

test('an explicit transport skips NAPTR: SRV for it, else A/AAAA at its default port (RFC 3263 §4.1, §4.2)', async () => {
  const dns = new FakeDns({ a: { 'example.com': ['192.0.2.9'] } });
  const r = new Rfc3263Resolver({ dns, ipv6: false });
  assert.deepEqual(brief(await r.resolve('example.com', undefined, 'TCP', true)), ['TLS 192.0.2.9:5061']);
  assert.ok(dns.queries.includes('SRV _sips._tcp.example.com'));
  assert.ok(!dns.queries.some((q) => q.startsWith('NAPTR')));
  assert.deepEqual(brief(await r.resolve('example.com', undefined, 'ws')), ['WS 192.0.2.9:80']);
  assert.deepEqual(await r.resolve('example.com', undefined, 'sctp'), []);
});

test('StaticResolver maps names to targets, filtered by transport and sips', async () => {
  const r = new StaticResolver({
    'atlanta.example.com': [
      { protocol: 'UDP', address: '127.0.0.1', port: 40001 },
      { protocol: 'TLS', address: '127.0.0.1', port: 40002 },
    ],
    'ss1.example.com:5080': [{ protocol: 'TCP', address: '::1', port: 40003 }],
  });
  r.set('biloxi.example.com', [{ protocol: 'WS', address: '127.0.0.1', port: 40004, serverName: 'ws.biloxi.example.com' }]);
  assert.deepEqual(brief(await r.resolve('ATLANTA.example.com')), ['UDP 127.0.0.1:40001', 'TLS 127.0.0.1:40002']);
  assert.deepEqual(brief(await r.resolve('atlanta.example.com', 5060, 'tcp', true)), ['TLS 127.0.0.1:40002']);
  assert.equal((await r.resolve('atlanta.example.com', undefined, 'tls'))[0]!.serverName, 'atlanta.example.com');
  assert.deepEqual(brief(await r.resolve('atlanta.example.com', undefined, undefined, true)), ['TLS 127.0.0.1:40002']);
  assert.deepEqual(brief(await r.resolve('ss1.example.com', 5080)), ['TCP ::1:40003']);
  assert.deepEqual(await r.resolve('ss1.example.com'), []);
  assert.equal((await r.resolve('biloxi.example.com'))[0]!.serverName, 'ws.biloxi.example.com');
  assert.deepEqual(brief(await r.resolve('127.0.0.1', 5099, 'tcp')), ['TCP 127.0.0.1:5099']);
  const fallback = new StaticResolver({}, { fallback: r });
  assert.deepEqual(brief(await fallback.resolve('atlanta.example.com', undefined, 'udp')), ['UDP 127.0.0.1:40001']);
});

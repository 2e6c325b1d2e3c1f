import assert from 'node:assert/strict';
import test from 'node:test';
import { formatVia, isIPv4, isIPv6, parseVia } from '../../../../src/message/headers/via.js';
import type { Via } from '../../../../src/message/types.js';
import { checkParser, fuzzInputs, params, rejects } from './fuzz-support.js';

function roundTrip(list: Via[]): void {
  assert.deepEqual(parseVia(list.map(formatVia).join(', ')), list);
}

test('Via parses sent-protocol, sent-by with port and branch (RFC 3261 §20.42)', () => {
  assert.deepEqual(parseVia('SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bK74bf9'), [
    { protocol: 'SIP/2.0', transport: 'TLS', host: 'client.atlanta.example.com', port: 5061, params: params({ branch: 'z9hG4bK74bf9' }) },
  ]);
});

test('Via accepts LWS around the slashes of sent-protocol (RFC 4475 §3.1.1.1)', () => {
  assert.deepEqual(parseVia('SIP  /   2.0 /UDP     192.0.2.2;branch=390skdjuw'), [
    { protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.2', params: params({ branch: '390skdjuw' }) },
  ]);
  // wsinv's second Via line: LWS around ';', '=' and ',' too; CRLF left in is also whitespace.
  const v = parseVia('  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239  ');
  assert.deepEqual(v, [
    { protocol: 'SIP/2.0', transport: 'TCP', host: 'spindle.example.com', params: params({ branch: 'z9hG4bK9ikj8' }) },
    { protocol: 'SIP/2.0', transport: 'UDP', host: '192.168.255.111', params: params({ branch: 'z9hG4bK30239' }) },
  ]);
});

test('Via accepts LWS around the sent-by colon (RFC 3261 §25.1 COLON = SWS ":" SWS)', () => {
  assert.equal(parseVia('SIP/2.0/UDP host.example.com : 5070 ;branch=z9hG4bK1')[0]!.port, 5070);
});

test('Via reads several comma-separated via-parms in order (RFC 3261 §7.3.1)', () => {
  const v = parseVia('SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5080;branch=z9hG4bK2,SIP/2.0/TLS c.example.com');
  assert.deepEqual(v.map((x) => x.host), ['a.example.com', 'b.example.com', 'c.example.com']);
  assert.deepEqual(v.map((x) => x.transport), ['UDP', 'TCP', 'TLS']);
  assert.equal(v[2]!.port, undefined);
});

test('Via upper-cases the transport and accepts extension transports (RFC 4475 §3.1.1.10)', () => {
  assert.equal(parseVia('SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en')[0]!.transport, 'UNKNOWN');
  assert.equal(parseVia('SIP/2.0/sctp t2.example.com')[0]!.transport, 'SCTP');
  assert.equal(parseVia('SIP/2.0/wss t2.example.com')[0]!.transport, 'WSS');
});

test('Via protocol-name is case-insensitive and written SIP/2.0 (RFC 3261 §7.1)', () => {
  const [v] = parseVia('sip/2.0/udp host.example.com');
  assert.equal(v!.protocol, 'SIP/2.0');
  assert.equal(v!.transport, 'UDP');
});

test('Via takes an IPv6 reference as sent-by, with and without port (RFC 5118 §4.1, §4.7)', () => {
  assert.deepEqual(parseVia('SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111'), [
    { protocol: 'SIP/2.0', transport: 'UDP', host: '[2001:db8::9:1]', port: 6050, params: params({ branch: 'z9hG4bKas3-111' }) },
  ]);
  assert.equal(parseVia('SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200')[0]!.host, '[2001:db8::9:255]');
});

test('Via takes an IPv4-mapped IPv6 sent-by (RFC 5118 §4.9)', () => {
  const v = parseVia('SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19');
  assert.equal(v[0]!.host, '[::ffff:192.0.2.10]');
  assert.equal(v[0]!.port, 19823);
});

test('Via received may be an IPv6 address with or without brackets (RFC 5118 §4.5)', () => {
  assert.equal(parseVia('SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3')[0]!.params.received, '2001:db8::9:255');
  assert.equal(
    parseVia('SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111')[0]!.params.received,
    '[2001:db8::9:255]',
  );
});

test('Via rport is a flag or a port (RFC 3581 §3)', () => {
  const v = parseVia('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport');
  assert.equal(v[0]!.params.rport, null);
  assert.equal(parseVia('SIP/2.0/UDP 10.0.0.1;rport=5061;received=192.0.2.1')[0]!.params.rport, '5061');
  rejects(() => parseVia('SIP/2.0/UDP 10.0.0.1;rport=70000'));
  rejects(() => parseVia('SIP/2.0/UDP 10.0.0.1;rport=abc'));
});

test('Via keeps extension parameters, names lower-cased (RFC 3261 §20.42 via-extension)', () => {
  const v = parseVia('SIP/2.0/UDP h.example.com;Branch=z9hG4bK1;X-Foo="a b";flag;maddr=224.2.0.1;ttl=16');
  assert.deepEqual(v[0]!.params, params({ branch: 'z9hG4bK1', 'x-foo': 'a b', flag: null, maddr: '224.2.0.1', ttl: '16' }));
});

test('Via with an empty value or empty elements is a 400 (RFC 4475 §3.1.2.1)', () => {
  rejects(() => parseVia('SIP/2.0/UDP 192.0.2.15;;,;,,'));
  rejects(() => parseVia(''));
  rejects(() => parseVia('   '));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com,'));
  rejects(() => parseVia(', SIP/2.0/UDP a.example.com'));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com,,SIP/2.0/UDP b.example.com'));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com;'));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com;branch='));
});

test('Via with a SIP version other than 2.0 is a 505 (RFC 4475 §3.1.2.16)', () => {
  rejects(() => parseVia('SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw'), 505);
  rejects(() => parseVia('SIP/2.0/UDP a.example.com, SIP/3.0/UDP b.example.com'), 505);
});

test('Via with a malformed sent-protocol is a 400 (RFC 3261 §25.1)', () => {
  rejects(() => parseVia('HTTP/2.0/UDP a.example.com'));
  rejects(() => parseVia('SIP/2.0 a.example.com'));
  rejects(() => parseVia('SIP//UDP a.example.com'));
  rejects(() => parseVia('SIP/2.0/ a.example.com'));
  rejects(() => parseVia('SIP/2.0/UDPa.example.com'));
  rejects(() => parseVia('SIP/2.0/UDP'));
  rejects(() => parseVia('SIP/2.0/UDP '));
});

test('Via with a malformed sent-by is a 400 (RFC 3261 §25.1 host, port)', () => {
  for (const bad of [
    'a..example.com', '-a.example.com', 'a-.example.com', 'a.example.1com', '192.0.2.256', '1.2.3', '1.2.3.4.5',
    '[2001:db8::1', '[2001:db8::1::2]', '[12345::1]', '[1:2:3:4:5:6:7:8:9]', 'host_name.example.com', 'a.example.com:',
    'a.example.com:65536', 'a.example.com:5060x', 'a.example.com x',
  ]) {
    rejects(() => parseVia('SIP/2.0/UDP ' + bad), 400);
  }
});

test('Via params with values outside their grammar are a 400 (RFC 3261 §25.1 via-params)', () => {
  rejects(() => parseVia('SIP/2.0/UDP a.example.com;received=example.com'));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com;received'));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com;ttl=256'));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com;branch="z9hG4bK1"'));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com;branch=a:b'));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com;branch'));
  rejects(() => parseVia('SIP/2.0/UDP a.example.com;maddr=a..b'));
});

test('Via accepts the three-colon IPv6 form RFC 3261 ABNF admits (RFC 5118 §4.10)', () => {
  assert.equal(parseVia('SIP/2.0/UDP [2001:db8:::192.0.2.1]')[0]!.host, '[2001:db8:::192.0.2.1]');
  assert.equal(parseVia('SIP/2.0/UDP [2001:db8::192.0.2.1]')[0]!.host, '[2001:db8::192.0.2.1]');
});

test('IPv6 address recognition follows RFC 3261 §25.1 IPv6address', () => {
  const ok = ['::', '::1', '1::', '2001:db8::9:1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::ffff:192.0.2.10', '1:2:3:4:5:6:1.2.3.4', 'fe80::ABCD'];
  const bad = ['', ':', ':1', '1:', '1:::2', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', 'g::1', '::1.2.3', '::1.2.3.256', '1:2:3:4:5:6:7:1.2.3.4'];
  for (const a of ok) assert.ok(isIPv6(a, 0, a.length), a);
  for (const a of bad) assert.ok(!isIPv6(a, 0, a.length), a);
  assert.ok(isIPv4('0.0.0.0', 0, 7));
  assert.ok(!isIPv4('01.2.3.1234', 0, 11));
});

test('formatVia writes one via-parm that parses back to the same value (RFC 3261 §20.42)', () => {
  assert.equal(
    formatVia({ protocol: 'SIP/2.0', transport: 'UDP', host: '[2001:db8::1]', port: 5060, params: params({ branch: 'z9hG4bK1', rport: null }) }),
    'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport',
  );
  for (const s of [
    'SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bK74bf9;received=192.0.2.101',
    'SIP  / 2.0  / TCP spindle.example.com ; branch = z9hG4bK9ikj8 , SIP / 2.0 / UDP 192.168.255.111;branch=z9hG4bK30239',
    'SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3;x="quoted, value \\" here";rport',
    'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKhjhs8ass877;alias;ttl=1;maddr=[::1]',
  ]) {
    roundTrip(parseVia(s));
  }
});

test('Via parser throws only SipParseError on mutated input, and what it accepts round-trips', () => {
  const seeds = [
    'SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK74bf9;rport;received=192.0.2.1',
    'SIP  / 2.0  / TCP spindle.example.com ;branch=z9hG4bK9ikj8, SIP/2.0/UDP [2001:db8::9:1]:5060;received=[2001:db8::9:255]',
    'SIP/2.0/TLS [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19;x="a,b";maddr=example.com;ttl=3',
  ];
  const accepted = checkParser(parseVia, fuzzInputs(seeds, 600), roundTrip);
  assert.ok(accepted > 20, `only ${accepted} mutations accepted`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError } from '../../../src/core/errors.js';
import { parseMessage } from '../../../src/message/parse-message.js';
import type { SipRequest } from '../../../src/message/message.js';
import { parseVia } from '../../../src/message/headers/via.js';
import { badRequestResponse, salvageRequest } from '../../../src/transport/bad-request.js';
import { responseDestination } from '../../../src/transport/response-destination.js';
import { stampVia } from '../../../src/transport/via-received.js';
import type { Source } from '../../../src/transport/types.js';
import { rawRequest } from './support.js';

const from = (remoteAddress: string, remotePort: number, protocol: Source['protocol'] = 'UDP'): Source =>
  ({ protocol, localAddress: '127.0.0.1', localPort: 5060, remoteAddress, remotePort });
const req = (via: string): SipRequest => parseMessage(rawRequest({ via }), { lazy: true }) as SipRequest;

test('stampVia: received for a name or another address, rport filled when empty (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  const named = req('SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK1');
  stampVia(named, from('192.0.2.1', 5060));
  assert.equal(named.get('via'), 'SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK1;received=192.0.2.1');

  const nat = req('SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK2');
  stampVia(nat, from('192.0.2.1', 9988));
  assert.equal(nat.get('via'), 'SIP/2.0/UDP 10.0.0.1:5060;rport=9988;branch=z9hG4bK2;received=192.0.2.1');

  const same = req('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK3');
  stampVia(same, from('192.0.2.1', 5060));
  assert.equal(same.get('via'), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK3');

  const v6 = req('SIP/2.0/TCP [2001:db8:0:0::1]:5060;branch=z9hG4bK4');
  stampVia(v6, from('2001:db8::1', 5060, 'TCP'));
  assert.equal(v6.topVia!.params.received, undefined, 'the same IPv6 address written differently');

  const mapped = req('SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK5;rport');
  stampVia(mapped, from('::ffff:192.0.2.7', 1234));
  assert.equal(mapped.topVia!.params.received, '192.0.2.7');
  assert.equal(mapped.topVia!.params.rport, '1234');
});

test('stampVia touches only the top Via value, even when it shares a line with others', () => {
  const r = req('SIP/2.0/UDP a.example.com;branch=z9hG4bKtop, SIP/2.0/UDP b.example.com;branch=z9hG4bKnext');
  stampVia(r, from('192.0.2.1', 5060));
  assert.equal(r.via.length, 2);
  assert.equal(r.via[0]!.params.received, '192.0.2.1');
  assert.equal(r.via[1]!.params.received, undefined);
  assert.equal(r.via[1]!.host, 'b.example.com');
});

test('responseDestination follows RFC 3261 §18.2.2 and RFC 3581 §4', () => {
  const v = (s: string) => parseVia(s)[0]!;
  assert.deepEqual(responseDestination(v('SIP/2.0/UDP 10.0.0.1:5070;received=192.0.2.1;rport=9988'), 'UDP'), { protocol: 'UDP', host: '192.0.2.1', port: 9988 });
  assert.deepEqual(responseDestination(v('SIP/2.0/UDP 10.0.0.1:5070;received=192.0.2.1'), 'UDP'), { protocol: 'UDP', host: '192.0.2.1', port: 5070 });
  assert.deepEqual(responseDestination(v('SIP/2.0/UDP 10.0.0.1;received=192.0.2.1'), 'UDP'), { protocol: 'UDP', host: '192.0.2.1', port: 5060 });
  assert.deepEqual(responseDestination(v('SIP/2.0/UDP h.example.com:5070;maddr=239.255.255.1;received=192.0.2.1'), 'UDP'), { protocol: 'UDP', host: '239.255.255.1', port: 5070 });
  assert.deepEqual(responseDestination(v('SIP/2.0/UDP h.example.com'), 'UDP'), { protocol: 'UDP', host: 'h.example.com', port: undefined });
  assert.deepEqual(responseDestination(v('SIP/2.0/TCP 10.0.0.1:5070;received=192.0.2.1;rport=40000'), 'TCP'), { protocol: 'TCP', host: '192.0.2.1', port: 5070 });
  assert.deepEqual(responseDestination(v('SIP/2.0/TLS h.example.com;received=192.0.2.1'), 'TLS'), { protocol: 'TLS', host: '192.0.2.1', port: 5061 });
  assert.deepEqual(responseDestination(v('SIP/2.0/TLS h.example.com'), 'TLS'), { protocol: 'TLS', host: 'h.example.com', port: undefined });
});

test('badRequestResponse: status and reason from the error; none for ACK or without the needed headers', () => {
  const r = req('SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1');
  const res = badRequestResponse(r, new SipParseError('bad CSeq header: not a number\r\n', 10, 400))!;
  assert.equal(res.status, 400);
  assert.equal(res.reasonPhrase, 'bad CSeq header: not a number');
  assert.equal(badRequestResponse(r, new SipParseError('too big', -1, 513))!.status, 513);
  const ack = parseMessage(rawRequest({ method: 'ACK', via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1' }), { lazy: true }) as SipRequest;
  assert.equal(badRequestResponse(ack, new SipParseError('x')), undefined);
  const noCallId = parseMessage(rawRequest({ via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1' }).replace(/Call-ID:[^\r]*\r\n/, ''), { lazy: true }) as SipRequest;
  assert.equal(badRequestResponse(noCallId, new SipParseError('missing call-id header')), undefined);
});

test('salvageRequest reads the header section of a request the parser refused', () => {
  const text = rawRequest({ via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', body: 'hi' }).replace('Content-Length: 2', 'Content-Length: 99');
  assert.equal(salvageRequest(Buffer.from(text))!.method, 'OPTIONS');
  assert.equal(salvageRequest(Buffer.from('\r\nINVITE sip:a@b SIP/3.1\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\n\r\n'))!.method, 'INVITE');
  assert.equal(salvageRequest(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n')), undefined, 'no end of headers');
  assert.equal(salvageRequest(Buffer.from('SIP/2.0 200 OK\r\nVia: x\r\n\r\n')), undefined, 'a response');
  assert.equal(salvageRequest(Buffer.from('\x16\x03\x01garbage\r\n\r\n')), undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { certificateIdentities, checkSipIdentity, parseSubjectAltName } from '../../../src/transport/tls-identity.js';

const cert = (subjectaltname: string | undefined): PeerCertificate => ({ subjectaltname } as PeerCertificate);

test('subjectAltName text is split, quoted values read as JSON', () => {
  assert.deepEqual(parseSubjectAltName('DNS:a.example.com, IP Address:127.0.0.1, DNS:"we, ird"'), [
    { type: 'DNS', value: 'a.example.com' },
    { type: 'IP Address', value: '127.0.0.1' },
    { type: 'DNS', value: 'we, ird' },
  ]);
  assert.deepEqual(parseSubjectAltName(undefined), []);
});

test('SIP domain identities: dNSName and sip: URIs without a user part (RFC 5922 §7.1)', () => {
  const ids = certificateIdentities(cert('DNS:SS1.Example.com, URI:sip:example.com, URI:sip:alice@example.org, URI:https://example.net, IP Address:0:0:0:0:0:0:0:1'));
  assert.deepEqual([...ids].sort(), ['::1', 'example.com', 'ss1.example.com']);
});

test('wildcards match nothing; names and addresses must match exactly (RFC 5922 §7.2)', () => {
  const c = cert('DNS:*.example.com, DNS:ss1.example.com, IP Address:127.0.0.1');
  assert.equal(checkSipIdentity('ss1.example.com', c), undefined);
  assert.equal(checkSipIdentity('SS1.example.com.', c), undefined);
  assert.equal(checkSipIdentity('127.0.0.1', c), undefined);
  assert.match(String(checkSipIdentity('a.example.com', c)), /does not identify SIP domain/);
  assert.match(String(checkSipIdentity('example.com', c)), /does not identify/);
  assert.match(String(checkSipIdentity('127.0.0.2', c)), /IP address/);
  assert.notEqual(checkSipIdentity('ss1.example.com', cert(undefined)), undefined, 'no SAN: the CN is not used');
});

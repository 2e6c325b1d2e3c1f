import assert from 'node:assert/strict';
import test from 'node:test';
import { formatCSeq, parseCSeq } from '../../../../src/message/headers/cseq.js';
import { checkParser, fuzzInputs, rejects } from './fuzz-support.js';

test('CSeq parses the sequence number and method (RFC 3261 §20.16)', () => {
  assert.deepEqual(parseCSeq('4711 INVITE'), { seq: 4711, method: 'INVITE' });
  assert.deepEqual(parseCSeq('  101 REFER  '), { seq: 101, method: 'REFER' });
});

test('CSeq accepts leading zeros and LWS before the method (RFC 4475 §3.1.1.1)', () => {
  assert.deepEqual(parseCSeq('0009\r\n  INVITE'), { seq: 9, method: 'INVITE' });
  assert.deepEqual(parseCSeq('0009 \t INVITE'), { seq: 9, method: 'INVITE' });
});

test('CSeq method is any token, kept case-sensitive (RFC 4475 §3.1.1.2, RFC 3261 §7.1)', () => {
  assert.equal(parseCSeq("139122385 !interesting-Method0123456789_*+`.%indeed'~").method, "!interesting-Method0123456789_*+`.%indeed'~");
  assert.equal(parseCSeq('1 invite').method, 'invite');
});

test('CSeq accepts numbers up to 2^32-1 (RFC 3261 §20.16: 32-bit unsigned)', () => {
  assert.equal(parseCSeq('2147483648 OPTIONS').seq, 2 ** 31);
  assert.equal(parseCSeq('4294967295 OPTIONS').seq, 2 ** 32 - 1);
  assert.equal(parseCSeq('0 INVITE').seq, 0);
});

test('CSeq beyond 32 bits is a 400 (RFC 4475 §3.1.2.4 scalar02, §3.1.2.5 scalarlg)', () => {
  rejects(() => parseCSeq('36893488147419103232 REGISTER'));
  rejects(() => parseCSeq('9292394834772304023312 OPTIONS'));
  rejects(() => parseCSeq('4294967296 OPTIONS'));
});

test('CSeq with a missing or malformed part is a 400 (RFC 3261 §25.1)', () => {
  for (const bad of ['', ' ', 'INVITE', '1', '1 ', '1INVITE', '-1 INVITE', '1 INVITE x', '1 INV@ITE', 'x1 INVITE', '1.5 INVITE', '1, INVITE']) {
    rejects(() => parseCSeq(bad));
  }
});

test('formatCSeq writes `seq method` and round-trips (RFC 3261 §20.16)', () => {
  assert.equal(formatCSeq({ seq: 1, method: 'INVITE' }), '1 INVITE');
  for (const v of [{ seq: 0, method: 'ACK' }, { seq: 4294967295, method: "x-!%'~" }]) assert.deepEqual(parseCSeq(formatCSeq(v)), v);
});

test('CSeq parser throws only SipParseError on mutated input, and what it accepts round-trips', () => {
  const accepted = checkParser(parseCSeq, fuzzInputs(['4711 INVITE', '0009  ACK', '4294967295 x.y'], 400), (v) => {
    assert.deepEqual(parseCSeq(formatCSeq(v)), v);
  });
  assert.ok(accepted > 10, `only ${accepted} accepted`);
});

import assert from 'node:assert/strict';
import test from 'node:test';
import { formatRAck, formatSessionExpires, parseRAck, parseSessionExpires } from '../../../../src/message/headers/session-timer.js';
import { checkParser, fuzzInputs, params, rejects } from './fuzz-support.js';

test('Session-Expires reads delta-seconds and refresher (RFC 4028 §4)', () => {
  assert.deepEqual(parseSessionExpires('4000;refresher=uac'), { deltaSeconds: 4000, refresher: 'uac', params: params({ refresher: 'uac' }) });
  assert.deepEqual(parseSessionExpires(' 1800 '), { deltaSeconds: 1800, params: params() });
  assert.deepEqual(parseSessionExpires('90 ; Refresher = UAS ; x'), { deltaSeconds: 90, refresher: 'uas', params: params({ refresher: 'uas', x: null }) });
});

test('malformed Session-Expires values are a 400 (RFC 4028 §4)', () => {
  for (const bad of ['', 'x', '-90', '4294967296', '1800;refresher=proxy', '1800;refresher', '1800;refresher="u a c"', '1800, 90', '1800 uac', '1800;']) {
    rejects(() => parseSessionExpires(bad));
  }
});

test('RAck reads response-num, CSeq-num and method (RFC 3262 §7.2)', () => {
  assert.deepEqual(parseRAck('776656 1 INVITE'), { rseq: 776656, cseq: 1, method: 'INVITE' });
  assert.deepEqual(parseRAck('  0001\t 02  invite '), { rseq: 1, cseq: 2, method: 'invite' });
});

test('malformed RAck values are a 400 (RFC 3262 §7.2)', () => {
  for (const bad of ['', '1', '1 2', '1 2 ', '1 INVITE', '1  2INVITE', '12 INVITE', 'a 1 INVITE', '1 2 INVITE x', '4294967296 1 INVITE', '1 4294967296 INVITE', '1,2 INVITE']) {
    rejects(() => parseRAck(bad));
  }
});

test('formatSessionExpires writes the refresher field over params; both round-trip (RFC 4028 §4, RFC 3262 §7.2)', () => {
  const v = parseSessionExpires('1800;refresher=uac;x=1');
  v.refresher = 'uas';
  assert.equal(formatSessionExpires(v), '1800;refresher=uas;x=1');
  delete v.refresher;
  assert.equal(formatSessionExpires(v), '1800;x=1');
  for (const s of ['4000;refresher=uac', '90', '1800;a="b c";refresher=UAS']) {
    const x = parseSessionExpires(s);
    assert.deepEqual(parseSessionExpires(formatSessionExpires(x)), x);
  }
  assert.equal(formatRAck({ rseq: 776656, cseq: 1, method: 'INVITE' }), '776656 1 INVITE');
  assert.deepEqual(parseRAck(formatRAck(parseRAck('0001 02 UPDATE'))), { rseq: 1, cseq: 2, method: 'UPDATE' });
});

test('session-timer parsers throw only SipParseError on mutated input, and what they accept round-trips', () => {
  const a = checkParser(parseSessionExpires, fuzzInputs(['4000;refresher=uac', '1800 ; x="y"', '90'], 400), (v) =>
    assert.deepEqual(parseSessionExpires(formatSessionExpires(v)), v),
  );
  const b = checkParser(parseRAck, fuzzInputs(['776656 1 INVITE', '1 4294967295 PRACK'], 400), (v) => assert.deepEqual(parseRAck(formatRAck(v)), v));
  assert.ok(a > 20 && b > 10);
});

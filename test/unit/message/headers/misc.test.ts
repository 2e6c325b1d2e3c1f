import assert from 'node:assert/strict';
import test from 'node:test';
import { SipParseError } from '../../../../src/core/errors.js';
import {
  formatCallId,
  formatDate,
  formatReferSub,
  formatRetryAfter,
  formatWarning,
  parseCallId,
  parseDate,
  parseReferSub,
  parseRetryAfter,
  parseWarning,
} from '../../../../src/message/headers/misc.js';
import type { WarningValue } from '../../../../src/message/types.js';
import { checkParser, fuzzInputs, params, rejects } from './fuzz-support.js';

// Refer-Sub -------------------------------------------------------------------------------------

test('Refer-Sub reads true or false in any case, with params (RFC 4488 §4)', () => {
  assert.deepEqual(parseReferSub('false'), { value: false, params: params() });
  assert.deepEqual(parseReferSub(' TRUE ;x=1'), { value: true, params: params({ x: '1' }) });
  assert.equal(parseReferSub('False').value, false);
});

test('malformed Refer-Sub values are a 400 (RFC 4488 §4)', () => {
  for (const bad of ['', 'yes', 'truex', 'tru', '1', 'true false', 'true,false', 'true;', '"true"']) rejects(() => parseReferSub(bad));
});

test('Refer-Sub round-trips through formatReferSub (RFC 4488 §4)', () => {
  assert.equal(formatReferSub({ value: false, params: params() }), 'false');
  for (const s of ['true', 'FALSE;a="b c";d']) {
    const v = parseReferSub(s);
    assert.deepEqual(parseReferSub(formatReferSub(v)), v);
  }
});

// Retry-After -----------------------------------------------------------------------------------

test('Retry-After reads seconds, comment and duration (RFC 3261 §20.33)', () => {
  assert.deepEqual(parseRetryAfter('18000;duration=3600'), { seconds: 18000, duration: 3600, params: params({ duration: '3600' }) });
  assert.deepEqual(parseRetryAfter("120 (I'm in a meeting)"), { seconds: 120, comment: "I'm in a meeting", params: params() });
  assert.deepEqual(parseRetryAfter(' 5(a (nested) \\) comment) ; duration = 060 ; x '), {
    seconds: 5,
    comment: 'a (nested) ) comment',
    duration: 60,
    params: params({ duration: '60', x: null }),
  });
});

test('Retry-After beyond 2^32-1 is a 400 (RFC 4475 §3.1.2.5 scalarlg)', () => {
  rejects(() => parseRetryAfter('949302838503028349304023988'));
  rejects(() => parseRetryAfter('4294967296'));
  assert.equal(parseRetryAfter('4294967295').seconds, 4294967295);
});

test('malformed Retry-After values are a 400 (RFC 3261 §20.33)', () => {
  for (const bad of ['', '(x)', '120 (open', '120 (a (b)', '120 (x) (y)', '120;duration', '120;duration=x', '120 x', '120, 5', '-1', '120;', '120 (a\r\nb)']) {
    rejects(() => parseRetryAfter(bad));
  }
});

test('Retry-After round-trips, parentheses and backslashes in comments escaped (RFC 3261 §25.1 comment)', () => {
  assert.equal(formatRetryAfter({ seconds: 1, comment: 'a (b) \\', params: params() }), '1 (a \\(b\\) \\\\)');
  // CR and LF cannot be quoted-pairs (RFC 3261 §25.1): written as spaces, never ending the line.
  assert.equal(formatRetryAfter({ seconds: 1, comment: 'a\r\nb', params: params() }), '1 (a  b)');
  for (const s of ["120 (I'm in a meeting)", '5 (a (nested) \\) c);duration=060;x', '0']) {
    const v = parseRetryAfter(s);
    assert.deepEqual(parseRetryAfter(formatRetryAfter(v)), v);
  }
});

// Warning ---------------------------------------------------------------------------------------

test('Warning reads code, agent and text (RFC 3261 §20.43)', () => {
  assert.deepEqual(parseWarning('307 isi.edu "Session parameter \'foo\' not understood"'), [
    { code: 307, agent: 'isi.edu', text: "Session parameter 'foo' not understood" },
  ]);
  assert.deepEqual(parseWarning('301 isi.edu "Incompatible network address type \'E.164\'"')[0]!.code, 301);
});

test('Warning agent is hostport (IPv6 too) or a pseudonym (RFC 3261 §20.43 warn-agent)', () => {
  const v = parseWarning('399 192.0.2.1:5060 "a", 399 [2001:db8::1]:5061 "b" , 370 overture "c",399 [::1] "d"');
  assert.deepEqual(v.map((w) => w.agent), ['192.0.2.1:5060', '[2001:db8::1]:5061', 'overture', '[::1]']);
});

test('Warning code must be exactly three digits (RFC 4475 §3.1.2.5 scalarlg)', () => {
  rejects(() => parseWarning('1812 overture "In Progress"'));
  rejects(() => parseWarning('12 overture "x"'));
  assert.equal(parseWarning('099 overture "x"')[0]!.code, 99);
});

test('malformed Warning values are a 400 (RFC 3261 §20.43)', () => {
  for (const bad of [
    '', '399', '399 host', '399 host text', '399 "x"', '399host "x"', '399 host"x"', '399 host:99999 "x"', '399 a_b:5060 "x"', '399 [::1 "x"',
    '399 host "x",', '399 host "x" 399 host "y"', '399 host "open', 'abc host "x"',
  ]) {
    rejects(() => parseWarning(bad));
  }
});

test('Warning values round-trip through formatWarning, the code padded to three digits (RFC 3261 §20.43)', () => {
  assert.equal(formatWarning({ code: 99, agent: 'a', text: 'say "hi"' }), '099 a "say \\"hi\\""');
  const list = parseWarning('307 isi.edu "x, y", 399 [2001:db8::1]:5061 "\\\\ \\""');
  assert.deepEqual(parseWarning(list.map(formatWarning).join(', ')), list);
});

// Date ------------------------------------------------------------------------------------------

test('Date reads an rfc1123-date in GMT (RFC 3261 §20.17)', () => {
  assert.equal(parseDate('Sat, 13 Nov 2010 23:29:00 GMT').toISOString(), '2010-11-13T23:29:00.000Z');
  assert.equal(parseDate(' Sat, 15 Oct 2005 04:44:56 GMT ').toISOString(), '2005-10-15T04:44:56.000Z');
  assert.equal(parseDate('thu, 29 feb 2024 00:00:00 gmt').toISOString(), '2024-02-29T00:00:00.000Z');
  assert.equal(parseDate('Thu, 01 Jan 0099 12:00:00 GMT').getUTCFullYear(), 99);
});

test('Date with a zone other than GMT is a 400 (RFC 4475 §3.1.2.12 baddate)', () => {
  rejects(() => parseDate('Fri, 01 Jan 2010 16:00:00 EST'));
  rejects(() => parseDate('Fri, 01 Jan 2010 16:00:00 UTC'));
  rejects(() => parseDate('Fri, 01 Jan 2010 16:00:00 +0000'));
  rejects(() => parseDate('Fri, 01 Jan 2010 16:00:00'));
});

test('malformed Date values are a 400 (RFC 3261 §25.1 rfc1123-date)', () => {
  for (const bad of [
    '', 'Fri 01 Jan 2010 16:00:00 GMT', 'Fri,01 Jan 2010 16:00:00 GMT', 'Fry, 01 Jan 2010 16:00:00 GMT', 'Fri, 1 Jan 2010 16:00:00 GMT',
    'Fri, 01 Jam 2010 16:00:00 GMT', 'Fri, 01 Jan 10 16:00:00 GMT', 'Fri, 30 Feb 2010 16:00:00 GMT', 'Fri, 29 Feb 2100 16:00:00 GMT',
    'Fri, 00 Jan 2010 16:00:00 GMT', 'Fri, 01 Jan 2010 24:00:00 GMT', 'Fri, 01 Jan 2010 16:60:00 GMT', 'Fri, 01 Jan 2010 16:00:61 GMT',
    'Fri, 01 Jan 2010 16:00 GMT', 'Fri, 01 Jan 2010 16-00-00 GMT', 'Fri, 01 Jan 2010 16:00:00 GMTX', 'Friday, 01-Jan-10 16:00:00 GMT',
    'Fri, 01 Jan 2010 16:00:00 GMT, Fri, 01 Jan 2010 16:00:00 GMT',
  ]) {
    rejects(() => parseDate(bad));
  }
});

test('formatDate writes an rfc1123-date that parses back (RFC 3261 §20.17)', () => {
  assert.equal(formatDate(new Date(Date.UTC(2010, 0, 1, 16, 0, 0))), 'Fri, 01 Jan 2010 16:00:00 GMT');
  for (const s of ['Sat, 13 Nov 2010 23:29:00 GMT', 'Thu, 01 Jan 0099 12:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT']) {
    assert.equal(formatDate(parseDate(s)), s);
    const d = parseDate(s);
    assert.deepEqual(parseDate(formatDate(d)), d);
  }
  assert.throws(() => formatDate(new Date(Number.NaN)), SipParseError);
  assert.throws(() => formatDate(new Date(Date.UTC(10000, 0, 1))), SipParseError);
});

// Call-ID ---------------------------------------------------------------------------------------

test('Call-ID is word [@ word], returned as written (RFC 3261 §20.8, RFC 4475 §3.1.1.2)', () => {
  assert.equal(parseCallId('12345601@atlanta.example.com'), '12345601@atlanta.example.com');
  assert.equal(parseCallId('  f81d4fae-7dec-11d0-a765-00a0c91e6bf6  '), 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
  const odd = "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{";
  assert.equal(parseCallId(odd), odd);
  assert.equal(formatCallId(odd), odd);
});

test('Call-ID that is empty, has whitespace inside or extra @ is a 400 (RFC 3261 §25.1 callid)', () => {
  for (const bad of ['', '  ', 'a b', 'a@b c', '@b', 'a@', 'a@b@c', 'a;b', 'a,b', 'a\u0000b', 'a\u00e9b', 'a=b']) rejects(() => parseCallId(bad));
});

// Fuzz ------------------------------------------------------------------------------------------

test('misc parsers throw only SipParseError on mutated input, and what they accept round-trips', () => {
  const counts = [
    checkParser(parseReferSub, fuzzInputs(['true', 'false;x="y";z'], 300), (v) => assert.deepEqual(parseReferSub(formatReferSub(v)), v)),
    checkParser(parseRetryAfter, fuzzInputs(['18000;duration=3600', "120 (I'm (in) a \\meeting)"], 400), (v) =>
      assert.deepEqual(parseRetryAfter(formatRetryAfter(v)), v),
    ),
    checkParser(parseWarning, fuzzInputs(['307 isi.edu "Session parameter \'foo\' not understood"', '399 [2001:db8::1]:5061 "a", 370 x "b"'], 400), (v: WarningValue[]) =>
      assert.deepEqual(parseWarning(v.map(formatWarning).join(', ')), v),
    ),
    checkParser(parseDate, fuzzInputs(['Sat, 13 Nov 2010 23:29:00 GMT', 'Fri, 29 Feb 2008 00:00:60 GMT'], 400), (d) =>
      assert.deepEqual(parseDate(formatDate(d)), d),
    ),
    checkParser(parseCallId, fuzzInputs(['12345601@atlanta.example.com', "a(b)<c>:\\\"/[]?{}'@x"], 300), (v) => assert.equal(parseCallId(formatCallId(v)), v)),
  ];
  // Few mutations of a date stay valid; the point there is that none throws anything else.
  const minimum = [10, 10, 10, 2, 10];
  counts.forEach((n, i) => assert.ok(n > minimum[i]!, `only ${n} accepted`));
});

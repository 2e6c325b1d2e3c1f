import assert from 'node:assert/strict';
import test from 'node:test';
import { formatAccept, formatContentType, parseAccept, parseContentType } from '../../../../src/message/headers/media-type.js';
import { checkParser, fuzzInputs, params, rejects } from './fuzz-support.js';

test('Content-Type reads type, subtype and params (RFC 3261 §20.15)', () => {
  assert.deepEqual(parseContentType('application/sdp'), { type: 'application', subtype: 'sdp', params: params() });
  assert.deepEqual(parseContentType('multipart/mixed;boundary=7a9cbec02ceef655'), {
    type: 'multipart',
    subtype: 'mixed',
    params: params({ boundary: '7a9cbec02ceef655' }),
  });
});

test('Content-Type lower-cases type, subtype and param names, keeps values (RFC 2045 §5.1)', () => {
  assert.deepEqual(parseContentType(' Text / HTML ; Charset = "ISO-8859-4" '), { type: 'text', subtype: 'html', params: params({ charset: 'ISO-8859-4' }) });
});

test('malformed Content-Type values are a 400 (RFC 3261 §25.1 media-type)', () => {
  for (const bad of ['', 'application', 'application/', '/sdp', 'application/sdp;', 'application/sdp;x', '*/*', 'text/*', 'application/sdp, text/plain', 'application/sdp x', 'a/b/c', 'app lication/sdp']) {
    rejects(() => parseContentType(bad));
  }
});

test('Accept reads a list of media ranges with wildcards and q (RFC 3261 §20.1)', () => {
  assert.deepEqual(parseAccept('application/sdp;level=1, application/x-private, text/html'), [
    { type: 'application', subtype: 'sdp', params: params({ level: '1' }) },
    { type: 'application', subtype: 'x-private', params: params() },
    { type: 'text', subtype: 'html', params: params() },
  ]);
  assert.deepEqual(parseAccept('*/*;q=0.1 , text/*;q=1.000, a/b;q=0;flag').map((m) => m.type + '/' + m.subtype), ['*/*', 'text/*', 'a/b']);
  assert.deepEqual(parseAccept('text/nobodyKnowsThis'), [{ type: 'text', subtype: 'nobodyknowsthis', params: params() }]);
});

test('an empty Accept value is an empty list: accept nothing (RFC 3261 §20.1)', () => {
  assert.deepEqual(parseAccept(''), []);
  assert.deepEqual(parseAccept('  '), []);
});

test('malformed Accept values are a 400 (RFC 3261 §20.1, §25.1 qvalue)', () => {
  for (const bad of ['*/html', 'a/b,', ',a/b', 'a/b,,c/d', 'a/b;q=1.5', 'a/b;q=0.1234', 'a/b;q=2', 'a/b;q', 'a/b;q=.5', 'a/b;q=1.01', 'a', 'a/b c/d']) {
    rejects(() => parseAccept(bad));
  }
});

test('media types round-trip through their formatters (RFC 3261 §20.1, §20.15)', () => {
  for (const s of ['application/sdp', 'multipart/mixed;boundary="a b,c"', 'text/plain;charset=UTF-8']) {
    const v = parseContentType(s);
    assert.deepEqual(parseContentType(formatContentType(v)), v);
  }
  assert.equal(formatContentType(parseContentType('Application/SDP')), 'application/sdp');
  for (const s of ['', 'application/sdp;q=0.5, */*;q=0', 'text/*;level;x="1 2"']) {
    const v = parseAccept(s);
    assert.deepEqual(parseAccept(formatAccept(v)), v);
  }
  assert.equal(formatAccept([]), '');
});

test('media-type parsers throw only SipParseError on mutated input, and what they accept round-trips', () => {
  const a = checkParser(parseContentType, fuzzInputs(['application/sdp', 'multipart/mixed;boundary="a,b";charset=x'], 400), (v) =>
    assert.deepEqual(parseContentType(formatContentType(v)), v),
  );
  const b = checkParser(parseAccept, fuzzInputs(['application/sdp;q=0.5, */*;q=0', 'text/*;level, a/b'], 400), (v) =>
    assert.deepEqual(parseAccept(formatAccept(v)), v),
  );
  assert.ok(a > 20 && b > 20);
});

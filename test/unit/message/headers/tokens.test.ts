import assert from 'node:assert/strict';
import test from 'node:test';
import { formatTokenList, parseTokenList } from '../../../../src/message/headers/tokens.js';
import { checkParser, fuzzInputs, rejects } from './fuzz-support.js';

test('token lists split at commas with LWS around them (RFC 3261 §20.5, §7.3.1)', () => {
  assert.deepEqual(parseTokenList('INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY'), ['INVITE', 'ACK', 'CANCEL', 'OPTIONS', 'BYE', 'REFER', 'NOTIFY']);
  assert.deepEqual(parseTokenList(' 100rel ,timer,\tpath '), ['100rel', 'timer', 'path']);
  assert.deepEqual(parseTokenList('replaces'), ['replaces']);
});

test('token lists keep tokens as written, dots and all (RFC 3261 §20.37, RFC 6665 §8.2.2)', () => {
  assert.deepEqual(parseTokenList('Timer, X-Foo'), ['Timer', 'X-Foo']);
  assert.deepEqual(parseTokenList('presence.winfo, dialog'), ['presence.winfo', 'dialog']);
});

test('an empty token-list value is an empty list (RFC 3261 §20.5, §20.37)', () => {
  assert.deepEqual(parseTokenList(''), []);
  assert.deepEqual(parseTokenList('  \t '), []);
});

test('token lists with empty elements or non-token chars are a 400 (RFC 3261 §25.1)', () => {
  for (const bad of ['a,,b', 'a,', ',a', ',', 'a b', 'a;b', 'gzip;q=0.5', '"a"', 'a/b', 'a@b', 'a, ,b']) rejects(() => parseTokenList(bad));
});

test('formatTokenList writes `a, b` and round-trips (RFC 3261 §7.3.1)', () => {
  assert.equal(formatTokenList(['INVITE', 'ACK']), 'INVITE, ACK');
  assert.equal(formatTokenList([]), '');
  for (const list of [[], ['a'], ['100rel', 'timer', "x!%*_+`'~."]]) assert.deepEqual(parseTokenList(formatTokenList(list)), list);
});

test('token-list parser throws only SipParseError on mutated input, and what it accepts round-trips', () => {
  const accepted = checkParser(parseTokenList, fuzzInputs(['INVITE, ACK,BYE', '100rel,timer', ' replaces '], 400), (v) => {
    assert.deepEqual(parseTokenList(formatTokenList(v)), v);
  });
  assert.ok(accepted > 20);
});

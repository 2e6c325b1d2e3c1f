import assert from 'node:assert/strict';
import test from 'node:test';
import {
  formatNumber,
  parseContentLength,
  parseExpires,
  parseMaxForwards,
  parseMinExpires,
  parseMinSE,
  parseRSeq,
} from '../../../../src/message/headers/numbers.js';
import { checkParser, fuzzInputs, rejects } from './fuzz-support.js';

test('Max-Forwards reads 0 to 255 with leading zeros (RFC 3261 §20.22, RFC 4475 §3.1.1.1)', () => {
  assert.equal(parseMaxForwards('70'), 70);
  assert.equal(parseMaxForwards('0068'), 68);
  assert.equal(parseMaxForwards(' 0 '), 0);
  assert.equal(parseMaxForwards('255'), 255);
  assert.equal(parseMaxForwards('0000000000000000255'), 255);
});

test('Max-Forwards above 255 or not a number is a 400 (RFC 4475 §3.1.2.4)', () => {
  for (const bad of ['300', '256', '', ' ', '-1', '7 0', '70a', '0x10', '+5', '1e2']) rejects(() => parseMaxForwards(bad));
});

test('Content-Length is non-negative (RFC 3261 §20.14, RFC 4475 §3.1.2.3)', () => {
  assert.equal(parseContentLength('0'), 0);
  assert.equal(parseContentLength(' 150 '), 150);
  rejects(() => parseContentLength('-999'));
  rejects(() => parseContentLength('+5'));
  rejects(() => parseContentLength('1.0'));
  rejects(() => parseContentLength(''));
});

test('Expires is delta-seconds up to 2^32-1 (RFC 3261 §20.19, RFC 4475 §3.1.2.4)', () => {
  assert.equal(parseExpires('3600'), 3600);
  assert.equal(parseExpires('4294967295'), 4294967295);
  rejects(() => parseExpires('4294967296'));
  rejects(() => parseExpires('1' + '0'.repeat(100)));
  rejects(() => parseExpires('3600;x'));
  rejects(() => parseExpires('Thu, 01 Dec 1994 16:00:00 GMT'));
});

test('Min-Expires and RSeq are 32-bit decimal numbers (RFC 3261 §20.23, RFC 3262 §7.1)', () => {
  assert.equal(parseMinExpires('60'), 60);
  assert.equal(parseRSeq('988789'), 988789);
  assert.equal(parseRSeq('4294967295'), 4294967295);
  rejects(() => parseMinExpires('sixty'));
  rejects(() => parseRSeq('4294967296'));
  rejects(() => parseRSeq('1 2'));
});

test('Min-SE is delta-seconds with optional generic params (RFC 4028 §5)', () => {
  assert.equal(parseMinSE('90'), 90);
  assert.equal(parseMinSE(' 3600 ; foo=bar;flag '), 3600);
  rejects(() => parseMinSE('90,100'));
  rejects(() => parseMinSE('90;'));
  rejects(() => parseMinSE('ninety'));
  rejects(() => parseMinSE('90 x'));
  rejects(() => parseMinSE('99999999999'));
});

test('formatNumber writes the decimal form that parses back (RFC 3261 §25.1 1*DIGIT)', () => {
  for (const n of [0, 68, 255]) assert.equal(parseMaxForwards(formatNumber(n)), n);
  for (const n of [0, 1, 4294967295]) assert.equal(parseExpires(formatNumber(n)), n);
  assert.equal(formatNumber(70), '70');
});

test('numeric header parsers throw only SipParseError on mutated input', () => {
  const inputs = fuzzInputs(['70', '0068', '4294967295', ' 3600 ', '90;refresher=uac'], 400);
  for (const parse of [parseMaxForwards, parseContentLength, parseExpires, parseMinExpires, parseRSeq, parseMinSE]) {
    checkParser(parse, inputs, (n) => {
      assert.ok(Number.isInteger(n) && n >= 0 && n <= 4294967295);
      assert.equal(parse(formatNumber(n)), n);
    });
  }
});

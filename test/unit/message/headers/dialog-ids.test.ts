import assert from 'node:assert/strict';
import test from 'node:test';
import { formatReplaces, formatTargetDialog, parseReplaces, parseTargetDialog } from '../../../../src/message/headers/dialog-ids.js';
import { checkParser, fuzzInputs, params, rejects } from './fuzz-support.js';

test('Replaces reads call-id, to-tag, from-tag and early-only (RFC 3891 §6.1)', () => {
  assert.deepEqual(parseReplaces('98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only'), {
    callId: '98732@sip.example.com',
    toTag: 'ff87ff',
    fromTag: 'r33th4x0r',
    earlyOnly: true,
    params: params({ 'from-tag': 'r33th4x0r', 'to-tag': 'ff87ff', 'early-only': null }),
  });
  const v = parseReplaces(' 425928@bobster.example.org ; to-tag = 7743 ; from-tag=6472 ; x=y ');
  assert.equal(v.callId, '425928@bobster.example.org');
  assert.equal(v.earlyOnly, false);
  assert.equal(v.params.x, 'y');
});

test('Replaces call-id takes every RFC 3261 §25.1 word char (RFC 4475 §3.1.1.2)', () => {
  const id = "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{";
  assert.equal(parseReplaces(id + ';to-tag=a;from-tag=b').callId, id);
});

test('Replaces without to-tag or from-tag is a 400 (RFC 3891 §6.1)', () => {
  rejects(() => parseReplaces('98732@sip.example.com;from-tag=r33th4x0r'));
  rejects(() => parseReplaces('98732@sip.example.com;to-tag=ff87ff'));
  rejects(() => parseReplaces('98732@sip.example.com'));
});

test('malformed Replaces values are a 400 (RFC 3891 §6.1)', () => {
  for (const bad of [
    '', ';to-tag=a;from-tag=b', '@x;to-tag=a;from-tag=b', 'x@;to-tag=a;from-tag=b', 'a@b@c;to-tag=a;from-tag=b', 'a b;to-tag=a;from-tag=b',
    'a;to-tag;from-tag=b', 'a;to-tag=a;from-tag="b c"', 'a;to-tag=a;from-tag=b;early-only=yes', 'a;to-tag=a;from-tag=b, c;to-tag=a;from-tag=b',
    'a;to-tag=a;from-tag=b;', 'a;to-tag=[x];from-tag=b',
  ]) {
    rejects(() => parseReplaces(bad));
  }
});

test('Target-Dialog reads call-id, local-tag and remote-tag (RFC 4538 §7)', () => {
  assert.deepEqual(parseTargetDialog('sfghjkjkl@example.com;local-tag=kkaz-;remote-tag=6544'), {
    callId: 'sfghjkjkl@example.com',
    localTag: 'kkaz-',
    remoteTag: '6544',
    params: params({ 'local-tag': 'kkaz-', 'remote-tag': '6544' }),
  });
  assert.deepEqual(parseTargetDialog('abc'), { callId: 'abc', params: params() });
});

test('malformed Target-Dialog values are a 400 (RFC 4538 §7)', () => {
  for (const bad of ['', ' ;local-tag=a', 'a;local-tag', 'a;remote-tag=', 'a;local-tag="x y"', 'a, b', 'a b']) rejects(() => parseTargetDialog(bad));
});

test('formatReplaces and formatTargetDialog write the typed fields over the params (RFC 3891 §6.1, RFC 4538 §7)', () => {
  const r = parseReplaces('a@b;to-tag=1;from-tag=2;x');
  r.earlyOnly = true;
  r.toTag = '9';
  assert.equal(formatReplaces(r), 'a@b;to-tag=9;from-tag=2;x;early-only');
  const t = parseTargetDialog('a@b;remote-tag=2');
  t.localTag = '1';
  assert.equal(formatTargetDialog(t), 'a@b;remote-tag=2;local-tag=1');
});

test('Replaces and Target-Dialog round-trip through their formatters', () => {
  for (const s of ['98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only', 'x;to-tag=1;from-tag=2;p="q r"']) {
    const v = parseReplaces(s);
    assert.deepEqual(parseReplaces(formatReplaces(v)), v);
  }
  for (const s of ['sfghjkjkl@example.com;local-tag=kkaz-;remote-tag=6544', 'abc;z']) {
    const v = parseTargetDialog(s);
    assert.deepEqual(parseTargetDialog(formatTargetDialog(v)), v);
  }
});

test('dialog-id parsers throw only SipParseError on mutated input, and what they accept round-trips', () => {
  const seeds = ['98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only', 'a(b)@c;to-tag=1;from-tag=2;x="y"'];
  const a = checkParser(parseReplaces, fuzzInputs(seeds, 400), (v) => assert.deepEqual(parseReplaces(formatReplaces(v)), v));
  const b = checkParser(
    parseTargetDialog,
    fuzzInputs(['sfghjkjkl@example.com;local-tag=kkaz-;remote-tag=6544', 'a:b@[c];x'], 400),
    (v) => assert.deepEqual(parseTargetDialog(formatTargetDialog(v)), v),
  );
  assert.ok(a > 20 && b > 20);
});

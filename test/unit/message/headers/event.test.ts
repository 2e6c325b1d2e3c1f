import assert from 'node:assert/strict';
import test from 'node:test';
import { formatEvent, formatSubscriptionState, parseEvent, parseSubscriptionState } from '../../../../src/message/headers/event.js';
import { checkParser, fuzzInputs, params, rejects } from './fuzz-support.js';

test('Event parses event-type and params (RFC 6665 §8.2.1, RFC 3515 §2.4.4)', () => {
  assert.deepEqual(parseEvent('refer;id=93809824'), { type: 'refer', params: params({ id: '93809824' }) });
  assert.deepEqual(parseEvent(' presence '), { type: 'presence', params: params() });
  assert.deepEqual(parseEvent('dialog ; call-id = "a@b" ; include-session-description'), {
    type: 'dialog',
    params: params({ 'call-id': 'a@b', 'include-session-description': null }),
  });
});

test('Event accepts event templates after dots (RFC 6665 §8.4 event-template)', () => {
  assert.equal(parseEvent('presence.winfo').type, 'presence.winfo');
  assert.equal(parseEvent('message-summary.winfo.x').type, 'message-summary.winfo.x');
});

test('Event type is lower-cased (types.ts; RFC 6665 §8.2.1 matching noted in deviations)', () => {
  assert.equal(parseEvent('Presence;ID=5').type, 'presence');
  assert.equal(parseEvent('Presence;ID=5').params.id, '5');
});

test('malformed Event values are a 400 (RFC 6665 §8.4)', () => {
  for (const bad of ['', ' ', 'presence..winfo', '.presence', 'presence.', 'refer, presence', 'refer;', 'refer;id=', 'a b', '"refer"', 'refer;;id=1']) {
    rejects(() => parseEvent(bad));
  }
});

test('Subscription-State reads state, reason, expires and retry-after (RFC 6665 §8.2.3)', () => {
  assert.deepEqual(parseSubscriptionState('active;expires=600'), { state: 'active', expires: 600, params: params({ expires: '600' }) });
  assert.deepEqual(parseSubscriptionState('terminated;reason=noresource'), {
    state: 'terminated',
    reason: 'noresource',
    params: params({ reason: 'noresource' }),
  });
  assert.deepEqual(parseSubscriptionState(' Terminated ; Reason = Probation ; Retry-After = 0030 ; x=y'), {
    state: 'terminated',
    reason: 'probation',
    retryAfter: 30,
    params: params({ reason: 'probation', 'retry-after': '30', x: 'y' }),
  });
  assert.equal(parseSubscriptionState('pending').state, 'pending');
  assert.equal(parseSubscriptionState('x-custom;reason=x-why').reason, 'x-why');
});

test('malformed Subscription-State values are a 400 (RFC 6665 §8.4)', () => {
  for (const bad of [
    '', ';expires=1', 'active;expires', 'active;expires=abc', 'active;expires=4294967296', 'active;expires=-1', 'terminated;reason',
    'terminated;reason="no resource"', 'terminated;retry-after=1.5', 'active, pending', 'active pending',
  ]) {
    rejects(() => parseSubscriptionState(bad));
  }
});

test('formatSubscriptionState writes the typed fields over the params (RFC 6665 §8.2.3)', () => {
  const v = parseSubscriptionState('active;x=1;expires=600');
  v.expires = 300;
  assert.equal(formatSubscriptionState(v), 'active;x=1;expires=300');
  v.reason = 'timeout';
  delete v.expires;
  assert.equal(formatSubscriptionState(v), 'active;x=1;reason=timeout');
});

test('Event and Subscription-State round-trip through their formatters (RFC 6665 §8.4)', () => {
  for (const s of ['refer;id=93809824', 'presence.winfo', 'dialog;call-id="a b";flag']) {
    const v = parseEvent(s);
    assert.deepEqual(parseEvent(formatEvent(v)), v);
  }
  for (const s of ['active;expires=600', 'terminated;reason=giveup;retry-after=0120;z="q q"', 'pending;flag']) {
    const v = parseSubscriptionState(s);
    assert.deepEqual(parseSubscriptionState(formatSubscriptionState(v)), v);
  }
});

test('Event parsers throw only SipParseError on mutated input, and what they accept round-trips', () => {
  const a = checkParser(parseEvent, fuzzInputs(['refer;id=93809824', 'presence.winfo ; x="y"', 'dialog;flag'], 400), (v) => {
    assert.deepEqual(parseEvent(formatEvent(v)), v);
  });
  const b = checkParser(
    parseSubscriptionState,
    fuzzInputs(['active;expires=600', 'terminated;reason=timeout;retry-after=30', 'pending ; x="a,b"'], 400),
    (v) => assert.deepEqual(parseSubscriptionState(formatSubscriptionState(v)), v),
  );
  assert.ok(a > 20 && b > 20);
});

/**
 * REFER's implicit subscription (RFC 3515 §2.4.4-§2.4.7, RFC 6665, RFC 4488) and the
 * message/sipfrag bodies its NOTIFYs carry (RFC 3420).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { Dialog, ReferNotifier, ReferSubscriber, wantsReferSubscription, type ReferNotify, type ReferResult } from '../../../src/dialog/index.js';
import { formatSipfrag, parseSipfrag, type SipRequest } from '../../../src/message/index.js';
import { SipParseError } from '../../../src/core/errors.js';
import { bobResponse, inviteAtBob, seed, wire } from './helpers.js';

/** A NOTIFY in the seed's dialog carrying `notify`, as it arrives at the REFER's sender. */
function notifyRequest(n: ReferNotify): SipRequest {
  const invite = inviteAtBob();
  const dialog = Dialog.forUas(invite, bobResponse(invite, 200, { toTag: '314159' }));
  return wire(dialog.createRequest('NOTIFY', { headers: n.headers, body: n.body, contentType: n.contentType }));
}

test('sipfrag: a status line, with or without headers, round-trips (RFC 3420)', () => {
  assert.equal(formatSipfrag(100, 'Trying'), 'SIP/2.0 100 Trying\r\n');
  const text = formatSipfrag(486, 'Busy Here', [['Retry-After', '60']]);
  assert.deepEqual(parseSipfrag(text), { status: 486, reason: 'Busy Here', headers: [['Retry-After', '60']] });
  assert.deepEqual(parseSipfrag('SIP/2.0 200 OK'), { status: 200, reason: 'OK', headers: [] });
  assert.deepEqual(parseSipfrag('SIP/2.0 180 Ringing\nTo: <sip:a@b>\n\tx\n\nignored'), { status: 180, reason: 'Ringing', headers: [['To', '<sip:a@b> x']] });
  assert.throws(() => parseSipfrag('INVITE sip:a@b SIP/2.0'), SipParseError);
  assert.throws(() => parseSipfrag('SIP/2.0 99 Low'), SipParseError);
  assert.throws(() => formatSipfrag(200, 'OK\r\nX: y'), SipParseError);
});

test('Refer-Sub: false asks for no subscription (RFC 4488 §4); absent or true asks for one', () => {
  const refer = seed('seed-refer.sip');
  assert.equal(wantsReferSubscription(refer), true);
  refer.set('Refer-Sub', 'false');
  assert.equal(wantsReferSubscription(refer), false);
  refer.set('Refer-Sub', 'true');
  assert.equal(wantsReferSubscription(refer), true);
});

test('notifier: Event refer;id=<REFER CSeq>, active;expires counting down, then terminated;reason=noresource', () => {
  const clock = new FakeClock();
  const notifier = new ReferNotifier({ id: 101, clock, expires: 60 });
  const trying = notifier.notify(100, 'Trying');
  assert.deepEqual(trying.headers, [['Event', 'refer;id=101'], ['Subscription-State', 'active;expires=60']]);
  assert.equal(trying.body, 'SIP/2.0 100 Trying\r\n');
  assert.equal(trying.contentType, 'message/sipfrag');
  assert.equal(trying.final, false);
  clock.advance(20_000);
  assert.deepEqual(notifier.notify(180, 'Ringing').headers[1], ['Subscription-State', 'active;expires=40']);
  const ok = notifier.notify(200, 'OK');
  assert.equal(ok.final, true);
  assert.deepEqual(ok.headers[1], ['Subscription-State', 'terminated;reason=noresource']);
  assert.equal(notifier.terminated, true);
  assert.throws(() => notifier.notify(200, 'OK'));
  assert.equal(clock.pending, 0);
});

test('notifier: expiry sends a terminating NOTIFY with the last status (RFC 6665 §4.2.2)', () => {
  const clock = new FakeClock();
  const expired: ReferNotify[] = [];
  const notifier = new ReferNotifier({ id: 7, clock, expires: 30, onExpired: (n) => expired.push(n) });
  notifier.notify(180, 'Ringing');
  clock.advance(30_000);
  assert.equal(expired.length, 1);
  assert.deepEqual(expired[0]!.headers, [['Event', 'refer;id=7'], ['Subscription-State', 'terminated;reason=timeout']]);
  assert.equal(expired[0]!.body, 'SIP/2.0 180 Ringing\r\n');
  assert.equal(notifier.terminated, true);
  assert.equal(clock.pending, 0);
});

test('subscriber: progress in order, the final sipfrag settles it; a later NOTIFY gets 481', () => {
  const clock = new FakeClock();
  const notifier = new ReferNotifier({ id: 101, clock });
  const progress: number[] = [];
  const results: ReferResult[] = [];
  const sub = new ReferSubscriber({ id: 101, clock, timeoutMs: 10_000, onProgress: (f) => progress.push(f.status), onDone: (r) => results.push(r) });
  for (const [status, reason] of [[100, 'Trying'], [180, 'Ringing'], [200, 'OK']] as const) {
    const notify = notifyRequest(notifier.notify(status, reason));
    assert.equal(sub.matches(notify), true);
    assert.equal(sub.receive(notify), 200);
  }
  assert.deepEqual(progress, [100, 180, 200]);
  assert.equal(results.length, 1);
  assert.equal(results[0]!.kind, 'final');
  assert.equal(results[0]!.kind === 'final' ? results[0]!.frag.status : 0, 200);
  assert.equal(sub.receive(notifyRequest(new ReferNotifier({ id: 101, clock }).notify(200, 'OK'))), 481);
  assert.equal(sub.done, true);
});

test('subscriber: another REFER\'s id, another event, a body that is no sipfrag', () => {
  const clock = new FakeClock();
  const sub = new ReferSubscriber({ id: 101, clock, timeoutMs: 10_000, onDone: () => assert.fail('not done') });
  const otherNotifier = new ReferNotifier({ id: 102, clock });
  const other = notifyRequest(otherNotifier.notify(100, 'Trying'));
  otherNotifier.close();
  assert.equal(sub.matches(other), false);
  const presence = notifyRequest({ headers: [['Event', 'presence'], ['Subscription-State', 'active']], body: '', contentType: 'text/plain', final: false });
  assert.equal(sub.matches(presence), false);
  const bad = notifyRequest({ headers: [['Event', 'refer;id=101'], ['Subscription-State', 'active']], body: 'hello', contentType: 'message/sipfrag', final: false });
  assert.equal(sub.receive(bad), 400);
  sub.close();
  assert.equal(clock.pending, 0);
});

test('subscriber: no final NOTIFY within the bound, or by the subscription\'s expiry, is a timeout', () => {
  const clock = new FakeClock();
  const results: ReferResult[] = [];
  const sub = new ReferSubscriber({ id: 1, clock, timeoutMs: 32_000, onDone: (r) => results.push(r) });
  const notifier = new ReferNotifier({ id: 1, clock, expires: 5 });
  assert.equal(sub.receive(notifyRequest(notifier.notify(100, 'Trying'))), 200);
  notifier.close();
  clock.advance(4_999);
  assert.equal(results.length, 0);
  clock.advance(1);
  assert.deepEqual(results, [{ kind: 'timeout' }]);
  assert.equal(clock.pending, 0);
});

test('subscriber: terminated without a final status (e.g. the notifier gave up)', () => {
  const clock = new FakeClock();
  const results: ReferResult[] = [];
  const sub = new ReferSubscriber({ id: 3, clock, timeoutMs: 32_000, onDone: (r) => results.push(r) });
  const notifier = new ReferNotifier({ id: 3, clock, expires: 10, onExpired: (n) => sub.receive(notifyRequest(n)) });
  sub.receive(notifyRequest(notifier.notify(180, 'Ringing')));
  clock.advance(10_000);
  assert.equal(results.length, 1);
  assert.equal(results[0]!.kind, 'terminated');
  assert.equal(clock.pending, 0);
});

test('subscriber: the dialog ending ends the subscription with the last status seen', () => {
  const clock = new FakeClock();
  const results: ReferResult[] = [];
  const sub = new ReferSubscriber({ id: 4, clock, timeoutMs: 32_000, onDone: (r) => results.push(r) });
  const notifier = new ReferNotifier({ id: 4, clock });
  sub.receive(notifyRequest(notifier.notify(180, 'Ringing')));
  notifier.close();
  sub.end();
  sub.end();
  assert.equal(results.length, 1);
  assert.equal(results[0]!.kind, 'terminated');
  assert.equal(results[0]!.kind === 'terminated' ? results[0]!.frag?.status : 0, 180);
  assert.equal(clock.pending, 0);
});

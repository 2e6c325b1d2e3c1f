/**
 * The implicit subscription of a REFER sent outside a dialog (RFC 3515 §2.4.1, RFC 4538
 * Target-Dialog) over time, with Alice's and Bob's clocks fake (RFC 6665 §4.1.2.1, §4.2.2):
 * - refreshed: the notifier grants `Subscription-State: active;expires=N`; half way through, the
 *   subscriber sends SUBSCRIBE (Event refer;id=) in the dialog the 202 created; the notifier
 *   answers 200 with Expires and NOTIFYs the new interval at once, and the subscription outlives
 *   its first interval;
 * - not refreshed: the subscriber's own bound (notifyTimeoutMs) is shorter than the interval, so
 *   it gives up first (`timeout`, 408); the notifier's expiry then ends the subscription with a
 *   terminating NOTIFY carrying the last status (reason=timeout), which finds no subscription
 *   (481); Bob's transfer still completes and, with no BYE from Alice, he ends the call himself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/core/clock.js';
import { parseSipfrag } from '../../src/message/index.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';
import { aliceAndBob, BOB, CAROL, received, responses, trio, type Pkis, type Trio } from './transfer-trio.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed';
const made: NamedPki[] = [];
let pki: Pkis;
before(() => {
  if (skip !== false) return;
  const alice = makeNamedPki(['atlanta.example.com', 'client.atlanta.example.com']);
  const bob = makeNamedPki(['biloxi.example.com', 'client.biloxi.example.com']);
  const carol = makeNamedPki(['chicago.example.com', 'client.chicago.example.com']);
  made.push(alice, bob, carol);
  pki = { alice, bob, carol };
});
after(() => {
  for (const p of made) p.cleanup();
});

/** Waits for messages on loopback (not for timers: those move only with the fake clocks). */
async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(done(), `${what}: not in 3 s`);
}

function referCallId(p: Trio): string {
  return p.capture.messages.find((m) => m.direction === 'in' && m.label === 'REFER')!.callId!;
}

test('REFER outside the dialog (RFC 4538): its subscription is refreshed by SUBSCRIBE in the 202\'s dialog half way through the interval; 200 with Expires, a NOTIFY with the new interval, and it outlives the first interval (RFC 3515 §2.4.6, RFC 6665 §4.1.2.1)', { skip }, async (t) => {
  const aliceClock = new FakeClock();
  const bobClock = new FakeClock();
  const p = await trio(t, pki, { aliceClock, bobClock, aliceTransfer: { subscriptionExpires: 10 }, bobTransfer: { subscriptionExpires: 10 } });
  const { a, b } = await aliceAndBob(p);
  const carolIncoming = p.carol.next('incoming');
  const progress: number[] = [];
  const pending = p.alice.refer(BOB, CAROL, { targetDialog: a, onProgress: (f) => progress.push(f.status) });
  const c = await carolIncoming;
  await until('NOTIFY 100 and 180', () => progress.length >= 2);
  const callId = referCallId(p);
  assert.equal(received(p, 'NOTIFY', callId)[0]!.subscriptionState?.expires, 10);

  // Bob's subscription has 4 s left when Alice, half way through her 10 s, refreshes it.
  bobClock.advance(6000);
  aliceClock.advance(5000);
  await until('the refresh NOTIFY', () => progress.length >= 3);
  const subscribes = received(p, 'SUBSCRIBE', callId);
  assert.equal(subscribes.length, 1);
  const refer = received(p, 'REFER', callId)[0]!;
  const accepted = responses(p, 'REFER', callId).find((r) => r.status === 202)!;
  assert.equal(subscribes[0]!.event?.type, 'refer');
  assert.equal(subscribes[0]!.event?.params.id, String(refer.cseq.seq));
  assert.equal(subscribes[0]!.expires, 10);
  assert.equal(subscribes[0]!.toTag, accepted.toTag);
  assert.equal(subscribes[0]!.fromTag, refer.fromTag);
  assert.ok(subscribes[0]!.cseq.seq > refer.cseq.seq);
  await until('the SUBSCRIBE\'s 200', () => responses(p, 'SUBSCRIBE', callId).length === 1);
  const ok = responses(p, 'SUBSCRIBE', callId)[0]!;
  assert.equal(ok.status, 200);
  assert.equal(ok.expires, 10);
  const refreshed = received(p, 'NOTIFY', callId)[2]!;
  assert.equal(refreshed.subscriptionState?.state, 'active');
  assert.equal(refreshed.subscriptionState?.expires, 10);
  assert.equal(parseSipfrag(refreshed.bodyText).status, 180);

  // Past the first interval (Bob's 10 s), within the refreshed one: still active, no NOTIFY more.
  bobClock.advance(5000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(received(p, 'NOTIFY', callId).length, 3);

  const bEnded = b.ended;
  assert.deepEqual(await c.answer(), { ok: true });
  assert.deepEqual(await pending, { ok: true, outcome: 'transferred' });
  assert.deepEqual(progress, [100, 180, 180, 200]);
  const notifies = received(p, 'NOTIFY', callId);
  assert.deepEqual(notifies.map((n) => n.subscriptionState?.state), ['active', 'active', 'active', 'terminated']);
  assert.equal((await bEnded).cause, 'remote-bye');
  const bc = p.bob.calls.find((call) => call.id === c.id)!;
  const cEnded = c.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  assert.equal((await cEnded).cause, 'remote-bye');
});

test('REFER outside the dialog not refreshed (its interval outlasts Alice\'s bound): Alice gives up ("timeout", 408); Bob\'s expiry sends terminated;reason=timeout with the last status (481: gone); Bob\'s transfer completes and he BYEs the original call himself after byeWaitMs (RFC 6665 §4.2.2, RFC 3515 §2.4.7, RFC 5589 §6)', { skip }, async (t) => {
  const aliceClock = new FakeClock();
  const bobClock = new FakeClock();
  const p = await trio(t, pki, { aliceClock, bobClock, aliceTransfer: { notifyTimeoutMs: 1500 }, bobTransfer: { subscriptionExpires: 2, byeWaitMs: 3000 } });
  const { a, b } = await aliceAndBob(p);
  const carolIncoming = p.carol.next('incoming');
  const progress: number[] = [];
  const pending = p.alice.refer(BOB, CAROL, { targetDialog: a, onProgress: (f) => progress.push(f.status) });
  const c = await carolIncoming;
  await until('NOTIFY 100 and 180', () => progress.length >= 2);
  const callId = referCallId(p);

  aliceClock.advance(1500);
  assert.deepEqual(await pending, { ok: false, outcome: 'timeout', status: 408, reason: 'no final NOTIFY in time (RFC 3515 §2.4.7)' });
  assert.equal(received(p, 'SUBSCRIBE', callId).length, 0);
  bobClock.advance(2000);
  await until('the terminating NOTIFY\'s answer', () => responses(p, 'NOTIFY', callId).length === 3);
  const notifies = received(p, 'NOTIFY', callId);
  assert.deepEqual(notifies.map((n) => parseSipfrag(n.bodyText).status), [100, 180, 180]);
  assert.equal(notifies[2]!.subscriptionState?.state, 'terminated');
  assert.equal(notifies[2]!.subscriptionState?.reason, 'timeout');
  assert.deepEqual(responses(p, 'NOTIFY', callId).map((r) => r.status), [200, 200, 481]);

  // Carol answers: Bob is transferred; no BYE comes from Alice, so after byeWaitMs Bob sends it.
  const bobTransferred = b.next('transferred');
  const aEnded = a.ended;
  assert.deepEqual(await c.answer(), { ok: true });
  assert.equal((await bobTransferred).callId, c.id);
  bobClock.advance(2999);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(b.state, 'answered');
  bobClock.advance(1);
  assert.equal((await b.ended).cause, 'local-bye');
  assert.equal((await aEnded).cause, 'remote-bye');
  assert.equal(received(p, 'NOTIFY', callId).length, 3);
  const bc = p.bob.calls.find((call) => call.id === c.id)!;
  const cEnded = c.ended;
  assert.deepEqual(await bc.hangup(), { ok: true });
  assert.equal((await cEnded).cause, 'remote-bye');
});

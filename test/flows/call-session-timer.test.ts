/**
 * Session timers (RFC 4028) between two UserAgents over TCP on loopback, each on a FakeClock of
 * its own: the negotiation in the INVITE and its 2xx (§7, §9), the refresh at half the interval
 * (§10), the BYE when no refresh comes (§10), and the 422 retry with the larger Min-SE (§7.4);
 * every 2xx to a re-INVITE, either way, is a refresh that restarts the timer with what it grants.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { FakeClock } from '../../src/core/clock.js';
import { parseMessage, type SipRequest, type SipResponse } from '../../src/message/index.js';
import { PCMU } from '../../src/sdp/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import type { MessageInEvent } from '../../src/transport/trace.js';
import { UserAgent, type Call, type SessionTimerOptions } from '../../src/ua/index.js';
import { assertSocketsBack, MessageCapture, openSockets } from '../helpers/endpoints.js';

interface Pair {
  alice: UserAgent;
  bob: UserAgent;
  aliceClock: FakeClock;
  bobClock: FakeClock;
  capture: MessageCapture;
  bobUri: string;
}

async function pair(t: TestContext, timers: { alice?: SessionTimerOptions; bob?: SessionTimerOptions }): Promise<Pair> {
  const sockets = openSockets();
  const capture = new MessageCapture();
  const aliceClock = new FakeClock();
  const bobClock = new FakeClock();
  const bob = await UserAgent.create({
    uri: 'sip:bob@127.0.0.1',
    listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({}),
    media: { address: '127.0.0.1', port: 3456, codecs: [PCMU] },
    clock: bobClock,
    ...(timers.bob === undefined ? {} : { sessionTimer: timers.bob }),
  });
  const alice = await UserAgent.create({
    uri: 'sip:alice@127.0.0.1',
    listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({}),
    media: { address: '127.0.0.1', port: 49170, codecs: [PCMU] },
    clock: aliceClock,
    ...(timers.alice === undefined ? {} : { sessionTimer: timers.alice }),
  });
  t.after(async () => {
    capture.stop();
    await alice.close();
    await bob.close();
    for (const [ua, clock] of [[alice, aliceClock], [bob, bobClock]] as const) {
      assert.equal(ua.endpoint.transactions.size, 0, 'transactions left');
      assert.equal(clock.pending, 0, 'clock timers left');
    }
    await assertSocketsBack(sockets);
  });
  const bobUri = `sip:bob@127.0.0.1:${bob.endpoint.listeners[0]!.port};transport=tcp`;
  return { alice, bob, aliceClock, bobClock, capture, bobUri };
}

async function establish(p: Pair): Promise<{ a: Call; b: Call }> {
  const incoming = p.bob.next('incoming');
  const a = p.alice.call(p.bobUri);
  const b = await incoming;
  const [aOut, bOut] = await Promise.all([a.established, b.answer()]);
  assert.deepEqual([aOut, bOut], [{ ok: true }, { ok: true }]);
  return { a, b };
}

/** The messages of the call that arrived, parsed, each once. */
function received(p: Pair, callId: string): Array<SipRequest | SipResponse> {
  return p.capture.messages
    .filter((c) => c.direction === 'in' && c.callId === callId)
    .map((c) => parseMessage(Buffer.from(c.text)) as SipRequest | SipResponse);
}

function ladder(p: Pair, callId: string): string[] {
  return p.capture.ladder((c) => c.callId === callId).filter((l) => l !== '100');
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 3000; !condition();) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('negotiation: the INVITE offers Supported: timer, Session-Expires and Min-SE; the 2xx names the refresher and requires timer (RFC 4028 §7.1, §9)', async (t) => {
  const p = await pair(t, { alice: { expires: 600, minSE: 120 } });
  const { a, b } = await establish(p);
  const messages = received(p, a.id);
  const invite = messages.find((m): m is SipRequest => m.isRequest && m.method === 'INVITE')!;
  assert.ok(invite.supported.includes('timer'));
  assert.deepEqual([invite.sessionExpires?.deltaSeconds, invite.sessionExpires?.refresher, invite.minSE], [600, undefined, 120]);
  const ok = messages.find((m): m is SipResponse => !m.isRequest && m.status === 200 && m.cseq.method === 'INVITE')!;
  assert.deepEqual([ok.sessionExpires?.deltaSeconds, ok.sessionExpires?.refresher], [600, 'uac']);
  assert.ok(ok.require.includes('timer'));
  assert.ok(ok.supported.includes('timer'));
  assert.match(ok.get('allow') ?? '', /UPDATE/);
  await a.hangup();
  await b.ended;
});

test('the refresher refreshes at half the interval (by UPDATE, which the peer allows) and the call survives past the expiry (RFC 4028 §10)', async (t) => {
  const p = await pair(t, { alice: { expires: 120, refresher: 'local' } });
  const { a, b } = await establish(p);
  const updates = (): number => ladder(p, a.id).filter((l) => l === 'UPDATE').length;
  const updateOks = (): number => received(p, a.id).filter((m) => !m.isRequest && m.status === 200 && m.cseq.method === 'UPDATE').length;

  p.aliceClock.advance(59_999);
  p.bobClock.advance(59_999);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(updates(), 0, 'no refresh before half the interval');
  p.aliceClock.advance(1);
  await until(() => updateOks() === 1, 'the 200 to the refresh UPDATE');
  const update = received(p, a.id).find((m): m is SipRequest => m.isRequest && m.method === 'UPDATE')!;
  assert.deepEqual([update.sessionExpires?.deltaSeconds, update.sessionExpires?.refresher], [120, 'uac']);
  assert.equal(update.body.length, 0);

  // Bob's deadline was 120 - min(32, 40) = 88 s after the answer; the refresh moved it to 60 + 88.
  p.bobClock.advance(60_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(b.state, 'answered');
  assert.equal(a.state, 'answered');

  // And again at 120 s on Alice's clock.
  p.aliceClock.advance(60_000);
  await until(() => updateOks() === 2, 'the second refresh');
  p.bobClock.advance(60_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual([a.state, b.state], ['answered', 'answered']);
  await a.hangup();
  assert.equal((await b.ended).cause, 'remote-bye');
});

test('no refresh comes: the other side sends BYE at the expiry minus min(32 s, a third), reason session-expired (RFC 4028 §10)', async (t) => {
  // Bob is to refresh; only Alice's clock moves, so Bob never does.
  const p = await pair(t, { alice: { expires: 120, refresher: 'remote' } });
  const { a, b } = await establish(p);
  const ok = received(p, a.id).find((m): m is SipResponse => !m.isRequest && m.status === 200 && m.cseq.method === 'INVITE')!;
  assert.deepEqual([ok.sessionExpires?.deltaSeconds, ok.sessionExpires?.refresher], [120, 'uas']);
  p.aliceClock.advance(87_999);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(a.state, 'answered');
  const bEnded = b.ended;
  p.aliceClock.advance(1);
  assert.equal(a.state, 'ended');
  assert.equal(a.endReason?.cause, 'session-expired');
  assert.equal((await bEnded).cause, 'remote-bye');
  assert.ok(ladder(p, a.id).includes('BYE'));
});

test('422 Session Interval Too Small: the caller retries at once with the Min-SE it gives (RFC 4028 §7.4, §9)', async (t) => {
  const p = await pair(t, { alice: { expires: 100 }, bob: { minSE: 300 } });
  const { a, b } = await establish(p);
  const messages = received(p, a.id);
  const invites = messages.filter((m): m is SipRequest => m.isRequest && m.method === 'INVITE');
  assert.equal(invites.length, 2);
  assert.deepEqual([invites[0]!.sessionExpires?.deltaSeconds, invites[0]!.minSE], [100, 90]);
  const tooSmall = messages.find((m): m is SipResponse => !m.isRequest && m.status === 422)!;
  assert.equal(tooSmall.minSE, 300);
  assert.deepEqual([invites[1]!.sessionExpires?.deltaSeconds, invites[1]!.minSE], [300, 300]);
  assert.equal(invites[1]!.cseq.seq, invites[0]!.cseq.seq + 1);
  assert.equal(invites[1]!.fromTag, invites[0]!.fromTag);
  const ok = messages.find((m): m is SipResponse => !m.isRequest && m.status === 200 && m.cseq.method === 'INVITE')!;
  assert.equal(ok.sessionExpires?.deltaSeconds, 300);
  assert.deepEqual(ladder(p, a.id), ['INVITE', '422', 'ACK', 'INVITE', '180', '200', 'ACK']);
  await a.hangup();
  await b.ended;
});

test('our hold re-INVITE is a session refresh: the non-refresher\'s expiry restarts, no BYE at the old one (RFC 4028 §10)', async (t) => {
  // Bob is to refresh; only Alice's clock moves, so Bob never does.
  const p = await pair(t, { alice: { expires: 120, refresher: 'remote' } });
  const { a, b } = await establish(p);
  p.aliceClock.advance(50_000);
  assert.deepEqual(await a.hold(), { ok: true });
  const reinvite = received(p, a.id).filter((m): m is SipRequest => m.isRequest && m.method === 'INVITE')[1]!;
  assert.deepEqual([reinvite.sessionExpires?.deltaSeconds, reinvite.sessionExpires?.refresher, reinvite.minSE], [120, 'uas', 90]);
  const ok = received(p, a.id).find((m): m is SipResponse => !m.isRequest && m.status === 200 && m.cseq.seq === reinvite.cseq.seq)!;
  assert.deepEqual([ok.sessionExpires?.deltaSeconds, ok.sessionExpires?.refresher], [120, 'uas']);

  // The deadline of the INVITE's 2xx was 88 s; the refresh at 50 s moved it to 138 s.
  p.aliceClock.advance(38_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(a.state, 'answered');
  assert.ok(!ladder(p, a.id).includes('BYE'));
  p.aliceClock.advance(49_999);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(a.state, 'answered');
  const bEnded = b.ended;
  p.aliceClock.advance(1);
  assert.equal(a.endReason?.cause, 'session-expired');
  assert.equal((await bEnded).cause, 'remote-bye');
});

test('a refresh re-INVITE\'s 2xx with a smaller Session-Expires sets the interval: the next refresh comes at half of it (RFC 4028 §7.2, §10)', async (t) => {
  const p = await pair(t, { alice: { expires: 300, refresher: 'local' } });
  // On the wire to Alice: Bob's 2xx to the INVITE without UPDATE in Allow (so Alice refreshes by
  // re-INVITE), and his 2xx to the refresh granting 120 s instead of 300.
  let inviteOks = 0;
  const rewrite = (m: unknown): void => {
    const message = (m as MessageInEvent).message;
    if (message.isRequest || message.status !== 200 || message.cseq.method !== 'INVITE') return;
    inviteOks++;
    if (inviteOks === 1) message.set('Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO');
    else if (inviteOks === 2) message.set('Session-Expires', '120;refresher=uac');
  };
  subscribe('hookflash:message:in', rewrite);
  t.after(() => unsubscribe('hookflash:message:in', rewrite));
  const { a, b } = await establish(p);
  const invites = (): SipRequest[] => received(p, a.id).filter((m): m is SipRequest => m.isRequest && m.method === 'INVITE');
  const acks = (): number => ladder(p, a.id).filter((l) => l === 'ACK').length;

  p.aliceClock.advance(150_000);
  await until(() => acks() === 2, 'the ACK of the refresh re-INVITE\'s 2xx');
  assert.equal(invites().length, 2);
  assert.deepEqual([invites()[1]!.sessionExpires?.deltaSeconds, invites()[1]!.sessionExpires?.refresher], [300, 'uac']);
  assert.ok(!ladder(p, a.id).includes('UPDATE'));

  // The next refresh at 60 s (half of 120), not 150 s.
  p.aliceClock.advance(59_999);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(invites().length, 2);
  p.aliceClock.advance(1);
  await until(() => acks() === 3, 'the second refresh');
  assert.deepEqual([invites()[2]!.sessionExpires?.deltaSeconds, invites()[2]!.sessionExpires?.refresher], [120, 'uac']);
  assert.deepEqual([a.state, b.state], ['answered', 'answered']);
  await a.hangup();
  assert.equal((await b.ended).cause, 'remote-bye');
});

test('the peer\'s re-INVITE is a session refresh: our 2xx carries the timer and our expiry restarts (RFC 4028 §9, §10)', async (t) => {
  // Alice is to refresh; only Bob's clock moves, so Alice never does, and Bob would BYE at 88 s.
  const p = await pair(t, { alice: { expires: 120, refresher: 'local' } });
  const { a, b } = await establish(p);
  p.bobClock.advance(50_000);
  assert.deepEqual(await a.hold(), { ok: true });
  const reinvite = received(p, a.id).filter((m): m is SipRequest => m.isRequest && m.method === 'INVITE')[1]!;
  assert.deepEqual([reinvite.sessionExpires?.deltaSeconds, reinvite.sessionExpires?.refresher], [120, 'uac']);
  const ok = received(p, a.id).find((m): m is SipResponse => !m.isRequest && m.status === 200 && m.cseq.seq === reinvite.cseq.seq)!;
  assert.deepEqual([ok.sessionExpires?.deltaSeconds, ok.sessionExpires?.refresher], [120, 'uac']);
  assert.ok(ok.require.includes('timer'));

  p.bobClock.advance(38_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(b.state, 'answered');
  p.bobClock.advance(49_999);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(b.state, 'answered');
  const aEnded = a.ended;
  p.bobClock.advance(1);
  assert.equal(b.endReason?.cause, 'session-expired');
  assert.equal((await aEnded).cause, 'remote-bye');
});

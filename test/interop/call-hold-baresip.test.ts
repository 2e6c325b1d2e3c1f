/**
 * Call hold (RFC 5359 §2.1, RFC 3264 §8.4) with baresip, a real softphone, scripted headless
 * through its ctrl_tcp module (test/helpers/baresip.ts), over UDP on loopback ports picked at run
 * time; each side holds the other and resumes:
 * (a) baresip calls hookflash, hookflash answers; hookflash holds (a=sendonly, baresip answers
 *     a=recvonly: we hold, the peer does not) and resumes; baresip holds (its a=sendonly offer is
 *     answered a=recvonly, hookflash sees remote-held) and resumes; baresip hangs up;
 * (b) hookflash calls baresip (answermode=auto), the same holds and resumes, hookflash hangs up.
 * A failing run keeps baresip's output (with its SIP trace) and hookflash's capture under
 * test-artifacts/interop/.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PCMU, type SessionDescription } from '../../src/sdp/index.js';
import { UserAgent, type Call } from '../../src/ua/index.js';
import { Baresip } from '../helpers/baresip.js';
import { MessageCapture } from '../helpers/endpoints.js';
import { needBinary } from '../helpers/peers.js';
import { artifactsDir } from '../helpers/sipp.js';

const INSTALL = 'apt-get install baresip';
/** How long any one step may take. */
const STEP_MS = 10_000;

interface Setup {
  ua: UserAgent;
  baresip: Baresip;
  capture: MessageCapture;
  passed(): void;
}

/** A hookflash UA and a baresip; both stopped after the test, their traces kept if it failed. */
async function setup(t: TestContext): Promise<Setup> {
  const dir = artifactsDir(t.name);
  const capture = new MessageCapture();
  let ok = false;
  let baresip: Baresip | undefined;
  let ua: UserAgent | undefined;
  t.after(async () => {
    // baresip first: once the UA is closed, its BYE would go unanswered.
    await baresip?.stop();
    await ua?.close();
    capture.stop();
    if (ok) rmSync(dir, { recursive: true, force: true });
    else {
      capture.save(join(dir, 'hookflash-messages.log'));
      writeFileSync(join(dir, 'baresip-output.log'), baresip?.output ?? '');
      writeFileSync(join(dir, 'baresip-events.json'), JSON.stringify(baresip?.events ?? [], null, 2));
      t.diagnostic(`artifacts kept in ${dir}`);
    }
  });
  ua = await UserAgent.create({
    uri: 'sip:hookflash@127.0.0.1',
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    media: { address: '127.0.0.1', port: 40000, codecs: [PCMU] },
  });
  baresip = await Baresip.start({ user: 'baresip', answermode: 'auto' });
  return { ua, baresip, capture, passed: () => (ok = true) };
}

/** The direction written for the audio stream (media level, else session level, else sendrecv). */
function direction(sdp: SessionDescription | undefined): string {
  assert.ok(sdp, 'an SDP');
  return sdp.media[0]?.direction ?? sdp.direction ?? 'sendrecv';
}

/** `promise`, or a rejection naming `what` after STEP_MS. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A short pause before telling baresip to send a re-INVITE: the ACK of the last exchange goes over
 * UDP and the command over TCP, so without it nothing orders the two at baresip, and a re-INVITE
 * it sent before it had the ACK would overlap the previous exchange (RFC 3261 §14.1).
 */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

/** Each side holds the other and resumes; `events` collects the hold events hookflash raised. */
async function holdBothWays(call: Call, baresip: Baresip, events: string[]): Promise<void> {
  // hookflash holds: a=sendonly, answered a=recvonly by baresip; that is our hold, not the peer's.
  const held = call.next('held');
  assert.deepEqual(await within(call.hold(), 'hold()'), { ok: true });
  await within(held, 'held');
  assert.equal(direction(call.localDescription), 'sendonly');
  assert.equal(direction(call.remoteDescription), 'recvonly');
  assert.equal(call.localHold, true);
  assert.equal(call.remoteHold, false);

  const resumed = call.next('resumed');
  assert.deepEqual(await within(call.resume(), 'resume()'), { ok: true });
  await within(resumed, 'resumed');
  assert.equal(direction(call.localDescription), 'sendrecv');
  assert.equal(direction(call.remoteDescription), 'sendrecv');
  assert.equal(call.localHold, false);
  assert.equal(call.remoteHold, false);

  // baresip holds: its a=sendonly offer, answered a=recvonly by hookflash.
  await settle();
  const remoteHeld = call.next('remote-held');
  const hold = await baresip.command('hold');
  assert.ok(hold.ok, `baresip hold: ${hold.data}`);
  await within(remoteHeld, 'remote-held');
  assert.equal(direction(call.remoteDescription), 'sendonly');
  assert.equal(direction(call.localDescription), 'recvonly');
  assert.equal(call.remoteHold, true);
  assert.equal(call.localHold, false);

  await settle();
  const remoteResumed = call.next('remote-resumed');
  const resume = await baresip.command('resume');
  assert.ok(resume.ok, `baresip resume: ${resume.data}`);
  await within(remoteResumed, 'remote-resumed');
  assert.equal(direction(call.remoteDescription), 'sendrecv');
  assert.equal(direction(call.localDescription), 'sendrecv');
  assert.equal(call.remoteHold, false);
  assert.deepEqual(events, ['held', 'resumed', 'remote-held', 'remote-resumed']);
}

function recordHoldEvents(call: Call): string[] {
  const events: string[] = [];
  for (const e of ['held', 'resumed', 'remote-held', 'remote-resumed'] as const) call.on(e, () => events.push(e));
  return events;
}

test('baresip calls hookflash; each holds the other (sendonly answered recvonly) and resumes; baresip hangs up (RFC 5359 §2.1, RFC 3264 §8.4)',
  { timeout: 90_000 }, async (t) => {
    if (!needBinary(t, 'baresip', INSTALL)) return;
    const { ua, baresip, passed } = await setup(t);
    const port = ua.endpoint.listeners[0]!.port;
    const incoming = ua.next('incoming');
    const dial = await baresip.command('dial', `sip:hookflash@127.0.0.1:${port}`);
    assert.ok(dial.ok, `baresip dial: ${dial.data}`);
    const call = await within(incoming, 'the INVITE from baresip');
    const events = recordHoldEvents(call);
    assert.deepEqual(await within(call.answer(), 'the ACK from baresip'), { ok: true });
    await within(baresip.waitEvent('CALL_ESTABLISHED'), 'CALL_ESTABLISHED');

    await holdBothWays(call, baresip, events);

    await settle();
    const hangup = await baresip.command('hangup');
    assert.ok(hangup.ok, `baresip hangup: ${hangup.data}`);
    assert.equal((await within(call.ended, 'the BYE from baresip')).cause, 'remote-bye');
    await within(baresip.waitEvent('CALL_CLOSED'), 'CALL_CLOSED');
    assert.equal(ua.calls.length, 0);
    passed();
  });

test('hookflash calls baresip (answermode=auto); each holds the other and resumes; hookflash hangs up (RFC 5359 §2.1, RFC 3264 §8.4)',
  { timeout: 90_000 }, async (t) => {
    if (!needBinary(t, 'baresip', INSTALL)) return;
    const { ua, baresip, passed } = await setup(t);
    const call = ua.call(baresip.uri);
    const events = recordHoldEvents(call);
    assert.deepEqual(await within(call.established, 'baresip answering'), { ok: true });
    await within(baresip.waitEvent('CALL_ESTABLISHED'), 'CALL_ESTABLISHED');
    assert.equal(direction(call.remoteDescription), 'sendrecv');

    await holdBothWays(call, baresip, events);

    assert.deepEqual(await within(call.hangup(), 'hangup()'), { ok: true });
    assert.equal((await call.ended).cause, 'local-bye');
    await within(baresip.waitEvent('CALL_CLOSED'), 'CALL_CLOSED');
    assert.equal(ua.calls.length, 0);
    passed();
  });

/**
 * Blind call transfer (RFC 5589 §6; REFER, RFC 3515) with baresip, a real softphone, scripted
 * headless through its ctrl_tcp module (test/helpers/baresip.ts), over UDP on loopback ports
 * picked at run time, with a hookflash Carol as the transfer target that answers at once:
 * (a) baresip as the transferee: hookflash Alice calls baresip (answermode=auto) and
 *     `call.transfer('sip:carol@...')`; baresip answers the REFER 202, calls Carol and NOTIFYs;
 *     Alice's transfer succeeds and her original call ends;
 * (b) baresip as the transferor: baresip calls hookflash Bob, then `transfer sip:carol@...`; Bob
 *     answers 202, calls Carol and NOTIFYs; baresip reports the transfer and closes its call.
 * A failing run keeps baresip's output (with its SIP trace) and hookflash's capture under
 * test-artifacts/interop/.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PCMU } from '../../src/sdp/index.js';
import { UserAgent, type Call } from '../../src/ua/index.js';
import { Baresip } from '../helpers/baresip.js';
import { MessageCapture } from '../helpers/endpoints.js';
import { needBinary } from '../helpers/peers.js';
import { artifactsDir } from '../helpers/sipp.js';

const INSTALL = 'apt-get install baresip';
/** How long any one step may take. */
const STEP_MS = 10_000;

interface Setup {
  /** The hookflash side of the original call (Alice in (a), Bob in (b)). */
  ua: UserAgent;
  /** The transfer target, a hookflash UA that answers every call at once. */
  carol: UserAgent;
  carolUri: string;
  /** Carol's calls, in order of arrival. */
  carolCalls: Call[];
  baresip: Baresip;
  passed(): void;
}

async function hookflashUa(user: string): Promise<UserAgent> {
  return UserAgent.create({
    uri: `sip:${user}@127.0.0.1`,
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    media: { address: '127.0.0.1', port: 40000, codecs: [PCMU] },
    // A transferee waits this long for the transferor's BYE before ending the call itself.
    transfer: { byeWaitMs: 5000, notifyTimeoutMs: STEP_MS },
  });
}

/** A hookflash UA, a hookflash Carol and a baresip; all stopped after the test, traces kept if it failed. */
async function setup(t: TestContext, user: string, baresipUser: string): Promise<Setup> {
  const dir = artifactsDir(t.name);
  const capture = new MessageCapture();
  let ok = false;
  let baresip: Baresip | undefined;
  let ua: UserAgent | undefined;
  let carol: UserAgent | undefined;
  t.after(async () => {
    // baresip first: once the UAs are closed, its BYEs would go unanswered.
    await baresip?.stop();
    await ua?.close();
    await carol?.close();
    capture.stop();
    if (ok) rmSync(dir, { recursive: true, force: true });
    else {
      capture.save(join(dir, 'hookflash-messages.log'));
      writeFileSync(join(dir, 'baresip-output.log'), baresip?.output ?? '');
      writeFileSync(join(dir, 'baresip-events.json'), JSON.stringify(baresip?.events ?? [], null, 2));
      t.diagnostic(`artifacts kept in ${dir}`);
    }
  });
  ua = await hookflashUa(user);
  carol = await hookflashUa('carol');
  const carolCalls: Call[] = [];
  carol.on('incoming', (call: Call) => {
    carolCalls.push(call);
    void call.answer();
  });
  const carolUri = `sip:carol@127.0.0.1:${carol.endpoint.listeners[0]!.port}`;
  baresip = await Baresip.start({ user: baresipUser, answermode: 'auto' });
  return { ua, carol, carolUri, carolCalls, baresip, passed: () => (ok = true) };
}

/** `promise`, or a rejection naming `what` after STEP_MS. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves once `check` holds, polling; rejects naming `what` after STEP_MS. */
async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + STEP_MS;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A short pause before a baresip command that sends a request in the call: the ACK of the last
 * exchange goes over UDP and the command over TCP, so nothing else orders the two at baresip.
 */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

test('baresip as transferee: hookflash Alice calls baresip and transfers it to a hookflash Carol (REFER, 202, NOTIFY sipfrags; RFC 5589 §6)',
  { timeout: 90_000 }, async (t) => {
    if (!needBinary(t, 'baresip', INSTALL)) return;
    const { ua: alice, carolUri, carolCalls, carol, baresip, passed } = await setup(t, 'alice', 'bob');
    const call = alice.call(baresip.uri);
    assert.deepEqual(await within(call.established, 'baresip answering'), { ok: true });
    await within(baresip.waitEvent('CALL_ESTABLISHED'), 'CALL_ESTABLISHED');

    const progress: number[] = [];
    call.on('transfer-progress', ({ status }) => progress.push(status));
    const transferred = call.next('transferred');
    assert.deepEqual(await within(call.transfer(carolUri), 'the transfer'), { ok: true, outcome: 'transferred' });
    assert.equal((await transferred).target, carolUri);
    assert.equal(progress[0], 100, `progress: ${progress.join(', ')}`);
    assert.equal(progress.at(-1), 200, `progress: ${progress.join(', ')}`);

    // baresip reported the REFER it took (its TRANSFER event names the target).
    const referred = await within(baresip.waitEvent('TRANSFER'), 'TRANSFER');
    assert.equal(referred.param, `<${carolUri}>`);

    // Carol answered a call from baresip; Alice's original call is over.
    await until(() => carolCalls.length === 1, "baresip's INVITE to Carol");
    const c = carolCalls[0]!;
    assert.equal(c.remoteUri, baresip.uri);
    assert.deepEqual(await within(c.established, 'Carol answering'), { ok: true });
    assert.equal(c.state, 'answered');
    const ended = await within(call.ended, "the end of Alice's call");
    // RFC 5589 §6: the transferor (Alice) ends the original call after the success NOTIFY.
    assert.equal(ended.cause, 'local-bye');
    assert.equal(call.state, 'ended');
    assert.equal(alice.calls.length, 0);
    await within(baresip.waitEvent('CALL_ESTABLISHED'), 'CALL_ESTABLISHED of the call to Carol');
    await within(baresip.waitEvent('CALL_CLOSED'), 'CALL_CLOSED of the call with Alice');

    // Carol and baresip talk on; Carol hangs up.
    assert.deepEqual(await within(c.hangup(), "Carol's hangup"), { ok: true });
    await within(baresip.waitEvent('CALL_CLOSED'), 'CALL_CLOSED of the call with Carol');
    assert.equal(carol.calls.length, 0);
    passed();
  });

test('baresip as transferor: baresip calls hookflash Bob and transfers him to a hookflash Carol; Bob answers 202, calls Carol and NOTIFYs (RFC 5589 §6)',
  { timeout: 90_000 }, async (t) => {
    if (!needBinary(t, 'baresip', INSTALL)) return;
    const { ua: bob, carolUri, carolCalls, carol, baresip, passed } = await setup(t, 'bob', 'alice');
    const bobPort = bob.endpoint.listeners[0]!.port;
    const incoming = bob.next('incoming');
    const dial = await baresip.command('dial', `sip:bob@127.0.0.1:${bobPort}`);
    assert.ok(dial.ok, `baresip dial: ${dial.data}`);
    const call = await within(incoming, 'the INVITE from baresip');
    const transferred = call.next('transferred');
    const failed = call.next('transfer-failed').then(({ status, reason }) => {
      throw new Error(`transfer failed: ${status} ${reason}`);
    });
    failed.catch(() => undefined);
    assert.deepEqual(await within(call.answer(), 'the ACK from baresip'), { ok: true });
    await within(baresip.waitEvent('CALL_ESTABLISHED'), 'CALL_ESTABLISHED');

    await settle();
    const transfer = await baresip.command('transfer', carolUri);
    assert.ok(transfer.ok, `baresip transfer: ${transfer.data}`);
    // Bob (the transferee) calls Carol, who answers; RFC 3515 §2.4.5: his NOTIFYs report it.
    const done = await within(Promise.race([transferred, failed]), "Bob's transfer");
    assert.equal(done.target, carolUri);
    await until(() => carolCalls.length === 1, "Bob's INVITE to Carol");
    const c = carolCalls[0]!;
    assert.equal(c.remoteUri, 'sip:bob@127.0.0.1');
    assert.deepEqual(await within(c.established, 'Carol answering'), { ok: true });
    assert.equal(done.callId, c.id);

    // baresip (the transferor) took the success NOTIFY as the end of its call: CALL_CLOSED
    // "Call transfered", and its BYE (its TRANSFER event is the transferee's, seen in (a)).
    const closed = await within(baresip.waitEvent('CALL_CLOSED'), 'CALL_CLOSED');
    assert.match(closed.param ?? '', /transfer/i, `CALL_CLOSED ${closed.param}`);
    assert.ok(!baresip.events.some((e) => e.type === 'CALL_TRANSFER_FAILED'), 'no CALL_TRANSFER_FAILED');
    const ended = await within(call.ended, "the end of baresip's call with Bob");
    assert.equal(ended.cause, 'remote-bye', "baresip's BYE ends the original call");
    assert.equal(c.state, 'answered');

    assert.deepEqual(await within(c.hangup(), "Carol's hangup"), { ok: true });
    assert.equal(bob.calls.length, 0);
    assert.equal(carol.calls.length, 0);
    passed();
  });

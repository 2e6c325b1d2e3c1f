/**
 * Call hold (RFC 5359 §2.1, RFC 3264 §8.4) with SIPp, a real peer, over UDP on loopback ports
 * picked at run time, each run bounded (-m, -timeout, an outer timeout):
 * (a) scenarios/hold-uac.xml: SIPp calls a hookflash UserAgent that answers at once, holds it with
 *     a re-INVITE a=sendonly and checks that the 200 answers a=recvonly, resumes with a=sendrecv
 *     and checks a=sendrecv, then hangs up; hookflash must have seen remote-held then
 *     remote-resumed on every call;
 * (b) scenarios/hold-uas.xml: hookflash calls SIPp's UAS, then call.hold() (SIPp checks a=sendonly
 *     and answers a=recvonly), call.resume() (SIPp checks a=sendrecv), call.hangup().
 * A failing run keeps SIPp's traces and hookflash's own capture under test-artifacts/interop/.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PCMU } from '../../src/sdp/index.js';
import { UserAgent, type Call } from '../../src/ua/index.js';
import { freeDualPort, MessageCapture } from '../helpers/endpoints.js';
import { needBinary } from '../helpers/peers.js';
import { artifactsDir, repoRoot, startSipp, waitForListener, type SippProcess, type SippResult } from '../helpers/sipp.js';

const INSTALL = 'apt-get install sip-tester';
/** SIPp bounds: each run ends within these, pass or fail. */
const BOUNDS = ['-timeout', '60', '-timeout_error'];
const UAC_CALLS = 10;
const UAS_CALLS = 3;

/** Keeps the artifacts of a failed test, drops those of a passing one. */
function keepOnFailure(t: TestContext, dir: string, capture: MessageCapture, sipp: SippProcess | undefined): { passed(): void } {
  let ok = false;
  t.after(() => {
    sipp?.kill();
    capture.stop();
    if (ok) rmSync(dir, { recursive: true, force: true });
    else {
      capture.save(join(dir, 'hookflash-messages.log'));
      t.diagnostic(`artifacts kept in ${dir}`);
    }
  });
  return { passed: () => (ok = true) };
}

function sippReport(r: SippResult): string {
  const s = r.stats;
  return `sipp exit ${r.code}; successful ${s['SuccessfulCall(C)']}, failed ${s['FailedCall(C)']}, retransmissions ${s['Retransmissions(C)']}\n${r.output.slice(-1500)}`;
}

async function hookflashUa(t: TestContext): Promise<UserAgent> {
  const ua = await UserAgent.create({
    uri: 'sip:hookflash@127.0.0.1',
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    media: { address: '127.0.0.1', port: 40000, codecs: [PCMU] },
  });
  t.after(() => ua.close());
  return ua;
}

test(`SIPp UAC (scenarios/hold-uac.xml) holds and resumes a hookflash UAS over UDP, ${UAC_CALLS} calls: sendonly answered recvonly, sendrecv answered sendrecv (RFC 5359 §2.1, RFC 3264 §8.4)`,
  { timeout: 120_000 }, async (t) => {
    if (!needBinary(t, 'sipp', INSTALL)) return;
    const dir = artifactsDir(t.name);
    const capture = new MessageCapture();
    const ua = await hookflashUa(t);
    /** Per call: the hold events hookflash raised, in order, and how it ended. */
    const seen: Array<{ events: string[]; ended: Promise<string> }> = [];
    ua.on('incoming', (call: Call) => {
      const events: string[] = [];
      for (const e of ['held', 'resumed', 'remote-held', 'remote-resumed'] as const) call.on(e, () => events.push(e));
      seen.push({ events, ended: call.ended.then((r) => r.cause) });
      void call.answer();
    });
    const port = ua.endpoint.listeners[0]!.port;
    const sippPort = await freeDualPort();
    const args = ['-sf', join(repoRoot, 'test/interop/scenarios/hold-uac.xml'), `127.0.0.1:${port}`, '-s', 'hookflash',
      '-i', '127.0.0.1', '-p', String(sippPort), '-m', String(UAC_CALLS), '-r', '5', ...BOUNDS];
    const sipp = startSipp(args, dir);
    const artifacts = keepOnFailure(t, dir, capture, sipp);
    const result = await sipp.done;
    const report = sippReport(result);
    t.diagnostic(report.split('\n')[0]!);
    assert.equal(result.code, 0, report);
    assert.equal(result.stats['SuccessfulCall(C)'], String(UAC_CALLS), report);
    assert.equal(result.stats['FailedCall(C)'], '0', report);
    assert.equal(seen.length, UAC_CALLS);
    for (const call of seen) {
      assert.equal(await call.ended, 'remote-bye');
      assert.deepEqual(call.events, ['remote-held', 'remote-resumed']);
    }
    assert.equal(ua.calls.length, 0);
    artifacts.passed();
  });

test(`a hookflash UAC holds and resumes SIPp's UAS (scenarios/hold-uas.xml) over UDP, ${UAS_CALLS} calls: SIPp checks a=sendonly then a=sendrecv (RFC 5359 §2.1)`,
  { timeout: 120_000 }, async (t) => {
    if (!needBinary(t, 'sipp', INSTALL)) return;
    const dir = artifactsDir(t.name);
    const capture = new MessageCapture();
    const ua = await hookflashUa(t);
    const sippPort = await freeDualPort();
    const args = ['-sf', join(repoRoot, 'test/interop/scenarios/hold-uas.xml'), '-i', '127.0.0.1', '-p', String(sippPort),
      '-m', String(UAS_CALLS), ...BOUNDS];
    const sipp = startSipp(args, dir);
    const artifacts = keepOnFailure(t, dir, capture, sipp);
    await waitForListener('udp', sippPort);

    for (let i = 0; i < UAS_CALLS; i++) {
      const call = ua.call(`sip:service@127.0.0.1:${sippPort}`);
      const events: string[] = [];
      for (const e of ['held', 'resumed', 'remote-held', 'remote-resumed'] as const) call.on(e, () => events.push(e));
      assert.deepEqual(await call.established, { ok: true }, `call ${i} established`);
      const held = call.next('held');
      assert.deepEqual(await call.hold(), { ok: true }, `call ${i} hold()`);
      await held;
      assert.equal(call.localHold, true);
      assert.equal(call.remoteHold, false, 'a recvonly answer is not a hold by the peer');
      const resumed = call.next('resumed');
      assert.deepEqual(await call.resume(), { ok: true }, `call ${i} resume()`);
      await resumed;
      assert.equal(call.localHold, false);
      assert.deepEqual(await call.hangup(), { ok: true }, `call ${i} hangup()`);
      assert.equal((await call.ended).cause, 'local-bye');
      assert.deepEqual(events, ['held', 'resumed']);
    }
    // SIPp's UAS ends each call after a 2 s timewait (for retransmitted BYEs), then exits.
    const result = await sipp.done;
    const report = sippReport(result);
    t.diagnostic(report.split('\n')[0]!);
    assert.equal(result.code, 0, report);
    assert.equal(result.stats['SuccessfulCall(C)'], String(UAS_CALLS), report);
    assert.equal(result.stats['FailedCall(C)'], '0', report);
    artifacts.passed();
  });

/**
 * Blind call transfer (RFC 5589 §6; REFER, RFC 3515; Referred-By, RFC 3892) with SIPp as the
 * transferor and hookflash as transferee and transfer target, over UDP on loopback ports picked
 * at run time, bounded (-m, -timeout, an outer timeout): scenarios/refer-uac.xml calls a hookflash
 * Bob that answers at once, sends REFER (Refer-To: <sip:carol@127.0.0.1:CAROLPORT>, Referred-By)
 * in the dialog and expects 202; Bob holds SIPp (answered a=recvonly), calls a hookflash Carol who
 * answers, and NOTIFYs; SIPp checks with ereg that the bodies are message/sipfrag `SIP/2.0 100
 * Trying` (active) and last `SIP/2.0 200 OK` with Subscription-State terminated, answers each
 * NOTIFY 200, then ends the original call with BYE, as the transferor does after success.
 * hookflash must have seen `transferred` on each of Bob's calls, and Carol a call from Bob with
 * SIPp's Referred-By. A failing run keeps SIPp's traces and hookflash's capture under
 * test-artifacts/interop/.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatUri } from '../../src/message/index.js';
import { PCMU } from '../../src/sdp/index.js';
import { UserAgent, type Call } from '../../src/ua/index.js';
import { freeDualPort, MessageCapture } from '../helpers/endpoints.js';
import { needBinary } from '../helpers/peers.js';
import { artifactsDir, repoRoot, startSipp, type SippResult } from '../helpers/sipp.js';

const INSTALL = 'apt-get install sip-tester';
const CALLS = 5;
/** SIPp bounds: the run ends within these, pass or fail. */
const BOUNDS = ['-timeout', '60', '-timeout_error'];

function sippReport(r: SippResult): string {
  const s = r.stats;
  return `sipp exit ${r.code}; successful ${s['SuccessfulCall(C)']}, failed ${s['FailedCall(C)']}, retransmissions ${s['Retransmissions(C)']}\n${r.output.slice(-1500)}`;
}

async function hookflashUa(t: TestContext, user: string): Promise<UserAgent> {
  const ua = await UserAgent.create({
    uri: `sip:${user}@127.0.0.1`,
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    media: { address: '127.0.0.1', port: 40000, codecs: [PCMU] },
    // The transferor (SIPp) BYEs at once after the final NOTIFY; this bound is only a backstop.
    transfer: { byeWaitMs: 10_000 },
  });
  t.after(() => ua.close());
  return ua;
}

test(`SIPp (scenarios/refer-uac.xml) transfers a hookflash transferee to a hookflash target over UDP, ${CALLS} calls: 202, NOTIFY sipfrags 100 Trying ... 200 OK terminated (RFC 5589 §6, RFC 3515)`,
  { timeout: 120_000 }, async (t) => {
    if (!needBinary(t, 'sipp', INSTALL)) return;
    const dir = artifactsDir(t.name);
    const capture = new MessageCapture();
    let ok = false;
    const carol = await hookflashUa(t, 'carol');
    const bob = await hookflashUa(t, 'bob');
    const carolCalls: Call[] = [];
    carol.on('incoming', (call: Call) => {
      carolCalls.push(call);
      void call.answer();
    });
    const bobCalls: Array<{ transferred: Promise<string>; ended: Promise<string> }> = [];
    bob.on('incoming', (call: Call) => {
      bobCalls.push({
        transferred: call.next('transferred').then(({ target }) => target),
        ended: call.ended.then((r) => r.cause),
      });
      void call.answer();
    });
    const carolPort = carol.endpoint.listeners[0]!.port;
    const bobPort = bob.endpoint.listeners[0]!.port;
    const sippPort = await freeDualPort();
    const args = ['-sf', join(repoRoot, 'test/interop/scenarios/refer-uac.xml'), `127.0.0.1:${bobPort}`, '-s', 'bob',
      '-key', 'carol_port', String(carolPort),
      '-i', '127.0.0.1', '-p', String(sippPort), '-m', String(CALLS), '-r', '2', '-l', '1', ...BOUNDS];
    const sipp = startSipp(args, dir);
    t.after(() => {
      sipp.kill();
      capture.stop();
      if (ok) rmSync(dir, { recursive: true, force: true });
      else {
        capture.save(join(dir, 'hookflash-messages.log'));
        t.diagnostic(`artifacts kept in ${dir}`);
      }
    });
    const result = await sipp.done;
    const report = sippReport(result);
    t.diagnostic(report.split('\n')[0]!);
    assert.equal(result.code, 0, report);
    assert.equal(result.stats['SuccessfulCall(C)'], String(CALLS), report);
    assert.equal(result.stats['FailedCall(C)'], '0', report);

    assert.equal(bobCalls.length, CALLS);
    for (const call of bobCalls) {
      assert.equal(await call.transferred, `sip:carol@127.0.0.1:${carolPort}`);
      assert.equal(await call.ended, 'remote-bye');
    }
    assert.equal(carolCalls.length, CALLS);
    for (const call of carolCalls) {
      assert.equal(call.state, 'answered');
      assert.equal(call.remoteUri, 'sip:bob@127.0.0.1');
      // RFC 3892: SIPp's Referred-By, copied into Bob's INVITE.
      const referredBy = call.referredBy;
      assert.ok(referredBy, 'a Referred-By on the INVITE to Carol');
      assert.equal(formatUri(referredBy.uri), `sip:sipp@127.0.0.1:${sippPort}`);
      assert.deepEqual(await call.hangup(), { ok: true });
    }
    assert.equal(bob.calls.length, 0);
    assert.equal(carol.calls.length, 0);
    ok = true;
  });

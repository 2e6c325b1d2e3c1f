/**
 * Interop with SIPp, a real peer, over UDP and TCP on loopback ports picked at run time:
 * (a) SIPp's built-in UAC (`-sn uac`: INVITE, ACK, BYE) calls a hookflash UAS built on SipEndpoint;
 * (b) a hookflash UAC calls SIPp's built-in UAS (`-sn uas`), acknowledging the 2xx itself
 *     (RFC 3261 §13.2.2.4) and hanging up with BYE;
 * (c) both again over UDP with SIPp losing 10% of the messages it sends and receives (`-lost 10`):
 *     every call still completes, thanks to SIPp's retransmissions and hookflash's Timers A and E
 *     and 2xx/ACK retransmissions (§17.1.1.2, §17.1.2.2, §13.3.1.4). SIPp's UAS runs
 *     scenarios/uas-lossy.xml there: the built-in one cannot take a retransmitted INVITE.
 * A failing run keeps SIPp's message trace, errors and statistics, and hookflash's own capture,
 * under test-artifacts/interop/.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRequest, createResponse } from '../../src/message/index.js';
import { createDialogRequest } from '../../src/ua/dialog-request.js';
import type { SipEndpoint } from '../../src/ua/endpoint.js';
import { freeDualPort, MessageCapture, startEndpoint } from '../helpers/endpoints.js';
import { needBinary } from '../helpers/peers.js';
import { artifactsDir, repoRoot, startSipp, waitForListener, type SippProcess } from '../helpers/sipp.js';

const CALLS = 50;
const INSTALL = 'apt-get install sip-tester';
const SDP = 'v=0\r\no=hookflash 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
/** SIPp bounds: each run ends within these, pass or fail. */
const BOUNDS = ['-timeout', '60', '-timeout_error'];

interface Counts {
  INVITE: number;
  ACK: number;
  BYE: number;
  other: number;
}

/** The hookflash UAS: INVITE gets 180 then 200 with SDP, BYE gets 200; ACKs are counted. */
function answerCalls(endpoint: SipEndpoint): Counts {
  const counts: Counts = { INVITE: 0, ACK: 0, BYE: 0, other: 0 };
  endpoint.onRequest((req, tx) => {
    if (tx === undefined) {
      counts.ACK++;
      return;
    }
    if (req.method === 'INVITE') {
      counts.INVITE++;
      tx.respond(createResponse(req, 180));
      tx.respond(createResponse(req, 200, { body: SDP, contentType: 'application/sdp' }));
      return;
    }
    if (req.method === 'BYE') {
      counts.BYE++;
      tx.respond(createResponse(req, 200));
      return;
    }
    counts.other++;
    return false;
  });
  return counts;
}

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

function sippReport(r: { code: number | null; output: string; stats: Record<string, string> }): string {
  const s = r.stats;
  return `sipp exit ${r.code}; successful ${s['SuccessfulCall(C)']}, failed ${s['FailedCall(C)']}, retransmissions ${s['Retransmissions(C)']}\n${r.output.slice(-1500)}`;
}

async function sippUacCallsHookflash(t: TestContext, transport: 'udp' | 'tcp', lost: number): Promise<void> {
  if (!needBinary(t, 'sipp', INSTALL)) return;
  const dir = artifactsDir(t.name);
  const capture = new MessageCapture();
  const uas = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  t.after(() => uas.close());
  const counts = answerCalls(uas.endpoint);
  const port = uas.target('UDP').port;
  const sippPort = await freeDualPort();
  const args = ['-sn', 'uac', `127.0.0.1:${port}`, '-i', '127.0.0.1', '-p', String(sippPort), '-m', String(CALLS), '-r', '25', ...BOUNDS];
  if (transport === 'tcp') args.push('-t', 't1');
  if (lost > 0) args.push('-lost', String(lost));
  const sipp = startSipp(args, dir);
  const artifacts = keepOnFailure(t, dir, capture, sipp);
  const result = await sipp.done;
  const report = sippReport(result);
  t.diagnostic(report.split('\n')[0]!);
  assert.equal(result.code, 0, report);
  assert.equal(result.stats['SuccessfulCall(C)'], String(CALLS), report);
  assert.equal(result.stats['FailedCall(C)'], '0', report);
  // Retransmitted INVITEs and BYEs were absorbed: the handler saw each once.
  assert.equal(counts.INVITE, CALLS);
  assert.equal(counts.other, 0);
  if (lost === 0) {
    assert.equal(counts.BYE, CALLS);
    assert.equal(counts.ACK, CALLS);
    assert.equal(uas.endpoint.unacknowledged, 0);
  } else {
    // SIPp 3.6.1's uac matches <recv response="200"> after its BYE on the status code alone. When
    // -lost drops both its ACK and its BYE, our retransmitted 2xx to the INVITE (§13.3.1.4)
    // completes the call for SIPp, and that BYE never comes. Every call is therefore one of:
    // its BYE arrived (which also stops the 2xx, §15.1.1), or its 2xx is still waiting for an ACK.
    assert.ok(counts.BYE <= CALLS);
    assert.equal(counts.BYE + uas.endpoint.unacknowledged, CALLS, `BYE ${counts.BYE}, 2xx unacknowledged ${uas.endpoint.unacknowledged}`);
    assert.ok(Number(result.stats['Retransmissions(C)']) > 0, `no retransmission at -lost ${lost}: ${report}`);
  }
  artifacts.passed();
}

async function hookflashCallsSippUas(t: TestContext, transport: 'udp' | 'tcp', lost: number): Promise<void> {
  if (!needBinary(t, 'sipp', INSTALL)) return;
  const dir = artifactsDir(t.name);
  const capture = new MessageCapture();
  const uac = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  t.after(() => uac.close());
  const sippPort = await freeDualPort();
  // With loss, the built-in scenario plus one step: see scenarios/uas-lossy.xml for the SIPp 3.6.1
  // limitation it works around (a retransmitted INVITE after the 180 and the 200 were both lost).
  const scenario = lost > 0 ? ['-sf', join(repoRoot, 'test/interop/scenarios/uas-lossy.xml')] : ['-sn', 'uas'];
  const args = [...scenario, '-i', '127.0.0.1', '-p', String(sippPort), '-m', String(CALLS), ...BOUNDS];
  if (transport === 'tcp') args.push('-t', 't1');
  if (lost > 0) args.push('-lost', String(lost));
  const sipp = startSipp(args, dir);
  const artifacts = keepOnFailure(t, dir, capture, sipp);
  await waitForListener(transport, sippPort);

  const uri = `sip:service@127.0.0.1:${sippPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;
  let completed = 0;
  const call = async (): Promise<void> => {
    const invite = createRequest({
      method: 'INVITE', uri, from: 'hookflash <sip:hookflash@127.0.0.1>', to: `<${uri}>`,
      contact: `<sip:hookflash@127.0.0.1:${uac.target('UDP').port}${transport === 'tcp' ? ';transport=tcp' : ''}>`,
      body: SDP, contentType: 'application/sdp',
    });
    const res = await uac.endpoint.request(invite);
    assert.equal(res.status, 200);
    // §13.2.2.4: the UA core acknowledges the 2xx, to its Contact, in a transaction of its own.
    await uac.endpoint.ack(res);
    const bye = await uac.endpoint.request(createDialogRequest(invite, res, 'BYE'));
    assert.equal(bye.status, 200);
    completed++;
  };
  // Five calls at a time, fifty in all.
  const queue = Array.from({ length: CALLS }, () => call);
  await Promise.all(Array.from({ length: 5 }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await next();
  }));
  assert.equal(completed, CALLS);
  // SIPp's UAS ends each call after a 4 s timewait (for retransmitted BYEs), then exits.
  const result = await sipp.done;
  const report = sippReport(result);
  t.diagnostic(report.split('\n')[0]!);
  assert.equal(result.code, 0, report);
  assert.equal(result.stats['SuccessfulCall(C)'], String(CALLS), report);
  assert.equal(result.stats['FailedCall(C)'], '0', report);
  if (lost > 0) {
    const retransmitted = capture.messages.filter((c) => c.direction === 'out' && (c.label === 'INVITE' || c.label === 'BYE' || c.label === 'ACK')).length;
    assert.ok(retransmitted > 3 * CALLS || Number(result.stats['Retransmissions(C)']) > 0, `no retransmission at -lost ${lost}: ${report}`);
  }
  artifacts.passed();
}

for (const transport of ['udp', 'tcp'] as const) {
  test(`SIPp UAC (-sn uac) makes ${CALLS} calls to a hookflash UAS over ${transport.toUpperCase()}: INVITE, 180, 200, ACK, BYE, 200 (RFC 3261 §13, §15)`,
    { timeout: 120_000 }, (t) => sippUacCallsHookflash(t, transport, 0));
  test(`a hookflash UAC makes ${CALLS} calls to SIPp's UAS (-sn uas) over ${transport.toUpperCase()}, acknowledging each 2xx and hanging up (RFC 3261 §13.2.2.4, §15.1.1)`,
    { timeout: 120_000 }, (t) => hookflashCallsSippUas(t, transport, 0));
}

test(`SIPp UAC with -lost 10 over UDP: all ${CALLS} calls to the hookflash UAS complete (RFC 3261 §17.2.1, §13.3.1.4)`,
  { timeout: 120_000 }, (t) => sippUacCallsHookflash(t, 'udp', 10));

test(`hookflash UAC to SIPp's UAS with -lost 10 over UDP: all ${CALLS} calls complete (RFC 3261 §17.1.1.2, §17.1.2.2, §13.2.2.4)`,
  { timeout: 120_000 }, (t) => hookflashCallsSippUas(t, 'udp', 10));

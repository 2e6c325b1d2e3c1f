/**
 * `hookflash serve` (a child process: registrar and stateful proxy, SQLite in a temp data
 * directory, no users on loopback so no authentication) with SIPp, a real peer, over UDP on
 * loopback ports picked at run time; every SIPp run bounded (-m, -timeout, an outer timeout):
 * (a) scenarios/serve-register.xml: REGISTER gets 200 listing the binding with its expires
 *     (RFC 3261 §10.3 step 8);
 * (b) a SIPp UAS registered as bob (serve-register.xml from the UAS's port), SIPp's UAC calls
 *     sip:bob@DOMAIN through serve 50 times (serve-uac.xml, serve-uas.xml): every call set up and
 *     torn down, the INVITE and the 200 carrying serve's Record-Route (RFC 3261 §16.5, §16.6);
 * (c) a call to a user of the domain with no binding gets 480 or 404 (serve-unregistered-uac.xml).
 * A failing run keeps SIPp's traces and serve's log under test-artifacts/interop/.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeDualPort } from '../helpers/endpoints.js';
import { needBinary } from '../helpers/peers.js';
import { ServeProcess } from '../helpers/serve-process.js';
import { artifactsDir, repoRoot, startSipp, waitForListener, type SippProcess, type SippResult } from '../helpers/sipp.js';

const INSTALL = 'apt-get install sip-tester';
const DOMAIN = 'hookflash.test';
const SCENARIOS = join(repoRoot, 'test/interop/scenarios');
/** SIPp bounds: each run ends within these, pass or fail. */
const BOUNDS = ['-timeout', '60', '-timeout_error'];
const CALLS = 50;

/** Starts serve; keeps the artifacts (and serve's log) of a failed test, drops those of a passing one. */
async function setup(t: TestContext): Promise<{ serve: ServeProcess; dir: string; sipps: SippProcess[]; passed(): void }> {
  const dir = artifactsDir(t.name);
  const sipps: SippProcess[] = [];
  let ok = false;
  const serve = await ServeProcess.start({ domains: [DOMAIN] });
  t.after(async () => {
    for (const s of sipps) s.kill();
    await Promise.all(sipps.map((s) => s.done));
    const log = serve.output;
    const code = await serve.stop();
    if (ok && code === 0) rmSync(dir, { recursive: true, force: true });
    else {
      writeFileSync(join(dir, 'serve.log'), log);
      t.diagnostic(`serve exit ${String(code)}; artifacts kept in ${dir}`);
    }
  });
  return { serve, dir, sipps, passed: () => (ok = true) };
}

function sippReport(r: SippResult): string {
  const s = r.stats;
  return `sipp exit ${r.code}; successful ${s['SuccessfulCall(C)']}, failed ${s['FailedCall(C)']}, retransmissions ${s['Retransmissions(C)']}\n${r.output.slice(-1500)}`;
}

function errors(dir: string): string {
  const f = join(dir, 'sipp-errors.log');
  return existsSync(f) ? readFileSync(f, 'latin1').slice(-2000) : '';
}

/** A directory of its own for one SIPp run (the helper names its trace files the same in every run). */
function sub(dir: string, name: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** One REGISTER of `user` from 127.0.0.1:`port` (serve-register.xml), traces in `dir`. */
function register(serve: ServeProcess, dir: string, user: string, port: number, expires: number): SippProcess {
  return startSipp(['-sf', join(SCENARIOS, 'serve-register.xml'), `127.0.0.1:${serve.port}`,
    '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-key', 'user', user, '-key', 'domain', DOMAIN, '-key', 'expires', String(expires),
    '-trace_logs', '-log_file', join(dir, 'sipp-logs.log'), ...BOUNDS], dir, 60);
}

test('SIPp REGISTER at hookflash serve gets 200 listing the Contact with its expires (RFC 3261 §10.3)', { timeout: 90_000 }, async (t) => {
  if (!needBinary(t, 'sipp', INSTALL)) return;
  const { serve, dir, sipps, passed } = await setup(t);
  const port = await freeDualPort();
  const sipp = register(serve, dir, 'alice', port, 600);
  sipps.push(sipp);
  const result = await sipp.done;
  const report = `${sippReport(result)}\n${errors(dir)}`;
  assert.equal(result.code, 0, report);
  assert.equal(result.stats['SuccessfulCall(C)'], '1', report);
  // The scenario logs what the 200's Contact said (SIPp cannot put a key into a regexp).
  const log = readFileSync(join(dir, 'sipp-logs.log'), 'latin1');
  const m = /REGISTER-200 contact-user=(\S*) contact-port=(\d+) expires=(\d+)/.exec(log);
  assert.ok(m, `no REGISTER-200 line in the scenario's log:\n${log}`);
  assert.equal(m[1], 'alice', 'the 200 lists our Contact');
  assert.equal(Number(m[2]), port);
  const granted = Number(m[3]);
  assert.ok(granted > 0 && granted <= 600, `expires ${granted}: at most what we asked (600), and not 0`);
  passed();
});

test(`a SIPp UAC calls sip:bob@${DOMAIN} ${CALLS} times through hookflash serve to a SIPp UAS registered as bob: all set up and ended, Record-Route at the UAS and in the 200 (RFC 3261 §16.5, §16.6)`,
  { timeout: 120_000 }, async (t) => {
    if (!needBinary(t, 'sipp', INSTALL)) return;
    const { serve, dir, sipps, passed } = await setup(t);
    const uasPort = await freeDualPort();
    const uacPort = await freeDualPort();

    // bob's binding is the UAS's address: register from its port, then start it there.
    const regDir = sub(dir, 'register-bob');
    const reg = register(serve, regDir, 'bob', uasPort, 3600);
    sipps.push(reg);
    const regResult = await reg.done;
    assert.equal(regResult.code, 0, `REGISTER of bob: ${sippReport(regResult)}\n${errors(regDir)}`);

    const uasDir = sub(dir, 'uas');
    const uacDir = sub(dir, 'uac');
    const uas = startSipp(['-sf', join(SCENARIOS, 'serve-uas.xml'), '-i', '127.0.0.1', '-p', String(uasPort), '-m', String(CALLS),
      ...BOUNDS], uasDir, 90);
    sipps.push(uas);
    await waitForListener('udp', uasPort);
    const uac = startSipp(['-sf', join(SCENARIOS, 'serve-uac.xml'), `127.0.0.1:${serve.port}`, '-rsa', `127.0.0.1:${serve.port}`,
      '-key', 'target', `sip:bob@${DOMAIN}`, '-d', '100', '-i', '127.0.0.1', '-p', String(uacPort), '-m', String(CALLS), '-r', '10',
      '-l', '20', ...BOUNDS], uacDir, 90);
    sipps.push(uac);

    const uacResult = await uac.done;
    const uasResult = await uas.done;
    const report = `UAC: ${sippReport(uacResult)}\n${errors(uacDir)}\nUAS: ${sippReport(uasResult)}\n${errors(uasDir)}`;
    t.diagnostic(report.split('\n')[0]!);
    assert.equal(uacResult.code, 0, report);
    assert.equal(uacResult.stats['SuccessfulCall(C)'], String(CALLS), report);
    assert.equal(uacResult.stats['FailedCall(C)'], '0', report);
    // The UAS's Record-Route check (ereg check_it) passed on every INVITE, and every BYE reached it.
    assert.equal(uasResult.code, 0, report);
    assert.equal(uasResult.stats['SuccessfulCall(C)'], String(CALLS), report);
    assert.equal(uasResult.stats['FailedCall(C)'], '0', report);
    passed();
  });

test('a call through hookflash serve to a user of its domain with no binding gets 480 or 404 (RFC 3261 §16.5)', { timeout: 90_000 }, async (t) => {
  if (!needBinary(t, 'sipp', INSTALL)) return;
  const { serve, dir, sipps, passed } = await setup(t);
  const port = await freeDualPort();
  const sipp = startSipp(['-sf', join(SCENARIOS, 'serve-unregistered-uac.xml'), `127.0.0.1:${serve.port}`, '-rsa', `127.0.0.1:${serve.port}`,
    '-key', 'target', `sip:nobody@${DOMAIN}`, '-i', '127.0.0.1', '-p', String(port), '-m', '1', ...BOUNDS], dir, 60);
  sipps.push(sipp);
  const result = await sipp.done;
  const report = `${sippReport(result)}\n${errors(dir)}`;
  assert.equal(result.code, 0, report);
  assert.equal(result.stats['SuccessfulCall(C)'], '1', report);
  assert.equal(result.stats['FailedCall(C)'], '0', report);
  const messages = readFileSync(join(dir, 'sipp-messages.log'), 'latin1');
  assert.match(messages, /SIP\/2\.0 (480|404) /, 'the final answer is 480 or 404');
  passed();
});

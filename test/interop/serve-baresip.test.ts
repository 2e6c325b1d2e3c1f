/**
 * Two baresip softphones register at `hookflash serve` (a child process: registrar and stateful
 * proxy, SQLite in a temp data directory, no users on loopback so no authentication) and call each
 * other through it, over UDP on loopback ports picked at run time. Each phone's account is
 * sip:USER@hookflash.test with serve as its outbound proxy (every request goes there, REGISTER
 * included) and regint > 0 (it registers). alice dials sip:bob@hookflash.test; serve finds bob's
 * binding (RFC 3261 §16.5) and forwards with Record-Route (§16.6); both phones report
 * CALL_ESTABLISHED, then alice hangs up and both report CALL_CLOSED. The phones are stopped before
 * serve (they unregister on the way out). A failing run keeps both phones' output (their SIP
 * traces) and serve's log under test-artifacts/interop/.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Baresip } from '../helpers/baresip.js';
import { needBinary } from '../helpers/peers.js';
import { ServeProcess } from '../helpers/serve-process.js';
import { artifactsDir } from '../helpers/sipp.js';

const INSTALL = 'apt-get install baresip';
const DOMAIN = 'hookflash.test';
/** How long any one step may take. */
const STEP_MS = 15_000;

/** An account on serve: registers every `regint` seconds through serve as outbound proxy; answers by itself. */
function account(user: string, serve: ServeProcess): (sipPort: number) => string {
  return () => `<sip:${user}@${DOMAIN}>;regint=60;answermode=auto;outbound="sip:127.0.0.1:${serve.port};transport=udp"`;
}

/**
 * Waits until `phone` says its account is registered. baresip registers as soon as it starts, often
 * before the test's ctrl_tcp connection is up (so its REGISTER_OK event is not seen): ask it with
 * `reginfo` instead, whose reply lists the account with "OK" once a REGISTER got its 200.
 */
async function registered(phone: Baresip): Promise<void> {
  const end = Date.now() + STEP_MS;
  let last = '';
  while (Date.now() < end) {
    if (phone.events.some((e) => e.type === 'REGISTER_OK')) return;
    last = (await phone.command('reginfo')).data.replace(/\x1b\[[0-9;]*m/g, '');
    if (/\bOK\b/.test(last)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`baresip ${phone.uri} did not register within ${STEP_MS} ms; reginfo: ${last}`);
}

test(`two baresip phones register at hookflash serve and call each other through it: sip:alice@${DOMAIN} dials sip:bob@${DOMAIN}, established on both, hung up (RFC 3261 §10, §16)`,
  { timeout: 120_000 }, async (t: TestContext) => {
    if (!needBinary(t, 'baresip', INSTALL)) return;
    const dir = artifactsDir(t.name);
    let ok = false;
    const phones: Baresip[] = [];
    const serve = await ServeProcess.start({ domains: [DOMAIN] });
    t.after(async () => {
      // The phones first: with serve gone, their un-REGISTER on quit would wait ~32 s for an answer.
      await Promise.all(phones.map((p) => p.stop()));
      const log = serve.output;
      const code = await serve.stop();
      if (ok && code === 0) rmSync(dir, { recursive: true, force: true });
      else {
        writeFileSync(join(dir, 'serve.log'), log);
        for (const [i, p] of phones.entries()) {
          writeFileSync(join(dir, `baresip-${i}-output.log`), p.output);
          writeFileSync(join(dir, `baresip-${i}-events.json`), JSON.stringify(p.events, null, 2));
        }
        t.diagnostic(`serve exit ${String(code)}; artifacts kept in ${dir}`);
      }
    });

    const alice = await Baresip.start({ user: 'alice', account: account('alice', serve), seconds: 100 });
    phones.push(alice);
    const bob = await Baresip.start({ user: 'bob', account: account('bob', serve), seconds: 100 });
    phones.push(bob);
    await registered(alice);
    await registered(bob);

    const dialled = await alice.command('dial', `sip:bob@${DOMAIN}`);
    assert.ok(dialled.ok, `dial: ${dialled.data}`);
    const atBob = await bob.waitEvent('CALL_ESTABLISHED', STEP_MS);
    const atAlice = await alice.waitEvent('CALL_ESTABLISHED', STEP_MS);
    assert.match(atBob.peeruri ?? '', /^sip:alice@/, 'bob sees the call from alice');
    assert.match(atAlice.peeruri ?? '', /^sip:bob@/, 'alice sees the call to bob');

    // The call went through serve: bob's INVITE carried serve's Record-Route (baresip -s prints it).
    // (Its Request-URI is bob's registered Contact, sip:bob-0x...@127.0.0.1:PORT: serve retargeted it.)
    const invite = /^INVITE sip:bob[^\n]*\n[\s\S]*?\r?\n\r?\n/m.exec(bob.output)?.[0] ?? '';
    assert.match(invite, new RegExp(`Record-Route: <sip:127\\.0\\.0\\.1:${serve.port}[^>]*;lr`), `bob's INVITE carries serve's Record-Route:\n${invite}`);

    const hungUp = await alice.command('hangup');
    assert.ok(hungUp.ok, `hangup: ${hungUp.data}`);
    await alice.waitEvent('CALL_CLOSED', STEP_MS);
    await bob.waitEvent('CALL_CLOSED', STEP_MS);
    ok = true;
  });

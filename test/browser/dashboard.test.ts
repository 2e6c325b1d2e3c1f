/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core. The test runs
 * `hookflash demo --http 127.0.0.1:0` (no --exit: the calls stay on the dashboard), opens the
 * page while the steps run (the calls arrive by server-sent events), finds the blind transfer's
 * call, opens its ladder, checks the arrows (INVITE, 200, REFER, 202, NOTIFY, BYE, in that order)
 * and the REFER's text (Refer-To, Referred-By), and saves a screenshot to
 * test-artifacts/dashboard.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { needBinary } from '../helpers/peers.js';
import { haveOpenssl } from '../helpers/pki.js';

const CLI = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
const WEB = fileURLToPath(new URL('../../web/app.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CAROL = 'sips:carol@chicago.example.com';
const LIMIT_MS = 60_000;

interface CallSummary {
  callId: string;
  caller: string;
  callee: string;
  state: string;
  related: string[];
  transfer?: { referTo: string };
}

/** Resolves with the first stdout line matching `re` (rejects on exit or after LIMIT_MS). */
function waitForLine(lines: string[], onLine: Set<() => void>, re: RegExp, exited: Promise<unknown>): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      onLine.delete(look);
      reject(new Error(`no line matching ${re} within ${LIMIT_MS} ms:\n${lines.join('\n')}`));
    }, LIMIT_MS);
    const look = (): void => {
      for (const l of lines) {
        const m = re.exec(l);
        if (m !== null) {
          clearTimeout(timer);
          onLine.delete(look);
          resolve(m);
          return;
        }
      }
    };
    onLine.add(look);
    look();
    exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the demo exited before ${re}:\n${lines.join('\n')}`));
    }, () => undefined);
  });
}

test('dashboard in Chromium: the blind transfer\'s ladder (INVITE, 200, REFER, 202, NOTIFY, BYE in order), the REFER\'s text, live calls by SSE, a screenshot', async (t) => {
  const browserPath = needBinary(t, 'chromium', 'apt-get install chromium');
  if (browserPath === undefined) return;
  if (!haveOpenssl()) {
    t.skip('the openssl CLI is not installed');
    return;
  }
  assert.ok(existsSync(WEB), 'dist/web/app.js is missing: run npm run build (it bundles web/)');

  const child = spawn(process.execPath, [CLI, 'demo', '--http', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const onLine = new Set<() => void>();
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const parts = (partial + d.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const f of [...onLine]) f();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });

  const [, base] = await waitForLine(lines, onLine, /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/, exited);
  const profile = mkdtempSync(join(tmpdir(), 'hookflash-chromium-'));
  t.after(() => rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: browserPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1500, height: 1100 },
  });
  t.after(() => context.close());
  const page = context.pages()[0] ?? await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(base!, { timeout: LIMIT_MS });
  await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor({ timeout: LIMIT_MS });

  // The calls come in by server-sent events while the demo's steps run.
  await waitForLine(lines, onLine, /^all 8 steps passed$/, exited);
  const calls = ((await (await fetch(`${base}api/calls`)).json()) as { calls: CallSummary[] }).calls;
  const blind = calls.find((c) => c.transfer?.referTo === `<${CAROL}>`);
  assert.ok(blind !== undefined, `the blind transfer's call is listed: ${JSON.stringify(calls)}`);
  const row = page.locator(`[data-testid=call-row][data-callid="${blind.callId}"]`);
  await row.waitFor({ timeout: 10_000 });
  assert.equal(await row.getAttribute('data-transfer'), 'yes');
  // The Bob-Carol call of the attended transfer stays up: a live call.
  await page.locator('[data-testid=live-calls] [data-testid=call-row][data-state=talking]').first().waitFor({ timeout: 10_000 });

  // Search: Carol's calls only.
  await page.fill('[data-testid=search]', 'carol');
  const carolRows = await page.locator('[data-testid=call-row]').count();
  assert.ok(carolRows >= 3 && carolRows < calls.length, `search "carol": ${carolRows} of ${calls.length} calls`);
  await page.fill('[data-testid=search]', '');

  await row.locator('button').click();
  const detail = page.locator(`[data-testid=call-detail][data-callid="${blind.callId}"]`);
  await detail.waitFor({ timeout: 10_000 });
  await detail.locator('h2', { hasText: 'Transfer: 2 calls' }).waitFor({ timeout: 10_000 });
  const labels = await page.locator('[data-testid=ladder] [data-testid=arrow]').evaluateAll((els) => els.map((e) => e.getAttribute('data-label') ?? ''));
  let at = -1;
  for (const want of ['INVITE', '200', 'REFER', '202', 'NOTIFY', 'BYE']) {
    const next = labels.indexOf(want, at + 1);
    assert.ok(next > at, `${want} after position ${at} in ${labels.join(' ')}`);
    at = next;
  }
  const columns = await page.locator('[data-testid=ladder] [data-testid=column]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
  assert.deepEqual(columns, ['alice', 'atlanta.example.com', 'biloxi.example.com', 'bob', 'carol']);
  const holds = await page.locator('[data-testid=arrow][data-note=hold]').count();
  assert.ok(holds >= 3, 'the hold re-INVITE is marked on each hop');

  await page.locator('[data-testid=arrow][data-label=REFER]').first().click();
  const text = await page.locator('[data-testid=message-text]').textContent({ timeout: 10_000 }) ?? '';
  assert.match(text, /^REFER sips:\S+ SIP\/2\.0\r?\n/);
  assert.match(text, /\r?\nRefer-To: <sips:carol@chicago\.example\.com>\r?\n/);
  assert.match(text, /\r?\nReferred-By: "Alice" <sips:alice@atlanta\.example\.com>\r?\n/);

  const artifacts = join(REPO, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
  assert.deepEqual(pageErrors, [], 'no script error on the page');

  child.kill('SIGINT');
  assert.equal(await exited, 0, `the demo stops cleanly on SIGINT\n${stderr}`);
});

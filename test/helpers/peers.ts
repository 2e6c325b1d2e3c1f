/**
 * Helpers for tests that drive a real peer binary (sipp, baresip, kamailio, redis-server, chromium).
 * Locally a missing binary skips the test with the reason; in CI (CI=true) it fails instead.
 */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/** The path of `name` on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

/**
 * Returns the binary's path, or skips the test (locally) / fails it (CI) when it is not installed.
 * Usage: `const sipp = needBinary(t, 'sipp', 'apt-get install sip-tester'); if (!sipp) return;`
 */
export function needBinary(t: TestContext, name: string, install: string): string | undefined {
  const path = findBinary(name);
  if (path) return path;
  const reason = `${name} is not installed (${install})`;
  if (process.env.CI === 'true') assert.fail(`${reason}: CI must run this test, not skip it`);
  t.skip(reason);
  return undefined;
}

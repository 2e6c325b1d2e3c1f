/**
 * `hookflash lint` end to end: the built CLI run as a child process on corpus files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Tests run from dist/test/app/: the CLI is dist/src/app/cli.js, the fixtures stay in the source tree.
const CLI = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../../test/fixtures/conformance/', import.meta.url));
const fixture = (p: string) => join(CORPUS, p);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function lint(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'lint', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

interface JsonLine {
  file: string;
  parsed: boolean;
  valid: boolean;
  code: number | null;
  reason: string | null;
}

/** Parses `--json` output: one JSON object per line, each with exactly the five keys. */
function jsonLines(stdout: string): JsonLine[] {
  assert.ok(stdout.endsWith('\n'), 'output ends with a newline');
  return stdout.trimEnd().split('\n').map((line) => {
    const o = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(o).sort(), ['code', 'file', 'parsed', 'reason', 'valid'], line);
    assert.equal(typeof o.file, 'string');
    assert.equal(typeof o.parsed, 'boolean');
    assert.equal(typeof o.valid, 'boolean');
    assert.ok(o.code === null || typeof o.code === 'number');
    assert.ok(o.reason === null || typeof o.reason === 'string');
    return o as unknown as JsonLine;
  });
}

test('lint --json: a valid message prints one JSON object {file, parsed, valid, code, reason} and exits 0', async () => {
  const file = fixture('rfc4475/wsinv.sip');
  const r = await lint('--json', file);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(jsonLines(r.stdout), [{ file, parsed: true, valid: true, code: null, reason: null }]);
  assert.equal(r.stderr, '');
});

test('lint --json: several files give one line each, in order; any invalid one makes the exit status 1', async () => {
  const files = ['rfc4475/wsinv.sip', 'rfc4475/badinv01.sip', 'rfc4475/insuf.sip', 'rfc4475/badvers.sip', 'rfc5118/ipv6-good.sip'].map(fixture);
  const r = await lint('--json', ...files);
  assert.equal(r.code, 1);
  const out = jsonLines(r.stdout);
  assert.deepEqual(out.map((o) => o.file), files);
  assert.deepEqual(out.map((o) => [o.parsed, o.valid, o.code]), [
    [true, true, null],
    [false, false, 400], // RFC 4475 §3.1.2.1: a syntax error
    [true, false, 400], // §3.3.1: parses, then 400 for the missing headers
    [false, false, 505], // §3.1.2.16
    [true, true, null],
  ]);
  for (const o of out) assert.equal(o.reason === null, o.valid, 'a reason exactly when invalid');
});

test('lint --role: zeromf (RFC 4475 §3.3.11) is 483 at a proxy and valid at a UAS (the default)', async () => {
  const file = fixture('rfc4475/zeromf.sip');
  const proxy = await lint('--json', '--role', 'proxy', file);
  assert.equal(proxy.code, 1);
  assert.deepEqual(jsonLines(proxy.stdout).map((o) => [o.valid, o.code]), [[false, 483]]);
  const uas = await lint('--json', '--role', 'uas', file);
  assert.equal(uas.code, 0);
  const dflt = await lint('--json', file);
  assert.equal(dflt.code, 0);
  assert.deepEqual(jsonLines(dflt.stdout), jsonLines(uas.stdout));
  const eq = await lint('--json', '--role=proxy', file);
  assert.equal(eq.code, 1);
});

test('lint: a response that does not parse has code null (it is dropped, not answered: RFC 4475 §3.1.2.19)', async () => {
  const r = await lint('--json', fixture('rfc4475/bigcode.sip'), fixture('rfc4475/scalarlg.sip'), fixture('rfc4475/noreason.sip'));
  assert.equal(r.code, 1);
  assert.deepEqual(jsonLines(r.stdout).map((o) => [o.parsed, o.valid, o.code]), [[false, false, null], [false, false, null], [true, true, null]]);
});

test('lint: a file with bare LF line endings is read as CRLF (RFC 5118 archive copies)', async () => {
  for (const name of ['ipv6-good', 'port-unambiguous', 'mult-ip-in-header']) {
    const file = fixture(`rfc5118/archive/${name}`);
    assert.equal(readFileSync(file).includes(13), false, `${name} has no CR`);
    const r = await lint('--json', file);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(jsonLines(r.stdout), [{ file, parsed: true, valid: true, code: null, reason: null }]);
    const human = await lint(file);
    assert.match(human.stdout, /valid.*bare LF line endings read as CRLF/);
  }
  // ... and RFC 5118 §4.2's invalid one is still invalid after the conversion.
  const bad = await lint('--json', fixture('rfc5118/archive/ipv6-bad'));
  assert.equal(bad.code, 1);
  assert.deepEqual(jsonLines(bad.stdout).map((o) => [o.parsed, o.code]), [[false, 400]]);
});

test('lint: an LF-only copy of an RFC 4475 message lints like the original; a file mixing CRLF and LF is not rewritten', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookflash-lint-'));
  try {
    const lf = join(dir, 'esc01-lf.sip');
    writeFileSync(lf, readFileSync(fixture('rfc4475/esc01.sip')).toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    const r = await lint('--json', lf);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(jsonLines(r.stdout)[0]!.valid, true);
    const mixed = join(dir, 'mixed.sip');
    writeFileSync(mixed, 'OPTIONS sip:a@b.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:a@b.example.com>\r\n\r\n', 'latin1');
    const m = await lint('--json', mixed);
    assert.equal(m.code, 1);
    assert.equal(jsonLines(m.stdout)[0]!.parsed, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lint: a missing file is reported as not parsed, with a reason, and exits 1', async () => {
  const missing = join(tmpdir(), 'hookflash-no-such-file-4475.sip');
  const r = await lint('--json', missing, fixture('rfc4475/wsinv.sip'));
  assert.equal(r.code, 1);
  const [m, ok] = jsonLines(r.stdout);
  assert.deepEqual({ ...m!, reason: typeof m!.reason }, { file: missing, parsed: false, valid: false, code: null, reason: 'string' });
  assert.match(m!.reason!, /cannot read|ENOENT/);
  assert.equal(ok!.valid, true, 'the other file is still linted');
});

test('lint: a bad --role, no FILE, or an unknown option exits 2 with a message on stderr and nothing on stdout', async () => {
  for (const args of [['--role', 'registrar', fixture('rfc4475/wsinv.sip')], ['--role', '', fixture('rfc4475/wsinv.sip')], ['--json']]) {
    const r = await lint(...args);
    assert.equal(r.code, 2, JSON.stringify(args));
    assert.equal(r.stdout, '');
    assert.notEqual(r.stderr, '');
  }
  const bad = await lint('--role', 'registrar', fixture('rfc4475/wsinv.sip'));
  assert.match(bad.stderr, /--role must be uas or proxy/);
});

test('lint (human output): one line per file, saying valid, or where the syntax fault is and the answer', async () => {
  const wsinv = fixture('rfc4475/wsinv.sip');
  const ncl = fixture('rfc4475/ncl.sip');
  const insuf = fixture('rfc4475/insuf.sip');
  const r = await lint(wsinv, ncl, insuf);
  assert.equal(r.code, 1);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[0], `${wsinv}: valid (INVITE)`);
  assert.match(lines[1]!, new RegExp(`^${ncl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: syntax error at byte \\d+: .*Content-Length.* -> 400$`));
  assert.match(lines[2]!, /: parsed, invalid: Missing .* header -> 400$/);
});

test('lint --json over the whole corpus agrees with manifest.json (parser verdict; response code for the semantics errors)', async () => {
  interface Entry { name: string; file: string; parser: string; expected: string; response_code: number | null }
  const manifest = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as { messages: Entry[]; variants: Entry[] };
  const entries = [...manifest.messages, ...manifest.variants];
  const r = await lint('--json', ...entries.map((e) => fixture(e.file)));
  assert.equal(r.code, 1);
  const out = jsonLines(r.stdout);
  assert.equal(out.length, entries.length);
  entries.forEach((e, i) => {
    const o = out[i]!;
    assert.equal(o.file, fixture(e.file));
    if (e.parser === 'accept') assert.equal(o.parsed, true, e.name);
    if (e.parser === 'reject') assert.equal(o.parsed, false, e.name);
    if (e.expected === 'valid-semantics-error' && e.name !== 'zeromf' && e.response_code !== null) {
      assert.deepEqual([o.valid, o.code], [false, e.response_code], e.name);
    }
    if (e.expected === 'valid') assert.equal(o.valid, true, e.name);
  });
});

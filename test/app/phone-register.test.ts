/**
 * `hookflash phone --register URI --auth USER:PASSWORD`: Bob's phone registers at a small
 * registrar written here on a SipEndpoint (Digest with MD5 and SHA-256 offered, as in
 * test/flows/registration.test.ts), prints `registered`; Alice's phone calls the contact the
 * registrar learned; Bob's phone unregisters when it quits. A wrong password is an error.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RealClock } from '../../src/core/clock.js';
import { createResponse, formatAuth, formatNameAddr, formatUri, type NameAddr, type SipRequest } from '../../src/message/index.js';
import { createChallenge, NonceIssuer, verifyCredentials } from '../../src/auth/digest.js';
import { startEndpoint, type TestEndpoint } from '../helpers/endpoints.js';

const cli = fileURLToPath(new URL('../../src/app/cli.js', import.meta.url));
const BOUND_MS = 15_000;
const REALM = 'registrar.test';

interface Line {
  event: string;
  port?: number;
  expires?: number;
  aor?: string;
  registrar?: string;
}

interface Phone {
  lines: Line[];
  write(text: string): void;
  line(event: string): Promise<Line>;
  exit(): Promise<{ code: number | null; stderr: string }>;
}

function bounded<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${BOUND_MS} ms`)), BOUND_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function startPhone(t: TestContext, args: string[]): Phone {
  const child = spawn(process.execPath, [cli, 'phone', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: Line[] = [];
  const listeners = new Set<(line: Line) => void>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const l of listeners) l(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    lines,
    write: (text) => child.stdin.write(text),
    line: (event) => {
      const found = lines.find((l) => l.event === event);
      if (found !== undefined) return Promise.resolve(found);
      return bounded(`a ${event} line (stderr ${stderr})`, new Promise<Line>((resolve, reject) => {
        const l = (line: Line): void => {
          if (line.event !== event) return;
          listeners.delete(l);
          resolve(line);
        };
        listeners.add(l);
        void exited.then(() => reject(new Error(`exited before a ${event} line; stderr ${stderr}`)));
      }));
    },
    exit: () => {
      child.stdin.end();
      return bounded('exit', exited.then((code) => ({ code, stderr })));
    },
  };
}

interface Registrar {
  /** REGISTERs and their answers, in order. */
  seen: Array<{ status: number; expires: number | undefined; authorized: boolean }>;
  /** AOR -> its one binding. */
  bindings: Map<string, NameAddr>;
}

/** A registrar for any AOR at 127.0.0.1 whose user is the Digest username, password `secret`. */
function registrar(r: TestEndpoint): Registrar {
  const nonces = new NonceIssuer({ clock: new RealClock() });
  const seen: Registrar['seen'] = [];
  const bindings = new Map<string, NameAddr>();
  r.endpoint.onRequest((req: SipRequest, tx) => {
    if (tx === undefined || req.method !== 'REGISTER') return false;
    const contact = req.contact;
    const first = contact === undefined || contact === '*' ? undefined : contact[0];
    const e = first?.params.expires;
    const expires = typeof e === 'string' ? Number(e) : req.expires;
    const answer = (status: number, headers: [string, string][] = [], authorized = false): void => {
      seen.push({ status, expires, authorized });
      tx.respond(createResponse(req, status, { headers }));
    };
    const credentials = req.authorization.find((c) => c.params.realm === REALM);
    const verdict = credentials === undefined ? undefined : verifyCredentials(credentials, {
      method: req.method, uri: req.uriText, realm: REALM, password: 'secret', nonces,
    });
    if (verdict === undefined || !verdict.ok) {
      const nonce = nonces.issue();
      answer(401, (['MD5', 'SHA-256'] as const).map((algorithm) =>
        ['WWW-Authenticate', formatAuth(createChallenge({ realm: REALM, nonce, algorithm, stale: verdict?.stale === true }), 'challenge')]));
      return;
    }
    const aor = formatUri(req.to.uri);
    if (first === undefined || expires === 0) bindings.delete(aor);
    else bindings.set(aor, { uri: first.uri, params: { expires: String(expires ?? 3600) } });
    const bound = bindings.get(aor);
    answer(200, bound === undefined ? [] : [['Contact', formatNameAddr(bound)]], true);
  });
  return { seen, bindings };
}

test('a phone registers with Digest, is called at the contact it registered, and unregisters at quit', async (t) => {
  const r = await startEndpoint({ protocols: ['UDP'] });
  t.after(() => r.close());
  const reg = registrar(r);
  const registrarUri = `sip:127.0.0.1:${r.target('UDP').port}`;
  const bob = startPhone(t, [
    '--uri', 'sip:bob@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--register', registrarUri, '--auth', 'bob:secret', '--auto-answer', '--json',
  ]);
  const registered = await bob.line('registered');
  assert.equal(registered.aor, 'sip:bob@127.0.0.1');
  assert.equal(registered.registrar, registrarUri);
  assert.equal(registered.expires, 3600);
  const listening = await bob.line('listening');
  const binding = reg.bindings.get('sip:bob@127.0.0.1');
  assert.ok(binding !== undefined, 'bound');
  assert.equal(formatUri(binding.uri), `sip:bob@127.0.0.1:${listening.port}`);
  assert.deepEqual(reg.seen.map((s) => s.status), [401, 200]);

  // Alice calls Bob where the registrar says he is.
  const alice = startPhone(t, ['--uri', 'sip:alice@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--json']);
  alice.write([`call ${formatUri(binding.uri)}`, 'wait answered 5', 'hangup', 'wait ended 5', 'quit', ''].join('\n'));
  const aliceExit = await alice.exit();
  assert.equal(aliceExit.code, 0, aliceExit.stderr);
  await bob.line('ended');

  bob.write('quit\n');
  const unregistered = await bob.line('unregistered');
  assert.equal(unregistered.aor, 'sip:bob@127.0.0.1');
  const bobExit = await bob.exit();
  assert.equal(bobExit.code, 0, bobExit.stderr);
  assert.equal(reg.bindings.size, 0, 'the binding is gone');
  const last = reg.seen.at(-1)!;
  assert.deepEqual([last.status, last.expires, last.authorized], [200, 0, true]);
  // The unregister reused the realm's nonce (RFC 7616 §3.4): no new challenge.
  assert.deepEqual(reg.seen.map((s) => s.status), [401, 200, 200]);
});

test('a wrong --auth password: the registration fails, and the phone exits 1', async (t) => {
  const r = await startEndpoint({ protocols: ['UDP'] });
  t.after(() => r.close());
  const reg = registrar(r);
  const bob = startPhone(t, [
    '--uri', 'sip:bob@127.0.0.1', '--listen', 'udp:127.0.0.1:0', '--register', `sip:127.0.0.1:${r.target('UDP').port}`, '--auth', 'bob:wrong', '--json',
  ]);
  bob.write('quit\n');
  const exit = await bob.exit();
  assert.equal(exit.code, 1);
  assert.match(exit.stderr, /registration failed: 401/);
  assert.deepEqual(reg.seen.map((s) => s.status), [401, 401]);
  assert.equal(reg.bindings.size, 0);
  assert.ok(!bob.lines.some((l) => l.event === 'registered'));
});

test('bad --register and --auth flags exit 2', async (t) => {
  for (const args of [['--register', 'http://example.com'], ['--auth', 'nocolon']]) {
    const phone = startPhone(t, ['--uri', 'sip:bob@127.0.0.1', '--listen', 'udp:127.0.0.1:0', ...args]);
    const exit = await phone.exit();
    assert.equal(exit.code, 2, exit.stderr);
  }
});

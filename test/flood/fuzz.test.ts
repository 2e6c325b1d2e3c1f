/**
 * Fuzzing the running server (issue 9): every message of the RFC 4475 / RFC 5118 corpus
 * (test/fixtures/conformance), mutated MUTATIONS times each with a seeded generator (bit flips,
 * cut and inserted spans, repeated and swapped lines, absurd numbers in Content-Length, CSeq,
 * Max-Forwards and Expires, huge headers, bare CR or LF, two messages spliced), sent to
 * `hookflash serve` over UDP and over TCP (reconnecting when the server closes a broken stream).
 * The Request-URI is pointed at the server's own domain and Route headers are dropped first, so
 * nothing is forwarded off the machine. Checked: serve never dies, still answers OPTIONS on both
 * transports, its transactions gauge is back to 0 and its heap back near the baseline.
 * Reproduce a run with FUZZ_SEED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../helpers/sipp.js';
import { isResponse, RawUdp, requestText, rssOf, scrape, sleep, startServeWith, stopServe, transact, until } from './raw-sip.js';

const DOMAIN = 'hookflash.test';
const MUTATIONS = 40;
const SEED = Number(process.env.FUZZ_SEED ?? 4475);

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): Buffer[] {
  const root = join(repoRoot, 'test/fixtures/conformance');
  const files = [
    ...readdirSync(join(root, 'rfc4475')).filter((f) => f.endsWith('.sip')).map((f) => join(root, 'rfc4475', f)),
    ...readdirSync(join(root, 'rfc4475/variants')).filter((f) => f.endsWith('.sip')).map((f) => join(root, 'rfc4475/variants', f)),
    ...readdirSync(join(root, 'rfc5118')).filter((f) => f.endsWith('.sip')).map((f) => join(root, 'rfc5118', f)),
  ];
  return files.map((f) => tame(readFileSync(f)));
}

/** Our domain in the Request-URI, no Route, no maddr: whatever the server makes of it stays here. */
function tame(msg: Buffer): Buffer {
  let text = msg.toString('latin1');
  text = text.replace(/^([!-~]+) [^ \r\n]+ (SIP\/[^\r\n]*)/, (_, method: string, version: string) =>
    `${method} ${method.toUpperCase() === 'REGISTER' ? `sip:${DOMAIN}` : `sip:fuzz@${DOMAIN}`} ${version}`);
  text = text.replace(/^Route[ \t]*:[^\r\n]*(\r?\n[ \t][^\r\n]*)*\r?\n/gim, '').replace(/maddr=/gi, 'xaddr=');
  return Buffer.from(text, 'latin1');
}

const NUMBERS = ['-1', '0', '4294967296', '99999999999999999999', '1e9', '0x10', '', ' 7 7', '2147483648', '65536'];

function mutate(base: Buffer, all: Buffer[], rnd: () => number): Buffer {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const firstLine = Math.max(0, base.indexOf('\n') + 1);
  const at = (): number => firstLine + pick(Math.max(1, base.length - firstLine));
  let b = Buffer.from(base);
  switch (pick(10)) {
    case 0: // bit flips
      for (let k = 0; k < 1 + pick(16); k++) b[at() % b.length] ^= 1 << pick(8);
      break;
    case 1: { // cut a span
      const from = at();
      b = Buffer.concat([b.subarray(0, from), b.subarray(Math.min(b.length, from + 1 + pick(200)))]);
      break;
    }
    case 2: { // insert random bytes
      const from = at();
      b = Buffer.concat([b.subarray(0, from), Buffer.from(Array.from({ length: 1 + pick(64) }, () => pick(256))), b.subarray(from)]);
      break;
    }
    case 3: { // repeat a header line many times
      const lines = b.toString('latin1').split('\r\n');
      const i = 1 + pick(Math.max(1, lines.length - 2));
      lines.splice(i, 0, ...Array.from({ length: 1 + pick(300) }, () => lines[i] ?? 'Via: SIP/2.0/UDP x'));
      b = Buffer.from(lines.join('\r\n'), 'latin1');
      break;
    }
    case 4: // truncate
      b = b.subarray(0, at());
      break;
    case 5: { // absurd numbers
      const text = b.toString('latin1').replace(/^(Content-Length|l|CSeq|Max-Forwards|Expires)([ \t]*:[ \t]*)(\d+)/gim,
        (_, name: string, colon: string) => `${name}${colon}${NUMBERS[pick(NUMBERS.length)]}`);
      b = Buffer.from(text, 'latin1');
      break;
    }
    case 6: { // a huge header
      const text = b.toString('latin1');
      const i = text.indexOf('\r\n') + 2;
      b = Buffer.from(`${text.slice(0, i)}X-Fuzz: ${'A'.repeat(1000 + pick(60_000))}\r\n${text.slice(i)}`, 'latin1');
      break;
    }
    case 7: { // swap two lines
      const lines = b.toString('latin1').split('\r\n');
      const i = 1 + pick(Math.max(1, lines.length - 1));
      const j = 1 + pick(Math.max(1, lines.length - 1));
      [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
      b = Buffer.from(lines.join('\r\n'), 'latin1');
      break;
    }
    case 8: // bare LF or CR
      b = Buffer.from(b.toString('latin1').replace(/\r\n/g, () => (rnd() < 0.2 ? (rnd() < 0.5 ? '\n' : '\r') : '\r\n')), 'latin1');
      break;
    default: // two messages spliced
      b = Buffer.concat([b.subarray(0, at()), all[pick(all.length)]!.subarray(pick(200))]);
  }
  return b;
}

function cases(): Buffer[] {
  const all = corpus();
  const rnd = prng(SEED);
  const out: Buffer[] = [...all];
  for (const base of all) for (let k = 0; k < MUTATIONS; k++) out.push(mutate(base, all, rnd));
  return out;
}

/** Writes every case over TCP, `lanes` connections at once; a connection the server closes is opened again. */
async function overTcp(port: number, messages: Buffer[], lanes = 4): Promise<{ sent: number; reconnects: number }> {
  let next = 0;
  let sent = 0;
  let reconnects = 0;
  const lane = async (): Promise<void> => {
    let sock: Socket | undefined;
    while (next < messages.length) {
      if (sock === undefined || sock.destroyed || !sock.writable) {
        if (sock !== undefined) reconnects++;
        sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        });
        sock.on('error', () => undefined);
        sock.on('data', () => undefined);
      }
      if (next >= messages.length) break;
      const m = messages[next++]!;
      sock.write(m);
      sent++;
      if (sent % 20 === 0) await sleep(5);
    }
    sock?.destroy();
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { sent, reconnects };
}

test(`fuzz: the RFC 4475/5118 corpus × ${MUTATIONS} mutations over UDP and TCP: no crash, no stuck transaction, memory back near baseline`, { timeout: 170_000 }, async (t) => {
  const r = await startServeWith(t, {
    listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'], domains: [DOMAIN], log: { level: 'error' },
    users: [{ user: `bob@${DOMAIN}`, password: 'builder' }],
  });
  const messages = cases();
  const probe = await RawUdp.open('127.0.0.1');
  t.after(() => probe.close());
  await sleep(500);
  const before = await scrape(r.httpPort);
  const baselineRss = rssOf(r.pid);
  const baselineHeap = before.get('nodejs_heap_size_used_bytes') ?? 0;

  // UDP: every case from a few sockets, paced at about 2000 a second (the datagram limit cuts the few bigger ones).
  const senders = await Promise.all([0, 1, 2, 3].map(() => RawUdp.open('127.0.0.1')));
  t.after(() => senders.forEach((s) => s.close()));
  let udpSent = 0;
  for (const [i, m] of messages.entries()) {
    if (m.length > 65_000) continue;
    senders[i % senders.length]!.send(m, r.udp);
    udpSent++;
    if (i % 40 === 39) await sleep(20);
  }
  const tcp = await overTcp(r.tcp!, messages);
  const answers = senders.reduce((n, s) => n + s.received.length, 0);
  const peakRss = rssOf(r.pid);

  assert.equal(r.serve.child.exitCode, null, `serve is alive after the fuzz: ${r.serve.stderr().slice(-2000)}`);
  const ok = await transact(probe, r.udp, requestText('OPTIONS', `sip:${DOMAIN}`, { callId: 'probe-udp' }), (m) => m.callId === 'probe-udp');
  assert.equal(ok?.status, 200, 'OPTIONS over UDP still answered');
  const tcpAnswer = await new Promise<string>((resolve, reject) => {
    const s = connect(r.tcp!, '127.0.0.1', () => s.write(requestText('OPTIONS', `sip:${DOMAIN}`, { callId: 'probe-tcp', via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-probe-tcp' })));
    let data = '';
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (/\r\n\r\n/.test(data)) {
        s.destroy();
        resolve(data);
      }
    });
    s.once('error', reject);
    setTimeout(() => {
      s.destroy();
      resolve(data);
    }, 5000);
  });
  assert.match(tcpAnswer, /^SIP\/2\.0 200 /, 'OPTIONS over TCP still answered');

  const drained = await until(async () => (await scrape(r.httpPort)).get('hookflash_transactions') === 0, 45_000, 1000);
  const after = await scrape(r.httpPort);
  const afterRss = rssOf(r.pid);
  const heap = after.get('nodejs_heap_size_used_bytes') ?? 0;
  t.diagnostic(JSON.stringify({
    seed: SEED, cases: messages.length, udpSent, udpAnswers: answers, tcpSent: tcp.sent, tcpReconnects: tcp.reconnects,
    rssMB: { baseline: +(baselineRss / 1048576).toFixed(1), peak: +(peakRss / 1048576).toFixed(1), after: +(afterRss / 1048576).toFixed(1) },
    heapUsedMB: { baseline: +(baselineHeap / 1048576).toFixed(1), after: +(heap / 1048576).toFixed(1) },
    transactionsDrained: drained,
  }));
  assert.ok(drained, `no stuck transaction: ${after.get('hookflash_transactions')} left`);
  assert.ok(heap < baselineHeap + 40 * 1048576, `heap back near baseline: ${(baselineHeap / 1048576).toFixed(1)} → ${(heap / 1048576).toFixed(1)} MB`);
  assert.ok(afterRss < baselineRss + 150 * 1048576, `RSS bounded: ${(afterRss / 1048576).toFixed(1)} MB`);
  assert.ok(udpSent > 2000 && tcp.sent === messages.length);
  assert.ok(isResponse(ok!));
  assert.equal(await stopServe(r), 0, 'serve drains and exits 0');
});

/**
 * Slow senders and half-open connections (issue 9) against `hookflash serve` on TCP, TLS and WS:
 * from 127.0.0.2, per transport, connections that send half a request and stall, connections
 * that trickle one byte every 500 ms, and connections that send nothing at all (for TLS no
 * ClientHello, for WS half an HTTP upgrade); from 127.0.0.3 more connections than the per-peer
 * limit (100). Meanwhile a good client on 127.0.0.1 sends OPTIONS on each transport: every one is
 * answered within a second. After the message timeout (10 s) the stalled and trickling
 * connections have been closed by the server. Bounded: about 30 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { makeTestPki, opensslVersion } from '../helpers/certs.js';
import { requestText, sleep, startServeWith, stopServe } from './raw-sip.js';

const DOMAIN = 'hookflash.test';
const PER_KIND = 15;

type Transport = 'tcp' | 'tls' | 'ws';

interface Attacker {
  socket: Socket;
  closed: boolean;
  kind: 'partial' | 'trickle' | 'silent';
}

function rawConnect(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

async function tlsOpen(port: number, localAddress: string, ca: string): Promise<TLSSocket> {
  const raw = await rawConnect(port, localAddress);
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ socket: raw, ca, servername: 'ss1.example.com' }, () => resolve(s));
    s.once('error', reject);
  });
}

function options(transport: Transport, id: string): string {
  return requestText('OPTIONS', `sip:${DOMAIN}`, { callId: id, via: `SIP/2.0/${transport.toUpperCase()} 127.0.0.1:9;branch=z9hG4bK-${id}` });
}

/** One OPTIONS over a fresh connection of the good client: the time to its 200, ms (Infinity when none within 3 s). */
async function goodOptions(transport: Transport, port: number, ca: string, id: string): Promise<number> {
  const started = Date.now();
  const text = options(transport, id);
  const answered = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), 3000);
    let close = (): void => undefined;
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      close();
      resolve(ok);
    };
    if (transport === 'ws') {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'sip');
      close = () => ws.terminate();
      ws.on('open', () => ws.send(text));
      ws.on('message', (d) => done(/^SIP\/2\.0 200 /.test(String(d))));
      ws.on('error', () => done(false));
      return;
    }
    const s = transport === 'tls'
      ? tlsConnect({ port, host: '127.0.0.1', ca, servername: 'ss1.example.com' }, () => s.write(text))
      : tcpConnect({ port, host: '127.0.0.1' }, () => s.write(text));
    close = () => s.destroy();
    let data = '';
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\r\n\r\n')) done(/^SIP\/2\.0 200 /.test(data));
    });
    s.on('error', () => done(false));
  });
  return answered ? Date.now() - started : Infinity;
}

test('slow senders and half-open connections on TCP, TLS and WS do not delay other clients; stalled ones are closed', { timeout: 120_000 }, async (t) => {
  if (opensslVersion() === undefined) {
    t.skip('openssl is not installed (apt-get install openssl)');
    return;
  }
  const pki = makeTestPki();
  t.after(() => pki.cleanup());
  const r = await startServeWith(t, {
    listen: ['tcp:127.0.0.1:0', 'tls:127.0.0.1:0', 'ws:127.0.0.1:0'], domains: [DOMAIN], log: { level: 'warn' },
    tls: { cert: pki.server.certFile, key: pki.server.keyFile },
  });
  const ports: Record<Transport, number> = { tcp: r.port('tcp'), tls: r.port('tls'), ws: r.port('ws') };
  const attackers: Array<Attacker & { transport: Transport }> = [];
  const timers: NodeJS.Timeout[] = [];
  t.after(() => {
    for (const x of timers) clearInterval(x);
    for (const a of attackers) a.socket.destroy();
  });
  const track = (transport: Transport, socket: Socket, kind: Attacker['kind']): void => {
    const a = { transport, socket, kind, closed: false };
    socket.on('close', () => (a.closed = true));
    socket.on('error', () => undefined);
    attackers.push(a);
  };
  const partialSip = (transport: Transport): string => options(transport, `slow-${Math.random()}`).slice(0, 120);
  const partialUpgrade = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;

  for (const transport of ['tcp', 'tls', 'ws'] as const) {
    const port = ports[transport];
    for (let i = 0; i < PER_KIND; i++) {
      // Half a message, then nothing.
      const partial = transport === 'tls' ? await tlsOpen(port, '127.0.0.2', pki.ca) : await rawConnect(port, '127.0.0.2');
      partial.write(transport === 'ws' ? partialUpgrade : partialSip(transport));
      track(transport, partial, 'partial');
      // One byte every 500 ms.
      const trickle = transport === 'tls' ? await tlsOpen(port, '127.0.0.2', pki.ca) : await rawConnect(port, '127.0.0.2');
      const bytes = transport === 'ws' ? partialUpgrade : partialSip(transport);
      let k = 0;
      timers.push(setInterval(() => {
        if (!trickle.destroyed && k < bytes.length) trickle.write(bytes[k++]!);
      }, 500));
      track(transport, trickle, 'trickle');
      // Connected, silent (TLS: not even a ClientHello).
      track(transport, await rawConnect(port, '127.0.0.2'), 'silent');
    }
  }
  // More connections from one address than the per-peer limit (100): the excess is refused, others go on.
  let refusedOrClosed = 0;
  const crowd: Socket[] = [];
  for (let i = 0; i < 110; i++) {
    try {
      const s = await rawConnect(ports.tcp, '127.0.0.3');
      s.on('error', () => undefined);
      s.on('close', () => refusedOrClosed++);
      crowd.push(s);
    } catch {
      refusedOrClosed++;
    }
  }
  t.after(() => crowd.forEach((s) => s.destroy()));

  // The good client, during all that.
  const latencies: Record<Transport, number[]> = { tcp: [], tls: [], ws: [] };
  for (let round = 0; round < 5; round++) {
    for (const transport of ['tcp', 'tls', 'ws'] as const) {
      latencies[transport].push(await goodOptions(transport, ports[transport], pki.ca, `good-${transport}-${round}`));
    }
    await sleep(300);
  }
  await sleep(500);
  const crowdRefused = refusedOrClosed;

  // Past the message timeout (10 s): the stalled and trickling connections are closed by the server.
  await sleep(11_500);
  const stalled = attackers.filter((a) => a.kind !== 'silent');
  const closedStalled = stalled.filter((a) => a.closed).length;
  const openByTransport = Object.fromEntries((['tcp', 'tls', 'ws'] as const).map((x) => [x, stalled.filter((a) => a.transport === x && !a.closed).map((a) => a.kind).join(',')]));
  const closedSilent = attackers.filter((a) => a.kind === 'silent' && a.closed).length;
  const after: Record<Transport, number> = {
    tcp: await goodOptions('tcp', ports.tcp, pki.ca, 'after-tcp'),
    tls: await goodOptions('tls', ports.tls, pki.ca, 'after-tls'),
    ws: await goodOptions('ws', ports.ws, pki.ca, 'after-ws'),
  };
  t.diagnostic(JSON.stringify({ attackers: attackers.length, crowd: 110, crowdRefused, latenciesMs: latencies, closedStalled: `${closedStalled}/${stalled.length}`, openByTransport, closedSilent, after }));

  for (const transport of ['tcp', 'tls', 'ws'] as const) {
    assert.ok(latencies[transport].every((ms) => ms < 1000), `${transport}: every OPTIONS answered within 1 s: ${latencies[transport].join(', ')}`);
    assert.ok(after[transport] < 1000, `${transport}: still answered afterwards`);
  }
  assert.ok(crowdRefused >= 10, `the connections over the per-peer limit are refused: ${crowdRefused}`);
  assert.equal(closedStalled, stalled.length, 'every stalled or trickling connection was closed by the message timeout');
  assert.equal(r.serve.child.exitCode, null);
  for (const a of attackers) a.socket.destroy();
  for (const s of crowd) s.destroy();
  assert.equal(await stopServe(r), 0);
});

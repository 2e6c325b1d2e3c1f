/**
 * SIGTERM while a call attempt is running: serve drains (a new REGISTER gets 503 with
 * Retry-After, the running INVITE keeps it from stopping), and a second SIGTERM exits at once with
 * code 1. Phones are raw UDP sockets on loopback so nothing answers the INVITE.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { bounded, quietFlags, spawnServe, tempDir } from './serve-process.js';

interface RawPhone {
  socket: Socket;
  port: number;
  /** The next datagram whose first line matches. */
  next(first: RegExp): Promise<string>;
  send(port: number, text: string): void;
}

async function rawPhone(t: TestContext): Promise<RawPhone> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const port = socket.address().port;
  return {
    socket,
    port,
    next: (first) => bounded(`a datagram ${first}`, new Promise<string>((resolve) => {
      const on = (m: Buffer): void => {
        const text = m.toString('latin1');
        if (!first.test(text.split('\r\n')[0]!)) return;
        socket.off('message', on);
        resolve(text);
      };
      socket.on('message', on);
    })),
    send: (to, text) => socket.send(text, to, '127.0.0.1'),
  };
}

function request(method: string, uri: string, from: number, user: string, extra: string[] = [], cseq = 1): string {
  const branch = `z9hG4bK-${method}-${Math.random().toString(36).slice(2)}`;
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${from};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@127.0.0.1>;tag=${user}-tag`,
    `To: <${uri.replace(/^sip:127\.0\.0\.1$/, `sip:${user}@127.0.0.1`)}>`,
    `Call-ID: ${branch}@${user}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:${user}@127.0.0.1:${from}>`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

test('SIGTERM drains: a new REGISTER gets 503, a running INVITE holds the exit; a second SIGTERM exits 1 at once', async (t) => {
  const serve = spawnServe(t, quietFlags(join(tempDir(t), 'data')));
  const ready = await serve.ready();
  const server = ready.listeners.find((l) => l.transport === 'udp')!.port;
  const bob = await rawPhone(t);
  const alice = await rawPhone(t);

  bob.send(server, request('REGISTER', 'sip:127.0.0.1', bob.port, 'bob', ['Expires: 600']));
  assert.match(await bob.next(/^SIP\/2\.0 /), /^SIP\/2\.0 200 /);

  // Bob's phone takes the INVITE and never answers: the server's response context stays open.
  const forwarded = bob.next(/^INVITE /);
  alice.send(server, request('INVITE', 'sip:bob@127.0.0.1', alice.port, 'alice'));
  await forwarded;

  serve.child.kill('SIGTERM');
  await serve.line((l) => l.msg === 'draining', 'the draining line');
  alice.send(server, request('REGISTER', 'sip:127.0.0.1', alice.port, 'alice', ['Expires: 600']));
  const refused = await alice.next(/^SIP\/2\.0 [2-6]\d\d /);
  assert.match(refused, /^SIP\/2\.0 503 /);
  assert.match(refused, /\r\nRetry-After: \d+/i);
  assert.equal(serve.child.exitCode, null, 'still draining while the INVITE runs');
  assert.ok(!serve.lines.some((l) => l.msg === 'stopped'));

  serve.child.kill('SIGTERM');
  const exit = await bounded('exit after the second SIGTERM', serve.exited, 5_000);
  assert.equal(exit.code, 1);
  assert.ok(serve.lines.some((l) => l.msg === 'second signal: exiting now'));
});

/**
 * Shared by the transfer flow tests: Alice (transferor), Bob (transferee) and Carol (target) as
 * UserAgents over TLS on loopback, each with a certificate for its domain; a capture of every
 * message; after the test, nothing left (transactions, timers, sockets).
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../src/core/clock.js';
import { parseMessage, SipRequest, SipResponse } from '../../src/message/index.js';
import { PCMU } from '../../src/sdp/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import { Call, UserAgent, type TransferConfig } from '../../src/ua/index.js';
import { assertSocketsBack, MessageCapture, openSockets, TrackingClock } from '../helpers/endpoints.js';
import type { NamedPki } from '../helpers/pki.js';

export const CALL_ID = '12345601@atlanta.example.com';
export const CAROL = 'sips:carol@chicago.example.com';
export const BOB = 'sips:bob@biloxi.example.com';

export interface Pkis {
  alice: NamedPki;
  bob: NamedPki;
  carol: NamedPki;
}

export interface Trio {
  alice: UserAgent;
  bob: UserAgent;
  carol: UserAgent;
  capture: MessageCapture;
}

export interface TrioOptions {
  aliceTransfer?: TransferConfig;
  bobTransfer?: TransferConfig;
  /** Alice's and Bob's clocks (FakeClocks where the test moves time itself); default TrackingClocks. */
  aliceClock?: Clock & { readonly pending: number };
  bobClock?: Clock & { readonly pending: number };
}

export async function trio(t: TestContext, pki: Pkis, options: TrioOptions = {}): Promise<Trio> {
  const sockets = openSockets();
  const capture = new MessageCapture();
  const clocks = [options.aliceClock ?? new TrackingClock(), options.bobClock ?? new TrackingClock(), new TrackingClock()] as const;
  const cas = [pki.alice.ca, pki.bob.ca, pki.carol.ca];
  const carolResolver = new StaticResolver({});
  const carol = await UserAgent.create({
    uri: CAROL,
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: pki.carol.cert, key: pki.carol.key } }],
    tls: { ca: cas },
    resolver: carolResolver,
    media: { address: 'client.chicago.example.com', port: 5000, codecs: [PCMU] },
    clock: clocks[2],
  });
  const carolPort = carol.endpoint.listeners[0]!.port;
  const bob = await UserAgent.create({
    uri: BOB,
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: pki.bob.cert, key: pki.bob.key } }],
    tls: { ca: cas },
    resolver: new StaticResolver({ 'chicago.example.com': [{ protocol: 'TLS', address: '127.0.0.1', port: carolPort }] }),
    media: { address: 'client.biloxi.example.com', port: 3456, codecs: [PCMU] },
    clock: clocks[1],
    ...(options.bobTransfer === undefined ? {} : { transfer: options.bobTransfer }),
  });
  const bobPort = bob.endpoint.listeners[0]!.port;
  // Carol reaches Bob too (RFC 5589 §7.2: the target calls the transferee).
  carolResolver.set('biloxi.example.com', [{ protocol: 'TLS', address: '127.0.0.1', port: bobPort }]);
  const alice = await UserAgent.create({
    uri: 'sips:alice@atlanta.example.com',
    displayName: 'Alice',
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: pki.alice.cert, key: pki.alice.key } }],
    tls: { ca: cas },
    resolver: new StaticResolver({
      'biloxi.example.com': [{ protocol: 'TLS', address: '127.0.0.1', port: bobPort }],
      'chicago.example.com': [{ protocol: 'TLS', address: '127.0.0.1', port: carolPort }],
    }),
    media: { address: 'client.atlanta.example.com', port: 49170, codecs: [PCMU] },
    clock: clocks[0],
    ...(options.aliceTransfer === undefined ? {} : { transfer: options.aliceTransfer }),
  });
  t.after(async () => {
    capture.stop();
    await alice.close();
    await bob.close();
    await carol.close();
    for (const [ua, clock] of [[alice, clocks[0]], [bob, clocks[1]], [carol, clocks[2]]] as const) {
      assert.equal(ua.endpoint.transactions.size, 0, 'transactions left');
      assert.equal(ua.endpoint.transactions.timerCount, 0, 'transaction timers left');
      assert.equal(ua.endpoint.transport.connections.size, 0, 'connections left');
      assert.equal(ua.endpoint.unacknowledged, 0, '2xx retransmissions left');
      assert.equal(clock.pending, 0, 'clock timers left');
    }
    await assertSocketsBack(sockets);
  });
  return { alice, bob, carol, capture };
}

/** Alice calls Bob (the seed's Call-ID), Bob answers, Alice holds (RFC 5589 §6: the transferor holds first) unless `hold` is false. */
export async function aliceAndBob(p: Trio, hold = true): Promise<{ a: Call; b: Call }> {
  const incoming = p.bob.next('incoming');
  const a = p.alice.call(BOB, { callId: CALL_ID });
  const b = await incoming;
  const [aOut, bOut] = await Promise.all([a.established, b.answer()]);
  assert.deepEqual(aOut, { ok: true });
  assert.deepEqual(bOut, { ok: true });
  if (hold) assert.deepEqual(await a.hold(), { ok: true });
  return { a, b };
}

/** RFC 5589 §7: Alice's consultation call with Carol, answered. */
export async function consult(p: Trio): Promise<{ a2: Call; c2: Call }> {
  const carolIncoming = p.carol.next('incoming');
  const a2 = p.alice.call(CAROL);
  const c2 = await carolIncoming;
  const [aOut, cOut] = await Promise.all([a2.established, c2.answer()]);
  assert.deepEqual(aOut, { ok: true });
  assert.deepEqual(cOut, { ok: true });
  return { a2, c2 };
}

/** The requests received (by anyone) in the dialog with Call-ID `callId`, parsed. */
export function received(p: Trio, method: string, callId = CALL_ID): SipRequest[] {
  return p.capture.messages
    .filter((c) => c.direction === 'in' && c.callId === callId && c.label === method)
    .map((c) => parseMessage(Buffer.from(c.text)) as SipRequest);
}

/** The responses received (by anyone) to `method` requests with Call-ID `callId`, parsed. */
export function responses(p: Trio, method: string, callId = CALL_ID): SipResponse[] {
  return p.capture.messages
    .filter((c) => c.direction === 'in' && c.callId === callId && /^\d+$/.test(c.label))
    .map((c) => parseMessage(Buffer.from(c.text)) as SipResponse)
    .filter((r) => r.cseq.method === method);
}

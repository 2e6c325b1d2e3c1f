/**
 * SRTP on sips calls (issue 7, RFC 4568 SDES over TLS): Alice calls sips:bob over TLS; the offer
 * is RTP/SAVP with an a=crypto AES_CM_128_HMAC_SHA1_80 line, Bob's answer takes it under the same
 * tag with his own key; Alice's tone reaches Bob, while what goes on the wire is not plain PCMU
 * (the packets Alice's socket sends are captured), and a plain RTP packet sent to Bob is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { RealClock } from '../../src/core/clock.js';
import { MediaEngine } from '../../src/media/media-engine.js';
import { ToneSource } from '../../src/media/audio-source.js';
import { WavRecorder } from '../../src/media/audio-sinks.js';
import { toneRatio } from '../../src/media/goertzel.js';
import { decodeUlaw, encodeUlaw } from '../../src/media/g711.js';
import { buildRtp, parseRtp } from '../../src/media/rtp-packet.js';
import { cryptoAttributesOf } from '../../src/media/media-params.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import { UserAgent } from '../../src/ua/index.js';
import { mediaConfigFor, newSdesCrypto } from '../../src/ua/call/media.js';
import { OfferAnswer, parseSdp } from '../../src/sdp/index.js';
import { engineMediaFactory } from '../../src/app/media-factory.js';
import { haveOpenssl, makeNamedPki, type NamedPki } from '../helpers/pki.js';

const skip = haveOpenssl() ? false : 'the openssl CLI is not installed';
const BOUND_MS = 5000;

let bobPki: NamedPki | undefined;
let alicePki: NamedPki | undefined;
before(() => {
  if (skip !== false) return;
  bobPki = makeNamedPki(['biloxi.example.com', 'client.biloxi.example.com']);
  alicePki = makeNamedPki(['atlanta.example.com', 'client.atlanta.example.com']);
});
after(() => {
  bobPki?.cleanup();
  alicePki?.cleanup();
});

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${BOUND_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a sips call over TLS negotiates RTP/SAVP with SDES keys; the tone passes encrypted', { skip }, async (t) => {
  const clock = new RealClock();
  const aliceEngine = new MediaEngine({ clock, portMin: 40000, portMax: 49999 });
  const bobEngine = new MediaEngine({ clock, portMin: 40000, portMax: 49999 });
  const bobRec = new WavRecorder(undefined);
  const bob = await UserAgent.create({
    uri: 'sips:bob@biloxi.example.com',
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: bobPki!.cert, key: bobPki!.key } }],
    tls: { ca: alicePki!.ca },
    resolver: new StaticResolver({}),
    media: { address: '127.0.0.1', port: 3456 },
    clock,
    mediaFactory: engineMediaFactory(bobEngine, { sink: () => bobRec }),
  });
  const alice = await UserAgent.create({
    uri: 'sips:alice@atlanta.example.com',
    listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, tls: { cert: alicePki!.cert, key: alicePki!.key } }],
    tls: { ca: bobPki!.ca },
    resolver: new StaticResolver({ 'biloxi.example.com': [{ protocol: 'TLS', address: '127.0.0.1', port: bob.endpoint.listeners[0]!.port }] }),
    media: { address: '127.0.0.1', port: 49170 },
    clock,
    mediaFactory: engineMediaFactory(aliceEngine),
    audioSource: () => new ToneSource({ frequency: 440, amplitude: 0.5 }),
  });
  t.after(async () => {
    await alice.close();
    await bob.close();
    assert.equal(aliceEngine.size + bobEngine.size, 0, 'sessions closed with the calls');
    aliceEngine.close();
    bobEngine.close();
  });

  const incoming = bob.next('incoming');
  const a = alice.call('sips:bob@biloxi.example.com');
  const b = await incoming;
  // What Alice's RTP socket puts on the wire, captured before it goes.
  const wire: Buffer[] = [];
  await until('Alice\'s session', () => a.mediaSession !== undefined);
  const socket = (a.mediaSession as unknown as { rtpSocket: Socket }).rtpSocket;
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  (socket as unknown as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
    if (Buffer.isBuffer(args[0]) && wire.length < 20) wire.push(Buffer.from(args[0]));
    send(...args);
  };
  const [ao, bo] = await Promise.all([a.established, b.answer()]);
  assert.deepEqual(ao, { ok: true });
  assert.deepEqual(bo, { ok: true });

  // RFC 4568: RTP/SAVP both ways, one a=crypto each, same tag and suite, different keys.
  const offer = a.localDescription!.media[0]!;
  const answer = a.remoteDescription!.media[0]!;
  assert.equal(offer.protocol, 'RTP/SAVP');
  assert.equal(answer.protocol, 'RTP/SAVP');
  const [ok] = cryptoAttributesOf(offer);
  const [ak] = cryptoAttributesOf(answer);
  assert.ok(ok !== undefined && ak !== undefined);
  assert.equal(ok.suite, 'AES_CM_128_HMAC_SHA1_80');
  assert.equal(ak.suite, ok.suite);
  assert.equal(ak.tag, ok.tag);
  assert.ok(!ok.masterKey.equals(ak.masterKey));
  assert.equal(a.secureMedia, true);
  assert.equal(b.secureMedia, true);

  // The tone arrives (decrypted) at Bob...
  await until('0.4 s at Bob', () => bobRec.samples().length >= 3200);
  const pcm = bobRec.samples().subarray(0, 3200);
  assert.ok(toneRatio(pcm, 440) > 0.8, `440 Hz share at Bob ${toneRatio(pcm, 440)}`);
  assert.equal(b.stats()!.srtpFailures, 0);
  // ...but the wire carries SRTP: 12 header + 160 encrypted payload + 10 auth tag, and the payload
  // decoded as µ-law is not the tone (nor is it the µ-law of what Alice sends).
  const rtp = wire.filter((p) => (p[1]! & 0x7f) === 0);
  assert.ok(rtp.length >= 5, `captured ${wire.length} packets`);
  for (const p of rtp) assert.equal(p.length, 12 + 160 + 10, 'SRTP packet with an 80-bit tag');
  const payloads = Int16Array.from(rtp.flatMap((p) => [...decodeUlaw(p.subarray(12, 172))]));
  assert.ok(toneRatio(payloads, 440) < 0.2, `the wire is not the tone: ${toneRatio(payloads, 440)}`);

  // A plain RTP packet to Bob's port is refused by authentication (counted, never played).
  const before = b.stats()!;
  const plain = buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 0, ssrc: 0x1234, marker: false, payload: encodeUlaw(new Int16Array(160)) });
  assert.ok(parseRtp(plain).ok);
  const attacker = createSocket('udp4');
  await new Promise<void>((resolve) => attacker.bind(0, '127.0.0.1', resolve));
  attacker.send(plain, b.mediaSession!.localPort, '127.0.0.1');
  await until('the plain packet refused', () => b.stats()!.srtpFailures > before.srtpFailures);
  attacker.close();
  await a.hangup();
});

test('SDES in offer/answer: the answer takes an offered suite under its tag, with our key; no suite of ours refuses the stream (RFC 4568 §7.1.2)', () => {
  const ours = newSdesCrypto();
  const config = mediaConfigFor({ address: '127.0.0.1', media: [{ type: 'audio', port: 4000 }] }, 4002, ours);
  const offer = (lines: string[]): string => ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    'm=audio 5000 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000', ...lines, ''].join('\r\n');
  const key = `inline:${Buffer.alloc(30, 7).toString('base64')}`;
  const accepting = new OfferAnswer(config);
  accepting.setRemoteOffer(offer([`a=crypto:1 AES_CM_128_HMAC_SHA1_32 ${key}`, `a=crypto:3 AES_CM_128_HMAC_SHA1_80 ${key}`]));
  const answer = parseSdp(accepting.createAnswer());
  const m = answer.media[0]!;
  assert.equal(m.port, 4002);
  assert.equal(m.protocol, 'RTP/SAVP');
  assert.deepEqual(m.other['crypto'], [{ id: 3, suite: 'AES_CM_128_HMAC_SHA1_80', config: ours.keyParams }]);
  const refusing = new OfferAnswer(config);
  assert.throws(() => refusing.setRemoteOffer(offer([`a=crypto:1 F8_128_HMAC_SHA1_80 ${key}`])), { status: 488 });
  assert.throws(() => new OfferAnswer(config).setRemoteOffer(offer([])), { status: 488 });
  // Our own offer: RTP/SAVP with our one a=crypto line.
  const own = parseSdp(new OfferAnswer(config).createOffer()).media[0]!;
  assert.equal(own.protocol, 'RTP/SAVP');
  assert.deepEqual(own.other['crypto'], [{ id: 1, suite: 'AES_CM_128_HMAC_SHA1_80', config: ours.keyParams }]);
});

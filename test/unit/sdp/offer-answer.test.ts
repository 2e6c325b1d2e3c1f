import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipError } from '../../../src/core/errors.js';
import {
  OfferAnswer, OfferAnswerError, PCMA, PCMU, SdpError, TELEPHONE_EVENT, declaredDirection, parseSdp,
  type Direction, type LocalMediaConfig, type SessionDescription,
} from '../../../src/sdp/index.js';
import { SEED_F10_HOLD, SEED_F1_OFFER, crlf, peerOffer } from './seed.js';

// The two ends of the seed (RFC 5359 §2.1): Alice at client.atlanta, Bob at client.biloxi, PCMU only.
const ALICE: LocalMediaConfig = {
  address: 'client.atlanta.example.com',
  username: 'alice',
  sessionId: '2890844526',
  media: [{ type: 'audio', port: 49170, codecs: [PCMU] }],
};
const BOB: LocalMediaConfig = {
  address: 'client.biloxi.example.com',
  username: 'bob',
  sessionId: '2890844527',
  media: [{ type: 'audio', port: 3456, codecs: [PCMU] }],
};

interface Exchange {
  offer: SessionDescription;
  answer: SessionDescription;
  offerText: string;
  answerText: string;
}

/** One complete offer/answer between two machines, as a re-INVITE and its 2xx carry it. */
function exchange(offerer: OfferAnswer, answerer: OfferAnswer, hold?: boolean): Exchange {
  const offerText = offerer.createOffer(hold === undefined ? {} : { hold });
  answerer.setRemoteOffer(offerText);
  const answerText = answerer.createAnswer();
  offerer.setRemoteAnswer(answerText);
  assert.equal(offerer.state, 'stable');
  assert.equal(answerer.state, 'stable');
  return { offer: parseSdp(offerText), answer: parseSdp(answerText), offerText, answerText };
}

const dir = (sd: SessionDescription, index = 0): Direction => declaredDirection(sd, index);

/** A connected call between Alice (caller) and Bob, after the initial INVITE/200 exchange. */
function call(): { alice: OfferAnswer; bob: OfferAnswer } {
  const alice = new OfferAnswer(ALICE);
  const bob = new OfferAnswer(BOB);
  exchange(alice, bob);
  return { alice, bob };
}

function isCode(code: string, status?: number): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof SipError, String(e));
    assert.equal(e.code, code, e.message);
    if (status !== undefined) assert.equal((e as OfferAnswerError).status, status);
    return true;
  };
}

test('the seed call: Alice offers F1, Bob holds with the seed F10 sendonly, answered recvonly, then resumes with sendrecv (RFC 5359 §2.1)', () => {
  const alice = new OfferAnswer(ALICE);
  const bob = new OfferAnswer(BOB);

  const invite = exchange(alice, bob);
  // Alice's INVITE is the seed's F1, with s=- and the direction written out.
  assert.equal(invite.offerText, SEED_F1_OFFER.replace('s=\r\n', 's=-\r\n').replace('a=rtpmap:0 PCMU/8000\r\n', 'a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n'));
  assert.equal(dir(invite.answer), 'sendrecv');
  assert.equal(invite.answer.origin.sessionVersion, 2890844527n);

  const hold = exchange(bob, alice, true);
  // Bob's hold re-INVITE is the seed's F10: same address, a=sendonly, o= version 2890844528.
  assert.equal(hold.offerText, SEED_F10_HOLD.replace('s=\r\n', 's=-\r\n'));
  assert.equal(dir(hold.answer), 'recvonly');
  assert.equal(hold.answer.connection?.address, 'client.atlanta.example.com');
  assert.equal(bob.localHold, true);
  assert.equal(alice.remoteHolding, true);
  assert.equal(alice.localHold, false);

  const resume = exchange(bob, alice, false);
  assert.equal(dir(resume.offer), 'sendrecv');
  assert.equal(resume.offer.origin.sessionVersion, 2890844529n);
  assert.equal(dir(resume.answer), 'sendrecv');
  assert.equal(bob.localHold, false);
  assert.equal(alice.remoteHolding, false);
});

test('the seed F10 text itself, received by Alice, is read as hold and answered recvonly, then sendrecv on resume (RFC 5359 §2.1, RFC 3264 §6.1)', () => {
  const alice = new OfferAnswer(ALICE);
  alice.createOffer();
  alice.setRemoteAnswer(crlf(
    'v=0', 'o=bob 2890844527 2890844527 IN IP4 client.biloxi.example.com', 's=', 'c=IN IP4 client.biloxi.example.com',
    't=0 0', 'm=audio 3456 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000',
  ));
  alice.setRemoteOffer(SEED_F10_HOLD);
  assert.equal(alice.remoteHolding, true, 'the hold is known as soon as the offer is read');
  const answer = parseSdp(alice.createAnswer());
  assert.equal(dir(answer), 'recvonly');
  assert.equal(answer.origin.sessionVersion, 2890844527n, 'the answer changed, so the version went up by one');

  alice.setRemoteOffer(SEED_F10_HOLD.replace('2890844528', '2890844529').replace('a=sendonly', 'a=sendrecv'));
  assert.equal(dir(parseSdp(alice.createAnswer())), 'sendrecv');
  assert.equal(alice.remoteHolding, false);
});

test('both sides hold, Bob first: Alice holds with inactive, Bob resumes with recvonly, Alice resumes with sendrecv (RFC 3264 §8.4)', () => {
  const { alice, bob } = call();
  const bobHolds = exchange(bob, alice, true);
  assert.deepEqual([dir(bobHolds.offer), dir(bobHolds.answer)], ['sendonly', 'recvonly']);

  const aliceHolds = exchange(alice, bob, true);
  assert.deepEqual([dir(aliceHolds.offer), dir(aliceHolds.answer)], ['inactive', 'inactive']);
  assert.deepEqual([alice.localHold, alice.remoteHolding, bob.localHold, bob.remoteHolding], [true, true, true, true]);

  const bobResumes = exchange(bob, alice, false);
  assert.deepEqual([dir(bobResumes.offer), dir(bobResumes.answer)], ['recvonly', 'sendonly']);
  assert.deepEqual([alice.localHold, alice.remoteHolding, bob.localHold, bob.remoteHolding], [true, false, false, true]);

  const aliceResumes = exchange(alice, bob, false);
  assert.deepEqual([dir(aliceResumes.offer), dir(aliceResumes.answer)], ['sendrecv', 'sendrecv']);
  assert.deepEqual([alice.localHold, alice.remoteHolding, bob.localHold, bob.remoteHolding], [false, false, false, false]);
});

test('both sides hold, Alice first, and the first to hold resumes first: recvonly, then sendrecv (RFC 3264 §8.4)', () => {
  const { alice, bob } = call();
  const aliceHolds = exchange(alice, bob, true);
  assert.deepEqual([dir(aliceHolds.offer), dir(aliceHolds.answer)], ['sendonly', 'recvonly']);

  const bobHolds = exchange(bob, alice, true);
  assert.deepEqual([dir(bobHolds.offer), dir(bobHolds.answer)], ['inactive', 'inactive']);

  const aliceResumes = exchange(alice, bob, false);
  assert.deepEqual([dir(aliceResumes.offer), dir(aliceResumes.answer)], ['recvonly', 'sendonly']);
  assert.equal(bob.localHold, true, 'Bob still holds');
  assert.equal(alice.remoteHolding, true);

  const bobResumes = exchange(bob, alice, false);
  assert.deepEqual([dir(bobResumes.offer), dir(bobResumes.answer)], ['sendrecv', 'sendrecv']);
});

test('a peer re-offering sendrecv while we hold is answered sendonly, and our hold stays (RFC 3264 §6.1, §8.4)', () => {
  // The peer here is a one-flag stack: after answering our hold it refreshes the session (say a
  // session timer re-INVITE) with sendrecv, as if nothing were held.
  const alice = new OfferAnswer(ALICE);
  alice.setRemoteOffer(peerOffer({ address: '192.0.2.7' }));
  alice.createAnswer();
  alice.createOffer({ hold: true });
  alice.setRemoteAnswer(peerOffer({ address: '192.0.2.7', version: 2890844527, direction: 'recvonly' }));
  assert.equal(alice.localHold, true);

  alice.setRemoteOffer(peerOffer({ address: '192.0.2.7', version: 2890844528, direction: 'sendrecv' }));
  assert.equal(dir(parseSdp(alice.createAnswer())), 'sendonly');
  assert.equal(alice.localHold, true);
  assert.equal(alice.remoteHolding, false);
  // Alice's next offer, without a hold option, still holds.
  assert.equal(dir(parseSdp(alice.createOffer())), 'sendonly');
});

test('our own machine never re-offers sendrecv to a side that holds it: a refresh from the held side is recvonly (RFC 3264 §8.4)', () => {
  const { alice, bob } = call();
  exchange(alice, bob, true);
  const refresh = exchange(bob, alice);
  assert.deepEqual([dir(refresh.offer), dir(refresh.answer)], ['recvonly', 'sendonly']);
  assert.equal(alice.localHold, true);
  assert.equal(bob.remoteHolding, true);
});

test('an RFC 2543 hold (c=0.0.0.0) is read as hold and answered recvonly from our real address (RFC 3264 §8.4)', () => {
  const bob = new OfferAnswer(BOB);
  bob.setRemoteOffer(peerOffer());
  bob.createAnswer();
  bob.setRemoteOffer(peerOffer({ version: 2890844527, address: '0.0.0.0' }));
  assert.equal(bob.remoteHolding, true);
  const answer = parseSdp(bob.createAnswer());
  assert.equal(dir(answer), 'recvonly');
  assert.equal(answer.connection?.address, 'client.biloxi.example.com');
  const [stream] = bob.negotiated;
  assert.equal(stream!.direction, 'recvonly', 'we neither send to 0.0.0.0 nor expect the peer to receive');
});

test('hold never writes 0.0.0.0 by default: same c= address, direction attribute only (RFC 3264 §8.4)', () => {
  const { alice, bob } = call();
  const hold = exchange(alice, bob, true);
  assert.equal(hold.offer.connection?.address, 'client.atlanta.example.com');
  assert.ok(!hold.offerText.includes('0.0.0.0'));
});

test('legacyHold writes c=0.0.0.0 with the direction while holding, and the real address again on resume (RFC 3264 §8.4)', () => {
  const alice = new OfferAnswer({ ...ALICE, legacyHold: true });
  const bob = new OfferAnswer(BOB);
  exchange(alice, bob);
  const hold = exchange(alice, bob, true);
  assert.equal(hold.offer.connection?.address, '0.0.0.0');
  assert.equal(dir(hold.offer), 'sendonly');
  assert.equal(dir(hold.answer), 'recvonly');
  const resume = exchange(alice, bob, false);
  assert.equal(resume.offer.connection?.address, 'client.atlanta.example.com');
  assert.equal(dir(resume.answer), 'sendrecv');
});

test('an unspecified address in the config is refused: it would read as hold to an RFC 2543 peer (RFC 3264 §8.4)', () => {
  for (const address of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0']) {
    assert.throws(() => new OfferAnswer({ ...ALICE, address }), isCode('ERR_INVALID_ARGUMENT'), address);
  }
  assert.throws(() => new OfferAnswer({ ...ALICE, media: [{ type: 'audio', port: 0 }] }), isCode('ERR_INVALID_ARGUMENT'));
  assert.throws(() => new OfferAnswer({ ...ALICE, media: [{ type: 'audio', port: 4000, codecs: [] }] }), isCode('ERR_INVALID_ARGUMENT'));
  assert.throws(() => new OfferAnswer({ ...ALICE, media: [{ type: 'audio', port: 4000, codecs: [PCMU, { ...PCMA, payloadType: 0 }] }] }), isCode('ERR_INVALID_ARGUMENT'));
  assert.throws(() => new OfferAnswer({ ...ALICE, media: [] }), isCode('ERR_INVALID_ARGUMENT'));
});

test('an IPv6 address gives IN IP6 in o= and c= (RFC 8866 §5.2, §5.7)', () => {
  const oa = new OfferAnswer({ ...ALICE, address: '2001:db8::1' });
  const offer = parseSdp(oa.createOffer());
  assert.deepEqual(offer.connection, { netType: 'IN', addrType: 'IP6', address: '2001:db8::1' });
  assert.equal(offer.origin.addrType, 'IP6');
});

test('the o= version goes up by one for each changed offer or answer and stays for an unchanged one (RFC 3264 §8)', () => {
  const { alice, bob } = call();
  const v = (sd: SessionDescription): bigint => sd.origin.sessionVersion;
  const aliceStart = alice.localDescription!;
  const bobStart = bob.localDescription!;

  // A session refresh that changes nothing: same version, same text, on both sides.
  const refresh = exchange(alice, bob);
  assert.equal(v(refresh.offer), v(aliceStart));
  assert.equal(v(refresh.answer), v(bobStart));
  assert.equal(alice.localDescription, aliceStart, 'the unchanged description is the very same one');

  const hold = exchange(alice, bob, true);
  assert.equal(v(hold.offer), v(aliceStart) + 1n);
  assert.equal(v(hold.answer), v(bobStart) + 1n);

  // Holding again while held changes nothing.
  const again = exchange(alice, bob, true);
  assert.equal(v(again.offer), v(aliceStart) + 1n);
  assert.equal(v(again.answer), v(bobStart) + 1n);

  const resume = exchange(alice, bob, false);
  assert.equal(v(resume.offer), v(aliceStart) + 2n);
  assert.equal(v(resume.answer), v(bobStart) + 2n);
  // The rest of o= never changes within the session (RFC 3264 §8).
  assert.deepEqual({ ...resume.offer.origin, sessionVersion: 0n }, { ...aliceStart.origin, sessionVersion: 0n });
});

test('codec intersection keeps the offerer\'s order and payload type numbers, and our fmtp (RFC 3264 §6.1)', () => {
  const bob = new OfferAnswer({ ...BOB, media: [{ type: 'audio', port: 3456 }] });
  bob.setRemoteOffer(peerOffer({
    formats: '18 8 96 0',
    rtpmaps: ['a=rtpmap:18 G729/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:96 telephone-event/8000', 'a=fmtp:96 0-15', 'a=rtpmap:0 PCMU/8000'],
  }));
  const answer = parseSdp(bob.createAnswer());
  const audio = answer.media[0]!;
  assert.deepEqual(audio.formats, ['8', '96', '0']);
  assert.deepEqual(audio.rtpmap.map((r) => `${r.payloadType} ${r.encoding}/${r.clockRate}`), ['8 PCMA/8000', '96 telephone-event/8000', '0 PCMU/8000']);
  assert.deepEqual(audio.fmtp, [{ format: '96', parameters: TELEPHONE_EVENT.fmtp }]);
  assert.equal(audio.port, 3456);
});

test('static payload types offered without rtpmap are matched by RFC 3551 number; encoding names compare case-insensitively (RFC 8866 §6.6)', () => {
  const bob = new OfferAnswer({ ...BOB, media: [{ type: 'audio', port: 3456 }] });
  bob.setRemoteOffer(peerOffer({ formats: '8 0 97', rtpmaps: ['a=rtpmap:97 TELEPHONE-EVENT/8000'] }));
  assert.deepEqual(parseSdp(bob.createAnswer()).media[0]!.formats, ['8', '0', '97']);
});

test('a dynamic payload type is matched by its rtpmap, not its number: 101 as opus is not telephone-event (RFC 3264 §6.1)', () => {
  const bob = new OfferAnswer({ ...BOB, media: [{ type: 'audio', port: 3456 }] });
  bob.setRemoteOffer(peerOffer({ formats: '0 101', rtpmaps: ['a=rtpmap:101 opus/48000/2'] }));
  assert.deepEqual(parseSdp(bob.createAnswer()).media[0]!.formats, ['0']);
});

test('refused streams get port 0 in an answer of the same m= lines in the same order (RFC 3264 §6)', () => {
  const bob = new OfferAnswer(BOB);
  bob.setRemoteOffer(crlf(
    'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
    'm=video 5000 RTP/AVP 31', 'a=rtpmap:31 H261/90000',
    'm=audio 5002 RTP/SAVP 0',
    'm=audio 5004 RTP/AVP 0',
    'm=audio 5006 RTP/AVP 0',
    'm=audio 0 RTP/AVP 0',
  ));
  const answer = parseSdp(bob.createAnswer());
  assert.deepEqual(answer.media.map((m) => [m.type, m.port, m.protocol]), [
    ['video', 0, 'RTP/AVP'], // no local video stream
    ['audio', 0, 'RTP/SAVP'], // protocol not supported
    ['audio', 3456, 'RTP/AVP'], // accepted
    ['audio', 0, 'RTP/AVP'], // a second audio stream: one RTP port per type
    ['audio', 0, 'RTP/AVP'], // offered with port 0: answered with port 0
  ]);
  assert.deepEqual(answer.media[0]!.formats, ['31'], 'a refused stream still lists a format, as SDP requires');
  assert.equal(answer.media[0]!.direction, undefined);
  assert.deepEqual(bob.negotiated.map((s) => s.active), [false, false, true, false, false]);
});

test('a stream refused in the answer stays at port 0 in later offers, with every m= line kept in order (RFC 3264 §8, §8.2)', () => {
  const alice = new OfferAnswer({ ...ALICE, media: [{ type: 'audio', port: 49170, codecs: [PCMU] }, { type: 'video', port: 49172, codecs: [{ payloadType: 31, name: 'H261', clockRate: 90000 }] }] });
  const bob = new OfferAnswer(BOB);
  const first = exchange(alice, bob);
  assert.deepEqual(first.answer.media.map((m) => m.port), [3456, 0]);
  const hold = exchange(alice, bob, true);
  assert.deepEqual(hold.offer.media.map((m) => [m.type, m.port]), [['audio', 49170], ['video', 0]]);
  assert.equal(dir(hold.offer, 0), 'sendonly');
});

test('an offer with nothing acceptable throws ERR_SDP_NOT_ACCEPTABLE (488) and changes nothing (RFC 3264 §6)', () => {
  const { alice } = call();
  const before = { local: alice.localDescription, remote: alice.remoteDescription, hold: alice.holdState };
  const g729 = peerOffer({ formats: '18', rtpmaps: ['a=rtpmap:18 G729/8000'], version: 2890844600 });
  assert.throws(() => alice.setRemoteOffer(g729), isCode('ERR_SDP_NOT_ACCEPTABLE', 488));
  assert.equal(alice.state, 'stable');
  assert.deepEqual({ local: alice.localDescription, remote: alice.remoteDescription, hold: alice.holdState }, before);
  // DTMF events alone cannot carry a call.
  const dtmfOnly = peerOffer({ formats: '18 101', rtpmaps: ['a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000'] });
  assert.throws(() => new OfferAnswer({ ...BOB, media: [{ type: 'audio', port: 3456 }] }).setRemoteOffer(dtmfOnly), isCode('ERR_SDP_NOT_ACCEPTABLE', 488));
});

test('an offer without m= lines is answered without m= lines (RFC 3264 §5, §6)', () => {
  const bob = new OfferAnswer(BOB);
  bob.setRemoteOffer(crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'));
  assert.equal(parseSdp(bob.createAnswer()).media.length, 0);
});

test('the answer copies the offer\'s t= line (RFC 3264 §6)', () => {
  const bob = new OfferAnswer(BOB);
  bob.setRemoteOffer(SEED_F1_OFFER.replace('t=0 0', 't=3034423619 3042462419'));
  assert.deepEqual(parseSdp(bob.createAnswer()).timing, { start: 3034423619, stop: 3042462419 });
});

test('offerless INVITE, we are the UAC: the offer comes in the 2xx and our answer goes in the ACK (RFC 3261 §13.2.1, RFC 6337 §2.2)', () => {
  const alice = new OfferAnswer(ALICE);
  const bob = new OfferAnswer(BOB);
  // Alice's INVITE has no body; nothing happens on her side until the 2xx.
  assert.equal(alice.state, 'stable');
  const offerIn2xx = bob.createOffer();
  alice.setRemoteOffer(offerIn2xx);
  assert.equal(alice.state, 'have-remote-offer');
  assert.equal(alice.isPending, true);
  const answerInAck = alice.createAnswer();
  assert.equal(alice.state, 'stable');
  bob.setRemoteAnswer(answerInAck);
  assert.equal(dir(parseSdp(answerInAck)), 'sendrecv');
  assert.deepEqual(alice.negotiated.map((s) => [s.remoteAddress, s.remotePort, s.direction, s.formats]), [['client.biloxi.example.com', 3456, 'sendrecv', ['0']]]);
});

test('offerless INVITE, we are the UAS: our offer goes in the 2xx and the answer comes in the ACK (RFC 3261 §13.2.1, RFC 6337 §2.2)', () => {
  const alice = new OfferAnswer(ALICE);
  const bob = new OfferAnswer(BOB);
  const offerIn2xx = bob.createOffer();
  assert.equal(bob.state, 'have-local-offer');
  alice.setRemoteOffer(offerIn2xx);
  bob.setRemoteAnswer(alice.createAnswer());
  assert.equal(bob.state, 'stable');
  assert.deepEqual(bob.negotiated.map((s) => [s.remoteAddress, s.remotePort, s.direction]), [['client.atlanta.example.com', 49170, 'sendrecv']]);
});

test('offerless re-INVITE: our offer in the 2xx repeats our current description, same o= version, keeping the hold (RFC 3264 §8, RFC 6337 §5)', () => {
  const { alice, bob } = call();
  exchange(alice, bob, true);
  const current = alice.localDescription!;
  const offerText = alice.createOffer();
  const offer = parseSdp(offerText);
  assert.equal(offer.origin.sessionVersion, current.origin.sessionVersion);
  assert.equal(dir(offer), 'sendonly');
  bob.setRemoteOffer(offerText);
  assert.equal(bob.remoteHolding, true);
  alice.setRemoteAnswer(bob.createAnswer());
  assert.equal(dir(alice.remoteDescription!), 'recvonly');
});

test('a hold re-INVITE rejected (488) is rolled back: descriptions, o= version and hold intent exactly as before (RFC 3261 §14.1)', () => {
  const { alice, bob } = call();
  const before = { local: alice.localDescription, remote: alice.remoteDescription, hold: alice.holdState };
  const offer = parseSdp(alice.createOffer({ hold: true }));
  assert.equal(alice.localHold, true, 'the intent applies to the offer in flight');
  assert.equal(alice.state, 'have-local-offer');
  // Bob's side rejects it (say its media server cannot play hold): 488, no answer.
  assert.equal(alice.rollback(), true);
  assert.equal(alice.state, 'stable');
  assert.equal(alice.isPending, false);
  assert.deepEqual({ local: alice.localDescription, remote: alice.remoteDescription, hold: alice.holdState }, before);
  assert.equal(alice.localHold, false);
  assert.equal(alice.pendingLocalDescription, undefined);
  // The session never saw that version: the next changed offer uses the same number again.
  const retryText = alice.createOffer({ hold: true });
  assert.equal(parseSdp(retryText).origin.sessionVersion, offer.origin.sessionVersion);
  bob.setRemoteOffer(retryText);
  alice.setRemoteAnswer(bob.createAnswer());
  assert.equal(alice.localHold, true);
  assert.equal(bob.remoteHolding, true);
});

test('a peer\'s hold offer that we reject is rolled back: the peer is not holding, our descriptions unchanged (RFC 3261 §14.1)', () => {
  const { alice, bob } = call();
  const before = { local: alice.localDescription, remote: alice.remoteDescription, hold: alice.holdState };
  alice.setRemoteOffer(bob.createOffer({ hold: true }));
  assert.equal(alice.remoteHolding, true);
  assert.equal(alice.rollback(), true);
  assert.equal(alice.remoteHolding, false);
  assert.deepEqual({ local: alice.localDescription, remote: alice.remoteDescription, hold: alice.holdState }, before);
  // Bob rolls back his side on the 4xx too; both sides are as before and can exchange again.
  assert.equal(bob.rollback(), true);
  assert.equal(bob.localHold, false);
  const again = exchange(alice, bob);
  assert.equal(dir(again.answer), 'sendrecv');
});

test('a rollback during a hold while the peer holds restores both halves of the hold model (RFC 3264 §8.4)', () => {
  const { alice, bob } = call();
  exchange(bob, alice, true);
  const before = alice.holdState;
  alice.createOffer({ hold: true });
  assert.deepEqual([alice.localHold, alice.remoteHolding], [true, true]);
  alice.rollback();
  assert.equal(alice.holdState, before);
  assert.deepEqual([alice.localHold, alice.remoteHolding], [false, true]);
});

test('rollback in stable does nothing and says so', () => {
  const { alice } = call();
  const local = alice.localDescription;
  assert.equal(alice.rollback(), false);
  assert.equal(alice.localDescription, local);
  assert.equal(new OfferAnswer(ALICE).rollback(), false);
});

test('an answer with no offer outstanding throws ERR_NO_OFFER (RFC 3264 §4)', () => {
  const { alice } = call();
  assert.throws(() => alice.setRemoteAnswer(SEED_F10_HOLD), isCode('ERR_NO_OFFER'));
  assert.throws(() => alice.createAnswer(), isCode('ERR_NO_OFFER'));
  assert.throws(() => new OfferAnswer(BOB).setRemoteAnswer(SEED_F1_OFFER), isCode('ERR_NO_OFFER'));
  // Our own offer outstanding is not the peer's: we cannot answer it.
  alice.createOffer({ hold: true });
  assert.throws(() => alice.createAnswer(), isCode('ERR_NO_OFFER'));
  // A peer's offer outstanding is not an answer to anything.
  const bob = new OfferAnswer(BOB);
  bob.setRemoteOffer(SEED_F1_OFFER);
  assert.throws(() => bob.setRemoteAnswer(SEED_F1_OFFER), isCode('ERR_NO_OFFER'));
  assert.equal(bob.state, 'have-remote-offer');
});

test('a peer offer while ours is outstanding is glare: ERR_OFFER_PENDING with 491, and isPending tells the UA (RFC 3261 §14.1, §14.2)', () => {
  const { alice, bob } = call();
  const aliceOffer = alice.createOffer({ hold: true });
  const bobOffer = bob.createOffer({ hold: true });
  assert.equal(alice.isPending, true);
  assert.equal(bob.isPending, true);
  assert.throws(() => alice.setRemoteOffer(bobOffer), isCode('ERR_OFFER_PENDING', 491));
  assert.throws(() => bob.setRemoteOffer(aliceOffer), isCode('ERR_OFFER_PENDING', 491));
  assert.equal(alice.state, 'have-local-offer', 'glare leaves our own offer in place');
  // Both get 491, roll back, and the one that retries first wins.
  alice.rollback();
  bob.rollback();
  const retry = exchange(alice, bob, true);
  assert.deepEqual([dir(retry.offer), dir(retry.answer)], ['sendonly', 'recvonly']);
});

test('a second peer offer before we answered the first throws ERR_OFFER_PENDING with 500 (RFC 3261 §14.2)', () => {
  const bob = new OfferAnswer(BOB);
  bob.setRemoteOffer(SEED_F1_OFFER);
  assert.throws(() => bob.setRemoteOffer(SEED_F1_OFFER), isCode('ERR_OFFER_PENDING', 500));
  assert.throws(() => bob.createOffer(), isCode('ERR_OFFER_PENDING'));
  const alice = new OfferAnswer(ALICE);
  alice.createOffer();
  assert.throws(() => alice.createOffer(), isCode('ERR_OFFER_PENDING'), 'one offer of ours at a time');
});

test('a malformed offer throws ERR_SDP and leaves the machine stable and unchanged (RFC 8866 §5)', () => {
  const { alice } = call();
  const local = alice.localDescription;
  assert.throws(() => alice.setRemoteOffer('v=0\r\nthis is not sdp\r\n'), (e: unknown) => e instanceof SdpError && e.code === 'ERR_SDP');
  assert.equal(alice.state, 'stable');
  assert.equal(alice.localDescription, local);
});

test('a malformed answer throws ERR_SDP and leaves our offer outstanding, for the UA to roll back (RFC 8866 §5)', () => {
  const { alice } = call();
  alice.createOffer({ hold: true });
  assert.throws(() => alice.setRemoteAnswer('garbage'), (e: unknown) => e instanceof SdpError && e.code === 'ERR_SDP');
  assert.equal(alice.state, 'have-local-offer');
  assert.equal(alice.rollback(), true);
  assert.equal(alice.localHold, false);
});

test('an answer with a different number of m= lines than the offer throws ERR_SDP (RFC 3264 §6)', () => {
  const alice = new OfferAnswer(ALICE);
  alice.createOffer();
  const twoStreams = crlf(
    'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'm=audio 4002 RTP/AVP 0',
  );
  assert.throws(() => alice.setRemoteAnswer(twoStreams), (e: unknown) => e instanceof SdpError && /exactly as many/.test(e.reason));
  assert.equal(alice.state, 'have-local-offer');
});

test('a later offer that drops m= lines of the session is refused with 488 (RFC 3264 §8)', () => {
  const bob = new OfferAnswer(BOB);
  bob.setRemoteOffer(peerOffer({ extraMedia: ['m=video 5000 RTP/AVP 31'] }));
  bob.createAnswer();
  assert.throws(() => bob.setRemoteOffer(peerOffer({ version: 2890844527 })), isCode('ERR_SDP_NOT_ACCEPTABLE', 488));
  assert.equal(bob.state, 'stable');
});

test('negotiated streams follow the hold: the holder sends only, the held side receives only (RFC 3264 §6.1, §8.4)', () => {
  const { alice, bob } = call();
  const stream = (oa: OfferAnswer) => {
    const [s] = oa.negotiated;
    return [s!.direction, s!.remoteAddress, s!.remotePort, s!.localPort];
  };
  assert.deepEqual(stream(alice), ['sendrecv', 'client.biloxi.example.com', 3456, 49170]);
  exchange(alice, bob, true);
  assert.deepEqual(stream(alice), ['sendonly', 'client.biloxi.example.com', 3456, 49170]);
  assert.deepEqual(stream(bob), ['recvonly', 'client.atlanta.example.com', 49170, 3456]);
  exchange(bob, alice, true);
  assert.deepEqual([stream(alice)[0], stream(bob)[0]], ['inactive', 'inactive']);
  assert.deepEqual(new OfferAnswer(ALICE).negotiated, []);
});

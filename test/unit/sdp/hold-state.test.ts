import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  INITIAL_HOLD_STATE, holdAnswerDirection, holdOfferDirection, isRemoteHolding, isRemoteHoldingStream, parseSdp,
  withLocalHold, withRemoteOffer,
} from '../../../src/sdp/index.js';
import { SEED_F10_HOLD, SEED_F1_OFFER, crlf, peerOffer } from './seed.js';

test('the hold model starts with neither side holding', () => {
  assert.equal(INITIAL_HOLD_STATE.localHold, false);
  assert.equal(isRemoteHolding(INITIAL_HOLD_STATE), false);
  assert.equal(holdOfferDirection(INITIAL_HOLD_STATE, 0), 'sendrecv');
});

test('the peer holds when its offer is sendonly, inactive or c=0.0.0.0, and not when sendrecv or recvonly (RFC 3264 §8.4)', () => {
  const held = (sdp: string): boolean => isRemoteHolding(withRemoteOffer(INITIAL_HOLD_STATE, parseSdp(sdp)));
  assert.equal(held(SEED_F10_HOLD), true);
  assert.equal(held(peerOffer({ direction: 'inactive' })), true);
  assert.equal(held(peerOffer({ address: '0.0.0.0' })), true);
  assert.equal(held(peerOffer({ address: '0.0.0.0', direction: 'recvonly' })), true);
  assert.equal(held(SEED_F1_OFFER), false);
  assert.equal(held(peerOffer({ direction: 'sendrecv' })), false);
  assert.equal(held(peerOffer({ direction: 'recvonly' })), false);
});

test('the peer holds the call only when every active stream is held; port-0 streams do not count (RFC 3264 §8.4)', () => {
  const offer = (audioDir: string, videoDir: string, videoPort = 4002): string => crlf(
    'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
    'm=audio 4000 RTP/AVP 0', `a=${audioDir}`,
    `m=video ${videoPort} RTP/AVP 31`, `a=${videoDir}`,
  );
  const state = (sdp: string) => withRemoteOffer(INITIAL_HOLD_STATE, parseSdp(sdp));
  const videoOnlyHeld = state(offer('sendrecv', 'sendonly'));
  assert.equal(isRemoteHoldingStream(videoOnlyHeld, 1), true);
  assert.equal(isRemoteHolding(videoOnlyHeld), false, 'audio still two-way: not a held call');
  assert.equal(isRemoteHolding(state(offer('sendonly', 'inactive'))), true);
  assert.equal(isRemoteHolding(state(offer('sendonly', 'sendrecv', 0))), true, 'the disabled video stream does not count');
  // Per stream, our re-offer follows each stream's own state.
  assert.equal(holdOfferDirection(videoOnlyHeld, 0), 'sendrecv');
  assert.equal(holdOfferDirection(videoOnlyHeld, 1), 'recvonly');
});

test('our intent and the peer\'s are independent: setting one never changes the other', () => {
  const remote = withRemoteOffer(INITIAL_HOLD_STATE, parseSdp(SEED_F10_HOLD));
  const both = withLocalHold(remote, true);
  assert.equal(both.localHold, true);
  assert.equal(isRemoteHolding(both), true);
  const peerResumed = withRemoteOffer(both, parseSdp(SEED_F1_OFFER));
  assert.equal(peerResumed.localHold, true, 'the peer resuming does not resume us');
  assert.equal(isRemoteHolding(peerResumed), false);
});

test('offer directions: sendonly to hold, inactive when both hold, recvonly to resume while held, sendrecv when neither (RFC 3264 §8.4, RFC 5359 §2.1)', () => {
  const remoteHeld = withRemoteOffer(INITIAL_HOLD_STATE, parseSdp(SEED_F10_HOLD));
  assert.equal(holdOfferDirection(withLocalHold(INITIAL_HOLD_STATE, true), 0), 'sendonly');
  assert.equal(holdOfferDirection(withLocalHold(remoteHeld, true), 0), 'inactive');
  assert.equal(holdOfferDirection(remoteHeld, 0), 'recvonly');
  assert.equal(holdOfferDirection(INITIAL_HOLD_STATE, 0), 'sendrecv');
});

test('answer directions: sendrecv offered while we hold is answered sendonly, sendonly offered recvonly, or inactive when we hold (RFC 3264 §6.1)', () => {
  const holding = withLocalHold(INITIAL_HOLD_STATE, true);
  assert.equal(holdAnswerDirection(holding, 'sendrecv'), 'sendonly');
  assert.equal(holdAnswerDirection(holding, 'sendonly'), 'inactive');
  assert.equal(holdAnswerDirection(INITIAL_HOLD_STATE, 'sendonly'), 'recvonly');
  assert.equal(holdAnswerDirection(INITIAL_HOLD_STATE, 'sendrecv'), 'sendrecv');
  // A stream that can only receive at best (a listen-only endpoint) stays within that.
  assert.equal(holdAnswerDirection(INITIAL_HOLD_STATE, 'sendrecv', 'recvonly'), 'recvonly');
});

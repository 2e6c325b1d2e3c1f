import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DIRECTIONS, answerDirection, offerDirection, receives, reverse, sends, type Direction,
} from '../../../src/sdp/index.js';

/**
 * RFC 3264 §6.1, the answers allowed for each offered direction, written out from the text:
 * "If a stream is offered as sendonly, the corresponding stream MUST be marked as recvonly or
 * inactive in the answer. If a media stream is listed as recvonly in the offer, the answer MUST be
 * marked as sendonly or inactive in the answer. If an offered media stream is listed as sendrecv
 * (or if there is no direction attribute at the media or session level, in which case the stream
 * is sendrecv by default), the corresponding stream in the answer MAY be marked as sendonly,
 * recvonly, sendrecv, or inactive. If an offered media stream is listed as inactive, it MUST be
 * marked as inactive in the answer."
 */
const ALLOWED: Record<Direction, readonly Direction[]> = {
  sendonly: ['recvonly', 'inactive'],
  recvonly: ['sendonly', 'inactive'],
  sendrecv: ['sendrecv', 'sendonly', 'recvonly', 'inactive'],
  inactive: ['inactive'],
};

test('sendonly offered is answered recvonly, or inactive when we do not want to receive (RFC 3264 §6.1)', () => {
  assert.equal(answerDirection('sendonly', 'sendrecv'), 'recvonly');
  assert.equal(answerDirection('sendonly', 'recvonly'), 'recvonly');
  assert.equal(answerDirection('sendonly', 'sendonly'), 'inactive');
  assert.equal(answerDirection('sendonly', 'inactive'), 'inactive');
});

test('recvonly offered is answered sendonly, or inactive when we do not want to send (RFC 3264 §6.1)', () => {
  assert.equal(answerDirection('recvonly', 'sendrecv'), 'sendonly');
  assert.equal(answerDirection('recvonly', 'sendonly'), 'sendonly');
  assert.equal(answerDirection('recvonly', 'recvonly'), 'inactive');
  assert.equal(answerDirection('recvonly', 'inactive'), 'inactive');
});

test('inactive offered is answered inactive whatever we want (RFC 3264 §6.1)', () => {
  for (const wants of DIRECTIONS) assert.equal(answerDirection('inactive', wants), 'inactive', wants);
});

test('sendrecv offered is answered with whatever we want (RFC 3264 §6.1)', () => {
  for (const wants of DIRECTIONS) assert.equal(answerDirection('sendrecv', wants), wants, wants);
});

test('every one of the 16 offered/wanted pairs gives an answer RFC 3264 §6.1 allows, and the most of what we want', () => {
  for (const offered of DIRECTIONS) {
    for (const wants of DIRECTIONS) {
      const answer = answerDirection(offered, wants);
      assert.ok(ALLOWED[offered].includes(answer), `${offered} offered, ${wants} wanted: ${answer} is not allowed`);
      // Never more than we asked for...
      assert.ok(!sends(answer) || sends(wants), `${offered}/${wants}: sends against our wish`);
      assert.ok(!receives(answer) || receives(wants), `${offered}/${wants}: receives against our wish`);
      // ...and never less than both sides allow.
      assert.equal(sends(answer), sends(wants) && receives(offered), `${offered}/${wants}: send bit`);
      assert.equal(receives(answer), receives(wants) && sends(offered), `${offered}/${wants}: receive bit`);
    }
  }
});

test('a direction reversed is the same stream from the other end, and reversing twice is the identity (RFC 3264 §6.1)', () => {
  assert.equal(reverse('sendonly'), 'recvonly');
  assert.equal(reverse('recvonly'), 'sendonly');
  assert.equal(reverse('sendrecv'), 'sendrecv');
  assert.equal(reverse('inactive'), 'inactive');
  for (const d of DIRECTIONS) assert.equal(reverse(reverse(d)), d);
});

test('hold offers sendonly, or inactive when the peer already holds us (RFC 3264 §8.4, RFC 5359 §2.1)', () => {
  assert.equal(offerDirection(true, false), 'sendonly');
  assert.equal(offerDirection(true, true), 'inactive');
});

test('resume offers sendrecv, or recvonly while the peer still holds us (RFC 3264 §8.4, RFC 5359 §2.1)', () => {
  assert.equal(offerDirection(false, false), 'sendrecv');
  assert.equal(offerDirection(false, true), 'recvonly');
});

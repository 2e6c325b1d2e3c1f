import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { parseSdp } from '../../../src/sdp/session-description.js';
import { mediaParamsFromSdp } from '../../../src/media/media-params.js';
import { MediaEngine } from '../../../src/media/media-engine.js';
import { audioSdp } from './session-helpers.js';

test('the first common G.711 format in the peer\'s order is sent, under the peer\'s payload type numbers (RFC 3264 §6.1)', () => {
  const local = audioSdp(4000, { formats: '0 8 101' });
  const remote = parseSdp([
    'v=0', 'o=- 2 2 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', 'm=audio 5000 RTP/AVP 8 0 96',
    'a=rtpmap:8 PCMA/8000', 'a=rtpmap:96 telephone-event/8000', 'a=rtcp:5003', 'a=recvonly', '',
  ].join('\r\n'));
  const r = mediaParamsFromSdp(local, remote);
  assert.ok(r.ok);
  assert.equal(r.params.codec, 'PCMA');
  assert.equal(r.params.payloadType, 8);
  assert.equal(r.params.telephoneEventPayloadType, 96, 'matched by encoding: sent under the peer\'s number');
  assert.equal(r.params.localTelephoneEventPayloadType, 101);
  assert.equal(r.params.direction, 'sendonly', 'the peer only receives');
  assert.equal(r.params.remoteAddress, '192.0.2.9');
  assert.equal(r.params.remotePort, 5000);
  assert.equal(r.params.remoteRtcpPort, 5003);
  assert.equal(r.params.rtcpMux, false);
});

test('a rejected stream (port 0) is inactive; no common G.711 is a typed failure', () => {
  const r = mediaParamsFromSdp(audioSdp(4000), audioSdp(0));
  assert.ok(r.ok);
  assert.equal(r.params.direction, 'inactive');
  const g729 = parseSdp(['v=0', 'o=- 2 2 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', 'm=audio 5000 RTP/AVP 18', ''].join('\r\n'));
  assert.deepEqual(mediaParamsFromSdp(audioSdp(4000), g729), { ok: false, reason: 'no-common-codec' });
});

test('the engine binds even RTP ports with RTCP on the next one, and refuses when the range is full', async () => {
  const clock = new FakeClock();
  const engine = new MediaEngine({ clock, portMin: 39990, portMax: 39993 });
  try {
    const a = await engine.createSession();
    const b = await engine.createSession();
    assert.equal(a.localPort % 2, 0);
    assert.deepEqual([a.localPort, b.localPort].sort(), [39990, 39992]);
    await assert.rejects(engine.createSession(), (e: Error & { code?: string }) => e.code === 'ERR_MEDIA_PORTS');
    a.close();
    const c = await engine.createSession();
    assert.equal(c.localPort, a.localPort, 'a closed session gives its ports back');
  } finally {
    engine.close();
  }
  assert.equal(engine.size, 0);
  assert.equal(clock.pending, 0);
  assert.throws(() => new MediaEngine({ portMin: 5000, portMax: 4000 }), (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARGUMENT');
});

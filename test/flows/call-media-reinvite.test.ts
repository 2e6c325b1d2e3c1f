/**
 * Media follows the peer's re-INVITE (issue 7, RFC 3264 §8.3.1): Alice (a UserAgent with a
 * MediaEngine) calls a peer written here on a bare SipEndpoint whose answer puts its RTP on one
 * socket; the peer then re-INVITEs with its RTP on another port, and with a sendonly offer (a
 * hold): Alice's packets move to the new port, then stop (she answers recvonly); and an UPDATE
 * (RFC 3311) moving back to the first port and sendrecv brings them there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { newTag } from '../../src/core/ids.js';
import { RealClock } from '../../src/core/clock.js';
import { Dialog } from '../../src/dialog/index.js';
import { createResponse, type SipRequest, type SipResponse } from '../../src/message/index.js';
import { MediaEngine } from '../../src/media/media-engine.js';
import { ToneSource } from '../../src/media/audio-source.js';
import { UserAgent } from '../../src/ua/index.js';
import { engineMediaFactory } from '../../src/app/media-factory.js';
import { startEndpoint } from '../helpers/endpoints.js';

const BOUND_MS = 5000;

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${BOUND_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sdp(version: number, port: number, direction: string): string {
  return ['v=0', `o=peer 7 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', `a=${direction}`, ''].join('\r\n');
}

/** A UDP socket counting the RTP packets that reach it. */
async function rtpCounter(): Promise<{ socket: Socket; port: number; count(): number }> {
  const socket = createSocket('udp4');
  let n = 0;
  socket.on('message', (msg) => {
    if (msg.length >= 12 && (msg[1]! & 0x7f) < 64) n++;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, count: () => n };
}

test('a peer\'s re-INVITE moving its RTP port, then holding, and an UPDATE moving it back: Alice\'s RTP follows each', async (t) => {
  const clock = new RealClock();
  const engine = new MediaEngine({ clock, portMin: 40000, portMax: 49999 });
  const first = await rtpCounter();
  const second = await rtpCounter();
  const peer = await startEndpoint({ protocols: ['UDP'] });
  const alice = await UserAgent.create({
    uri: 'sip:alice@127.0.0.1',
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    clock,
    mediaFactory: engineMediaFactory(engine),
    audioSource: () => new ToneSource({ frequency: 440 }),
  });
  t.after(async () => {
    await alice.close();
    await peer.close();
    first.socket.close();
    second.socket.close();
    assert.equal(engine.size, 0);
    engine.close();
  });
  const peerPort = peer.endpoint.listeners[0]!.port;
  const contact = `<sip:peer@127.0.0.1:${peerPort}>`;
  let dialog: Dialog | undefined;
  peer.endpoint.onRequest((req: SipRequest, tx) => {
    if (tx === undefined) return;
    if (req.method === 'INVITE' && req.toTag === undefined) {
      const ok = createResponse(req, 200, { toTag: newTag(), headers: [['Contact', contact]], body: sdp(1, first.port, 'sendrecv'), contentType: 'application/sdp' });
      tx.respond(ok);
      dialog = Dialog.forUas(req, ok, { transport: 'UDP' });
      return;
    }
    if (req.method === 'BYE') {
      tx.respond(createResponse(req, 200));
      return;
    }
    return false;
  });

  const call = alice.call(`sip:peer@127.0.0.1:${peerPort}`);
  assert.deepEqual(await call.established, { ok: true });
  await until('RTP at the first port', () => first.count() >= 5);

  /** Sends an offer in the dialog (re-INVITE or UPDATE) and returns the 200. */
  const offer = async (method: 'INVITE' | 'UPDATE', body: string): Promise<SipResponse> => {
    const request = dialog!.createRequest(method, { body, contentType: 'application/sdp' });
    const response = await peer.endpoint.request(request);
    dialog!.receiveResponse(response);
    assert.equal(response.status, 200);
    if (method === 'INVITE') await peer.endpoint.ack(response, { request: dialog!.createAck(request.cseq.seq, response, { invite: request }) });
    return response;
  };

  // Re-INVITE to the second port: Alice's RTP moves there, the first port hears no more.
  await offer('INVITE', sdp(2, second.port, 'sendrecv'));
  await until('RTP at the second port', () => second.count() >= 10);
  const atFirst = first.count();
  assert.equal(call.stats()!.remote, `127.0.0.1:${second.port}`);

  // Re-INVITE with sendonly (the peer holds): Alice answers recvonly and sends nothing.
  await offer('INVITE', sdp(3, second.port, 'sendonly'));
  assert.equal(call.remoteHold, true);
  assert.equal(call.stats()!.direction, 'recvonly');
  const sent = call.stats()!.packetsSent;
  const atSecond = second.count();
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(call.stats()!.packetsSent, sent, 'recvonly: nothing sent');
  assert.ok(second.count() <= atSecond + 1, 'at most one packet in flight');

  // UPDATE back to the first port, sendrecv: RTP flows there again.
  await offer('UPDATE', sdp(4, first.port, 'sendrecv'));
  assert.equal(call.remoteHold, false);
  await until('RTP at the first port again', () => first.count() >= atFirst + 10);
  assert.equal(call.stats()!.remote, `127.0.0.1:${first.port}`);
  assert.deepEqual(await call.hangup(), { ok: true });
  assert.equal(engine.size, 0, 'the session closed with the call');
});

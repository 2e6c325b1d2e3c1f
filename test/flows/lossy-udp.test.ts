/**
 * Retransmission and absorption over UDP with deliberate loss: A reaches B through a relay that
 * drops a quarter of the datagrams (seeded, so the run is repeatable). Every transaction must
 * still complete, and B's handler must see each request once: retransmitted requests are absorbed
 * by the server transactions (RFC 3261 §17.2), lost responses recovered by the clients' Timers A
 * and E (§17.1.1.2, §17.1.2.2), lost 2xx by the UAS core (§13.3.1.4), lost ACKs by the UAC
 * core answering each retransmitted 2xx (§13.2.2.4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, createResponse, type SipRequest } from '../../src/message/index.js';
import { createDialogRequest } from '../../src/ua/dialog-request.js';
import { MessageCapture, startEndpoint } from '../helpers/endpoints.js';
import { LossyRelay } from '../helpers/lossy-relay.js';

// Short timers keep the test fast; the machines scale every timer from T1 and T2 alike.
const TIMERS = { t1: 40, t2: 320, t4: 400 };
const OPTIONS_COUNT = 20;
const CALLS = 10;

test('every transaction completes over a UDP path losing 25% of datagrams; retransmissions are absorbed (RFC 3261 §17, §13.3.1.4)', async (t) => {
  const capture = new MessageCapture();
  const b = await startEndpoint({ protocols: ['UDP'], ...TIMERS });
  const relay = await LossyRelay.start({ server: b.target('UDP'), loss: 0.25, seed: 0x5eed5 });
  const a = await startEndpoint({ protocols: ['UDP'], ...TIMERS });
  t.after(async () => {
    capture.stop();
    await a.close();
    await b.close();
    await relay.close();
  });

  const handled = new Map<string, number>();
  let acks = 0;
  b.endpoint.onRequest((req, tx) => {
    if (tx === undefined) {
      acks++;
      return;
    }
    const key = `${req.callId} ${req.cseq.seq} ${req.method}`;
    handled.set(key, (handled.get(key) ?? 0) + 1);
    if (req.method === 'INVITE') {
      tx.respond(createResponse(req, 180));
      // The Contact names the relay, so that the ACK and the BYE cross the lossy path too.
      tx.respond(createResponse(req, 200, { headers: [['Contact', `<sip:bob@127.0.0.1:${relay.port}>`]] }));
      return;
    }
    if (req.method === 'BYE') {
      tx.respond(createResponse(req, 200));
      return;
    }
    return false;
  });
  const via = { protocol: 'UDP' as const, address: '127.0.0.1', port: relay.port };
  const from = 'Alice <sip:alice@atlanta.example.com>';
  const to = 'Bob <sip:bob@biloxi.example.com>';

  for (let i = 0; i < OPTIONS_COUNT; i++) {
    const res = await a.endpoint.request(createRequest({ method: 'OPTIONS', uri: 'sip:bob@biloxi.example.com', from, to }), { target: via });
    assert.equal(res.status, 200);
  }
  for (let i = 0; i < CALLS; i++) {
    const invite: SipRequest = createRequest({ method: 'INVITE', uri: 'sip:bob@biloxi.example.com', from, to, contact: '<sip:alice@127.0.0.1>' });
    const res = await a.endpoint.request(invite, { target: via });
    assert.equal(res.status, 200);
    await a.endpoint.ack(res);
    assert.equal((await a.endpoint.request(createDialogRequest(invite, res, 'BYE'))).status, 200);
  }

  // Each request reached B's handler exactly once, however often it was sent.
  assert.equal(handled.size, OPTIONS_COUNT + 2 * CALLS);
  for (const [key, n] of handled) assert.equal(n, 1, `${key} handled ${n} times`);
  const sent = (label: string): number => capture.messages.filter((c) => c.direction === 'out' && c.label === label).length;
  const report = `relay: ${JSON.stringify(relay.counts)}; out: OPTIONS ${sent('OPTIONS')}, INVITE ${sent('INVITE')}, BYE ${sent('BYE')}, ACK ${sent('ACK')}, 200 ${sent('200')}`;
  t.diagnostic(report);
  // The loss happened and was made up for: more requests went out than were needed.
  assert.ok(relay.counts.dropped > 0, report);
  assert.ok(sent('OPTIONS') > OPTIONS_COUNT, report);
  assert.ok(sent('BYE') + sent('INVITE') > 2 * CALLS, report);
  // An ACK may be lost for good when the BYE that follows it shows B the 2xx arrived (§15.1.1).
  assert.ok(acks > 0, report);
  // Every 2xx was acknowledged (or its dialog went on with a BYE): B resends none any more.
  assert.equal(b.endpoint.unacknowledged, 0);
});

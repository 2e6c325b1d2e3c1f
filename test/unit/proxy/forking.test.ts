/**
 * Forking and the response context (RFC 3261 §16.6, §16.7, §16.8, §16.10) at a real SipServer on
 * loopback: targets of one q in parallel, lower q after; the best final response (6xx, lowest
 * class, 503 as 500, 401/407 challenges merged); CANCEL fan-out; a 2xx or 6xx cancelling the
 * other branches; Timer C with a FakeClock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { createResponse, type SipRequest, type SipResponse } from '../../../src/message/index.js';
import type { Target } from '../../../src/transport/index.js';
import { createCancel } from '../../../src/ua/call/cancel.js';
import type { UasTransaction } from '../../../src/ua/uas-transaction.js';
import type { TestEndpoint } from '../../helpers/endpoints.js';
import { DOMAIN, harness, type Harness } from './harness.js';

const udp = (port: number): Target => ({ protocol: 'UDP', address: '127.0.0.1', port });

interface Phone {
  ep: TestEndpoint;
  invites: SipRequest[];
  cancels: number;
  acks: SipRequest[];
  /** The pending INVITE's transaction, for answering later. */
  pending: UasTransaction | undefined;
}

/** A UAS bound to `user@DOMAIN` with q; `answer` decides what it does with each INVITE. */
async function phone(h: Harness, user: string, q: number, answer: (req: SipRequest, tx: UasTransaction, p: Phone) => void): Promise<Phone> {
  const ep = await h.uas();
  const p: Phone = { ep, invites: [], cancels: 0, acks: [], pending: undefined };
  ep.endpoint.onRequest((req, tx) => {
    if (tx === undefined) {
      p.acks.push(req);
      return;
    }
    if (req.method === 'INVITE') {
      p.invites.push(req);
      p.pending = tx;
      answer(req, tx, p);
    } else tx.respond(createResponse(req, 200));
  });
  ep.endpoint.onCancel(() => {
    p.cancels++;
  });
  h.location.add(`sip:fork@${DOMAIN}`, `sip:${user}@127.0.0.1:${ep.target('UDP').port}`, { q });
  return p;
}

const ring = (req: SipRequest, tx: UasTransaction): void => {
  tx.respond(createResponse(req, 180));
};
const reply = (status: number, headers: Array<[string, string]> = []) => (req: SipRequest, tx: UasTransaction): void => {
  tx.respond(createResponse(req, status, { headers }));
};

async function invite(h: Harness, onProvisional?: (r: SipResponse, req: SipRequest) => void): Promise<SipResponse> {
  const req = h.request('INVITE', `sip:fork@${DOMAIN}`);
  return h.uac.endpoint.request(req, { target: udp(h.port()), ...(onProvisional === undefined ? {} : { onProvisional: (r: SipResponse) => onProvisional(r, req) }) });
}

test('targets of one q are tried in parallel, lower q only after they all failed (RFC 3261 §16.6 sequential forking by q)', async (t) => {
  const h = await harness(t);
  const order: string[] = [];
  let waiting: Array<() => void> = [];
  // The two q=1 phones answer 486 only once both have the INVITE: proof they got it in parallel.
  const both = (name: string) => (req: SipRequest, tx: UasTransaction): void => {
    order.push(name);
    waiting.push(() => tx.respond(createResponse(req, 486)));
    if (waiting.length === 2) {
      for (const w of waiting) w();
      waiting = [];
    }
  };
  await phone(h, 'u1', 1, both('u1'));
  await phone(h, 'u2', 1, both('u2'));
  const u3 = await phone(h, 'u3', 0.5, (req, tx) => {
    order.push('u3');
    tx.respond(createResponse(req, 480));
  });
  const r = await invite(h);
  assert.deepEqual(order.slice(0, 2).sort(), ['u1', 'u2']);
  assert.equal(order[2], 'u3');
  assert.equal(u3.invites.length, 1);
  // §16.7 step 6: all 4xx; the first received of the lowest class (486 from the q=1 group).
  assert.equal(r.status, 486);
});

test('the best response: 6xx over all, else the lowest class; a chosen 503 goes up as 500 (RFC 3261 §16.7 step 6)', async (t) => {
  const h = await harness(t);
  const a = await phone(h, 'a', 1, reply(503));
  const b = await phone(h, 'b', 1, reply(404));
  assert.equal((await invite(h)).status, 404);
  h.location.table.clear();
  h.location.add(`sip:fork@${DOMAIN}`, `sip:a@127.0.0.1:${a.ep.target('UDP').port}`);
  const only503 = await invite(h);
  assert.equal(only503.status, 500);
  void b;
});

test('401 and 407 from two branches: one goes up carrying both challenges (RFC 3261 §16.7 step 7)', async (t) => {
  const h = await harness(t);
  await phone(h, 'a', 1, reply(401, [['WWW-Authenticate', 'Digest realm="a.example.com", nonce="n1"']]));
  await phone(h, 'b', 1, reply(407, [['Proxy-Authenticate', 'Digest realm="b.example.com", nonce="n2"']]));
  const r = await invite(h);
  assert.equal(r.status, 401);
  assert.deepEqual(r.getAll('www-authenticate'), ['Digest realm="a.example.com", nonce="n1"']);
  assert.deepEqual(r.getAll('proxy-authenticate'), ['Digest realm="b.example.com", nonce="n2"']);
});

test('a CANCEL from upstream is answered 200, the INVITE 487, and every ringing branch is cancelled (RFC 3261 §16.10)', async (t) => {
  const h = await harness(t);
  const a = await phone(h, 'a', 1, ring);
  const b = await phone(h, 'b', 1, ring);
  let cancelStatus = 0;
  let rang = 0;
  const r = await invite(h, (resp, req) => {
    if (resp.status !== 180 || ++rang !== 2) return;
    h.uac.endpoint.request(createCancel(req), { target: udp(h.port()) }).then((c) => {
      cancelStatus = c.status;
    }, () => undefined);
  });
  assert.equal(r.status, 487);
  await until(() => a.cancels === 1 && b.cancels === 1 && cancelStatus === 200);
});

test('a 2xx on one branch cancels the others, and the ACK for it is routed through the server (RFC 3261 §16.7 step 10, §16.11)', async (t) => {
  const h = await harness(t);
  const a = await phone(h, 'a', 1, ring);
  let answerB: (() => void) | undefined;
  const b = await phone(h, 'b', 1, (req, tx) => {
    tx.respond(createResponse(req, 180));
    answerB = () => tx.respond(createResponse(req, 200, { headers: [['Record-Route', req.getAll('record-route').join(', ')]], body: 'v=0\r\n', contentType: 'application/sdp' }));
  });
  let rang = 0;
  const r = await invite(h, (resp) => {
    if (resp.status === 180 && ++rang === 2) answerB!();
  });
  assert.equal(r.status, 200);
  await until(() => a.cancels === 1);
  assert.equal(b.cancels, 0);
  await h.uac.endpoint.ack(r);
  await until(() => b.acks.length === 1);
  const ack = b.acks[0]!;
  assert.equal(ack.via.length, 2, 'the ACK came through the server');
  assert.equal(ack.has('route'), false);
});

test('a 6xx on one branch cancels the others and goes up (RFC 3261 §16.7 step 10)', async (t) => {
  const h = await harness(t);
  const a = await phone(h, 'a', 1, ring);
  let declineB: (() => void) | undefined;
  await phone(h, 'b', 1, (req, tx) => {
    tx.respond(createResponse(req, 180));
    declineB = () => tx.respond(createResponse(req, 603));
  });
  let rang = 0;
  const r = await invite(h, (resp) => {
    if (resp.status === 180 && ++rang === 2) declineB!();
  });
  assert.equal(r.status, 603);
  await until(() => a.cancels === 1);
});

test('Timer C: a branch ringing for 3 minutes is cancelled, and its 487 goes up (RFC 3261 §16.8)', async (t) => {
  const clock = new FakeClock();
  const h = await harness(t, { clock, server: { timerC: 180_000 } });
  const a = await phone(h, 'a', 1, ring);
  const r = await invite(h, (resp) => {
    if (resp.status === 180) setImmediate(() => clock.advance(180_000));
  });
  assert.equal(r.status, 487);
  assert.equal(a.cancels, 1);
  void h;
});

test('Timer C with no provisional: the branch ends as if a 408 came (RFC 3261 §16.8)', async (t) => {
  const clock = new FakeClock();
  const h = await harness(t, { clock, server: { timerC: 10_000, t1: 500 } });
  await phone(h, 'mute', 1, () => undefined);
  const pending = invite(h);
  // The INVITE reaches the mute phone, which never answers; then Timer C (10 s, before Timer B's 32 s).
  await until(() => clock.pending > 0 && h.server.stats.contexts === 1);
  await new Promise((r) => setTimeout(r, 20));
  clock.advance(10_000);
  const r = await pending;
  assert.equal(r.status, 408);
});

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition reached in time');
}

test('every 2xx of a forked INVITE goes upstream, one per answering branch (RFC 3261 §16.7 step 5)', async (t) => {
  const h = await harness(t);
  const answers: Array<() => void> = [];
  const both = (req: SipRequest, tx: UasTransaction): void => {
    answers.push(() => tx.respond(createResponse(req, 200, { body: 'v=0\r\n', contentType: 'application/sdp' })));
    // Both answer together, so neither is cancelled before it answers.
    if (answers.length === 2) for (const a of answers) a();
  };
  const a = await phone(h, 'a', 1, both);
  const b = await phone(h, 'b', 1, both);
  const oks: SipResponse[] = [];
  const req = h.request('INVITE', `sip:fork@${DOMAIN}`);
  const first = await h.uac.endpoint.request(req, { target: udp(h.port()), on2xx: (r) => oks.push(r) });
  assert.equal(first.status, 200);
  await until(() => new Set(oks.map((r) => r.toTag)).size === 2);
  for (const tag of new Set(oks.map((r) => r.toTag))) await h.uac.endpoint.ack(oks.find((r) => r.toTag === tag)!);
  await until(() => a.acks.length === 1 && b.acks.length === 1);
});

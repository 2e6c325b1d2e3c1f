/**
 * The transferor (a UserAgent) against a peer written here on a bare SipEndpoint, for what no
 * hookflash UA does by itself:
 * - a peer that does not allow REFER (405 with its Allow, RFC 3261 §21.4.6) or does not implement
 *   it (501, §21.5.2): the transfer resolves `rejected` with the status, and the call is left as it
 *   was: held when Alice held it (and resumable), not held when she did not;
 * - a peer that challenges the REFER (401, RFC 3261 §22.2), in the call's dialog and outside any
 *   dialog (`UserAgent.refer`, RFC 3515 §2.4.1): the REFER goes again with credentials and a
 *   higher CSeq, and the NOTIFYs that carry that CSeq as their Event id (RFC 3515 §2.4.6) settle it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RealClock } from '../../src/core/clock.js';
import { newTag } from '../../src/core/ids.js';
import { createChallenge, NonceIssuer, verifyCredentials } from '../../src/auth/digest.js';
import { createRequest, createResponse, formatAuth, formatSipfrag, SIPFRAG_TYPE, type SipRequest } from '../../src/message/index.js';
import { contactOf } from '../../src/dialog/index.js';
import { OfferAnswer } from '../../src/sdp/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import { UserAgent } from '../../src/ua/index.js';
import { assertSocketsBack, openSockets, startEndpoint, TrackingClock, type TestEndpoint } from '../helpers/endpoints.js';

const REALM = 'bob.example.com';
const PASSWORD = 'wonderland';
const BOB = 'sip:bob@bob.example.com';

type ReferMode = 405 | 501 | 'challenge';

interface Peer {
  /** Every request Bob received, in order: method, CSeq, status answered (0 for ACK), whether it carried credentials. */
  readonly seen: Array<{ method: string; seq: number; status: number; authorized: boolean }>;
  /** The NOTIFYs Bob sent and the status Alice answered each with. */
  readonly notified: Array<{ id: string; status: number }>;
}

/**
 * Bob: answers INVITEs (the first and re-INVITEs) with an SDP answer, BYE with 200; a REFER with
 * 405 or 501, or, challenging it first, 202 then NOTIFY 100 (active) and 200 (terminated) in the
 * REFER's dialog (the call's, or the one its 202 creates).
 */
function peer(b: TestEndpoint, mode: ReferMode): Peer {
  const nonces = new NonceIssuer({ clock: new RealClock() });
  const seen: Peer['seen'] = [];
  const notified: Peer['notified'] = [];
  const callTag = newTag();
  const port = b.endpoint.listeners[0]!.port;
  const contact = `<sip:bob@127.0.0.1:${port}>`;
  const offerAnswer = new OfferAnswer({ address: '127.0.0.1', media: [{ type: 'audio', port: 4000 }] });
  let notifySeq = 100;
  b.endpoint.onRequest((req: SipRequest, tx) => {
    const authorized = req.authorization.length > 0;
    if (tx === undefined) {
      seen.push({ method: req.method, seq: req.cseq.seq, status: 0, authorized });
      return;
    }
    const toTag = req.toTag ?? (req.method === 'INVITE' ? callTag : newTag());
    const answer = (status: number, headers: Array<[string, string]> = [], body?: string): void => {
      seen.push({ method: req.method, seq: req.cseq.seq, status, authorized });
      tx.respond(createResponse(req, status, { toTag, headers, ...(body === undefined ? {} : { body, contentType: 'application/sdp' }) }));
    };
    switch (req.method) {
      case 'INVITE':
        offerAnswer.setRemoteOffer(req.bodyText);
        answer(200, [['Contact', contact], ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS']], offerAnswer.createAnswer());
        return;
      case 'BYE':
        answer(200);
        return;
      case 'REFER': {
        if (mode === 405) {
          answer(405, [['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS']]);
          return;
        }
        if (mode === 501) {
          answer(501);
          return;
        }
        const credentials = req.authorization.find((c) => c.params.realm === REALM);
        const verdict = credentials === undefined ? undefined : verifyCredentials(credentials, { method: req.method, uri: req.uriText, realm: REALM, password: PASSWORD, nonces, nonceBind: REALM });
        if (verdict === undefined || !verdict.ok) {
          answer(401, [['WWW-Authenticate', formatAuth(createChallenge({ realm: REALM, nonce: nonces.issue(REALM), algorithm: 'SHA-256' }), 'challenge')]]);
          return;
        }
        answer(202, [['Contact', contact]]);
        // The NOTIFYs, in the REFER's dialog: Bob's tag (the call's, or the 202's) to Alice's.
        const send = async (status: number, reason: string, state: string): Promise<void> => {
          const notify = createRequest({
            method: 'NOTIFY',
            uri: contactOf(req)!.uri,
            from: `<sip:bob@bob.example.com>;tag=${toTag}`,
            to: req.get('from')!,
            callId: req.callId,
            cseq: notifySeq++,
            contact,
            headers: [['Event', `refer;id=${req.cseq.seq}`], ['Subscription-State', state]],
            body: formatSipfrag(status, reason),
            contentType: SIPFRAG_TYPE,
          });
          const response = await b.endpoint.request(notify);
          notified.push({ id: String(req.cseq.seq), status: response.status });
        };
        void (async () => {
          await send(100, 'Trying', 'active;expires=60');
          await send(200, 'OK', 'terminated;reason=noresource');
        })();
        return;
      }
      default:
        return false;
    }
  });
  return { seen, notified };
}

/** Waits (polling, bounded) until `done()`: Bob learns the answer to his last NOTIFY just after Alice settles. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(done(), 'condition not met in 2 s');
}

async function setup(t: TestContext, mode: ReferMode): Promise<{ alice: UserAgent; peer: Peer }> {
  const sockets = openSockets();
  const b = await startEndpoint({ protocols: ['UDP'] });
  const bob = peer(b, mode);
  const clock = new TrackingClock();
  const alice = await UserAgent.create({
    uri: 'sip:alice@atlanta.example.com',
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({ 'bob.example.com': [b.target('UDP')] }),
    credentials: { username: 'alice', password: PASSWORD },
    clock,
  });
  t.after(async () => {
    await alice.close();
    await b.close();
    assert.equal(alice.endpoint.transactions.size, 0, 'transactions left');
    assert.equal(clock.pending, 0, 'clock timers left');
    await assertSocketsBack(sockets);
  });
  return { alice, peer: bob };
}

for (const [status, reason, why] of [[405, 'Method Not Allowed', 'does not allow REFER'], [501, 'Not Implemented', 'does not implement REFER']] as const) {
  test(`REFER rejected with ${status} (RFC 5589 §6, RFC 3261 §21.${status === 405 ? '4.6' : '5.2'}): a peer that ${why}; the transfer resolves "rejected", the held call stays held and resumes`, async (t) => {
    const { alice, peer: bob } = await setup(t, status);
    const call = alice.call(BOB);
    assert.deepEqual(await call.established, { ok: true });
    assert.deepEqual(await call.hold(), { ok: true });
    const failed = call.next('transfer-failed');
    let progress = 0;
    call.on('transfer-progress', () => progress++);
    assert.deepEqual(await call.transfer('sip:carol@chicago.example.com'), { ok: false, outcome: 'rejected', status, reason });
    assert.deepEqual(await failed, { status, reason });
    assert.equal(progress, 0);
    // The call is exactly as it was: up, held by Alice; one REFER was sent, never again.
    assert.equal(call.state, 'answered');
    assert.equal(call.localHold, true);
    assert.deepEqual(bob.seen.filter((s) => s.method === 'REFER').map((s) => s.status), [status]);
    assert.deepEqual(await call.resume(), { ok: true });
    assert.equal(call.localHold, false);
    assert.deepEqual(await call.hangup(), { ok: true });
    assert.deepEqual(bob.seen.map((s) => `${s.method} ${s.status}`), ['INVITE 200', 'ACK 0', 'INVITE 200', 'ACK 0', `REFER ${status}`, 'INVITE 200', 'ACK 0', 'BYE 200']);
  });
}

test('REFER rejected with 405 on a call that was not held: the call is left not held and goes on (RFC 5589 §6)', async (t) => {
  const { alice, peer: bob } = await setup(t, 405);
  const call = alice.call(BOB);
  assert.deepEqual(await call.established, { ok: true });
  const outcome = await call.transfer('sip:carol@chicago.example.com');
  assert.equal(outcome.ok ? '' : outcome.outcome, 'rejected');
  assert.equal(call.state, 'answered');
  assert.equal(call.localHold, false);
  assert.deepEqual(await call.hold(), { ok: true });
  assert.deepEqual(await call.hangup(), { ok: true });
  assert.deepEqual(bob.seen.filter((s) => s.method !== 'ACK').map((s) => `${s.method} ${s.status}`), ['INVITE 200', 'REFER 405', 'INVITE 200', 'BYE 200']);
});

test('a REFER in the call challenged with 401 goes again with credentials and the dialog\'s next CSeq; the NOTIFYs carrying that CSeq as id settle it; Alice BYEs (RFC 3261 §22.2, RFC 3515 §2.4.6)', async (t) => {
  const { alice, peer: bob } = await setup(t, 'challenge');
  const call = alice.call(BOB);
  assert.deepEqual(await call.established, { ok: true });
  const progress: number[] = [];
  call.on('transfer-progress', ({ status }) => progress.push(status));
  assert.deepEqual(await call.transfer('sip:carol@chicago.example.com'), { ok: true, outcome: 'transferred' });
  assert.deepEqual(progress, [100, 200]);
  const refers = bob.seen.filter((s) => s.method === 'REFER');
  assert.deepEqual(refers.map((s) => [s.status, s.authorized]), [[401, false], [202, true]]);
  assert.equal(refers[1]!.seq, refers[0]!.seq + 1);
  await until(() => bob.notified.length === 2);
  assert.deepEqual(bob.notified, [{ id: String(refers[1]!.seq), status: 200 }, { id: String(refers[1]!.seq), status: 200 }]);
  assert.equal(call.endReason?.cause, 'local-bye');
  const bye = bob.seen.find((s) => s.method === 'BYE')!;
  assert.equal(bye.status, 200);
  assert.ok(bye.seq > refers[1]!.seq);
});

test('a REFER outside any dialog (UserAgent.refer, RFC 3515 §2.4.1) challenged with 401 goes again with credentials and CSeq 2; NOTIFYs with id 2 in the dialog its 202 made settle it "transferred" (RFC 3261 §22.2)', async (t) => {
  const { alice, peer: bob } = await setup(t, 'challenge');
  const progress: number[] = [];
  const outcome = await alice.refer(BOB, 'sip:carol@chicago.example.com', { onProgress: (f) => progress.push(f.status) });
  assert.deepEqual(outcome, { ok: true, outcome: 'transferred' });
  assert.deepEqual(progress, [100, 200]);
  assert.deepEqual(bob.seen.map((s) => [s.method, s.seq, s.status, s.authorized]), [['REFER', 1, 401, false], ['REFER', 2, 202, true]]);
  await until(() => bob.notified.length === 2);
  assert.deepEqual(bob.notified, [{ id: '2', status: 200 }, { id: '2', status: 200 }]);
});

test('a REFER outside any dialog whose challenge cannot be met (no credentials) resolves "rejected" with the 401', async (t) => {
  const sockets = openSockets();
  const b = await startEndpoint({ protocols: ['UDP'] });
  const bob = peer(b, 'challenge');
  const alice = await UserAgent.create({
    uri: 'sip:alice@atlanta.example.com',
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({ 'bob.example.com': [b.target('UDP')] }),
  });
  t.after(async () => {
    await alice.close();
    await b.close();
    await assertSocketsBack(sockets);
  });
  const outcome = await alice.refer(BOB, 'sip:carol@chicago.example.com');
  assert.deepEqual(outcome, { ok: false, outcome: 'rejected', status: 401, reason: 'Unauthorized' });
  assert.deepEqual(bob.seen.map((s) => s.status), [401]);
  assert.deepEqual(bob.notified, []);
});

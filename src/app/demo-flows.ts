/**
 * The steps of `hookflash demo`, the seed's story told with real calls, each with its checks:
 * 1. Alice and Bob register at their domain's proxy;
 * 2. Alice calls Bob through both proxies (INVITE, 100, 180, 200, ACK), media flows;
 * 3. Bob puts the call on hold (re-INVITE with a=sendonly, RFC 3264 §8.4);
 * 4. Bob takes it off hold (re-INVITE with a=sendrecv);
 * 5. Alice transfers Bob to Carol, blind (REFER with Refer-To and Referred-By, 202, NOTIFYs,
 *    Bob's INVITE to Carol, Alice's BYE: RFC 5589 §6);
 * 6. Carol hangs up;
 * 7. attended transfer: Alice calls Bob and holds, calls Carol (consultation), and transfers Bob to
 *    Carol with Replaces (RFC 5589 §7.1, RFC 3891): Bob's INVITE replaces Alice's call with Carol;
 * 8. (with --exit) Bob hangs up, and nothing is left.
 * A failed check throws DemoCheckError with what was expected.
 */
import type { Call, UserAgent } from '../index.js';
import type { CallStore, StoredMessage } from './capture-store.js';
import { header } from './capture-store.js';
import { BOB, CAROL, type DemoTopology } from './demo-topology.js';

export class DemoCheckError extends Error {
  override readonly name = 'DemoCheckError';
}

export interface DemoContext {
  topology: DemoTopology;
  store: CallStore;
  /** Calls carried from one step to the next. */
  calls: Map<string, Call>;
  /** Keep the last call up (the dashboard shows a live call) instead of hanging up. */
  keepLastCall: boolean;
}

export interface DemoStep {
  title: string;
  /** Runs the step; returns the lines that say what was checked. */
  run(ctx: DemoContext): Promise<string[]>;
}

const STEP_LIMIT_MS = 15_000;

function check(ok: boolean, what: string): void {
  if (!ok) throw new DemoCheckError(what);
}

/** Rejects with DemoCheckError when `p` takes longer than `ms`. */
export function within<T>(p: Promise<T>, what: string, ms = STEP_LIMIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DemoCheckError(`${what}: nothing after ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits (up to `ms`) until `test` is true. */
async function until(test: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

/** RTP flowed both ways on the call pair (when the demo has media). */
async function mediaFlows(ctx: DemoContext, a: Call, b: Call, who: string): Promise<string[]> {
  if (!ctx.topology.media) return [];
  const start = [a.stats()?.packetsReceived ?? 0, b.stats()?.packetsReceived ?? 0];
  const ok = await until(() => (a.stats()?.packetsReceived ?? 0) > start[0]! + 5 && (b.stats()?.packetsReceived ?? 0) > start[1]! + 5);
  const sa = a.stats();
  const sb = b.stats();
  check(ok, `${who}: RTP both ways (received ${sa?.packetsReceived ?? 0} and ${sb?.packetsReceived ?? 0} packets)`);
  return [`RTP both ways: ${sa?.codec ?? '?'}, ${sa?.packetsReceived ?? 0} and ${sb?.packetsReceived ?? 0} packets received, SRTP failures ${(sa?.srtpFailures ?? 0) + (sb?.srtpFailures ?? 0)}`];
}

function store(ctx: DemoContext, callId: string): StoredMessage[] {
  return ctx.store.get(callId)?.messages ?? [];
}

/** Waits for the store to have seen a message of the call matching `test` (captures publish after the write). */
async function seen(ctx: DemoContext, callId: string, what: string, test: (m: StoredMessage) => boolean): Promise<StoredMessage> {
  let found: StoredMessage | undefined;
  await until(() => (found = store(ctx, callId).find(test)) !== undefined);
  check(found !== undefined, `${what} seen in call ${callId}`);
  return found!;
}

async function callAndAnswer(from: UserAgent, to: UserAgent, target: string, who: string): Promise<{ a: Call; b: Call }> {
  const incoming = to.next('incoming');
  const a = from.call(target);
  const b = await within(incoming, `${who}: the INVITE reaches the callee`);
  const [outcome] = await within(Promise.all([a.established, b.answer()]), `${who}: the call is set up`);
  check(outcome.ok, `${who}: the call is answered (${outcome.ok ? '' : `${outcome.status} ${outcome.reason}`})`);
  check(a.state === 'answered' && b.state === 'answered', `${who}: both ends answered`);
  return { a, b };
}

const sdpHas = (m: StoredMessage, attribute: string): boolean => m.bytes.toString('utf8').includes(`\r\n${attribute}\r\n`);

export const DEMO_STEPS: readonly DemoStep[] = [
  {
    title: 'Alice registers at atlanta.example.com, Bob at biloxi.example.com (REGISTER over TLS)',
    async run(ctx) {
      const [a, b] = ctx.topology.registrations;
      const outcomes = await within(Promise.all([a!.register(), b!.register()]), 'registrations');
      outcomes.forEach((o, i) => check(o.ok, `${i === 0 ? 'alice' : 'bob'} registers (${o.ok ? '' : `${o.status ?? ''} ${o.reason ?? ''}`})`));
      const bindings = await ctx.topology.bindings();
      check(bindings.length === 2, `two bindings (found ${bindings.length})`);
      return bindings.map((x) => `${x.registrar}: ${x.aor} -> ${x.contact}`);
    },
  },
  {
    title: 'Alice calls Bob: alice -> atlanta -> biloxi -> bob (INVITE, 100, 180, 200, ACK)',
    async run(ctx) {
      const { alice, bob } = ctx.topology;
      const { a, b } = await callAndAnswer(alice, bob, BOB, 'alice calls bob');
      ctx.calls.set('a', a).set('b', b);
      await seen(ctx, a.id, 'the ACK at bob', (m) => m.label === 'ACK' && m.to === 'bob');
      const labels = store(ctx, a.id).map((m) => m.label);
      for (const l of ['INVITE', '180', '200', 'ACK']) check(labels.includes(l), `${l} in the call`);
      check(ctx.store.get(a.id)?.summary.state === 'talking', 'the dashboard shows the call talking');
      return [`Call-ID ${a.id}: ${labels.join(' ')}`, ...(await mediaFlows(ctx, a, b, 'alice-bob'))];
    },
  },
  {
    title: 'Bob holds the call (re-INVITE, a=sendonly)',
    async run(ctx) {
      const a = ctx.calls.get('a')!;
      const b = ctx.calls.get('b')!;
      const remoteHeld = a.next('remote-held');
      const outcome = await within(b.hold(), 'bob holds');
      check(outcome.ok, 'the hold re-INVITE is accepted');
      await within(remoteHeld, 'alice sees the hold');
      check(b.localHold && a.remoteHold, 'bob holds, alice is held');
      const reinvite = await seen(ctx, a.id, 're-INVITE marked hold', (m) => m.note === 'hold');
      check(sdpHas(reinvite, 'a=sendonly'), 'the re-INVITE offers a=sendonly');
      await until(() => ctx.store.get(a.id)?.summary.state === 'held');
      check(ctx.store.get(a.id)?.summary.state === 'held', 'the dashboard shows the call held');
      return ['re-INVITE with a=sendonly accepted; alice: remote-held'];
    },
  },
  {
    title: 'Bob takes the call off hold (re-INVITE, a=sendrecv)',
    async run(ctx) {
      const a = ctx.calls.get('a')!;
      const b = ctx.calls.get('b')!;
      const resumed = a.next('remote-resumed');
      const outcome = await within(b.resume(), 'bob resumes');
      check(outcome.ok, 'the resume re-INVITE is accepted');
      await within(resumed, 'alice sees the resume');
      check(!b.localHold && !a.remoteHold, 'nobody holds');
      const reinvite = await seen(ctx, a.id, 're-INVITE marked resume', (m) => m.note === 'resume');
      check(sdpHas(reinvite, 'a=sendrecv'), 'the re-INVITE offers a=sendrecv');
      await until(() => ctx.store.get(a.id)?.summary.state === 'talking');
      return ['re-INVITE with a=sendrecv accepted', ...(await mediaFlows(ctx, a, b, 'after resume'))];
    },
  },
  {
    title: 'Alice transfers Bob to Carol, blind (REFER, 202, NOTIFY, INVITE to carol, BYE)',
    async run(ctx) {
      const { bob, carol } = ctx.topology;
      const a = ctx.calls.get('a')!;
      const b = ctx.calls.get('b')!;
      const carolIncoming = carol.next('incoming');
      carolIncoming.then((c) => void c.answer(), () => undefined);
      const bobTransferred = b.next('transferred');
      const bEnded = b.ended;
      const outcome = await within(a.transfer(CAROL), 'the transfer');
      check(outcome.ok, `the transfer succeeds (${JSON.stringify(outcome)})`);
      const c = await within(carolIncoming, 'carol is called');
      const t = await within(bobTransferred, 'bob reports the transfer');
      await within(bEnded, 'alice ends the first call');
      const bc = bob.calls.find((x) => x.id === t.callId);
      check(bc !== undefined && bc.state === 'answered', 'bob talks to carol');
      const refer = await seen(ctx, a.id, 'the REFER', (m) => m.label === 'REFER');
      const text = refer.bytes.toString('utf8');
      check(header(text, 'refer-to', 'r') === `<${CAROL}>`, `Refer-To: <${CAROL}>`);
      check(/alice@atlanta\.example\.com/.test(header(text, 'referred-by', 'b') ?? ''), 'Referred-By names alice');
      await seen(ctx, a.id, 'the BYE', (m) => m.label === 'BYE');
      check(ctx.store.group(a.id).includes(c.id), 'the dashboard links the new call to the REFER\'s');
      ctx.calls.set('bc', bc!).set('c', c);
      return [
        `Refer-To: ${header(text, 'refer-to', 'r') ?? ''}`,
        `Referred-By: ${header(text, 'referred-by', 'b') ?? ''}`,
        `new call ${c.id}: bob -> carol`,
        ...(await mediaFlows(ctx, bc!, c, 'bob-carol')),
      ];
    },
  },
  {
    title: 'Carol hangs up (BYE)',
    async run(ctx) {
      const c = ctx.calls.get('c')!;
      const bc = ctx.calls.get('bc')!;
      const ended = bc.ended;
      const outcome = await within(c.hangup(), 'carol hangs up');
      check(outcome.ok, 'the BYE is answered 200');
      check((await within(ended, 'bob sees the BYE')).cause === 'remote-bye', 'bob: remote-bye');
      return ['the call is over'];
    },
  },
  {
    title: 'Attended transfer: Alice calls Bob and holds, consults Carol, then REFERs Bob to Carol with Replaces',
    async run(ctx) {
      const { alice, bob, carol } = ctx.topology;
      const first = await callAndAnswer(alice, bob, BOB, 'alice calls bob again');
      check((await within(first.a.hold(), 'alice holds bob')).ok, 'alice holds bob');
      const consult = await callAndAnswer(alice, carol, CAROL, 'alice consults carol');
      const bobTransferred = first.b.next('transferred');
      const carolReplaced = carol.next('replaced');
      const outcome = await within(first.a.transfer(consult.a), 'the attended transfer');
      check(outcome.ok, `the attended transfer succeeds (${JSON.stringify(outcome)})`);
      const { call: carolNew, replaced } = await within(carolReplaced, 'carol\'s call is replaced');
      check(replaced === consult.b, 'the INVITE replaced alice\'s call with carol');
      const t = await within(bobTransferred, 'bob reports the transfer');
      const bc = bob.calls.find((x) => x.id === t.callId);
      check(bc !== undefined && bc.state === 'answered' && carolNew.state === 'answered', 'bob talks to carol');
      const refer = await seen(ctx, first.a.id, 'the REFER', (m) => m.label === 'REFER');
      const referTo = header(refer.bytes.toString('utf8'), 'refer-to', 'r') ?? '';
      check(/Replaces=/i.test(referTo), 'the Refer-To carries Replaces');
      await seen(ctx, carolNew.id, 'the INVITE with Replaces', (m) => m.label === 'INVITE' && /\r\nReplaces:/i.test(m.bytes.toString('utf8')));
      await until(() => ctx.store.get(consult.a.id)?.summary.state === 'ended');
      const group = ctx.store.group(first.a.id);
      check(group.includes(consult.a.id) && group.includes(carolNew.id), 'the dashboard links the three calls');
      check(ctx.store.get(consult.a.id)?.summary.outcome === 'replaced', 'the consultation call ended replaced');
      ctx.calls.set('last-b', bc!).set('last-c', carolNew);
      return [
        `Refer-To: ${referTo}`,
        `bob's INVITE ${carolNew.id} replaced ${consult.a.id}`,
        ...(await mediaFlows(ctx, bc!, carolNew, 'bob-carol after the attended transfer')),
      ];
    },
  },
  {
    title: 'Bob hangs up; nothing is left',
    async run(ctx) {
      const bc = ctx.calls.get('last-b')!;
      const c = ctx.calls.get('last-c')!;
      if (ctx.keepLastCall) return ['(left up: bob and carol keep talking on the dashboard; Ctrl-C ends the demo)'];
      const ended = c.ended;
      check((await within(bc.hangup(), 'bob hangs up')).ok, 'the BYE is answered');
      await within(ended, 'carol sees the BYE');
      const { alice, bob, carol } = ctx.topology;
      check(alice.calls.length + bob.calls.length + carol.calls.length === 0, 'no call is left on any phone');
      const live = ctx.store.list().filter((s) => s.state !== 'ended');
      await until(() => ctx.store.list().every((s) => s.state === 'ended'));
      check(ctx.store.list().every((s) => s.state === 'ended'), `every call ended on the dashboard (${live.map((s) => s.callId).join(', ')})`);
      return [`${ctx.store.list().length} calls, all ended`];
    },
  },
];

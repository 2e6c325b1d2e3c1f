/**
 * Shared fixtures for the transaction layer's unit tests: an in-memory TransportLayer that records
 * what was sent (standing in for the network only here), a recording TransactionUser, and message
 * builders that go through bytes so every message is what a peer would really send.
 */
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/clock.js';
import { SipError } from '../../../src/core/errors.js';
import {
  createRequest, createResponse, parseMessage, SipRequest, SipResponse, type ResponseOptions,
} from '../../../src/message/index.js';
import type { Source, Target, TransportLayer, TransportProtocol, ViaSentBy } from '../../../src/transport/types.js';
import type { ClientTransaction, ClientTransactionListener } from '../../../src/transaction/client-transaction.js';
import type { InviteServerTransaction } from '../../../src/transaction/invite-server-transaction.js';
import type { ServerTransaction } from '../../../src/transaction/server-transaction.js';
import type { TransactionError } from '../../../src/transaction/transaction-error.js';
import { TransactionLayer, type TransactionLayerOptions, type TransactionUser } from '../../../src/transaction/transaction-layer.js';

export const T1 = 500;
export const T2 = 4000;
export const T4 = 5000;

export interface SentRecord {
  at: number;
  message: SipRequest | SipResponse;
  target?: Target;
  source?: Source;
  connectionId?: string;
}

/** The network, in memory: every send is recorded with the clock time; failures on demand. */
export class FakeTransport implements TransportLayer {
  readonly sent: SentRecord[] = [];
  failRequests = false;
  failResponses = false;
  constructor(private readonly clock: FakeClock) {}

  viaFor(target: Target): ViaSentBy {
    return { transport: target.protocol, host: '192.0.2.10', port: 5060 };
  }

  sendRequest(request: SipRequest, target: Target, connectionId?: string): Promise<void> {
    const record: SentRecord = { at: this.clock.now(), message: request, target };
    if (connectionId !== undefined) record.connectionId = connectionId;
    this.sent.push(record);
    return this.failRequests ? Promise.reject(new SipError('ERR_TRANSPORT', 'host unreachable')) : Promise.resolve();
  }

  sendResponse(response: SipResponse, source: Source): Promise<void> {
    this.sent.push({ at: this.clock.now(), message: response, source });
    return this.failResponses ? Promise.reject(new SipError('ERR_TRANSPORT', 'connection reset')) : Promise.resolve();
  }

  /** What went out, as a ladder: method names and status codes. */
  ladder(): string[] {
    return this.sent.map((s) => (s.message instanceof SipRequest ? s.message.method : String(s.message.status)));
  }

  /** Send times of the messages matching `label` (a method or a status code). */
  times(label: string): number[] {
    return this.sent.filter((s) => (s.message instanceof SipRequest ? s.message.method : String(s.message.status)) === label).map((s) => s.at);
  }

  requests(method: string): SipRequest[] {
    return this.sent.map((s) => s.message).filter((m): m is SipRequest => m instanceof SipRequest && m.method === method);
  }

  responses(): SipResponse[] {
    return this.sent.map((s) => s.message).filter((m): m is SipResponse => m instanceof SipResponse);
  }
}

/** A TransactionUser that records every upward call. `answer` runs inside onRequest when set. */
export class RecordingUser implements TransactionUser {
  readonly requests: Array<{ request: SipRequest; transaction: ServerTransaction }> = [];
  readonly acks: Array<{ ack: SipRequest; transaction: InviteServerTransaction | undefined }> = [];
  readonly strays: SipResponse[] = [];
  readonly errors: Array<{ transaction: ServerTransaction; error: TransactionError }> = [];
  readonly terminated: Array<ClientTransaction | ServerTransaction> = [];
  answer: ((request: SipRequest, transaction: ServerTransaction) => void) | undefined = undefined;

  onRequest(request: SipRequest, transaction: ServerTransaction): void {
    this.requests.push({ request, transaction });
    this.answer?.(request, transaction);
  }
  onAck(ack: SipRequest, _source: Source, transaction: InviteServerTransaction | undefined): void {
    this.acks.push({ ack, transaction });
  }
  onStrayResponse(response: SipResponse): void {
    this.strays.push(response);
  }
  onServerError(transaction: ServerTransaction, error: TransactionError): void {
    this.errors.push({ transaction, error });
  }
  onTransactionTerminated(transaction: ClientTransaction | ServerTransaction): void {
    this.terminated.push(transaction);
  }
}

/** A ClientTransactionListener that records responses and errors. */
export class RecordingListener implements ClientTransactionListener {
  readonly responses: SipResponse[] = [];
  readonly errors: TransactionError[] = [];
  onResponse(response: SipResponse): void {
    this.responses.push(response);
  }
  onError(error: TransactionError): void {
    this.errors.push(error);
  }
  /** Status codes received, in order. */
  get statuses(): number[] {
    return this.responses.map((r) => r.status);
  }
}

export interface Env {
  clock: FakeClock;
  transport: FakeTransport;
  user: RecordingUser;
  layer: TransactionLayer;
}

export function setup(options: Partial<TransactionLayerOptions> = {}): Env {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  const user = new RecordingUser();
  const layer = new TransactionLayer({ transport, user, clock, t1: T1, t2: T2, t4: T4, ...options });
  return { clock, transport, user, layer };
}

/** Asserts that every transaction ended on its own and no timer is left, then closes the layer. */
export function assertDrained(env: Env): void {
  assert.equal(env.layer.size, 0, 'no transaction left');
  assert.equal(env.layer.timerCount, 0, 'no transaction timer left');
  assert.equal(env.clock.pending, 0, 'no clock timer left');
  env.layer.close();
  assert.equal(env.clock.pending, 0);
}

/** Closes the layer and asserts nothing is left. */
export function closeAndCheck(env: Env): void {
  env.layer.close();
  assert.equal(env.layer.size, 0, 'no transaction left after close');
  assert.equal(env.clock.pending, 0, 'no clock timer left after close');
}

/** Lets rejected transport promises reach the transactions. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function target(protocol: TransportProtocol = 'UDP'): Target {
  return { protocol, address: '192.0.2.20', port: 5060 };
}

export function source(protocol: TransportProtocol = 'UDP', remoteAddress = '198.51.100.1'): Source {
  return { protocol, localAddress: '192.0.2.10', localPort: 5060, remoteAddress, remotePort: 5060 };
}

/** A message as it would arrive: serialized and parsed again. */
export function wire<M extends SipRequest | SipResponse>(message: M): M {
  return parseMessage(message.toBuffer()) as M;
}

/** A request the TU sends (no Via yet: the layer adds it). */
export function outgoing(method: string, options: { cseq?: number; route?: string[] } = {}): SipRequest {
  const init: Parameters<typeof createRequest>[0] = {
    method,
    uri: 'sip:bob@biloxi.example.com',
    from: 'Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
    to: 'Bob <sip:bob@biloxi.example.com>',
    callId: '3848276298220188511@atlanta.example.com',
    cseq: options.cseq ?? 1,
  };
  if (options.route !== undefined) init.route = options.route;
  return createRequest(init);
}

/** The peer's response to a request we sent, as it comes back over the wire. */
export function reply(sent: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  return wire(createResponse(wire(sent), status, status > 100 ? { toTag: 'bobtag1', ...options } : options));
}

export interface IncomingOptions {
  branch?: string;
  sentBy?: string;
  transport?: TransportProtocol;
  uri?: string;
  fromTag?: string;
  toTag?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
}

/** A request from a peer, as parsed from the wire. Defaults: an RFC 3261 branch over UDP. */
export function incoming(method: string, o: IncomingOptions = {}): SipRequest {
  const branch = o.branch === undefined ? 'z9hG4bK776asdhds' : o.branch;
  const lines = [
    `${method} ${o.uri ?? 'sip:bob@192.0.2.10'} SIP/2.0`,
    `Via: SIP/2.0/${o.transport ?? 'UDP'} ${o.sentBy ?? 'pc33.atlanta.example.com:5060'}${branch ? ';branch=' + branch : ''}`,
    'Max-Forwards: 70',
    `From: Alice <sip:alice@atlanta.example.com>;tag=${o.fromTag ?? '1928301774'}`,
    `To: Bob <sip:bob@biloxi.example.com>${o.toTag ? ';tag=' + o.toTag : ''}`,
    `Call-ID: ${o.callId ?? 'a84b4c76e66710@pc33.atlanta.example.com'}`,
    `CSeq: ${o.cseq ?? 314159} ${o.cseqMethod ?? method}`,
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(lines.join('\r\n')) as SipRequest;
}

/** The ACK a peer sends for our non-2xx final response (same branch, To from the response). */
export function ackFor(invite: SipRequest, response: SipResponse, o: IncomingOptions = {}): SipRequest {
  return incoming('ACK', {
    branch: invite.topVia!.params.branch ?? '',
    toTag: response.to.params.tag ?? '',
    cseq: invite.cseq.seq,
    ...o,
  });
}

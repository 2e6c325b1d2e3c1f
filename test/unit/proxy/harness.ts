/**
 * The proxy's rule tests run a real SipServer on loopback between real SipEndpoints: a UAC that
 * sends hand-built requests, and UASes that answer as each test says. The location service is a
 * table of the test's (the registrar is not under test here).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Clock } from '../../../src/core/clock.js';
import { createRequest, type SipRequest } from '../../../src/message/index.js';
import { SipServer, type SipServerOptions } from '../../../src/proxy/index.js';
import type { Binding, LocationService } from '../../../src/registrar/binding.js';
import type { TransportProtocol } from '../../../src/transport/index.js';
import { assertSocketsBack, openSockets, startEndpoint, TrackingClock, type StartOptions, type TestEndpoint } from '../../helpers/endpoints.js';

export const DOMAIN = 'example.com';

/** A LocationService from a table: AOR -> bindings (contact, q, path, flow). */
export class TableLocation implements LocationService {
  readonly table = new Map<string, Binding[]>();
  add(aor: string, contact: string, extra: Partial<Binding> = {}): this {
    const list = this.table.get(aor) ?? [];
    list.push({ aor, contact, expiresAt: Number.MAX_SAFE_INTEGER, q: 1, callId: 'c', cseq: 1, path: [], updatedAt: 0, ...extra });
    this.table.set(aor, list);
    return this;
  }
  async lookup(aor: string): Promise<Binding[]> {
    return this.table.get(aor) ?? [];
  }
}

export interface Harness {
  server: SipServer;
  location: TableLocation;
  port(protocol?: TransportProtocol): number;
  uac: TestEndpoint;
  /** Starts a UAS endpoint (closed after the test). */
  uas(options?: StartOptions): Promise<TestEndpoint>;
  /** A request from the UAC to `uri`, ready for `uac.endpoint.request(req, { target })`. */
  request(method: string, uri: string, headers?: Array<[string, string]>, extra?: { toTag?: string; body?: string; maxForwards?: number }): SipRequest;
}

export interface HarnessOptions {
  clock?: Clock;
  server?: Partial<SipServerOptions>;
  protocols?: TransportProtocol[];
}

export async function harness(t: TestContext, options: HarnessOptions = {}): Promise<Harness> {
  const sockets = openSockets();
  const location = new TableLocation();
  const protocols = options.protocols ?? ['UDP'];
  const clock = options.clock ?? new TrackingClock();
  const server = await SipServer.create({
    listeners: protocols.map((protocol) => ({ protocol, host: '127.0.0.1', port: 0 })),
    domains: [DOMAIN],
    location,
    clock,
    ...options.server,
  });
  const closers: Array<() => Promise<void>> = [];
  const uac = await startEndpoint({ protocols: ['UDP', 'TCP'] });
  closers.push(() => uac.close());
  t.after(async () => {
    for (const c of closers) await c();
    await server.close();
    assert.equal(server.transactions.size, 0);
    if (clock instanceof TrackingClock) assert.equal(clock.pending, 0, 'server timers left');
    await assertSocketsBack(sockets);
  });
  return {
    server,
    location,
    uac,
    port(protocol = 'UDP') {
      return server.listeners.find((l) => l.protocol === protocol)!.port;
    },
    async uas(o = {}) {
      const e = await startEndpoint(o);
      closers.push(() => e.close());
      return e;
    },
    request(method, uri, headers = [], extra = {}) {
      return createRequest({
        method,
        uri,
        from: `<sip:alice@${DOMAIN}>`,
        to: extra.toTag === undefined ? `<${uri}>` : `<${uri}>;tag=${extra.toTag}`,
        contact: `<sip:alice@127.0.0.1:${uac.target('UDP').port}>`,
        headers,
        ...(extra.maxForwards === undefined ? {} : { maxForwards: extra.maxForwards }),
        ...(extra.body === undefined ? {} : { body: extra.body, contentType: 'application/sdp' }),
      });
    },
  };
}

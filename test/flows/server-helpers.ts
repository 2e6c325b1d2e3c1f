/**
 * Helpers of the SipServer flow tests: a server on loopback with the real Registrar over a
 * MemoryBindingStore, and UserAgents that reach it through a StaticResolver entry for its domain,
 * registered; everything closed and checked after the test.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { SipServer, type SipServerOptions } from '../../src/proxy/index.js';
import { MemoryBindingStore, Registrar } from '../../src/registrar/index.js';
import { StaticResolver } from '../../src/transport/static-resolver.js';
import type { Target, TransportProtocol } from '../../src/transport/index.js';
import { Registration } from '../../src/ua/registration.js';
import { UserAgent, type UserAgentOptions } from '../../src/ua/index.js';
import { PCMU } from '../../src/sdp/index.js';
import { assertReleased, TrackingClock } from '../helpers/endpoints.js';

export interface TestServer {
  server: SipServer;
  store: MemoryBindingStore;
  clock: TrackingClock;
  /** The server's listener of `protocol` as a Target. */
  target(protocol: TransportProtocol): Target;
}

/** A SipServer on 127.0.0.1 (UDP and TCP by default) for `domain`, with the real Registrar. */
export async function startServer(t: TestContext, domain: string, extra: Partial<SipServerOptions> = {}): Promise<TestServer> {
  const store = new MemoryBindingStore();
  const clock = new TrackingClock();
  let server: SipServer | undefined;
  const registrar = new Registrar({
    store,
    clock,
    isLocalDomain: (host) => host.toLowerCase() === domain,
    pathFor: (source) => server?.registrarPathFor(source),
  });
  server = await SipServer.create({
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }, { protocol: 'TCP', host: '127.0.0.1', port: 0 }],
    domains: [domain],
    location: store,
    registrar,
    clock,
    ...extra,
  });
  const s = server;
  t.after(async () => {
    await s.close();
    assert.equal(s.transactions.size, 0, 'server transactions left');
    assert.equal(s.transactions.timerCount, 0, 'server timers left');
    assert.equal(s.transport.connections.size, 0, 'server connections left');
    assert.equal(clock.pending, 0, 'server clock timers left');
  });
  return {
    server: s,
    store,
    clock,
    target(protocol) {
      const l = s.listeners.find((x) => x.protocol === protocol);
      if (l === undefined) throw new Error(`no ${protocol} listener`);
      return { protocol, address: l.host, port: l.port };
    },
  };
}

export interface TestPhone {
  ua: UserAgent;
  clock: TrackingClock;
  registration: Registration;
}

/**
 * A UserAgent for `user@domain` on its own UDP (or `protocol`) port, whose requests for `domain`
 * go to the server, registered there.
 */
export async function startPhone(t: TestContext, s: TestServer, user: string, domain: string,
  options: { protocol?: TransportProtocol; ua?: Partial<UserAgentOptions>; password?: string; contact?: string; register?: boolean } = {}): Promise<TestPhone> {
  const protocol = options.protocol ?? 'UDP';
  const clock = new TrackingClock();
  const ua = await UserAgent.create({
    uri: `sip:${user}@${domain}`,
    listeners: [{ protocol, host: '127.0.0.1', port: 0 }],
    resolver: new StaticResolver({ [domain]: [s.target(protocol)] }),
    media: { address: '127.0.0.1', port: 40000, codecs: [PCMU] },
    clock,
    ...(options.password === undefined ? {} : { credentials: { username: user, password: options.password } }),
    ...options.ua,
  });
  const port = ua.endpoint.listeners[0]!.port;
  const transport = protocol === 'UDP' ? '' : `;transport=${protocol.toLowerCase()}`;
  const registration = new Registration(ua.endpoint, {
    aor: `sip:${user}@${domain}`,
    contacts: [options.contact ?? `<sip:${user}@127.0.0.1:${port}${transport}>`],
    expires: 300,
    clock,
    ...(options.password === undefined ? {} : { credentials: { username: user, password: options.password } }),
  });
  t.after(async () => {
    registration.close();
    await ua.close();
    assertReleased(ua.endpoint, clock);
  });
  if (options.register !== false) {
    const outcome = await registration.register();
    assert.equal(outcome.ok, true, `${user} registers: ${outcome.reason ?? ''}`);
  }
  return { ua, clock, registration };
}

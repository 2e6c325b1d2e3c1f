/**
 * The seed's topology, on loopback over TLS with real sockets, for `hookflash demo`:
 * - ss1, the proxy and registrar of atlanta.example.com, and ss2, biloxi.example.com's (SipServer);
 * - Alice (sips:alice@atlanta.example.com), registered at ss1, who sends everything to ss1;
 * - Bob (sips:bob@biloxi.example.com), registered at ss2, who sends everything to ss2;
 * - Carol (sips:carol@chicago.example.com), reached directly by the proxies (chicago has none).
 * Names are mapped to the loopback ports by StaticResolvers (no DNS); every element presents the
 * demo's certificate and checks its peers' names against it (RFC 5922). With real media each call
 * gets an RTP session (SRTP, keyed by SDES, as the calls are sips) sending a tone of its own.
 */
import {
  MediaEngine, MemoryBindingStore, PCMU, Registrar, Registration, SipServer, StaticResolver, ToneSource, UserAgent, WallClock,
  type Binding, type Target,
} from '../index.js';
import { makeDemoCertificates, type DemoCertificates } from './demo-certs.js';
import { engineMediaFactory } from './media-factory.js';

export const DEMO_NAMES = [
  'atlanta.example.com', 'biloxi.example.com', 'chicago.example.com',
  'client.atlanta.example.com', 'client.biloxi.example.com', 'client.chicago.example.com',
];

export const ALICE = 'sips:alice@atlanta.example.com';
export const BOB = 'sips:bob@biloxi.example.com';
export const CAROL = 'sips:carol@chicago.example.com';

/** One element of the demo: its name in the ladder and its listener. */
export interface DemoElement {
  name: string;
  port: number;
}

export interface DemoTopology {
  ss1: SipServer;
  ss2: SipServer;
  alice: UserAgent;
  bob: UserAgent;
  carol: UserAgent;
  /** Alice's and Bob's registrations (refreshed until close). */
  registrations: Registration[];
  /** Every element, in the ladder's column order. */
  elements: DemoElement[];
  /** Whether the calls carry RTP. */
  media: boolean;
  /** The bindings of both registrars (the dashboard's list). */
  bindings(): Promise<Array<Binding & { registrar: string }>>;
  close(): Promise<void>;
}

export interface DemoTopologyOptions {
  /** Real RTP for the calls (default true). */
  media?: boolean;
}

const tls = (port: number, serverName?: string): Target => ({ protocol: 'TLS', address: '127.0.0.1', port, ...(serverName === undefined ? {} : { serverName }) });

/** Starts everything, registers Alice and Bob; on failure closes what was opened and throws. */
export async function startDemoTopology(options: DemoTopologyOptions = {}): Promise<DemoTopology> {
  const certs: DemoCertificates = makeDemoCertificates(DEMO_NAMES);
  const closers: Array<() => Promise<void> | void> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // Closing goes on with the rest.
      }
    }
    certs.cleanup();
  };
  try {
    const identity = { cert: certs.cert, key: certs.key };
    const stores = { atlanta: new MemoryBindingStore(), biloxi: new MemoryBindingStore() };
    // Binding times in epoch ms, so the dashboard lists them against Date.now().
    const wall = new WallClock();
    const proxy = async (domain: 'atlanta' | 'biloxi', resolver: StaticResolver): Promise<SipServer> => {
      const name = `${domain}.example.com`;
      let server: SipServer | undefined;
      const registrar = new Registrar({ store: stores[domain], clock: wall, isLocalDomain: (h) => h.toLowerCase() === name, pathFor: (s) => server?.registrarPathFor(s) });
      server = await SipServer.create({
        listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, viaHost: name, tls: identity }],
        tls: { ca: certs.ca },
        domains: [name],
        location: stores[domain],
        registrar,
        resolver,
        bindingClock: wall,
      });
      const s = server;
      closers.push(() => s.close());
      return s;
    };
    const r1 = new StaticResolver({});
    const r2 = new StaticResolver({});
    const ss1 = await proxy('atlanta', r1);
    const ss2 = await proxy('biloxi', r2);
    const p1 = ss1.listeners[0]!.port;
    const p2 = ss2.listeners[0]!.port;

    const media = options.media !== false;
    const engine = media ? new MediaEngine({ portMin: 20000, portMax: 29999 }) : undefined;
    if (engine !== undefined) closers.push(() => engine.close());
    const phone = async (uri: string, host: string, resolver: StaticResolver, tone: number): Promise<UserAgent> => {
      const user = /^sips:([^@]+)@/.exec(uri)![1]!;
      const ua = await UserAgent.create({
        uri,
        displayName: user[0]!.toUpperCase() + user.slice(1),
        listeners: [{ protocol: 'TLS', host: '127.0.0.1', port: 0, viaHost: host, tls: identity }],
        tls: { ca: certs.ca },
        contact: `<sips:${user}@${host}>`,
        resolver,
        // Real media needs an address the RTP can be sent to: loopback, not the seed's names.
        media: { address: '127.0.0.1', port: 49170, codecs: [PCMU] },
        ...(engine === undefined ? {} : {
          mediaFactory: engineMediaFactory(engine),
          audioSource: () => new ToneSource({ frequency: tone, amplitude: 0.3 }),
        }),
      });
      closers.push(() => ua.close());
      return ua;
    };
    const alice = await phone(ALICE, 'client.atlanta.example.com', new StaticResolver({
      'atlanta.example.com': [tls(p1)],
      // Alice's outbound proxy is ss1: whatever she calls goes there first.
      'biloxi.example.com': [tls(p1, 'atlanta.example.com')],
      'chicago.example.com': [tls(p1, 'atlanta.example.com')],
    }), 440);
    const bob = await phone(BOB, 'client.biloxi.example.com', new StaticResolver({
      'biloxi.example.com': [tls(p2)],
      'atlanta.example.com': [tls(p2, 'biloxi.example.com')],
      'chicago.example.com': [tls(p2, 'biloxi.example.com')],
    }), 660);
    const carol = await phone(CAROL, 'client.chicago.example.com', new StaticResolver({
      'atlanta.example.com': [tls(p1)],
      'biloxi.example.com': [tls(p2)],
    }), 880);
    const pa = alice.endpoint.listeners[0]!.port;
    const pb = bob.endpoint.listeners[0]!.port;
    const pc = carol.endpoint.listeners[0]!.port;
    r1.set('biloxi.example.com', [tls(p2)]);
    r1.set('client.atlanta.example.com', [tls(pa)]);
    r1.set('chicago.example.com', [tls(pc)]);
    r1.set('client.chicago.example.com', [tls(pc)]);
    r2.set('atlanta.example.com', [tls(p1)]);
    r2.set('client.biloxi.example.com', [tls(pb)]);
    r2.set('chicago.example.com', [tls(pc)]);
    r2.set('client.chicago.example.com', [tls(pc)]);

    const registrations: Registration[] = [];
    for (const [ua, aor, host] of [[alice, ALICE, 'client.atlanta.example.com'], [bob, BOB, 'client.biloxi.example.com']] as const) {
      const user = /^sips:([^@]+)@/.exec(aor)![1]!;
      const reg = new Registration(ua.endpoint, { aor, contacts: [`<sips:${user}@${host}>`], expires: 300 });
      // Closed before the UAs (closers run in reverse): the unREGISTER goes out while the UA is up.
      closers.push(async () => {
        await reg.unregister().catch(() => undefined);
        reg.close();
      });
      registrations.push(reg);
    }
    return {
      ss1, ss2, alice, bob, carol, registrations, media,
      elements: [
        { name: 'alice', port: pa },
        { name: 'atlanta.example.com', port: p1 },
        { name: 'biloxi.example.com', port: p2 },
        { name: 'bob', port: pb },
        { name: 'carol', port: pc },
      ],
      bindings: async () => {
        const now = wall.now();
        const a = (await stores.atlanta.list(now)).map((b) => ({ ...b, registrar: 'atlanta.example.com' }));
        const b = (await stores.biloxi.list(now)).map((x) => ({ ...x, registrar: 'biloxi.example.com' }));
        return [...a, ...b];
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Helpers for tests that run SipEndpoints on real loopback sockets: a Clock that counts live
 * timers (so a test can assert none is left), listeners that share one port across UDP and TCP
 * (RFC 3261 §18.1.1 switches a large request to TCP on the same port), a capture of every message
 * in and out from node:diagnostics_channel, and the checks made after close().
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { RealClock, type Clock, type TimerHandle } from '../../src/core/clock.js';
import type { MessageInEvent, MessageOutEvent } from '../../src/transport/trace.js';
import type { ListenerConfig, TransportProtocol, Target } from '../../src/transport/index.js';
import type { TlsCredentials } from '../../src/transport/tls-config.js';
import { SipEndpoint, type SipEndpointOptions } from '../../src/ua/endpoint.js';

/** The real clock, counting the timers set through it that have neither fired nor been cleared. */
export class TrackingClock implements Clock {
  private readonly real = new RealClock();
  private readonly live = new Set<number>();
  now(): number {
    return this.real.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = this.real.setTimeout(() => {
      this.live.delete(handle.id);
      fn();
    }, ms);
    this.live.add(handle.id);
    return handle;
  }
  clearTimeout(handle: TimerHandle): void {
    this.live.delete(handle.id);
    this.real.clearTimeout(handle);
  }
  get pending(): number {
    return this.live.size;
  }
}

/** A port free on `host` for both TCP and UDP right now. */
export async function freeDualPort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, host, () => {
        const a = s.address();
        const p = typeof a === 'object' && a !== null ? a.port : 0;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      u.once('error', () => resolve(false));
      u.bind(port, host, () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no port free for both UDP and TCP');
}

export interface TestEndpoint {
  endpoint: SipEndpoint;
  clock: TrackingClock;
  /** The Target reaching this endpoint's listener of `protocol` (and family). */
  target(protocol: TransportProtocol, family?: 4 | 6, serverName?: string): Target;
  /** Closes the endpoint and asserts that nothing it owned is left: transactions, timers, sockets. */
  close(): Promise<void>;
}

export interface StartOptions extends Partial<Omit<SipEndpointOptions, 'listeners' | 'clock'>> {
  /** Listeners to open; UDP and TCP share one port. Default UDP and TCP. */
  protocols?: TransportProtocol[];
  host?: string;
  /** Certificate and key for TLS and WSS listeners. */
  credentials?: TlsCredentials;
  /** Sent-by to advertise in Via instead of the bound address and port (ListenerConfig viaHost/viaPort). */
  viaHost?: string;
  viaPort?: number;
}

/** Starts an endpoint on `host` (127.0.0.1), UDP and TCP on one port, TLS/WS/WSS on ports of their own. */
export async function startEndpoint(options: StartOptions = {}): Promise<TestEndpoint> {
  const { protocols = ['UDP', 'TCP'], host = '127.0.0.1', credentials, viaHost, viaPort, ...rest } = options;
  for (let attempt = 0; ; attempt++) {
    const shared = protocols.includes('UDP') && protocols.includes('TCP') ? await freeDualPort(host) : 0;
    const listeners: ListenerConfig[] = protocols.map((protocol) => {
      const port = protocol === 'UDP' || protocol === 'TCP' ? shared : 0;
      const config: ListenerConfig = { protocol, host, port, viaHost, viaPort };
      if (protocol === 'TLS' || protocol === 'WSS') config.tls = credentials;
      return config;
    });
    const clock = new TrackingClock();
    try {
      const endpoint = await SipEndpoint.create({ ...rest, listeners, clock });
      return wrap(endpoint, clock);
    } catch (e) {
      // Another process took the port between the probe and the bind: try another.
      if (attempt < 5 && /EADDRINUSE/.test(String(e instanceof Error ? e.message : e))) continue;
      throw e;
    }
  }
}

function wrap(endpoint: SipEndpoint, clock: TrackingClock): TestEndpoint {
  return {
    endpoint,
    clock,
    target(protocol, family = 4, serverName) {
      const l = endpoint.listeners.find((x) => x.protocol === protocol && x.family === family);
      if (l === undefined) throw new Error(`no ${protocol} IPv${family} listener`);
      const t: Target = { protocol, address: l.host, port: l.port };
      if (serverName !== undefined) t.serverName = serverName;
      return t;
    },
    async close() {
      await endpoint.close();
      assertReleased(endpoint, clock);
    },
  };
}

/** Nothing an endpoint owned is left after close(): no transaction, no timer, no connection, no 2xx in retransmission. */
export function assertReleased(endpoint: SipEndpoint, clock: TrackingClock): void {
  assert.equal(endpoint.transactions.size, 0, 'transactions left');
  assert.equal(endpoint.transactions.timerCount, 0, 'transaction timers left');
  assert.equal(endpoint.transport.connections.size, 0, 'connections left');
  assert.equal(endpoint.unacknowledged, 0, '2xx retransmissions left');
  assert.equal(clock.pending, 0, 'clock timers left');
}

/** Socket handles open in this process (UDP, TCP, TLS, servers): compared before and after a test. */
export function openSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => /^(UDPWrap|TCPWrap|TCPSocketWrap|TCPServerWrap|TLSWrap|PipeWrap)$/.test(r)).length;
}

/**
 * Asserts that the process holds no more socket handles than `baseline`. A closed handle leaves
 * the list only after its close callback has run on a later turn of the event loop, so this
 * polls for up to a second before failing.
 */
export async function assertSocketsBack(baseline: number): Promise<void> {
  const end = Date.now() + 1000;
  while (openSockets() > baseline && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(openSockets() <= baseline, `sockets left open: ${process.getActiveResourcesInfo().join(', ')}`);
}

/** One message seen by a transport, from `hookflash:message:in` / `:out`. */
export interface Captured {
  direction: 'in' | 'out';
  /** Method, or status code as text. */
  label: string;
  protocol: TransportProtocol;
  connectionId: string | undefined;
  /** In: the local port it arrived on; out: the remote port it went to. */
  port: number;
  callId: string;
  text: string;
}

/** Every message in and out of every transport layer in this process while it runs. */
export class MessageCapture {
  readonly messages: Captured[] = [];
  private readonly onIn = (m: unknown): void => {
    const e = m as MessageInEvent;
    this.add('in', e.message, e.source.protocol, e.source.connectionId, e.source.localPort);
  };
  private readonly onOut = (m: unknown): void => {
    const e = m as MessageOutEvent;
    this.add('out', e.message, e.protocol, e.connectionId, e.port);
  };

  constructor() {
    subscribe('hookflash:message:in', this.onIn);
    subscribe('hookflash:message:out', this.onOut);
  }

  /** Labels of the messages received, in order (each message once, as its receiver saw it). */
  ladder(filter: (c: Captured) => boolean = () => true): string[] {
    return this.messages.filter((c) => c.direction === 'in' && filter(c)).map((c) => c.label);
  }

  stop(): void {
    unsubscribe('hookflash:message:in', this.onIn);
    unsubscribe('hookflash:message:out', this.onOut);
  }

  /** Writes the capture as text (for a failing test's artifacts). */
  save(file: string): void {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, this.messages.map((c) => `---- ${c.direction} ${c.protocol} ${c.connectionId ?? ''} port ${c.port}\n${c.text}`).join('\n'));
  }

  private add(direction: 'in' | 'out', message: MessageInEvent['message'], protocol: TransportProtocol, connectionId: string | undefined, port: number): void {
    let callId = '';
    try {
      callId = message.callId;
    } catch {
      // A message with an unreadable Call-ID is still captured.
    }
    this.messages.push({
      direction,
      label: message.isRequest ? message.method : String(message.status),
      protocol,
      connectionId,
      port,
      callId,
      text: message.toString(),
    });
  }
}

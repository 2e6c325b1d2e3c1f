/**
 * Port 0 for a UDP and a TCP listener on one host means one free port for both: RFC 3261 §18.1.1
 * sends a request too large for UDP over TCP to the port its UDP target had, so the two must match.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { ListenerConfig } from '../index.js';

/** A copy of `listeners` with each UDP+TCP pair asking for port 0 on one host given one free port. */
export async function shareFreePorts(listeners: readonly ListenerConfig[]): Promise<ListenerConfig[]> {
  const out = listeners.map((l) => ({ ...l }));
  for (const udp of out) {
    if (udp.protocol !== 'UDP' || udp.port !== 0) continue;
    const tcp = out.find((l) => l.protocol === 'TCP' && l.port === 0 && l.host === udp.host);
    if (tcp === undefined) continue;
    const port = await freeOnBoth(udp.host);
    udp.port = port;
    tcp.port = port;
  }
  return out;
}

async function freeOnBoth(host: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, host, () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
      });
    });
    const free = await new Promise<boolean>((resolve) => {
      const u = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      u.once('error', () => resolve(false));
      u.bind(port, host, () => u.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no port free for both UDP and TCP on ${host}`);
}

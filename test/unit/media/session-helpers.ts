/** Helpers for media tests on real loopback sockets: SDP for a stream, pumping a FakeClock, waiting for counts. */
import { createSocket, type Socket } from 'node:dgram';
import type { FakeClock } from '../../../src/core/clock.js';
import { parseSdp } from '../../../src/sdp/session-description.js';
import type { SessionDescription } from '../../../src/sdp/sdp-types.js';
import { looksLikeRtcp } from '../../../src/media/rtcp-packet.js';

export interface SdpOptions {
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  formats?: string;
  rtcpMux?: boolean;
  crypto?: string;
  address?: string;
}

/** A one-stream audio description, parsed. */
export function audioSdp(port: number, o: SdpOptions = {}): SessionDescription {
  const address = o.address ?? '127.0.0.1';
  const lines = [
    'v=0', `o=- 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0',
    `m=audio ${port} ${o.crypto !== undefined ? 'RTP/SAVP' : 'RTP/AVP'} ${o.formats ?? '0 8 101'}`,
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
    `a=${o.direction ?? 'sendrecv'}`,
  ];
  if (o.rtcpMux === true) lines.push('a=rtcp-mux');
  if (o.crypto !== undefined) lines.push(`a=crypto:${o.crypto}`);
  return parseSdp(`${lines.join('\r\n')}\r\n`);
}

/** Resolves when `cond()` holds, polling on the event loop; rejects after `ms` of real time. */
export async function waitFor(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Lets datagrams in flight arrive (a few turns of the event loop with a short real pause). */
export async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 15));
}

/**
 * Advances the clock `ticks` × 20 ms; after each step waits until `delivered()` reaches the
 * expected value (the packets sent in that step have arrived).
 */
export async function pump(clock: FakeClock, ticks: number, delivered?: () => number, perTick = 1): Promise<void> {
  for (let i = 0; i < ticks; i++) {
    const before = delivered?.() ?? 0;
    clock.advance(20);
    if (delivered !== undefined) await waitFor(() => delivered() >= before + perTick, 2000, `packet ${i}`);
  }
}

/**
 * A relay between two RTP endpoints using rtcp-mux: A sends to the relay, which forwards to B;
 * what B sends back (to the relay, by symmetric RTP) goes on to A. Every `dropEvery`-th RTP packet
 * from A is dropped; RTCP always passes.
 */
export class DropRelay {
  readonly socket: Socket;
  dropped = 0;
  forwarded = 0;
  private a: { address: string; port: number } | undefined;
  private rtpCount = 0;
  private constructor(socket: Socket, private readonly b: { address: string; port: number }, private readonly dropEvery: number) {
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      const fromB = rinfo.port === b.port && rinfo.address === b.address;
      if (!fromB) {
        this.a = { address: rinfo.address, port: rinfo.port };
        if (!looksLikeRtcp(msg) && ++this.rtpCount % this.dropEvery === 0) {
          this.dropped++;
          return;
        }
        this.forwarded++;
        socket.send(msg, b.port, b.address);
      } else if (this.a !== undefined) {
        socket.send(msg, this.a.port, this.a.address);
      }
    });
  }
  get port(): number {
    return this.socket.address().port;
  }
  static start(b: { address: string; port: number }, dropEvery: number): Promise<DropRelay> {
    return new Promise((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => resolve(new DropRelay(s, b, dropEvery)));
    });
  }
  close(): void {
    this.socket.close();
  }
}

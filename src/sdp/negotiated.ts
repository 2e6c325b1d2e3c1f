/**
 * The outcome of an offer/answer exchange, stream by stream, in the terms media code needs: where
 * to send, from which port, with which formats, and in which direction (RFC 3264 §6.1, §8.4).
 */
import { intersect, reverse, type Direction } from './direction.js';
import { connectionOf, effectiveDirection } from './session-description.js';
import type { SessionDescription } from './sdp-types.js';

export interface NegotiatedStream {
  readonly index: number;
  readonly type: string;
  /** False when either side set port 0: the stream carries nothing (RFC 3264 §6). */
  readonly active: boolean;
  readonly localPort: number;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number;
  /**
   * Our direction on the stream: what we said, narrowed by what the peer said (reversed to our
   * point of view). `inactive` when the stream is not active.
   */
  readonly direction: Direction;
  /** Formats both sides listed, in the peer's order: the first is what to send (RFC 3264 §6.1). */
  readonly formats: readonly string[];
}

/** Pairs our description with the peer's, m= line by m= line (RFC 3264 §6: same count and order). */
export function negotiatedStreams(local: SessionDescription, remote: SessionDescription): NegotiatedStream[] {
  return local.media.map((m, i) => {
    const r = remote.media[i];
    const active = r !== undefined && m.port !== 0 && r.port !== 0;
    return {
      index: i,
      type: m.type,
      active,
      localPort: m.port,
      remoteAddress: r === undefined ? undefined : connectionOf(remote, i)?.address,
      remotePort: r?.port ?? 0,
      direction: active ? intersect(effectiveDirection(local, i), reverse(effectiveDirection(remote, i))) : 'inactive',
      formats: r === undefined ? [] : r.formats.filter((f) => m.formats.includes(f)),
    };
  });
}

/**
 * From negotiated SDP to what an RTP session needs (RFC 3264 §6.1, RFC 3551, RFC 4733, RFC 5761,
 * RFC 4568): where to send, which payload type, which direction, RTCP port or mux, SRTP keys.
 */
import { negotiatedStreams } from '../sdp/negotiated.js';
import { rtpmapFor } from '../sdp/codecs.js';
import type { Direction } from '../sdp/direction.js';
import type { MediaDescription, SessionDescription } from '../sdp/sdp-types.js';
import { audioCodecFor } from './g711.js';
import { parseCryptoAttribute, type CryptoAttribute } from './sdes-crypto.js';

/** Everything an `RtpSession` needs for one negotiated audio stream. */
export interface MediaStreamParams {
  /** Our direction on the stream (already narrowed by the peer's). */
  readonly direction: Direction;
  readonly remoteAddress?: string;
  readonly remotePort: number;
  /** Where RTCP goes: the a=rtcp port, else RTP port + 1 (RFC 3550 §11); ignored with rtcp-mux. */
  readonly remoteRtcpPort?: number;
  /** Both sides said a=rtcp-mux (RFC 5761 §5.1.1). */
  readonly rtcpMux?: boolean;
  /** The payload type to send audio with, as the peer numbered it, and its codec. */
  readonly payloadType: number;
  readonly codec: 'PCMU' | 'PCMA';
  /** The peer's telephone-event payload type (RFC 4733 §2.5.1.1), if both sides listed it. */
  readonly telephoneEventPayloadType?: number;
  /** Our own telephone-event number, which a peer may use when sending to us. */
  readonly localTelephoneEventPayloadType?: number;
  /** SRTP keys (RFC 4568): ours protects what we send, the peer's unprotects what arrives. */
  readonly srtp?: { readonly local: CryptoAttribute; readonly remote: CryptoAttribute };
}

export type MediaParamsResult =
  | { readonly ok: true; readonly params: MediaStreamParams }
  | { readonly ok: false; readonly reason: 'no-audio-stream' | 'no-common-codec' | 'srtp-keys-missing' };

interface SdpTransformCrypto { id?: number; suite?: string; config?: string }

/** The a=crypto lines of a media section, as sdp-transform keeps them in `other.crypto`. */
export function cryptoAttributesOf(m: MediaDescription): CryptoAttribute[] {
  const list = m.other['crypto'];
  if (!Array.isArray(list)) return [];
  const out: CryptoAttribute[] = [];
  for (const c of list as SdpTransformCrypto[]) {
    const parsed = parseCryptoAttribute(`${c.id ?? ''} ${c.suite ?? ''} ${c.config ?? ''}`);
    if (parsed !== undefined) out.push(parsed);
  }
  return out;
}

/** The sdp-transform shape of an a=crypto line, to put in a media section's `other.crypto`. */
export function cryptoSdpEntry(c: CryptoAttribute): { id: number; suite: string; config: string } {
  return { id: c.tag, suite: c.suite, config: `inline:${Buffer.concat([c.masterKey, c.masterSalt]).toString('base64')}` };
}

/**
 * The parameters for the first audio stream (or `index`) of a negotiated session. The first common
 * G.711 format in the peer's order is sent (RFC 3264 §6.1), under the peer's payload type number.
 */
export function mediaParamsFromSdp(local: SessionDescription, remote: SessionDescription, index?: number): MediaParamsResult {
  const streams = negotiatedStreams(local, remote);
  const stream = index === undefined ? streams.find((s) => s.type === 'audio') : streams[index];
  if (stream === undefined) return { ok: false, reason: 'no-audio-stream' };
  const lm = local.media[stream.index]!;
  const rm = remote.media[stream.index];
  if (rm === undefined) return { ok: false, reason: 'no-audio-stream' };
  // Formats are matched by encoding, not number: a peer may number a dynamic format differently
  // (RFC 3264 §6.1 only recommends the same mapping). We send with the peer's numbers, and accept
  // either number on receipt.
  const localEncodings = lm.formats.map((f) => rtpmapFor(lm, f)).filter((m) => m !== undefined);
  const hasLocal = (encoding: string) => localEncodings.some((m) => m.encoding.toLowerCase() === encoding.toLowerCase() && m.clockRate === 8000);
  let audio: { pt: number; codec: 'PCMU' | 'PCMA' } | undefined;
  let te: number | undefined;
  for (const f of rm.formats) {
    const map = rtpmapFor(rm, f);
    if (map === undefined || map.clockRate !== 8000 || !hasLocal(map.encoding)) continue;
    const codec = audioCodecFor(map.encoding);
    if (codec !== undefined && audio === undefined) audio = { pt: map.payloadType, codec: codec.name };
    if (map.encoding.toLowerCase() === 'telephone-event' && te === undefined) te = map.payloadType;
  }
  const localTe = localEncodings.find((m) => m.encoding.toLowerCase() === 'telephone-event')?.payloadType;
  if (audio === undefined) return { ok: false, reason: 'no-common-codec' };
  const rtcpMux = lm.other['rtcpMux'] !== undefined && rm.other['rtcpMux'] !== undefined;
  const rtcpAttr = rm.other['rtcp'] as { port?: number } | undefined;
  let srtp: MediaStreamParams['srtp'];
  if (/SAVP/.test(rm.protocol) || /SAVP/.test(lm.protocol)) {
    const remoteKeys = cryptoAttributesOf(rm);
    const localKeys = cryptoAttributesOf(lm);
    // RFC 4568 §7.1.2: the answer holds one a=crypto, with the tag of the offered line it accepts.
    const pair = localKeys.map((l) => ({ l, r: remoteKeys.find((r) => r.tag === l.tag && r.suite === l.suite) })).find((p) => p.r !== undefined);
    if (pair === undefined || pair.r === undefined) return { ok: false, reason: 'srtp-keys-missing' };
    srtp = { local: pair.l, remote: pair.r };
  }
  return {
    ok: true,
    params: {
      direction: stream.active ? stream.direction : 'inactive',
      ...(stream.remoteAddress !== undefined ? { remoteAddress: stream.remoteAddress } : {}),
      remotePort: stream.remotePort,
      remoteRtcpPort: typeof rtcpAttr?.port === 'number' ? rtcpAttr.port : stream.remotePort + 1,
      rtcpMux,
      payloadType: audio.pt,
      codec: audio.codec,
      ...(te !== undefined ? { telephoneEventPayloadType: te } : {}),
      ...(te !== undefined && localTe !== undefined ? { localTelephoneEventPayloadType: localTe } : {}),
      ...(srtp !== undefined ? { srtp } : {}),
    },
  };
}

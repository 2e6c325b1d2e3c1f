/**
 * The typed view of a session description (RFC 8866 §5): the fields offer/answer and hold decide
 * on, typed; everything else carried along untouched in `other`.
 *
 * Values are plain immutable data: a change is a new object (`withDirection`, `withOrigin`...),
 * so a description kept for rollback can never be altered behind the state machine's back.
 */
import type { Direction } from './direction.js';

/** `o=` (RFC 8866 §5.2): who made the description, which session it is, and which version. */
export interface Origin {
  readonly username: string;
  /** Decimal digits, kept as text: it is an identifier, and may use all 64 bits (RFC 3264 §5). */
  readonly sessionId: string;
  /** RFC 3264 §8: increases by one with each changed description; 64-bit, hence bigint. */
  readonly sessionVersion: bigint;
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
}

/** `c=` (RFC 8866 §5.7), unicast only: where the media for a stream is to be sent. */
export interface Connection {
  readonly netType: 'IN';
  readonly addrType: 'IP4' | 'IP6';
  /** An IP address or a host name (RFC 8866 §5.7 allows an FQDN, as the RFC 3665 flows use). */
  readonly address: string;
}

/** `t=` (RFC 8866 §5.9). SIP sessions use `0 0`: unbounded (RFC 3264 §5). */
export interface Timing {
  readonly start: number;
  readonly stop: number;
}

/** `a=rtpmap` (RFC 8866 §6.6): what an RTP payload type number means. */
export interface RtpMap {
  readonly payloadType: number;
  /** The encoding name as written (`PCMU`, `telephone-event`); compare case-insensitively (RFC 4855 §3). */
  readonly encoding: string;
  readonly clockRate: number;
  /** Encoding parameters: the channel count for audio (RFC 8866 §6.6); absent means 1. */
  readonly channels?: number;
}

/** `a=fmtp` (RFC 8866 §6.15): format-specific parameters, kept as written. */
export interface Fmtp {
  readonly format: string;
  readonly parameters: string;
}

/**
 * Lines and attributes this view does not model (ICE, DTLS, SRTP, bandwidth, unknown
 * attributes...), as sdp-transform parsed them. Written back unchanged by `serializeSdp`.
 */
export type SdpExtras = { readonly [key: string]: unknown };

/** One `m=` section (RFC 8866 §5.14) with the attributes offer/answer needs. */
export interface MediaDescription {
  /** `audio`, `video`, `image`... */
  readonly type: string;
  /** 0 means the stream is rejected or disabled (RFC 3264 §5.1, §6, §8.2). */
  readonly port: number;
  /** `RTP/AVP`, `RTP/SAVP`, `udptl`... */
  readonly protocol: string;
  /** The `<fmt>` list in order of preference (RFC 3264 §5.1): payload type numbers for RTP. */
  readonly formats: readonly string[];
  readonly rtpmap: readonly RtpMap[];
  readonly fmtp: readonly Fmtp[];
  /** This section's `c=`; absent means the session-level one applies (RFC 8866 §5.7). */
  readonly connection?: Connection;
  /** This section's direction attribute as written; absent means the session level's, then sendrecv. */
  readonly direction?: Direction;
  readonly other: SdpExtras;
}

/** A whole session description (RFC 8866 §5). `v=` is always 0 and is not stored. */
export interface SessionDescription {
  readonly origin: Origin;
  /** `s=`, kept as written (RFC 8866 §5.3; an empty one from an old peer is kept empty). */
  readonly name: string;
  readonly timing: Timing;
  /** The session-level `c=`, the default for every section without its own. */
  readonly connection?: Connection;
  /** The session-level direction attribute, the default for every section without its own. */
  readonly direction?: Direction;
  readonly media: readonly MediaDescription[];
  readonly other: SdpExtras;
}

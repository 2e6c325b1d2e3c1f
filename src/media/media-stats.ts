/** Per-session statistics (issue 7): what a call's media did, each way, and what it sounded like. */
import type { Direction } from '../sdp/direction.js';

export interface MediaStats {
  readonly direction: Direction;
  readonly codec: string;
  readonly localPort: number;
  /** Where RTP goes now (after symmetric latching), `address:port`, or undefined. */
  readonly remote: string | undefined;
  readonly packetsSent: number;
  /** RTP payload octets sent (RFC 3550 §6.4.1 sender's octet count). */
  readonly bytesSent: number;
  readonly packetsReceived: number;
  readonly bytesReceived: number;
  /** Valid RTP that arrived while our direction says not to receive (sendonly, inactive): dropped. */
  readonly packetsIgnored: number;
  /** Datagrams that were not valid RTP/RTCP, or an unknown payload type: counted, never thrown. */
  readonly malformed: number;
  /** SRTP/SRTCP packets that failed authentication or replay checks. */
  readonly srtpFailures: number;
  /** Cumulative packets lost from the peer (RFC 3550 A.3). */
  readonly packetsLost: number;
  /** Lost ÷ expected over the session, 0..1. */
  readonly lossRatio: number;
  /** Fraction lost in the last RTCP interval as we measured it, 0..1. */
  readonly fractionLost: number;
  /** Interarrival jitter of what we receive, ms (RFC 3550 A.8). */
  readonly jitterMs: number;
  /** What the peer reported about our stream in its last RR/SR block. */
  readonly remoteReport?: { readonly fractionLost: number; readonly packetsLost: number; readonly jitterMs: number };
  /** Round-trip time from LSR/DLSR (RFC 3550 §6.4.1), ms. */
  readonly rttMs?: number;
  /** E-model MOS estimate (ITU-T G.107), 1..4.5. */
  readonly mos: number;
  readonly rtcpSent: number;
  readonly rtcpReceived: number;
  readonly dtmfSent: number;
  readonly dtmfReceived: number;
  /** Smoothed deviation of our send interval from the packetisation time, ms (|D| filtered as A.8). */
  readonly sendJitterMs: number;
  /** Largest deviation of one send interval from the packetisation time, ms. */
  readonly maxSendDeviationMs: number;
}

/**
 * SRTP and SRTCP (RFC 3711) for AES_CM_128_HMAC_SHA1_80 (and _32): protect and unprotect, with
 * the rollover counter (§3.3.1, Appendix A), a 64-packet replay window (§3.3.2) and SRTCP indexes
 * (§3.4). Unprotecting never throws: a packet that fails comes back as `{ ok: false, reason }`.
 */
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { deriveSessionKeys, packetIv, type SessionKeys } from './srtp-kdf.js';
import { rtpHeaderLength } from './rtp-packet.js';

export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export type SrtpFailure = 'too-short' | 'auth-failed' | 'replayed' | 'too-old';
export type SrtpResult = { readonly ok: true; readonly packet: Buffer } | { readonly ok: false; readonly reason: SrtpFailure };

const REPLAY_WINDOW = 64;
const SRTCP_TAG = 10; // RFC 3711 §5.2 / RFC 4568 §6.2.1: SRTCP always uses the 80-bit tag

function xorInPlace(data: Buffer, start: number, key: Buffer, salt: Buffer, ssrc: number, index: number): void {
  const c = createCipheriv('aes-128-ctr', key, packetIv(salt, ssrc, index));
  const body = data.subarray(start);
  const ks = c.update(body);
  ks.copy(data, start);
}

function hmac(key: Buffer, parts: readonly Buffer[], length: number): Buffer {
  const h = createHmac('sha1', key);
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, length);
}

/** Replay state of one source (§3.3.2): the highest index seen and a bitmask of the 64 before it. */
class ReplayWindow {
  private highest = -1;
  private mask = 0n;
  check(index: number): SrtpFailure | undefined {
    if (this.highest < 0 || index > this.highest) return undefined;
    const delta = this.highest - index;
    if (delta >= REPLAY_WINDOW) return 'too-old';
    return (this.mask >> BigInt(delta)) & 1n ? 'replayed' : undefined;
  }
  accept(index: number): void {
    if (index > this.highest) {
      const shift = this.highest < 0 ? REPLAY_WINDOW : index - this.highest;
      this.mask = shift >= REPLAY_WINDOW ? 1n : ((this.mask << BigInt(shift)) | 1n) & ((1n << 64n) - 1n);
      this.highest = index;
    } else {
      this.mask |= 1n << BigInt(this.highest - index);
    }
  }
}

interface SourceState {
  roc: number;
  /** Highest sequence number seen (s_l), -1 before the first packet. */
  seq: number;
  replay: ReplayWindow;
}

/** One direction's crypto context (RFC 3711 §3.2): keys from one master key, state per SSRC. */
export class SrtpContext {
  readonly suite: SrtpSuite;
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private readonly tagLength: number;
  private readonly sources = new Map<number, SourceState>();
  private readonly rtcpReplay = new Map<number, ReplayWindow>();
  private srtcpIndex = 0;

  /** `masterKey` 16 octets, `masterSalt` 14 octets (RFC 4568 §6.2.1). */
  constructor(masterKey: Buffer, masterSalt: Buffer, suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80') {
    if (masterKey.length !== 16 || masterSalt.length !== 14) throw new RangeError('SRTP: master key must be 16 octets and master salt 14');
    this.suite = suite;
    this.tagLength = suite === 'AES_CM_128_HMAC_SHA1_80' ? 10 : 4;
    this.rtp = deriveSessionKeys(masterKey, masterSalt, false);
    this.rtcp = deriveSessionKeys(masterKey, masterSalt, true);
  }

  private source(ssrc: number): SourceState {
    let s = this.sources.get(ssrc);
    if (s === undefined) {
      s = { roc: 0, seq: -1, replay: new ReplayWindow() };
      this.sources.set(ssrc, s);
    }
    return s;
  }

  /** Encrypts and authenticates an RTP packet (§3.3). The packet must be valid RTP. */
  protectRtp(packet: Buffer): Buffer {
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const s = this.source(ssrc);
    // Sender side: the ROC steps when the sequence number wraps (§3.3.1).
    if (s.seq >= 0 && seq < s.seq && s.seq - seq > 0x8000) s.roc = (s.roc + 1) >>> 0;
    if (s.seq < 0 || seq > s.seq || s.seq - seq > 0x8000) s.seq = seq;
    const index = s.roc * 0x10000 + seq;
    const out = Buffer.from(packet);
    xorInPlace(out, rtpHeaderLength(out), this.rtp.encryptionKey, this.rtp.salt, ssrc, index);
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE(s.roc, 0);
    return Buffer.concat([out, hmac(this.rtp.authKey, [out, roc], this.tagLength)]);
  }

  /** Checks, replay-checks and decrypts an SRTP packet (§3.3). */
  unprotectRtp(packet: Buffer): SrtpResult {
    if (packet.length < 12 + this.tagLength) return { ok: false, reason: 'too-short' };
    const body = packet.subarray(0, packet.length - this.tagLength);
    const headerLength = rtpHeaderLength(body);
    if (headerLength > body.length) return { ok: false, reason: 'too-short' };
    const tag = packet.subarray(packet.length - this.tagLength);
    const ssrc = body.readUInt32BE(8);
    const seq = body.readUInt16BE(2);
    const s = this.source(ssrc);
    // Appendix A: guess the ROC the sender used from the highest sequence number seen.
    let v = s.roc;
    if (s.seq >= 0) {
      if (s.seq < 0x8000) {
        if (seq - s.seq > 0x8000 && s.roc > 0) v = s.roc - 1;
      } else if (s.seq - 0x8000 > seq) {
        v = (s.roc + 1) >>> 0;
      }
    }
    const index = v * 0x10000 + seq;
    const replay = s.replay.check(index);
    if (replay !== undefined) return { ok: false, reason: replay };
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE(v, 0);
    const expected = hmac(this.rtp.authKey, [body, roc], this.tagLength);
    if (!timingSafeEqual(expected, tag)) return { ok: false, reason: 'auth-failed' };
    s.replay.accept(index);
    // Update s_l and the ROC only after authentication (§3.3.1).
    if (s.seq < 0 || index > s.roc * 0x10000 + s.seq) {
      s.roc = v;
      s.seq = seq;
    }
    const out = Buffer.from(body);
    xorInPlace(out, headerLength, this.rtp.encryptionKey, this.rtp.salt, ssrc, index);
    return { ok: true, packet: out };
  }

  /** Encrypts and authenticates a compound RTCP packet (§3.4): E=1, a 31-bit SRTCP index, 80-bit tag. */
  protectRtcp(packet: Buffer): Buffer {
    const ssrc = packet.readUInt32BE(4);
    const index = this.srtcpIndex;
    this.srtcpIndex = (this.srtcpIndex + 1) & 0x7fffffff;
    const out = Buffer.from(packet);
    xorInPlace(out, 8, this.rtcp.encryptionKey, this.rtcp.salt, ssrc, index);
    const e = Buffer.alloc(4);
    e.writeUInt32BE((0x80000000 | index) >>> 0, 0);
    const authed = Buffer.concat([out, e]);
    return Buffer.concat([authed, hmac(this.rtcp.authKey, [authed], SRTCP_TAG)]);
  }

  /** Checks and decrypts an SRTCP packet (§3.4). */
  unprotectRtcp(packet: Buffer): SrtpResult {
    if (packet.length < 8 + 4 + SRTCP_TAG) return { ok: false, reason: 'too-short' };
    const authed = packet.subarray(0, packet.length - SRTCP_TAG);
    const tag = packet.subarray(packet.length - SRTCP_TAG);
    if (!timingSafeEqual(hmac(this.rtcp.authKey, [authed], SRTCP_TAG), tag)) return { ok: false, reason: 'auth-failed' };
    const word = authed.readUInt32BE(authed.length - 4);
    const encrypted = (word & 0x80000000) !== 0;
    const index = word & 0x7fffffff;
    const ssrc = authed.readUInt32BE(4);
    let window = this.rtcpReplay.get(ssrc);
    if (window === undefined) {
      window = new ReplayWindow();
      this.rtcpReplay.set(ssrc, window);
    }
    const replay = window.check(index);
    if (replay !== undefined) return { ok: false, reason: replay };
    window.accept(index);
    const out = Buffer.from(authed.subarray(0, authed.length - 4));
    if (encrypted) xorInPlace(out, 8, this.rtcp.encryptionKey, this.rtcp.salt, ssrc, index);
    return { ok: true, packet: out };
  }
}

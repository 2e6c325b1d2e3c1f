/**
 * What this end can do, as a plain config object: the address and port of each stream, and its
 * codecs. Offers and answers are built from it; it is checked once, when a session starts.
 */
import { SipError } from '../core/errors.js';
import type { Direction } from './direction.js';
import { isUnspecifiedAddress } from './session-description.js';

/** An RTP payload format this end supports (RFC 8866 §6.6 rtpmap, plus its fmtp). */
export interface Codec {
  /** The payload type we offer it under: static (RFC 3551 §6) or dynamic 96-127. */
  readonly payloadType: number;
  /** Encoding name as registered (RFC 4855): `PCMU`, `PCMA`, `telephone-event`. */
  readonly name: string;
  readonly clockRate: number;
  /** Audio channels; absent means 1 (RFC 8866 §6.6). */
  readonly channels?: number;
  /** Format parameters for a=fmtp, e.g. `0-16` for telephone-event (RFC 4733 §2.5.1.3). */
  readonly fmtp?: string;
}

/** G.711 µ-law, static payload type 0 (RFC 3551 §6). */
export const PCMU: Codec = { payloadType: 0, name: 'PCMU', clockRate: 8000 };
/** G.711 A-law, static payload type 8 (RFC 3551 §6). */
export const PCMA: Codec = { payloadType: 8, name: 'PCMA', clockRate: 8000 };
/** DTMF events (RFC 4733), on the dynamic payload type most peers use; events 0-15 are DTMF, 16 flash. */
export const TELEPHONE_EVENT: Codec = { payloadType: 101, name: 'telephone-event', clockRate: 8000, fmtp: '0-16' };
/** The default audio codecs, in order of preference. */
export const DEFAULT_AUDIO_CODECS: readonly Codec[] = [PCMU, PCMA, TELEPHONE_EVENT];

/** One stream this end can carry. */
export interface LocalMedia {
  /** `audio`, `video`... */
  readonly type: string;
  /** The local RTP port, 1-65535 (port 0 would mean a rejected stream, RFC 3264 §5.1). */
  readonly port: number;
  /** Default `RTP/AVP` (RFC 3551). */
  readonly protocol?: string;
  /** In order of preference; default `DEFAULT_AUDIO_CODECS`. */
  readonly codecs?: readonly Codec[];
  /** What this end can do on the stream at best, hold aside; default `sendrecv`. */
  readonly direction?: Direction;
  /**
   * SDES keys (RFC 4568) for an `RTP/SAVP` stream: offered as a=crypto lines; an answer carries
   * the first of ours whose suite the offer has, under the offered tag (§7.1.2). Default none.
   */
  readonly crypto?: readonly SdesCrypto[];
}

/** One a=crypto line (RFC 4568 §9.1): `<tag> <suite> <key-params>`. */
export interface SdesCrypto {
  readonly tag: number;
  /** e.g. `AES_CM_128_HMAC_SHA1_80`. */
  readonly suite: string;
  /** e.g. `inline:<base64 key||salt>`. */
  readonly keyParams: string;
}

/** The local side of a session, given by the user agent. */
export interface LocalMediaConfig {
  /**
   * The address for c= and o=: an IP address or host name the peer can reach. The unspecified
   * addresses (0.0.0.0, ::) are refused: to an RFC 2543 peer c=0.0.0.0 means hold (RFC 3264
   * §8.4), so a socket bound to "any" must not leak its address into SDP.
   */
  readonly address: string;
  /** The streams, in the order they are offered. */
  readonly media: readonly LocalMedia[];
  /** o= username; default `-` (RFC 8866 §5.2: no user ids). */
  readonly username?: string;
  /** s=; default `-` (RFC 8866 §5.3: a dash when there is no meaningful name). */
  readonly sessionName?: string;
  /** o= session id, decimal digits; default random. */
  readonly sessionId?: string;
  /**
   * When holding, also write c=0.0.0.0 (RFC 2543 hold), for peers that predate RFC 3264.
   * Default false: RFC 3264 §8.4 holds with the direction attribute alone, and 0.0.0.0 breaks
   * RTCP and NAT keep-alives.
   */
  readonly legacyHold?: boolean;
}

/** The config with defaults applied and checked. */
export interface ResolvedLocalMedia {
  readonly address: string;
  readonly addrType: 'IP4' | 'IP6';
  readonly media: ReadonlyArray<Required<LocalMedia>>;
  readonly username: string;
  readonly sessionName: string;
  readonly sessionId: string | undefined;
  readonly legacyHold: boolean;
}

const TOKEN = /^[!#-'*+\-.0-9A-Z^-~]+$/;

function invalid(message: string): SipError {
  return new SipError('ERR_INVALID_ARGUMENT', `local media: ${message}`);
}

/** Applies the defaults and checks the config. Throws `SipError` `ERR_INVALID_ARGUMENT`. */
export function resolveLocalMedia(config: LocalMediaConfig): ResolvedLocalMedia {
  const address = config.address.trim();
  if (address === '' || /[\s\0]/.test(address)) throw invalid(`"${address}" is not an address`);
  if (isUnspecifiedAddress(address)) {
    throw invalid(`${address} cannot go in c=: an RFC 2543 peer reads it as hold (RFC 3264 §8.4); give the address the peer should send to`);
  }
  const username = config.username ?? '-';
  if (!/^[\x21-\x7e]+$/.test(username)) throw invalid(`o= username "${username}" must be visible characters without spaces (RFC 8866 §5.2)`);
  const sessionName = config.sessionName ?? '-';
  if (sessionName === '' || /[\r\n\0]/.test(sessionName)) throw invalid('s= must be one non-empty line (RFC 8866 §5.3)');
  if (config.sessionId !== undefined && (!/^[0-9]{1,18}$/.test(config.sessionId))) {
    throw invalid('sessionId must be 1-18 decimal digits (RFC 3264 §5: a 64-bit signed integer)');
  }
  if (config.media.length === 0) throw invalid('at least one stream is needed');
  const media = config.media.map((m, i): Required<LocalMedia> => {
    if (!TOKEN.test(m.type)) throw invalid(`stream ${i + 1}: media type "${m.type}" is not a token`);
    if (!Number.isInteger(m.port) || m.port < 1 || m.port > 65535) throw invalid(`stream ${i + 1}: port ${m.port} is not 1-65535`);
    const protocol = m.protocol ?? 'RTP/AVP';
    if (!/^[!#-'*+\-.0-9A-Z^-~]+(?:\/[!#-'*+\-.0-9A-Z^-~]+)*$/.test(protocol)) throw invalid(`stream ${i + 1}: protocol "${protocol}" is malformed`);
    const codecs = m.codecs ?? DEFAULT_AUDIO_CODECS;
    if (codecs.length === 0) throw invalid(`stream ${i + 1}: no codecs`);
    const seen = new Set<number>();
    for (const c of codecs) {
      if (!Number.isInteger(c.payloadType) || c.payloadType < 0 || c.payloadType > 127) throw invalid(`${c.name}: payload type ${c.payloadType} is not 0-127`);
      if (seen.has(c.payloadType)) throw invalid(`stream ${i + 1}: payload type ${c.payloadType} used twice`);
      seen.add(c.payloadType);
      if (!/^[^\s/\0]+$/.test(c.name)) throw invalid(`codec name "${c.name}" is malformed`);
      if (!Number.isInteger(c.clockRate) || c.clockRate <= 0) throw invalid(`${c.name}: clock rate ${c.clockRate} is not a positive integer`);
      if (c.fmtp !== undefined && (c.fmtp.trim() === '' || /[\r\n\0]/.test(c.fmtp))) throw invalid(`${c.name}: fmtp must be one non-empty line`);
    }
    if (config.media.slice(0, i).some((o) => o.type === m.type)) throw invalid(`stream ${i + 1}: a second ${m.type} stream (one per media type)`);
    return { type: m.type, port: m.port, protocol, codecs, direction: m.direction ?? 'sendrecv', crypto: m.crypto ?? [] };
  });
  return {
    address,
    addrType: address.includes(':') ? 'IP6' : 'IP4',
    media,
    username,
    sessionName,
    sessionId: config.sessionId,
    legacyHold: config.legacyHold ?? false,
  };
}

/**
 * A call's media, as the user agent sees it (issue 7). The UA layer comes before the media layer,
 * so it declares here what it needs of an RTP session (`CallMediaSession`, which the media
 * layer's RtpSession satisfies) and of whoever makes them (`MediaFactory`); the application
 * passes a factory built on a MediaEngine. Without one, calls are signalling only.
 *
 * `CallMedia` is one call's part: the port and SDES key its SDP offers, `update()` after every
 * completed offer/answer, music on hold while we hold, DTMF each way, closing with the call.
 */
import { randomBytes } from 'node:crypto';
import type { LocalMediaConfig, SdesCrypto, SessionDescription } from '../../sdp/index.js';

/** 20 ms frames of 8 kHz linear PCM (the media layer's AudioSource). */
export interface CallAudioSource {
  /** The next frame, or undefined when the source has ended (silence is sent then). */
  read(): Int16Array | undefined;
}

/** Receives decoded frames (the media layer's AudioSink). */
export interface CallAudioSink {
  write(pcm: Int16Array): void;
}

/** A DTMF digit received as an RFC 4733 event. */
export interface CallDtmfEvent {
  readonly digit: string;
  readonly durationMs: number;
}

/** What a call's media did (the media layer's MediaStats has these and more). */
export interface CallMediaStats {
  readonly direction: string;
  readonly codec: string;
  readonly localPort: number;
  readonly remote: string | undefined;
  readonly packetsSent: number;
  readonly bytesSent: number;
  readonly packetsReceived: number;
  readonly bytesReceived: number;
  readonly packetsLost: number;
  /** Lost ÷ expected, 0..1. */
  readonly lossRatio: number;
  readonly jitterMs: number;
  /** E-model MOS estimate, 1..4.5. */
  readonly mos: number;
  readonly srtpFailures: number;
  readonly dtmfSent: number;
  readonly dtmfReceived: number;
}

/** One RTP session for one call (RtpSession of the media layer). */
export interface CallMediaSession {
  readonly localPort: number;
  /** Applies the agreed SDP (ours, the peer's): direction, address, port, codec, SRTP keys. */
  update(local: SessionDescription, remote: SessionDescription): { readonly ok: boolean };
  stats(): CallMediaStats;
  /** Queues DTMF digits (RFC 4733); false when the peer has no telephone-event or we do not send. */
  sendDtmf(digits: string): boolean;
  onDtmf(handler: ((e: CallDtmfEvent) => void) | undefined): void;
  setSource(source: CallAudioSource | undefined): void;
  setSink(sink: CallAudioSink | undefined): void;
  close(): void;
}

/** What a factory knows of the call it makes a session for. */
export interface CallMediaContext {
  readonly callId: string;
  readonly direction: 'outgoing' | 'incoming';
  readonly remoteUri: string;
  /** The call is secure (sips, or the peer offered RTP/SAVP): the session will be keyed by SDES. */
  readonly secure: boolean;
}

/** Makes a call's RTP session (a MediaEngine behind it); rejects when no port is free. */
export interface MediaFactory {
  create(context: CallMediaContext): Promise<CallMediaSession>;
}

/** RFC 4568: the suite we offer and accept. */
export const SDES_SUITE = 'AES_CM_128_HMAC_SHA1_80';

/** A fresh SDES key (RFC 4568 §6.1: random, new for each session): 16-byte key and 14-byte salt. */
export function newSdesCrypto(tag = 1): SdesCrypto {
  return { tag, suite: SDES_SUITE, keyParams: `inline:${randomBytes(30).toString('base64')}` };
}

/** Whether an SDP offer's first audio stream is RTP/SAVP (the peer wants SRTP). */
export function offersSavp(sdp: SessionDescription | undefined): boolean {
  const audio = sdp?.media.find((m) => m.type === 'audio' && m.port !== 0);
  return audio !== undefined && /^RTP\/SAVP$/i.test(audio.protocol);
}

/** `base` with the audio stream on `port`, and RTP/SAVP with the SDES key `crypto` when given. */
export function mediaConfigFor(base: LocalMediaConfig, port: number, crypto: SdesCrypto | undefined): LocalMediaConfig {
  return {
    ...base,
    media: base.media.map((m) => m.type !== 'audio' ? m : {
      ...m,
      port,
      ...(crypto === undefined ? {} : { protocol: 'RTP/SAVP', crypto: [crypto] }),
    }),
  };
}

export interface CallMediaOptions {
  readonly session: CallMediaSession;
  /** Use RTP/SAVP with an SDES key. */
  readonly secure: boolean;
  /** What we send normally; undefined: silence. */
  readonly source?: CallAudioSource;
  /** What we send while we hold the call (sendonly); undefined: the normal source. */
  readonly musicOnHold?: () => CallAudioSource;
  readonly onDtmf: (e: CallDtmfEvent) => void;
}

/** One call's media (see the module comment). */
export class CallMedia {
  readonly session: CallMediaSession;
  readonly secure: boolean;
  readonly #crypto: SdesCrypto | undefined;
  readonly #musicOnHold: (() => CallAudioSource) | undefined;
  #source: CallAudioSource | undefined;
  /** The music-on-hold source while we hold. */
  #holding: CallAudioSource | undefined;
  #closed = false;

  constructor(options: CallMediaOptions) {
    this.session = options.session;
    this.secure = options.secure;
    this.#crypto = options.secure ? newSdesCrypto() : undefined;
    this.#musicOnHold = options.musicOnHold;
    this.#source = options.source;
    this.session.setSource(this.#source);
    this.session.onDtmf(options.onDtmf);
  }

  /** The local side of the call's SDP: `base` with the session's port, and RTP/SAVP with our key when secure. */
  localConfig(base: LocalMediaConfig): LocalMediaConfig {
    return mediaConfigFor(base, this.session.localPort, this.#crypto);
  }

  /**
   * An offer/answer exchange completed: the session follows the agreed SDP, and while we hold
   * (`localHold`) it plays music on hold; the held side's recvonly is the session's to honour.
   */
  apply(local: SessionDescription | undefined, remote: SessionDescription | undefined, localHold: boolean): void {
    if (this.#closed || local === undefined || remote === undefined) return;
    if (localHold && this.#musicOnHold !== undefined) {
      this.#holding ??= this.#musicOnHold();
      this.session.setSource(this.#holding);
    } else {
      this.#holding = undefined;
      this.session.setSource(this.#source);
    }
    this.session.update(local, remote);
  }

  /** Changes what we send normally (music on hold still wins while we hold). */
  setSource(source: CallAudioSource | undefined): void {
    this.#source = source;
    if (this.#holding === undefined) this.session.setSource(source);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.session.onDtmf(undefined);
    this.session.close();
  }
}

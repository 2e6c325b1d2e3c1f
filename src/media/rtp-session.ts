/**
 * One audio stream over RTP/RTCP (RFC 3550): a send clock of one packet per 20 ms driven by the
 * injected Clock, symmetric RTP (RFC 4961), the direction of the last offer/answer honoured for
 * every packet, RTCP reports every ~5 s, DTMF (RFC 4733), SRTP (RFC 3711) when keyed.
 *
 * Nothing throws out of a socket handler: bad datagrams are counted in `stats()`.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../core/clock.js';
import { noopLogger, type Logger } from '../core/logger.js';
import { receives, sends } from '../sdp/direction.js';
import type { SessionDescription } from '../sdp/sdp-types.js';
import { FRAME_SAMPLES, SilenceSource, type AudioSink, type AudioSource } from './audio-source.js';
import { PCMA_CODEC, PCMU_CODEC, audioCodecFor, type AudioCodec } from './g711.js';
import { estimateMos } from './e-model.js';
import { mediaParamsFromSdp, type MediaParamsResult, type MediaStreamParams } from './media-params.js';
import type { MediaStats } from './media-stats.js';
import { ReceiverStats, ntpFromUnixMs, roundTripMs } from './receiver-stats.js';
import { buildRtcp, looksLikeRtcp, parseRtcp, type RtcpPacket, type ReportBlock } from './rtcp-packet.js';
import { buildRtp, parseRtp } from './rtp-packet.js';
import { SrtpContext } from './srtp-context.js';
import { DtmfReceiver, DtmfSender, isDtmfString, type DtmfEvent } from './telephone-event.js';

export interface RtpSessionOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Bound RTP socket; `rtcpSocket` on port + 1 (absent: RTCP rides on the RTP socket). */
  readonly rtpSocket: Socket;
  readonly rtcpSocket?: Socket;
  /** Called when the session closes, so the owner can release its ports. */
  readonly onClose?: () => void;
  /** Packetisation time, ms; default 20. */
  readonly ptimeMs?: number;
  /** Mean RTCP interval, ms; default 5000 (RFC 3550 §6.2 minimum), randomised ×0.5..1.5 (§6.3.1). */
  readonly rtcpIntervalMs?: number;
  /** RTCP SDES CNAME (RFC 3550 §6.5.1); default random. */
  readonly cname?: string;
  readonly source?: AudioSource;
  readonly sink?: AudioSink;
  readonly onDtmf?: (e: DtmfEvent) => void;
}

/** The face a user agent sees (issue 7): built from negotiated SDP, updated on each offer/answer. */
export interface MediaSession {
  readonly localPort: number;
  update(local: SessionDescription, remote: SessionDescription): MediaParamsResult;
  stats(): MediaStats;
  sendDtmf(digits: string): boolean;
  onDtmf(handler: ((e: DtmfEvent) => void) | undefined): void;
  setSource(source: AudioSource | undefined): void;
  setSink(sink: AudioSink | undefined): void;
  close(): void;
}

const SILENCE = new SilenceSource();

export class RtpSession implements MediaSession {
  readonly localPort: number;
  readonly ssrc: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly rtpSocket: Socket;
  private readonly rtcpSocket: Socket | undefined;
  private readonly ptime: number;
  private readonly samplesPerFrame: number;
  private readonly rtcpInterval: number;
  private readonly cname: string;
  private readonly epochOffset: number;
  private params: MediaStreamParams | undefined;
  private codec: AudioCodec | undefined;
  private remote: { address: string; port: number } | undefined;
  private remoteRtcp: { address: string; port: number } | undefined;
  private latched = false;
  private sendSrtp: SrtpContext | undefined;
  private recvSrtp: SrtpContext | undefined;
  private source: AudioSource | undefined;
  private sink: AudioSink | undefined;
  private readonly dtmf: DtmfSender;
  private readonly dtmfIn: DtmfReceiver;
  private dtmfHandler: ((e: DtmfEvent) => void) | undefined;
  private dtmfTimestamp = 0;
  private seq: number;
  private timestamp: number;
  private marker = true;
  private sendTimer: TimerHandle | undefined;
  private rtcpTimer: TimerHandle | undefined;
  private nextSendAt = 0;
  private lastSendAt: number | undefined;
  private closed = false;
  private receiver: ReceiverStats | undefined;
  private lastSrSentMiddle = 0;
  private sentSinceReport = false;
  private readonly onClose: (() => void) | undefined;
  private readonly counters = {
    packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0, packetsIgnored: 0, malformed: 0,
    srtpFailures: 0, rtcpSent: 0, rtcpReceived: 0, dtmfSent: 0, dtmfReceived: 0, sendJitter: 0, maxSendDeviation: 0,
  };
  private remoteReport: ReportBlock | undefined;
  private rttMs: number | undefined;

  constructor(options: RtpSessionOptions) {
    this.clock = options.clock;
    this.logger = options.logger ?? noopLogger;
    this.rtpSocket = options.rtpSocket;
    this.rtcpSocket = options.rtcpSocket;
    this.localPort = this.rtpSocket.address().port;
    this.ptime = options.ptimeMs ?? 20;
    this.samplesPerFrame = (this.ptime * 8000) / 1000;
    this.rtcpInterval = options.rtcpIntervalMs ?? 5000;
    const r = randomBytes(12);
    // RFC 3550 §5.1: random initial sequence number, timestamp and SSRC.
    this.ssrc = r.readUInt32BE(0);
    this.seq = r.readUInt16BE(4);
    this.timestamp = r.readUInt32BE(6);
    this.cname = options.cname ?? `hookflash-${r.toString('hex', 10, 12)}${this.ssrc.toString(16)}`;
    this.epochOffset = Date.now() - this.clock.now();
    this.source = options.source;
    this.sink = options.sink;
    this.onClose = options.onClose;
    this.dtmf = new DtmfSender({ samplesPerTick: this.samplesPerFrame });
    this.dtmfHandler = options.onDtmf;
    this.dtmfIn = new DtmfReceiver((e) => {
      this.counters.dtmfReceived++;
      this.dtmfHandler?.(e);
    });
    this.rtpSocket.on('message', (msg, rinfo) => this.safely(() => this.onRtpSocket(msg, rinfo)));
    this.rtcpSocket?.on('message', (msg, rinfo) => this.safely(() => this.onRtcp(msg, rinfo)));
    this.scheduleRtcp();
  }

  /** Runs a handler; anything it throws is logged and counted, never thrown into the socket. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.counters.malformed++;
      this.logger.warn({ error: e instanceof Error ? e.message : String(e) }, 'media: datagram handler failed');
    }
  }

  /** Applies negotiated SDP (the UA calls this after every offer/answer). Never throws. */
  update(local: SessionDescription, remote: SessionDescription): MediaParamsResult {
    const r = mediaParamsFromSdp(local, remote);
    if (r.ok) this.configure(r.params);
    else this.configure({ ...(this.params ?? { remotePort: 0, payloadType: 0, codec: 'PCMU' }), direction: 'inactive' });
    return r;
  }

  /** Applies stream parameters directly (what `update` does after reading the SDP). */
  configure(params: MediaStreamParams): void {
    if (this.closed) return;
    const prev = this.params;
    this.params = params;
    this.codec = audioCodecFor(params.codec);
    const newRemote = params.remoteAddress !== undefined && params.remotePort > 0 ? { address: params.remoteAddress, port: params.remotePort } : undefined;
    // A re-INVITE that moves the peer resets symmetric latching: the SDP is the new truth (RFC 3264 §8.3.1).
    if (prev === undefined || prev.remoteAddress !== params.remoteAddress || prev.remotePort !== params.remotePort || !this.latched) {
      this.remote = newRemote;
      this.latched = false;
      if (newRemote !== undefined) {
        this.remoteRtcp = params.rtcpMux === true ? newRemote : { address: newRemote.address, port: params.remoteRtcpPort ?? newRemote.port + 1 };
      } else {
        this.remoteRtcp = undefined;
      }
    }
    if (params.srtp !== undefined) {
      if (prev?.srtp?.local.masterKey.equals(params.srtp.local.masterKey) !== true) {
        this.sendSrtp = new SrtpContext(params.srtp.local.masterKey, params.srtp.local.masterSalt, params.srtp.local.suite);
      }
      if (prev?.srtp?.remote.masterKey.equals(params.srtp.remote.masterKey) !== true) {
        this.recvSrtp = new SrtpContext(params.srtp.remote.masterKey, params.srtp.remote.masterSalt, params.srtp.remote.suite);
      }
    } else {
      this.sendSrtp = undefined;
      this.recvSrtp = undefined;
    }
    if (sends(params.direction) && this.remote !== undefined) this.startSending();
    else this.stopSending();
  }

  /** The current parameters, or undefined before the first update. */
  get streamParams(): MediaStreamParams | undefined {
    return this.params;
  }

  setSource(source: AudioSource | undefined): void {
    this.source = source;
  }

  setSink(sink: AudioSink | undefined): void {
    this.sink = sink;
  }

  /** Sets (or clears) the handler called once per received DTMF digit. */
  onDtmf(handler: ((e: DtmfEvent) => void) | undefined): void {
    this.dtmfHandler = handler;
  }

  /** Queues DTMF digits (RFC 4733). False when the peer has no telephone-event or we do not send. */
  sendDtmf(digits: string): boolean {
    if (this.params?.telephoneEventPayloadType === undefined || !sends(this.params.direction) || !isDtmfString(digits)) return false;
    this.dtmf.enqueue(digits);
    return true;
  }

  private startSending(): void {
    if (this.sendTimer !== undefined) return;
    this.marker = true; // RFC 3551 §4.1: marker on the first packet after silence
    this.nextSendAt = this.clock.now();
    this.lastSendAt = undefined;
    this.tick();
  }

  private stopSending(): void {
    if (this.sendTimer !== undefined) this.clock.clearTimeout(this.sendTimer);
    this.sendTimer = undefined;
    this.dtmf.clear();
  }

  /** One packetisation interval: send one packet, schedule the next on the ideal grid (no drift). */
  private tick(): void {
    this.sendTimer = undefined;
    if (this.closed || this.params === undefined || !sends(this.params.direction)) return;
    const now = this.clock.now();
    if (this.lastSendAt !== undefined) {
      const deviation = Math.abs(now - this.lastSendAt - this.ptime);
      this.counters.sendJitter += (deviation - this.counters.sendJitter) / 16;
      if (deviation > this.counters.maxSendDeviation) this.counters.maxSendDeviation = deviation;
    }
    this.lastSendAt = now;
    this.safely(() => this.sendFrame());
    this.timestamp = (this.timestamp + this.samplesPerFrame) >>> 0;
    this.nextSendAt += this.ptime;
    // After a long stall (a blocked event loop), restart the grid rather than burst to catch up.
    if (this.nextSendAt < now - 5 * this.ptime) this.nextSendAt = now + this.ptime;
    this.sendTimer = this.clock.setTimeout(() => this.tick(), Math.max(0, this.nextSendAt - now));
  }

  private sendFrame(): void {
    const p = this.params!;
    if (this.dtmf.busy && p.telephoneEventPayloadType !== undefined) {
      const ev = this.dtmf.tick();
      if (ev !== undefined) {
        if (ev.eventStart) {
          this.dtmfTimestamp = this.timestamp;
          this.counters.dtmfSent++;
        }
        this.sendRtp(p.telephoneEventPayloadType, this.dtmfTimestamp, ev.payload, ev.marker);
        return;
      }
      // Between digits audio flows again.
    }
    const frame = (this.source ?? SILENCE).read() ?? SILENCE.read();
    const pcm = frame.length === this.samplesPerFrame ? frame : fit(frame, this.samplesPerFrame);
    this.sendRtp(p.payloadType, this.timestamp, this.codec!.encode(pcm), this.marker);
    this.marker = false;
  }

  private sendRtp(payloadType: number, timestamp: number, payload: Buffer, marker: boolean): void {
    if (this.remote === undefined) return;
    let packet = buildRtp({ payloadType, sequenceNumber: this.seq, timestamp, ssrc: this.ssrc, marker, payload });
    this.seq = (this.seq + 1) & 0xffff;
    if (this.sendSrtp !== undefined) packet = this.sendSrtp.protectRtp(packet);
    this.rtpSocket.send(packet, this.remote.port, this.remote.address, (err) => {
      if (err !== null && err !== undefined) this.logger.debug({ error: err.message }, 'media: RTP send failed');
    });
    this.counters.packetsSent++;
    this.counters.bytesSent += payload.length;
    this.sentSinceReport = true;
  }

  private onRtpSocket(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    // RFC 5761 §4: with rtcp-mux (or RTCP arriving on the RTP port), RTCP is told apart by its type.
    if (looksLikeRtcp(msg)) {
      this.onRtcp(msg, rinfo);
      return;
    }
    let data = msg;
    if (this.recvSrtp !== undefined) {
      const r = this.recvSrtp.unprotectRtp(msg);
      if (!r.ok) {
        this.counters.srtpFailures++;
        return;
      }
      data = r.packet;
    }
    const parsed = parseRtp(data);
    if (!parsed.ok) {
      this.counters.malformed++;
      return;
    }
    const pkt = parsed.packet;
    const p = this.params;
    if (p === undefined) {
      this.counters.packetsIgnored++;
      return;
    }
    const isEvent = pkt.payloadType === p.telephoneEventPayloadType || pkt.payloadType === p.localTelephoneEventPayloadType;
    const codec = isEvent ? undefined : pkt.payloadType === 0 ? PCMU_CODEC : pkt.payloadType === 8 ? PCMA_CODEC : pkt.payloadType === p.payloadType ? this.codec : undefined;
    if (!isEvent && codec === undefined) {
      // A payload type the offer/answer did not agree on: not ours to play, nor to latch on.
      this.counters.malformed++;
      return;
    }
    // Symmetric RTP (RFC 4961): answer to where the peer's packets come from.
    if (this.remote === undefined || this.remote.address !== rinfo.address || this.remote.port !== rinfo.port) {
      this.remote = { address: rinfo.address, port: rinfo.port };
      if (p.rtcpMux === true) this.remoteRtcp = this.remote;
      this.latched = true;
      if (sends(p.direction)) this.startSending();
    }
    // Sequence numbers are tracked even for packets we do not play (sendonly, inactive): a packet
    // that arrives as a hold starts is ignored, not lost, and must not count against loss or MOS.
    if (this.receiver === undefined || this.receiver.ssrc !== pkt.ssrc) this.receiver = new ReceiverStats(pkt.ssrc, pkt.sequenceNumber);
    this.receiver.updateSeq(pkt.sequenceNumber);
    if (!receives(p.direction)) {
      this.counters.packetsIgnored++;
      return;
    }
    this.counters.packetsReceived++;
    this.counters.bytesReceived += pkt.payload.length;
    if (isEvent) {
      this.dtmfIn.receive(pkt.timestamp, pkt.payload);
      return;
    }
    this.receiver.updateJitter(pkt.timestamp, Math.round(this.clock.now() * 8));
    this.sink?.write(codec!.decode(pkt.payload));
  }

  private onRtcp(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    let data = msg;
    if (this.recvSrtp !== undefined) {
      const r = this.recvSrtp.unprotectRtcp(msg);
      if (!r.ok) {
        this.counters.srtpFailures++;
        return;
      }
      data = r.packet;
    }
    const parsed = parseRtcp(data);
    if (!parsed.ok) {
      this.counters.malformed++;
      return;
    }
    this.counters.rtcpReceived++;
    if (this.remoteRtcp === undefined || this.remoteRtcp.address !== rinfo.address || this.remoteRtcp.port !== rinfo.port) {
      this.remoteRtcp = { address: rinfo.address, port: rinfo.port };
    }
    const arrival = ntpFromUnixMs(this.clock.now() + this.epochOffset).middle;
    for (const p of parsed.packets) {
      if (p.type === 'sr' && this.receiver !== undefined && p.ssrc === this.receiver.ssrc) {
        this.receiver.lastSr = (((p.sender.ntpSeconds & 0xffff) << 16) | (p.sender.ntpFraction >>> 16)) >>> 0;
        this.receiver.lastSrAt = this.clock.now();
      }
      if (p.type === 'sr' || p.type === 'rr') {
        const mine = p.reports.find((b) => b.ssrc === this.ssrc);
        if (mine !== undefined) {
          this.remoteReport = mine;
          const rtt = roundTripMs(mine, arrival);
          if (rtt !== undefined) this.rttMs = rtt;
        }
      }
    }
  }

  private scheduleRtcp(): void {
    const interval = this.rtcpInterval * (0.5 + Math.random());
    this.rtcpTimer = this.clock.setTimeout(() => {
      this.rtcpTimer = undefined;
      this.safely(() => this.sendRtcp());
      if (!this.closed) this.scheduleRtcp();
    }, interval);
  }

  /** Sends an SR (if we sent RTP since the last report) or RR, with SDES CNAME (RFC 3550 §6.1), plus BYE when given. */
  sendRtcp(bye?: string): void {
    if (this.remoteRtcp === undefined) return;
    const nowMs = this.clock.now();
    const reports = this.receiver !== undefined && this.receiver.received > 0 ? [this.receiver.reportBlock(nowMs)] : [];
    const packets: RtcpPacket[] = [];
    if (this.sentSinceReport) {
      const ntp = ntpFromUnixMs(nowMs + this.epochOffset);
      this.lastSrSentMiddle = ntp.middle;
      packets.push({
        type: 'sr', ssrc: this.ssrc, reports,
        sender: { ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: this.timestamp, packetCount: this.counters.packetsSent, octetCount: this.counters.bytesSent },
      });
    } else {
      packets.push({ type: 'rr', ssrc: this.ssrc, reports });
    }
    this.sentSinceReport = false;
    packets.push({ type: 'sdes', chunks: [{ ssrc: this.ssrc, items: [{ type: 1, text: this.cname }] }] });
    if (bye !== undefined) packets.push({ type: 'bye', ssrcs: [this.ssrc], reason: bye });
    let packet = buildRtcp(packets);
    if (this.sendSrtp !== undefined) packet = this.sendSrtp.protectRtcp(packet);
    const socket = this.params?.rtcpMux === true || this.rtcpSocket === undefined ? this.rtpSocket : this.rtcpSocket;
    socket.send(packet, this.remoteRtcp.port, this.remoteRtcp.address, (err) => {
      if (err !== null && err !== undefined) this.logger.debug({ error: err.message }, 'media: RTCP send failed');
    });
    this.counters.rtcpSent++;
  }

  /** Starts the send-interval jitter figures afresh (benchmarks measure one load step at a time). */
  resetSendStats(): void {
    this.counters.sendJitter = 0;
    this.counters.maxSendDeviation = 0;
    this.lastSendAt = undefined;
  }

  stats(): MediaStats {
    const c = this.counters;
    const r = this.receiver;
    const expected = r?.expected ?? 0;
    const lost = r?.cumulativeLost ?? 0;
    const lossRatio = expected > 0 ? Math.max(0, lost) / expected : 0;
    const jitterMs = r === undefined ? 0 : r.jitter / 8;
    const remoteReport = this.remoteReport === undefined ? undefined : {
      fractionLost: this.remoteReport.fractionLost / 256,
      packetsLost: this.remoteReport.cumulativeLost,
      jitterMs: this.remoteReport.jitter / 8,
    };
    return {
      direction: this.params?.direction ?? 'inactive',
      codec: this.params?.codec ?? 'none',
      localPort: this.localPort,
      remote: this.remote === undefined ? undefined : `${this.remote.address}:${this.remote.port}`,
      packetsSent: c.packetsSent,
      bytesSent: c.bytesSent,
      packetsReceived: c.packetsReceived,
      bytesReceived: c.bytesReceived,
      packetsIgnored: c.packetsIgnored,
      malformed: c.malformed,
      srtpFailures: c.srtpFailures,
      packetsLost: lost,
      lossRatio,
      fractionLost: r?.lastFractionLost ?? 0,
      jitterMs,
      ...(remoteReport !== undefined ? { remoteReport } : {}),
      ...(this.rttMs !== undefined ? { rttMs: this.rttMs } : {}),
      mos: estimateMos({ ...(this.rttMs !== undefined ? { rttMs: this.rttMs } : {}), jitterMs, lossPercent: 100 * Math.max(lossRatio, remoteReport?.fractionLost ?? 0) }),
      rtcpSent: c.rtcpSent,
      rtcpReceived: c.rtcpReceived,
      dtmfSent: c.dtmfSent,
      dtmfReceived: c.dtmfReceived,
      sendJitterMs: c.sendJitter,
      maxSendDeviationMs: c.maxSendDeviation,
    };
  }

  /** Stops the clock, sends an RTCP BYE (RFC 3550 §6.6), closes the sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.safely(() => this.sendRtcp('session closed'));
    this.closed = true;
    this.stopSending();
    if (this.rtcpTimer !== undefined) this.clock.clearTimeout(this.rtcpTimer);
    this.rtcpTimer = undefined;
    for (const s of [this.rtpSocket, this.rtcpSocket]) {
      if (s === undefined) continue;
      s.removeAllListeners('message');
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    this.onClose?.();
  }
}

function fit(frame: Int16Array, n: number): Int16Array {
  const out = new Int16Array(n);
  out.set(frame.subarray(0, n));
  return out;
}

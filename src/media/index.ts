/**
 * The media layer (issue 7): RTP/RTCP sessions built from negotiated SDP, G.711, RFC 4733 DTMF,
 * sources and sinks, SRTP with SDES keys. The user agent reaches it through `MediaSession`.
 */
export { parseRtp, buildRtp, RTP_HEADER_SIZE, type RtpPacket, type RtpPacketInit, type RtpParseResult, type RtpParseFailure } from './rtp-packet.js';
export {
  parseRtcp, buildRtcp, buildRtcpPacket, looksLikeRtcp, RTCP_SR, RTCP_RR, RTCP_SDES, RTCP_BYE, RTCP_APP,
  type RtcpPacket, type RtcpParseResult, type RtcpParseFailure, type ReportBlock, type SenderInfo, type SenderReport,
  type ReceiverReport, type SourceDescription, type SdesChunk, type Goodbye, type OtherRtcp,
} from './rtcp-packet.js';
export { ReceiverStats, roundTripMs, ntpFromUnixMs } from './receiver-stats.js';
export {
  encodeUlaw, decodeUlaw, encodeAlaw, decodeAlaw, linearToUlaw, ulawToLinear, linearToAlaw, alawToLinear,
  audioCodecFor, PCMU_CODEC, PCMA_CODEC, type AudioCodec,
} from './g711.js';
export {
  DtmfSender, DtmfReceiver, buildTelephoneEvent, parseTelephoneEvent, eventCode, digitOf, isDtmfString,
  type DtmfDigit, type DtmfEvent, type TelephoneEvent, type DtmfSenderOptions,
} from './telephone-event.js';
export {
  ToneSource, SilenceSource, PcmSource, SAMPLE_RATE, FRAME_SAMPLES,
  type AudioSource, type AudioSink, type ToneOptions,
} from './audio-source.js';
export { readWav, writeWav, downmix, resample, toTelephoneAudio, type WavAudio, type WavReadResult } from './wav-file.js';
export { wavSource, openWavSource, type WavPlayerOptions } from './wav-player.js';
export { WavRecorder, LevelMeter, TeeSink, rmsDbfs } from './audio-sinks.js';
export { goertzelPower, toneRatio } from './goertzel.js';
export { estimateMos, mosFromRating, rating, delayImpairment, effectiveEquipmentImpairment, G711_PLC, G711_NO_PLC, type CodecImpairment } from './e-model.js';
export { deriveSessionKey, deriveSessionKeys, aesCmKeystream, packetIv, type SessionKeys } from './srtp-kdf.js';
export { SrtpContext, type SrtpSuite, type SrtpResult, type SrtpFailure } from './srtp-context.js';
export { parseCryptoAttribute, formatCryptoAttribute, newCryptoAttribute, SUPPORTED_SUITES, type CryptoAttribute } from './sdes-crypto.js';
export {
  mediaParamsFromSdp, cryptoAttributesOf, cryptoSdpEntry,
  type MediaStreamParams, type MediaParamsResult,
} from './media-params.js';
export type { MediaStats } from './media-stats.js';
export { RtpSession, type RtpSessionOptions, type MediaSession } from './rtp-session.js';
export { MediaEngine, type MediaEngineOptions, type SessionOptions } from './media-engine.js';

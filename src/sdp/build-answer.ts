/**
 * Building our answer to an offer (RFC 3264 §6): one m= line per offered line, in the same order;
 * each accepted stream with the common codecs in the offerer's order and the direction the hold
 * model gives; each refused one with port 0.
 */
import { commonCodecs } from './codecs.js';
import { holdAnswerDirection, type HoldState } from './hold-state.js';
import { cryptoEntry, localConnection } from './build-offer.js';
import type { ResolvedLocalMedia } from './local-media.js';
import { OfferAnswerError } from './sdp-error.js';
import { effectiveDirection } from './session-description.js';
import type { MediaDescription, Origin, SessionDescription } from './sdp-types.js';

/**
 * The answer to `offer`. `hold` is the model with this offer already applied. Throws
 * `OfferAnswerError` `ERR_SDP_NOT_ACCEPTABLE` (a 488) when the offer has streams and none can be
 * accepted; an offer of no streams, or of only disabled ones, is answered in kind (RFC 3264 §6).
 */
export function buildAnswer(offer: SessionDescription, local: ResolvedLocalMedia, hold: HoldState, origin: Origin): SessionDescription {
  const accepted = new Set<string>();
  const refusals: string[] = [];
  const media = offer.media.map((m, i): MediaDescription => {
    // RFC 3264 §6: a refused stream keeps its m= line with port 0; its formats are ignored but
    // at least one must be listed, so the offer's are echoed.
    const refuse = (why?: string): MediaDescription => {
      if (why !== undefined) refusals.push(`${m.type} stream ${i + 1}: ${why}`);
      return { type: m.type, port: 0, protocol: m.protocol, formats: m.formats, rtpmap: [], fmtp: [], other: {} };
    };
    // RFC 3264 §6: a stream offered with port 0 is answered with port 0.
    if (m.port === 0) return refuse();
    const config = local.media.find((c) => c.type === m.type);
    if (config === undefined) return refuse(`no local ${m.type} stream`);
    // One RTP port per media type: a second stream of the same type cannot be carried.
    if (accepted.has(m.type)) return refuse(`a second ${m.type} stream`);
    if (config.protocol !== m.protocol) return refuse(`protocol ${m.protocol} offered, ${config.protocol} supported`);
    const common = commonCodecs(m, config.codecs);
    if (common.length === 0) return refuse(`no common codec in "${m.formats.join(' ')}"`);
    // RFC 4568 §7.1.2: with keys of ours, an offer's a=crypto is accepted under its tag, or the stream refused.
    const offered = Array.isArray(m.other['crypto']) ? (m.other['crypto'] as Array<{ id?: number; suite?: string }>) : [];
    let crypto: ReturnType<typeof cryptoEntry> | undefined;
    if (config.crypto.length > 0) {
      const pick = offered.map((o) => ({ o, ours: config.crypto.find((c) => c.suite === o.suite) })).find((p) => p.ours !== undefined && typeof p.o.id === 'number');
      if (pick === undefined) return refuse('no acceptable a=crypto (RFC 4568 §7.1.2)');
      crypto = cryptoEntry({ ...pick.ours!, tag: pick.o.id! });
    }
    accepted.add(m.type);
    return {
      type: m.type,
      port: config.port,
      protocol: m.protocol,
      formats: common.map((c) => String(c.payloadType)),
      rtpmap: common.map(({ payloadType, codec }) => ({
        payloadType,
        encoding: codec.name,
        clockRate: codec.clockRate,
        ...(codec.channels !== undefined && codec.channels !== 1 && { channels: codec.channels }),
      })),
      fmtp: common.flatMap(({ payloadType, codec }) => (codec.fmtp === undefined ? [] : [{ format: String(payloadType), parameters: codec.fmtp }])),
      // RFC 3264 §6.1, with RFC 2543 hold (c=0.0.0.0) read as not receiving (§8.4).
      direction: holdAnswerDirection(hold, effectiveDirection(offer, i), config.direction),
      other: crypto === undefined ? {} : { crypto: [crypto] },
    };
  });
  if (refusals.length > 0 && accepted.size === 0) {
    throw new OfferAnswerError('ERR_SDP_NOT_ACCEPTABLE', `no offered stream is acceptable (RFC 3264 §6): ${refusals.join('; ')}`, 488);
  }
  return {
    origin,
    name: local.sessionName,
    // RFC 3264 §6: "The t= line in the answer MUST equal that of the offer."
    timing: offer.timing,
    connection: localConnection(local, hold),
    media,
    other: {},
  };
}

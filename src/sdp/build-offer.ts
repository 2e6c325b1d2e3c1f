/**
 * Building our offers (RFC 3264 §5 initial, §8 subsequent) from the local config, the hold model
 * and the descriptions already exchanged. Pure functions: the state machine decides when.
 */
import { randomInt } from 'node:crypto';
import { holdOfferDirection, type HoldState } from './hold-state.js';
import type { ResolvedLocalMedia, SdesCrypto } from './local-media.js';
import type { Connection, MediaDescription, Origin, SessionDescription } from './sdp-types.js';

/**
 * A fresh o= for a new session (RFC 8866 §5.2). The version starts equal to the session id, as
 * the RFC 3665 and RFC 5359 flows show; both stay under 2^47, well inside RFC 3264 §5's limit of
 * 2^62-1 for the initial version so that increments never roll over.
 */
export function newOrigin(local: ResolvedLocalMedia): Origin {
  const sessionId = local.sessionId ?? String(randomInt(1, 2 ** 47));
  return {
    username: local.username,
    sessionId,
    sessionVersion: BigInt(sessionId),
    netType: 'IN',
    addrType: local.addrType,
    address: local.address,
  };
}

/**
 * Our c= line. Always our real address (RFC 3264 §8.4 holds with the direction attribute), except
 * with `legacyHold` while we hold: then the RFC 2543 unspecified address, for peers that predate it.
 */
export function localConnection(local: ResolvedLocalMedia, hold: HoldState): Connection {
  if (local.legacyHold && hold.localHold) {
    return { netType: 'IN', addrType: local.addrType, address: local.addrType === 'IP6' ? '::' : '0.0.0.0' };
  }
  return { netType: 'IN', addrType: local.addrType, address: local.address };
}

/** An m= section listing every local codec, in our order of preference (RFC 3264 §5.1). */
function localSection(m: ResolvedLocalMedia['media'][number], direction: MediaDescription['direction']): MediaDescription {
  return {
    type: m.type,
    port: m.port,
    protocol: m.protocol,
    formats: m.codecs.map((c) => String(c.payloadType)),
    // rtpmap even for static payload types: RFC 8866 §6.6 allows leaving them out, but peers
    // that match codecs by name then find them.
    rtpmap: m.codecs.map((c) => ({
      payloadType: c.payloadType,
      encoding: c.name,
      clockRate: c.clockRate,
      ...(c.channels !== undefined && c.channels !== 1 && { channels: c.channels }),
    })),
    fmtp: m.codecs.flatMap((c) => (c.fmtp === undefined ? [] : [{ format: String(c.payloadType), parameters: c.fmtp }])),
    // Written even when sendrecv, though that is the default (RFC 3264 §5.1): a resume then says
    // so in the SDP itself, as RFC 5359 §2.1 shows, instead of by the absence of a line.
    direction,
    other: m.crypto.length === 0 ? {} : { crypto: m.crypto.map(cryptoEntry) },
  };
}

/** An a=crypto line in the sdp-transform shape kept in a section's `other` (RFC 4568 §9.1). */
export function cryptoEntry(c: SdesCrypto): { id: number; suite: string; config: string } {
  return { id: c.tag, suite: c.suite, config: c.keyParams };
}

/** The first offer of a session (RFC 3264 §5): every local stream and codec. */
export function buildInitialOffer(local: ResolvedLocalMedia, origin: Origin, hold: HoldState): SessionDescription {
  return {
    origin,
    name: local.sessionName,
    timing: { start: 0, stop: 0 },
    connection: localConnection(local, hold),
    media: local.media.map((m, i) => localSection(m, holdOfferDirection(hold, i, m.direction))),
    other: {},
  };
}

/**
 * A later offer in the same session (RFC 3264 §8): our previous description with the same m=
 * lines in the same order (§8: never fewer, never reordered), each stream's direction set from
 * the hold model, addresses and ports from the current config. Streams that either side set to
 * port 0 stay at port 0 (§8.2). Codecs stay as last negotiated, so a hold does not renegotiate them.
 * The o= version is left to `nextVersion`.
 */
export function buildSubsequentOffer(
  local: ResolvedLocalMedia,
  hold: HoldState,
  previousLocal: SessionDescription,
  remote: SessionDescription | undefined,
): SessionDescription {
  const media = previousLocal.media.map((m, i): MediaDescription => {
    const config = local.media.find((c) => c.type === m.type);
    if (m.port === 0 || remote?.media[i]?.port === 0 || config === undefined) {
      const { direction: _direction, connection: _connection, ...rest } = m;
      return { ...rest, port: 0 };
    }
    const { connection: _connection, ...rest } = m;
    return { ...rest, port: config.port, direction: holdOfferDirection(hold, i, config.direction) };
  });
  return { ...previousLocal, connection: localConnection(local, hold), media };
}

/**
 * SDP text <-> `SessionDescription` (RFC 8866), and the small questions asked of one: a stream's
 * direction, its connection address, whether it is an RFC 2543 hold, and which o= version a new
 * description must carry (RFC 3264 §8).
 *
 * sdp-transform does the bulk of the attribute grammar (ICE, DTLS, SRTP, rtcp-fb, extmap...) and
 * writes it all back; the lines that carry the session itself are read by our strict reader
 * (sdp-lines.ts), because sdp-transform drops a line it cannot match without saying so.
 */
import * as sdpTransform from 'sdp-transform';
import { SipError } from '../core/errors.js';
import { receives, sends, directionOf, type Direction } from './direction.js';
import { SdpError } from './sdp-error.js';
import { readSdp } from './sdp-lines.js';
import type { Connection, MediaDescription, Origin, SdpExtras, SessionDescription } from './sdp-types.js';

/** sdp-transform keys that the typed view replaces: never copied into, nor written from, `other`. */
const SESSION_TYPED = new Set(['version', 'origin', 'name', 'timing', 'connection', 'direction', 'media']);
const MEDIA_TYPED = new Set(['type', 'port', 'protocol', 'payloads', 'rtp', 'fmtp', 'connection', 'direction']);

function omit(source: object, keys: ReadonlySet<string>): SdpExtras {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(source)) if (!keys.has(k) && v !== undefined) out[k] = v;
  return out;
}

/**
 * Parses an SDP body. Throws `SdpError` (code `ERR_SDP`) with the reason and line for anything
 * malformed; never anything else.
 */
export function parseSdp(text: string): SessionDescription {
  const core = readSdp(text);
  let parsed: sdpTransform.SessionDescription;
  try {
    parsed = sdpTransform.parse(text);
  } catch (e) {
    // sdp-transform is regular-expression based and is not known to throw; if it ever does, the
    // caller still gets the one error type this module promises.
    throw new SdpError(`unreadable attribute (${e instanceof Error ? e.message : String(e)})`, 0, { cause: e });
  }
  if (parsed.media.length !== core.media.length) {
    throw new SdpError(`${core.media.length} m= sections read but ${parsed.media.length} parsed`);
  }
  return {
    ...core,
    media: core.media.map((m, i) => ({ ...m, other: omit(parsed.media[i]!, MEDIA_TYPED) })),
    other: omit(parsed, SESSION_TYPED),
  };
}

function ipVersion(addrType: string): number {
  return addrType === 'IP6' ? 6 : 4;
}

function transformConnection(c: Connection | undefined): { version: number; ip: string } | undefined {
  return c === undefined ? undefined : { version: ipVersion(c.addrType), ip: c.address };
}

/** The o= line, written here so that 64-bit session ids and versions keep every digit. */
function originLine(o: Origin): string {
  return `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`;
}

/**
 * The first text field holding a CR, LF or NUL, anywhere in the description. Such a field would
 * write a line of its own: `s=x<CRLF>a=sendonly` is well-formed SDP that means something else,
 * which reading the output back could not catch.
 */
function lineBreakIn(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return /[\r\n\0]/.test(value) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const found = lineBreakIn(v, `${path}.${k}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Writes a description as SDP text with CRLF line ends (RFC 8866 §5). The output is read back by
 * the strict reader before it is returned, so this never emits SDP that `parseSdp` would refuse;
 * a description that cannot be written (a line break in a field, an m= line without formats) throws
 * `SipError` `ERR_INVALID_ARGUMENT`.
 */
export function serializeSdp(sd: SessionDescription): string {
  const broken = lineBreakIn(sd, 'description');
  if (broken !== undefined) throw new SipError('ERR_INVALID_ARGUMENT', `cannot write this session description: ${broken} holds a line break or NUL`);
  const media = sd.media.map((m) => ({
    ...m.other,
    type: m.type,
    port: m.port,
    protocol: m.protocol,
    payloads: m.formats.join(' '),
    rtp: m.rtpmap.map((r) => ({
      payload: r.payloadType,
      codec: r.encoding,
      rate: r.clockRate,
      ...(r.channels !== undefined && { encoding: r.channels }),
    })),
    fmtp: m.fmtp.map((f) => ({ payload: f.format, config: f.parameters })),
    connection: transformConnection(m.connection),
    direction: m.direction,
  }));
  const session = {
    ...sd.other,
    version: 0,
    origin: {
      username: sd.origin.username,
      sessionId: sd.origin.sessionId,
      sessionVersion: 0,
      netType: sd.origin.netType,
      ipVer: ipVersion(sd.origin.addrType),
      address: sd.origin.address,
    },
    name: sd.name,
    timing: { start: sd.timing.start, stop: sd.timing.stop },
    connection: transformConnection(sd.connection),
    direction: sd.direction,
    media,
  };
  // The extras are sdp-transform's own output, so its input type describes them; the cast is
  // where our typed view hands back to the library.
  try {
    const lines = sdpTransform.write(session as unknown as sdpTransform.SessionDescription).split('\r\n');
    lines[1] = originLine(sd.origin);
    const text = lines.join('\r\n');
    readSdp(text);
    return text;
  } catch (e) {
    throw new SipError('ERR_INVALID_ARGUMENT', `cannot write this session description: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** The connection address that applies to stream `index`: its own c=, else the session's (RFC 8866 §5.7). */
export function connectionOf(sd: SessionDescription, index: number): Connection | undefined {
  return sd.media[index]?.connection ?? sd.connection;
}

/**
 * The direction written for stream `index`: its own attribute, else the session-level one, else
 * `sendrecv` (RFC 3264 §5.1, RFC 8866 §6.7).
 */
export function declaredDirection(sd: SessionDescription, index: number): Direction {
  return sd.media[index]?.direction ?? sd.direction ?? 'sendrecv';
}

/**
 * True when stream `index` uses the RFC 2543 hold: a connection address of 0.0.0.0, which
 * RFC 3264 §8.4 asks answerers to keep understanding. `::`, the IPv6 unspecified address, is read
 * the same way: no RFC defines it as hold, but nothing can be sent to it either.
 */
export function isLegacyHold(sd: SessionDescription, index: number): boolean {
  const address = connectionOf(sd, index)?.address;
  return address !== undefined && isUnspecifiedAddress(address);
}

/** True for 0.0.0.0 and the IPv6 unspecified address in any spelling (`::`, `0:0:0:0:0:0:0:0`). */
export function isUnspecifiedAddress(address: string): boolean {
  return address === '0.0.0.0' || (/^[0:]+$/.test(address) && address.includes(':'));
}

/**
 * What stream `index` really allows, seen from the side that wrote `sd`: the declared direction,
 * except that an RFC 2543 hold (c=0.0.0.0) cannot receive, since there is nowhere to send to.
 * So c=0.0.0.0 with sendrecv reads as sendonly, and with recvonly as inactive (RFC 3264 §8.4).
 */
export function effectiveDirection(sd: SessionDescription, index: number): Direction {
  const declared = declaredDirection(sd, index);
  return isLegacyHold(sd, index) ? directionOf(sends(declared), false) : declared;
}

/** True when the side that wrote `sd` will receive on stream `index` (after RFC 2543 hold). */
export function receivesOn(sd: SessionDescription, index: number): boolean {
  return receives(effectiveDirection(sd, index));
}

/** A copy with stream `index`'s direction set; with no index, every stream's. */
export function withDirection(sd: SessionDescription, direction: Direction, index?: number): SessionDescription {
  return {
    ...sd,
    media: sd.media.map((m, i): MediaDescription => (index === undefined || i === index ? { ...m, direction } : m)),
  };
}

/** A copy with another o= session version. */
export function withVersion(sd: SessionDescription, sessionVersion: bigint): SessionDescription {
  return { ...sd, origin: { ...sd.origin, sessionVersion } };
}

/** True when two descriptions would be written the same apart from the o= version. */
export function sameContent(a: SessionDescription, b: SessionDescription): boolean {
  return serializeSdp(withVersion(a, 0n)) === serializeSdp(withVersion(b, 0n));
}

/**
 * The o= version rule of RFC 3264 §8 for the next description we send in a session: the same
 * version (and the same description) when nothing changed, else the previous version plus one.
 * `candidate`'s own version is ignored; with no previous description it is returned unchanged.
 */
export function nextVersion(previous: SessionDescription | undefined, candidate: SessionDescription): SessionDescription {
  if (previous === undefined) return candidate;
  // RFC 3264 §8: "If the version in the origin line does not increment, the SDP MUST be identical".
  if (sameContent(previous, candidate)) return previous;
  return withVersion(candidate, previous.origin.sessionVersion + 1n);
}

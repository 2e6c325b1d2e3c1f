/**
 * The strict reader of an SDP body (RFC 8866 §5, §9): checks the line structure and reads the
 * fields offer/answer decides on (o=, s=, t=, c=, m=, direction, rtpmap, fmtp).
 *
 * It exists beside sdp-transform because that library is lenient by design: a line it cannot
 * match is dropped without a word, and numbers are coerced (`m=audio 49170 RTP/AVP 0` gives the
 * number 0 for the payload list; a large o= version loses precision). A dropped `c=` or `m=`
 * would silently change the session, so the lines that carry the session are read here, and
 * anything wrong with them is an `SdpError` naming the line.
 */
import { isDirection, type Direction } from './direction.js';
import { SdpError } from './sdp-error.js';
import type { Connection, Fmtp, MediaDescription, Origin, RtpMap, SessionDescription, Timing } from './sdp-types.js';

/** What this reader produces: the typed fields, without the `other` extras. */
export type SdpCore = Omit<SessionDescription, 'other' | 'media'> & {
  readonly media: ReadonlyArray<Omit<MediaDescription, 'other'>>;
};

/** RFC 8866 §9 `token`: what attribute names, media types and protocols are made of. */
const TOKEN = /^[!#-'*+\-.0-9A-Z^-~]+$/;
/** RFC 8866 §9 `proto`: tokens separated by '/' (RTP/AVP, UDP/TLS/RTP/SAVPF, udptl). */
const PROTO = /^[!#-'*+\-.0-9A-Z^-~]+(?:\/[!#-'*+\-.0-9A-Z^-~]+)*$/;
const DIGITS = /^[0-9]+$/;
/** RFC 3264 §5: o= session id and version must fit a signed 64-bit integer. */
const MAX_INT64 = (1n << 63n) - 1n;
/** The line types of RFC 8866 §5 (k= is obsolete but still legal to receive). */
const KNOWN_TYPES = new Set(['v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm']);
/** Types that may appear only in the session section (RFC 8866 §5 ordering). */
const SESSION_ONLY = new Set(['v', 'o', 's', 'u', 'e', 'p', 't', 'r', 'z']);

interface Line {
  readonly type: string;
  readonly value: string;
  readonly n: number;
}

/** Splits the body into typed lines, checking the `<type>=<value>` form of each (RFC 8866 §5). */
export function splitLines(text: string): Line[] {
  if (typeof text !== 'string') throw new SdpError('the body is not text');
  // RFC 8866 §5: lines end in CRLF, but a parser should also accept a bare LF. A bare CR is
  // accepted too, because sdp-transform splits on it and both readers must see the same lines.
  const raw = text.split(/\r\n|\r|\n/);
  const lines: Line[] = [];
  raw.forEach((l, i) => {
    const n = i + 1;
    // Blank lines carry nothing; the usual one is the empty string after the final CRLF.
    if (l.trim() === '') return;
    if (l.includes('\0')) throw new SdpError('NUL character in a line (RFC 8866 §5: text fields exclude NUL)', n);
    if (l.length < 2 || l[1] !== '=' || !/^[a-z]$/.test(l[0]!)) {
      throw new SdpError(`"${clip(l)}" is not of the form <type>=<value> (RFC 8866 §5)`, n);
    }
    const type = l[0]!;
    // RFC 8866 §5: a parser must ignore or reject a description with a type letter it does not
    // understand; rejecting is the choice that cannot silently lose part of the session.
    if (!KNOWN_TYPES.has(type)) throw new SdpError(`unknown line type "${type}=" (RFC 8866 §5)`, n);
    lines.push({ type, value: l.slice(2), n });
  });
  if (lines.length === 0) throw new SdpError('the body is empty');
  return lines;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** Fields separated by single spaces (RFC 8866 §9); runs of spaces and tabs are tolerated. */
function fields(line: Line): string[] {
  const v = line.value.trim();
  return v === '' ? [] : v.split(/[ \t]+/);
}

function int64(text: string, what: string, n: number): bigint {
  if (!DIGITS.test(text)) throw new SdpError(`o= ${what} "${clip(text)}" is not a decimal number (RFC 8866 §5.2)`, n);
  const value = BigInt(text);
  if (value > MAX_INT64) throw new SdpError(`o= ${what} does not fit in 64 bits (RFC 3264 §5)`, n);
  return value;
}

function readOrigin(line: Line): Origin {
  const f = fields(line);
  if (f.length !== 6) {
    throw new SdpError('o= needs 6 fields: <username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 8866 §5.2)', line.n);
  }
  const [username, sessionId, version, netType, addrType, address] = f as [string, string, string, string, string, string];
  const id = int64(sessionId, 'session id', line.n);
  return {
    username,
    sessionId: id.toString(),
    sessionVersion: int64(version, 'session version', line.n),
    netType,
    addrType,
    address,
  };
}

function readConnection(line: Line): Connection {
  const f = fields(line);
  if (f.length !== 3) throw new SdpError('c= needs 3 fields: <nettype> <addrtype> <connection-address> (RFC 8866 §5.7)', line.n);
  const [netType, addrType, address] = f as [string, string, string];
  if (netType !== 'IN') throw new SdpError(`c= network type "${clip(netType)}" is not IN (RFC 8866 §5.7)`, line.n);
  if (addrType !== 'IP4' && addrType !== 'IP6') {
    throw new SdpError(`c= address type "${clip(addrType)}" is neither IP4 nor IP6 (RFC 8866 §5.7)`, line.n);
  }
  // DEVIATION(RFC 8866 §5.7): multicast addresses with a TTL or address count (`/127`, `/127/3`)
  // are refused. A SIP user agent negotiates unicast streams (RFC 3264 §5.1); multicast offers
  // (RFC 3264 §5.2) have no use here, and a refused offer gets a clear 488 instead of media sent
  // to an address misread without its suffix.
  if (address.includes('/')) throw new SdpError('multicast c= addresses with a TTL or count are not supported (RFC 8866 §5.7)', line.n);
  return { netType, addrType, address };
}

function readTiming(line: Line): Timing {
  const f = fields(line);
  if (f.length !== 2 || !DIGITS.test(f[0]!) || !DIGITS.test(f[1]!)) {
    throw new SdpError('t= needs two decimal times: <start-time> <stop-time> (RFC 8866 §5.9)', line.n);
  }
  const start = Number(f[0]);
  const stop = Number(f[1]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(stop)) throw new SdpError('t= time out of range (RFC 8866 §5.9)', line.n);
  return { start, stop };
}

interface MediaLine {
  type: string;
  port: number;
  protocol: string;
  formats: string[];
}

function readMediaLine(line: Line): MediaLine {
  const f = fields(line);
  if (f.length < 4) {
    throw new SdpError('m= needs at least 4 fields: <media> <port> <proto> <fmt> ... (RFC 8866 §5.14)', line.n);
  }
  const [type, portText, protocol, ...formats] = f as [string, string, string, ...string[]];
  if (!TOKEN.test(type)) throw new SdpError(`m= media type "${clip(type)}" is not a token (RFC 8866 §5.14)`, line.n);
  // DEVIATION(RFC 8866 §5.14): `<port>/<number of ports>` (layered encodings) is refused: a SIP
  // user agent negotiates one port per stream (RFC 3264 §5.1), and guessing which port to use
  // would be worse than a clear 488.
  if (portText.includes('/')) throw new SdpError('m= port counts (<port>/<number of ports>) are not supported (RFC 8866 §5.14)', line.n);
  if (!DIGITS.test(portText) || Number(portText) > 65535) {
    throw new SdpError(`m= port "${clip(portText)}" is not a number from 0 to 65535 (RFC 8866 §5.14)`, line.n);
  }
  if (!PROTO.test(protocol)) throw new SdpError(`m= protocol "${clip(protocol)}" is malformed (RFC 8866 §5.14)`, line.n);
  for (const fmt of formats) {
    if (!TOKEN.test(fmt)) throw new SdpError(`m= format "${clip(fmt)}" is not a token (RFC 8866 §5.14)`, line.n);
  }
  // RFC 8866 §5.14: for RTP/AVP and RTP/SAVP the formats are payload type numbers (0-127, RFC 3551 §6).
  if (/^RTP\//.test(protocol)) {
    for (const fmt of formats) {
      if (!DIGITS.test(fmt) || Number(fmt) > 127) {
        throw new SdpError(`m= format "${clip(fmt)}" is not an RTP payload type 0-127 (RFC 8866 §5.14, RFC 3551 §6)`, line.n);
      }
    }
  }
  return { type, port: Number(portText), protocol, formats };
}

/** `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (RFC 8866 §6.6). */
function readRtpmap(value: string, n: number): RtpMap {
  const m = /^([0-9]{1,3})[ \t]+([^/ \t]+)\/([0-9]+)(?:\/([0-9]+))?[ \t]*$/.exec(value);
  if (m === null || Number(m[1]) > 127 || Number(m[3]) === 0) {
    throw new SdpError(`a=rtpmap:${clip(value)} is not <payload type> <encoding name>/<clock rate>[/<channels>] (RFC 8866 §6.6)`, n);
  }
  const map: RtpMap = { payloadType: Number(m[1]), encoding: m[2]!, clockRate: Number(m[3]) };
  return m[4] === undefined ? map : { ...map, channels: Number(m[4]) };
}

/** `a=fmtp:<format> <format specific parameters>` (RFC 8866 §6.15). */
function readFmtp(value: string, n: number): Fmtp {
  const m = /^([^ \t]+)[ \t]+(.*)$/.exec(value);
  if (m === null || !TOKEN.test(m[1]!) || m[2]!.trim() === '') {
    throw new SdpError(`a=fmtp:${clip(value)} is not <format> <parameters> (RFC 8866 §6.15)`, n);
  }
  return { format: m[1]!, parameters: m[2]!.trim() };
}

/** The attributes of one section that this reader types. */
interface SectionAttributes {
  direction?: Direction;
  rtpmap: RtpMap[];
  fmtp: Fmtp[];
}

function readAttribute(line: Line, into: SectionAttributes, where: string): void {
  const colon = line.value.indexOf(':');
  const name = colon < 0 ? line.value.trimEnd() : line.value.slice(0, colon);
  const value = colon < 0 ? '' : line.value.slice(colon + 1);
  if (!TOKEN.test(name)) throw new SdpError(`a=${clip(line.value)}: attribute name is not a token (RFC 8866 §5.13)`, line.n);
  if (isDirection(name)) {
    // RFC 3264 §5.1 gives a stream one direction; two in one section leave it ambiguous.
    if (into.direction !== undefined) throw new SdpError(`more than one direction attribute in ${where} (RFC 3264 §5.1)`, line.n);
    into.direction = name;
  } else if (name === 'rtpmap') {
    into.rtpmap.push(readRtpmap(value, line.n));
  } else if (name === 'fmtp') {
    into.fmtp.push(readFmtp(value, line.n));
  }
}

/** Reads and checks a whole body. Throws `SdpError` naming the first fault. */
export function readSdp(text: string): SdpCore {
  const lines = splitLines(text);
  // RFC 8866 §5: v= first, then o=, then s=.
  const [v, o, s] = lines;
  if (v?.type !== 'v') throw new SdpError('the first line is not v= (RFC 8866 §5)', v?.n ?? 0);
  if (v.value.trim() !== '0') throw new SdpError(`v=${clip(v.value)}: only version 0 exists (RFC 8866 §5.1)`, v.n);
  if (o?.type !== 'o') throw new SdpError('the second line is not o= (RFC 8866 §5)', o?.n ?? v.n);
  const origin = readOrigin(o);
  if (s?.type !== 's') throw new SdpError('the third line is not s= (RFC 8866 §5)', s?.n ?? o.n);

  let timing: Timing | undefined;
  let connection: Connection | undefined;
  const session: SectionAttributes = { rtpmap: [], fmtp: [] };
  const media: Array<Omit<MediaDescription, 'other'>> = [];
  let current: (MediaLine & SectionAttributes & { connection?: Connection }) | undefined;
  const flush = (): void => {
    if (current === undefined) return;
    const { direction, connection: c, ...rest } = current;
    media.push({ ...rest, ...(c !== undefined && { connection: c }), ...(direction !== undefined && { direction }) });
  };

  for (const line of lines.slice(3)) {
    const where = current === undefined ? 'the session section' : `m= section ${media.length + 1}`;
    if (line.type === 'm') {
      flush();
      current = { ...readMediaLine(line), rtpmap: [], fmtp: [] };
    } else if (line.type === 'v' || line.type === 'o' || line.type === 's') {
      throw new SdpError(`a second ${line.type}= line (RFC 8866 §5)`, line.n);
    } else if (current !== undefined && SESSION_ONLY.has(line.type)) {
      throw new SdpError(`${line.type}= belongs in the session section, not after m= (RFC 8866 §5)`, line.n);
    } else if (line.type === 't') {
      // Several t= lines describe several active periods (RFC 8866 §5.9); SIP uses one (RFC 3264 §5),
      // and an answer copies the offer's (RFC 3264 §6), so the first is the one that counts.
      timing ??= readTiming(line);
    } else if (line.type === 'c') {
      const c = readConnection(line);
      if (current !== undefined) {
        if (current.connection !== undefined) throw new SdpError(`more than one c= in ${where} (RFC 8866 §5.7)`, line.n);
        current.connection = c;
      } else {
        if (connection !== undefined) throw new SdpError('more than one c= in the session section (RFC 8866 §5.7)', line.n);
        connection = c;
      }
    } else if (line.type === 'a') {
      readAttribute(line, current ?? session, where);
    }
    // i=, u=, e=, p=, b=, r=, z=, k=: carried by sdp-transform in `other`, nothing to decide on here.
  }
  flush();

  // RFC 8866 §5.7: every stream needs a connection address, its own or the session's. A stream
  // with port 0 is not used (RFC 3264 §6), so it is let through without one.
  media.forEach((m, i) => {
    if (m.port !== 0 && m.connection === undefined && connection === undefined) {
      throw new SdpError(`m= section ${i + 1} (${m.type}) has no c= and there is no session-level c= (RFC 8866 §5.7)`);
    }
  });

  return {
    origin,
    name: s.value,
    // RFC 8866 §5.9 makes t= mandatory; an old peer that leaves it out means an unbounded session,
    // which is all a SIP session ever is (RFC 3264 §5), so it is read as `t=0 0` rather than refused.
    timing: timing ?? { start: 0, stop: 0 },
    ...(connection !== undefined && { connection }),
    ...(session.direction !== undefined && { direction: session.direction }),
    media,
  };
}

/**
 * Via (RFC 3261 §20.42, grammar §25.1), and the host scanners (hostname, IPv4address,
 * IPv6reference) that Warning's agent shares.
 */
import { SipParseError } from '../../core/errors.js';
import { isToken, isWs, scanToken, skipWs } from '../grammar.js';
import { formatParams, parseParams, type Params } from '../params.js';
import type { Via } from '../types.js';
import { equalsLiteral, parseDecimal, scanDigits, snippet } from './numbers.js';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlpha(c: number): boolean {
  const l = c | 0x20;
  return l >= 97 && l <= 122;
}

function isHex(c: number): boolean {
  const l = c | 0x20;
  return isDigit(c) || (l >= 97 && l <= 102);
}

/** RFC 3261 §25.1 IPv4address, each octet read as a dec-octet (0-255) as RFC 5954 §4.1 corrects it. */
export function isIPv4(s: string, start: number, end: number): boolean {
  let octets = 0;
  let i = start;
  for (;;) {
    const d = i;
    let n = 0;
    while (i < end && i - d < 4 && isDigit(s.charCodeAt(i))) n = n * 10 + (s.charCodeAt(i++) - 48);
    if (i === d || i - d > 3 || n > 255) return false;
    octets++;
    if (i === end) return octets === 4;
    if (s.charCodeAt(i) !== 46 /* . */ || octets === 4) return false;
    i++;
  }
}

/**
 * RFC 3261 §25.1 IPv6address: up to eight 1-4 digit hex groups, at most one `::`, optionally ending
 * in an IPv4address that stands for two groups. RFC 3261's ABNF (`hexpart [ ":" IPv4address ]`)
 * also admits a third colon between `::` and the IPv4 part; RFC 5118 §4.10 asks parsers to be robust
 * to that form (`2001:db8:::192.0.2.1`), so it is accepted there and only there.
 */
export function isIPv6(s: string, start: number, end: number): boolean {
  let i = start;
  let groups = 0;
  let elided = false;
  if (i < end && s.charCodeAt(i) === 58) {
    if (i + 1 >= end || s.charCodeAt(i + 1) !== 58) return false;
    elided = true;
    i += 2;
    if (i === end) return true;
    if (s.charCodeAt(i) === 58) return isIPv4(s, i + 1, end);
  }
  for (;;) {
    const g = i;
    while (i < end && i - g < 5 && isHex(s.charCodeAt(i))) i++;
    if (i < end && s.charCodeAt(i) === 46 /* . */) {
      // A trailing IPv4 part: the group just read was its first octet.
      if (!isIPv4(s, g, end)) return false;
      groups += 2;
      break;
    }
    if (i === g || i - g > 4) return false;
    groups++;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (elided) return false;
      elided = true;
      i++;
      if (i === end) break;
      if (s.charCodeAt(i) === 58) return groups <= 5 && isIPv4(s, i + 1, end);
    } else if (i === end) {
      return false;
    }
  }
  return elided ? groups <= 7 : groups === 8;
}

/** Letters and digits (RFC 3261 §25.1 alphanum), by char code. */
const ALNUM = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') ALNUM[c.charCodeAt(0)] = 1;

/**
 * Scans an RFC 3261 §25.1 hostname or IPv4address at `start` in one pass and returns the index after
 * it, or -1 when what is there is neither. hostname = dot-separated labels of alphanum and '-',
 * neither starting nor ending with '-', an optional final dot, and a toplabel that starts with a
 * letter; anything whose last label starts with a digit can only be an IPv4address.
 */
function scanHostname(s: string, start: number): number {
  let i = start;
  let labelStart = start;
  let topStart = start;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (i === labelStart || s.charCodeAt(i - 1) === 45) return -1;
      topStart = labelStart;
      labelStart = i + 1;
    } else if (c === 45 /* - */) {
      if (i === labelStart) return -1;
    } else if (c >= 128 || ALNUM[c] !== 1) {
      break;
    }
    i++;
  }
  if (i === labelStart) {
    // Empty, or ended by the optional final dot: the toplabel is the label before it.
    return i > start && isAlpha(s.charCodeAt(topStart)) ? i : -1;
  }
  if (s.charCodeAt(i - 1) === 45) return -1;
  if (isAlpha(s.charCodeAt(labelStart))) return i;
  return isIPv4(s, start, i) ? i : -1;
}

/**
 * Scans a host (RFC 3261 §25.1: hostname / IPv4address / IPv6reference) starting at `i` and
 * returns the index after it. Throws SipParseError when there is none or it is malformed.
 */
export function scanHost(s: string, i: number): number {
  if (i < s.length && s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf(']', i + 1);
    if (close < 0 || !isIPv6(s, i + 1, close)) throw new SipParseError(`bad IPv6 reference: ${snippet(s, i)}`);
    return close + 1;
  }
  const end = scanHostname(s, i);
  if (end < 0) throw new SipParseError(`bad host: ${snippet(s, i)}`);
  return end;
}

/** True when all of `s` is a host. */
function isHost(s: string): boolean {
  if (s.length === 0) return false;
  if (s.charCodeAt(0) === 91) return s.charCodeAt(s.length - 1) === 93 && isIPv6(s, 1, s.length - 1);
  return scanHostname(s, 0) === s.length;
}

/** The common transports as constants, so the usual Via costs no slice or case conversion. */
const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS', 'TLS-SCTP'];
const TRANSPORTS_LOWER = TRANSPORTS.map((t) => t.toLowerCase());

/** RFC 3261 §20.42: transport tokens compare case-insensitively; we keep them upper-cased. */
function transportName(s: string, start: number, end: number): string {
  for (let k = 0; k < TRANSPORTS.length; k++) {
    if (equalsLiteral(s, start, end, TRANSPORTS_LOWER[k]!)) return TRANSPORTS[k]!;
  }
  return s.slice(start, end).toUpperCase();
}

function isVersion20(s: string, start: number, end: number): boolean {
  return end - start === 3 && s.charCodeAt(start) === 50 && s.charCodeAt(start + 1) === 46 && s.charCodeAt(start + 2) === 48;
}

/** SLASH = SWS "/" SWS: returns the index after the slash and its whitespace. */
function slash(s: string, i: number): number {
  i = skipWs(s, i);
  if (i >= s.length || s.charCodeAt(i) !== 47) throw new SipParseError(`expected "/" in Via sent-protocol: ${snippet(s)}`);
  return skipWs(s, i + 1);
}

/**
 * The via-params RFC 3261 §25.1 types: branch is a token, received an address (RFC 5118 §4.5: an
 * IPv6 one with or without brackets), rport empty or a port (RFC 3581 §3), ttl 0-255, maddr a host.
 * Quoting any of them is not in their grammar. Extension params are left as generic-params.
 */
function checkViaParams(params: Params, quoted: ReadonlySet<string> | undefined): void {
  const branch = params.branch;
  if (branch !== undefined && (branch === null || !isToken(branch) || quoted?.has('branch'))) {
    throw new SipParseError('bad Via branch');
  }
  const received = params.received;
  if (received !== undefined) {
    if (received === null || quoted?.has('received')) throw new SipParseError('bad Via received');
    const ok = isIPv4(received, 0, received.length) || isIPv6(received, 0, received.length) ||
      (received.charCodeAt(0) === 91 && received.charCodeAt(received.length - 1) === 93 && isIPv6(received, 1, received.length - 1));
    if (!ok) throw new SipParseError(`bad Via received: ${snippet(received)}`);
  }
  const rport = params.rport;
  if (rport !== undefined && rport !== null) {
    if (quoted?.has('rport')) throw new SipParseError('bad Via rport');
    parseDecimal(rport, 0, rport.length, 65535, 'Via rport');
  }
  const ttl = params.ttl;
  if (ttl !== undefined) {
    if (ttl === null || quoted?.has('ttl')) throw new SipParseError('bad Via ttl');
    parseDecimal(ttl, 0, ttl.length, 255, 'Via ttl');
  }
  const maddr = params.maddr;
  if (maddr !== undefined && (maddr === null || quoted?.has('maddr') || !isHost(maddr))) {
    throw new SipParseError('bad Via maddr');
  }
}

/** Parses one via-parm starting at `i` (not whitespace), appends it and returns the index of ',' or the end. */
function parseViaParm(s: string, i: number, out: Via[]): number {
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, LWS allowed around the
  // slashes (RFC 4475 §3.1.1.1 wsinv: `SIP  /   2.0 /UDP`).
  const nameEnd = scanToken(s, i);
  if (nameEnd === i) throw new SipParseError(`empty or malformed Via value: ${snippet(s, i)}`);
  const versionStart = slash(s, nameEnd);
  const versionEnd = scanToken(s, versionStart);
  if (versionEnd === versionStart) throw new SipParseError('missing Via protocol-version');
  if (!equalsLiteral(s, i, nameEnd, 'sip')) throw new SipParseError(`unsupported Via protocol: ${snippet(s, i, nameEnd)}`);
  if (!isVersion20(s, versionStart, versionEnd)) {
    // RFC 3261 §21.5.6 / RFC 4475 §3.1.2.16 (badvers): a version we do not speak is a 505.
    throw new SipParseError(`unsupported SIP version in Via: ${snippet(s, versionStart, versionEnd)}`, -1, 505);
  }
  const transportStart = slash(s, versionEnd);
  const transportEnd = scanToken(s, transportStart);
  if (transportEnd === transportStart) throw new SipParseError('missing Via transport');
  // via-parm = sent-protocol LWS sent-by: at least one whitespace char.
  if (transportEnd >= s.length || !isWs(s.charCodeAt(transportEnd))) throw new SipParseError('expected LWS before Via sent-by');
  const hostStart = skipWs(s, transportEnd);
  const hostEnd = scanHost(s, hostStart);
  const transport = transportName(s, transportStart, transportEnd);
  const host = s.slice(hostStart, hostEnd);
  let j = hostEnd;
  let port: number | undefined;
  // sent-by = host [ COLON port ], COLON = SWS ":" SWS
  const colon = skipWs(s, hostEnd);
  if (colon < s.length && s.charCodeAt(colon) === 58) {
    const portStart = skipWs(s, colon + 1);
    j = scanDigits(s, portStart);
    port = parseDecimal(s, portStart, j, 65535, 'Via port');
  }
  const pp = parseParams(s, j, true);
  checkViaParams(pp.params, pp.quoted);
  const params = pp.params;
  out.push(
    port === undefined
      ? { protocol: 'SIP/2.0', transport, host, params }
      : { protocol: 'SIP/2.0', transport, host, port, params },
  );
  return pp.end;
}

/**
 * Via (RFC 3261 §20.42): one or more comma-separated via-parms. An empty value or an empty element
 * (RFC 4475 §3.1.2.1 badinv01: `SIP/2.0/UDP 192.0.2.15;;,;,,`) is a 400; a version other than
 * SIP/2.0 is a 505.
 */
export function parseVia(value: string): Via[] {
  const out: Via[] = [];
  let i = skipWs(value, 0);
  for (;;) {
    if (i >= value.length || value.charCodeAt(i) === 44) throw new SipParseError(`empty Via value: ${snippet(value)}`);
    i = parseViaParm(value, i, out);
    if (i >= value.length) return out;
    i = skipWs(value, i + 1);
  }
}

/** Writes one via-parm: `SIP/2.0/UDP host:port;params`. */
export function formatVia(v: Via): string {
  const port = v.port === undefined ? '' : ':' + v.port;
  return v.protocol + '/' + v.transport + ' ' + v.host + port + formatParams(v.params);
}

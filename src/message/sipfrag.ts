/**
 * message/sipfrag bodies (RFC 3420): a fragment of a SIP message. REFER's NOTIFYs carry one with
 * the status line of the referenced request's latest response (RFC 3515 §2.4.5), e.g.
 * `SIP/2.0 180 Ringing`, optionally followed by header fields.
 */
import { SipParseError } from '../core/errors.js';

export const SIPFRAG_TYPE = 'message/sipfrag';

/** A sipfrag read as a status line and its headers (names as written, in order). */
export interface SipfragStatus {
  readonly status: number;
  readonly reason: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** Writes `SIP/2.0 <status> <reason>` and any headers, CRLF-terminated (RFC 3420 §2). */
export function formatSipfrag(status: number, reason: string, headers: ReadonlyArray<readonly [string, string]> = []): string {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new SipParseError(`a sipfrag status is 100-699, not ${status}`);
  if (/[\r\n]/.test(reason)) throw new SipParseError('a sipfrag reason phrase has no line breaks');
  let out = `SIP/2.0 ${status} ${reason}\r\n`;
  for (const [name, value] of headers) {
    if (/[\r\n:]/.test(name) || /[\r\n]/.test(value)) throw new SipParseError(`bad sipfrag header ${name}`);
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

/**
 * Reads a sipfrag whose start line is a status line (the only kind REFER uses). Header fields
 * end at an empty line or at the end of the body; folded lines are joined. Throws SipParseError
 * when the start line is not `SIP/2.0 NNN reason`.
 */
export function parseSipfrag(text: string): SipfragStatus {
  const lines = text.split(/\r?\n/);
  const first = lines[0] ?? '';
  const m = /^SIP\/2\.0 ([1-6][0-9][0-9])(?: (.*))?$/i.exec(first.trimEnd());
  if (m === null) throw new SipParseError(`not a sipfrag status line: ${first.slice(0, 60)}`);
  const headers: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    if ((line.startsWith(' ') || line.startsWith('\t')) && headers.length > 0) {
      const last = headers[headers.length - 1]!;
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError(`bad sipfrag header line: ${line.slice(0, 60)}`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { status: Number(m[1]), reason: m[2] ?? '', headers };
}

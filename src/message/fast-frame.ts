/**
 * The byte-level fast path of parseMessage: fast-scan.ts reads the message in one pass when it has
 * the common, well-formed shape (start line as RFC 3261 §7.1/§7.2 writes it, `Name: value` lines
 * ending in CRLF, no folding, a plain Content-Length), and this builds the message from what it
 * found, with the header lines kept as offsets (HeaderIndex). Anything else, malformed or merely
 * unusual, makes it return undefined, and parse-message.ts runs the general parser, which gives the
 * same result for what this path accepts and produces every error.
 */
import { FRAME, scanFrame } from './fast-scan.js';
import type { MessageLimits } from './limits.js';
import { SipRequest, SipResponse, type HeaderIndex, type WireSpan } from './message.js';

type Latin1Sliceable = Buffer & { latin1Slice(start: number, end: number): string };

/**
 * Parses the message in buf[start, buf.length) (start is past any leading CRLFs) when it has the
 * common shape; undefined otherwise.
 */
export function fastFrame(buf: Buffer, start: number, limits: MessageLimits): SipRequest | SipResponse | undefined {
  if (!scanFrame(buf, start, limits)) return undefined;
  const r = FRAME;
  const headEnd = r.headEnd;
  const source: WireSpan = { buf, start, bodyStart: headEnd + 2, end: r.bodyEnd };
  // The start line and header section as one binary string; values are slices of it.
  const text = (buf as Latin1Sliceable).latin1Slice(start, headEnd);
  const index: HeaderIndex = {
    text, buf, base: start, flags: r.high, lines: r.lines, count: r.count,
    seen0: r.seen0, seen1: r.seen1, seen2: r.seen2, dup0: r.dup0, dup1: r.dup1, dup2: r.dup2,
  };
  if (r.isResponse) return new SipResponse(r.status, text.slice(r.reasonStart - start, r.firstEnd - start), index, undefined, source);
  const u = r.uriStart - start;
  const ue = r.uriEnd - start;
  // A scheme: a ':' after at least one char (sip: and sips: found without a search).
  const colon = text.charCodeAt(u) === 58 ? 0 : text.charCodeAt(u + 3) === 58 ? 3 : text.charCodeAt(u + 4) === 58 ? 4 : text.indexOf(':', u) - u;
  if (colon <= 0 || colon >= ue - u) return undefined;
  return new SipRequest(text.slice(0, r.methodEnd - start), text.slice(u, ue), index, undefined, source, u);
}

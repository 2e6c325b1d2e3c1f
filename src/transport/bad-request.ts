/**
 * The answer to a request that cannot be processed because it is malformed: a 400 (or the status
 * the parser names: 505, 513...) whose Reason-Phrase says what was wrong (RFC 3261 §21.4.1:
 * "the reason phrase SHOULD identify the syntax problem in more detail").
 */
import type { SipParseError } from '../core/errors.js';
import { createResponse } from '../message/build.js';
import type { MessageLimits } from '../message/limits.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import { parseMessage } from '../message/parse-message.js';

/** Headers without which a response cannot be built or matched by the sender (RFC 3261 §8.2.6). */
const NEEDED = ['via', 'from', 'to', 'call-id', 'cseq'];

/**
 * A response to `request` for `error`, or undefined when none may or can be sent: never to an ACK
 * (it ends a transaction rather than starting one, RFC 3261 §17, so nothing matches an answer to
 * it), never without the headers a response copies.
 */
export function badRequestResponse(request: SipRequest, error: SipParseError): SipResponse | undefined {
  if (request.method === 'ACK') return undefined;
  for (const h of NEEDED) if (!request.has(h)) return undefined;
  const status = error.status >= 400 && error.status <= 699 ? error.status : 400;
  try {
    return createResponse(request, status, { reason: reasonText(error.reason) });
  } catch {
    // The To header itself is unreadable: there is nothing sound to answer with.
    return undefined;
  }
}

/**
 * The request in `bytes` as far as it can be read when parseMessage refused it: its header
 * section, without the Content-Length that may be what broke it. Undefined when even that fails
 * (no start line, no end of headers) or it is a response.
 */
export function salvageRequest(bytes: Uint8Array, limits?: Partial<MessageLimits>): SipRequest | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
  const end = buf.indexOf('\r\n\r\n', start, 'latin1');
  if (end < 0) return undefined;
  const lines = buf.toString('latin1', start, end).split('\r\n');
  // A well-formed request line of another SIP version is read as 2.0 here, so that it can be
  // answered 505 (RFC 3261 §21.5.6) with the headers a response needs.
  lines[0] = lines[0]!.replace(/^([!-~]+ [!-~]+) SIP\/\d+\.\d+$/i, '$1 SIP/2.0');
  const kept = lines.filter((l) => !/^(content-length|l)[ \t]*:/i.test(l));
  try {
    const m = parseMessage(Buffer.from(kept.join('\r\n') + '\r\n\r\n', 'latin1'), limits === undefined ? { lazy: true } : { lazy: true, limits });
    return m instanceof SipRequest ? m : undefined;
  } catch {
    return undefined;
  }
}

/** A Reason-Phrase from a parser message: one line, printable, short. */
function reasonText(reason: string): string {
  const text = reason.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 120);
  return text === '' ? 'Bad Request' : text;
}

/**
 * `hookflash lint`: checks SIP messages in files, first the syntax (parseMessage in strict mode),
 * then the semantic checks of validateRequest, and says per file whether it is valid and why not.
 */
import { readFile } from 'node:fs/promises';
import { parseMessage, SipRequest, SipParseError, validateRequest } from '../index.js';

export interface LintResult {
  file: string;
  /** The syntax verdict. */
  parsed: boolean;
  /** Syntax and semantics. */
  valid: boolean;
  /** The response an element would send when not valid (null for a response message, which is dropped). */
  code: number | null;
  reason: string | null;
  /** Byte offset of a syntax fault, when known. */
  offset?: number;
  /** What kind of message it was, when parsed: `INVITE`, `200`. */
  message?: string;
  /** Set when the file's bare LF line endings were read as CRLF. */
  note?: string;
}

export interface LintOptions {
  role?: 'uas' | 'proxy';
  /** Read files whose lines end in LF alone (no CR anywhere) as CRLF. Default true. */
  fixLineEndings?: boolean;
}

/** Lints one message given as bytes. */
export function lintBytes(file: string, bytes: Buffer, options: LintOptions = {}): LintResult {
  let data = bytes;
  let note: string | undefined;
  if ((options.fixLineEndings ?? true) && !bytes.includes(13) && bytes.includes(10)) {
    // Files saved by editors often lose their CRs; the wire form needs them (RFC 3261 §7).
    data = Buffer.from(bytes.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    note = 'bare LF line endings read as CRLF';
  }
  const base = note ? { file, note } : { file };
  let msg;
  try {
    msg = parseMessage(data);
  } catch (e) {
    const err = e instanceof SipParseError ? e : new SipParseError(String(e));
    const isResponse = data.subarray(0, 4).toString('latin1') === 'SIP/';
    return { ...base, parsed: false, valid: false, code: isResponse ? null : err.status, reason: err.reason, offset: err.offset };
  }
  if (!(msg instanceof SipRequest)) {
    return { ...base, parsed: true, valid: true, code: null, reason: null, message: String(msg.status) };
  }
  const verdict = validateRequest(msg, { role: options.role ?? 'uas' });
  if (verdict.ok) return { ...base, parsed: true, valid: true, code: null, reason: null, message: msg.method };
  return { ...base, parsed: true, valid: false, code: verdict.status, reason: verdict.reason, message: msg.method };
}

/** Lints files; a file that cannot be read is reported as not parsed. */
export async function lintFiles(files: readonly string[], options: LintOptions = {}): Promise<LintResult[]> {
  const out: LintResult[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      out.push({ file, parsed: false, valid: false, code: null, reason: `cannot read file: ${(e as Error).message}` });
      continue;
    }
    out.push(lintBytes(file, bytes, options));
  }
  return out;
}

/** One line of human-readable output. */
export function formatLintResult(r: LintResult): string {
  if (r.valid) return `${r.file}: valid${r.message ? ` (${r.message})` : ''}${r.note ? ` [${r.note}]` : ''}`;
  const where = r.offset !== undefined && r.offset >= 0 ? ` at byte ${r.offset}` : '';
  const answer = r.code !== null ? ` -> ${r.code}` : r.parsed ? '' : ' -> drop';
  return `${r.file}: ${r.parsed ? 'parsed, invalid' : 'syntax error'}${where}: ${r.reason}${answer}${r.note ? ` [${r.note}]` : ''}`;
}

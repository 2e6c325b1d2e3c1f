/**
 * One header field line of a message. A field read from the wire is a set of offsets into the
 * message's header text (a "binary" latin1 string, one char per byte): its name, raw value and line
 * are sliced only when asked for, and the value is unfolded and decoded only when read.
 */
import { headerKey, wireName } from './header-names.js';

const FOLD = /\r\n[ \t]+/g;
/** The raw text holds line folding. */
export const FOLDED = 1;
/** The raw text may hold UTF-8 bytes (set when the message is not all ASCII). */
export const NON_ASCII = 2;
const HIGH = /[\x80-\xff]/;

/** Converts text to the binary (one char per byte, UTF-8 encoded) form the wire uses. */
export function toBinary(text: string): string {
  // Most header text is ASCII: then the binary form is the text itself.
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return Buffer.from(text, 'utf8').toString('latin1');
  }
  return text;
}

/** Converts a binary (latin1) string holding UTF-8 bytes back to text. */
export function fromBinary(raw: string): string {
  return HIGH.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
}

export class HeaderField {
  /** Canonical key: lower-case long form (`via` for `v`, `Via`, `VIA`). */
  readonly key: string;
  /** Byte offset of the line in the message (-1 for fields built after parsing). */
  readonly offset: number;
  /** Cached parsed value (set by the message's accessors). */
  parsed: unknown = undefined;
  /** For list headers, on the first line: all lines' values merged (set by the message). */
  merged: unknown = undefined;
  private readonly src: string;
  private readonly lineStart: number;
  private readonly nameEnd: number;
  private readonly valueStart: number;
  private readonly lineEnd: number;
  private readonly flags: number;
  private text: string | undefined = undefined;

  /** @internal Offsets into `src`: the line is src[lineStart, lineEnd), its value src[valueStart, lineEnd). */
  constructor(src: string, lineStart: number, nameEnd: number, valueStart: number, lineEnd: number, key: string, offset: number, flags: number) {
    this.src = src;
    this.lineStart = lineStart;
    this.nameEnd = nameEnd;
    this.valueStart = valueStart;
    this.lineEnd = lineEnd;
    this.key = key;
    this.offset = offset;
    this.flags = flags;
  }

  /** A new field built from a name (any form; a canonical key gets its wire spelling) and a text value. */
  static create(name: string, value: string): HeaderField {
    const key = headerKey(name);
    const wire = name === key ? wireName(key) : name;
    // A value set by code is one line: CR/LF become SP so that nothing can inject a header
    // (RFC 3261 §7.3.1), and leading whitespace goes as the parser drops it too.
    const clean = value.replace(/\r\n?|\n/g, ' ').replace(/^[ \t]+/, '');
    return HeaderField.fromRaw(wire, key, toBinary(clean), clean);
  }

  /** @internal A new field from a wire name and a binary raw value. */
  static fromRaw(name: string, key: string, raw: string, text?: string): HeaderField {
    const src = name + ': ' + raw;
    const flags = (raw.includes('\n') ? FOLDED : 0) | (text === raw ? 0 : NON_ASCII);
    return new HeaderField(src, 0, name.length, name.length + 2, src.length, key, -1, flags);
  }

  /** The name as written on the wire (`v`, `Via`, `VIA`). */
  get name(): string {
    return this.src.slice(this.lineStart, this.nameEnd);
  }

  /** The raw value in binary form, with any folding still in it. */
  get raw(): string {
    return this.src.slice(this.valueStart, this.lineEnd);
  }

  /** The value: unfolded (RFC 3261 §7.3.1), trailing whitespace trimmed, UTF-8 decoded. */
  get value(): string {
    if (this.text !== undefined) return this.text;
    let end = this.lineEnd;
    while (end > this.valueStart && (this.src.charCodeAt(end - 1) === 32 || this.src.charCodeAt(end - 1) === 9)) end--;
    let v = this.src.slice(this.valueStart, end);
    if ((this.flags & FOLDED) !== 0) v = v.replace(FOLD, ' ');
    this.text = (this.flags & NON_ASCII) !== 0 ? fromBinary(v) : v;
    return this.text;
  }

  /** The line to write on the wire (binary form), without CRLF: as received, or `Name: value` when built. */
  wireLine(): string {
    return this.src.slice(this.lineStart, this.lineEnd);
  }
}

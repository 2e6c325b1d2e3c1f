/**
 * One header field line of a message. Fields read from the wire keep their raw text (a "binary"
 * latin1 string, one char per byte) and are unfolded and decoded only when their value is read.
 */
import { headerKey, wireName } from './header-names.js';

const FOLD = /\r\n[ \t]+/g;
/** The raw text holds line folding. */
export const FOLDED = 1;
/** The raw text may hold UTF-8 bytes (set when the message's header section is not all ASCII). */
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
  /** The name as written on the wire (`v`, `Via`, `VIA`). */
  readonly name: string;
  /** Canonical key: lower-case long form (`via`). */
  readonly key: string;
  /** Raw value text in binary form, with any folding still in it. */
  readonly raw: string;
  /** Byte offset of the line in the message (-1 for fields added after parsing). */
  readonly offset: number;
  /** Cached parsed value (set by the message's accessors). */
  parsed: unknown = undefined;
  /** The whole line as received, for byte-exact reserialization; undefined once built or changed. */
  readonly line: string | undefined;
  /** FOLDED and/or NON_ASCII. */
  private readonly flags: number;
  private text: string | undefined = undefined;

  constructor(name: string, key: string, raw: string, offset: number, line: string | undefined, flags: number) {
    this.name = name;
    this.key = key;
    this.raw = raw;
    this.offset = offset;
    this.line = line;
    this.flags = flags;
  }

  /** A new field built from a name and a text value (not from the wire). */
  static create(name: string, value: string): HeaderField {
    const key = headerKey(name);
    const wire = name === key ? wireName(key) : name;
    const raw = toBinary(value);
    return new HeaderField(wire, key, raw, -1, undefined, (raw.includes('\n') ? FOLDED : 0) | (raw === value ? 0 : NON_ASCII));
  }

  /** The value: unfolded (RFC 3261 §7.3.1), trailing whitespace trimmed, UTF-8 decoded. */
  get value(): string {
    if (this.text !== undefined) return this.text;
    let v = this.raw;
    if ((this.flags & FOLDED) !== 0) v = v.replace(FOLD, ' ');
    let end = v.length;
    while (end > 0 && (v.charCodeAt(end - 1) === 32 || v.charCodeAt(end - 1) === 9)) end--;
    if (end !== v.length) v = v.slice(0, end);
    this.text = (this.flags & NON_ASCII) !== 0 ? fromBinary(v) : v;
    return this.text;
  }

  /** The line to write on the wire (binary form), without CRLF. */
  wireLine(): string {
    return this.line ?? this.name + ': ' + this.raw;
  }
}

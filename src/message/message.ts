/**
 * SIP requests and responses (RFC 3261 §7). Header values are parsed the first time they are read
 * and cached; a message that is not changed serializes to the exact bytes it was parsed from.
 */
import { SipParseError } from '../core/errors.js';
import { HeaderField, fromBinary, toBinary } from './header-field.js';
import { headerKey, KEY_BY_ID, keyIdOf, knownSpellings } from './header-names.js';
import { splitComma } from './grammar.js';
import { scanTag } from './tag-scan.js';
import { HEADER_SPECS, SPEC, SPEC_BY_ID, type HeaderSpec } from './header-registry.js';
import { fastSipUri, NAME_SHIFT, parseValue, scanTagBytes, STRIDE, WS_SHIFT } from './fast-scan.js';
import { formatUri, parseUri } from './uri.js';
import type {
  AuthValue, ContactValue, CSeq, EventValue, MediaType, NameAddr, ReasonValue, ReferSubValue, ReplacesValue,
  SessionExpiresValue, SubscriptionStateValue, TargetDialogValue, Uri, Via, RAckValue,
} from './types.js';

const EMPTY_BODY = new Uint8Array(0);
const CRLF = '\r\n';

/** @internal Where a parsed message lies in the bytes it came in: [start, end), body from bodyStart. */
export interface WireSpan {
  buf: Buffer;
  start: number;
  bodyStart: number;
  end: number;
}

const ID_MASK = 255;

/** The spec of every known spelling of a header hookflash parses: getParsed's one lookup. */
const SPEC_BY_NAME = new Map<string, HeaderSpec>();
for (const [name, key] of knownSpellings()) {
  const spec = HEADER_SPECS.get(key);
  if (spec !== undefined) SPEC_BY_NAME.set(name, spec);
}

/** Whether key id `id` occurs in the index. */
function seen(ix: HeaderIndex, id: number): boolean {
  return (((id < 32 ? ix.seen0 : id < 64 ? ix.seen1 : ix.seen2) >>> (id & 31)) & 1) !== 0;
}
/** Whether it occurs on more than one line. */
function repeated(ix: HeaderIndex, id: number): boolean {
  return (((id < 32 ? ix.dup0 : id < 64 ? ix.dup1 : ix.dup2) >>> (id & 31)) & 1) !== 0;
}

// Decoding a line of HeaderIndex.lines (fast-scan.ts STRIDE): `a` is its first number, `m` its second.
function lineStart(a: number): number {
  return a & 0xffff;
}
function lineEnd(a: number): number {
  return (a & 0xffff) + (a >>> 16);
}
function nameEnd(a: number, m: number): number {
  return (a & 0xffff) + (m >>> NAME_SHIFT);
}
function valueStart(a: number, m: number): number {
  return (a & 0xffff) + (m >>> NAME_SHIFT) + 1 + ((m >>> WS_SHIFT) & 15);
}

/**
 * @internal The header lines of a message read by the byte-level parser (fast-frame.ts): offsets
 * into the header text, from which HeaderField objects are made only if `headers` is read.
 */
export interface HeaderIndex {
  /** Start line and header section, as a binary string (one char per byte). */
  text: string;
  /** The received bytes (text[k] is buf[base + k]): the fast value parsers read them. */
  buf: Uint8Array;
  /** Byte offset of text[0] in the received buffer. */
  base: number;
  /** NON_ASCII when the header section holds bytes above 0x7f, else 0 (HeaderField flags). */
  flags: number;
  /** STRIDE numbers per line (fast-scan.ts): where it starts and ends, its key id, name length and value start. */
  lines: number[];
  /** How many numbers of `lines` are in use. */
  count: number;
  /** Key ids present (bit id & 31 of seen0, seen1, seen2 for id >> 5 = 0, 1, 2), and present more than once. */
  seen0: number;
  seen1: number;
  seen2: number;
  dup0: number;
  dup1: number;
  dup2: number;
}

export abstract class SipMessage {
  /** Header fields in wire order, made on first use when the message came from the byte-level parser. */
  private _headers: HeaderField[] | undefined;
  /** The same lines as offsets, until `headers` is first read (then undefined). */
  private _index: HeaderIndex | undefined;
  /** With _index: parsed values by line number (o >> 1 for the line at lines[o], STRIDE being 2). */
  private _vals: unknown[] | undefined;
  /** With _index: merged list header values by key id. */
  private _merged: unknown[] | undefined;
  /** The body, as bytes (made lazily from `source` for parsed messages). */
  protected _body: Uint8Array | undefined;
  /** Where in the received bytes this message lies, until something changes it. */
  protected source: WireSpan | undefined;

  protected constructor(headers: HeaderField[] | HeaderIndex, body: Uint8Array | undefined, source: WireSpan | undefined) {
    if (Array.isArray(headers)) {
      this._headers = headers;
      this._index = undefined;
    } else {
      this._headers = undefined;
      this._index = headers;
    }
    this._vals = undefined;
    this._merged = undefined;
    this._body = body;
    this.source = source;
  }

  /** Header fields in wire order. Treat as read-only; change them through the methods below. */
  get headers(): HeaderField[] {
    return this._headers ?? this.materialize();
  }

  /** Makes the HeaderField objects from the index, carrying over the values parsed so far. */
  private materialize(): HeaderField[] {
    const ix = this._index!;
    const { text, lines, base, flags, count } = ix;
    const vals = this._vals;
    const merged = this._merged;
    let out: HeaderField[] | undefined;
    for (let o = 0; o < count; o += STRIDE) {
      const a = lines[o]!;
      const m = lines[o + 1]!;
      const ls = lineStart(a);
      const id = m & ID_MASK;
      const ne = nameEnd(a, m);
      const key = id !== 0 ? KEY_BY_ID[id]! : headerKey(text.slice(ls, ne));
      const f = new HeaderField(text, ls, ne, valueStart(a, m), lineEnd(a), key, base + ls, flags);
      if (vals !== undefined && vals[o >> 1] !== undefined) f.parsed = vals[o >> 1];
      if (merged !== undefined && id !== 0 && merged[id] !== undefined) {
        // The merged list lives on the header's first line.
        f.merged = merged[id];
        merged[id] = undefined;
      }
      if (out === undefined) out = [f];
      else out.push(f);
    }
    if (out === undefined) out = [];
    this._headers = out;
    this._index = undefined;
    this._vals = undefined;
    this._merged = undefined;
    return out;
  }

  /** Index of the first number of the first line with this key at or after `from`, or -1. */
  private lineOf(ix: HeaderIndex, key: string, from: number): number {
    const lines = ix.lines;
    const count = ix.count;
    const id = keyIdOf(key);
    if (id !== 0) {
      if (!seen(ix, id)) return -1;
      for (let o = from; o < count; o += STRIDE) if ((lines[o + 1]! & ID_MASK) === id) return o;
      return -1;
    }
    for (let o = from; o < count; o += STRIDE) {
      const a = lines[o]!;
      const m = lines[o + 1]!;
      if ((m & ID_MASK) !== 0) continue;
      if (headerKey(ix.text.slice(lineStart(a), nameEnd(a, m))) === key) return o;
    }
    return -1;
  }

  /** A line's value as HeaderField#value gives it: trailing whitespace trimmed, UTF-8 decoded. */
  private valueAt(ix: HeaderIndex, o: number): string {
    const text = ix.text;
    const vs = valueStart(ix.lines[o]!, ix.lines[o + 1]!);
    let end = lineEnd(ix.lines[o]!);
    while (end > vs && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
    const v = text.slice(vs, end);
    return ix.flags !== 0 ? fromBinary(v) : v;
  }

  /** parseField for an index line: parses once, caches, and names the header and offset in errors. */
  private parseLine(ix: HeaderIndex, o: number, spec: HeaderSpec): unknown {
    let vals = this._vals;
    if (vals !== undefined) {
      const v = vals[o >> 1];
      if (v !== undefined) return v;
    }
    let v: unknown;
    const fast = spec.fast;
    const a = ix.lines[o]!;
    const m = ix.lines[o + 1]!;
    if (fast !== undefined && ix.flags === 0) v = parseValue(ix.buf, ix.base, ix.text, valueStart(a, m), lineEnd(a), fast);
    if (v === undefined) {
      try {
        v = spec.parse(this.valueAt(ix, o));
      } catch (e) {
        throw fieldError(e, ix.text.slice(lineStart(a), nameEnd(a, m)), ix.base + lineStart(a));
      }
    }
    // A constant length is allocated inline; a longer message's array grows on store.
    if (vals === undefined) vals = this._vals = new Array<unknown>(16);
    vals[o >> 1] = v;
    return v;
  }

  /** bySpec on the index. */
  private bySpecIndex(spec: HeaderSpec, ix: HeaderIndex): unknown {
    const lines = ix.lines;
    const count = ix.count;
    const id = spec.id;
    if (!seen(ix, id)) return undefined;
    if (!spec.list) {
      for (let o = 0; o < count; o += STRIDE) {
        if ((lines[o + 1]! & ID_MASK) === id) return this.parseLine(ix, o, spec);
      }
      return undefined;
    }
    const cached = this._merged?.[id];
    if (cached !== undefined) return cached;
    if (!repeated(ix, id)) {
      // One line: its value is the list.
      for (let o = 0; o < count; o += STRIDE) {
        if ((lines[o + 1]! & ID_MASK) !== id) continue;
        const v = this.parseLine(ix, o, spec);
        (this._merged ??= [])[id] = v;
        return v;
      }
    }
    let found = false;
    let merged: unknown[] | undefined;
    let star = false;
    for (let o = 0; o < count; o += STRIDE) {
      if ((lines[o + 1]! & ID_MASK) !== id) continue;
      found = true;
      const v = this.parseLine(ix, o, spec);
      if (v === '*') star = true;
      else merged = merged === undefined ? (v as unknown[]) : merged.concat(v as unknown[]);
    }
    let result: unknown = merged;
    if (star) {
      if (merged !== undefined) throw new SipParseError('Contact: * must be the only Contact value', -1, 400);
      result = '*';
    }
    if (found) (this._merged ??= [])[id] = result;
    return result;
  }

  /** @internal How many lines of this header there are. */
  countOf(name: string): number {
    const key = headerKey(name);
    const ix = this._index;
    let n = 0;
    if (ix !== undefined) {
      for (let o = this.lineOf(ix, key, 0); o >= 0; o = this.lineOf(ix, key, o + STRIDE)) n++;
      return n;
    }
    for (const f of this.headers) if (f.key === key) n++;
    return n;
  }

  abstract get isRequest(): boolean;
  /** The start line in binary form, without CRLF. */
  protected abstract startLine(): string;

  // ---- generic access ----

  /** True when at least one header of this name (any form: `v`, `Via`) is present. */
  has(name: string): boolean {
    const key = headerKey(name);
    const ix = this._index;
    if (ix !== undefined) return this.lineOf(ix, key, 0) >= 0;
    for (const f of this.headers) if (f.key === key) return true;
    return false;
  }

  /** The first value of a header, unfolded and decoded, or undefined. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    const ix = this._index;
    if (ix !== undefined) {
      const o = this.lineOf(ix, key, 0);
      return o < 0 ? undefined : this.valueAt(ix, o);
    }
    for (const f of this.headers) if (f.key === key) return f.value;
    return undefined;
  }

  /** Every line's value of a header, in order. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    const ix = this._index;
    if (ix !== undefined) {
      for (let o = this.lineOf(ix, key, 0); o >= 0; o = this.lineOf(ix, key, o + STRIDE)) out.push(this.valueAt(ix, o));
      return out;
    }
    for (const f of this.headers) if (f.key === key) out.push(f.value);
    return out;
  }

  /** The header fields with this name. */
  fields(name: string): HeaderField[] {
    const key = headerKey(name);
    return this.headers.filter((f) => f.key === key);
  }

  /**
   * The parsed value of a header: for list headers (Via, Route, Contact...) all lines merged into one
   * array; for single ones the first line's value; text for headers hookflash has no parser for;
   * undefined when absent. Throws SipParseError (with the line's offset) on a malformed value.
   */
  getParsed(name: string): unknown {
    const known = SPEC_BY_NAME.get(name);
    if (known !== undefined) return this.bySpec(known);
    const key = headerKey(name);
    const spec = HEADER_SPECS.get(key);
    if (spec === undefined) return this.get(key);
    return this.bySpec(spec);
  }

  /** getParsed for a known header, without the name lookups: the typed accessors' path. */
  protected bySpec(spec: HeaderSpec): unknown {
    const ix = this._index;
    if (ix !== undefined) return this.bySpecIndex(spec, ix);
    const key = spec.key;
    const headers = this._headers!;
    if (!spec.list) {
      for (let i = 0; i < headers.length; i++) {
        const f = headers[i]!;
        if (f.key === key) return parseField(f, spec);
      }
      return undefined;
    }
    let first: HeaderField | undefined;
    let merged: unknown[] | undefined;
    let star = false;
    for (let i = 0; i < headers.length; i++) {
      const f = headers[i]!;
      if (f.key !== key) continue;
      if (first === undefined) {
        // The merged list is cached on the header's first line.
        if (f.merged !== undefined) return f.merged;
        first = f;
      }
      const v = parseField(f, spec);
      if (v === '*') star = true;
      else merged = merged === undefined ? (v as unknown[]) : merged.concat(v as unknown[]);
    }
    let result: unknown = merged;
    if (star) {
      // RFC 3261 §10.2.2: `Contact: *` stands alone.
      if (merged !== undefined) throw new SipParseError('Contact: * must be the only Contact value', -1, 400);
      result = '*';
    }
    if (first !== undefined) first.merged = result;
    return result;
  }

  /**
   * Reads every header hookflash knows, so that any malformed one throws now (strict validation).
   * Values are cached, so later reads cost nothing.
   */
  parseAll(): this {
    const ix = this._index;
    if (ix !== undefined) {
      const lines = ix.lines;
      const count = ix.count;
      for (let o = 0; o < count; o += STRIDE) {
        const spec = SPEC_BY_ID[lines[o + 1]! & ID_MASK];
        if (spec === undefined) continue;
        if (spec.list) this.bySpecIndex(spec, ix);
        else this.parseLine(ix, o, spec);
      }
      return this;
    }
    const headers = this.headers;
    for (let i = 0; i < headers.length; i++) {
      const f = headers[i]!;
      const spec = HEADER_SPECS.get(f.key);
      if (spec === undefined) continue;
      // A list header is parsed and merged once, at its first line (then cached there).
      if (spec.list) this.bySpec(spec);
      else parseField(f, spec);
    }
    return this;
  }

  // ---- changing headers ----

  /** Replaces every line of a header with one line holding `value`. */
  set(name: string, value: string): this {
    const field = HeaderField.create(name, value);
    const i = this.headers.findIndex((f) => f.key === field.key);
    this.removeAll(field.key);
    if (i < 0) this.headers.push(field);
    else this.headers.splice(Math.min(i, this.headers.length), 0, field);
    return this.changed(field.key);
  }

  /** Adds a header line after the existing ones. */
  append(name: string, value: string): this {
    const field = HeaderField.create(name, value);
    let last = -1;
    for (let i = 0; i < this.headers.length; i++) if (this.headers[i]!.key === field.key) last = i;
    if (last < 0) this.headers.push(field);
    else this.headers.splice(last + 1, 0, field);
    return this.changed(field.key);
  }

  /** Adds a header line before the existing ones (a proxy's Via, Record-Route). */
  prepend(name: string, value: string): this {
    const field = HeaderField.create(name, value);
    const first = this.headers.findIndex((f) => f.key === field.key);
    // With none of that name yet, the new line goes first: RFC 3261 §7.3.1 recommends Via, Route
    // and Record-Route near the top, where proxies find them quickly.
    this.headers.splice(first < 0 ? 0 : first, 0, field);
    return this.changed(field.key);
  }

  /** Removes every line of a header. Returns how many lines went. */
  removeAll(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (let i = this.headers.length - 1; i >= 0; i--) {
      if (this.headers[i]!.key === key) {
        this.headers.splice(i, 1);
        n++;
      }
    }
    if (n > 0) this.changed(key);
    return n;
  }

  /**
   * Removes the first value of a list header (the top Via, the first Route). When the first line holds
   * several comma-separated values, only the first goes; the others keep their exact text.
   */
  removeFirst(name: string): this {
    const key = headerKey(name);
    const i = this.headers.findIndex((f) => f.key === key);
    if (i < 0) return this;
    const field = this.headers[i]!;
    const parts = splitComma(field.raw);
    this.headers.splice(i, 1);
    if (parts.length > 1) {
      const rest = parts.slice(1).join(',').replace(/^[ \t\r\n]+/, '');
      this.headers.splice(i, 0, HeaderField.fromRaw(field.name, key, rest));
    }
    return this.changed(key);
  }

  /** Leaves the received bytes behind (after a change): the body becomes its own view first. */
  protected detach(): void {
    if (this.source === undefined) return;
    if (this._body === undefined) this._body = this.body;
    this.source = undefined;
  }

  private changed(key: string): this {
    this.detach();
    for (const f of this.headers) if (f.key === key) f.merged = undefined;
    return this;
  }

  // ---- body ----

  get body(): Uint8Array {
    if (this._body === undefined) {
      const s = this.source;
      this._body = s === undefined ? EMPTY_BODY : s.buf.subarray(s.bodyStart, s.end);
    }
    return this._body;
  }

  /** Sets the body and its Content-Length (and Content-Type when given). */
  setBody(body: Uint8Array | string, contentType?: string): this {
    this._body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (contentType !== undefined) this.set('Content-Type', contentType);
    else if (this._body.length === 0) this.removeAll('content-type');
    const length = this._body.length;
    this.set('Content-Length', String(length));
    this.detach();
    return this;
  }

  /** The body as UTF-8 text. */
  get bodyText(): string {
    const b = this.body;
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  }

  // ---- serialization ----

  /** The message on the wire: the received bytes when unchanged, else the start line and headers rebuilt. */
  toBuffer(): Buffer {
    if (this.source !== undefined) {
      const s = this.source;
      return s.buf.subarray(s.start, s.end);
    }
    let head = this.startLine() + CRLF;
    for (const f of this.headers) head += f.wireLine() + CRLF;
    head += CRLF;
    const headBytes = Buffer.from(head, 'latin1');
    const body = this.body;
    if (body.length === 0) return headBytes;
    return Buffer.concat([headBytes, body]);
  }

  /** The message as text (UTF-8). */
  toString(): string {
    return this.toBuffer().toString('utf8');
  }

  // ---- typed accessors (RFC 3261 §20 and extensions) ----

  /** Via values, top first. */
  get via(): Via[] {
    return (this.bySpec(SPEC.via) as Via[] | undefined) ?? [];
  }
  /** The topmost Via value. */
  get topVia(): Via | undefined {
    const ix = this._index;
    if (ix !== undefined) {
      const lines = ix.lines;
      const count = ix.count;
      const id = SPEC.via.id;
      for (let o = 0; o < count; o += STRIDE) {
        if ((lines[o + 1]! & ID_MASK) === id) return (this.parseLine(ix, o, SPEC.via) as Via[])[0];
      }
      return undefined;
    }
    for (const f of this.headers) {
      if (f.key === 'via') return (parseField(f, SPEC.via) as Via[])[0];
    }
    return undefined;
  }
  get from(): NameAddr {
    return this.required(SPEC.from) as NameAddr;
  }
  get to(): NameAddr {
    return this.required(SPEC.to) as NameAddr;
  }
  /** The From tag (RFC 3261 §19.3), read without parsing the URI; undefined when absent. */
  get fromTag(): string | undefined {
    return this.tagOf('from');
  }
  /** The To tag, read without parsing the URI; undefined when absent (an out-of-dialog request). */
  get toTag(): string | undefined {
    return this.tagOf('to');
  }
  get callId(): string {
    return this.required(SPEC.callId) as string;
  }
  get cseq(): CSeq {
    return this.required(SPEC.cseq) as CSeq;
  }
  get maxForwards(): number | undefined {
    return this.bySpec(SPEC.maxForwards) as number | undefined;
  }
  get contact(): ContactValue | undefined {
    return this.bySpec(SPEC.contact) as ContactValue | undefined;
  }
  get route(): NameAddr[] {
    return (this.bySpec(SPEC.route) as NameAddr[] | undefined) ?? [];
  }
  get recordRoute(): NameAddr[] {
    return (this.bySpec(SPEC.recordRoute) as NameAddr[] | undefined) ?? [];
  }
  get path(): NameAddr[] {
    return (this.bySpec(SPEC.path) as NameAddr[] | undefined) ?? [];
  }
  get contentLength(): number | undefined {
    return this.bySpec(SPEC.contentLength) as number | undefined;
  }
  get contentType(): MediaType | undefined {
    return this.bySpec(SPEC.contentType) as MediaType | undefined;
  }
  get expires(): number | undefined {
    return this.bySpec(SPEC.expires) as number | undefined;
  }
  get minExpires(): number | undefined {
    return this.bySpec(SPEC.minExpires) as number | undefined;
  }
  get allow(): string[] | undefined {
    return this.bySpec(SPEC.allow) as string[] | undefined;
  }
  get supported(): string[] {
    return (this.bySpec(SPEC.supported) as string[] | undefined) ?? [];
  }
  get require(): string[] {
    return (this.bySpec(SPEC.require) as string[] | undefined) ?? [];
  }
  get proxyRequire(): string[] {
    return (this.bySpec(SPEC.proxyRequire) as string[] | undefined) ?? [];
  }
  get unsupported(): string[] {
    return (this.bySpec(SPEC.unsupported) as string[] | undefined) ?? [];
  }
  get event(): EventValue | undefined {
    return this.bySpec(SPEC.event) as EventValue | undefined;
  }
  get subscriptionState(): SubscriptionStateValue | undefined {
    return this.bySpec(SPEC.subscriptionState) as SubscriptionStateValue | undefined;
  }
  get referTo(): NameAddr | undefined {
    return this.bySpec(SPEC.referTo) as NameAddr | undefined;
  }
  get referredBy(): NameAddr | undefined {
    return this.bySpec(SPEC.referredBy) as NameAddr | undefined;
  }
  get replaces(): ReplacesValue | undefined {
    return this.bySpec(SPEC.replaces) as ReplacesValue | undefined;
  }
  get referSub(): ReferSubValue | undefined {
    return this.bySpec(SPEC.referSub) as ReferSubValue | undefined;
  }
  get targetDialog(): TargetDialogValue | undefined {
    return this.bySpec(SPEC.targetDialog) as TargetDialogValue | undefined;
  }
  get sessionExpires(): SessionExpiresValue | undefined {
    return this.bySpec(SPEC.sessionExpires) as SessionExpiresValue | undefined;
  }
  get minSE(): number | undefined {
    return this.bySpec(SPEC.minSE) as number | undefined;
  }
  get rseq(): number | undefined {
    return this.bySpec(SPEC.rseq) as number | undefined;
  }
  get rack(): RAckValue | undefined {
    return this.bySpec(SPEC.rack) as RAckValue | undefined;
  }
  get wwwAuthenticate(): AuthValue[] {
    return (this.bySpec(SPEC.wwwAuthenticate) as AuthValue[] | undefined) ?? [];
  }
  get proxyAuthenticate(): AuthValue[] {
    return (this.bySpec(SPEC.proxyAuthenticate) as AuthValue[] | undefined) ?? [];
  }
  get authorization(): AuthValue[] {
    return (this.bySpec(SPEC.authorization) as AuthValue[] | undefined) ?? [];
  }
  get proxyAuthorization(): AuthValue[] {
    return (this.bySpec(SPEC.proxyAuthorization) as AuthValue[] | undefined) ?? [];
  }
  get reason(): ReasonValue[] {
    return (this.bySpec(SPEC.reason) as ReasonValue[] | undefined) ?? [];
  }

  private tagOf(key: 'from' | 'to'): string | undefined {
    const spec = key === 'from' ? SPEC.from : SPEC.to;
    const ix = this._index;
    if (ix !== undefined) {
      const lines = ix.lines;
      const count = ix.count;
      for (let o = 0; o < count; o += STRIDE) {
        if ((lines[o + 1]! & ID_MASK) !== spec.id) continue;
        const parsed = this._vals?.[o >> 1];
        if (parsed !== undefined) return (parsed as NameAddr).params.tag ?? undefined;
        const a = lines[o]!;
        const fast = ix.flags === 0
          ? scanTagBytes(ix.buf, ix.base, ix.text, valueStart(a, lines[o + 1]!), lineEnd(a))
          : scanTag(this.valueAt(ix, o));
        if (fast !== null) return fast;
        break;
      }
      return (this.required(spec) as NameAddr).params.tag ?? undefined;
    }
    for (const f of this.headers) {
      if (f.key !== key) continue;
      if (f.parsed !== undefined) return (f.parsed as NameAddr).params.tag ?? undefined;
      const fast = scanTag(f.value);
      if (fast !== null) return fast;
      break;
    }
    return (this.required(spec) as NameAddr).params.tag ?? undefined;
  }

  /** A mandatory header's parsed value; throws SipParseError(400) when it is missing. */
  private required(spec: HeaderSpec): unknown {
    const v = this.bySpec(spec);
    if (v === undefined) throw new SipParseError(`missing ${spec.key} header`, -1, 400);
    return v;
  }
}

/** Parses a field once, caching the value; errors name the header and carry its offset. */
function parseField(f: HeaderField, spec: HeaderSpec): unknown {
  if (f.parsed !== undefined) return f.parsed;
  try {
    f.parsed = spec.parse(f.value);
  } catch (e) {
    throw fieldError(e, f.name, f.offset);
  }
  return f.parsed;
}

function fieldError(e: unknown, name: string, offset: number): SipParseError {
  const reason = e instanceof SipParseError ? e.reason : String(e);
  const status = e instanceof SipParseError ? e.status : 400;
  return new SipParseError(`bad ${name} header: ${reason}`, offset, status);
}

export class SipRequest extends SipMessage {
  readonly method: string;
  private uriRaw: string;
  private uriParsed: Uri | undefined = undefined;
  /** From the byte-level parser: the header text holding the Request-URI, at text[uriAt]. */
  private uriIx: HeaderIndex | undefined;
  private uriAt: number;

  /** @internal Built by parseMessage or createRequest; `uriAt` is where uriRaw sits in the index's text. */
  constructor(method: string, uriRaw: string, headers: HeaderField[] | HeaderIndex, body?: Uint8Array, source?: WireSpan, uriAt = -1) {
    super(headers, body, source);
    this.method = method;
    this.uriRaw = uriRaw;
    this.uriIx = uriAt >= 0 && !Array.isArray(headers) ? headers : undefined;
    this.uriAt = uriAt;
  }

  get isRequest(): true {
    return true;
  }

  /** The Request-URI as written (decoded text). */
  get uriText(): string {
    return fromBinary(this.uriRaw);
  }

  /** The Request-URI, parsed on first read. Throws SipParseError when malformed. */
  get uri(): Uri {
    if (this.uriParsed === undefined) {
      const ix = this.uriIx;
      if (ix !== undefined) {
        const at = this.uriAt;
        const fast = parseValue(ix.buf, ix.base, ix.text, at, at + this.uriRaw.length, fastSipUri) as Uri | undefined;
        if (fast !== undefined) return (this.uriParsed = fast);
      }
      try {
        this.uriParsed = parseUri(this.uriText);
      } catch (e) {
        const reason = e instanceof SipParseError ? e.reason : String(e);
        const status = e instanceof SipParseError ? e.status : 400;
        throw new SipParseError(`bad Request-URI: ${reason}`, this.method.length + 1, status);
      }
    }
    return this.uriParsed;
  }

  set uri(uri: Uri | string) {
    this.uriRaw = toBinary(typeof uri === 'string' ? uri : formatUri(uri));
    this.uriParsed = typeof uri === 'string' ? undefined : uri;
    this.uriIx = undefined;
    this.detach();
  }

  protected startLine(): string {
    return this.method + ' ' + this.uriRaw + ' SIP/2.0';
  }
}

export class SipResponse extends SipMessage {
  readonly status: number;
  private reasonRaw: string;

  /** @internal Built by parseMessage or createResponse. */
  constructor(status: number, reasonRaw: string, headers: HeaderField[] | HeaderIndex, body?: Uint8Array, source?: WireSpan) {
    super(headers, body, source);
    this.status = status;
    this.reasonRaw = reasonRaw;
  }

  get isRequest(): false {
    return false;
  }

  /** The Reason-Phrase (decoded text, possibly empty). */
  get reasonPhrase(): string {
    return fromBinary(this.reasonRaw);
  }

  protected startLine(): string {
    return 'SIP/2.0 ' + this.status + ' ' + this.reasonRaw;
  }
}

export type SipMessageAny = SipRequest | SipResponse;

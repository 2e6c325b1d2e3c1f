/**
 * Message framing for stream transports (TCP, TLS): RFC 3261 §18.3.
 *
 * A stream carries messages back to back with nothing between them but optional CRLFs, so the only
 * way to find where one message ends is to find the end of its header section (the empty line,
 * CRLF CRLF) and then take exactly Content-Length more bytes (§18.3: on a stream Content-Length
 * MUST be present). This module does only that; it does not parse, and hands each whole message to
 * the owner, which parses it with parseMessage.
 *
 * How the work stays linear in the input:
 * - Every byte of a header section is examined once, by a byte-level state machine whose state
 *   survives chunk boundaries (a boundary inside CRLF CRLF, inside "Content-Length", inside its
 *   value, inside a fold: all are just states). Nothing is ever rescanned, so a peer sending one
 *   byte per segment costs O(n), not O(n²).
 * - Bytes of an incomplete header section are appended to one growable buffer (capacity doubling,
 *   amortised O(1) per byte), not Buffer.concat-ed per chunk. Once the header section ends, the
 *   message's size is known and its final Buffer is allocated once; the body is copied straight in.
 *   A message that lies wholly inside one chunk is copied exactly once.
 * - Limits are checked per byte as the scan goes, so memory held for one message never exceeds
 *   maxMessageSize, and an endless line is stopped as soon as it passes maxLineLength, long before
 *   any CRLF CRLF.
 *
 * Strictness, and why. The framer and the parser must agree on where lines end, or a message could
 * be cut in a place the parser would not cut it (request smuggling). RFC 3261 allows CR and LF in a
 * header section only as CRLF (line ends and folds: §7.3.1, and the §25.1 grammar excludes them
 * from quoted-pair and qdtext), so a bare CR or bare LF there is refused with 400 rather than
 * guessed at. Between messages the same holds: only CRLF may appear there (§7.5, RFC 5626 §4.4.1).
 */
import { SipParseError } from '../core/errors.js';
import { resolveLimits, type MessageLimits } from './limits.js';

export interface StreamFramerEvents {
  /** One whole message's bytes (start line, headers, body), ready for parseMessage. */
  onMessage(bytes: Buffer): void;
  /** A keep-alive "ping" (CRLF CRLF) arrived between messages: the owner answers with a "pong" (CRLF), RFC 5626 §4.4.1. */
  onPing?(): void;
  /** A lone CRLF "pong" arrived between messages (RFC 5626 §4.4.1), so the flow is alive. */
  onPong?(): void;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** Where the framer is in the stream. */
const enum Phase {
  /** Between messages: only CRLFs (keep-alives, §7.5 tolerance) may come. */
  Idle,
  /** Inside the start line or header section of a message. */
  Head,
  /** Header section complete; collecting Content-Length body bytes. */
  Body,
}

/** Line-level state inside the header section. */
const enum Line {
  /** In the text of a line. */
  Text,
  /** In a line, just after a CR: only LF may follow. */
  TextCr,
  /** At the beginning of a line, after a CRLF: a fold, a new header line, or the empty line. */
  Bol,
  /** At the beginning of a line, after a CR: LF here ends the header section. */
  BolCr,
}

/**
 * Recognizer for the Content-Length header inside one logical header line. It reads only the
 * field name and, for Content-Length, the value; every other line is skipped at memchr speed.
 */
const enum Field {
  /** Not a Content-Length line (or the start line): nothing to recognise. */
  Skip,
  /** In the field name. */
  Name,
  /** After the name, before the colon: RFC 3261 §25.1 HCOLON = *( SP / HTAB ) ":" SWS. */
  NameWs,
  /** Content-Length value: leading LWS. */
  ValuePre,
  /** Content-Length value: 1*DIGIT (RFC 3261 §20.14). */
  ValueDigits,
  /** Content-Length value: trailing LWS; nothing else may follow. */
  ValuePost,
}

/** "content-length", lower case, for byte-wise case-insensitive matching (RFC 3261 §7.3.1). */
const CL_NAME = Uint8Array.from('content-length', (ch) => ch.charCodeAt(0));

/** A growable header buffer larger than this is dropped after each message rather than kept. */
const KEEP_CAPACITY = 4096;

export class StreamFramer {
  private readonly events: StreamFramerEvents;
  private readonly limits: MessageLimits;

  /** Bumped by reset(): a callback that resets the framer stops the push loop it was called from. */
  private generation = 0;
  private pushing = false;
  private failed = false;
  private failure: unknown = undefined;
  private scanned = 0;

  private phase: Phase = Phase.Idle;

  // --- between messages (RFC 5626 §4.4.1 keep-alives) ---
  /** A CR was seen between messages; its LF has not come yet. */
  private idleCr = false;
  /** One CRLF between messages whose meaning (pong, or first half of a ping) is still open. */
  private idleCrlf = false;
  /** That pending CRLF was already reported as a pong at the end of the previous chunk. */
  private pongReported = false;

  // --- header section ---
  /** Bytes of the current message examined so far (= its offset of the next byte). */
  private pos = 0;
  private line: Line = Line.Text;
  private inStartLine = true;
  /** Length of the current logical line (after unfolding: fold CRLFs are not counted). */
  private lineLen = 0;
  /** Message offset where the current header line began, for error offsets. */
  private lineStart = 0;
  /** The current logical line is a header line not yet finished (a fold may still extend it). */
  private headerOpen = false;
  private headerCount = 0;
  private field: Field = Field.Skip;
  private nameLen = 0;
  /** The name read so far is a prefix of "content-length". */
  private nameIsClPrefix = false;
  /** The name read so far starts with "l"/"L" (compact form, RFC 3261 §7.3.3). */
  private nameIsL = false;
  private clValue = 0;
  /** Content-Length found so far, -1 if none yet. */
  private contentLength = -1;
  /** Where in the current chunk the message began (0 when it began in an earlier chunk). */
  private chunkStart = 0;
  /** Header bytes from earlier chunks. */
  private acc: Buffer | null = null;
  private accLen = 0;

  // --- body ---
  private msg: Buffer | null = null;
  private filled = 0;

  constructor(events: StreamFramerEvents, limits?: Partial<MessageLimits>) {
    this.events = events;
    this.limits = resolveLimits(limits);
  }

  /** Bytes buffered and not yet framed (for idle/slow-sender policing by the transport). */
  get buffered(): number {
    if (this.phase === Phase.Head) return this.accLen;
    if (this.phase === Phase.Body) return this.filled;
    return 0;
  }

  /** True while a message has started but is not complete (for slow-sender timeouts). */
  get inMessage(): boolean {
    return this.phase !== Phase.Idle;
  }

  /**
   * Bytes examined by the scanner (between messages and in header sections) since construction or
   * reset(). Diagnostics: lets tests prove each byte is scanned once. Body bytes are copied, not
   * scanned, and are not counted.
   */
  get scannedBytes(): number {
    return this.scanned;
  }

  /**
   * Feed bytes as they arrive; calls onMessage synchronously for each complete message, in order.
   * Throws SipParseError when the stream cannot be framed any more (the connection must then be
   * closed). After a throw, including one from a callback, the framer is unusable until reset():
   * further pushes throw the same error again. The chunk may be reused by the caller once push
   * returns: whatever the framer keeps, it copies.
   */
  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failure;
    // A push from inside a callback would interleave two chunks' bytes.
    if (this.pushing) throw new Error('StreamFramer.push called from inside one of its callbacks');
    const gen = this.generation;
    this.pushing = true;
    try {
      this.consume(chunk, gen);
    } catch (e) {
      if (this.generation === gen) {
        this.failed = true;
        this.failure = e;
      }
      throw e;
    } finally {
      this.pushing = false;
    }
  }

  /** Forget everything: buffered bytes, a pending keep-alive, a failure. For reuse of the object. */
  reset(): void {
    this.generation++;
    this.failed = false;
    this.failure = undefined;
    this.scanned = 0;
    this.idleCr = false;
    this.idleCrlf = false;
    this.pongReported = false;
    this.acc = null;
    this.endMessage();
  }

  private consume(chunk: Uint8Array, gen: number): void {
    const end = chunk.length;
    let i = 0;
    this.chunkStart = 0;
    while (i < end) {
      if (this.phase === Phase.Idle) i = this.scanIdle(chunk, i, end, gen);
      else if (this.phase === Phase.Head) i = this.scanHead(chunk, i, end, gen);
      else i = this.copyBody(chunk, i, end);
      if (this.generation !== gen) return;
    }
    if (this.phase === Phase.Idle) {
      // Choice (RFC 5626 §4.4.1): a single CRLF at the end of a chunk is reported as a pong at
      // once, not held until more bytes come, since a pong is usually the last thing the server
      // sends for a while and the owner's pong timer must not wait for traffic. If the next chunk
      // starts with the CRLF that makes it a CRLF CRLF ping after all, onPing is reported then
      // too: a ping split across segments costs one extra onPong, which only says the flow is
      // alive, and that is true.
      if (this.idleCrlf && !this.idleCr && !this.pongReported) {
        this.pongReported = true;
        this.events.onPong?.();
      }
    } else if (this.phase === Phase.Head) {
      this.keep(chunk, this.chunkStart, end);
    }
  }

  // --- between messages ---------------------------------------------------------------------

  /** Skips CRLFs before a start line (RFC 3261 §7.5), reporting pings and pongs; returns where a message starts. */
  private scanIdle(chunk: Uint8Array, i: number, end: number, gen: number): number {
    while (i < end) {
      const c = chunk[i];
      if (c === CR) {
        if (this.idleCr) throw new SipParseError('bare CR between messages', -1, 400);
        this.idleCr = true;
        this.scanned++;
        i++;
      } else if (c === LF) {
        if (!this.idleCr) throw new SipParseError('bare LF between messages', -1, 400);
        this.idleCr = false;
        this.scanned++;
        i++;
        if (this.idleCrlf) {
          // CRLF CRLF: a ping (RFC 5626 §4.4.1); the owner answers with one CRLF.
          this.idleCrlf = false;
          this.pongReported = false;
          this.events.onPing?.();
          if (this.generation !== gen) return i;
        } else {
          this.idleCrlf = true;
        }
      } else {
        if (this.idleCr) throw new SipParseError('bare CR between messages', -1, 400);
        if (this.idleCrlf) {
          // A CRLF not followed by another one: a pong (RFC 5626 §4.4.1).
          this.idleCrlf = false;
          const reported = this.pongReported;
          this.pongReported = false;
          if (!reported) {
            this.events.onPong?.();
            if (this.generation !== gen) return i;
          }
        }
        this.startMessage(i);
        return i;
      }
    }
    return i;
  }

  private startMessage(at: number): void {
    this.phase = Phase.Head;
    this.chunkStart = at;
    this.pos = 0;
    this.line = Line.Text;
    this.inStartLine = true;
    this.lineLen = 0;
    this.lineStart = 0;
    this.headerOpen = false;
    this.headerCount = 0;
    this.field = Field.Skip;
    this.contentLength = -1;
  }

  // --- header section -----------------------------------------------------------------------

  /** Scans header-section bytes from `i`; returns the index after the last byte consumed. */
  private scanHead(chunk: Uint8Array, i: number, end: number, gen: number): number {
    while (i < end) {
      const c = chunk[i];
      switch (this.line) {
        case Line.Text: {
          if (c === CR) {
            this.control();
            this.line = Line.TextCr;
            i++;
          } else if (c === LF) {
            throw new SipParseError('bare LF in header section', this.pos, 400);
          } else if (this.field === Field.Skip) {
            // Fast path: nothing to recognise in this line, so run to its CR. The run is bounded by
            // what the limits still allow, so an endless line is stopped one byte past the limit.
            const room = Math.min(this.limits.maxLineLength - this.lineLen, this.limits.maxMessageSize - this.pos);
            const stop = Math.min(end, i + room + 1);
            let j = i + 1;
            while (j < stop) {
              const b = chunk[j];
              if (b === CR || b === LF) break;
              j++;
            }
            this.text(j - i);
            i = j;
          } else {
            this.text(1);
            this.recognise(c);
            i++;
          }
          break;
        }
        case Line.TextCr: {
          if (c !== LF) throw new SipParseError('bare CR in header section', this.pos - 1, 400);
          this.control();
          i++;
          // The start line cannot be folded; a header line stays open until the next line's first
          // byte says whether it is a continuation (RFC 3261 §7.3.1).
          this.inStartLine = false;
          this.line = Line.Bol;
          break;
        }
        case Line.Bol: {
          if (c === CR) {
            this.closeHeader();
            this.control();
            this.line = Line.BolCr;
            i++;
          } else if (c === LF) {
            throw new SipParseError('bare LF in header section', this.pos, 400);
          } else if ((c === SP || c === HTAB) && this.headerOpen) {
            // A fold (RFC 3261 §7.3.1): CRLF followed by whitespace continues the header line,
            // and counts as LWS in its value.
            this.text(1);
            this.recognise(SP);
            this.line = Line.Text;
            i++;
          } else {
            this.closeHeader();
            this.openHeader();
            this.line = Line.Text; // the byte is read again as the line's first
          }
          break;
        }
        case Line.BolCr: {
          if (c !== LF) throw new SipParseError('bare CR in header section', this.pos - 1, 400);
          this.control();
          i++;
          this.endHead(chunk, i);
          if (this.msg !== null && this.filled === this.msg.length) {
            this.emit();
            if (this.generation !== gen) return i;
          }
          return i;
        }
      }
    }
    return i;
  }

  /** Accounts `n` bytes of line text, enforcing maxLineLength (400) and maxMessageSize (513). */
  private text(n: number): void {
    this.scanned += n;
    const lineRoom = this.limits.maxLineLength - this.lineLen;
    const sizeRoom = this.limits.maxMessageSize - this.pos;
    if (n > lineRoom || n > sizeRoom) {
      if (lineRoom < sizeRoom) {
        const what = this.inStartLine ? 'start line' : 'header line';
        throw new SipParseError(`${what} longer than maxLineLength`, this.pos + lineRoom, 400);
      }
      throw new SipParseError('header section larger than maxMessageSize', this.pos + sizeRoom, 513);
    }
    this.lineLen += n;
    this.pos += n;
  }

  /** Accounts one CR or LF of the header section: it counts toward the size but not a line's length. */
  private control(): void {
    this.scanned++;
    if (this.pos >= this.limits.maxMessageSize) {
      throw new SipParseError('header section larger than maxMessageSize', this.pos, 513);
    }
    this.pos++;
  }

  private openHeader(): void {
    if (this.headerCount >= this.limits.maxHeaders) {
      throw new SipParseError('more than maxHeaders header fields', this.pos, 400);
    }
    this.headerCount++;
    this.headerOpen = true;
    this.lineLen = 0;
    this.lineStart = this.pos;
    this.field = Field.Name;
    this.nameLen = 0;
    this.nameIsClPrefix = true;
    this.nameIsL = false;
  }

  /** Feeds one byte of a header line (a fold is fed as SP) to the Content-Length recognizer. */
  private recognise(c: number): void {
    switch (this.field) {
      case Field.Name: {
        if (c === COLON) {
          this.colon();
        } else if (c === SP || c === HTAB) {
          this.field = this.nameLen === 0 ? Field.Skip : Field.NameWs;
        } else {
          // Header names are case-insensitive (RFC 3261 §7.3.1); fold ASCII upper case to lower.
          const lower = c >= 65 && c <= 90 ? c + 32 : c;
          if (this.nameLen === 0) this.nameIsL = lower === 108; /* l */
          if (this.nameIsClPrefix && (this.nameLen >= CL_NAME.length || CL_NAME[this.nameLen] !== lower)) {
            this.nameIsClPrefix = false;
          }
          this.nameLen++;
          // Neither name can match any more: skip the rest of the line at full speed.
          if (!this.nameIsClPrefix && this.nameLen > 1) this.field = Field.Skip;
        }
        break;
      }
      case Field.NameWs:
        if (c === COLON) this.colon();
        else if (c !== SP && c !== HTAB) this.field = Field.Skip;
        break;
      case Field.ValuePre:
        if (c === SP || c === HTAB) break;
        if (c < 48 || c > 57) throw this.badLength();
        this.field = Field.ValueDigits;
        this.clValue = c - 48;
        break;
      case Field.ValueDigits:
        if (c >= 48 && c <= 57) {
          // Saturate rather than lose precision: anything this large fails the size limit anyway.
          this.clValue = Math.min(this.clValue * 10 + (c - 48), Number.MAX_SAFE_INTEGER);
        } else if (c === SP || c === HTAB) {
          this.field = Field.ValuePost;
        } else {
          throw this.badLength();
        }
        break;
      case Field.ValuePost:
        if (c !== SP && c !== HTAB) throw this.badLength();
        break;
      case Field.Skip:
        break;
    }
  }

  private colon(): void {
    const isCl = (this.nameIsClPrefix && this.nameLen === CL_NAME.length) || (this.nameIsL && this.nameLen === 1);
    this.field = isCl ? Field.ValuePre : Field.Skip;
  }

  private badLength(): SipParseError {
    // RFC 3261 §20.14: Content-Length = ( "Content-Length" / "l" ) HCOLON 1*DIGIT. A sign, a
    // fraction, a list or any other text leaves the body's end unknown, so the stream is lost.
    return new SipParseError('Content-Length is not a non-negative integer', this.pos - 1, 400);
  }

  /** The current logical header line is complete (its next line is not a fold): take its Content-Length. */
  private closeHeader(): void {
    if (!this.headerOpen) return;
    this.headerOpen = false;
    const f = this.field;
    this.field = Field.Skip;
    if (f === Field.ValuePre) {
      throw new SipParseError('Content-Length is not a non-negative integer', this.lineStart, 400);
    }
    if (f !== Field.ValueDigits && f !== Field.ValuePost) return;
    const value = this.clValue;
    // Two different lengths give two different framings; there is no safe choice (RFC 4475
    // §3.2.3 "mcl01"). Repeats of one value are harmless and accepted.
    if (this.contentLength >= 0 && this.contentLength !== value) {
      throw new SipParseError('conflicting Content-Length values', this.lineStart, 400);
    }
    this.contentLength = value;
    // Known too large already: stop now rather than wait for the rest of the header section.
    if (this.pos + value > this.limits.maxMessageSize) {
      throw new SipParseError('Content-Length makes the message larger than maxMessageSize', this.lineStart, 513);
    }
  }

  /** CRLF CRLF seen: `i` is the index in `chunk` just after it. Sizes the message and starts the body. */
  private endHead(chunk: Uint8Array, i: number): void {
    if (this.contentLength < 0) {
      // RFC 3261 §18.3: on a stream the body's end cannot be found without it.
      throw new SipParseError('missing Content-Length on a stream transport', this.pos, 400);
    }
    const total = this.pos + this.contentLength;
    if (total > this.limits.maxMessageSize) {
      throw new SipParseError('Content-Length makes the message larger than maxMessageSize', this.pos, 513);
    }
    // A fresh Buffer per message: the owner may keep it while the framer goes on.
    const msg = Buffer.allocUnsafe(total);
    if (this.accLen > 0 && this.acc !== null) msg.set(this.acc.subarray(0, this.accLen), 0);
    msg.set(chunk.subarray(this.chunkStart, i), this.accLen);
    this.msg = msg;
    this.filled = this.pos;
    this.accLen = 0;
    if (this.acc !== null && this.acc.length > KEEP_CAPACITY) this.acc = null;
    this.phase = Phase.Body;
  }

  /** Keeps the unframed tail of a chunk, growing the header buffer geometrically. */
  private keep(chunk: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    const need = this.accLen + n;
    let acc = this.acc;
    if (acc === null || acc.length < need) {
      // Doubling keeps appends amortised O(1) per byte; the limits checks already bound `need`
      // by maxMessageSize, so the cap never cuts below it.
      const cap = Math.max(need, Math.min(Math.max(256, (acc?.length ?? 0) * 2), this.limits.maxMessageSize));
      const grown = Buffer.allocUnsafe(cap);
      if (acc !== null && this.accLen > 0) grown.set(acc.subarray(0, this.accLen), 0);
      acc = grown;
      this.acc = grown;
    }
    acc.set(chunk.subarray(from, to), this.accLen);
    this.accLen = need;
  }

  // --- body ---------------------------------------------------------------------------------

  private copyBody(chunk: Uint8Array, i: number, end: number): number {
    const msg = this.msg;
    if (msg === null) throw new Error('StreamFramer: body phase without a message buffer');
    const take = Math.min(msg.length - this.filled, end - i);
    msg.set(chunk.subarray(i, i + take), this.filled);
    this.filled += take;
    if (this.filled === msg.length) this.emit();
    return i + take;
  }

  /** Hands the finished message over; the state is cleared first so the callback sees an idle framer. */
  private emit(): void {
    const msg = this.msg;
    if (msg === null) return;
    this.endMessage();
    this.events.onMessage(msg);
  }

  private endMessage(): void {
    this.phase = Phase.Idle;
    this.msg = null;
    this.filled = 0;
    this.pos = 0;
    this.accLen = 0;
    this.headerOpen = false;
    this.field = Field.Skip;
    this.contentLength = -1;
  }
}

/**
 * Type shims for the untyped peer parsers the benchmark measures (devDependencies only). They
 * describe just the parts of each package bench/peers/*.ts uses, as read from the packages' source.
 * sip.js ships its own .d.ts files and needs no shim.
 */

/** npm `sip` 0.0.6 (kirm/sip.js): CommonJS, sip.js at the package root. */
declare module 'sip' {
  export interface SipUriValue {
    schema?: string;
    user?: string;
    password?: string;
    host?: string;
    port?: number | null;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }
  export interface AorValue {
    name?: string;
    /** A string for To/From/Contact/Refer-To; parsed for Route/Record-Route/Path. */
    uri: string | SipUriValue | undefined;
    params: Record<string, string | null>;
  }
  export interface ViaValue {
    version: string;
    protocol: string;
    host: string;
    port?: number;
    params: Record<string, string | null>;
  }
  export interface CSeqValue {
    seq: number;
    method: string;
  }
  /**
   * Header values by lower-cased long name. Via/Route/Record-Route/Path/Contact (unless `*`) and the
   * auth headers are arrays, To/From/Refer-To objects, CSeq an object, Content-Length a number and
   * everything else the raw text (repeated lines joined with ',').
   */
  export type HeaderValue = string | number | AorValue | CSeqValue | readonly unknown[] | Record<string, string>;
  export interface Headers {
    via?: ViaValue[];
    route?: AorValue[];
    'max-forwards'?: string;
    'call-id'?: string;
    cseq?: CSeqValue;
    to?: AorValue;
    [name: string]: HeaderValue | undefined;
  }
  export interface Message {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version: string;
    headers: Headers;
    content: string;
  }
  /** Whole message; takes a string or a Buffer (it calls `.toString('binary')`). undefined on failure. */
  export function parse(data: string | Uint8Array): Message | undefined;
  export function parseUri(s: string): SipUriValue | undefined;
  const sip: {
    parse: typeof parse;
    parseUri: typeof parseUri;
  };
  export default sip;
}

/** JsSIP 3.13.8: lib/Parser.js (CommonJS). Its IncomingMessage classes live in lib/SIPMessage.js. */
declare module 'jssip/lib/Parser.js' {
  export interface JsSipIncomingMessage {
    /** Raw header lines by "headerized" name (`Via`, `Call-ID`, `CSeq`, `Max-Forwards`...). */
    headers: Record<string, Array<{ raw: string; parsed?: unknown }>>;
    method: string | null;
    via_branch: string | null | undefined;
    call_id: string | null;
    cseq: number | null;
    to_tag: string | null | undefined;
    from_tag: string | null | undefined;
    body: string | null;
    getHeader(name: string): string | undefined;
    getHeaders(name: string): string[];
    hasHeader(name: string): boolean;
    /** Grammar.parse of line `idx` of the header, cached; undefined when absent or malformed. Throws for a name with no grammar rule. */
    parseHeader(name: string, idx?: number): unknown;
  }
  /**
   * `ua` is only stored on an IncomingRequest (for reply()); parsing never reads it. Returns
   * undefined (after a debug-module warning) when the message or a well-known header is malformed.
   */
  export function parseMessage(data: string, ua: object): JsSipIncomingMessage | undefined;
  const parser: { parseMessage: typeof parseMessage };
  export default parser;
}

/** drachtio-sip 0.6.3: index.js exports { SipMessage, parser }; lib/parser.js does the work. */
declare module 'drachtio-sip' {
  export interface DrachtioUri {
    family: 'ipv4' | 'ipv6';
    scheme: string;
    user?: string;
    password?: string;
    host: string;
    port: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }
  export interface DrachtioAor {
    name?: string;
    uri: string | DrachtioUri | undefined;
    params: Record<string, string | undefined>;
  }
  export interface DrachtioVia {
    version: string;
    protocol: string;
    host: string;
    port?: number;
    params: Record<string, string | undefined>;
  }
  export interface DrachtioCSeq {
    seq: number;
    method: string;
  }
  export type DrachtioHeaderValue =
    | string
    | number
    | DrachtioAor
    | DrachtioCSeq
    | readonly unknown[]
    | Record<string, string>;
  export interface DrachtioMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version: string;
    /** lazy: every value is the raw text (repeated lines joined with ','); else parsed like npm `sip`. */
    headers: Record<string, DrachtioHeaderValue | undefined>;
    body: string;
    payload: Array<{ type: unknown; content: string | undefined }>;
  }
  /** The parser for a header stored under `{ s: text, i: 0 }`; the generic one returns the text. */
  export type DrachtioHeaderParser = (data: { s: string; i: number }, previous?: unknown) => unknown;
  export interface DrachtioParser {
    /** Takes a string or a Buffer (it calls `.toString('utf8')`); undefined on failure. */
    parseSipMessage(data: string | Uint8Array, lazy?: boolean): DrachtioMessage | undefined;
    parseUri(s: string | DrachtioUri): DrachtioUri | undefined;
    getParser(hdr: string): DrachtioHeaderParser;
    getHeaderName(hdr: string): string;
  }
  const drachtio: { parser: DrachtioParser; SipMessage: unknown };
  export default drachtio;
}

/**
 * Building requests (RFC 3261 §8.1.1) and responses (§8.2.6) from scratch or from a request.
 */
import { newBranch, newCallId, newTag } from '../core/ids.js';
import { reasonPhrase } from '../core/methods.js';
import { HeaderField, toBinary } from './header-field.js';
import { SipRequest, SipResponse } from './message.js';
import { formatNameAddr, parseNameAddr, parseNameAddrList } from './name-addr.js';
import { formatUri, parseUri } from './uri.js';
import { formatVia } from './headers/index.js';
import { parseContact } from './header-registry.js';
import type { NameAddr, Uri, Via } from './types.js';

/** Extra headers: pairs keep order and allow repeats. */
export type ExtraHeaders = ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>;

export interface RequestOptions {
  method: string;
  /** Request-URI. */
  uri: string | Uri;
  /** From; a tag is added when it has none (§8.1.1.3). */
  from: string | NameAddr;
  to: string | NameAddr;
  /** Generated (128 random bits) when absent (§8.1.1.4). */
  callId?: string;
  /** CSeq number; 1 when absent. */
  cseq?: number;
  /** Top Via; its branch is generated with the magic cookie when absent (§8.1.1.7). Usually added by the transport. */
  via?: Omit<Via, 'params' | 'protocol'> & { params?: Via['params']; protocol?: string };
  /** 70 when absent (§8.1.1.6). */
  maxForwards?: number;
  contact?: string | NameAddr;
  /** Route set, in order (§8.1.2, §12.2.1.1). */
  route?: ReadonlyArray<string | NameAddr>;
  headers?: ExtraHeaders;
  body?: Uint8Array | string;
  contentType?: string;
}

function text(v: string | NameAddr, check: (s: string) => unknown = parseNameAddr): string {
  // A string is written as given, once it parses strictly: never a scheme-less or malformed URI.
  return typeof v === 'string' ? (check(v), v) : formatNameAddr(v);
}

function pushExtra(fields: HeaderField[], extra: ExtraHeaders | undefined): void {
  if (!extra) return;
  const pairs = Array.isArray(extra) ? (extra as ReadonlyArray<readonly [string, string]>) : Object.entries(extra);
  for (const [name, value] of pairs) fields.push(HeaderField.create(name, value));
}

/** A new request with the mandatory headers of RFC 3261 §8.1.1 filled in. */
export function createRequest(options: RequestOptions): SipRequest {
  const fields: HeaderField[] = [];
  if (options.via) {
    const v = options.via;
    const params = Object.assign(Object.create(null) as Via['params'], v.params);
    if (!params.branch) params.branch = newBranch();
    fields.push(HeaderField.create('Via', formatVia({ protocol: v.protocol ?? 'SIP/2.0', transport: v.transport, host: v.host, port: v.port, params })));
  }
  fields.push(HeaderField.create('Max-Forwards', String(options.maxForwards ?? 70)));
  for (const r of options.route ?? []) fields.push(HeaderField.create('Route', text(r, parseNameAddrList)));
  let from = text(options.from);
  if (typeof options.from === 'string' ? !/;\s*tag\s*=/i.test(options.from) : !options.from.params.tag) from += ';tag=' + newTag();
  fields.push(HeaderField.create('From', from));
  fields.push(HeaderField.create('To', text(options.to)));
  fields.push(HeaderField.create('Call-ID', options.callId ?? newCallId()));
  fields.push(HeaderField.create('CSeq', `${options.cseq ?? 1} ${options.method}`));
  if (options.contact !== undefined) fields.push(HeaderField.create('Contact', text(options.contact, parseContact)));
  pushExtra(fields, options.headers);
  const uri = typeof options.uri === 'string' ? (parseUri(options.uri), options.uri) : formatUri(options.uri);
  const req = new SipRequest(options.method, toBinary(uri), fields);
  req.setBody(options.body ?? new Uint8Array(0), options.body !== undefined ? options.contentType : undefined);
  return req;
}

export interface ResponseOptions {
  reason?: string;
  /** To tag for this UAS; generated when the request's To has none and status > 100 (§8.2.6.2). */
  toTag?: string;
  headers?: ExtraHeaders;
  body?: Uint8Array | string;
  contentType?: string;
}

const COPIED = new Set(['via', 'from', 'call-id', 'cseq']);

/**
 * A response to `req` per RFC 3261 §8.2.6: Via (all, in order), From, Call-ID and CSeq copied as
 * received; To copied, with a tag added when absent (except on 100); Timestamp echoed on 100 (§8.2.6.1).
 */
export function createResponse(req: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  const fields: HeaderField[] = [];
  for (const f of req.headers) {
    if (COPIED.has(f.key)) fields.push(f);
    else if (f.key === 'to') {
      if (status > 100 && !req.to.params.tag) {
        fields.push(HeaderField.create('To', f.value + ';tag=' + (options.toTag ?? newTag())));
      } else fields.push(f);
    } else if (f.key === 'timestamp' && status === 100) fields.push(f);
  }
  pushExtra(fields, options.headers);
  const res = new SipResponse(status, toBinary(options.reason ?? reasonPhrase(status)), fields);
  res.setBody(options.body ?? new Uint8Array(0), options.body !== undefined ? options.contentType : undefined);
  return res;
}

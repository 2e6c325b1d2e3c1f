/**
 * npm `sip` 0.0.6 (kirm/sip.js). Public function: `sip.parse(data)`, which takes a string or a
 * Buffer (it calls `data.toString('binary')` itself), so it is handed the datagram Buffer directly
 * and that conversion is inside its measured cost. It parses eagerly: Via, Route, Record-Route,
 * Path (with URIs), Contact/To/From/Refer-To (name-addr, URI left as text), CSeq, Content-Length
 * and the auth headers; every other header stays text. It has no lazy mode.
 */
import sip, { type HeaderValue, type Message } from 'sip';
import { PeerParseFailure, type ParserAdapter, type ProxyView } from './types.js';

function parse(buf: Buffer): Message {
  const m = sip.parse(buf);
  if (m === undefined) throw new PeerParseFailure('sip');
  return m;
}

/** A name-addr whose URI `sip` left as text: parse it with its public sip.parseUri. */
function deepen(v: HeaderValue | undefined): number {
  if (typeof v !== 'object' || v === null) return 1;
  if (Array.isArray(v)) {
    let n = 0;
    for (const e of v as readonly unknown[]) n += deepen(e as HeaderValue);
    return n;
  }
  const uri = (v as { uri?: unknown }).uri;
  if (typeof uri === 'string') sip.parseUri(uri);
  return 1;
}

export const sipAdapter: ParserAdapter = {
  name: 'sip',
  pkg: 'sip',
  how: 'sip.parse(buf) (Buffer in; it converts to a binary string itself); everything: + sip.parseUri on name-addr URIs it leaves as text',
  proxy(buf): ProxyView {
    const h = parse(buf).headers;
    const mf = h['max-forwards'];
    const cseq = h.cseq;
    return {
      branch: h.via?.[0]?.params.branch,
      maxForwards: mf === undefined ? undefined : Number(mf),
      routes: h.route ?? [],
      callId: h['call-id'],
      cseqSeq: cseq?.seq,
      cseqMethod: cseq?.method,
      toTag: h.to?.params.tag,
    };
  },
  everything(buf) {
    const h = parse(buf).headers;
    let n = 0;
    for (const name in h) n += deepen(h[name]);
    return n;
  },
};

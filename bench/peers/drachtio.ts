/**
 * drachtio-sip 0.6.3. Public function: `parser.parseSipMessage(data, lazy)`, which takes a string
 * or a Buffer (it calls `data.toString('utf8')` itself), so it is handed the datagram Buffer
 * directly and that conversion is inside its measured cost.
 * - proxy path: lazy mode (`lazy = true`): every header is kept as text; the values the proxy
 *   needs are then parsed with the header parsers drachtio exposes through `parser.getParser(name)`
 *   (what its SipMessage.getParsedHeader() does, minus that class's copying).
 * - everything: normal mode (`lazy = false`): Via, Route, Record-Route, Path (with URIs), Contact,
 *   To, From, Refer-To, Referred-By, P-Asserted-Identity, Remote-Party-ID (name-addr, URI left as
 *   text), CSeq, Content-Length and the auth headers parsed eagerly; then parser.parseUri on the
 *   name-addr URIs it left as text; every other header is text.
 */
import drachtio, {
  type DrachtioAor,
  type DrachtioCSeq,
  type DrachtioHeaderValue,
  type DrachtioMessage,
  type DrachtioVia,
} from 'drachtio-sip';
import { PeerParseFailure, type ParserAdapter, type ProxyView } from './types.js';

const { parser } = drachtio;
const parseVia = parser.getParser('via');
const parseRoute = parser.getParser('route');
const parseCSeq = parser.getParser('cseq');
const parseTo = parser.getParser('to');

function parse(buf: Buffer, lazy: boolean): DrachtioMessage {
  const m = parser.parseSipMessage(buf, lazy);
  if (m === undefined) throw new PeerParseFailure('drachtio-sip');
  return m;
}

/** In lazy mode every present header is the text of its lines joined with ','. */
function text(v: DrachtioHeaderValue | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

function deepen(v: DrachtioHeaderValue | undefined): number {
  if (typeof v !== 'object' || v === null) return 1;
  if (Array.isArray(v)) {
    let n = 0;
    for (const e of v as readonly unknown[]) n += deepen(e as DrachtioHeaderValue);
    return n;
  }
  const uri = (v as { uri?: unknown }).uri;
  if (typeof uri === 'string') parser.parseUri(uri);
  return 1;
}

export const drachtioLazy: ParserAdapter = {
  name: 'drachtio-sip (lazy)',
  pkg: 'drachtio-sip',
  how: 'parser.parseSipMessage(buf, true) then parser.getParser(name)({ s, i: 0 }) for Via, Route, CSeq, To',
  proxy(buf): ProxyView {
    const h = parse(buf, true).headers;
    const via = text(h['via']);
    const mf = text(h['max-forwards']);
    const route = text(h['route']);
    const cseqText = text(h['cseq']);
    const toText = text(h['to']);
    const vias = via === undefined ? undefined : (parseVia({ s: via, i: 0 }) as DrachtioVia[]);
    const maxForwards = mf === undefined ? undefined : Number(mf);
    const routes = route === undefined ? [] : (parseRoute({ s: route, i: 0 }) as DrachtioAor[]);
    const callId = text(h['call-id']);
    const cseq = cseqText === undefined ? undefined : (parseCSeq({ s: cseqText, i: 0 }) as DrachtioCSeq);
    const to = toText === undefined ? undefined : (parseTo({ s: toText, i: 0 }) as DrachtioAor);
    return {
      branch: vias?.[0]?.params.branch,
      maxForwards,
      routes,
      callId,
      cseqSeq: cseq?.seq,
      cseqMethod: cseq?.method,
      toTag: to?.params.tag,
    };
  },
};

export const drachtioFull: ParserAdapter = {
  name: 'drachtio-sip',
  pkg: 'drachtio-sip',
  how: 'parser.parseSipMessage(buf, false) (normal mode) + parser.parseUri on name-addr URIs it leaves as text',
  everything(buf) {
    const h = parse(buf, false).headers;
    let n = 0;
    for (const name in h) n += deepen(h[name]);
    return n;
  },
};

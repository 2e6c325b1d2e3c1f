/**
 * JsSIP 3.13.8. Public function: `Parser.parseMessage(data, ua)` from `jssip/lib/Parser.js` (the
 * package has no "exports" map, so the deep path is how its own transport layer reaches it).
 * It takes a string: a proxy receives bytes, so the UTF-8 decode (what JsSIP's Transport does with
 * TextDecoder for binary frames) happens inside the measured loop and is part of its cost.
 * `ua` is only stored on an IncomingRequest for reply(); parsing never touches it, so a stub does.
 * At parse time it parses the first Via, From, To, Call-ID, CSeq, Max-Forwards, Contact,
 * Record-Route, Content-Length/Type and a few more; other lines stay raw until parseHeader().
 */
import jssip, { type JsSipIncomingMessage } from 'jssip/lib/Parser.js';
import { PeerParseFailure, type ParserAdapter, type ProxyView } from './types.js';

const UA_STUB: object = Object.freeze({});

/**
 * Start rules of JsSIP's grammar (lib/Grammar.js) that parse a header value, by the name
 * IncomingMessage.parseHeader() derives from the headerized header name ('-' becomes '_').
 * parseHeader() throws for a name with no rule, so headers not listed are read as text.
 */
const RULES = new Set([
  'Allow_Events', 'Call_ID', 'Contact', 'Content_Disposition', 'Content_Encoding', 'Content_Length',
  'Content_Type', 'CSeq', 'Expires', 'Event', 'From', 'Max_Forwards', 'Min_Expires', 'Proxy_Authenticate',
  'Proxy_Require', 'Record_Route', 'Reason', 'Require', 'Route', 'Subscription_State', 'Subject',
  'Supported', 'To', 'Via', 'WWW_Authenticate', 'Session_Expires', 'Refer_To', 'Replaces',
]);
/** Memo of RULES by headerized name, so the check costs one Map lookup per header. */
const hasRule = new Map<string, boolean>();
function ruleFor(name: string): boolean {
  let r = hasRule.get(name);
  if (r === undefined) {
    r = RULES.has(name.replace(/-/g, '_'));
    hasRule.set(name, r);
  }
  return r;
}

function parse(buf: Buffer): JsSipIncomingMessage {
  const m = jssip.parseMessage(buf.toString('utf8'), UA_STUB);
  if (m === undefined) throw new PeerParseFailure('jssip');
  return m;
}

export const jssipAdapter: ParserAdapter = {
  name: 'jssip',
  pkg: 'jssip',
  how:
    "Parser.parseMessage(buf.toString('utf8'), {}) from jssip/lib/Parser.js; " +
    'everything: msg.parseHeader(name, i) for every line with a grammar rule',
  proxy(buf): ProxyView {
    const m = parse(buf);
    const maxForwards = m.parseHeader('max-forwards') as number | undefined;
    const n = m.getHeaders('route').length;
    const routes: unknown[] = [];
    for (let i = 0; i < n; i++) routes.push(m.parseHeader('route', i));
    const cseq = m.parseHeader('cseq') as { value: number; method: string } | undefined;
    return {
      branch: m.via_branch,
      maxForwards,
      routes,
      callId: m.call_id ?? undefined,
      cseqSeq: m.cseq ?? undefined,
      cseqMethod: cseq?.method,
      toTag: m.to_tag,
    };
  },
  everything(buf) {
    const m = parse(buf);
    let n = 0;
    for (const name of Object.keys(m.headers)) {
      const lines = m.headers[name]!;
      const count = lines.length;
      if (ruleFor(name)) {
        for (let i = 0; i < count; i++) if (m.parseHeader(name, i) !== undefined) n++;
      } else {
        for (let i = 0; i < count; i++) if (lines[i]!.raw !== undefined) n++;
      }
    }
    return n;
  },
};

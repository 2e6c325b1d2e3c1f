/**
 * SIP.js 0.21.2. Public function: `Core.Parser.parseMessage(data, logger)` (exported from the
 * package root; it is what SIP.js's own transport path calls). It takes a string: a proxy receives
 * bytes, so the UTF-8 decode happens inside the measured loop and is part of its cost. The logger
 * comes from a LoggerFactory with its console output off (it only logs on failure).
 * At parse time it parses the first Via, From, To, Call-ID, CSeq, Contact, Record-Route,
 * Content-Length/Type and a few more; other lines stay raw until parseHeader().
 */
import { Core, Grammar } from 'sip.js';
import { PeerParseFailure, type ParserAdapter, type ProxyView } from './types.js';

const factory = new Core.LoggerFactory();
factory.builtinEnabled = false;
const logger = factory.getLogger('sip.parser');

/**
 * Header start rules of SIP.js's grammar (lib/grammar/pegjs/dist/grammar.js peg$startRuleIndices).
 * parseHeader() of a name with no rule fails and deletes the line, so other headers are read as
 * text. The grammar has no Route rule: Route is parsed with Record_Route, whose syntax is the same
 * (name-addr *(SEMI rr-param), comma-separated).
 */
const RULES = new Set([
  'Contact', 'Record_Route', 'Subscription_State', 'Supported', 'Require', 'Via', 'Call_ID',
  'Content_Disposition', 'Content_Length', 'Content_Type', 'CSeq', 'Event', 'From', 'Max_Forwards',
  'Min_SE', 'Proxy_Authenticate', 'Refer_To', 'Replaces', 'Session_Expires', 'To', 'WWW_Authenticate',
  'Referred_By',
]);
const hasRule = new Map<string, boolean>();
function ruleFor(name: string): boolean {
  let r = hasRule.get(name);
  if (r === undefined) {
    r = RULES.has(name.replace(/-/g, '_'));
    hasRule.set(name, r);
  }
  return r;
}

type Message = Core.IncomingRequestMessage | Core.IncomingResponseMessage;

function parse(buf: Buffer): Message {
  const m = Core.Parser.parseMessage(buf.toString('utf8'), logger);
  if (m === undefined) throw new PeerParseFailure('sip.js');
  return m;
}

/** One Route line through the Record_Route rule: its values' parsed name-addrs (-1 when malformed). */
function parseRouteLine(raw: string, out: unknown[]): void {
  const r = Grammar.parse(raw, 'Record_Route') as Array<{ parsed: unknown }> | -1;
  if (r === -1) return;
  for (const v of r) out.push(v.parsed);
}

export const sipjsAdapter: ParserAdapter = {
  name: 'sip.js',
  pkg: 'sip.js',
  how:
    "Core.Parser.parseMessage(buf.toString('utf8'), logger); Route via Grammar.parse(line, 'Record_Route'); " +
    'everything: msg.parseHeader(name, i) for every line with a grammar rule',
  proxy(buf): ProxyView {
    const m = parse(buf);
    const maxForwards = m.parseHeader('max-forwards') as number | undefined;
    const routes: unknown[] = [];
    for (const line of m.getHeaders('route')) parseRouteLine(line, routes);
    const cseq = m.parseHeader('cseq') as { value: number; method: string } | undefined;
    return {
      branch: m.viaBranch,
      maxForwards,
      routes,
      callId: m.callId,
      cseqSeq: m.cseq,
      cseqMethod: cseq?.method,
      toTag: m.toTag,
    };
  },
  everything(buf) {
    const m = parse(buf);
    let n = 0;
    for (const name of Object.keys(m.headers)) {
      const lines = m.headers[name]!;
      const count = lines.length;
      if (name === 'Route') {
        const out: unknown[] = [];
        for (let i = 0; i < count; i++) parseRouteLine(lines[i]!.raw, out);
        n += out.length;
      } else if (ruleFor(name)) {
        for (let i = 0; i < count; i++) if (m.parseHeader(name, i) !== undefined) n++;
      } else {
        for (let i = 0; i < count; i++) if (lines[i]!.raw !== undefined) n++;
      }
    }
    return n;
  },
};

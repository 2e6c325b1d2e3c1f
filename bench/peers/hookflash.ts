/**
 * hookflash through its public API (src/index.ts). Input is the datagram's bytes, as a transport
 * receives them; no conversion is needed.
 */
import { parseMessage, type SipRequest, type SipResponse } from '../../src/index.js';
import type { ParserAdapter, ProxyView } from './types.js';

function view(m: SipRequest | SipResponse): ProxyView {
  const cseq = m.cseq;
  return {
    branch: m.topVia?.params.branch,
    maxForwards: m.maxForwards,
    routes: m.route,
    callId: m.callId,
    cseqSeq: cseq.seq,
    cseqMethod: cseq.method,
    toTag: m.toTag,
  };
}

const LAZY = { lazy: true } as const;

/** Lazy mode: framing, start line and header boundaries at parse time; the six values parsed on read. */
export const hookflashLazy: ParserAdapter = {
  name: 'hookflash (lazy)',
  how: 'parseMessage(buf, { lazy: true }) then msg.topVia / maxForwards / route / callId / cseq / to',
  proxy: (buf) => view(parseMessage(buf, LAZY)),
};

/** Default mode: every known header parsed and validated at parse time. */
export const hookflashFull: ParserAdapter = {
  name: 'hookflash (full)',
  how: 'parseMessage(buf) (full validation); everything: m.getParsed(h.key) for every header',
  proxy: (buf) => view(parseMessage(buf)),
  everything(buf) {
    const m = parseMessage(buf);
    let n = 0;
    for (const h of m.headers) {
      if (m.getParsed(h.key) !== undefined) n++;
    }
    return n;
  },
};

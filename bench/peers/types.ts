/**
 * What every parser adapter offers the benchmark. Each adapter throws when its parser cannot parse
 * a message (throws, or returns undefined): the benchmark counts that message as failed for it.
 */

/** The values a proxy reads on its hot path, in the order it reads them. */
export interface ProxyView {
  /** branch of the top Via (null for a valueless `;branch`, undefined when absent). */
  branch: string | null | undefined;
  maxForwards: number | undefined;
  /** Every Route value, as the parser's own parsed objects. */
  routes: readonly unknown[];
  callId: string | undefined;
  cseqSeq: number | undefined;
  cseqMethod: string | undefined;
  toTag: string | null | undefined;
}

export interface ParserAdapter {
  /** Row label in the report. */
  name: string;
  /** npm package measured (for its version in the report), or undefined for hookflash. */
  pkg?: string;
  /** One line: which public function is used and what input it takes. */
  how: string;
  /** 'proxy path': parse a datagram, then read the ProxyView fields. */
  proxy?: (datagram: Buffer) => ProxyView;
  /** 'everything': parse a datagram, then read every header's richest parsed value; returns how many values were read. */
  everything?: (datagram: Buffer) => number;
}

/** Thrown by an adapter when the peer's parse function returns undefined (its way of failing). */
export class PeerParseFailure extends Error {
  constructor(parser: string) {
    super(`${parser}: parse returned undefined`);
    this.name = 'PeerParseFailure';
  }
}

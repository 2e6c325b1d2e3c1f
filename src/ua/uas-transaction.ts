/**
 * A server transaction as a request handler sees it: the request, where it came from, and
 * `respond()`, through which the UAS core adds what RFC 3261 asks of it around each response.
 */
import { newTag } from '../core/ids.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { Source } from '../transport/index.js';

/** @internal What the endpoint does with each response a handler gives. */
export interface UasCore {
  /** Sends `response` on `uas.transaction` (after the checks); returns what the transaction returned. */
  send(uas: UasTransaction, response: SipResponse): boolean;
}

export class UasTransaction {
  readonly request: SipRequest;
  readonly source: Source;
  /** The transaction layer's machine, for its state and the last response sent. */
  readonly transaction: ServerTransaction;
  private readonly core: UasCore;
  private tag: string | undefined;
  private wasCancelled = false;

  /** @internal Made by SipEndpoint for each new request. */
  constructor(request: SipRequest, transaction: ServerTransaction, core: UasCore) {
    this.request = request;
    this.source = transaction.source;
    this.transaction = transaction;
    this.core = core;
    // A request already in a dialog carries the tag to answer with (§12.2.2).
    this.tag = request.toTag || undefined;
  }

  /**
   * The To tag every response but 100 carries (RFC 3261 §8.2.6.2: one tag for all the responses
   * to a request, provisional and final). Made on first use when the request had none.
   */
  get toTag(): string {
    this.tag ??= newTag();
    return this.tag;
  }

  /** True once a final response went out. */
  get answered(): boolean {
    return (this.transaction.response?.status ?? 0) >= 200;
  }

  /** True when a CANCEL matched this INVITE (RFC 3261 §9.2); the endpoint has answered it 487. */
  get cancelled(): boolean {
    return this.wasCancelled;
  }

  /**
   * Sends a response, usually `createResponse(request, status, ...)`. Returns false when the
   * transaction's state discards it (a second final response, §17.2.1, §17.2.2). A To tag other
   * than `toTag` is replaced by it (§8.2.6.2), so a handler need not thread the tag through.
   */
  respond(response: SipResponse): boolean {
    if (response.status > 100) this.alignToTag(response);
    return this.core.send(this, response);
  }

  /** @internal The endpoint matched a CANCEL to this transaction. */
  markCancelled(): void {
    this.wasCancelled = true;
  }

  private alignToTag(response: SipResponse): void {
    const tag = response.toTag;
    if (tag === undefined || tag === '') {
      // createResponse always tags a response above 100 to an untagged request; a hand-built
      // response may lack one.
      response.set('To', `${response.get('to') ?? this.request.get('to')!};tag=${this.toTag}`);
      return;
    }
    if (this.tag === undefined) {
      this.tag = tag;
      return;
    }
    if (tag !== this.tag) {
      const to = response.get('to')!;
      response.set('To', replaceTag(to, this.tag));
    }
  }
}

/** The To value with its `tag` parameter set to `tag` (header parameters follow the URI, RFC 3261 §20.39). */
function replaceTag(to: string, tag: string): string {
  // Header parameters sit after the closing '>' (name-addr) or after the addr-spec; a tag inside
  // the <...> would be a URI parameter, which this pattern cannot reach past the '>'.
  const close = to.lastIndexOf('>');
  const head = close < 0 ? '' : to.slice(0, close + 1);
  const params = close < 0 ? to : to.slice(close + 1);
  return head + params.replace(/;\s*tag\s*=\s*[^;\s]*/i, `;tag=${tag}`);
}

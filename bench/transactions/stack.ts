/**
 * bench:transactions: the two layers wired by hand (no SipEndpoint): a SipTransportLayer with one
 * UDP listener on 127.0.0.1 and a TransactionLayer on top, with counters on what crosses between
 * them (requests and responses handed to the transport, messages delivered up).
 */
import type { Logger, LogContext } from '../../src/core/logger.js';
import type { SipRequest, SipResponse } from '../../src/message/index.js';
import { TransactionLayer, type TransactionUser } from '../../src/transaction/index.js';
import { SipTransportLayer, type Source, type Target, type TransportLayer, type ViaSentBy } from '../../src/transport/index.js';

export interface StackCounters {
  /** Requests the transaction layer handed to the transport: originals and retransmissions. */
  requestsOut: number;
  /** Responses handed to the transport: originals and retransmissions. */
  responsesOut: number;
  /** Requests the transport delivered up (originals and retransmissions). */
  requestsIn: number;
  /** Responses the transport delivered up. */
  responsesIn: number;
}

export function zeroCounters(): StackCounters {
  return { requestsOut: 0, responsesOut: 0, requestsIn: 0, responsesIn: 0 };
}

/** Counts warn and error lines (a socket error, a dropped message) and keeps the first few. */
export class CountingLogger implements Logger {
  warnings = 0;
  errors = 0;
  readonly first: string[] = [];
  debug(_obj: LogContext, _msg: string): void {}
  info(_obj: LogContext, _msg: string): void {}
  warn(obj: LogContext, msg: string): void {
    this.warnings++;
    this.keep('warn', obj, msg);
  }
  error(obj: LogContext, msg: string): void {
    this.errors++;
    this.keep('error', obj, msg);
  }
  private keep(level: string, obj: LogContext, msg: string): void {
    if (this.first.length < 5) this.first.push(`${level}: ${msg} ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`);
  }
}

/** What the UAS child (bench/transactions-uas.ts) reports on `stats`. */
export interface UasStats {
  counters: StackCounters;
  /** onRequest calls: new server transactions. */
  transactions: number;
  /** Live server transactions (Completed ones wait for Timer J). */
  serverCount: number;
  /** The transaction layer's timer heap size. */
  timerCount: number;
  /** CPU time since `reset`, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Wall time since `reset`, ms. */
  wallMs: number;
  heapUsed: number;
  rss: number;
  warnings: number;
  errors: number;
  firstLogLines: string[];
}

export interface Stack {
  readonly transport: SipTransportLayer;
  readonly layer: TransactionLayer;
  readonly counters: StackCounters;
  readonly logger: CountingLogger;
  /** The bound UDP port. */
  readonly port: number;
  close(): Promise<void>;
}

/** Opens a UDP listener on 127.0.0.1:`port` (0: any) with a transaction layer serving `user`. */
export async function startStack(user: TransactionUser, port = 0): Promise<Stack> {
  const counters = zeroCounters();
  const logger = new CountingLogger();
  let layer: TransactionLayer | undefined;
  const transport = new SipTransportLayer({
    listeners: [{ protocol: 'UDP', host: '127.0.0.1', port }],
    logger,
    handler: {
      onMessage(message: SipRequest | SipResponse, source: Source): void {
        if (message.isRequest) counters.requestsIn++;
        else counters.responsesIn++;
        layer!.onMessage(message, source);
      },
    },
  });
  // The transaction layer sees the transport through this counting shim only.
  const counting: TransportLayer = {
    viaFor: (target: Target): ViaSentBy => transport.viaFor(target),
    sendRequest(request: SipRequest, target: Target, connectionId?: string): Promise<void> {
      counters.requestsOut++;
      return transport.sendRequest(request, target, connectionId);
    },
    sendResponse(response: SipResponse, source: Source): Promise<void> {
      counters.responsesOut++;
      return transport.sendResponse(response, source);
    },
  };
  layer = new TransactionLayer({ transport: counting, user });
  await transport.start();
  const bound = transport.listeners[0]!.port;
  const l = layer;
  return {
    transport,
    layer: l,
    counters,
    logger,
    port: bound,
    async close(): Promise<void> {
      l.close();
      await transport.close();
    },
  };
}

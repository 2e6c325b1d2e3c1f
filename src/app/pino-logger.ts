/**
 * The project's Logger interface backed by pino: one JSON line per event on stdout
 * (`{"level":30,"time":...,"node":"node-1","msg":"..."}`, pino's numeric levels, so pino's own
 * tools such as pino-pretty read it). The stack logs through the Logger interface only; this file
 * is the one place that knows pino.
 */
import { pino, type Logger as Pino, type DestinationStream } from 'pino';
import type { LogContext, Logger, LogLevel } from '../index.js';

export interface PinoLoggerOptions {
  level: LogLevel;
  /** Fields on every line (the node id). */
  bindings?: LogContext;
  /** Default stdout, written synchronously so no line is lost when the process exits. */
  destination?: DestinationStream;
}

/** A Logger writing through pino; `child()` adds fields to every line. */
export class PinoLogger implements Logger {
  private constructor(private readonly pino: Pino) {}

  static create(options: PinoLoggerOptions): PinoLogger {
    const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
    const root = pino({ level: options.level, base: { pid: process.pid, ...options.bindings } }, destination);
    return new PinoLogger(root);
  }

  child(bindings: LogContext): PinoLogger {
    return new PinoLogger(this.pino.child(bindings));
  }

  debug(obj: LogContext, msg: string): void {
    if (this.pino.isLevelEnabled('debug')) this.pino.debug(plain(obj), msg);
  }
  info(obj: LogContext, msg: string): void {
    this.pino.info(plain(obj), msg);
  }
  warn(obj: LogContext, msg: string): void {
    this.pino.warn(plain(obj), msg);
  }
  error(obj: LogContext, msg: string): void {
    this.pino.error(plain(obj), msg);
  }
}

/**
 * Errors under `err` go to pino's serializer (type, message, stack, code); errors under any other
 * key become {name, message, code}, since JSON.stringify would write `{}`.
 */
function plain(obj: LogContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v instanceof Error && k !== 'err') {
      const e: Record<string, unknown> = { name: v.name, message: v.message };
      const code = (v as { code?: unknown }).code;
      if (code !== undefined) e.code = code;
      out[k] = e;
    } else {
      out[k] = v;
    }
  }
  return out;
}

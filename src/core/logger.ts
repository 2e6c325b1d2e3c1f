/**
 * Structured logging, injected like the Clock. Every call takes a context object first and a
 * message second (the pino convention), so the project can later back this interface with pino
 * without touching callers.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Context fields for one log line: plain JSON-able values. */
export type LogContext = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(obj: LogContext, msg: string): void;
  info(obj: LogContext, msg: string): void;
  warn(obj: LogContext, msg: string): void;
  error(obj: LogContext, msg: string): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where JsonLogger writes: process.stderr by default. */
export interface LogSink {
  write(line: string): unknown;
}

export interface JsonLoggerOptions {
  /** Lines below this level are dropped. Default 'info'. */
  level?: LogLevel;
  /** Default process.stderr. */
  sink?: LogSink;
  /** Fields added to every line (component name, node id). */
  bindings?: LogContext;
}

/**
 * One JSON object per line: `{"level":"warn","time":...,"msg":"...",...context}`. Errors in the
 * context are written as `{name, message, code}` because JSON.stringify drops their fields.
 */
export class JsonLogger implements Logger {
  private readonly min: number;
  private readonly sink: LogSink;
  private readonly bindings: LogContext;

  constructor(options: JsonLoggerOptions = {}) {
    this.min = RANK[options.level ?? 'info'];
    this.sink = options.sink ?? process.stderr;
    this.bindings = options.bindings ?? {};
  }

  /** A logger that adds `bindings` to every line (a child, as pino calls it). */
  child(bindings: LogContext): JsonLogger {
    const level = (Object.keys(RANK) as LogLevel[]).find((l) => RANK[l] === this.min) ?? 'info';
    return new JsonLogger({ level, sink: this.sink, bindings: { ...this.bindings, ...bindings } });
  }

  debug(obj: LogContext, msg: string): void {
    this.write('debug', obj, msg);
  }
  info(obj: LogContext, msg: string): void {
    this.write('info', obj, msg);
  }
  warn(obj: LogContext, msg: string): void {
    this.write('warn', obj, msg);
  }
  error(obj: LogContext, msg: string): void {
    this.write('error', obj, msg);
  }

  private write(level: LogLevel, obj: LogContext, msg: string): void {
    if (RANK[level] < this.min) return;
    const line: Record<string, unknown> = { level, time: Date.now(), msg, ...this.bindings };
    for (const [k, v] of Object.entries(obj)) line[k] = v instanceof Error ? errorFields(v) : v;
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      // A context that cannot be serialized (a cycle, a BigInt) must not cost the log line.
      text = JSON.stringify({ level, time: line.time, msg, unserializable: true });
    }
    this.sink.write(text + '\n');
  }
}

function errorFields(e: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.name, message: e.message };
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  return out;
}

/** Drops everything: the default where no logger is given. */
export const noopLogger: Logger = Object.freeze({
  debug(): void {},
  info(): void {},
  warn(): void {},
  error(): void {},
});

/**
 * The UserAgent's MediaFactory (src/ua/call/media.ts) built on a MediaEngine (src/media): each
 * call gets an RtpSession on a port pair from the engine's range, with the sink the application
 * chose (a recording, a level meter) for what arrives.
 */
import type { AudioSink, CallMediaContext, MediaEngine, MediaFactory } from '../index.js';

export interface EngineMediaFactoryOptions {
  /** Where each call's received audio goes; default nowhere. */
  readonly sink?: (context: CallMediaContext) => AudioSink | undefined;
  /** Packetisation time, ms; default 20. */
  readonly ptimeMs?: number;
}

/** A MediaFactory whose sessions come from `engine` (closed with the call, or by `engine.close()`). */
export function engineMediaFactory(engine: MediaEngine, options: EngineMediaFactoryOptions = {}): MediaFactory {
  return {
    async create(context) {
      const sink = options.sink?.(context);
      return engine.createSession({
        ...(sink === undefined ? {} : { sink }),
        ...(options.ptimeMs === undefined ? {} : { ptimeMs: options.ptimeMs }),
      });
    },
  };
}

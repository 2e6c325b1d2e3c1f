/**
 * The events a SipServer emits, for metrics and the dashboard: a small typed emitter. Emitting
 * with no listener costs one map lookup.
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import type { Source } from '../transport/index.js';

export interface SipServerEvents {
  /** Every request received (ACKs included), before any processing. */
  request: { method: string; request: SipRequest; source: Source };
  /** Every response the server sends upstream: forwarded or its own. */
  response: { status: number; method: string; response: SipResponse };
  /** The first 2xx of an initial INVITE went upstream. */
  'call-start': { callId: string; from: string; to: string };
  /** A BYE of a call we saw start was answered. */
  'call-end': { callId: string; status: number };
}

type Listener<T> = (event: T) => void;

export class ServerEmitter<E extends object> {
  private readonly handlers = new Map<keyof E, Array<Listener<never>>>();

  on<K extends keyof E>(name: K, listener: Listener<E[K]>): this {
    const list = this.handlers.get(name);
    if (list === undefined) this.handlers.set(name, [listener as Listener<never>]);
    else list.push(listener as Listener<never>);
    return this;
  }

  off<K extends keyof E>(name: K, listener: Listener<E[K]>): this {
    const list = this.handlers.get(name);
    if (list === undefined) return this;
    const i = list.indexOf(listener as Listener<never>);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.handlers.delete(name);
    return this;
  }

  /** Whether anyone listens to `name` (so the event object need not be built). */
  has(name: keyof E): boolean {
    return this.handlers.has(name);
  }

  emit<K extends keyof E>(name: K, event: E[K]): void {
    const list = this.handlers.get(name);
    if (list === undefined) return;
    for (const l of [...list]) {
      try {
        (l as Listener<E[K]>)(event);
      } catch {
        // A listener's failure is its own; the SIP traffic goes on.
      }
    }
  }
}

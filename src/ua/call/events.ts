/**
 * Typed events for the public API (STYLE.md: typed events, one async style). A thin layer over
 * node's EventEmitter so that `call.on('ended', ({ reason }) => ...)` is checked by the compiler.
 */
import { EventEmitter } from 'node:events';

/** `E` maps each event name to the one argument its listeners get. */
export class TypedEvents<E extends object> {
  readonly #emitter = new EventEmitter();

  /** Calls `listener` on every `event`. Returns `this`. */
  on<K extends keyof E & string>(event: K, listener: (arg: E[K]) => void): this {
    this.#emitter.on(event, listener);
    return this;
  }

  /** Calls `listener` on the next `event` only. */
  once<K extends keyof E & string>(event: K, listener: (arg: E[K]) => void): this {
    this.#emitter.once(event, listener);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (arg: E[K]) => void): this {
    this.#emitter.off(event, listener);
    return this;
  }

  /** Resolves with the next `event`'s argument. */
  next<K extends keyof E & string>(event: K): Promise<E[K]> {
    return new Promise((resolve) => this.#emitter.once(event, resolve));
  }

  /** @internal Emits to the listeners; one that throws does not stop the others or the stack. */
  protected emit<K extends keyof E & string>(event: K, arg: E[K]): void {
    // rawListeners: calling a once() wrapper removes it, as emit() would.
    for (const listener of this.#emitter.rawListeners(event)) {
      try {
        (listener as (a: E[K]) => void)(arg);
      } catch (err) {
        this.listenerFailed(event, err);
      }
    }
  }

  /** What happens when a listener throws; subclasses log it. */
  protected listenerFailed(_event: string, _err: unknown): void {}
}

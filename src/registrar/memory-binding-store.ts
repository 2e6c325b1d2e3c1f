/**
 * A BindingStore in process memory: one node, nothing survives a restart. The registrar's tests
 * and the proxy's use it; `update` runs synchronously, so it is atomic in one event loop.
 */
import type { Binding, BindingStore } from './binding.js';

function copy(b: Binding): Binding {
  return { ...b, path: [...b.path], flow: b.flow === undefined ? undefined : { ...b.flow } };
}

export class MemoryBindingStore implements BindingStore {
  private readonly records = new Map<string, Binding[]>();

  async lookup(aor: string, now: number): Promise<Binding[]> {
    return (this.records.get(aor) ?? []).filter((b) => b.expiresAt > now).map(copy);
  }

  async update(aor: string, now: number, change: (current: Binding[]) => Binding[]): Promise<Binding[]> {
    const current = (this.records.get(aor) ?? []).filter((b) => b.expiresAt > now).map(copy);
    const next = change(current).filter((b) => b.expiresAt > now).map(copy);
    if (next.length === 0) this.records.delete(aor);
    else this.records.set(aor, next);
    return next.map(copy);
  }

  async purgeExpired(now: number): Promise<number> {
    let dropped = 0;
    for (const [aor, list] of this.records) {
      const live = list.filter((b) => b.expiresAt > now);
      dropped += list.length - live.length;
      if (live.length === 0) this.records.delete(aor);
      else if (live.length !== list.length) this.records.set(aor, live);
    }
    return dropped;
  }

  async count(now: number): Promise<number> {
    let n = 0;
    for (const list of this.records.values()) for (const b of list) if (b.expiresAt > now) n++;
    return n;
  }

  async list(now: number, limit = Infinity): Promise<Binding[]> {
    const out: Binding[] = [];
    for (const list of this.records.values()) {
      for (const b of list) {
        if (out.length >= limit) return out;
        if (b.expiresAt > now) out.push(copy(b));
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.records.clear();
  }
}

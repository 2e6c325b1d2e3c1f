/**
 * bench:registrations, in process: the Registrar over a SqliteBindingStore (a file in a temp
 * directory), fed REGISTER requests built in memory, one new user each. No network: it measures the
 * registrar and its store alone (REGISTERs per second of one process's CPU), and, with
 * `node --expose-gc`, the V8 heap after a full GC and the RSS before and after `count` bindings:
 * what a binding costs the process, apart from the transaction layer's garbage that the over-UDP
 * figure carries.
 */
import { join } from 'node:path';
import { WallClock } from '../../src/core/clock.js';
import { createRequest } from '../../src/message/index.js';
import { Registrar } from '../../src/registrar/index.js';
import { SqliteBindingStore } from '../../src/store/index.js';
import type { Source } from '../../src/transport/index.js';

export interface RegistrarMemoryResult {
  bindings: number;
  /** REGISTERs answered 200 per second of wall time (single process, no network). */
  registersPerSecond: number;
  non200: number;
  /** V8 heap used after a forced GC, bytes; undefined without --expose-gc. */
  heapBefore?: number;
  heapAfter?: number;
  heapBytesPerBinding?: number;
  rssBefore: number;
  rssAfter: number;
  rssBytesPerBinding: number;
  /** Live bindings the store counts at the end. */
  storeCount: number;
}

const SOURCE: Source = { protocol: 'UDP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.1', remotePort: 5070 };

function settle(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Registers `count` distinct users (after 1,000 of warm-up) and measures; the store is closed at the end. */
export async function measureRegistrarMemory(o: { dir: string; domain: string; count: number }): Promise<RegistrarMemoryResult> {
  const store = SqliteBindingStore.open(join(o.dir, 'bindings.db'));
  const registrar = new Registrar({ store, clock: new WallClock(), isLocalDomain: (h) => h === o.domain, gruu: true });
  let non200 = 0;
  const registerUser = async (user: string): Promise<void> => {
    const aor = `<sip:${user}@${o.domain}>`;
    const request = createRequest({
      method: 'REGISTER',
      uri: `sip:${o.domain}`,
      from: aor,
      to: aor,
      cseq: 1,
      via: { transport: 'UDP', host: '127.0.0.1', port: 5070 },
      contact: `<sip:${user}@127.0.0.1:5070>;expires=3600`,
    });
    const response = await registrar.register(request, SOURCE);
    if (response.status !== 200) non200++;
  };
  try {
    for (let i = 0; i < 1000; i++) await registerUser(`warm${i}`);
    const heapBefore = settle();
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    for (let i = 0; i < o.count; i++) await registerUser(`u${i}`);
    const seconds = (performance.now() - t0) / 1000;
    const heapAfter = settle();
    const rssAfter = process.memoryUsage().rss;
    const storeCount = await store.count(Date.now());
    const result: RegistrarMemoryResult = {
      bindings: o.count,
      registersPerSecond: Math.round(o.count / seconds),
      non200,
      rssBefore,
      rssAfter,
      rssBytesPerBinding: Math.round((rssAfter - rssBefore) / o.count),
      storeCount,
    };
    if (heapBefore !== undefined && heapAfter !== undefined) {
      result.heapBefore = heapBefore;
      result.heapAfter = heapAfter;
      result.heapBytesPerBinding = Math.round((heapAfter - heapBefore) / o.count);
    }
    return result;
  } finally {
    await store.close();
  }
}

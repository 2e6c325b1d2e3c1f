/**
 * A second writer on the same SQLite file, in its own thread and connection (used by
 * sqlite-binding-store.test.ts). Does nothing on the main thread, where a test runner that picks
 * up every file under test/ would load it.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SqliteBindingStore } from '../../../src/store/sqlite-binding-store.js';

if (!isMainThread) {
  const { file, id, count } = workerData as { file: string; id: string; count: number };
  const store = SqliteBindingStore.open(file);
  const aor = 'sip:alice@example.com';
  for (let i = 0; i < count; i++) {
    await store.update(aor, 0, (current) => [...current, {
      aor, contact: `sip:${id}-${i}@192.0.2.1`, expiresAt: 1e12, q: 1, callId: id, cseq: i + 1, path: [], updatedAt: 0,
    }]);
  }
  await store.close();
  parentPort!.postMessage('done');
}

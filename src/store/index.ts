/** The stores: bindings (SQLite for one node, Redis for several) and Digest users. */
export { SqliteBindingStore } from './sqlite-binding-store.js';
export { RedisBindingStore, type RedisBindingStoreOptions } from './redis-binding-store.js';
export { SqliteUserStore } from './sqlite-user-store.js';
export { FileUserStore, type FileUserEntry, type FileUserStoreOptions } from './file-user-store.js';
export { StoreError, UserConfigError, type StoreErrorCode } from './store-error.js';
export { userRecord } from './user-hashes.js';

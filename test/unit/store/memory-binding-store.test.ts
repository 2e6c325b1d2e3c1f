/** MemoryBindingStore against the BindingStore contract. */
import { MemoryBindingStore } from '../../../src/registrar/memory-binding-store.js';
import { bindingStoreContract } from './binding-store-contract.js';

bindingStoreContract('MemoryBindingStore', async (t) => {
  const store = new MemoryBindingStore();
  t.after(() => store.close());
  return store;
});

/** The registrar layer's public surface: RFC 3261 §10.3 with Path, outbound and public GRUUs. */
export type { Binding, BindingFlow, BindingStore, LocationService } from './binding.js';
export { Registrar, REGISTRAR_EXTENSIONS, type RegistrarOptions, type RegisterContext } from './registrar.js';
export { MemoryBindingStore } from './memory-binding-store.js';
export { canonicalAor } from './aor.js';
export { publicGruu, parseGruu, instanceUrn } from './gruu.js';

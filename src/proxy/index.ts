/** The proxy layer's public surface: the stateful proxy (RFC 3261 §16) and the server around it. */
export {
  SipServer,
  type SipServerOptions, type SipServerStats, type ServerRegistrar, type ServerAuthenticator, type ServerAuthOutcome, type ServerTlsOptions,
} from './sip-server.js';
export type { SipServerEvents } from './server-events.js';
export { ProxyCore, type ProxyCoreOptions, type ProxyDelegate, type ProxyObserver } from './proxy-core.js';
export { ResponseContext, type BranchSpec, type NextHop } from './response-context.js';
export { LocalDomains } from './local-domains.js';
export { FlowTokens, type Flow } from './flow-token.js';
export { chooseBest, mergeChallenges } from './best-response.js';
export { loopHash } from './loop-detection.js';
export { RequestGuard, DEFAULT_GUARD_LIMITS, type GuardLimits, type GuardReason, type GuardVerdict, type GuardOptions } from './overload-guard.js';
export { LocationCache, type LocationCacheOptions } from './location-cache.js';

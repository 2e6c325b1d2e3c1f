/** The transport layer's surface: what the transaction layer, the app and tests use. */
export * from './types.js';
export { SipTransportLayer, type SipTransportLayerOptions, type TransportLimits } from './transport-layer.js';
export type { ListenerConfig, BoundListener } from './listener-set.js';
export { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits, ConnectionTable } from './connection-table.js';
export type { Connection } from './connection.js';
export { Rfc3263Resolver, orderSrv, type Resolver, type DnsClient, type Rfc3263ResolverOptions } from './resolver.js';
export { StaticResolver, type StaticTable, type StaticResolverOptions } from './static-resolver.js';
export type { TlsCredentials, PemSource } from './tls-config.js';
export { checkSipIdentity, certificateIdentities } from './tls-identity.js';
export type { MessageInEvent, MessageOutEvent } from './trace.js';

/**
 * Binding a stream listener (TCP, TLS, WS, WSS): one place for the listen, its error and the bound
 * address the Via of this listener will carry.
 */
import type { Server } from 'node:net';
import { SipError } from '../core/errors.js';
import { ipFamily, normalizeAddress } from './addresses.js';
import type { BoundListener, ListenerConfig } from './listener-set.js';
import type { TransportProtocol } from './types.js';

/** Listens on config.host:config.port; rejects with SipError ERR_TRANSPORT when the bind fails. */
export function bindServer(server: Server, protocol: TransportProtocol, config: ListenerConfig): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new SipError('ERR_TRANSPORT', `${protocol} listen ${config.host}:${config.port} failed: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ host: normalizeAddress(config.host), port: config.port }, () => {
      server.off('error', onError);
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : config.port;
      resolve({
        protocol,
        host: normalizeAddress(config.host),
        port,
        family: ipFamily(config.host) === 6 ? 6 : 4,
        viaHost: config.viaHost,
        viaPort: config.viaPort ?? port,
      });
    });
  });
}

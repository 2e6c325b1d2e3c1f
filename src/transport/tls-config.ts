/**
 * TLS settings for listeners and outbound connections (TLS and WSS): credentials from files or
 * buffers, peer verification on by default (RFC 5922), SNI.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions, PeerCertificate, TlsOptions } from 'node:tls';
import { ipFamily } from './addresses.js';
import { checkSipIdentity, certificateIdentities } from './tls-identity.js';

/** A PEM value: the PEM text itself, a Buffer holding it, or the path of a file holding it. */
export type PemSource = string | Buffer;

export interface TlsCredentials {
  /** Certificate chain (PEM). Required on listeners. */
  cert?: PemSource;
  /** Private key (PEM). Required on listeners. */
  key?: PemSource;
  /** Trusted CAs (PEM). Listeners use them to verify client certificates; clients, server ones. */
  ca?: PemSource | PemSource[];
  passphrase?: string;
}

/** PEM text stays as it is; any other string is a file path. */
function load(source: PemSource): Buffer | string {
  if (Buffer.isBuffer(source)) return source;
  if (source.includes('-----BEGIN')) return source;
  return readFileSync(source);
}

export interface LoadedCredentials {
  cert?: Buffer | string;
  key?: Buffer | string;
  ca?: Array<Buffer | string>;
  passphrase?: string;
}

/** Reads files once, at start, so a missing file fails start() rather than the first call. */
export function loadCredentials(c: TlsCredentials): LoadedCredentials {
  const out: LoadedCredentials = {};
  if (c.cert !== undefined) out.cert = load(c.cert);
  if (c.key !== undefined) out.key = load(c.key);
  if (c.ca !== undefined) out.ca = (Array.isArray(c.ca) ? c.ca : [c.ca]).map(load);
  if (c.passphrase !== undefined) out.passphrase = c.passphrase;
  return out;
}

/**
 * Listener options. With a CA configured, a client certificate is asked for but not required:
 * one that verifies lets the peer claim an RFC 5923 alias under its names; none costs nothing.
 */
export function serverTlsOptions(c: LoadedCredentials): TlsOptions {
  const o: TlsOptions = { cert: c.cert, key: c.key, minVersion: 'TLSv1.2' };
  if (c.passphrase !== undefined) o.passphrase = c.passphrase;
  if (c.ca !== undefined) {
    o.ca = c.ca;
    o.requestCert = true;
    o.rejectUnauthorized = false;
  }
  return o;
}

/**
 * Client options for a connection to `address`, checking the peer against `serverName` (or the
 * address when the target has no name). SNI carries the name; RFC 6066 §3 forbids IP literals there.
 */
export function clientTlsOptions(c: LoadedCredentials | undefined, address: string, serverName: string | undefined, insecure: boolean): ConnectionOptions {
  const expected = serverName ?? address;
  const o: ConnectionOptions = {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: !insecure,
    checkServerIdentity: insecure ? () => undefined : (_host: string, cert: PeerCertificate) => checkSipIdentity(expected, cert),
  };
  if (serverName !== undefined && ipFamily(serverName) === 0) o.servername = serverName;
  if (c?.ca !== undefined) o.ca = c.ca;
  if (c?.cert !== undefined) o.cert = c.cert;
  if (c?.key !== undefined) o.key = c.key;
  if (c?.passphrase !== undefined) o.passphrase = c.passphrase;
  return o;
}

/**
 * The identities a verified peer stands for. A peer that did not verify (no certificate, an
 * untrusted one, or tlsInsecure) stands for nothing, except that with tlsInsecure the name asked
 * for is taken on trust so the connection can be reused for it.
 */
export function verifiedIdentities(authorized: boolean, cert: PeerCertificate | undefined, trustedName?: string): Set<string> {
  if (authorized) return certificateIdentities(cert);
  return trustedName === undefined ? new Set() : new Set([trustedName.toLowerCase()]);
}

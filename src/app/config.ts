/**
 * The `hookflash serve` configuration: a JSON file (checked key by key, see config-schema.ts),
 * flags over it, and defaults that need no file at all (UDP and TCP on 127.0.0.1:5060, data in
 * ./data, HTTP on 127.0.0.1:8080). docs/serve.md is the reference for every key.
 *
 * JSON rather than YAML: Node reads it with no dependency, its types are unambiguous (YAML's
 * `no` and `1.0` surprises), and every key is checked here anyway.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { GuardLimits, ListenerConfig, LogLevel, TlsCredentials } from '../index.js';
import { arrayOf, bool, check, ConfigError, int, obj, str } from './config-schema.js';
import { LIMITS_SHAPE, resolveLimits, type LimitsFile } from './limits-config.js';
import { parseListen, UsageError } from './listen-flags.js';

export { ConfigError } from './config-schema.js';

/** A user given inline in the file: the password, or HA1 hashes (as `hookflash user add` stores them). */
export interface UserEntry {
  /** `alice@atlanta.example.com`: Digest username `alice` in realm `atlanta.example.com`. */
  user: string;
  password?: string;
  ha1Md5?: string;
  ha1Sha256?: string;
}

export type StoreConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'redis'; url: string; keyPrefix: string };

export interface HttpConfig {
  host: string;
  port: number;
  /** Bearer token every request must carry; required when `host` is not loopback. */
  token?: string;
}

/** Everything `hookflash serve` runs with, defaults filled in and paths absolute. */
export interface ServeConfig {
  listen: ListenerConfig[];
  tls?: { cert: string; key: string; ca?: string };
  data: string;
  domains: string[];
  http: HttpConfig;
  /** Users from the file; empty when none are given there. */
  users: UserEntry[];
  /** SQLite file of users (`hookflash user add`), default DATA/users.db. */
  usersDb: string;
  store: StoreConfig;
  nodeId: string;
  registrar: { minExpires?: number; maxExpires?: number; defaultExpires?: number };
  auth: {
    realm?: string;
    required: string[];
    /** Seconds a nonce is accepted. */
    nonceLifetime: number;
  };
  /**
   * Key of the Digest nonces and the Path flow tokens; nodes sharing one Redis set the same, so a
   * nonce or a flow token made by one node is good at another. Default random per process.
   */
  secret?: string;
  log: { level: LogLevel };
  /** Run with no authentication on non-loopback listeners (only with --insecure-open). */
  insecureOpen: boolean;
  /** The request guard's limits (src/app/limits-config.ts); undefined when `limits.enabled` is false. */
  limits?: Partial<GuardLimits>;
}

/** The flags of `hookflash serve`, as parsed (all optional; each overrides the file). */
export interface ServeFlags {
  config?: string;
  listen?: string[];
  data?: string;
  http?: string;
  domain?: string[];
  insecureOpen?: boolean;
  logLevel?: string;
  nodeId?: string;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Requests challenged by default when users exist (out of dialog). OPTIONS stays open for health checks. */
export const DEFAULT_AUTH_REQUIRED = ['REGISTER', 'INVITE', 'MESSAGE', 'SUBSCRIBE', 'PUBLISH', 'REFER'];
export const DEFAULT_HTTP = '127.0.0.1:8080';
export const DEFAULT_LISTEN = ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060'];

const FILE_SHAPE = obj({
  listen: arrayOf(str()),
  tls: obj({ cert: str(), key: str(), ca: str() }, ['cert', 'key']),
  data: str(),
  domains: arrayOf(str()),
  http: obj({ listen: str(), token: str() }),
  users: arrayOf(obj({ user: str(), password: str(), ha1Md5: str(), ha1Sha256: str() }, ['user'])),
  usersDb: str(),
  store: obj({ kind: str(['sqlite', 'redis']), file: str(), url: str(), keyPrefix: str() }, ['kind']),
  nodeId: str(),
  registrar: obj({ minExpires: int(0), maxExpires: int(1), defaultExpires: int(1) }),
  auth: obj({ realm: str(), required: arrayOf(str()), nonceLifetime: int(1) }),
  secret: str(),
  log: obj({ level: str(LOG_LEVELS) }),
  limits: LIMITS_SHAPE,
});

/** The file's contents as written (checked against FILE_SHAPE). */
interface FileConfig {
  listen?: string[];
  tls?: { cert: string; key: string; ca?: string };
  data?: string;
  domains?: string[];
  http?: { listen?: string; token?: string };
  users?: UserEntry[];
  usersDb?: string;
  store?: { kind: 'sqlite' | 'redis'; file?: string; url?: string; keyPrefix?: string };
  nodeId?: string;
  registrar?: { minExpires?: number; maxExpires?: number; defaultExpires?: number };
  auth?: { realm?: string; required?: string[]; nonceLifetime?: number };
  secret?: string;
  log?: { level?: LogLevel };
  limits?: LimitsFile;
}

/** Reads and checks a configuration file. Relative paths in it are relative to its directory. */
export function readConfigFile(file: string): { config: FileConfig; dir: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`config: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config: ${file} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  check(parsed, FILE_SHAPE);
  return { config: parsed as FileConfig, dir: dirname(resolve(file)) };
}

/** `HOST:PORT` or `[IPv6]:PORT`. */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535) throw new ConfigError(`${what}: ${JSON.stringify(text)} is not HOST:PORT (port 0 to 65535)`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** 127.0.0.0/8, ::1 (and its IPv4-mapped form) and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** The file (if any) under the flags, with defaults: what serve runs with. Throws ConfigError. */
export function resolveConfig(flags: ServeFlags, cwd = process.cwd()): ServeConfig {
  const { config: file, dir } = flags.config === undefined ? { config: {} as FileConfig, dir: cwd } : readConfigFile(flags.config);
  const inFile = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  const fromFlag = (p: string): string => resolve(cwd, p);

  const tls = file.tls === undefined ? undefined : {
    cert: inFile(file.tls.cert), key: inFile(file.tls.key), ...(file.tls.ca === undefined ? {} : { ca: inFile(file.tls.ca) }),
  };
  const credentials: TlsCredentials | undefined = tls === undefined ? undefined : { ...tls };
  const specs = flags.listen !== undefined && flags.listen.length > 0 ? flags.listen : file.listen ?? DEFAULT_LISTEN;
  if (specs.length === 0) throw new ConfigError('config: "listen" is empty: give at least one TRANSPORT:HOST:PORT');
  const listen = specs.map((spec) => {
    try {
      return parseListen(spec, credentials === undefined ? undefined : { cert: tls!.cert, key: tls!.key });
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      // parseListen speaks of flags; the file's "tls" is what gives certificates here.
      throw new ConfigError(e.message.replace('needs --cert and --key', 'needs a certificate: set "tls": {"cert": FILE, "key": FILE}'));
    }
  }).map((l) => (l.tls !== undefined && credentials !== undefined ? { ...l, tls: credentials } : l));

  const data = flags.data !== undefined ? fromFlag(flags.data) : inFile(file.data ?? 'data');

  let domains = flags.domain !== undefined && flags.domain.length > 0 ? flags.domain : file.domains;
  if (domains === undefined) {
    domains = [];
    for (const l of listen) if (!isWildcard(l.host) && !domains.includes(l.host)) domains.push(l.host);
    if (!domains.includes('localhost')) domains.push('localhost');
  }
  domains = domains.map((d) => d.toLowerCase());

  const httpText = flags.http ?? file.http?.listen ?? DEFAULT_HTTP;
  const http: HttpConfig = parseHostPort(httpText, flags.http !== undefined ? '--http' : 'config: "http.listen"');
  if (file.http?.token !== undefined) http.token = file.http.token;
  if (!isLoopback(http.host) && http.token === undefined) {
    throw new ConfigError(`HTTP on ${httpText} is not loopback: set "http": {"token": ...} so /metrics and the dashboard need a Bearer token`);
  }

  const store: StoreConfig = file.store?.kind === 'redis'
    ? { kind: 'redis', url: file.store.url ?? 'redis://127.0.0.1:6379', keyPrefix: file.store.keyPrefix ?? 'hookflash:' }
    : { kind: 'sqlite', file: file.store?.file !== undefined ? inFile(file.store.file) : resolve(data, 'bindings.db') };
  if (file.store?.kind === 'sqlite' && (file.store.url !== undefined || file.store.keyPrefix !== undefined)) {
    throw new ConfigError('config: "store.url" and "store.keyPrefix" are for "kind": "redis"');
  }
  if (file.store?.kind === 'redis' && file.store.file !== undefined) throw new ConfigError('config: "store.file" is for "kind": "sqlite"');

  const level = flags.logLevel ?? file.log?.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(level)}`);
  }

  const users = file.users ?? [];
  for (const [i, u] of users.entries()) {
    if (!/^[^@\s]+@[^@\s]+$/.test(u.user)) throw new ConfigError(`config: "users[${i}].user" must be USER@DOMAIN, not ${JSON.stringify(u.user)}`);
  }

  const registrar = { ...file.registrar };
  if (registrar.minExpires !== undefined && registrar.maxExpires !== undefined && registrar.minExpires > registrar.maxExpires) {
    throw new ConfigError('config: "registrar.minExpires" is above "registrar.maxExpires"');
  }

  const out: ServeConfig = {
    listen,
    data,
    domains,
    http,
    users,
    usersDb: file.usersDb !== undefined ? inFile(file.usersDb) : resolve(data, 'users.db'),
    store,
    nodeId: flags.nodeId ?? file.nodeId ?? 'node-1',
    registrar,
    auth: {
      required: (file.auth?.required ?? DEFAULT_AUTH_REQUIRED).map((m) => m.toUpperCase()),
      nonceLifetime: file.auth?.nonceLifetime ?? 300,
      ...(file.auth?.realm === undefined ? {} : { realm: file.auth.realm }),
    },
    log: { level: level as LogLevel },
    insecureOpen: flags.insecureOpen === true,
  };
  if (tls !== undefined) out.tls = tls;
  const limits = resolveLimits(file.limits);
  if (limits !== undefined) out.limits = limits;
  if (file.secret !== undefined) {
    if (file.secret.length < 16) throw new ConfigError('config: "secret" must be at least 16 characters');
    out.secret = file.secret;
  }
  return out;
}

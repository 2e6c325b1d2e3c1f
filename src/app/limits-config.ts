/**
 * The `limits` section of the `hookflash serve` configuration: rate limits, block list,
 * transaction and call limits, authentication lockout (src/proxy/overload-guard.ts). Times are
 * seconds in the file, milliseconds in GuardLimits.
 */
import { isIP } from 'node:net';
import type { GuardLimits } from '../index.js';
import { arrayOf, bool, ConfigError, int, obj, str, type Shape } from './config-schema.js';

export const LIMITS_SHAPE: Shape = obj({
  enabled: bool,
  action: str(['reject', 'drop']),
  retryAfter: int(1, 86_400),
  requestsPerSecond: int(0),
  burst: int(0),
  totalRequestsPerSecond: int(0),
  userRequestsPerSecond: int(0),
  userBurst: int(0),
  blockAfter: int(0),
  blockWindow: int(1),
  blockSeconds: int(1),
  transactionsPerSource: int(0),
  transactions: int(0),
  dialogsPerSource: int(0),
  dialogs: int(0),
  authFailuresPerUser: int(0),
  authFailuresPerSource: int(0),
  authWindow: int(1),
  lockoutSeconds: int(1),
  trusted: arrayOf(str()),
  sanity: bool,
  maxTracked: int(1),
});

/** The section as written (checked against LIMITS_SHAPE). */
export interface LimitsFile {
  enabled?: boolean;
  action?: 'reject' | 'drop';
  retryAfter?: number;
  requestsPerSecond?: number;
  burst?: number;
  totalRequestsPerSecond?: number;
  userRequestsPerSecond?: number;
  userBurst?: number;
  blockAfter?: number;
  blockWindow?: number;
  blockSeconds?: number;
  transactionsPerSource?: number;
  transactions?: number;
  dialogsPerSource?: number;
  dialogs?: number;
  authFailuresPerUser?: number;
  authFailuresPerSource?: number;
  authWindow?: number;
  lockoutSeconds?: number;
  trusted?: string[];
  sanity?: boolean;
  maxTracked?: number;
}

/** What serve runs the guard with: undefined when `enabled` is false. Throws ConfigError. */
export function resolveLimits(file: LimitsFile | undefined): Partial<GuardLimits> | undefined {
  const f = file ?? {};
  if (f.enabled === false) return undefined;
  const out: Partial<GuardLimits> = {};
  const copy = <K extends keyof LimitsFile & keyof GuardLimits>(k: K): void => {
    if (f[k] !== undefined) (out as Record<string, unknown>)[k] = f[k];
  };
  for (const k of ['action', 'retryAfter', 'requestsPerSecond', 'burst', 'totalRequestsPerSecond', 'userRequestsPerSecond', 'userBurst', 'blockAfter',
    'transactionsPerSource', 'transactions', 'dialogsPerSource', 'dialogs', 'authFailuresPerUser', 'authFailuresPerSource',
    'sanity', 'maxTracked'] as const) copy(k);
  if (f.blockWindow !== undefined) out.blockWindowMs = f.blockWindow * 1000;
  if (f.blockSeconds !== undefined) out.blockMs = f.blockSeconds * 1000;
  if (f.authWindow !== undefined) out.authWindowMs = f.authWindow * 1000;
  if (f.lockoutSeconds !== undefined) out.lockoutMs = f.lockoutSeconds * 1000;
  if (f.trusted !== undefined) {
    f.trusted.forEach((a, i) => {
      if (isIP(a.replace(/^\[(.*)\]$/, '$1')) === 0) throw new ConfigError(`config: "limits.trusted[${i}]" must be an IP address, not ${JSON.stringify(a)}`);
    });
    out.trusted = f.trusted.map((a) => a.replace(/^\[(.*)\]$/, '$1'));
  }
  if (f.burst !== undefined && f.requestsPerSecond !== undefined && f.burst > 0 && f.burst < f.requestsPerSecond) {
    throw new ConfigError('config: "limits.burst" is below "limits.requestsPerSecond"');
  }
  return out;
}

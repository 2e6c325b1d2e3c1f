/** Headers that name a dialog by Call-ID and tags: Replaces (RFC 3891) and Target-Dialog (RFC 4538). */
import { SipParseError } from '../../core/errors.js';
import { isToken, skipWs } from '../grammar.js';
import { formatParams, parseParams, type Params } from '../params.js';
import type { ReplacesValue, TargetDialogValue } from '../types.js';
import { scanCallId } from './misc.js';
import { paramsWithFields } from './numbers.js';

/** A tag parameter (`to-tag EQUAL token`): absent is undefined; a flag or a non-token value is a 400. */
function tagParam(params: Params, name: string, header: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (v === null || !isToken(v)) throw new SipParseError(`bad ${header} ${name}`);
  return v;
}

/** Reads `callid *( SEMI param )` with the callid grammar of RFC 3261 §25.1. */
function callIdAndParams(value: string): { callId: string; params: Params } {
  const start = skipWs(value, 0);
  const end = scanCallId(value, start);
  // The header is not a list (RFC 3891 §6.1, RFC 4538 §7): a comma is a 400.
  const params = parseParams(value, end, false).params;
  return { callId: value.slice(start, end), params };
}

/**
 * Replaces (RFC 3891 §6.1): `callid *(SEMI replaces-param)`, replaces-param = to-tag / from-tag /
 * early-flag / generic-param. RFC 3891 §6.1: a Replaces MUST contain exactly one to-tag and one
 * from-tag, so a missing one is a 400;
 * `early-only` is a flag (a value on it is a 400). The value of a `?Replaces=` URI header is the same
 * text once unescaped. The typed fields stay in params too.
 */
export function parseReplaces(value: string): ReplacesValue {
  const { callId, params } = callIdAndParams(value);
  const toTag = tagParam(params, 'to-tag', 'Replaces');
  const fromTag = tagParam(params, 'from-tag', 'Replaces');
  if (toTag === undefined || fromTag === undefined) throw new SipParseError('Replaces needs to-tag and from-tag');
  const early = params['early-only'];
  if (early !== undefined && early !== null) throw new SipParseError('Replaces early-only takes no value');
  return { callId, toTag, fromTag, earlyOnly: early === null, params };
}

/** Writes `callid;to-tag=..;from-tag=..[;early-only];params`. */
export function formatReplaces(v: ReplacesValue): string {
  return (
    v.callId +
    formatParams(
      paramsWithFields(v.params, { 'to-tag': v.toTag, 'from-tag': v.fromTag, 'early-only': v.earlyOnly ? null : undefined }),
    )
  );
}

/**
 * Target-Dialog (RFC 4538 §7): `callid *(SEMI td-param)`, td-param = remote-param / local-param /
 * generic-param. The tags are parsed as optional, as TargetDialogValue has them (a receiver can
 * still refuse a request whose dialog it cannot match); given, each must be a token.
 */
export function parseTargetDialog(value: string): TargetDialogValue {
  const { callId, params } = callIdAndParams(value);
  const v: TargetDialogValue = { callId, params };
  const localTag = tagParam(params, 'local-tag', 'Target-Dialog');
  if (localTag !== undefined) v.localTag = localTag;
  const remoteTag = tagParam(params, 'remote-tag', 'Target-Dialog');
  if (remoteTag !== undefined) v.remoteTag = remoteTag;
  return v;
}

/** Writes `callid;local-tag=..;remote-tag=..;params`. */
export function formatTargetDialog(v: TargetDialogValue): string {
  return v.callId + formatParams(paramsWithFields(v.params, { 'local-tag': v.localTag, 'remote-tag': v.remoteTag }));
}

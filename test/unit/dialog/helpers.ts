/**
 * Fixtures for the dialog layer's tests: the seed messages (test/fixtures/seed), and the seed call
 * (Alice calls Bob, RFC 5359 §2.1) through two record-routing proxies, every message passed
 * through bytes so that each is what a peer would really send.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  createResponse, formatUri, isSipUri, parseMessage, SipRequest, SipResponse,
  type ExtraHeaders, type NameAddr, type SipUri, type Uri,
} from '../../../src/message/index.js';

/** The repository root, from dist/test/unit/dialog/. */
const SEED = new URL('../../../../test/fixtures/seed/', import.meta.url);

export const CALL_ID = '12345601@atlanta.example.com';
export const ALICE_TAG = '1234567';
export const BOB_TAG = '314159';
export const ALICE_CONTACT = 'sips:alice@client.atlanta.example.com';
export const BOB_CONTACT = 'sips:bob@client.biloxi.example.com';
/** The proxy next to Alice (first to add Record-Route) and the one next to Bob. */
export const P1 = '<sips:p1.atlanta.example.com;lr>';
export const P2 = '<sips:p2.biloxi.example.com;lr>';

/** A message as a peer would send it: serialized and parsed back. */
export function wire<M extends SipRequest | SipResponse>(message: M): M {
  const parsed = parseMessage(message.toBuffer());
  assert.equal(parsed.isRequest, message.isRequest);
  return parsed as M;
}

export function asRequest(m: SipRequest | SipResponse): SipRequest {
  assert.ok(m instanceof SipRequest, 'expected a request');
  return m;
}

export function asResponse(m: SipRequest | SipResponse): SipResponse {
  assert.ok(m instanceof SipResponse, 'expected a response');
  return m;
}

/** A seed fixture, parsed: `seed-invite.sip`, `seed-reinvite-hold.sip`, `seed-refer.sip`. */
export function seed(name: 'seed-invite.sip' | 'seed-reinvite-hold.sip' | 'seed-refer.sip'): SipRequest {
  return asRequest(parseMessage(readFileSync(new URL(name, SEED))));
}

/** The seed INVITE as Alice sent it. */
export function aliceInvite(): SipRequest {
  return seed('seed-invite.sip');
}

/**
 * The seed INVITE as Bob receives it through P1 then P2: each proxy adds its Record-Route on top
 * (RFC 3261 §16.6 step 4), so Bob reads P2, P1.
 */
export function inviteAtBob(recordRoute: readonly string[] = [P1, P2]): SipRequest {
  const invite = aliceInvite();
  for (const rr of recordRoute) invite.prepend('Record-Route', rr);
  return wire(invite);
}

/**
 * Bob's response to the INVITE he received, with his tag and Contact, and the Record-Route copied
 * from the request (§12.1.1): what Alice receives, the proxies having passed it on. `contact: ''`
 * sends no Contact.
 */
export function bobResponse(invite: SipRequest, status: number, options: { toTag?: string; contact?: string; headers?: ExtraHeaders } = {}): SipResponse {
  const headers: Array<[string, string]> = invite.getAll('Record-Route').map((v): [string, string] => ['Record-Route', v]);
  if (options.contact !== '') headers.push(['Contact', options.contact ?? `<${BOB_CONTACT}>;+sip.rendering="no"`]);
  const extra = options.headers === undefined ? [] : Array.isArray(options.headers) ? options.headers : Object.entries(options.headers);
  return wire(createResponse(invite, status, { toTag: options.toTag ?? BOB_TAG, headers: [...headers, ...extra] }));
}

export function sipUri(u: Uri): SipUri {
  assert.ok(isSipUri(u), `expected a sip: or sips: URI, got ${formatUri(u)}`);
  return u;
}

/** The URIs of name-addrs (Route, Record-Route, route sets), as text. */
export function uris(values: readonly NameAddr[]): string[] {
  return values.map((v) => formatUri(v.uri));
}

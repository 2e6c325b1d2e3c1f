import assert from 'node:assert/strict';
import test from 'node:test';
import { formatAuth, parseAuth } from '../../../../src/message/headers/auth.js';
import type { AuthValue } from '../../../../src/message/types.js';
import { checkParser, fuzzInputs, rejects } from './fuzz-support.js';

/** Prototype-less record, as parseAuth builds its params. */
function rec(entries: Record<string, string>): Record<string, string> {
  return Object.assign(Object.create(null) as Record<string, string>, entries);
}

const CHALLENGE =
  'Digest realm="atlanta.example.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5';
const CREDENTIALS =
  'Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"';

test('a Digest challenge parses into scheme and unquoted params (RFC 3261 §20.44, §22.4)', () => {
  assert.deepEqual(parseAuth(CHALLENGE), {
    scheme: 'Digest',
    params: rec({ realm: 'atlanta.example.com', qop: 'auth,auth-int', nonce: 'f84f1cec41e6cbe5aea9c8e88d359', opaque: '', stale: 'FALSE', algorithm: 'MD5' }),
  });
});

test('Digest credentials parse, names lower-cased (RFC 3261 §20.7, RFC 7235 §2.1)', () => {
  const v = parseAuth(CREDENTIALS);
  assert.equal(v.scheme, 'Digest');
  assert.equal(v.params.uri, 'sip:bob@biloxi.com');
  assert.equal(v.params.nc, '00000001');
  assert.equal(v.params.qop, 'auth');
  assert.deepEqual(parseAuth('Digest UserName="x", REALM = "r" ,NC=1').params, rec({ username: 'x', realm: 'r', nc: '1' }));
});

test('an unknown scheme with a token param parses (RFC 4475 §3.3.7 regaut01)', () => {
  assert.deepEqual(parseAuth('NoOneKnowsThisScheme opaque-data=here'), { scheme: 'NoOneKnowsThisScheme', params: rec({ 'opaque-data': 'here' }) });
});

test('token68 credentials go to `token` (RFC 7235 §2.1)', () => {
  assert.deepEqual(parseAuth('Basic dXNlcjpwYXNzd29yZA=='), { scheme: 'Basic', params: rec({}), token: 'dXNlcjpwYXNzd29yZA==' });
  assert.deepEqual(parseAuth('Bearer  mF_9.B5f-4.1JqM/+~ '), { scheme: 'Bearer', params: rec({}), token: 'mF_9.B5f-4.1JqM/+~' });
  // A lone name (with or without trailing '=') is token68 by RFC 7235 §2.1, not a broken auth-param.
  assert.equal(parseAuth('Digest realm=').token, 'realm=');
});

test('a bare scheme parses with no params (RFC 7235 §2.1)', () => {
  assert.deepEqual(parseAuth(' Negotiate '), { scheme: 'Negotiate', params: rec({}) });
});

test('quoted auth-param values are unescaped (RFC 3261 §25.1 quoted-pair)', () => {
  assert.equal(parseAuth('Digest realm="a \\"b\\" \\\\ c, d"').params.realm, 'a "b" \\ c, d');
});

test('malformed auth values are a 400 (RFC 3261 §25.1, RFC 7235 §2.1)', () => {
  for (const bad of [
    '', '  ', '"Digest" realm="x"', 'Digest,realm="x"', 'Digest realm nonce', 'Digest realm=,nonce=1', 'Digest realm="x",', 'Digest realm="x",,nonce="y"',
    'Digest realm="x" nonce="y"', 'Digest realm="x', 'Digest realm=a b', 'Digest uri=sip:bob@biloxi.com', 'Digest realm="x", realm="y"',
    'Digest =x', 'Basic abc def', 'Digest realm=@',
  ]) {
    rejects(() => parseAuth(bad));
  }
});

test('formatAuth quotes what RFC 7616 §3.4 quotes in credentials and leaves qop, nc, algorithm bare', () => {
  assert.equal(
    formatAuth(parseAuth(CREDENTIALS)),
    'Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  assert.equal(
    formatAuth({ scheme: 'Digest', params: rec({ username: 'u', algorithm: 'SHA-256', nc: '00000002', qop: 'auth' }) }),
    'Digest username="u", algorithm=SHA-256, nc=00000002, qop=auth',
  );
});

test('formatAuth quotes qop and domain in a challenge, stale and algorithm bare (RFC 7616 §3.3)', () => {
  assert.equal(
    formatAuth({ scheme: 'Digest', params: rec({ realm: 'r', domain: 'sip:a.example.com', qop: 'auth', stale: 'true', algorithm: 'MD5' }) }),
    'Digest realm="r", domain="sip:a.example.com", qop="auth", stale=true, algorithm=MD5',
  );
  assert.equal(formatAuth({ scheme: 'Digest', params: rec({ qop: 'auth' }) }, 'challenge'), 'Digest qop="auth"');
  assert.equal(formatAuth({ scheme: 'Digest', params: rec({ qop: 'auth' }) }, 'credentials'), 'Digest qop=auth');
});

test('formatAuth quotes any value that is not a token, and writes token68 as is (RFC 7235 §2.1)', () => {
  assert.equal(formatAuth({ scheme: 'X', params: rec({ a: 'b c', d: '', e: 'f' }) }), 'X a="b c", d="", e=f');
  assert.equal(formatAuth({ scheme: 'Basic', params: rec({}), token: 'dXNlcg==' }), 'Basic dXNlcg==');
});

test('auth values round-trip through formatAuth (RFC 3261 §25.1)', () => {
  const samples: AuthValue[] = [parseAuth(CHALLENGE), parseAuth(CREDENTIALS), parseAuth('NoOneKnowsThisScheme opaque-data=here'), parseAuth('Basic abc=')];
  samples.push({ scheme: 'Digest', params: rec({ realm: 'a "quoted" \\ realm', nonce: '' }) });
  for (const v of samples) assert.deepEqual(parseAuth(formatAuth(v)), v);
});

test('auth parser throws only SipParseError on mutated input, and what it accepts round-trips', () => {
  const accepted = checkParser(parseAuth, fuzzInputs([CHALLENGE, CREDENTIALS, 'NoOneKnowsThisScheme opaque-data=here', 'Basic dXNlcg=='], 600), (v) => {
    assert.deepEqual(parseAuth(formatAuth(v)), v);
  });
  assert.ok(accepted > 20);
});

/**
 * Digest computations (RFC 7616, RFC 8760, RFC 2617, RFC 3261 §22): the RFC example vectors,
 * challenge choice, the server's checks and stateless nonces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { FakeClock } from '../../../src/core/clock.js';
import { createRequest, formatAuth, parseAuth, type AuthValue } from '../../../src/message/index.js';
import {
  chooseChallenge, computeCredentials, computeHa1Base, computeResponse, createChallenge, formatNonceCount, isSupportedChallenge,
  newCnonce, NonceIssuer, parseAlgorithm, SUPPORTED_ALGORITHMS, verifyCredentials,
} from '../../../src/auth/digest.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** RFC 7616 §3.9.1: GET /dir/index.html, Mufasa / Circle of Life. */
const RFC7616 = {
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  uri: '/dir/index.html',
};

function rfc7616Challenge(algorithm: string): AuthValue {
  return parseAuth(`Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=${algorithm}, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`);
}

test('RFC 7616 §3.9.1: the MD5 response for Mufasa', () => {
  const c = computeCredentials(rfc7616Challenge('MD5'), {
    method: 'GET', uri: RFC7616.uri, username: 'Mufasa', password: 'Circle of Life', nc: 1, cnonce: RFC7616.cnonce,
  });
  assert.equal(c.params.response, '8ca523f5e9506fed4657c9700eebdbec');
  assert.equal(c.params.qop, 'auth');
  assert.equal(c.params.nc, '00000001');
  assert.equal(c.params.algorithm, 'MD5');
  assert.equal(c.params.opaque, RFC7616.opaque);
  assert.equal(c.params.uri, RFC7616.uri);
  assert.equal(c.params.cnonce, RFC7616.cnonce);
});

test('RFC 7616 §3.9.1: the SHA-256 response for Mufasa', () => {
  const c = computeCredentials(rfc7616Challenge('SHA-256'), {
    method: 'GET', uri: RFC7616.uri, username: 'Mufasa', password: 'Circle of Life', nc: 1, cnonce: RFC7616.cnonce,
  });
  assert.equal(c.params.response, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  assert.equal(c.params.algorithm, 'SHA-256');
});

test('RFC 7616 §3.9.1: the same response from a stored HA1 instead of the password', () => {
  const ha1 = computeHa1Base('SHA-256', 'Mufasa', RFC7616.realm, 'Circle of Life');
  const c = computeCredentials(rfc7616Challenge('SHA-256'), {
    method: 'GET', uri: RFC7616.uri, username: 'Mufasa', ha1, nc: 1, cnonce: RFC7616.cnonce,
  });
  assert.equal(c.params.response, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

test('RFC 2617 §3.5: the MD5 qop=auth response for Mufasa at testrealm@host.com', () => {
  const challenge = parseAuth('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  const c = computeCredentials(challenge, { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle Of Life', nc: 1, cnonce: '0a4f113b' });
  assert.equal(c.params.response, '6629fae49393a05397450978507c4ef1');
  assert.equal(c.params.algorithm, undefined, 'no algorithm in the challenge: none echoed');
  assert.equal(formatAuth(c, 'credentials'),
    'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", '
    + 'response="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001');
});

test('SIP REGISTER without qop: the RFC 2069 response H(HA1:nonce:HA2) that RFC 3261 §22.4 keeps', () => {
  const challenge = parseAuth('Digest realm="atlanta.example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, algorithm=MD5');
  const c = computeCredentials(challenge, { method: 'REGISTER', uri: 'sip:atlanta.example.com', username: 'alice', password: 'secret', nc: 1 });
  const ha1 = md5('alice:atlanta.example.com:secret');
  const ha2 = md5('REGISTER:sip:atlanta.example.com');
  assert.equal(c.params.response, md5(`${ha1}:ea9c8e88df84f1cec4341ae6cbe5a359:${ha2}`));
  assert.equal(c.params.qop, undefined);
  assert.equal(c.params.nc, undefined);
  assert.equal(c.params.cnonce, undefined);
  assert.equal(c.params.opaque, '', 'opaque echoed, even empty');
});

test('SIP INVITE with qop=auth-int hashes the body into HA2 (RFC 7616 §3.4.3)', () => {
  const sdp = 'v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\n';
  const challenge = parseAuth('Digest realm="biloxi.com", qop="auth-int", nonce="n1", algorithm=MD5-sess');
  const c = computeCredentials(challenge, { method: 'INVITE', uri: 'sip:bob@biloxi.com', username: 'bob', password: 'zanzibar', body: sdp, nc: 2, cnonce: 'c0' });
  const ha1 = md5(`${md5('bob:biloxi.com:zanzibar')}:n1:c0`);
  const ha2 = md5(`INVITE:sip:bob@biloxi.com:${md5(sdp)}`);
  assert.equal(c.params.qop, 'auth-int');
  assert.equal(c.params.nc, '00000002');
  assert.equal(c.params.response, md5(`${ha1}:n1:00000002:c0:auth-int:${ha2}`));
});

test('SHA-512-256 (RFC 8760) when node has it, with userhash (RFC 7616 §3.4.4)', { skip: !SUPPORTED_ALGORITHMS.includes('SHA-512-256') }, () => {
  const h = (s: string): string => createHash('sha512-256').update(s).digest('hex');
  const challenge = parseAuth('Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQ", userhash=true');
  const c = computeCredentials(challenge, { method: 'GET', uri: '/doe.json', username: 'J\u00e4s\u00f8n Doe', password: 'Secret, or not?', nc: 1, cnonce: 'NTg6' });
  assert.equal(c.params.username, h('J\u00e4s\u00f8n Doe:api@example.org'));
  assert.equal(c.params.userhash, 'true');
  const ha1 = h('J\u00e4s\u00f8n Doe:api@example.org:Secret, or not?');
  assert.equal(c.params.response, h(`${ha1}:5TsQ:00000001:NTg6:auth:${h('GET:/doe.json')}`));
  const verified = verifyCredentials(c, { method: 'GET', realm: 'api@example.org', password: 'Secret, or not?', username: 'J\u00e4s\u00f8n Doe' });
  assert.deepEqual(verified, { ok: true, username: 'J\u00e4s\u00f8n Doe', algorithm: 'SHA-512-256' });
});

test('nonce count is 8 hex digits; cnonces are random; algorithm names are case-insensitive', () => {
  assert.equal(formatNonceCount(1), '00000001');
  assert.equal(formatNonceCount(255), '000000ff');
  assert.equal(formatNonceCount(0xffffffff), 'ffffffff');
  assert.throws(() => formatNonceCount(0), RangeError);
  assert.throws(() => formatNonceCount(2 ** 32), RangeError);
  assert.match(newCnonce(), /^[0-9a-f]{32}$/);
  assert.notEqual(newCnonce(), newCnonce());
  assert.equal(parseAlgorithm(undefined), 'MD5');
  assert.equal(parseAlgorithm('sha-256-SESS'), 'SHA-256-sess');
  assert.equal(parseAlgorithm('SHA-1'), undefined);
});

test('challenge choice (RFC 8760 §2.4): SHA-256 over MD5 whatever the order, else the first supported', () => {
  const md5c = parseAuth('Digest realm="r", nonce="a", algorithm=MD5, qop="auth"');
  const sha = parseAuth('Digest realm="r", nonce="b", algorithm=SHA-256, qop="auth"');
  const md5sess = parseAuth('Digest realm="r", nonce="c", algorithm=MD5-sess, qop="auth"');
  const unknown = parseAuth('Digest realm="r", nonce="d", algorithm=SHA-1, qop="auth"');
  const basic = parseAuth('Basic realm="r"');
  const badQop = parseAuth('Digest realm="r", nonce="e", qop="auth-conf"');
  assert.equal(chooseChallenge([md5c, sha]), sha);
  assert.equal(chooseChallenge([sha, md5c]), sha);
  assert.equal(chooseChallenge([basic, unknown, md5sess, md5c]), md5sess);
  assert.equal(chooseChallenge([basic, unknown, badQop]), undefined);
  assert.equal(isSupportedChallenge(parseAuth('Digest nonce="x"')), false, 'no realm');
  const other = parseAuth('Digest realm="other", nonce="f", algorithm=SHA-256');
  assert.equal(chooseChallenge([other, md5c], 'r'), md5c, 'only the realm of the credentials');
  assert.throws(() => computeCredentials(unknown, { method: 'GET', uri: '/', username: 'u', password: 'p', nc: 1 }), TypeError);
});

function signed(nonce: string, password = 'Circle of Life', algorithm = 'SHA-256'): AuthValue {
  const challenge = createChallenge({ realm: 'biloxi.com', nonce, algorithm: parseAlgorithm(algorithm)!, opaque: 'op' });
  return computeCredentials(challenge, { method: 'REGISTER', uri: 'sip:biloxi.com', username: 'Mufasa', password, nc: 1 });
}

test('createChallenge writes an RFC 7616 §3.3 challenge that parses back', () => {
  const c = createChallenge({ realm: 'biloxi.com', nonce: 'abc', opaque: 'xyz', stale: true, algorithm: 'SHA-256' });
  const text = formatAuth(c, 'challenge');
  assert.equal(text, 'Digest realm="biloxi.com", qop="auth", nonce="abc", opaque="xyz", stale=true, algorithm=SHA-256');
  assert.deepEqual({ ...parseAuth(text).params }, { ...c.params });
  assert.equal(createChallenge({ realm: 'r', nonce: 'n', qop: [] }).params.qop, undefined);
});

test('verifyCredentials: success, wrong password, wrong realm, uri and tampered fields', () => {
  const clock = new FakeClock();
  const nonces = new NonceIssuer({ clock, secret: Buffer.alloc(32, 7) });
  const nonce = nonces.issue();
  const base = { method: 'REGISTER', uri: 'sip:biloxi.com', realm: 'biloxi.com', password: 'Circle of Life', nonces };
  assert.deepEqual(verifyCredentials(signed(nonce), base), { ok: true, username: 'Mufasa', algorithm: 'SHA-256' });
  assert.deepEqual(verifyCredentials(signed(nonce, 'Circle Of Life'), base), { ok: false, reason: 'response', stale: false });
  assert.equal(verifyCredentials(signed(nonce), { ...base, realm: 'atlanta.com' }).ok, false);
  assert.deepEqual(verifyCredentials(signed(nonce), { ...base, uri: 'sip:other.com' }), { ok: false, reason: 'uri', stale: false });
  assert.deepEqual(verifyCredentials(signed(nonce), { ...base, method: 'INVITE' }), { ok: false, reason: 'response', stale: false });
  assert.deepEqual(verifyCredentials(signed(nonce, undefined, 'MD5'), { ...base, algorithms: ['SHA-256'] }), { ok: false, reason: 'algorithm', stale: false });
  const ha1 = computeHa1Base('MD5', 'Mufasa', 'biloxi.com', 'Circle of Life');
  assert.equal(verifyCredentials(signed(nonce, undefined, 'MD5'), { ...base, password: undefined, ha1 }).ok, true, 'a stored HA1 verifies');
  const tampered = signed(nonce);
  tampered.params.nc = '00000002';
  assert.deepEqual(verifyCredentials(tampered, base), { ok: false, reason: 'response', stale: false });
  const truncated = signed(nonce);
  truncated.params.response = truncated.params.response!.slice(2);
  assert.equal(verifyCredentials(truncated, base).ok, false, 'different lengths compare false, not throw');
  const noUser = signed(nonce);
  delete noUser.params.username;
  assert.deepEqual(verifyCredentials(noUser, base), { ok: false, reason: 'malformed', stale: false });
  assert.deepEqual(verifyCredentials(parseAuth('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='), base), { ok: false, reason: 'malformed', stale: false });
});

test('nonces: forged or from another secret are invalid; expired ones make a right response stale (RFC 7616 §3.3)', () => {
  const clock = new FakeClock();
  clock.advance(1_000_000);
  const nonces = new NonceIssuer({ clock, lifetimeMs: 60_000 });
  const nonce = nonces.issue();
  assert.equal(nonces.check(nonce), 'valid');
  assert.equal(nonces.check(nonce, 'other-realm'), 'invalid', 'bound to what it was issued for');
  assert.equal(new NonceIssuer({ clock }).check(nonce), 'invalid');
  assert.equal(nonces.check('not a nonce'), 'invalid');
  const raw = Buffer.from(nonce, 'base64url');
  raw[3] = raw[3]! ^ 1;
  assert.equal(nonces.check(raw.toString('base64url')), 'invalid', 'a changed timestamp breaks the HMAC');
  assert.equal(verifyCredentials(signed(nonce), { method: 'REGISTER', realm: 'biloxi.com', password: 'Circle of Life', nonces }).ok, true);

  clock.advance(60_001);
  assert.equal(nonces.check(nonce), 'expired');
  const base = { method: 'REGISTER', realm: 'biloxi.com', password: 'Circle of Life', nonces };
  assert.deepEqual(verifyCredentials(signed(nonce), base), { ok: false, reason: 'stale', stale: true });
  assert.deepEqual(verifyCredentials(signed(nonce, 'wrong'), base), { ok: false, reason: 'response', stale: false }, 'a wrong response is never stale');
  assert.deepEqual(verifyCredentials(signed('forged'), base), { ok: false, reason: 'nonce', stale: false });
  const fresh = nonces.issue();
  assert.notEqual(fresh, nonce);
  assert.equal(verifyCredentials(signed(fresh), base).ok, true);
});

test('computeResponse refuses what it cannot compute', () => {
  const input = { algorithm: 'MD5' as const, username: 'u', realm: 'r', nonce: 'n', method: 'GET', uri: '/' };
  assert.throws(() => computeResponse(input), TypeError, 'no password or ha1');
  assert.throws(() => computeResponse({ ...input, password: 'p', qop: 'auth' }), TypeError, 'qop without cnonce and nc');
  assert.throws(() => computeResponse({ ...input, algorithm: 'MD5-sess', password: 'p' }), TypeError, '-sess without cnonce');
});

test('a request built by createRequest can be answered and verified end to end', () => {
  const req = createRequest({ method: 'REGISTER', uri: 'sip:biloxi.com', from: '<sip:bob@biloxi.com>', to: '<sip:bob@biloxi.com>' });
  const challenge = createChallenge({ realm: 'biloxi.com', nonce: 'n0', algorithm: 'MD5' });
  const c = computeCredentials(challenge, { method: req.method, uri: req.uriText, username: 'bob', password: 'zanzibar', nc: 1 });
  req.append('Authorization', formatAuth(c, 'credentials'));
  const back = req.authorization[0]!;
  assert.equal(verifyCredentials(back, { method: req.method, uri: req.uriText, realm: 'biloxi.com', password: 'zanzibar' }).ok, true);
});

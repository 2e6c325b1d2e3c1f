import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SdpError, declaredDirection, effectiveDirection, isLegacyHold, nextVersion, parseSdp, sameContent, serializeSdp,
  withDirection, type SessionDescription,
} from '../../../src/sdp/index.js';
import { SipError } from '../../../src/core/errors.js';
import { SEED_F10_HOLD, SEED_F1_OFFER, crlf } from './seed.js';

test('the seed F1 offer parses to its typed fields (RFC 5359 §2.1, RFC 8866 §5)', () => {
  const sd = parseSdp(SEED_F1_OFFER);
  assert.deepEqual(sd.origin, {
    username: 'alice',
    sessionId: '2890844526',
    sessionVersion: 2890844526n,
    netType: 'IN',
    addrType: 'IP4',
    address: 'client.atlanta.example.com',
  });
  assert.equal(sd.name, '');
  assert.deepEqual(sd.timing, { start: 0, stop: 0 });
  assert.deepEqual(sd.connection, { netType: 'IN', addrType: 'IP4', address: 'client.atlanta.example.com' });
  assert.equal(sd.media.length, 1);
  const audio = sd.media[0]!;
  assert.equal(audio.type, 'audio');
  assert.equal(audio.port, 49170);
  assert.equal(audio.protocol, 'RTP/AVP');
  // sdp-transform alone gives the number 0 here; the typed view keeps the format list as text.
  assert.deepEqual(audio.formats, ['0']);
  assert.deepEqual(audio.rtpmap, [{ payloadType: 0, encoding: 'PCMU', clockRate: 8000 }]);
  assert.equal(audio.direction, undefined);
  assert.equal(declaredDirection(sd, 0), 'sendrecv');
});

test('the seed F1 offer and F10 hold round-trip byte for byte (RFC 8866 §5)', () => {
  assert.equal(serializeSdp(parseSdp(SEED_F1_OFFER)), SEED_F1_OFFER);
  assert.equal(serializeSdp(parseSdp(SEED_F10_HOLD)), SEED_F10_HOLD);
});

test('the seed F10 hold reads as sendonly with its o= version one above the session id (RFC 5359 §2.1, RFC 3264 §8.4)', () => {
  const sd = parseSdp(SEED_F10_HOLD);
  assert.equal(sd.media[0]!.direction, 'sendonly');
  assert.equal(effectiveDirection(sd, 0), 'sendonly');
  assert.equal(sd.origin.sessionVersion, 2890844528n);
  assert.equal(isLegacyHold(sd, 0), false);
});

test('bare LF line ends are accepted and written back as CRLF (RFC 8866 §5)', () => {
  const lf = SEED_F1_OFFER.replaceAll('\r\n', '\n');
  assert.equal(serializeSdp(parseSdp(lf)), SEED_F1_OFFER);
});

test('attributes the typed view does not model are carried through unchanged (RFC 8866 §5.13)', () => {
  const text = crlf(
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 192.0.2.10',
    'b=AS:64',
    't=0 0',
    'a=ice-lite',
    'm=audio 5004 RTP/SAVP 96 0',
    'b=TIAS:64000',
    'a=rtpmap:96 opus/48000/2',
    'a=rtpmap:0 PCMU/8000',
    'a=fmtp:96 minptime=10;useinbandfec=1',
    'a=ptime:20',
    'a=ice-ufrag:F7gI',
    'a=ice-pwd:x9cml/YzichV2+XlhiMu8g',
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32',
    'a=recvonly',
    'a=x-vendor-thing:42',
  );
  const sd = parseSdp(text);
  // A 19-digit session id keeps every digit (RFC 3264 §5: up to 64 bits).
  assert.equal(sd.origin.sessionId, '4611731400430051336');
  assert.deepEqual(sd.media[0]!.rtpmap[0], { payloadType: 96, encoding: 'opus', clockRate: 48000, channels: 2 });
  assert.deepEqual(sd.media[0]!.fmtp, [{ format: '96', parameters: 'minptime=10;useinbandfec=1' }]);
  assert.equal(sd.media[0]!.direction, 'recvonly');
  assert.equal(sd.media[0]!.other['iceUfrag'], 'F7gI');
  assert.equal(sd.other['icelite'], 'ice-lite');
  const again = parseSdp(serializeSdp(sd));
  assert.deepEqual(again, sd);
  const written = serializeSdp(sd);
  for (const line of ['a=ice-lite', 'b=AS:64', 'b=TIAS:64000', 'a=ptime:20', 'a=x-vendor-thing:42', 'a=ice-pwd:x9cml/YzichV2+XlhiMu8g']) {
    assert.ok(written.includes(`${line}\r\n`), `${line} lost in:\n${written}`);
  }
});

test('an o= version beyond 2^53 keeps every digit through parse and write (RFC 3264 §5)', () => {
  const text = SEED_F1_OFFER.replace('2890844526 2890844526', '2890844526 9223372036854775806');
  const sd = parseSdp(text);
  assert.equal(sd.origin.sessionVersion, 9223372036854775806n);
  assert.equal(serializeSdp(sd), text);
});

test('a stream without a direction attribute is sendrecv (RFC 3264 §5.1)', () => {
  assert.equal(declaredDirection(parseSdp(SEED_F1_OFFER), 0), 'sendrecv');
});

test('a session-level direction applies to every stream without its own; a media-level one overrides it (RFC 3264 §5.1, RFC 8866 §6.7)', () => {
  const sd = parseSdp(crlf(
    'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'a=sendonly',
    'm=audio 4000 RTP/AVP 0',
    'm=video 4002 RTP/AVP 31', 'a=inactive',
  ));
  assert.equal(sd.direction, 'sendonly');
  assert.equal(declaredDirection(sd, 0), 'sendonly');
  assert.equal(declaredDirection(sd, 1), 'inactive');
});

test('c=0.0.0.0 (RFC 2543 hold) reads as sendonly for sendrecv and inactive for recvonly (RFC 3264 §8.4)', () => {
  const base = (dir?: string): SessionDescription => parseSdp(crlf(
    'v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 4000 RTP/AVP 0',
    ...(dir === undefined ? [] : [`a=${dir}`]),
  ));
  assert.equal(isLegacyHold(base(), 0), true);
  assert.equal(effectiveDirection(base(), 0), 'sendonly');
  assert.equal(effectiveDirection(base('sendrecv'), 0), 'sendonly');
  assert.equal(effectiveDirection(base('recvonly'), 0), 'inactive');
  assert.equal(effectiveDirection(base('sendonly'), 0), 'sendonly');
  assert.equal(effectiveDirection(base('inactive'), 0), 'inactive');
  // The declared direction is still what was written.
  assert.equal(declaredDirection(base(), 0), 'sendrecv');
});

test('a media-level c=0.0.0.0 holds that stream only; the unspecified IPv6 address reads the same (RFC 3264 §8.4)', () => {
  const sd = parseSdp(crlf(
    'v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
    'm=audio 4000 RTP/AVP 0', 'c=IN IP4 0.0.0.0',
    'm=video 4002 RTP/AVP 31',
    'm=audio 4004 RTP/AVP 0', 'c=IN IP6 ::',
  ));
  assert.deepEqual([0, 1, 2].map((i) => isLegacyHold(sd, i)), [true, false, true]);
  assert.deepEqual([0, 1, 2].map((i) => effectiveDirection(sd, i)), ['sendonly', 'sendrecv', 'sendonly']);
});

test('withDirection sets one stream or all, and the result is written with the attribute (RFC 3264 §8.4)', () => {
  const sd = parseSdp(SEED_F1_OFFER);
  const held = withDirection(sd, 'sendonly');
  assert.equal(sd.media[0]!.direction, undefined, 'the original is not changed');
  assert.ok(serializeSdp(held).includes('a=sendonly\r\n'));
  assert.equal(declaredDirection(withDirection(held, 'sendrecv', 0), 0), 'sendrecv');
});

test('nextVersion keeps the o= version when nothing changed and adds one when anything did (RFC 3264 §8)', () => {
  const previous = parseSdp(SEED_F1_OFFER);
  // The candidate's own version is ignored: same content means the same description.
  const same = { ...previous, origin: { ...previous.origin, sessionVersion: 77n } };
  assert.equal(nextVersion(previous, same), previous);
  const changed = nextVersion(previous, withDirection(previous, 'sendonly'));
  assert.equal(changed.origin.sessionVersion, 2890844527n);
  assert.equal(changed.media[0]!.direction, 'sendonly');
  const moved = nextVersion(previous, { ...previous, media: [{ ...previous.media[0]!, port: 50000 }] });
  assert.equal(moved.origin.sessionVersion, 2890844527n);
  assert.equal(nextVersion(undefined, previous), previous);
  assert.equal(sameContent(previous, same), true);
});

test('writing a description that would be malformed SDP throws ERR_INVALID_ARGUMENT instead of emitting it', () => {
  const sd = parseSdp(SEED_F1_OFFER);
  // A line break in a field would write a line of its own, here a hold nobody asked for.
  for (const injected of [
    { ...sd, name: 'x\r\na=sendonly' },
    { ...sd, origin: { ...sd.origin, address: 'a.example\nc=IN IP4 0.0.0.0' } },
    { ...sd, media: [{ ...sd.media[0]!, other: { invalid: [{ value: 'x\r\na=inactive' }] } }] },
  ]) {
    assert.throws(() => serializeSdp(injected), (e: unknown) => e instanceof SipError && e.code === 'ERR_INVALID_ARGUMENT' && /line break/.test(e.message));
  }
  const noFormats = { ...sd, media: [{ ...sd.media[0]!, formats: [] }] };
  assert.throws(() => serializeSdp(noFormats), (e: unknown) => e instanceof SipError && e.code === 'ERR_INVALID_ARGUMENT');
});

/** Each malformed body, the reason we expect to read, and the line it is on (0: the whole body). */
const MALFORMED: ReadonlyArray<[string, string, RegExp, number]> = [
  ['empty body', '', /empty/, 0],
  ['only blank lines', '\r\n\r\n', /empty/, 0],
  ['not SDP at all', 'hello world\r\n', /<type>=<value>/, 1],
  ['first line not v=', crlf('o=- 1 1 IN IP4 192.0.2.1', 'v=0', 's=-'), /first line is not v=/, 1],
  ['v=1', crlf('v=1', 'o=- 1 1 IN IP4 192.0.2.1', 's=-'), /only version 0/, 1],
  ['no o=', crlf('v=0', 's=-', 't=0 0'), /second line is not o=/, 2],
  ['o= with 5 fields', crlf('v=0', 'o=- 1 1 IN IP4', 's=-'), /o= needs 6 fields/, 2],
  ['o= version not a number', crlf('v=0', 'o=- 1 x IN IP4 192.0.2.1', 's=-'), /session version "x" is not a decimal number/, 2],
  ['o= version beyond 64 bits', crlf('v=0', 'o=- 1 99999999999999999999 IN IP4 192.0.2.1', 's=-'), /does not fit in 64 bits/, 2],
  ['no s=', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 't=0 0'), /third line is not s=/, 3],
  ['unknown line type', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'x=1'), /unknown line type "x="/, 4],
  ['upper-case type', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'C=IN IP4 192.0.2.1'), /<type>=<value>/, 4],
  ['space before =', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c =IN IP4 192.0.2.1'), /<type>=<value>/, 4],
  ['c= network type', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=XX IP4 192.0.2.1'), /network type "XX" is not IN/, 4],
  ['c= address type', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP5 192.0.2.1'), /neither IP4 nor IP6/, 4],
  ['c= missing address', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4'), /c= needs 3 fields/, 4],
  ['two session c=', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 'c=IN IP4 192.0.2.2'), /more than one c=/, 5],
  ['multicast c=', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 224.2.1.1/127', 't=0 0'), /multicast/, 4],
  ['t= not numbers', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=now later'), /t= needs two decimal times/, 4],
  ['m= too short', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP'), /m= needs at least 4 fields/, 6],
  ['m= port too big', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 70000 RTP/AVP 0'), /port "70000"/, 6],
  ['m= port not a number', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio x RTP/AVP 0'), /port "x"/, 6],
  ['m= port count', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000/2 RTP/AVP 0'), /port counts/, 6],
  ['m= RTP format not a payload type', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP PCMU'), /not an RTP payload type/, 6],
  ['m= payload type 128', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 128'), /not an RTP payload type/, 6],
  ['no c= anywhere', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0'), /no c= and there is no session-level c=/, 0],
  ['t= after m=', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 'm=audio 4000 RTP/AVP 0', 't=0 0'), /belongs in the session section/, 6],
  ['a second o=', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'o=- 1 1 IN IP4 192.0.2.1'), /a second o= line/, 4],
  ['two directions in one stream', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=sendonly', 'a=recvonly'), /more than one direction attribute in m= section 1/, 8],
  ['rtpmap without clock rate', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU'), /a=rtpmap:0 PCMU is not/, 7],
  ['fmtp without parameters', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 101', 'a=fmtp:101'), /a=fmtp:101 is not/, 7],
  ['attribute name not a token', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'a=(bad):1'), /attribute name is not a token/, 4],
  ['NUL in a line', crlf('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=\0'), /NUL/, 3],
];

for (const [what, body, reason, line] of MALFORMED) {
  test(`malformed SDP gives ERR_SDP with its reason and line: ${what} (RFC 8866 §5)`, () => {
    assert.throws(() => parseSdp(body), (e: unknown) => {
      assert.ok(e instanceof SdpError, `not an SdpError: ${String(e)}`);
      assert.ok(e instanceof SipError);
      assert.equal(e.code, 'ERR_SDP');
      assert.match(e.reason, reason);
      assert.equal(e.line, line);
      return true;
    });
  });
}

test('a body that is not a string gives ERR_SDP, not a TypeError', () => {
  assert.throws(() => parseSdp(undefined as unknown as string), (e: unknown) => e instanceof SdpError && e.code === 'ERR_SDP');
});

test('random damage to a valid body gives either a description or ERR_SDP, never another error', () => {
  // A deterministic generator so a failure can be reproduced.
  let seed = 12345;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = 'v=o s-c:ma/0123456789\r\n\t IN IP4 RTP/AVP sendonly rtpmap: fmtp:';
  for (let round = 0; round < 2000; round++) {
    const chars = [...SEED_F10_HOLD];
    for (let k = 1 + next(4); k > 0; k--) {
      const at = next(chars.length);
      const op = next(3);
      if (op === 0) chars.splice(at, 1);
      else if (op === 1) chars.splice(at, 0, alphabet[next(alphabet.length)]!);
      else chars[at] = alphabet[next(alphabet.length)]!;
    }
    const body = chars.join('');
    try {
      const sd = parseSdp(body);
      // Whatever parses must also write and read back to the same description.
      assert.deepEqual(parseSdp(serializeSdp(sd)), sd, JSON.stringify(body));
    } catch (e) {
      assert.ok(e instanceof SdpError, `${JSON.stringify(body)} threw ${String(e)}`);
    }
  }
});

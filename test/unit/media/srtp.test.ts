import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aesCmKeystream, deriveSessionKey, packetIv } from '../../../src/media/srtp-kdf.js';
import { SrtpContext } from '../../../src/media/srtp-context.js';
import { formatCryptoAttribute, newCryptoAttribute, parseCryptoAttribute } from '../../../src/media/sdes-crypto.js';
import { buildRtp } from '../../../src/media/rtp-packet.js';
import { buildRtcp } from '../../../src/media/rtcp-packet.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('AES-CM keystream matches RFC 3711 Appendix B.2', () => {
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const salt = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');
  const iv = packetIv(salt, 0, 0);
  assert.equal(iv.toString('hex').toUpperCase(), 'F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  const ks = aesCmKeystream(key, iv, 0xff02 * 16);
  const block = (n: number) => ks.subarray(n * 16, n * 16 + 16).toString('hex').toUpperCase();
  assert.equal(block(0), 'E03EAD0935C95E80E166B16DD92B4EB4');
  assert.equal(block(1), 'D23513162B02D0F72A43A2FE4A5F97AB');
  assert.equal(block(2), '41E95B3BB0A2E8DD477901E4FCA894C0');
  assert.equal(block(0xfeff), 'EC8CDF7398607CB0F2D21675EA9EA1E4');
  assert.equal(block(0xff00), '362B7C3C6773516318A077D7FC5073AE');
  assert.equal(block(0xff01), '6A2CC3787889374FBEB4C81B17BA6C44');
});

test('key derivation matches RFC 3711 Appendix B.3 (cipher key, salt, auth key)', () => {
  const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');
  assert.equal(deriveSessionKey(masterKey, masterSalt, 0, 16).toString('hex').toUpperCase(), 'C61E7A93744F39EE10734AFE3FF7A087');
  assert.equal(deriveSessionKey(masterKey, masterSalt, 2, 14).toString('hex').toUpperCase(), '30CBBC08863D8C85D49DB34A9AE1');
  assert.equal(
    deriveSessionKey(masterKey, masterSalt, 1, 94).toString('hex').toUpperCase(),
    'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCEE049646C43D9327AD175578EF7227098' +
    '6371C10C9A369AC2F94A8C5FBCDDDC256D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2',
  );
});

function pair(): [SrtpContext, SrtpContext] {
  const c = newCryptoAttribute();
  return [new SrtpContext(c.masterKey, c.masterSalt), new SrtpContext(c.masterKey, c.masterSalt)];
}

const rtp = (seq: number, payload = Buffer.from('hello, srtp payload')) =>
  buildRtp({ payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc: 0x11223344, payload });

test('SRTP round trip: payload encrypted, header clear, 80-bit tag; tampering fails authentication (RFC 3711 §3.3, §4.2)', () => {
  const [tx, rx] = pair();
  const plain = rtp(1000);
  const prot = tx.protectRtp(plain);
  assert.equal(prot.length, plain.length + 10);
  assert.deepEqual(prot.subarray(0, 12), plain.subarray(0, 12));
  assert.notDeepEqual(prot.subarray(12, plain.length), plain.subarray(12));
  const r = rx.unprotectRtp(prot);
  assert.ok(r.ok);
  assert.deepEqual(r.packet, plain);
  const [, rx2] = pair();
  const bad = Buffer.from(tx.protectRtp(rtp(1001)));
  bad[20] = bad[20]! ^ 1;
  assert.deepEqual(rx.unprotectRtp(bad), { ok: false, reason: 'auth-failed' });
  assert.deepEqual(rx2.unprotectRtp(tx.protectRtp(rtp(1002))), { ok: false, reason: 'auth-failed' }, 'another key fails');
});

test('SRTP replay window: a repeated packet is refused, reordering inside 64 accepted, older refused (RFC 3711 §3.3.2)', () => {
  const [tx, rx] = pair();
  const packets = Array.from({ length: 100 }, (_, i) => tx.protectRtp(rtp(i)));
  assert.ok(rx.unprotectRtp(packets[5]!).ok);
  assert.deepEqual(rx.unprotectRtp(packets[5]!), { ok: false, reason: 'replayed' });
  assert.ok(rx.unprotectRtp(packets[90]!).ok);
  assert.ok(rx.unprotectRtp(packets[40]!).ok, 'reordered within the window');
  assert.deepEqual(rx.unprotectRtp(packets[10]!), { ok: false, reason: 'too-old' });
});

test('SRTP rollover counter: sequence numbers wrapping past 65535 still decrypt (RFC 3711 §3.3.1, Appendix A)', () => {
  const [tx, rx] = pair();
  for (let s = 65530; s < 65546; s++) {
    const plain = rtp(s);
    const r = rx.unprotectRtp(tx.protectRtp(plain));
    assert.ok(r.ok, `seq ${s}`);
    assert.deepEqual(r.packet, plain);
  }
});

test('SRTCP round trip with E bit and index; replay refused (RFC 3711 §3.4)', () => {
  const [tx, rx] = pair();
  const plain = buildRtcp([{ type: 'rr', ssrc: 0x11223344, reports: [] }, { type: 'sdes', chunks: [{ ssrc: 0x11223344, items: [{ type: 1, text: 'me@host' }] }] }]);
  const prot = tx.protectRtcp(plain);
  assert.equal(prot.length, plain.length + 4 + 10);
  assert.equal(prot.readUInt32BE(plain.length) >>> 31, 1, 'E bit');
  const r = rx.unprotectRtcp(prot);
  assert.ok(r.ok);
  assert.deepEqual(r.packet, plain);
  assert.deepEqual(rx.unprotectRtcp(prot), { ok: false, reason: 'replayed' });
  assert.equal(rx.unprotectRtcp(prot.subarray(0, 10)).ok, false);
});

test('a=crypto lines (RFC 4568 §9.1): parse, format, refuse MKI, wrong length, unknown suite', () => {
  const c = newCryptoAttribute(1);
  const line = formatCryptoAttribute(c);
  assert.match(line, /^1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/);
  const back = parseCryptoAttribute(line);
  assert.ok(back !== undefined);
  assert.deepEqual(back.masterKey, c.masterKey);
  assert.deepEqual(back.masterSalt, c.masterSalt);
  assert.equal(parseCryptoAttribute(`${line}|2^20`)?.tag, 1, 'lifetime accepted');
  assert.equal(parseCryptoAttribute(`${line}|1:4`), undefined, 'MKI refused');
  assert.equal(parseCryptoAttribute('1 AES_CM_128_HMAC_SHA1_80 inline:AAAA'), undefined);
  assert.equal(parseCryptoAttribute(line.replace('AES_CM_128', 'F8_128')), undefined);
});

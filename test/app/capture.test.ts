/**
 * The trace hook, the call store, the ladder, the pcap writer and the HEP v3 sender on a real call
 * through a SipServer on loopback: Alice (UDP) calls Bob (UDP), Bob holds and resumes, Alice
 * transfers Bob to Carol (TCP). The pcap is read back by tshark; the HEP packets by a UDP socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallStore } from '../../src/app/capture-store.js';
import { TraceHook, type CapturedMessage } from '../../src/app/capture-trace.js';
import { buildLadder, renderTextLadder } from '../../src/app/capture-ladder.js';
import { internetChecksum, toPcap } from '../../src/app/capture-pcap.js';
import { decodeHep, encodeHep, HEP_CHUNK, HepSender } from '../../src/app/capture-hep.js';
import { needBinary } from '../helpers/peers.js';
import { startPhone, startServer } from '../flows/server-helpers.js';

const DOMAIN = 'example.com';

function message(overrides: Partial<CapturedMessage> & { text: string }): CapturedMessage {
  const { text, ...rest } = overrides;
  return {
    seq: 1, time: 1_700_000_000_123.456, seen: 'out', protocol: 'UDP',
    src: { address: '127.0.0.1', port: 5060 }, dst: { address: '127.0.0.1', port: 5070 },
    bytes: Buffer.from(text), isRequest: true, method: 'OPTIONS', callId: 'c1', cseq: 1, ...rest,
  };
}

const OPTIONS = 'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n'
  + 'To: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n';

test('pcap frames: global header a1b2c3d4 / linktype 1, IPv4 header checksum and UDP checksum verify, lengths add up', () => {
  const pcap = toPcap([message({ text: OPTIONS })]);
  assert.equal(pcap.readUInt32LE(0), 0xa1b2c3d4);
  assert.equal(pcap.readUInt16LE(4), 2);
  assert.equal(pcap.readUInt16LE(6), 4);
  assert.equal(pcap.readUInt32LE(20), 1);
  const rec = pcap.subarray(24);
  assert.equal(rec.readUInt32LE(0), 1_700_000_000);
  assert.equal(rec.readUInt32LE(4), 123_456);
  const len = rec.readUInt32LE(8);
  const frame = rec.subarray(16, 16 + len);
  assert.equal(frame.length, 14 + 20 + 8 + OPTIONS.length);
  assert.equal(frame.readUInt16BE(12), 0x0800);
  const ip = frame.subarray(14, 34);
  assert.equal(ip.readUInt16BE(2), 20 + 8 + OPTIONS.length);
  assert.equal(internetChecksum([ip]), 0, 'IPv4 header checksum verifies');
  const udp = frame.subarray(34);
  assert.equal(udp.readUInt16BE(0), 5060);
  assert.equal(udp.readUInt16BE(2), 5070);
  assert.equal(udp.readUInt16BE(4), 8 + OPTIONS.length);
  const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 17]), Buffer.from([udp.length >> 8, udp.length & 0xff])]);
  assert.equal(internetChecksum([pseudo, udp]), 0, 'UDP checksum verifies');
  assert.equal(udp.subarray(8).toString(), OPTIONS);
});

test('pcap over IPv6 and TCP: ethertype 86dd, payload length, TCP sequence numbers advance per direction', () => {
  const a = message({ text: OPTIONS, protocol: 'TCP', src: { address: '::1', port: 40000 }, dst: { address: '::1', port: 5060 } });
  const b = message({ text: OPTIONS, protocol: 'TCP', seq: 2, src: { address: '::1', port: 40000 }, dst: { address: '::1', port: 5060 } });
  const pcap = toPcap([a, b]);
  const first = pcap.subarray(24 + 16, 24 + 16 + pcap.readUInt32LE(24 + 8));
  assert.equal(first.readUInt16BE(12), 0x86dd);
  assert.equal(first.readUInt16BE(14 + 4), 20 + OPTIONS.length, 'IPv6 payload length');
  assert.equal(first[14 + 6], 6, 'next header TCP');
  const secondAt = 24 + 16 + first.length;
  const second = pcap.subarray(secondAt + 16);
  const seq1 = first.readUInt32BE(14 + 40 + 4);
  const seq2 = second.readUInt32BE(14 + 40 + 4);
  assert.equal(seq2 - seq1, OPTIONS.length);
  const tcp = first.subarray(54);
  const pseudo = Buffer.concat([first.subarray(22, 54), Buffer.from([0, 0, tcp.length >> 8, tcp.length & 0xff, 0, 0, 0, 6])]);
  assert.equal(internetChecksum([pseudo, tcp]), 0, 'TCP checksum verifies over the IPv6 pseudo-header');
});

test('HEP3 encoding: every chunk of the generic vendor, lengths consistent, values as captured; a bad packet is refused', () => {
  const m = message({ text: OPTIONS, src: { address: '10.0.0.1', port: 5062 }, dst: { address: '10.0.0.2', port: 5060 } });
  const packet = encodeHep(m, { captureId: 77, authKey: 'secret' });
  assert.equal(packet.toString('ascii', 0, 4), 'HEP3');
  const chunks = decodeHep(packet);
  const get = (type: number) => chunks.find((c) => c.type === type)!.value;
  assert.ok(chunks.every((c) => c.vendor === 0));
  assert.equal(get(HEP_CHUNK.ipFamily)[0], 2);
  assert.equal(get(HEP_CHUNK.ipProtocol)[0], 17);
  assert.deepEqual([...get(HEP_CHUNK.srcIp4)], [10, 0, 0, 1]);
  assert.deepEqual([...get(HEP_CHUNK.dstIp4)], [10, 0, 0, 2]);
  assert.equal(get(HEP_CHUNK.srcPort).readUInt16BE(), 5062);
  assert.equal(get(HEP_CHUNK.dstPort).readUInt16BE(), 5060);
  assert.equal(get(HEP_CHUNK.timeSeconds).readUInt32BE(), 1_700_000_000);
  assert.equal(get(HEP_CHUNK.timeMicros).readUInt32BE(), 123_456);
  assert.equal(get(HEP_CHUNK.protocolType)[0], 1);
  assert.equal(get(HEP_CHUNK.captureId).readUInt32BE(), 77);
  assert.equal(get(HEP_CHUNK.authKey).toString(), 'secret');
  assert.equal(get(HEP_CHUNK.correlationId).toString(), 'c1');
  assert.equal(get(HEP_CHUNK.payload).toString(), OPTIONS);
  const v6 = decodeHep(encodeHep(message({ text: OPTIONS, src: { address: '::1', port: 1 }, dst: { address: '2001:db8::5', port: 2 } })));
  assert.equal(v6.find((c) => c.type === HEP_CHUNK.ipFamily)!.value[0], 10);
  assert.equal(v6.find((c) => c.type === HEP_CHUNK.dstIp6)!.value.toString('hex'), '20010db8000000000000000000000005');
  assert.throws(() => decodeHep(Buffer.from('HEP2\x00\x06')), /not a HEP3/);
  assert.throws(() => decodeHep(packet.subarray(0, packet.length - 1)), /length/);
});

test('a transfer through the server, captured: states, hold/resume marks, linked calls, ladder, pcap read by tshark, HEP to a collector', async (t) => {
  const hook = new TraceHook();
  t.after(() => hook.close());
  const store = new CallStore();
  const all: CapturedMessage[] = [];
  hook.onMessage((m) => {
    all.push(m);
    store.add(m);
  });
  const collector = createSocket('udp4');
  await new Promise<void>((resolve) => collector.bind(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => collector.close(() => resolve())));
  const hepPackets: Buffer[] = [];
  collector.on('message', (b) => hepPackets.push(b));
  const hep = new HepSender({ host: '127.0.0.1', port: collector.address().port, captureId: 9 });
  t.after(() => hep.close());
  hook.onMessage((m) => hep.send(m));

  const s = await startServer(t, DOMAIN);
  store.names.set('127.0.0.1', s.target('UDP').port, 'proxy');
  store.names.set('127.0.0.1', s.target('TCP').port, 'proxy');
  const alice = await startPhone(t, s, 'alice', DOMAIN);
  const bob = await startPhone(t, s, 'bob', DOMAIN);
  const carol = await startPhone(t, s, 'carol', DOMAIN, { protocol: 'TCP' });
  for (const [name, p] of [['alice', alice], ['bob', bob], ['carol', carol]] as const) store.names.set('127.0.0.1', p.ua.endpoint.listeners[0]!.port, name);

  const incoming = bob.ua.next('incoming');
  const a = alice.ua.call(`sip:bob@${DOMAIN}`);
  const b = await incoming;
  const states: string[] = [];
  store.subscribe((e) => {
    if (e.type === 'call' && e.call.callId === a.id && states.at(-1) !== e.call.state) states.push(e.call.state);
  });
  await Promise.all([a.established, b.answer()]);
  assert.equal(store.get(a.id)?.summary.state, 'talking');
  assert.deepEqual(await b.hold(), { ok: true });
  assert.equal(store.get(a.id)?.summary.state, 'held');
  assert.equal(store.get(a.id)?.summary.heldBy, 'callee');
  assert.deepEqual(await b.resume(), { ok: true });
  assert.equal(store.get(a.id)?.summary.state, 'talking');

  const carolIncoming = carol.ua.next('incoming');
  carolIncoming.then((c) => void c.answer(), () => undefined);
  const bEnded = b.ended;
  assert.deepEqual(await a.transfer(`sip:carol@${DOMAIN}`), { ok: true, outcome: 'transferred' });
  const c = await carolIncoming;
  await bEnded;
  const first = store.get(a.id)!.summary;
  assert.deepEqual(states, ['ringing', 'talking', 'held', 'talking', 'transferring', 'ended']);
  assert.equal(first.state, 'ended');
  assert.equal(first.outcome, 'transferred');
  assert.equal(first.transfer?.referTo, `<sip:carol@${DOMAIN}>`);
  assert.match(first.transfer?.referredBy ?? '', /alice@example\.com/);
  assert.equal(first.transfer?.result, 200);
  assert.deepEqual(first.related, [c.id], 'the new call is linked to the REFER\'s');
  assert.deepEqual(store.group(c.id), [a.id, c.id]);
  assert.equal(store.get(c.id)?.summary.state, 'talking');
  const bc = bob.ua.calls.find((x) => x.id === c.id)!;
  const cEnded = c.ended;
  await bc.hangup();
  await cEnded;
  assert.equal(store.get(c.id)?.summary.state, 'ended');
  assert.equal(store.list('carol').length, 1);
  assert.equal(store.list(a.id.slice(0, 8)).length, 1);

  // Each hop once: Alice's INVITE leaves her and reaches the proxy in this one process.
  const msgs = store.get(a.id)!.messages;
  const invites = msgs.filter((m) => m.label === 'INVITE' && m.toTag === undefined);
  assert.deepEqual(invites.map((m) => `${m.from}>${m.to}`), ['alice>proxy', 'proxy>bob']);
  const notes = msgs.filter((m) => m.note !== undefined).map((m) => `${m.from}>${m.to} ${m.note}`);
  // The last hold is Bob's own as the transferee takes the REFER (RFC 5589 §6).
  assert.deepEqual(notes, ['bob>proxy hold', 'proxy>alice hold', 'bob>proxy resume', 'proxy>alice resume', 'bob>proxy hold', 'proxy>alice hold']);
  const ladder = buildLadder(store.groupMessages(store.group(a.id)));
  assert.deepEqual(ladder.columns, ['alice', 'proxy', 'bob', 'carol']);
  const labels = ladder.arrows.map((x) => x.label);
  for (const l of ['INVITE', '180', '200', 'ACK', 'REFER', '202', 'NOTIFY', 'BYE']) assert.ok(labels.includes(l), `ladder has ${l}`);
  assert.ok(labels.indexOf('REFER') < labels.indexOf('NOTIFY') && labels.indexOf('NOTIFY') < labels.lastIndexOf('BYE'));
  const text = renderTextLadder(ladder);
  assert.match(text, /alice\s+proxy\s+bob\s+carol/);
  assert.match(text, /\|-+REFER-+>\|/);
  assert.match(text, /<-+202-+\|/);
  assert.match(text, /INVITE \(hold\)/);

  // pcap of the whole capture, read back by tshark: the methods and statuses, checksums good.
  const tshark = needBinary(t, 'tshark', 'apt-get install tshark');
  if (tshark !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'hookflash-pcap-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'all.pcap');
    writeFileSync(file, toPcap(store.groupMessages(store.group(a.id))));
    const out = execFileSync(tshark, ['-r', file, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'sip.Call-ID',
      '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'], { encoding: 'utf8' });
    const rows = out.trim().split('\n').map((l) => l.split('\t'));
    const frames = store.groupMessages(store.group(a.id)).length;
    assert.equal(rows.length, frames, 'every frame is SIP to tshark');
    const methods = rows.map((r) => r[0]).filter((x) => x !== '');
    for (const m of ['INVITE', 'ACK', 'REFER', 'NOTIFY', 'BYE']) assert.ok(methods.includes(m), `tshark sees ${m}`);
    assert.ok(rows.some((r) => r[1] === '202'));
    assert.ok(rows.some((r) => r[2] === c.id), 'the new call over TCP is decoded too');
    const bad = execFileSync(tshark, ['-r', file, '-Y', 'ip.checksum.status == "Bad" || udp.checksum.status == "Bad" || tcp.checksum.status == "Bad"',
      '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'], { encoding: 'utf8' });
    assert.equal(bad.trim(), '', 'no bad checksum');
  }

  // HEP: one packet per captured message reached the collector, payloads intact.
  const deadline = Date.now() + 2000;
  while (hepPackets.length < all.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(hepPackets.length, all.length);
  assert.equal(hep.count, all.length);
  const payloads = hepPackets.map((p) => decodeHep(p).find((x) => x.type === HEP_CHUNK.payload)!.value.toString());
  const refer = all.find((m) => m.method === 'REFER' && m.isRequest)!;
  assert.ok(payloads.includes(refer.bytes.toString()));
});

test('call store bounds: calls beyond maxCalls go (ended first), messages per call and in all calls are capped, the ring keeps the latest', () => {
  const store = new CallStore({ maxCalls: 3, maxMessagesPerCall: 10, maxCallMessages: 25, maxMessages: 7 });
  let seq = 0;
  const invite = (callId: string, extra = ''): CapturedMessage => message({
    seq: ++seq, callId, method: 'INVITE', cseq: 1, fromTag: 'f',
    text: `INVITE sip:bob@example.com SIP/2.0\r\nFrom: <sip:alice@example.com>;tag=f\r\nTo: <sip:bob@example.com>\r\nCall-ID: ${callId}\r\n${extra}CSeq: 1 INVITE\r\n\r\n`,
  });
  const bye = (callId: string): CapturedMessage => message({
    seq: ++seq, callId, method: 'BYE', cseq: 2, fromTag: 'f', toTag: 't',
    text: `BYE sip:bob@example.com SIP/2.0\r\nFrom: <sip:alice@example.com>;tag=f\r\nTo: <sip:bob@example.com>;tag=t\r\nCall-ID: ${callId}\r\nCSeq: 2 BYE\r\n\r\n`,
  });
  store.add(invite('a'));
  store.add(invite('b'));
  store.add(bye('a'));
  store.add(invite('c'));
  store.add(invite('d'));
  assert.deepEqual(store.list().map((c) => c.callId), ['d', 'c', 'b'], 'the ended call went first');
  for (let i = 0; i < 30; i++) store.add(message({ seq: ++seq, callId: 'd', method: 'INFO', cseq: 3 + i, fromTag: 'f', toTag: 't', text: 'INFO sip:x SIP/2.0\r\n\r\n' }));
  assert.ok(store.get('d')!.messages.length <= 10, 'a long call keeps its latest messages');
  assert.equal(store.get('d')!.messages.at(-1)!.seq, seq);
  for (const id of ['e', 'f', 'g']) for (let i = 0; i < 9; i++) store.add(i === 0 ? invite(id) : message({ seq: ++seq, callId: id, method: 'INFO', cseq: 2 + i, fromTag: 'f', toTag: 't', text: 'INFO sip:x SIP/2.0\r\n\r\n' }));
  const kept = store.list().reduce((n, c) => n + c.messages, 0);
  assert.ok(kept <= 25, `messages in calls ${kept} within the budget`);
  const ring = store.allMessages();
  assert.equal(ring.length, 7);
  assert.deepEqual(ring.map((m) => m.seq), Array.from({ length: 7 }, (_, i) => seq - 6 + i));
});

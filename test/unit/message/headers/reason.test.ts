import assert from 'node:assert/strict';
import test from 'node:test';
import { formatReason, parseReason } from '../../../../src/message/headers/reason.js';
import type { ReasonValue } from '../../../../src/message/types.js';
import { checkParser, fuzzInputs, params, rejects } from './fuzz-support.js';

function roundTrip(list: ReasonValue[]): void {
  assert.deepEqual(parseReason(list.map(formatReason).join(', ')), list);
}

test('Reason reads protocol, cause and text (RFC 3326 §2)', () => {
  assert.deepEqual(parseReason('SIP ;cause=200 ;text="Call completed elsewhere"'), [
    { protocol: 'SIP', cause: 200, text: 'Call completed elsewhere', params: params({ cause: '200', text: 'Call completed elsewhere' }) },
  ]);
  assert.deepEqual(parseReason('Q.850;cause=16;text="Terminated"')[0]!.cause, 16);
});

test('Reason reads several comma-separated values, commas inside text kept (RFC 3326 §2)', () => {
  const v = parseReason('SIP;cause=480;text="Busy, try later", Q.850 ; cause = 17, preemption;cause=1;x');
  assert.deepEqual(v.map((r) => r.protocol), ['SIP', 'Q.850', 'preemption']);
  assert.equal(v[0]!.text, 'Busy, try later');
  assert.equal(v[1]!.cause, 17);
  assert.equal(v[2]!.params.x, null);
});

test('Reason keeps protocol as written and accepts a token text (RFC 3326 §2 reason-extension)', () => {
  const [r] = parseReason('sip;text=Busy;cause=0486');
  assert.equal(r!.protocol, 'sip');
  assert.equal(r!.text, 'Busy');
  assert.equal(r!.cause, 486);
  assert.equal(r!.params.cause, '486');
});

test('malformed Reason values are a 400 (RFC 3326 §2)', () => {
  for (const bad of ['', ' ', ',', 'SIP,', ',SIP', 'SIP,,Q.850', 'SIP;;cause=1', 'SIP;cause', 'SIP;cause=abc', 'SIP;cause=99999999999', 'SIP;text', 'SIP;text="open', '"SIP"', 'SIP cause=1']) {
    rejects(() => parseReason(bad));
  }
});

test('formatReason always quotes text and writes fields over params (RFC 3326 §2)', () => {
  assert.equal(formatReason({ protocol: 'SIP', cause: 200, text: 'Call completed elsewhere', params: params() }), 'SIP;cause=200;text="Call completed elsewhere"');
  assert.equal(formatReason({ protocol: 'SIP', text: 'Busy', params: params({ text: 'old', x: '1' }) }), 'SIP;text="Busy";x=1');
  assert.equal(formatReason({ protocol: 'Q.850', cause: 16, params: params({ text: 'x' }) }), 'Q.850;cause=16');
});

test('Reason values round-trip through formatReason', () => {
  roundTrip(parseReason('SIP ;cause=200 ;text="Call completed elsewhere"'));
  roundTrip(parseReason('SIP;cause=480;text="a \\"q\\" , b", Q.850;cause=16;x="y z";flag'));
});

test('Reason parser throws only SipParseError on mutated input, and what it accepts round-trips', () => {
  const seeds = ['SIP ;cause=200 ;text="Call completed elsewhere"', 'Q.850;cause=16, SIP;text=x;flag'];
  assert.ok(checkParser(parseReason, fuzzInputs(seeds, 500), roundTrip) > 20);
});

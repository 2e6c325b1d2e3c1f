/**
 * Shared by the header parser tests: deterministic mutation of valid values, and the checks that a
 * parser only ever throws SipParseError and that what it accepts survives format and re-parse.
 */
import assert from 'node:assert/strict';
import { SipParseError } from '../../../../src/core/errors.js';
import { newParams, type Params } from '../../../../src/message/params.js';

/** mulberry32: a small seeded PRNG, so a failing input can be reproduced from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Characters that matter to SIP grammars, plus controls and chars outside Latin-1. */
const SPECIAL = ' \t\r\n;,=:"\\/<>[]()@.*-_+%!~`\'?{}#&$^|09azAZ\u0000\u0007\u007f\u0080\u00ff\u0100\u2028\uffff';

function pick(r: () => number, chars: string): string {
  return chars[Math.floor(r() * chars.length)]!;
}

function pickItem<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/** One random edit of `s`. */
function mutate(r: () => number, s: string): string {
  const at = Math.floor(r() * (s.length + 1));
  switch (Math.floor(r() * 8)) {
    case 0:
      return s.slice(0, at) + pick(r, SPECIAL) + s.slice(at);
    case 1:
      return s.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(at);
    case 2:
      return s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 4));
    case 3: {
      const len = Math.floor(r() * 12);
      return s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
    }
    case 4:
      return s.slice(0, at);
    case 5:
      return s.slice(at) + s.slice(0, at);
    case 6:
      return s.slice(0, at) + '9'.repeat(1 + Math.floor(r() * 25)) + s.slice(at);
    default:
      return s.slice(0, at) + pick(r, SPECIAL) + s.slice(at + 1);
  }
}

/**
 * `count` inputs: mostly seeds with one to four random edits, some pure random strings of
 * SPECIAL chars, and the seeds themselves.
 */
export function fuzzInputs(seeds: readonly string[], count = 400, seed = 0x5eed): string[] {
  const r = prng(seed);
  const out: string[] = [...seeds, '', ' ', ',', ';', '"', '\\', '('];
  while (out.length < count) {
    if (r() < 0.15) {
      let s = '';
      const len = Math.floor(r() * 40);
      for (let i = 0; i < len; i++) s += pick(r, SPECIAL);
      out.push(s);
      continue;
    }
    let s = pickItem(r, seeds);
    const edits = 1 + Math.floor(r() * 4);
    for (let i = 0; i < edits; i++) s = mutate(r, s);
    out.push(s);
  }
  return out;
}

/**
 * Runs `parse` over every input: it may return or throw, but only a SipParseError with status 400
 * or 505. Whatever it returns from input without CR or LF must satisfy `roundTrip` (typically
 * parse(format(v)) deep-equals v).
 * Returns how many inputs were accepted, so a test can check the mutations were not all rejected.
 */
export function checkParser<T>(parse: (value: string) => T, inputs: readonly string[], roundTrip?: (v: T, input: string) => void): number {
  let accepted = 0;
  for (const input of inputs) {
    let v: T;
    try {
      v = parse(input);
    } catch (e) {
      if (!(e instanceof SipParseError)) {
        assert.fail(`non-SipParseError for ${JSON.stringify(input)}: ${String(e)}`);
      }
      assert.ok(e.status === 400 || e.status === 505, `status ${e.status} for ${JSON.stringify(input)}`);
      continue;
    }
    accepted++;
    // scanQuoted lets a bare CR or LF through inside quotes, but quote() writes them as spaces so a
    // value cannot break out of its header line; such values rightly change on a round trip.
    if (roundTrip && !/[\r\n]/.test(input)) roundTrip(v, input);
  }
  return accepted;
}

/** Asserts that `fn` throws a SipParseError with `status` (400 unless given). */
export function rejects(fn: () => unknown, status = 400): void {
  assert.throws(fn, (e: unknown) => e instanceof SipParseError && e.status === status);
}

/** A prototype-less Params, to deep-equal what parseParams returns. */
export function params(entries: Record<string, string | null> = {}): Params {
  const p = newParams();
  for (const k of Object.keys(entries)) p[k] = entries[k]!;
  return p;
}

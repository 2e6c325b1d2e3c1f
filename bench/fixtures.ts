/**
 * The benchmark's message sets, read as raw bytes from test/fixtures (never re-encoded: several
 * RFC 4475 messages hold NUL, bare CR/LF, high octets or UTF-8).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export interface BenchMessage {
  /** Short name: the fixture's file name without `.sip`, or the manifest's `name`. */
  name: string;
  /** Path relative to the project root, for reports. */
  file: string;
  bytes: Buffer;
}

export interface MessageSet {
  name: string;
  description: string;
  messages: BenchMessage[];
}

interface ManifestEntry {
  name: string;
  file: string;
  rfc: number;
  expected: string;
}

/** The project root: this file runs as dist/bench/fixtures.js (and type-checks as bench/fixtures.ts). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures');

function load(rel: string, name: string): BenchMessage {
  const file = join('test', 'fixtures', rel);
  return { name, file, bytes: readFileSync(join(PROJECT_ROOT, file)) };
}

/** RFC 4475 messages the manifest marks `"expected": "valid"`, in manifest order. */
export function rfc4475Valid(): BenchMessage[] {
  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'conformance', 'manifest.json'), 'utf8')) as {
    messages: ManifestEntry[];
  };
  return manifest.messages
    .filter((m) => m.rfc === 4475 && m.expected === 'valid')
    .map((m) => load(join('conformance', m.file), m.name));
}

export function loadMessageSets(): MessageSet[] {
  const rfc = rfc4475Valid();
  return [
    { name: 'invite', description: 'seed F1 INVITE with SDP', messages: [load('seed/seed-invite.sip', 'seed-invite')] },
    {
      name: 'reinvite-hold',
      description: 'seed F10 re-INVITE (hold, a=sendonly) with Route',
      messages: [load('seed/seed-reinvite-hold.sip', 'seed-reinvite-hold')],
    },
    { name: 'refer', description: 'seed REFER', messages: [load('seed/seed-refer.sip', 'seed-refer')] },
    {
      name: '200-ok-sdp',
      description: '200 OK to INVITE: 3 Via, 2 Record-Route, SDP',
      messages: [load('bench/200-ok-sdp.sip', '200-ok-sdp')],
    },
    { name: 'rfc4475-valid', description: `RFC 4475 valid messages (${rfc.length})`, messages: rfc },
  ];
}

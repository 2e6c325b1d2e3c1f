import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonLogger, noopLogger } from '../../../src/core/logger.js';
import { SipError } from '../../../src/core/errors.js';

test('JsonLogger writes one JSON object per line, filtered by level, errors readable', () => {
  const lines: string[] = [];
  const log = new JsonLogger({ level: 'info', sink: { write: (l: string) => lines.push(l) }, bindings: { component: 'transport' } });
  log.debug({ a: 1 }, 'hidden');
  log.warn({ err: new SipError('ERR_TRANSPORT', 'boom'), port: 5060 }, 'socket error');
  log.child({ id: 'tcp-1' }).error({}, 'child line');
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.endsWith('\n')));
  const first = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(first.level, 'warn');
  assert.equal(first.msg, 'socket error');
  assert.equal(first.component, 'transport');
  assert.deepEqual(first.err, { name: 'SipError', message: 'boom', code: 'ERR_TRANSPORT' });
  assert.equal((JSON.parse(lines[1]!) as Record<string, unknown>).id, 'tcp-1');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  log.info({ cyclic }, 'still logged');
  assert.equal((JSON.parse(lines[2]!) as Record<string, unknown>).unserializable, true);
  noopLogger.error({}, 'nothing');
});

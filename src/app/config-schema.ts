/**
 * A small checker for the `hookflash serve` configuration file: every key must be known, every
 * value of the right type. Errors name the key path (`registrar.minExpire`) and, for an unknown key,
 * the closest known one, so a typo is found at start rather than silently ignored.
 */

/** A bad configuration (unknown key, wrong type, impossible combination): the command exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** What a value must be. */
export type Shape =
  | { kind: 'string'; oneOf?: readonly string[] }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'array'; of: Shape }
  | { kind: 'object'; fields: Readonly<Record<string, Shape>>; required?: readonly string[] };

export const str = (oneOf?: readonly string[]): Shape => (oneOf === undefined ? { kind: 'string' } : { kind: 'string', oneOf });
export const int = (min?: number, max?: number): Shape => {
  const s: { kind: 'integer'; min?: number; max?: number } = { kind: 'integer' };
  if (min !== undefined) s.min = min;
  if (max !== undefined) s.max = max;
  return s;
};
export const bool: Shape = { kind: 'boolean' };
export const arrayOf = (of: Shape): Shape => ({ kind: 'array', of });
export const obj = (fields: Record<string, Shape>, required?: readonly string[]): Shape =>
  required === undefined ? { kind: 'object', fields } : { kind: 'object', fields, required };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Throws ConfigError at the first value that does not fit `shape`. */
export function check(value: unknown, shape: Shape, path = ''): void {
  const where = path === '' ? 'the configuration' : `"${path}"`;
  switch (shape.kind) {
    case 'string':
      if (typeof value !== 'string') throw new ConfigError(`config: ${where} must be a string, not ${describe(value)}`);
      if (shape.oneOf !== undefined && !shape.oneOf.includes(value)) {
        throw new ConfigError(`config: ${where} must be one of ${shape.oneOf.map((o) => JSON.stringify(o)).join(', ')}, not ${JSON.stringify(value)}`);
      }
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new ConfigError(`config: ${where} must be an integer, not ${describe(value)}`);
      if (shape.min !== undefined && value < shape.min) throw new ConfigError(`config: ${where} must be at least ${shape.min}, not ${value}`);
      if (shape.max !== undefined && value > shape.max) throw new ConfigError(`config: ${where} must be at most ${shape.max}, not ${value}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw new ConfigError(`config: ${where} must be true or false, not ${describe(value)}`);
      return;
    case 'array':
      if (!Array.isArray(value)) throw new ConfigError(`config: ${where} must be an array, not ${describe(value)}`);
      value.forEach((v, i) => check(v, shape.of, join(path, i)));
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new ConfigError(`config: ${where} must be an object, not ${describe(value)}`);
      }
      const known = Object.keys(shape.fields);
      for (const [key, v] of Object.entries(value)) {
        const field = shape.fields[key];
        if (field === undefined) {
          const near = closest(key, known);
          throw new ConfigError(`config: unknown key "${join(path, key)}"${near === undefined ? '' : ` (did you mean ${near}?)`}`);
        }
        check(v, field, join(path, key));
      }
      for (const key of shape.required ?? []) {
        if (!(key in value)) throw new ConfigError(`config: "${join(path, key)}" is required`);
      }
      return;
    }
  }
}

/** The known key nearest to `key` by edit distance, when it is near enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

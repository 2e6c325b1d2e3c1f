/**
 * The layering of docs/architecture.md, checked on every .ts file under src/:
 *
 * - Each layer imports only from itself and the layers before it in LAYERS (core first, app last).
 *   A lower layer reaches upward only through an interface it declares itself, never by import.
 *   Type-only imports count too: knowing an upper layer's types is depending on it.
 * - src/app imports only src/index.ts (the public API, like any user), its own files, `node:`
 *   modules and npm packages. Nothing else imports src/index.ts or src/app.
 * - No import cycles between files (a depth-first search over the whole import graph).
 * - src/index.ts exists.
 *
 * Imports are read with a small tokenizer (comments, strings, template literals and regular
 * expressions skipped), not regular expressions over the text: the TypeScript package here is the
 * native compiler and has no JavaScript API. The checker is itself tested on counterexamples below,
 * so a violation in src/ cannot pass unnoticed.
 *
 * Runs from dist/test/unit/; the sources are read from the repository root.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The layers of docs/architecture.md, in order: each may import only itself and those before it. */
const LAYERS = [
  'core', 'message', 'sdp', 'transport', 'transaction', 'auth', 'dialog', 'ua', 'media', 'registrar', 'proxy', 'store', 'app',
] as const;

/**
 * Imports left out of the cycle search, each `from -> to` (paths under src/) with why. Each must
 * stay a type-only import (erased at run time, so it cannot disturb module initialisation); the
 * test fails if one becomes a value import or disappears. Any other cycle fails the test.
 */
const ALLOWED_CYCLE_EDGES: ReadonlyArray<{ from: string; to: string; why: string }> = [
  {
    from: 'src/transaction/transaction.ts',
    to: 'src/transaction/invite-server-transaction.ts',
    why: 'TransactionContext.ackToUser names the subclass that calls it; type-only. Reported to the lead: '
      + 'typing that parameter by an interface declared in transaction.ts would remove the cycle.',
  },
  {
    from: 'src/transaction/transaction.ts',
    to: 'src/transaction/server-transaction.ts',
    why: 'TransactionContext.serverFailed names the subclass that calls it; type-only, as above.',
  },
];

/**
 * Imports that break the layer order on purpose: `from -> to` (paths under src/), with why.
 * Empty: every violation fails the test.
 */
const ALLOWED_IMPORTS: ReadonlyArray<{ from: string; to: string; why: string }> = [];

// ---------------------------------------------------------------------------------------------
// Reading imports

interface Token {
  kind: 'id' | 'str' | 'tmpl' | 'punct';
  text: string;
}

/** Keywords after which a '/' starts a regular expression rather than a division. */
const REGEX_AFTER = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await',
]);

function isIdChar(c: string): boolean {
  return /[A-Za-z0-9_$#\u0080-\uffff]/.test(c);
}

/**
 * Splits TypeScript source into identifiers, string literals and punctuation, dropping comments,
 * whitespace, template text and regular expressions. Good enough to find import statements; it is
 * not a parser.
 */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  // Brace depths at which a template literal's `${` was opened: its `}` resumes the template.
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  const n = src.length;

  const readTemplate = (): void => {
    // At the char after '`' or after the '}' closing a `${`: read to '`' or '${'.
    while (i < n) {
      const c = src[i]!;
      if (c === '\\') {
        i += 2;
      } else if (c === '`') {
        i++;
        out.push({ kind: 'tmpl', text: '' });
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        i += 2;
        templates.push(depth);
        depth++;
        return;
      } else {
        i++;
      }
    }
  };

  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < n && src[j] !== c && src[j] !== '\n') {
        if (src[j] === '\\') {
          text += src[j + 1] ?? '';
          j += 2;
        } else {
          text += src[j];
          j++;
        }
      }
      out.push({ kind: 'str', text });
      i = j + 1;
    } else if (c === '`') {
      i++;
      readTemplate();
    } else if (c === '/') {
      const prev = out[out.length - 1];
      const division = prev !== undefined &&
        ((prev.kind === 'id' && !REGEX_AFTER.has(prev.text)) || prev.kind === 'str' || prev.kind === 'tmpl' ||
          (prev.kind === 'punct' && (prev.text === ')' || prev.text === ']' || prev.text === '}')));
      if (division) {
        out.push({ kind: 'punct', text: '/' });
        i++;
      } else {
        // A regular expression literal: to the '/' that is neither escaped nor in a class.
        let j = i + 1;
        let inClass = false;
        while (j < n && src[j] !== '\n') {
          const d = src[j]!;
          if (d === '\\') j++;
          else if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          else if (d === '/' && !inClass) break;
          j++;
        }
        j++;
        while (j < n && /[a-z]/i.test(src[j]!)) j++;
        out.push({ kind: 'str', text: '' });
        i = j;
      }
    } else if (isIdChar(c)) {
      let j = i + 1;
      while (j < n && isIdChar(src[j]!)) j++;
      out.push({ kind: 'id', text: src.slice(i, j) });
      i = j;
    } else {
      if (c === '{') depth++;
      if (c === '}') {
        depth--;
        if (templates.length > 0 && templates[templates.length - 1] === depth) {
          templates.pop();
          i++;
          readTemplate();
          continue;
        }
      }
      out.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return out;
}

interface ImportRef {
  specifier: string;
  /** `import type` / `export type ... from`: erased at run time, but still a dependency. */
  typeOnly: boolean;
}

/**
 * The module specifiers a file imports: static imports and re-exports (`export ... from`), side-
 * effect imports and `import('...')`. A dynamic import whose specifier is not a plain string is
 * returned with specifier '' so that the caller reports it: it could hide any dependency.
 */
function collectImports(src: string): ImportRef[] {
  const toks = tokenize(src);
  const out: ImportRef[] = [];
  const at = (k: number): Token | undefined => toks[k];
  /** From token k, the `from 'x'` that ends this statement; undefined if a ';' comes first. */
  const fromClause = (k: number): string | undefined => {
    let braces = 0;
    for (let j = k; j < toks.length; j++) {
      const t = toks[j]!;
      if (t.kind === 'punct') {
        if (t.text === '{') braces++;
        else if (t.text === '}') braces--;
        else if (t.text === ';' && braces <= 0) return undefined;
      } else if (braces <= 0 && t.kind === 'id' && t.text === 'from' && at(j + 1)?.kind === 'str') {
        return at(j + 1)!.text;
      }
    }
    return undefined;
  };
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.kind !== 'id' || (t.text !== 'import' && t.text !== 'export')) continue;
    const before = at(k - 1);
    // `x.import`, `{ import: 1 }` are property names, not statements.
    if (before?.kind === 'punct' && before.text === '.') continue;
    const next = at(k + 1);
    if (next === undefined) continue;
    if (t.text === 'import') {
      if (next.kind === 'str') {
        out.push({ specifier: next.text, typeOnly: false });
      } else if (next.kind === 'punct' && next.text === '(') {
        const arg = at(k + 2);
        const close = at(k + 3);
        const literal = arg?.kind === 'str' && close?.kind === 'punct' && (close.text === ')' || close.text === ',');
        out.push({ specifier: literal ? arg.text : '', typeOnly: false });
      } else if (next.kind === 'id' || (next.kind === 'punct' && (next.text === '{' || next.text === '*'))) {
        const spec = fromClause(k + 1);
        if (spec === undefined) continue;
        const after = at(k + 2);
        const typeOnly = next.kind === 'id' && next.text === 'type' &&
          !(after?.kind === 'id' && after.text === 'from') && !(after?.kind === 'punct' && after.text === ',');
        out.push({ specifier: spec, typeOnly });
      }
    } else {
      let j = k + 1;
      let typeOnly = false;
      if (next.kind === 'id' && next.text === 'type') {
        typeOnly = true;
        j++;
      }
      const head = at(j);
      if (head?.kind === 'punct' && (head.text === '{' || head.text === '*')) {
        const spec = fromClause(j);
        if (spec !== undefined) out.push({ specifier: spec, typeOnly });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checking a tree

/** Files by path relative to the repository root (`src/core/errors.ts`), with their text. */
type SourceTree = ReadonlyMap<string, string>;

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** `src/<layer>/...` -> layer; `src/index.ts` -> 'index'; anything else -> undefined. */
function layerOf(path: string): string | undefined {
  if (path === 'src/index.ts') return 'index';
  const m = /^src\/([^/]+)\/./.exec(path);
  return m === null ? undefined : m[1];
}

function rank(layer: string): number {
  return (LAYERS as readonly string[]).indexOf(layer);
}

/** Resolves a relative specifier from `from` to a file of the tree (`./x.js` is `./x.ts`). */
function resolve(tree: SourceTree, from: string, specifier: string): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, `${base}/index.ts`];
  return candidates.find((c) => tree.has(c));
}

interface Report {
  edges: Edge[];
  violations: string[];
}

/** Reads every file's imports, checks each against the layer rules, and returns the graph. */
function checkLayering(tree: SourceTree, allowed: typeof ALLOWED_IMPORTS = ALLOWED_IMPORTS): Report {
  const edges: Edge[] = [];
  const violations: string[] = [];
  const isAllowed = (from: string, to: string): boolean => allowed.some((a) => a.from === from && a.to === to);
  for (const [file, text] of tree) {
    if (!file.startsWith('src/')) continue;
    const layer = layerOf(file);
    if (layer === undefined || (layer !== 'index' && rank(layer) < 0)) {
      violations.push(`${file}: not in a layer of docs/architecture.md (${LAYERS.join(', ')})`);
      continue;
    }
    for (const { specifier, typeOnly } of collectImports(text)) {
      if (specifier === '') {
        violations.push(`${file}: dynamic import() of a computed specifier: its target cannot be checked`);
        continue;
      }
      if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
        // node: modules and npm packages: allowed everywhere.
        continue;
      }
      const target = specifier.startsWith('/') ? undefined : resolve(tree, file, specifier);
      if (target === undefined) {
        violations.push(`${file}: import '${specifier}' does not resolve to a .ts file under src/`);
        continue;
      }
      if (!target.startsWith('src/')) {
        violations.push(`${file}: imports ${target}, outside src/`);
        continue;
      }
      edges.push({ from: file, to: target, typeOnly });
      const targetLayer = layerOf(target) ?? '?';
      if (isAllowed(file, target)) continue;
      const what = `${file} (${layer}) imports ${target} (${targetLayer})${typeOnly ? ' [type-only]' : ''}`;
      if (layer === 'app') {
        if (targetLayer !== 'app' && targetLayer !== 'index') {
          violations.push(`${what}: src/app uses only the public API, src/index.ts`);
        }
      } else if (targetLayer === 'index') {
        violations.push(`${what}: only src/app imports the public API; inside the stack import the module itself`);
      } else if (targetLayer === 'app') {
        violations.push(`${what}: nothing imports src/app`);
      } else if (layer !== 'index' && rank(targetLayer) > rank(layer)) {
        violations.push(`${what}: ${layer} may import only ${LAYERS.slice(0, rank(layer) + 1).join(', ')}`);
      }
    }
  }
  return { edges, violations };
}

/**
 * Every import cycle, found by a depth-first search: one cycle (as a path that returns to its
 * first file) for each back edge. Files are visited in sorted order, so the output is stable.
 */
function findCycles(edges: readonly Edge[]): string[][] {
  const adjacency = new Map<string, string[]>();
  for (const e of edges) {
    const list = adjacency.get(e.from);
    if (list === undefined) adjacency.set(e.from, [e.to]);
    else if (!list.includes(e.to)) list.push(e.to);
  }
  for (const list of adjacency.values()) list.sort();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of adjacency.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...adjacency.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

/** The edges the cycle search walks: all but the ALLOWED_CYCLE_EDGES. */
function cycleEdges(edges: readonly Edge[]): Edge[] {
  return edges.filter((e) => !ALLOWED_CYCLE_EDGES.some((a) => a.from === e.from && a.to === e.to && e.typeOnly));
}

/** Every .ts file under src/ of the repository, by path relative to the root. */
function readSourceTree(): Map<string, string> {
  const tree = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of readdirSync(posix.join(ROOT, rel), { withFileTypes: true })) {
      const path = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (/\.m?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) tree.set(path, readFileSync(posix.join(ROOT, path), 'utf8'));
    }
  };
  walk('src');
  return tree;
}

// ---------------------------------------------------------------------------------------------
// The tree as it is

test('src/index.ts, the public API, exists (docs/architecture.md)', () => {
  assert.ok(existsSync(posix.join(ROOT, 'src/index.ts')), `no src/index.ts under ${ROOT}`);
});

test('every file under src/ imports only from its own layer and the layers before it (docs/architecture.md)', () => {
  const tree = readSourceTree();
  assert.ok(tree.size > 0, 'no sources found under src/');
  const { violations } = checkLayering(tree);
  for (const v of violations) console.log(`layering violation: ${v}`);
  assert.equal(violations.length, 0, `${violations.length} layering violation(s):\n  ${violations.join('\n  ')}`);
});

test('there are no import cycles between files under src/, type-only imports included (docs/architecture.md)', () => {
  const { edges } = checkLayering(readSourceTree());
  const cycles = findCycles(cycleEdges(edges));
  const shown = cycles.map((c) => c.join(' -> '));
  for (const c of shown) console.log(`import cycle: ${c}`);
  assert.equal(cycles.length, 0, `${cycles.length} import cycle(s):\n  ${shown.join('\n  ')}`);
});

test('every allowed exception still exists, and each allowed cycle edge is still type-only (no stale entries)', () => {
  const { edges } = checkLayering(readSourceTree(), []);
  for (const a of ALLOWED_IMPORTS) {
    assert.ok(edges.some((e) => e.from === a.from && e.to === a.to), `ALLOWED_IMPORTS ${a.from} -> ${a.to} no longer exists: remove it`);
  }
  for (const a of ALLOWED_CYCLE_EDGES) {
    const found = edges.filter((e) => e.from === a.from && e.to === a.to);
    assert.ok(found.length > 0, `ALLOWED_CYCLE_EDGES ${a.from} -> ${a.to} no longer exists: remove it`);
    assert.ok(found.every((e) => e.typeOnly), `ALLOWED_CYCLE_EDGES ${a.from} -> ${a.to} is now a value import: a real cycle`);
  }
});

// ---------------------------------------------------------------------------------------------
// The checker, on counterexamples: each must be caught

const tree = (files: Record<string, string>): SourceTree => new Map(Object.entries(files));

test('checker: finds static, type-only, side-effect, re-export and dynamic imports, and ignores comments and strings', () => {
  const src = [
    "import { a } from './a.js';",
    "import type { B } from '../b/b.js';",
    "import * as c from 'node:fs';",
    "import d, { e } from \"./d.js\";",
    "import './side.js';",
    "export * from './star.js';",
    "export type { T } from './t.js';",
    "export { x as y } from './x.js';",
    "export const z = 1;",
    "const lazy = await import('./lazy.js');",
    "const computed = await import(name);",
    "// import { no } from './comment.js';",
    "/* export * from './block.js'; */",
    "const s = \"import { no } from './string.js'\";",
    "const t = `import ${'{'} no } from './template.js' ${x}`;",
    "const r = /import '\\/regex.js'/g;",
    "const u = import.meta.url;",
    "const q = 4 / 2; import { after } from './after-division.js';",
  ].join('\n');
  assert.deepEqual(collectImports(src), [
    { specifier: './a.js', typeOnly: false },
    { specifier: '../b/b.js', typeOnly: true },
    { specifier: 'node:fs', typeOnly: false },
    { specifier: './d.js', typeOnly: false },
    { specifier: './side.js', typeOnly: false },
    { specifier: './star.js', typeOnly: false },
    { specifier: './t.js', typeOnly: true },
    { specifier: './x.js', typeOnly: false },
    { specifier: './lazy.js', typeOnly: false },
    { specifier: '', typeOnly: false },
    { specifier: './after-division.js', typeOnly: false },
  ]);
});

test('checker: a lower layer importing a higher one is a violation, type-only or not', () => {
  const { violations } = checkLayering(tree({
    'src/core/clock.ts': "import type { SipRequest } from '../message/message.js';",
    'src/message/message.ts': "import { Clock } from '../core/clock.js';",
    'src/transport/types.ts': "import { TransactionLayer } from '../transaction/layer.js';",
    'src/transaction/layer.ts': "import type { Source } from '../transport/types.js';",
  }));
  assert.equal(violations.length, 2, violations.join('\n'));
  assert.match(violations[0]!, /^src\/core\/clock\.ts \(core\) imports src\/message\/message\.ts \(message\) \[type-only\]/);
  assert.match(violations[1]!, /^src\/transport\/types\.ts \(transport\) imports src\/transaction\/layer\.ts \(transaction\)/);
});

test('checker: src/app may import src/index.ts and itself only; nothing else imports index or app', () => {
  const { violations } = checkLayering(tree({
    'src/index.ts': "export * from './message/index.js';",
    'src/message/index.ts': "export const x = 1;",
    'src/app/cli.ts': "import { x } from '../index.js'; import { y } from './y.js'; import { z } from '../message/index.js';",
    'src/app/y.ts': "import { parseArgs } from 'node:util'; import { WebSocket } from 'ws'; export const y = 1;",
    'src/transport/t.ts': "import { x } from '../index.js'; import { y } from '../app/y.js';",
  }));
  assert.equal(violations.length, 3, violations.join('\n'));
  assert.match(violations[0]!, /src\/app\/cli\.ts .* imports src\/message\/index\.ts .*public API/);
  assert.match(violations[1]!, /src\/transport\/t\.ts .* imports src\/index\.ts .*only src\/app/);
  assert.match(violations[2]!, /src\/transport\/t\.ts .* imports src\/app\/y\.ts .*nothing imports src\/app/);
});

test('checker: files outside a known layer, unresolved imports and computed dynamic imports are violations', () => {
  const { violations } = checkLayering(tree({
    'src/misc.ts': "export const a = 1;",
    'src/widgets/w.ts': "export const b = 1;",
    'src/core/a.ts': "import { c } from './missing.js'; import { t } from '../../test/helpers/peers.js'; await import(name);",
  }));
  assert.equal(violations.length, 5, violations.join('\n'));
  assert.ok(violations.some((v) => v.startsWith('src/misc.ts: not in a layer')));
  assert.ok(violations.some((v) => v.startsWith('src/widgets/w.ts: not in a layer')));
  assert.ok(violations.some((v) => v.includes("'./missing.js' does not resolve")));
  assert.ok(violations.some((v) => v.includes("'../../test/helpers/peers.js' does not resolve")));
  assert.ok(violations.some((v) => v.includes('dynamic import()')));
});

test('checker: a layer may import the layers before it in the order core < message < sdp < ... < store', () => {
  const files: Record<string, string> = {};
  const stack = LAYERS.filter((l) => l !== 'app');
  stack.forEach((layer, i) => {
    files[`src/${layer}/m.ts`] = stack.slice(0, i).map((l) => `import '../${l}/m.js';`).join('\n');
  });
  assert.deepEqual(checkLayering(tree(files)).violations, []);
});

test('checker: the depth-first search reports a cycle, type-only edges included, and nothing for a DAG', () => {
  const dag = checkLayering(tree({
    'src/message/a.ts': "import './b.js'; import './c.js';",
    'src/message/b.ts': "import './c.js';",
    'src/message/c.ts': '',
  }));
  assert.deepEqual(findCycles(dag.edges), []);
  const cyclic = checkLayering(tree({
    'src/transaction/a.ts': "import './b.js';",
    'src/transaction/b.ts': "import './c.js';",
    'src/transaction/c.ts': "import type { A } from './a.js';",
    'src/transaction/d.ts': "import './d.js';",
  }));
  assert.deepEqual(findCycles(cyclic.edges), [
    ['src/transaction/a.ts', 'src/transaction/b.ts', 'src/transaction/c.ts', 'src/transaction/a.ts'],
    ['src/transaction/d.ts', 'src/transaction/d.ts'],
  ]);
});

test('checker: an allowed cycle edge is left out only while it is type-only', () => {
  const a = 'src/transaction/transaction.ts';
  const b = 'src/transaction/invite-server-transaction.ts';
  const back: Edge = { from: b, to: a, typeOnly: false };
  assert.deepEqual(findCycles(cycleEdges([{ from: a, to: b, typeOnly: true }, back])), []);
  assert.deepEqual(findCycles(cycleEdges([{ from: a, to: b, typeOnly: false }, back])), [[b, a, b]]);
});

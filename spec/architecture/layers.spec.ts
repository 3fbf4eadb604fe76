/**
 * The layers of src/ stay true: every import points down (or within its own layer), no import
 * circle exists (type-only imports included), and the engine knows nothing of Koa. See ARCHITECTURE.md.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(fileURLToPath(new URL('../../src', import.meta.url)));

/** Bottom first. A file belongs to the first layer whose prefix matches its path under src/. */
const LAYERS: ReadonlyArray<readonly [name: string, prefixes: readonly string[]]> = [
  ['base', ['errors.ts', 'stored-value.ts', 'defaults.ts', 'validate.ts']],
  ['serializers', ['serializers/']],
  ['stores', ['stores/']],
  ['config', ['config/']],
  ['core', ['core/']],
  ['users', ['users/']],
  ['koa', ['koa/']],
  ['entry', ['index.ts', 'internal.ts']],
];
/** Layers that must not import the Koa package, even for types. */
const NO_KOA = new Set(['base', 'serializers', 'stores', 'core']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(file: string): number {
  const path = relative(SRC, file).split('\\').join('/');
  const index = LAYERS.findIndex(([, prefixes]) => prefixes.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p)));
  assert.notEqual(index, -1, `src/${path} is in no layer: add it to LAYERS in spec/architecture/layers.spec.ts and to ARCHITECTURE.md`);
  return index;
}

/** Every module specifier of a file: static imports and re-exports (type-only ones too) and dynamic imports. */
export function specifiers(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of text.matchAll(pattern)) found.push((match[1] ?? match[2] ?? match[3])!);
  return found;
}

const files = sourceFiles(SRC);
const graph = new Map<string, string[]>();
const packages = new Map<string, string[]>();
for (const file of files) {
  const specs = specifiers(readFileSync(file, 'utf8'));
  graph.set(file, specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts')));
  packages.set(file, specs.filter((s) => !s.startsWith('.')));
}
const name = (file: string) => `src/${relative(SRC, file).split('\\').join('/')}`;

describe('architecture: the layers of src/', () => {
  it('finds the imports it checks (the parser is not blind)', () => {
    assert.deepEqual(specifiers(`import a from './a.js';\nimport type { B } from "../b.js";\nexport { c } from './c.js';\nimport './d.js';\nconst e = await import('./e.js');`),
      ['./a.js', '../b.js', './c.js', './d.js', './e.js']);
    assert.ok((graph.get(join(SRC, 'koa/middleware.ts')) ?? []).length > 3);
  });

  it('every relative import resolves to a file of src/', () => {
    for (const [file, targets] of graph) for (const target of targets) assert.ok(graph.has(target), `${name(file)} imports ${name(target)}, which does not exist`);
  });

  it('every import points down or within its layer', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (layerOf(target) > layerOf(file)) upward.push(`${name(file)} (${LAYERS[layerOf(file)]![0]}) -> ${name(target)} (${LAYERS[layerOf(target)]![0]})`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('no import circle, type-only imports included', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });

  it('the engine, the stores and the serializers do not import Koa', () => {
    const offenders = files.filter((file) => NO_KOA.has(LAYERS[layerOf(file)]![0]) && packages.get(file)!.some((p) => p === 'koa' || p.startsWith('koa/')));
    assert.deepEqual(offenders.map(name), []);
  });
});

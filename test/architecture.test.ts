// The layers of src/ and which way they point. Every import in src/ (type-only ones too) is
// read, and an arrow from one layer to another must be listed in ALLOWED below; arrows point
// down only, so the table (checked to be acyclic here) is the architecture. Node-only modules
// stay in node/ and cli/, and nothing outside src/wasm/ touches WebAssembly.*. The kernels'
// entry files only re-export, and the shipped ones never reach the benchmark/test extras.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../src');
const ASSEMBLY = resolve(import.meta.dirname, '../assembly');

/** Layer → the layers it may import. Lower layers first; a layer always may import itself. */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  util: ['errors'],
  config: ['errors'],
  backend: ['errors', 'util'],
  wasm: ['backend', 'errors', 'util'],
  reference: ['backend', 'errors'],
  data: ['config', 'errors', 'util'],
  model: ['data', 'config', 'backend', 'errors', 'util'],
  rank: ['model', 'data', 'config', 'wasm', 'backend', 'errors', 'util'],
  eval: ['rank', 'model', 'data', 'backend', 'errors'],
  train: ['eval', 'rank', 'model', 'data', 'config', 'backend', 'errors', 'util'],
  io: ['data', 'config', 'errors', 'util'],
  api: ['io', 'train', 'eval', 'rank', 'model', 'data', 'config', 'wasm', 'backend', 'errors', 'util'],
  index: ['api', 'io', 'train', 'eval', 'rank', 'data', 'config', 'wasm', 'reference', 'backend', 'errors'],
  // api: the member worker of recipe: 'best' runs its internal entry (src/node/member-worker.ts).
  node: ['index', 'api', 'data', 'wasm', 'backend', 'errors'],
  cli: ['node', 'index', 'train', 'data', 'errors'],
};

/** The layer of a file: its folder under src/, or for a top-level file its name (cli.ts joins cli/). */
function layerOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts.length > 1) return parts[0]!;
  return parts[0]!.replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

/** Every relative import (bare ones for their side effects too) and re-export of a file, resolved to a path under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/g),
    ...text.matchAll(/(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g),
    ...text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ];
  return found.map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
}

const files = sourceFiles(SRC);

describe('architecture', () => {
  it('lists every layer of src/ in the table', () => {
    const layers = new Set(files.map(layerOf));
    expect([...layers].sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it('the table itself points one way: no layer reaches itself through others', () => {
    const reaches = (from: string, seen = new Set<string>()): Set<string> => {
      for (const to of ALLOWED[from]!)
        if (!seen.has(to)) {
          seen.add(to);
          reaches(to, seen);
        }
      return seen;
    };
    for (const layer of Object.keys(ALLOWED)) expect(reaches(layer).has(layer), `${layer} reaches itself`).toBe(false);
  });

  it('every import in src/ follows an allowed arrow', () => {
    const violations: string[] = [];
    let arrows = 0;
    for (const file of files) {
      const from = layerOf(file);
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        arrows++;
        if (to !== from && !ALLOWED[from]!.includes(to))
          violations.push(`${relative(SRC, file)} → ${relative(SRC, target)} (${from} → ${to})`);
      }
    }
    expect(arrows).toBeGreaterThan(150);
    expect(violations).toEqual([]);
  });

  it('no file-level import cycles', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f)!) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('Node-only modules stay in node/ and cli/; WebAssembly.* stays in wasm/', () => {
    for (const file of files) {
      const layer = layerOf(file),
        text = readFileSync(file, 'utf8');
      if (layer !== 'node' && layer !== 'cli')
        expect(text, relative(SRC, file)).not.toMatch(
          /from\s+['"]node:|from\s+['"](fs|path|os|worker_threads|child_process)['"]/,
        );
      if (layer !== 'wasm')
        expect(text, relative(SRC, file)).not.toMatch(/\bWebAssembly\.(instantiate|compile|validate|Memory|Module\b\()/);
    }
  });

  it('assembly/index.ts and assembly/extras/index.ts only re-export; no shipped kernel file imports extras/', () => {
    for (const entry of ['index.ts', 'extras/index.ts']) {
      const text = readFileSync(join(ASSEMBLY, entry), 'utf8');
      const rest = text.replace(/\/\/.*$/gm, '').replace(/export\s*\{[^}]*\}\s*from\s*"[^"]+";/g, '');
      expect(rest.trim(), entry).toBe('');
    }
    const shipped = readdirSync(ASSEMBLY).filter((name) => name.endsWith('.ts'));
    expect(shipped).toContain('index.ts');
    for (const name of shipped) expect(readFileSync(join(ASSEMBLY, name), 'utf8'), name).not.toMatch(/from\s+["']\.\/extras/);
  });
});

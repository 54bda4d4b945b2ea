// The platform seam (src/wasm/platform.ts): how worker threads start is chosen once, by the entry
// point, and no public function takes it. From the Node entry, every function that starts threads
// runs `threads: 2` on worker_threads — trainRecipe once trained on one thread there, silently,
// because only some of the Node entry's functions were wrappers passing a spawner. The core entry
// alone in Node falls back to one thread, says why once, and the index notes it. The published
// declarations (dist/*.d.ts, what users compile against) name no spawner anywhere, and the one
// module with a side effect at load is listed in package.json's "sideEffects".
import { describe, it, expect, vi, afterEach } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import * as node from '../src/node/index.js';
import { Vocabulary } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '..');

const config = {
  dim: 8,
  seed: 2,
  user: { features: [{ kind: 'id' as const, name: 'u', vocabSize: 30, dim: 8 }] },
  item: { features: [{ kind: 'id' as const, name: 'i', vocabSize: 20, dim: 8 }] },
};

/** 240 events of 30 users on 20 items, with ratings. */
const events = Array.from({ length: 240 }, (_, r) => ({
  user: `u${(r * 7) % 30}`,
  item: `i${(r * 13) % 20}`,
  rating: 1 + ((r * 5) % 5),
}));

describe('the Node entry runs threads: 2 on worker_threads in every function that starts threads', () => {
  it('createModel', async () => {
    const model = await node.createModel(config, { threads: 2 });
    expect(model.threads).toBe(2);
    model.dispose();
  });

  it('createScorer and createIndex', async () => {
    const scorer = await node.createScorer({ threads: 2 });
    expect(scorer.threads).toBe(2);
    scorer.close();
    const index = await node.createIndex({ dim: 4, threads: 2, requireThreads: true });
    expect(index.threads).toBe(2);
    expect(index.threadsNote).toBeUndefined();
    index.close();
  });

  it('trainRecipe (the bug: it trained on one thread from twotower/node) and train', async () => {
    const users = new Vocabulary(),
      items = new Vocabulary();
    const data = {
      users: Int32Array.from(events, (e) => users.add(e.user)),
      items: Int32Array.from(events, (e) => items.add(e.item)),
      ratings: Float32Array.from(events, (e) => e.rating),
    };
    const { model } = await node.trainRecipe(
      { train: data, users, items },
      node.recipeOptions('mse', { epochs: 2, dim: 8, implicitDim: 0, threads: 2 }),
    );
    expect(model.threads).toBe(2);
    model.dispose();
    const trained = await node.train(events, { epochs: 2, dim: 8, threads: 2 });
    expect(trained.threads).toBe(2);
    trained.dispose();
  });
});

describe('the core entry alone in Node (no platform installed: Web Workers, which Node lacks)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it('runs on one thread, says why once per reason, and the index notes it (or rejects with requireThreads)', async () => {
    vi.resetModules();
    const core = await import('../src/index.js');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const why = "this entry has no worker_threads: import from 'twotower/node'";
    const scorer = await core.createScorer({ threads: 2 });
    expect(scorer.threads).toBe(1);
    scorer.close();
    const model = await core.createModel(config, { threads: 2 });
    expect(model.threads).toBe(1);
    model.dispose();
    const index = await core.createIndex({ dim: 4, threads: 2 });
    expect(index.threads).toBe(1);
    expect(index.requestedThreads).toBe(2);
    expect(index.threadsNote).toBe(why);
    index.close();
    expect(warn.mock.calls).toEqual([[`twotower: 2 threads were asked for, running on 1: ${why}.`]]);
    await expect(core.createIndex({ dim: 4, threads: 2, requireThreads: true })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
    });
  });
});

describe('the published declarations', () => {
  const entries = ['dist/index.d.ts', 'dist/node/index.d.ts'].map((f) => resolve(ROOT, f));

  /**
   * Every name an entry exports, with its signatures: functions' parameters and results, classes'
   * constructors and public members, interfaces' and types' members, each with its type.
   */
  function surface(): Map<string, string[]> {
    for (const entry of entries) expect(existsSync(entry), `${entry}: run npm run build:ts first`).toBe(true);
    const program = ts.createProgram(entries, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: ['node'],
      noEmit: true,
      skipLibCheck: true,
    });
    const checker = program.getTypeChecker();
    const out = new Map<string, string[]>();
    const members = (type: ts.Type, at: ts.Node) =>
      checker
        .getPropertiesOfType(type)
        .filter((p) => !p.declarations?.some((d) => ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Private))
        .map((p) => `${p.name}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(p, at))}`);
    for (const entry of entries) {
      const file = program.getSourceFile(entry)!;
      for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(file)!)) {
        const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
        const lines: string[] = [];
        const declared = checker.getDeclaredTypeOfSymbol(symbol);
        if (symbol.flags & (ts.SymbolFlags.Value & ~ts.SymbolFlags.Class & ~ts.SymbolFlags.Enum)) {
          const type = checker.getTypeOfSymbolAtLocation(symbol, file);
          lines.push(checker.typeToString(type, undefined, ts.TypeFormatFlags.NoTruncation));
          for (const s of type.getCallSignatures()) lines.push(checker.signatureToString(s));
        }
        if (symbol.flags & ts.SymbolFlags.Class) {
          const statics = checker.getTypeOfSymbolAtLocation(symbol, file);
          for (const s of statics.getConstructSignatures()) lines.push(`new ${checker.signatureToString(s)}`);
          lines.push(...members(statics, file), ...members(declared, file));
        }
        if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) {
          lines.push(checker.typeToString(declared, undefined, ts.TypeFormatFlags.NoTruncation));
          lines.push(...members(declared, file));
        }
        out.set(`${entry.endsWith('node/index.d.ts') ? 'twotower/node' : 'twotower'}: ${exported.name}`, lines);
      }
    }
    return out;
  }

  it('name no spawner: no `spawn` parameter, no Spawner type, no worker-starting export', () => {
    const api = surface();
    // The walk found what it should: the functions that start threads, from both entries, with their parameters.
    for (const name of ['createModel', 'createScorer', 'createIndex', 'train', 'trainRecipe']) {
      for (const entry of ['twotower', 'twotower/node']) expect(api.get(`${entry}: ${name}`)?.length, name).toBeGreaterThan(1);
    }
    expect(api.get('twotower/node: trainRecipe')).toContain('(ds: RecipeData, o: RecipeOptions) => Promise<RecipeResult>');
    expect(api.get('twotower: createModel')).toContain(
      '(config: TwoTowerConfig, options?: CreateModelOptions) => Promise<Model>',
    );
    expect(api.get('twotower: Model')?.length).toBeGreaterThan(20);
    const leaks = [...api].filter(([name, lines]) => /spawn|Spawner|WorkerInit/i.test(`${name} ${lines.join(' ')}`));
    expect(leaks).toEqual([]);
  });
});

describe('package.json "sideEffects"', () => {
  it('lists exactly the Node entry and the module that installs the platform (a bundler must keep them)', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { sideEffects: unknown };
    expect(pkg.sideEffects).toEqual(['./dist/node/index.js', './dist/node/platform.js']);
    // The module that installs it does so at load; the Node entry and the CLI import it first.
    expect(readFileSync(resolve(ROOT, 'src/node/platform.ts'), 'utf8')).toMatch(/^setPlatform\(nodePlatform\);$/m);
    for (const [file, path] of [
      ['src/node/index.ts', './platform.js'],
      ['src/cli.ts', './node/platform.js'],
    ] as const) {
      const firstImport = readFileSync(resolve(ROOT, file), 'utf8').match(/^import .*$/m)?.[0];
      expect(firstImport, file).toBe(`import '${path}';`);
    }
  });
});

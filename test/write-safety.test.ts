// Writing files never loses one: saves to one path race to a whole file (the last rename wins),
// no command writes over one of its own inputs, and a write that fails (an empty path, a folder
// that cannot be made, a file too large for the disk) says so in one line, exits 1 and leaves
// nothing behind.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { createModel, type Model } from '../src/index.js';
import { saveModel, loadModelFile } from '../src/node/index.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';

const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.js');
let dir = '';
const path = (...names: string[]) => join(dir, ...names);
const write = (name: string, text: string) => (writeFileSync(path(name), text), path(name));

/**
 * Runs the CLI as a user would; `limitBlocks` caps the size of any file it writes (ulimit -f);
 * `unprivileged` runs it as nobody when the tests run as root (for whom permissions do not stop writes).
 */
function run(args: string[], options: { cwd?: string; limitBlocks?: number; unprivileged?: boolean } = {}) {
  let argv = [process.execPath, CLI, ...args];
  if (options.limitBlocks !== undefined) argv = ['sh', '-c', `ulimit -f ${options.limitBlocks} && exec "$0" "$@"`, ...argv];
  if (options.unprivileged && process.getuid?.() === 0)
    argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000, cwd: options.cwd });
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('twotower: '));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, errors };
}

/** Asserts a refusal: exit 1, exactly one error line matching `message`, no stack trace. */
function expectRefused(r: ReturnType<typeof run>, message: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.errors, r.stderr).toHaveLength(1);
  expect(r.errors[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/unexpected error|\n\s+at .+:\d+:\d+/);
}

/** Every file under `root`, recursively, relative to it. */
const listing = (root: string): string[] => readdirSync(root, { recursive: true, encoding: 'utf8' }).sort();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twotower-write-'));
  const lines = ['userId,movieId,rating,timestamp'];
  let t = 0;
  for (let u = 1; u <= 40; u++)
    for (let k = 0; k < 15; k++) lines.push(`u${u},m${1 + ((u * 7 + k * 3) % 30)},${1 + ((u + k) % 5)},${t++}`);
  write('train.csv', lines.join('\n') + '\n');
  const items = ['movieId,genres,year'];
  for (let i = 1; i <= 30; i++) items.push(`m${i},${['Drama', 'Comedy|Drama', 'Action'][i % 3]},${1980 + (i % 20)}`);
  write('items.csv', items.join('\n') + '\n');
  write('items2.csv', [...items, 'n1,Comedy,1999', 'n2,Western|Drama,2001'].join('\n') + '\n');
  write('new.csv', ['userId,movieId,rating,timestamp', 'u1,m2,4,9000', 'fresh,m3,5,9001', 'u2,n1,3,9002'].join('\n') + '\n');
  const r = run([
    'train',
    '--data',
    path('train.csv'),
    '--items',
    path('items.csv'),
    '--epochs',
    '1',
    '--out',
    path('model.ttm'),
  ]);
  expect(r.code, r.stderr).toBe(0);
});

describe('saveModel: concurrent saves to one path', () => {
  let model: Model;
  beforeAll(async () => {
    model = await createModel({ ...tinyConfig(), ratingRange: [1, 5] }, tinyFeatures());
    model.fit(tinyBatch(200, 8), { epochs: 1, batchSize: 32 });
  });

  it('leave one whole model, the last renamed, and every save succeeds', async () => {
    const file = path('raced.ttm');
    for (let round = 0; round < 12; round++) {
      const expected: Buffer[] = [];
      const saves: Promise<void>[] = [];
      for (let k = 0; k < 4; k++) {
        // Different lengths: a shorter file written over a longer one leaves the longer one's tail.
        model.metadata = { round, k, pad: 'x'.repeat(60_000 - 13_000 * k) };
        expected.push(Buffer.from(model.toBytes()));
        saves.push(saveModel(file, model));
      }
      const settled = await Promise.allSettled(saves);
      expect(
        settled.map((s) => s.status),
        `round ${round}: ${settled.map((s) => (s.status === 'rejected' ? String(s.reason) : 'ok')).join('; ')}`,
      ).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      const bytes = readFileSync(file);
      expect(
        expected.some((e) => e.equals(bytes)),
        `round ${round}: the file is one of the saves, whole`,
      ).toBe(true);
      (await loadModelFile(file)).dispose();
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  });

  it('removes the temporaries of saves whose process is gone, and keeps a live one', async () => {
    const sub = path('stale');
    mkdirSync(sub);
    const dead = join(sub, '.m.ttm.999999.5f3a9c0e21b4.tmp');
    const deadOld = join(sub, '.m.ttm.999998.1700000000000.tmp');
    const live = join(sub, `.m.ttm.${process.pid}.0a1b2c3d4e5f.tmp`);
    for (const p of [dead, deadOld, live]) writeFileSync(p, 'half a model');
    await saveModel(join(sub, 'm.ttm'), model);
    expect(listing(sub)).toEqual([`.m.ttm.${process.pid}.0a1b2c3d4e5f.tmp`, 'm.ttm']);
  });
});

describe('no command writes over its own input', () => {
  const unchanged = (files: string[], run: () => void) => {
    const before = files.map((f) => readFileSync(f));
    run();
    files.forEach((f, i) => expect(readFileSync(f).equals(before[i]!), `${f} unchanged`).toBe(true));
  };

  it('update --out naming --data or --items (also relative, or through a symbolic link) is refused', () => {
    const inputs = [path('model.ttm'), path('new.csv'), path('items2.csv')];
    symlinkSync(path('items2.csv'), path('items-link.csv'));
    const base = ['update', '--model', path('model.ttm'), '--data', path('new.csv'), '--items', path('items2.csv')];
    unchanged(inputs, () => {
      expectRefused(
        run([...base, '--out', path('new.csv')]),
        /--out .*new\.csv is --data \(.*new\.csv\): writing the model there would destroy it/,
      );
      expectRefused(run([...base, '--out', 'items2.csv'], { cwd: dir }), /--out items2\.csv is --items \(.*items2\.csv\)/);
      expectRefused(run([...base, '--out', path('items-link.csv')]), /--out .*items-link\.csv is --items/);
    });
  });

  it('add-items --out naming --items is refused', () => {
    unchanged([path('model.ttm'), path('items2.csv')], () => {
      const r = run(['add-items', '--model', path('model.ttm'), '--items', path('items2.csv'), '--out', path('items2.csv')]);
      expectRefused(r, /--out .*items2\.csv is --items \(.*items2\.csv\): writing the model there would destroy it/);
    });
  });

  it('update --out naming the model itself replaces it with the updated model', () => {
    const copy = path('inplace.ttm');
    writeFileSync(copy, readFileSync(path('model.ttm')));
    const r = run(['update', '--model', copy, '--data', path('new.csv'), '--items', path('items2.csv'), '--out', copy]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(copy).equals(readFileSync(path('model.ttm')))).toBe(false);
  });

  it('export into the folder holding the model under an export’s name is refused, naming both', () => {
    for (const [format, name] of [
      ['jsonl', 'items.jsonl'],
      ['npy', 'users.ids.txt'],
      ['onnx', 'item_tower.onnx'],
    ] as const) {
      const folder = path('holds-model', format);
      mkdirSync(folder, { recursive: true });
      const model = join(folder, name);
      writeFileSync(model, readFileSync(path('model.ttm')));
      unchanged([model], () => {
        const r = run(['export', '--model', model, '--out', folder, '--format', format]);
        expectRefused(
          r,
          new RegExp(`--out .*holds-model/${format} would write ${name.replace('.', '\\.')} there, which is --model \\(.*\\)`),
        );
      });
      expect(listing(folder)).toEqual([name]);
    }
  });
});

describe('export: a write that fails says so in one line, exits 1 and leaves nothing behind', () => {
  const exportTo = (out: string, options: { limitBlocks?: number } = {}) =>
    run(['export', '--model', path('model.ttm'), '--out', out], options);

  it('an empty --out', () => {
    expectRefused(exportTo(''), /--out is empty: give the directory/);
  });

  it('an --out under a regular file (a folder that cannot be made)', () => {
    write('plain', 'not a folder');
    expectRefused(
      exportTo(path('plain', 'vectors')),
      /could not make the directory .*plain\/vectors: a part of the path is a file, not a directory/,
    );
    expect(readFileSync(path('plain'), 'utf8')).toBe('not a folder');
  });

  it('an export file too large for what the process may write (as on a full disk)', () => {
    const fresh = path('too-large');
    expectRefused(exportTo(fresh, { limitBlocks: 4 }), /could not write .*too-large\/users\.jsonl: .*too large/);
    expect(existsSync(fresh), 'the folder the export made is removed').toBe(false);
    const kept = path('kept');
    mkdirSync(kept);
    writeFileSync(join(kept, 'users.jsonl'), 'an older export');
    expectRefused(exportTo(kept, { limitBlocks: 4 }), /could not write .*kept\/users\.jsonl/);
    expect(listing(kept)).toEqual(['users.jsonl']);
    expect(readFileSync(join(kept, 'users.jsonl'), 'utf8')).toBe('an older export');
  });

  it('a file name in --out taken by a folder', () => {
    const taken = path('taken');
    mkdirSync(join(taken, 'items.jsonl'), { recursive: true });
    expectRefused(exportTo(taken), /--out .*taken: .*items\.jsonl is a directory/);
    expect(listing(taken)).toEqual(['items.jsonl']);
  });

  // As root, permissions do not stop writes: the export runs as nobody (setpriv, from util-linux).
  const canDropRoot = process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status === 0;
  it.skipIf(!canDropRoot)('a folder this user may not write to (as root: run as nobody)', () => {
    const locked = path('locked');
    mkdirSync(locked);
    // nobody reads the model through the test folder, and may not write into `locked`.
    chmodSync(dir, 0o755);
    chmodSync(path('model.ttm'), 0o644);
    chmodSync(locked, 0o555);
    const r = run(['export', '--model', path('model.ttm'), '--out', locked], { unprivileged: true });
    expectRefused(r, /could not write .*locked\/users\.jsonl: permission denied/);
    expect(listing(locked)).toEqual([]);
  });
});

// Model files: a saved model predicts exactly as before; bad files are refused with a reason;
// saving is atomic.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createModel, loadModel, Vocabulary, FORMAT_VERSION, type Model } from '../src/index.js';
import { saveModel, loadModelFile } from '../src/node/index.js';
import { tinyConfig, tinyFeatures, tinyBatch } from './fixtures.js';
import { ReferenceBackend } from '../src/reference/backend.js';

let model: Model;
let bytes: Uint8Array;
let dir = '';
const users = [0, 1, 2, 3, 4, 5, 6],
  items = [8, 7, 6, 5, 4, 3, 2];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twotower-model-'));
  model = await createModel({ ...tinyConfig(), ratingRange: [1, 5] }, tinyFeatures());
  model.fit(tinyBatch(300, 8), { epochs: 3, batchSize: 32 });
  const vocab = new Vocabulary();
  ['a', 'b', 'c', 'd', 'e', 'f'].forEach((k) => vocab.add(k));
  model.setVocabularies({ users: vocab.freeze() });
  model.metadata = { trainedOn: 'tiny' };
  bytes = model.toBytes();
});

describe('model files', () => {
  it('round-trip: identical parameters, predictions, vocabularies, metadata and step count', async () => {
    const back = await loadModel(bytes);
    expect(back.parameters()).toEqual(model.parameters());
    expect(back.rows.predict(users, items)).toEqual(model.rows.predict(users, items));
    expect(back.vocabularies.users!.lookup('c')).toBe(3);
    expect(back.metadata).toEqual({ trainedOn: 'tiny' });
    expect(back.optimizerSteps).toBe(model.optimizerSteps);
    expect(back.config.ratingRange).toEqual([1, 5]);
    back.dispose();
  });

  it('loading draws no initial values (every block comes from the file) and gives the file’s values bit for bit', async () => {
    const backend = new ReferenceBackend();
    const draws: string[] = [];
    const kernels = backend.kernels as unknown as Record<string, (...args: number[]) => unknown>;
    for (const name of ['random_normal_f32', 'random_uniform_f32']) {
      const kernel = kernels[name]!;
      kernels[name] = (...args: number[]) => (draws.push(name), kernel(...args));
    }
    const back = await loadModel(bytes, { backend });
    expect(draws).toEqual([]);
    const saved = model.parameters();
    for (const [name, values] of Object.entries(back.parameters())) expect(values, name).toEqual(saved[name]);
    back.dispose();
    // The same backend draws when a model is created: the count above could have been non-zero.
    (await createModel(tinyConfig(), { backend, ...tinyFeatures() })).dispose();
    expect(draws.length).toBeGreaterThan(0);
  });

  it('a truncated file says so', async () => {
    await expect(loadModel(bytes.subarray(0, bytes.length - 100), { name: 'm.ttm' })).rejects.toThrow(
      /m\.ttm is truncated: expected \d+ bytes, found \d+/,
    );
    await expect(loadModel(bytes.subarray(0, 30), { name: 'm.ttm' })).rejects.toThrow(/m\.ttm is truncated/);
  });

  it('a flipped byte fails the checksum', async () => {
    const bad = Uint8Array.from(bytes);
    bad[bad.length - 50]! ^= 0x10;
    await expect(loadModel(bad, { name: 'm.ttm' })).rejects.toThrow(/m\.ttm is corrupted: checksum [0-9a-f]+ does not match/);
  });

  it('a newer format version asks for an upgrade', async () => {
    const newer = Uint8Array.from(bytes);
    new DataView(newer.buffer).setUint32(8, FORMAT_VERSION + 1, true);
    await expect(loadModel(newer, { name: 'm.ttm' })).rejects.toThrow(
      new RegExp(`format version ${FORMAT_VERSION + 1}, newer than this twotower reads \\(${FORMAT_VERSION}\\)`),
    );
  });

  it('something else entirely is not a model file', async () => {
    await expect(loadModel(new TextEncoder().encode('userId,movieId,rating\n1,2,3\n'), { name: 'ratings.csv' })).rejects.toThrow(
      /ratings\.csv is not a twotower model file/,
    );
  });

  it('saves atomically: a failed save leaves the old file intact and no temporary behind', async () => {
    const path = join(dir, 'model.ttm');
    await saveModel(path, model);
    expect((await loadModelFile(path)).rows.predict(users, items)).toEqual(model.rows.predict(users, items));
    const before = readFileSync(path);
    writeFileSync(join(dir, 'blocker'), 'x');
    await expect(saveModel(join(dir, 'blocker', 'model.ttm'), model)).rejects.toThrow(/could not write the model to/);
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'missing.ttm'))).toBe(false);
    await expect(loadModelFile(join(dir, 'missing.ttm'))).rejects.toThrow(/missing\.ttm: no such model file/);
  });
});

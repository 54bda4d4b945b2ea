// Errors carry structured details beside the message (issue 22: 4): programs read error.details
// (the id, the file, line and field, the option path) instead of parsing the message.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, TwoTowerError, loadModel, parseEvents, train, type Model } from '../src/index.js';
import { loadRatingsFile, saveModel } from '../src/node/index.js';

/** The TwoTowerError `run` throws (or rejects with). */
async function caught(run: () => unknown): Promise<TwoTowerError> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  expect(error, 'should throw').toBeInstanceOf(TwoTowerError);
  return error as TwoTowerError;
}

async function expectDetails(run: () => unknown, code: string, details: object): Promise<TwoTowerError> {
  const error = await caught(run);
  expect(error.code).toBe(code);
  expect(error.details).toMatchObject(details);
  // Plain JSON data: serialises, and reads back the same.
  expect(JSON.parse(JSON.stringify(error.details))).toEqual(error.details);
  return error;
}

let model: Model;
let dir: string;

beforeAll(async () => {
  model = await train(
    Array.from({ length: 40 }, (_, i) => ({ user: `u${i % 8}`, item: `i${i % 5}`, rating: 1 + (i % 5) })),
    { epochs: 1 },
  );
  dir = mkdtempSync(join(tmpdir(), 'twotower-details-'));
});

afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('error.details', () => {
  it('UNKNOWN_ID names the id and its side', async () => {
    await expectDetails(() => model.recommend('nobody'), 'UNKNOWN_ID', { id: 'nobody', side: 'user' });
    await expectDetails(() => model.predict('u1', 'no-such-item'), 'UNKNOWN_ID', { id: 'no-such-item', side: 'item' });
  });

  it('BAD_LINE names the file, line, field and value (parseEvents)', async () => {
    await expectDetails(() => parseEvents('user,item,rating\nu1,i1,4\nu2,i2,oops\n', { name: 'q.csv' }), 'BAD_LINE', {
      file: 'q.csv',
      line: 3,
      field: 'rating',
      value: 'oops',
      expected: 'a finite decimal number',
    });
    await expectDetails(() => parseEvents('a,b,1\nc,d\n', { name: 'f.csv' }), 'BAD_LINE', {
      file: 'f.csv',
      line: 2,
      expected: '3 fields',
    });
  });

  it('BAD_LINE from a file names the file, line, field and value (loadRatingsFile)', async () => {
    const path = join(dir, 'ratings.csv');
    writeFileSync(path, 'user,item,rating\nu1,i1,4\nu2,i2,4\nu3,i3,x5\n');
    await expectDetails(() => loadRatingsFile(path), 'BAD_LINE', { file: 'ratings.csv', line: 4, field: 'rating', value: 'x5' });
  });

  it('MISSING_COLUMN names the file and the column', async () => {
    await expectDetails(
      () => parseEvents('who,what,rating\na,b,1\n', { name: 'm.csv', columns: { user: 'customer' } }),
      'MISSING_COLUMN',
      { file: 'm.csv', field: 'customer' },
    );
  });

  it('BAD_OPTION names the option path, the value and what was expected', async () => {
    const data = { users: new Int32Array([0, 1]), items: new Int32Array([0, 1]), ratings: new Float32Array([1, 2]) };
    await expectDetails(() => model.fit(data, { epochs: 0 }), 'BAD_OPTION', {
      option: 'options.epochs',
      value: 0,
      expected: 'an integer ≥ 1',
    });
    await expectDetails(
      () => model.fit(data, { validationFraction: 0.2, earlyStopping: { restoreBest: 'yes' as unknown as boolean } }),
      'BAD_OPTION',
      { option: 'options.earlyStopping.restoreBest', value: 'yes', expected: 'true or false' },
    );
  });

  it('BAD_INPUT for an id names its position and value', async () => {
    const events = [
      { user: 'a', item: 'x', rating: 1 },
      { user: 'b', item: 'y', rating: 2 },
      { user: Number.NaN, item: 'z', rating: 3 },
    ];
    await expectDetails(() => train(events), 'BAD_INPUT', {
      index: 2,
      value: 'NaN',
      expected: 'a non-empty string or a finite number',
    });
    await expectDetails(() => model.recommend('u1', { exclude: ['i1', ''] }), 'BAD_INPUT', { index: 1, value: '' });
  });

  it('BAD_MODEL_FILE names the header field', async () => {
    await expectDetails(() => loadModel(new Uint8Array(40)), 'BAD_MODEL_FILE', { file: 'model file', field: 'magic' });
    const bytes = model.toBytes();
    bytes[bytes.length - 10]! ^= 0xff;
    await expectDetails(() => loadModel(bytes, { name: 'm.tt' }), 'BAD_MODEL_FILE', { file: 'm.tt', field: 'checksum' });
  });

  it('WRITE_FAILED names the file', async () => {
    const path = join(dir, 'no-such-directory', 'model.tt');
    await expectDetails(() => saveModel(path, model), 'WRITE_FAILED', { file: path });
  });

  it('every TwoTowerError has a details object, empty where nothing applies', async () => {
    for (const code of ERROR_CODES) expect(new TwoTowerError(code, 'x').details).toEqual({});
    const error = await caught(() => model.recommend('u1', { k: -1 }));
    expect(typeof error.details).toBe('object');
    expect(error.details).not.toBeNull();
  });

  it('details are JSON data, their value bounded', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const long = 'x'.repeat(5000);
    for (const value of [10n, Symbol('s'), () => 1, cycle, long, { list: Array.from({ length: 1000 }, (_, i) => i) }]) {
      const details = new TwoTowerError('BAD_INPUT', 'x', { value, file: 'f', line: 1 }).details;
      const text = JSON.stringify(details);
      expect(JSON.parse(text)).toEqual(details);
      expect(text.length).toBeLessThan(400);
    }
    expect(new TwoTowerError('BAD_INPUT', 'x', { value: 10n }).details.value).toBe('10n');
    expect(new TwoTowerError('BAD_INPUT', 'x', { value: [1, 'a'] }).details.value).toEqual([1, 'a']);
    expect(new TwoTowerError('BAD_INPUT', 'x', { id: 'a', value: undefined }).details).toEqual({ id: 'a' });
  });

  it('the cause is kept beside the details', () => {
    const cause = new Error('inner');
    const error = new TwoTowerError('WRITE_FAILED', 'x', { file: 'f' }, { cause });
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ file: 'f' });
  });
});

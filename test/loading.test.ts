// Reading rating files: MovieLens 100K with its side files, MovieLens "latest" CSVs, and any
// delimited file (comma, tab, pipe, semicolon; header or not; CRLF or LF) by column mapping.
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadRatingsFile, loadDataset, detectFormat } from '../src/node/index.js';
import { ML100K, HAVE_ML100K } from './data.js';
import { hasQuoteByte } from '../src/node/fast-delimited.js';

let dir = '';
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twotower-load-'));
});

describe('delimited files', () => {
  it.each([
    ['comma, header, LF', 'userId,movieId,rating,timestamp\n1,10,4.5,100\n2,10,3,200\n1,20,5,300\n'],
    ['tab, no header, CRLF', '1\t10\t4.5\t100\r\n2\t10\t3\t200\r\n1\t20\t5\t300\r\n'],
    ['pipe, header with other names', 'user_id|item_id|rating|time\n1|10|4.5|100\n2|10|3|200\n1|20|5|300\n'],
    ['semicolon, no header, trailing blank lines', '1;10;4.5;100\n2;10;3;200\n1;20;5;300\n\n\n'],
  ])('reads %s', async (_label, text) => {
    const loaded = await loadRatingsFile(file(`r${Math.random()}.txt`, text), { format: 'csv' });
    expect(Array.from(loaded.data.ratings)).toEqual([4.5, 3, 5]);
    expect(Array.from(loaded.data.users)).toEqual([1, 2, 1]);
    expect(Array.from(loaded.data.items)).toEqual([1, 1, 2]);
    expect(Array.from(loaded.data.timestamps!)).toEqual([100, 200, 300]);
    expect(loaded.users.key(2)).toBe('2');
  });

  it('maps columns by header name and by index', async () => {
    const path = file('mapped.csv', 'when,who,score,what\n5,a,1,x\n6,b,2,y\n');
    const byName = await loadRatingsFile(path, { columns: { user: 'who', item: 'what', rating: 'score', time: 'when' } });
    expect(Array.from(byName.data.ratings)).toEqual([1, 2]);
    expect(byName.items.key(byName.data.items[1]!)).toBe('y');
    const noHeader = file('mapped2.csv', '5,a,1,x\n6,b,2,y\n');
    const byIndex = await loadRatingsFile(noHeader, { columns: { user: 1, item: 3, rating: 2, time: 0 } });
    expect(Array.from(byIndex.data.timestamps!)).toEqual([5, 6]);
    expect(byIndex.users.key(byIndex.data.users[0]!)).toBe('a');
  });

  it('handles quoted fields with the delimiter and newlines inside, keeping line numbers right', async () => {
    const path = file('quoted.csv', 'userId,movieId,rating\n1,"a, b",4\n2,"multi\nline",3\n3,c,x\n');
    await expect(loadRatingsFile(path)).rejects.toThrow(
      /quoted\.csv:5: field "rating" \(column 3\) is "x", not a finite decimal number/,
    );
  });

  it('streams a large file without holding it as text (500,000 lines)', async () => {
    const lines = Array.from({ length: 500_000 }, (_, i) => `${i % 1000}\t${i % 777}\t${1 + (i % 5)}\t${i}`);
    const path = file('big.tsv', lines.join('\n') + '\n');
    const loaded = await loadRatingsFile(path, { format: 'csv' });
    expect(loaded.data.users.length).toBe(500_000);
    expect(loaded.users.size - 1).toBe(1000);
    expect(loaded.data.ratings[499_999]).toBe(5);
  });

  it('detects MovieLens 100K by name and by its first line', () => {
    expect(detectFormat(file('u1.base', '1\t2\t3\t4\n'))).toBe('movielens');
    expect(detectFormat(file('x.tsv', '1\t2\t3\t881250949\n'))).toBe('movielens');
    expect(detectFormat(file('ratings.csv', 'userId,movieId,rating,timestamp\n'))).toBe('csv');
  });
});

describe('MovieLens "latest" CSVs', () => {
  it('finds movies.csv beside ratings.csv and encodes quoted titles and A|B genres', async () => {
    const sub = mkdtempSync(join(dir, 'latest-'));
    writeFileSync(
      join(sub, 'ratings.csv'),
      'userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n2,1,5.0,964982224\n',
    );
    writeFileSync(
      join(sub, 'movies.csv'),
      'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children\n' +
        '3,"Grumpier Old Men, The (1995)",Comedy|Romance\n5,Father of the Bride Part II (1995),(no genres listed)\n',
    );
    const ds = await loadDataset({ data: join(sub, 'ratings.csv') });
    expect(ds.notes.join('\n')).toMatch(/item features from MovieLens movies\.csv: genres, year, title/);
    expect(ds.items.size - 1).toBe(3);
    const genres = ds.itemSide!.table.columns.genres as { offsets: Int32Array; ids: Int32Array };
    const movie3 = ds.items.lookup('3');
    expect(genres.offsets[movie3 + 1]! - genres.offsets[movie3]!).toBe(2);
    const movie5 = ds.items.lookup('5');
    expect(genres.offsets[movie5 + 1]! - genres.offsets[movie5]!).toBe(0);
  });
});

describe.skipIf(!HAVE_ML100K)('MovieLens 100K', () => {
  it('loads u1.base with u.user and u.item found beside it (Latin-1 titles)', async () => {
    const ds = await loadDataset({ data: join(ML100K, 'u1.base'), test: join(ML100K, 'u1.test') });
    expect(ds.train.users.length).toBe(80_000);
    expect(ds.test!.users.length).toBe(20_000);
    expect(ds.users.size - 1).toBe(943);
    expect(ds.items.size - 1).toBe(1682);
    expect(ds.notes.join('\n')).toMatch(/user features from MovieLens 100K u\.user: age, gender, occupation/);
    expect(ds.notes.join('\n')).toMatch(/item features from MovieLens 100K u\.item: genres, year, title/);
    const userFeatures = ds.userSide!.table.columns;
    const first = ds.users.lookup('1'); // 24|M|technician: age bucket (18–25 → 2), gender M
    expect((userFeatures.age as Int32Array)[first]).toBe(2);
    const genres = ds.itemSide!.table.columns.genres as { offsets: Int32Array; ids: Int32Array };
    const toyStory = ds.items.lookup('1'); // Animation, Children's, Comedy: flags 3, 4, 5
    expect(Array.from(genres.ids.subarray(genres.offsets[toyStory]!, genres.offsets[toyStory + 1]!))).toEqual([3, 4, 5]);
  });
});

describe('the fast path for plain files', () => {
  // Fields the fast path parses from bytes (canonical integers, plain decimals) and fields it must
  // hand to the text path (leading zeros, signs, exponents, padding, string ids, empty values).
  const id = fc.oneof(
    fc.nat({ max: 40 }).map(String),
    fc.constantFrom('007', '7', '0', '00', 'sku-1', 'é', ' 3', '1e2', '12345678901234567890'),
  );
  const num = fc.oneof(
    fc.integer({ min: -50, max: 50 }).map(String),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => String(Math.round(x * 1000) / 1000)),
    fc.constantFrom('4.5', '.5', '5.', '-0', '+3', '1e3', ' 2 ', '0.1', '3.14159265358979', 'abc', '', 'Infinity'),
  );
  const line = fc.tuple(id, id, num, num).map((f) => f.join(','));
  const file = fc.record({
    lines: fc.array(fc.oneof({ weight: 8, arbitrary: line }, { weight: 1, arbitrary: fc.constantFrom('', '  ', '1,2,3') }), {
      minLength: 1,
      maxLength: 30,
    }),
    crlf: fc.boolean(),
    bom: fc.boolean(),
    finalNewline: fc.boolean(),
  });

  it('gives what the full CSV parser gives: the same rows, ids, values, line numbers and errors', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(file, async ({ lines, crlf, bom, finalNewline }) => {
        const eol = crlf ? '\r\n' : '\n';
        const body = lines.join(eol) + (finalNewline ? eol : '');
        const plain = `${bom ? '\uFEFF' : ''}user,item,rating,time${eol}${body}`;
        // A quote in the header sends the same rows through csv-parse.
        const quoted = `${bom ? '\uFEFF' : ''}"user",item,rating,time${eol}${body}`;
        const outcome = async (text: string) => {
          try {
            const r = await loadRatingsFile(file_(text, 'events.csv'), { format: 'csv' });
            return { data: r.data, users: r.users.toJSON(), items: r.items.toJSON() };
          } catch (error) {
            return { error: (error as Error).message };
          }
        };
        runs++;
        // The switch between the paths: no quote byte (and a one-character delimiter) takes the fast one.
        expect(hasQuoteByte(file_(plain))).toBe(false);
        expect(await outcome(plain)).toEqual(await outcome(quoted));
      }),
      { numRuns: 300, seed: 11 },
    );
    expect(runs).toBe(300);
  });

  it('reads chunk boundaries, long lines and a last line without a newline', async () => {
    // 300,000 rows: the file spans chunks of 4 MiB, so lines straddle chunk ends.
    const rows = Array.from({ length: 300_000 }, (_, i) => `${i % 977},${(i * 31) % 1013},${(i % 9) / 2 + 0.5},${i}`);
    rows.push(`${'9'.repeat(9)},${'x'.repeat(5_000_000)},1,1`); // one line longer than a chunk
    const loaded = await loadRatingsFile(file_(rows.join('\n')), { format: 'csv', header: false });
    expect(loaded.data.users.length).toBe(300_001);
    expect(loaded.data.timestamps![299_999]).toBe(299_999);
    expect(loaded.data.ratings[12]).toBe((12 % 9) / 2 + 0.5);
    expect(loaded.items.key(loaded.data.items[300_000]!)).toBe('x'.repeat(5_000_000));
  });
});

/** A new file holding `text` (under its own folder when named, so messages name it alike). */
function file_(text: string, name?: string): string {
  const path = name ? join(mkdtempSync(join(dir, 'f')), name) : join(dir, `p${Math.random()}.csv`);
  writeFileSync(path, text);
  return path;
}

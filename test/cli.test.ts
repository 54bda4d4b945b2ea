// The `twotower` command line, run as a user would (node dist/cli.js): results as JSON on the
// last line of stdout, and for bad input a message naming file, line and field, exit code 1,
// and nothing written at --out.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { generateSynthetic, loadBundle } from '../src/index.js';
import { ML100K, HAVE_ML100K } from './data.js';

const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.js');
let dir = '';
const path = (name: string) => join(dir, name);
const write = (name: string, text: string) => (writeFileSync(path(name), text), path(name));

/** The items a user has in train.csv. */
const trainItemsOf = (user: string) =>
  new Set(
    readFileSync(path('train.csv'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${user},`))
      .map((l) => l.split(',')[1]),
  );

/** `twotower train` on the fixture's train.csv, scored on its test.csv, then `flags`. */
function trainOnFixture(...flags: string[]) {
  return run('train', '--data', path('train.csv'), '--test', path('test.csv'), ...flags);
}

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  const lines = r.stdout.trim().split('\n');
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: lines[lines.length - 1] ?? '' };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twotower-cli-'));
  const data = generateSynthetic({ users: 120, items: 80, ratingsPerUser: 30, seed: 4 });
  const csv = (d: typeof data.train) =>
    'userId,movieId,rating,timestamp\n' +
    Array.from(d.users, (u, i) => `u${u},m${d.items[i]},${d.ratings[i]!.toFixed(2)},${1000 + i}`).join('\n') +
    '\n';
  write('train.csv', csv(data.train));
  write('test.csv', csv(data.test));
});

describe('twotower train / eval', () => {
  it('trains, reports JSON on the last line, saves the model, and eval reproduces the RMSE', () => {
    const out = path('model.ttm');
    const r = run('train', '--data', path('train.csv'), '--test', path('test.csv'), '--epochs', '5', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.last);
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['rmse', 'mae', 'epochs', 'trainSeconds', 'users', 'items']));
    expect(result.users).toBe(120);
    expect(result.items).toBe(80);
    expect(result.rmse).toBeGreaterThan(0);
    expect(result.rmse).toBeLessThan(1.5);
    expect(existsSync(out)).toBe(true);
    const e = run('eval', '--model', out, '--data', path('test.csv'), '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.last).rmse).toBeCloseTo(result.rmse, 5);
  });

  it('without --test holds out a split and says so', () => {
    const r = run('train', '--data', path('train.csv'), '--epochs', '2', '--split', 'temporal', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no --test: holding out \d+ ratings \(temporal, 0\.2\) as the test set/);
    expect(JSON.parse(r.last).testRatings).toBeGreaterThan(0);
  });

  it('--threads 2 tunes the penalty with its candidates in worker threads, and saves the same model file as --threads 1', () => {
    const trained = (threads: string) => {
      const out = path(`tune-threads-${threads}.ttm`);
      const r = trainOnFixture('--epochs', '4', '--threads', threads, '--out', out, '--json');
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.last) as {
        tuning: { seconds: number }[];
        parallelCandidates?: number;
        sequentialReason?: string;
      };
      return { result, tuning: result.tuning.map(({ seconds: _, ...c }) => c), bytes: readFileSync(out) };
    };
    const one = trained('1'),
      two = trained('2');
    // One thread asks for no workers: the summary says nothing of them.
    expect(one.result.parallelCandidates).toBeUndefined();
    expect(two.result.parallelCandidates).toBe(2);
    expect(two.result.sequentialReason).toBeUndefined();
    expect(two.tuning).toEqual(one.tuning);
    expect(two.bytes.equals(one.bytes)).toBe(true);
  });
});

describe('twotower train --recipe best', () => {
  /** `train --recipe best` on the fixture with two towers and one autoencoder, then `extra` flags. */
  const trainBest = (epochs: string, ...extra: string[]) =>
    trainOnFixture('--recipe', 'best', '--seeds', '2', '--autorec-seeds', '1', '--epochs', epochs, ...extra, '--json');

  it('trains towers and autoencoders as one model, says its members and blend, and eval reproduces its RMSE', () => {
    const out = path('best.ttm');
    const r = trainBest('4', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.last);
    expect(result.recipe).toBe('best');
    expect(result.members.slice(0, 2).map((m: { family: string }) => m.family)).toEqual(['tower', 'tower']);
    expect(result.weights.reduce((s: number, w: number) => s + w, 0)).toBeCloseTo(1, 9);
    expect(result.validationRmse).toBeGreaterThan(0);
    const e = run('eval', '--model', out, '--data', path('test.csv'), '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.last).rmse).toBeCloseTo(result.rmse, 5);
    const wrong = run('train', '--data', path('train.csv'), '--seeds', '2');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/--seeds is for --recipe best/);
  });

  it('--threads 2 trains the members two at a time in worker threads, and saves the same model file as --threads 1', () => {
    const trained = (threads: string) => {
      const out = path(`best-threads-${threads}.ttm`);
      const r = trainBest('3', '--threads', threads, '--out', out);
      expect(r.code, r.stderr).toBe(0);
      return { result: JSON.parse(r.last), bytes: readFileSync(out) };
    };
    const one = trained('1'),
      two = trained('2');
    expect(one.result.parallelMembers).toBe(1);
    expect(one.result.sequentialReason).toBe('threads is 1');
    expect(two.result.parallelMembers).toBe(2);
    expect(two.result.rmse).toBe(one.result.rmse);
    expect(two.bytes.equals(one.bytes)).toBe(true);
  });

  it('for an implicit loss blends the tower with EASE and says the validation Recall@20', () => {
    const r = trainOnFixture('--loss', 'softmax', '--recipe', 'best', '--epochs', '3', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.last);
    expect(result.members[0].family).toBe('tower');
    expect(result.members.every((m: { family: string }) => m.family === 'tower' || m.family === 'ease')).toBe(true);
    expect(result.validationRecall).toBeGreaterThan(0);
    expect(result['recall@20']).toBeGreaterThan(0);
  });
});

describe('twotower train --family', () => {
  it('autorec trains the autoencoder on ratings and ease the closed form on events, each one model; a mismatched loss is refused', () => {
    const a = run('train', '--data', path('train.csv'), '--test', path('test.csv'), '--family', 'autorec', '--json');
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.last).rmse).toBeLessThan(1.5);
    const e = trainOnFixture('--family', 'ease', '--loss', 'softmax', '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.last)['recall@20']).toBeGreaterThan(0);
    const wrong = run('train', '--data', path('train.csv'), '--family', 'ease');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/--family ease ranks items from events/);
  });
});

describe('twotower train --hash-ids', () => {
  it('hashes ids into buckets instead of listing them', () => {
    const r = trainOnFixture('--hash-ids', '64', '--epochs', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.last);
    expect(result.hashBuckets).toBe(64);
    expect(result.users).toBe(64);
    expect(result.rmse).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/ids hashed into 64 buckets each/);
  });
});

describe('twotower train --loss softmax / recommend', () => {
  it('trains on implicit feedback, reports ranking metrics, and recommends unseen items', () => {
    const out = path('implicit.ttm');
    const r = trainOnFixture('--loss', 'softmax', '--epochs', '3', '--min-rating', '3', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.last);
    for (const key of ['recall@10', 'ndcg@10', 'recall@20', 'ndcg@20', 'mrr', 'coverage@20']) {
      expect(result[key], key).toBeGreaterThan(0);
      expect(result[key], key).toBeLessThanOrEqual(1);
    }
    expect(result.rmse).toBeUndefined();
    const rec = run('recommend', '--model', out, '--user', 'u3', '-k', '5', '--json');
    expect(rec.code, rec.stderr).toBe(0);
    const list = JSON.parse(rec.last);
    expect(list.user).toBe('u3');
    expect(list.items).toHaveLength(5);
    const seen = trainItemsOf('u3');
    for (const x of list.items) expect(seen.has(x.id)).toBe(false);
    const unknown = run('recommend', '--model', out, '--user', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/user id "nobody" is not in implicit\.ttm \(it knows 120 users\)/);
  });
});

describe('twotower recommend --history (cold start)', () => {
  it('serves a user the model has not seen from the items they interacted with', () => {
    const out = path('history.ttm');
    const r = run(
      'train',
      '--data',
      path('train.csv'),
      '--loss',
      'softmax',
      '--history',
      '20',
      '--epochs',
      '2',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const rec = run('recommend', '--model', out, '--user', 'newcomer', '--history', 'm1,m2,m3', '-k', '4', '--json');
    expect(rec.code, rec.stderr).toBe(0);
    const result = JSON.parse(rec.last);
    expect(result.coldStart).toBe(true);
    expect(result.items).toHaveLength(4);
    for (const x of result.items) expect(['m1', 'm2', 'm3']).not.toContain(x.id);
    const bad = run('recommend', '--model', out, '--history', 'm1,zzz');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--history: item id "zzz" is not in history\.ttm/);
  });

  it("recommend --explain prints each item's reasons in words, naming the user's own items; =numbers the shares; --json carries both", () => {
    const out = path('history.ttm');
    const mine = trainItemsOf('u3');
    const text = run('recommend', '--model', out, '--user', 'u3', '-k', '3', '--explain');
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).toMatch(/^\d\t\S+\t-?\d+\.\d{4}\t\S/);
      expect(line).not.toMatch(/why:|\bbias\b|\bid [+−]|\bhistory\b|embedding/);
    }
    // The user's own items, quoted (this model has no labels).
    const quoted = [...text.stdout.matchAll(/“([^”]+)”/g)].map((m) => m[1]);
    expect(quoted.length).toBeGreaterThan(0);
    for (const item of quoted) expect(mine.has(item)).toBe(true);
    const numbers = run('recommend', '--model', out, '--user', 'u3', '-k', '3', '--explain=numbers');
    expect(numbers.code, numbers.stderr).toBe(0);
    for (const line of numbers.stdout.trim().split('\n')) expect(line).toMatch(/^\d\t\S+\t-?\d+\.\d{4}\twhy: /);
    const named = [...numbers.stdout.matchAll(/had (\S+) [+−]/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(0);
    for (const item of named) expect(mine.has(item)).toBe(true);
    const json = JSON.parse(run('recommend', '--model', out, '--user', 'u3', '-k', '3', '--explain', '--json').last);
    for (const x of json.items) {
      expect(x.words).toEqual(x.explanation.words);
      expect(x.reasons.length).toBeGreaterThan(0);
      expect(x.explanation.user).toBe('u3');
      expect(x.explanation.because.length).toBeGreaterThan(0);
      for (const b of x.explanation.because) expect(mine.has(b.item)).toBe(true);
    }
    const cold = run('recommend', '--model', out, '--history', 'm1,m2', '--explain');
    expect(cold.code).toBe(1);
    expect(cold.stderr).toMatch(/--explain explains a known user/);
  });
});

describe('bad input: one clear line, exit code 1, nothing at --out', () => {
  const cases: [string, string, RegExp][] = [
    ['wrong field count', 'userId,movieId,rating\n1,2,3\n1,2\n', /bad\.csv:3: expected 3 fields, found 2/],
    [
      'rating not a number',
      'userId,movieId,rating\n1,2,3\n1,3,abc\n',
      /bad\.csv:3: field "rating" \(column 3\) is "abc", not a finite decimal number/,
    ],
    [
      'NaN rating',
      'userId,movieId,rating\n1,2,NaN\n',
      /bad\.csv:2: field "rating" \(column 3\) is "NaN", not a finite decimal number/,
    ],
    ['empty file', '', /bad\.csv: the file is empty/],
    [
      'missing column',
      'userId,movieId,stars_given\n1,2,3\n',
      /bad\.csv: no rating column \(header: userId, movieId, stars_given; name the columns with --user-col, --item-col, --rating-col/,
    ],
  ];
  it.each(cases)('%s', (_label, text, message) => {
    write('bad.csv', text);
    const out = path(`never-${Math.random()}.ttm`);
    const r = run('train', '--data', path('bad.csv'), '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^twotower: /m);
    expect(existsSync(out)).toBe(false);
  });

  it('an id in the ratings that the side file lacks', () => {
    write('users.csv', 'id,group\nu1,a\nu2,b\n');
    write('r.csv', 'userId,movieId,rating\nu1,m1,3\nu7,m1,4\n');
    const r = run('train', '--data', path('r.csv'), '--users', path('users.csv'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/r\.csv:3: user id "u7" is not in users\.csv/);
  });

  it('an unknown format or a bad number flag', () => {
    const r = run('train', '--data', path('train.csv'), '--format', 'xml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--format <format>' argument 'xml' is invalid\. Allowed choices are auto, movielens, csv/);
    const b = run('train', '--data', path('train.csv'), '--batch', '0');
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/--batch must be an integer ≥ 1, got "0"/);
  });

  it('a missing, truncated, corrupted or newer model file', () => {
    const good = readFileSync(path('model.ttm'));
    const variants: [string, Uint8Array, RegExp][] = [
      ['truncated.ttm', good.subarray(0, good.length - 10), /truncated\.ttm is truncated/],
      [
        'corrupt.ttm',
        Uint8Array.from(good, (b, i) => (i === good.length - 20 ? b ^ 1 : b)),
        /corrupt\.ttm is corrupted: checksum/,
      ],
      [
        'newer.ttm',
        Uint8Array.from(good, (b, i) => (i === 8 ? 99 : b)),
        /newer\.ttm has format version 99, newer than this twotower reads/,
      ],
    ];
    for (const [name, bytes, message] of variants) {
      writeFileSync(path(name), bytes);
      const r = run('eval', '--model', path(name), '--data', path('test.csv'));
      expect(r.code, name).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    const missing = run('eval', '--model', path('nope.ttm'), '--data', path('test.csv'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.ttm: no such model file/);
  });
});

describe('a corpus of user mistakes: one line naming the problem, exit 1, no stack trace, inputs untouched', () => {
  const ratings =
    'userId,movieId,rating\n' + Array.from({ length: 40 }, (_, i) => `u${i % 7},m${i % 11},${1 + (i % 5)}`).join('\n') + '\n';
  const cases: [string, () => string[], RegExp][] = [
    [
      'a directory as --data',
      () => (mkdirSync(path('adir'), { recursive: true }), ['train', '--data', path('adir')]),
      /adir is a directory, not a file/,
    ],
    [
      'a missing --test',
      () => ['train', '--data', write('ok.csv', ratings), '--test', path('nope.csv')],
      /nope\.csv: no such file/,
    ],
    [
      'gzip input',
      () => (writeFileSync(path('g.csv'), Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0)), ['train', '--data', path('g.csv')]),
      /g\.csv is gzip-compressed, not delimited text/,
    ],
    ['binary input', () => ['train', '--data', write('b.csv', 'user,item\x00\x01\x02')], /b\.csv is a binary file/],
    [
      'an unclosed quote, named where it opens',
      () => ['train', '--data', write('q.csv', ratings.replace('u3,m3,4', 'u3,"m3,4'))],
      /q\.csv:5: a quoted field opens here and is never closed/,
    ],
    [
      'a stray quote inside an unquoted field',
      () => ['train', '--data', write('s.csv', ratings.replace('u3,m3,4', 'u3,m"3,4'))],
      /s\.csv:5: .*[Qq]uote/,
    ],
    [
      'a hexadecimal rating',
      () => ['train', '--data', write('h.csv', ratings.replace('u3,m3,4', 'u3,m3,0x10'))],
      /h\.csv:5: field "rating" \(column 3\) is "0x10", not a finite decimal number/,
    ],
    [
      'a rating beyond float32',
      () => ['train', '--data', write('f.csv', ratings.replace('u3,m3,4', 'u3,m3,1e39'))],
      /f\.csv:5: field "rating" \(column 3\) is 1e39, beyond the float32 range/,
    ],
    [
      '--out naming the ratings file',
      () => ['train', '--data', write('same.csv', ratings), '--out', path('same.csv')],
      /--out .*same\.csv is --data .*writing the model there would destroy it/,
    ],
    ['an empty --out', () => ['train', '--data', write('ok.csv', ratings), '--out', ''], /--out is empty/],
    [
      'a file of one rating',
      () => ['train', '--data', write('one.csv', 'userId,movieId,rating\nu1,m1,3\n')],
      /one\.csv: \d training rating\(s\) after the test split, too few to train on/,
    ],
    [
      'a hashed vocabulary too large for memory',
      () => ['train', '--data', write('ok.csv', ratings), '--hash-ids', '100000000'],
      /OUT_OF_MEMORY|over|1 GiB/,
    ],
    [
      'a directory as --model',
      () => ['recommend', '--model', path('adir'), '--user', 'u1'],
      /adir is a directory, not a model file/,
    ],
    [
      'k far beyond any catalogue',
      () => ['recommend', '--model', path('model.ttm'), '--user', 'u1', '-k', '1000000000'],
      /k 1,000,000,000 = 1,000,000,000 result entries, over the limit/,
    ],
    [
      'a duplicated users-file column',
      () => [
        'train',
        '--data',
        write('r2.csv', ratings),
        '--users',
        write('dup.csv', 'id,age,age\nu0,1,2\nu1,1,2\nu2,1,2\nu3,1,2\nu4,1,2\nu5,1,2\nu6,1,2\n'),
      ],
      /dup\.csv:1: columns 2 and 3 are both named "age"/,
    ],
  ];
  it.each(cases)('%s', (_label, args, message) => {
    const argv = args();
    const inputs = argv
      .filter((a) => a.startsWith(dir) && existsSync(a) && !a.endsWith('adir'))
      .map((p) => [p, readFileSync(p)] as const);
    const r = run(...argv);
    expect(r.code, r.stderr).toBe(1);
    const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('twotower: '));
    expect(errorLines, r.stderr).toHaveLength(1);
    expect(errorLines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    for (const [p, before] of inputs) expect(readFileSync(p).equals(before), `${p} unchanged`).toBe(true);
  });

  it('a save killed mid-way leaves a temporary that the next save removes', () => {
    const abandoned = path('.keep.ttm.999999.1.tmp');
    writeFileSync(abandoned, 'half a model');
    const r = run('train', '--data', path('train.csv'), '--epochs', '1', '--out', path('keep.ttm'));
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(path('keep.ttm'))).toBe(true);
  });
});

describe('honest output', () => {
  it('eval reports what the model was trained for: ranking metrics for an implicit model, RMSE for a rating model', () => {
    const implicit = run('eval', '--model', path('implicit.ttm'), '--data', path('test.csv'), '--json');
    expect(implicit.code, implicit.stderr).toBe(0);
    const m = JSON.parse(implicit.last);
    expect(m.trainedWith).toBe('softmax');
    expect(m['recall@20']).toBeGreaterThan(0);
    expect(m.rmse).toBeUndefined();
    const both = JSON.parse(
      run('eval', '--model', path('implicit.ttm'), '--data', path('test.csv'), '--metrics', 'both', '--json').last,
    );
    expect(both.rmse).toBeGreaterThan(0);
    expect(both['recall@20']).toBe(m['recall@20']);
    const rating = JSON.parse(run('eval', '--model', path('model.ttm'), '--data', path('test.csv'), '--json').last);
    expect(rating.trainedWith).toBe('mse');
    expect(rating.rmse).toBeGreaterThan(0);
    expect(rating['recall@20']).toBeUndefined();
  });

  it("recommend on a rating model shows predict()'s rating, and hints at --history only where it applies", async () => {
    const rec = run('recommend', '--model', path('model.ttm'), '--user', 'u3', '-k', '3', '--json');
    expect(rec.code, rec.stderr).toBe(0);
    const shown = JSON.parse(rec.last);
    expect(shown.scoreKind).toBe('predicted rating');
    const { loadModelFile } = await import('../src/node/index.js');
    const model = await loadModelFile(path('model.ttm'));
    const { users, items } = model.vocabularies;
    const predicted = model.rows.predict(
      shown.items.map(() => users!.lookup('u3')),
      shown.items.map((x: { id: string }) => items!.lookup(x.id)),
    );
    shown.items.forEach((x: { score: number }, r: number) => expect(x.score).toBeCloseTo(predicted[r]!, 5));
    model.dispose();
    const unknown = run('recommend', '--model', path('model.ttm'), '--user', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/user id "nobody" is not in model\.ttm \(it knows \d+ users\)\n/);
    expect(unknown.stderr).not.toMatch(/--history/);
  });

  it('--threads 2 trains the same model as one thread and says how many it used; --table-optimizer is honoured', () => {
    const common = [
      'train',
      '--data',
      path('train.csv'),
      '--test',
      path('test.csv'),
      '--loss',
      'softmax',
      '--epochs',
      '2',
      '--json',
    ];
    const one = run(...common);
    const two = run(...common, '--threads', '2');
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toMatch(/trained on 2 of the 2 threads asked for/);
    const metrics = (r: { last: string }) => {
      const { seconds: _s, trainSeconds: _t, ...rest } = JSON.parse(r.last) as Record<string, unknown>;
      return rest;
    };
    expect(metrics(two)).toEqual(metrics(one));
    const adagrad = run(...common, '--table-optimizer', 'rowwiseAdagrad');
    expect(adagrad.code, adagrad.stderr).toBe(0);
    expect(metrics(adagrad)).not.toEqual(metrics(one));
    expect(run(...common, '--table-optimizer', 'lion').stderr).toMatch(
      /--table-optimizer.*lion.*Allowed choices are adam, sgd, lazyAdam, rowwiseAdagrad/,
    );
  });

  it('export writes a model’s embeddings for a vector database: JSON Lines, or .npy with the ids beside', () => {
    const dirJsonl = path('vectors-jsonl'),
      dirNpy = path('vectors-npy');
    const a = run('export', '--model', path('model.ttm'), '--out', dirJsonl, '--json');
    expect(a.code, a.stderr).toBe(0);
    const files = (
      JSON.parse(a.last) as { files: { side: string; file: string; count: number; dim: number; augmented: boolean }[] }
    ).files;
    expect(files.map((x) => x.side)).toEqual(['user', 'item']);
    for (const x of files) {
      expect(x.augmented).toBe(true); // the rating model has biases
      const lines = readFileSync(x.file, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(x.count);
      const first = JSON.parse(lines[0]!) as { id: string; vector: number[] };
      expect(first.vector).toHaveLength(x.dim);
    }
    const b = run(
      'export',
      '--model',
      path('model.ttm'),
      '--out',
      dirNpy,
      '--format',
      'npy',
      '--side',
      'item',
      '--no-augment',
      '--json',
    );
    expect(b.code, b.stderr).toBe(0);
    const item = (
      JSON.parse(b.last) as { files: { file: string; ids: string; count: number; dim: number; augmented: boolean }[] }
    ).files[0]!;
    expect(item.augmented).toBe(false);
    expect(readFileSync(item.ids, 'utf8').trimEnd().split('\n')).toHaveLength(item.count);
    expect(readFileSync(item.file).length).toBeGreaterThan(item.count * item.dim * 4);
    const onnx = run('export', '--model', path('model.ttm'), '--out', path('towers'), '--format', 'onnx', '--json');
    expect(onnx.code, onnx.stderr).toBe(0);
    const towers = (JSON.parse(onnx.last) as { files: { side: string; file: string; bytes: number }[] }).files;
    expect(towers.map((x) => x.side)).toEqual(['user', 'item']);
    for (const x of towers) expect(readFileSync(x.file).length).toBe(x.bytes);
    const bad = run('export', '--model', path('model.ttm'), '--out', path('train.csv'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--out .*train\.csv is a file: give a directory/);
  });

  it('--version prints the package version', () => {
    const r = run('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(resolve(import.meta.dirname, '..', 'package.json'), 'utf8')).version);
  });
});

describe('event logs and other formats', () => {
  const events = () => Array.from({ length: 300 }, (_, i) => [`u${i % 23}`, `i${(i * 7) % 41}`, `${1000 + i}`]);
  it('a click log with user_id,item_id,timestamp trains an implicit model, and eval reads it without ratings', () => {
    write(
      'clicks.csv',
      'user_id,item_id,timestamp\n' +
        events()
          .map((e) => e.join(','))
          .join('\n') +
        '\n',
    );
    const out = path('clicks.ttm');
    const r = run('train', '--data', path('clicks.csv'), '--loss', 'softmax', '--epochs', '2', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/events: clicks\.csv .* 300 events \(no rating column: each a positive\)/);
    expect(JSON.parse(r.last)['recall@20']).toBeGreaterThan(0);
    const e = run('eval', '--model', out, '--data', path('clicks.csv'), '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.last)['recall@20']).toBeGreaterThanOrEqual(0);
    // Without --loss an event log trains a retrieval model (issue 21, finding 9); squared error needs ratings.
    const rating = run('train', '--data', path('clicks.csv'), '--loss', 'mse', '--epochs', '1');
    expect(rating.code).toBe(1);
    expect(rating.stderr).toMatch(/clicks\.csv: no rating column/);
  });

  it('a headerless user,item file trains with bpr', () => {
    write(
      'pairs.csv',
      events()
        .map((e) => `${e[0]},${e[1]}`)
        .join('\n') + '\n',
    );
    const r = run('train', '--data', path('pairs.csv'), '--loss', 'bpr', '--epochs', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
  });

  it('"::"-separated files (MovieLens 1M and 10M) are sniffed, and --delimiter :: is accepted', () => {
    write(
      'ratings.dat',
      events()
        .map((e, i) => `${e[0]!.slice(1)}::${e[1]!.slice(1)}::${1 + (i % 5)}::${e[2]}`)
        .join('\n') + '\n',
    );
    for (const extra of [[], ['--delimiter', '::']]) {
      const r = run('train', '--data', path('ratings.dat'), '--epochs', '1', ...extra, '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/ratings: ratings\.dat \(delimited by "::"\), 300 ratings/);
    }
  });
});

describe('a confidence column', () => {
  it('a count column is found by name and used as weights; a negative count names its line', () => {
    const rows = Array.from({ length: 60 }, (_, i) => `u${i % 9},m${(i * 5) % 13},${1 + (i % 4)}`);
    write('plays.csv', 'user_id,item_id,count\n' + rows.join('\n') + '\n');
    const r = run('train', '--data', path('plays.csv'), '--loss', 'softmax', '--epochs', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    write('bad-plays.csv', 'user_id,item_id,count\n' + rows.slice(0, 5).join('\n') + '\nu1,m1,-2\n');
    const bad = run('train', '--data', path('bad-plays.csv'), '--loss', 'softmax');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad-plays\.csv:7: field "weight" \(column 3\) is -2: weights must be ≥ 0/);
  });
});

describe('twotower update / add-items', () => {
  it('update trains a saved model on new events, adds their users and items with features from --items, and writes a new file', () => {
    const lines = ['userId,movieId,rating,timestamp'];
    let t = 0;
    for (let u = 1; u <= 60; u++)
      for (let k = 0; k < 20; k++) lines.push(`u${u},m${1 + ((u * 7 + k * 3) % 40)},${1 + ((u + k) % 5)},${t++}`);
    write('upd-train.csv', lines.join('\n') + '\n');
    const items = ['movieId,genres,year'];
    for (let i = 1; i <= 40; i++) items.push(`m${i},${['Drama', 'Comedy|Drama', 'Action'][i % 3]},${1980 + (i % 20)}`);
    write('upd-items.csv', items.join('\n') + '\n');
    write('upd-items2.csv', [...items, 'n1,Comedy,1999', 'n2,Western|Drama,2001'].join('\n') + '\n');
    write(
      'upd-new.csv',
      [
        'userId,movieId,rating,timestamp',
        ...Array.from(
          { length: 60 },
          (_, k) => `${k % 2 ? `u${1 + k}` : `fresh${k % 3}`},${k % 4 ? `m${1 + (k % 40)}` : 'n1'},${1 + (k % 5)},${9000 + k}`,
        ),
      ].join('\n') + '\n',
    );
    const model = path('upd.ttm');
    expect(
      run('train', '--data', path('upd-train.csv'), '--items', path('upd-items.csv'), '--epochs', '2', '--out', model, '--json')
        .code,
    ).toBe(0);
    const before = readFileSync(model);
    const r = run(
      'update',
      '--model',
      model,
      '--data',
      path('upd-new.csv'),
      '--items',
      path('upd-items2.csv'),
      '--out',
      path('upd2.ttm'),
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.last);
    expect(summary).toMatchObject({ events: 60, newUsers: 3, newItems: 1, epochs: 3, users: 63, items: 41 });
    expect(readFileSync(model).equals(before)).toBe(true); // the input model is not changed
    const rec = JSON.parse(run('recommend', '--model', path('upd2.ttm'), '--user', 'fresh0', '-k', '3', '--json').last);
    expect(rec.items).toHaveLength(3);
    // A new item in the events but in no items file: said, and given unknown features.
    const bare = run('update', '--model', model, '--data', path('upd-new.csv'), '--out', path('upd3.ttm'));
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stderr).toMatch(/1 new items and no items file \(--items\): they take the unknown value/);
    // add-items: the items file's new items, embedded from their features.
    const added = run('add-items', '--model', model, '--items', path('upd-items2.csv'), '--out', path('upd4.ttm'), '--json');
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.last)).toMatchObject({ added: 2, start: 'regressed', items: 42 });
    const again = run('add-items', '--model', model, '--items', path('upd-items.csv'), '--out', path('upd5.ttm'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/every item in it is already in upd\.ttm/);
    expect(existsSync(path('upd5.ttm'))).toBe(false);
  });
});

describe.skipIf(!HAVE_ML100K)('labels and serving bundles (MovieLens 100K u.item titles)', () => {
  it('train keeps u.item titles: recommend prints them beside the ids and --json carries `label`; export --format bundle writes a bundle that keeps them', async () => {
    const out = path('ml-labels.ttm');
    const t = run('train', '--data', join(ML100K, 'u1.base'), '--epochs', '3', '--out', out, '--json');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toContain('item labels: 1682 from MovieLens 100K u.item');
    const json = JSON.parse(run('recommend', '--model', out, '--user', '196', '-k', '5', '--json').last);
    expect(json.items).toHaveLength(5);
    for (const x of json.items) {
      expect(typeof x.id).toBe('string');
      expect(x.label).toMatch(/\(\d{4}\)$/); // every ML-100K title ends in its year
    }
    const text = run('recommend', '--model', out, '--user', '196', '-k', '5');
    const first = text.stdout.trim().split('\n')[0]!.split('\t');
    expect(first.slice(0, 2)).toEqual(['1', json.items[0].id]);
    expect(first[3]).toBe(json.items[0].label);
    // --explain: reasons in words, the user's items by title, never an id where a title exists.
    const why = run('recommend', '--model', out, '--user', '196', '-k', '5', '--explain');
    expect(why.code, why.stderr).toBe(0);
    const rows = why.stdout.trim().split('\n');
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      const words = row.split('\t')[4]!;
      expect(words).not.toMatch(/\b(bias|raters|rated|genres|year|title|age|gender|occupation) [+−]|embedding|why:/);
      for (const [, title] of words.matchAll(/“([^”]+)”/g)) expect(title).toMatch(/\(\d{4}\)$/);
    }
    expect(why.stdout).toMatch(/Because you rated “[^”]+ \(\d{4}\)”/);
    const file = path('ml.bundle');
    const e = run('export', '--model', out, '--format', 'bundle', '--out', file, '--json');
    expect(e.code, e.stderr).toBe(0);
    const written = JSON.parse(e.last);
    expect(written).toMatchObject({ format: 'bundle', file, items: 'int8', users: false });
    expect(written.bytes / written.modelBytes).toBeLessThanOrEqual(0.35);
    const bundle = await loadBundle(readFileSync(file));
    expect(bundle.label('50')).toBe('Star Wars (1977)');
    expect(bundle.userCount).toBe(1);
    bundle.dispose();
    const f32 = run(
      'export',
      '--model',
      out,
      '--format',
      'bundle',
      '--items',
      'f32',
      '--users',
      '--out',
      path('ml-f32.bundle'),
      '--json',
    );
    expect(JSON.parse(f32.last)).toMatchObject({ items: 'f32', users: true });
    const wrong = run('export', '--model', out, '--format', 'jsonl', '--items', 'f32', '--out', path('vectors'));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('--items and --users are options of --format bundle');
  });
});

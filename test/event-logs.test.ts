// Event logs as they are published, run through the command line as a new user would (node
// dist/cli.js): the Last.fm log (`userID\tartistID\tweight`) trains a retrieval model without a
// flag and says what it inferred, never speaking of RMSE or ratings; a log that needed column
// flags is updated and evaluated the way it was trained; side files are found by what they
// contain; train and eval name their metrics alike.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { Random } from '../src/util/random.js';
import { loadModelFile } from '../src/node/index.js';

const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.js');
let dir = '';
const path = (...names: string[]) => join(dir, ...names);
const write = (name: string, lines: string[]) => (writeFileSync(path(name), lines.join('\n') + '\n'), path(name));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  const lines = r.stdout.trim().split('\n');
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: lines[lines.length - 1] ?? '' };
}

/** Listening counts shaped like Last.fm's user_artists.dat: users 2…, artists in taste clusters, heavy-tailed plays. */
function listens(users: number, seed: number): [number, number, number][] {
  const random = new Random(seed);
  const rows: [number, number, number][] = [];
  for (let u = 2; u < 2 + users; u++) {
    const cluster = u % 4;
    const seen = new Set<number>();
    for (let k = 0; k < 12; k++) {
      const artist = random.next() < 0.8 ? 51 + cluster * 15 + random.int(15) : 51 + random.int(60);
      if (seen.has(artist)) continue;
      seen.add(artist);
      rows.push([u, artist, 1 + Math.floor(Math.exp(random.next() * 9))]);
    }
  }
  return rows;
}

/** Metric keys of a JSON summary (names with an @k, and mrr / auc). */
const metricKeys = (summary: Record<string, unknown>) =>
  Object.keys(summary)
    .filter((k) => /@\d+$|^(mrr|auc)$/.test(k))
    .sort();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twotower-logs-'));
  mkdirSync(path('lastfm'));
  write('lastfm/user_artists.dat', ['userID\tartistID\tweight', ...listens(80, 1).map((r) => r.join('\t'))]);
});

describe('the Last.fm log as published (issue 21, finding 9)', () => {
  it('trains a retrieval model without flags: the item column and the confidence column are said, and nothing speaks of RMSE or ratings', () => {
    const data = path('lastfm', 'user_artists.dat');
    const text = run('train', '--data', data, '--epochs', '3');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toMatch(/item column: "artistID"/);
    expect(text.stderr).toMatch(/no rating column.*retrieval model.*softmax/);
    expect(text.stderr).toMatch(/confidence: "weight"/);
    // stdout, progress lines and notes alike.
    expect(text.stdout + text.stderr).not.toMatch(/RMSE|ratings/i);
    expect(text.stdout).toMatch(/Recall@20/);
    const json = run('train', '--data', data, '--epochs', '3', '--out', path('lastfm.ttm'), '--json');
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.last) as Record<string, unknown>;
    expect(Object.keys(summary).join(' ')).not.toMatch(/rmse|mae|ratings/i);
    expect(summary).toMatchObject({ loss: 'softmax', users: 80 });
    expect(summary['recall@20']).toBeGreaterThan(0);
    expect(summary.trainEvents).toBeGreaterThan(0);
  });

  it('--item-col artistID alone is enough too: no squared error on play counts', () => {
    const r = run('train', '--data', path('lastfm', 'user_artists.dat'), '--item-col', 'artistID', '--epochs', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.last) as Record<string, unknown>;
    expect(summary.loss).toBe('softmax');
    expect(summary.rmse).toBeUndefined();
  });

  it('MovieLens-style files keep training ratings', () => {
    const random = new Random(3);
    const rows = Array.from({ length: 400 }, (_, i) => `${1 + (i % 30)},${1 + random.int(40)},${1 + random.int(5)},${1000 + i}`);
    const data = write('ml-style.csv', ['userId,movieId,rating,timestamp', ...rows]);
    const r = run('train', '--data', data, '--epochs', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.last) as Record<string, unknown>;
    expect(summary.loss).toBe('mse');
    expect(summary.rmse).toBeGreaterThan(0);
    expect(summary.trainRatings).toBeGreaterThan(0);
    expect(r.stderr).not.toMatch(/item column: /);
  });

  it('two id-like columns besides the user: refused, naming both and --item-col', () => {
    const data = write('tagged.tsv', ['userID\tartistID\ttagID', '2\t51\t7', '2\t52\t8', '3\t51\t9']);
    const r = run('train', '--data', data);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tagged\.tsv: no item column.*"artistID" and "tagID".*--item-col/);
  });

  it('--loss mse on a log without ratings still asks for the rating column', () => {
    const r = run('train', '--data', path('lastfm', 'user_artists.dat'), '--loss', 'mse');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/user_artists\.dat: no rating column.*--rating-col/);
  });
});

describe('update and eval read a log the way its training file was read (finding 10)', () => {
  it('columns named with flags in train are remembered by the model; update and eval take the flags too', async () => {
    const events = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => `v${(from + i) % 37},t${((from + i) * 7) % 29},${1 + (i % 9)}`);
    const train = write('visits.csv', ['visitor,thing,n', ...events(0, 600)]);
    const model = path('visits.ttm');
    const t = run(
      'train',
      '--data',
      train,
      '--user-col',
      'visitor',
      '--item-col',
      'thing',
      '--weight-col',
      'n',
      '--loss',
      'softmax',
      '--epochs',
      '2',
      '--out',
      model,
      '--json',
    );
    expect(t.code, t.stderr).toBe(0);
    const saved = await loadModelFile(model);
    expect(saved.metadata.read).toEqual({ columns: { user: 'visitor', item: 'thing', weight: 'n' } });
    saved.dispose();
    // The same kind of file, no flags: read as in training.
    const more = write('visits-more.csv', ['visitor,thing,n', ...events(600, 80), 'newcomer,t3,2']);
    const u = run('update', '--model', model, '--data', more, '--out', path('visits2.ttm'), '--json');
    expect(u.code, u.stderr).toBe(0);
    expect(JSON.parse(u.last)).toMatchObject({ events: 81, newUsers: 1 });
    expect(u.stderr).toMatch(/read as the model's training file was: --user-col visitor --item-col thing --weight-col n/);
    const e = run('eval', '--model', model, '--data', more, '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.last).rows).toBe(81);
    // Flags override: a file whose columns are named otherwise.
    const renamed = write('visits-renamed.tsv', ['who\twhat\tn', ...events(700, 40).map((l) => l.replaceAll(',', '\t'))]);
    const o = run(
      'update',
      '--model',
      model,
      '--data',
      renamed,
      '--user-col',
      'who',
      '--item-col',
      'what',
      '--delimiter',
      'tab',
      '--out',
      path('visits3.ttm'),
      '--json',
    );
    expect(o.code, o.stderr).toBe(0);
    expect(JSON.parse(o.last).events).toBe(40);
  });
});

describe('side files by content, and one set of metric names (finding 11)', () => {
  it('finds an items file and a users file beside the data by their headers, whatever the files are called', () => {
    mkdirSync(path('latest'));
    const random = new Random(5);
    const rows = Array.from({ length: 500 }, (_, i) => `${1 + (i % 40)},${1 + random.int(30)},${1 + random.int(5)},${2000 + i}`);
    const data = write('latest/train-events.csv', ['userId,movieId,rating,timestamp', ...rows]);
    const genres = ['Comedy', 'Drama|Romance', 'Action|Sci-Fi', 'Animation|Children'];
    write('latest/films.csv', [
      'movieId,title,genres',
      ...Array.from({ length: 30 }, (_, i) => `${i + 1},"Film ${i + 1}, The (${1980 + i})",${genres[i % 4]}`),
    ]);
    write('latest/people.csv', [
      'userId,age,gender',
      ...Array.from({ length: 40 }, (_, i) => `${i + 1},${18 + i},${i % 2 ? 'F' : 'M'}`),
    ]);
    // Neither of these describes one side: tags pair users with movies, links has no title or genres.
    write('latest/tags.csv', ['userId,movieId,tag,timestamp', '1,2,funny,5']);
    write('latest/links.csv', ['movieId,imdbId,tmdbId', '1,114709,862']);
    const r = run('train', '--data', data, '--epochs', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/item features from MovieLens films\.csv: genres, year, title/);
    expect(r.stderr).toMatch(/user features from people\.csv.*: age, gender/);
  });

  it('train --json and eval --json name the same metrics the same way', () => {
    const data = path('lastfm', 'user_artists.dat');
    const t = run(
      'train',
      '--data',
      data,
      '--item-col',
      'artistID',
      '--loss',
      'softmax',
      '--epochs',
      '1',
      '--out',
      path('names.ttm'),
      '--json',
    );
    expect(t.code, t.stderr).toBe(0);
    const e = run('eval', '--model', path('names.ttm'), '--data', data, '--item-col', 'artistID', '--json');
    expect(e.code, e.stderr).toBe(0);
    const trained = metricKeys(JSON.parse(t.last)),
      evaluated = metricKeys(JSON.parse(e.last));
    expect(evaluated).toContain('recall@10');
    expect(evaluated).toEqual(trained);
  });
});

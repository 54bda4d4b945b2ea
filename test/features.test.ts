// Vocabularies, declarative side features and splits.
import { describe, it, expect } from 'vitest';
import {
  Vocabulary,
  buildSideFeatures,
  randomHoldout,
  kFold,
  temporalPerUser,
  leaveLastOut,
  type RatingsData,
  type SideSource,
} from '../src/index.js';
import { Random } from '../src/util/random.js';

describe('Vocabulary', () => {
  it('maps keys to 1…n, unknown keys to the OOV bucket 0 once frozen, and round-trips through JSON', () => {
    const v = new Vocabulary();
    expect([v.add('a'), v.add('b'), v.add('a')]).toEqual([1, 2, 1]);
    expect(v.size).toBe(3);
    v.freeze();
    expect(v.add('c')).toBe(Vocabulary.OOV);
    expect(v.lookup('b')).toBe(2);
    const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v.toJSON())));
    expect(back.lookup('b')).toBe(2);
    expect(back.key(1)).toBe('a');
  });

  it('hashing mode sends every key to one of its buckets, deterministically', () => {
    const v = new Vocabulary('hash', 16);
    const keys = Array.from({ length: 100 }, (_, i) => `user${i}`);
    const indices = keys.map((k) => v.add(k));
    expect(indices.every((i) => i >= 0 && i < 16)).toBe(true);
    expect(new Set(indices).size).toBeGreaterThan(10);
    expect(keys.map((k) => v.lookup(k))).toEqual(indices);
    expect(v.size).toBe(16);
  });
});

describe('side features', () => {
  const source: SideSource = {
    file: 'people.csv',
    header: ['id', 'age', 'job', 'tags', 'bio', 'score', 'f1', 'f2'],
    rows: new Map([
      ['u1', { fields: ['u1', '23', 'writer', 'a|b', 'Loves old films', '10', '1', '0'], line: 2 }],
      ['u2', { fields: ['u2', '', 'coder', '', 'Films, films!', '20', '1', '1'], line: 3 }],
      ['u3', { fields: ['u3', '61', 'writer', 'b', '', '', '0', '0'], line: 4 }],
    ]),
  };
  const entities = new Vocabulary();
  ['u2', 'u1', 'u3'].forEach((k) => entities.add(k));
  entities.freeze();

  it('encodes every kind, row by entity index, with entity 0 (unknown) empty', () => {
    const built = buildSideFeatures('user', source, entities, [
      { kind: 'bucketized', name: 'age', column: 'age', boundaries: [18, 30, 60] },
      { kind: 'categorical', name: 'job', column: 2 },
      { kind: 'multiHot', name: 'tags', column: 'tags', separator: '|' },
      { kind: 'tokens', name: 'bio', column: 'bio', buckets: 64 },
      { kind: 'numeric', name: 'score', column: 'score' },
      { kind: 'flags', name: 'flags', columns: ['f1', 'f2'] },
    ]);
    const c = built.table.columns;
    expect(built.table.count).toBe(4);
    // Rows: 0 = unknown, 1 = u2, 2 = u1, 3 = u3. Age: missing → 0; 23 → 2; 61 → 4.
    expect(Array.from(c.age as Int32Array)).toEqual([0, 0, 2, 4]);
    expect(Array.from(c.job as Int32Array)).toEqual([0, 1, 2, 2]);
    const tags = c.tags as { offsets: Int32Array; ids: Int32Array };
    expect(Array.from(tags.offsets)).toEqual([0, 0, 0, 2, 3]);
    const bio = c.bio as { offsets: Int32Array; ids: Int32Array };
    expect(bio.offsets[2]! - bio.offsets[1]!).toBe(1); // "Films, films!" → one distinct token
    expect(bio.offsets[3]! - bio.offsets[2]!).toBe(3); // loves, old, films
    const score = c.score as Float32Array; // 20, 10, missing → mean 15; z-scores ±1, 0
    expect(Array.from(score).map((x) => Math.round(x * 1000) / 1000)).toEqual([0, 1, -1, 0]);
    const flags = c.flags as { offsets: Int32Array; ids: Int32Array };
    expect(Array.from(flags.ids)).toEqual([0, 1, 0]);
    expect(built.features.map((f) => `${f.name}:${f.kind}:${'vocabSize' in f ? f.vocabSize : f.size}`)).toEqual([
      'age:categorical:5',
      'job:categorical:3',
      'tags:multiHot:3',
      'bio:multiHot:64',
      'score:numeric:1',
      'flags:multiHot:2',
    ]);
  });

  it('an id the ratings use but the side file lacks is an error naming both', () => {
    const more = new Vocabulary();
    ['u1', 'u9'].forEach((k) => more.add(k));
    expect(() => buildSideFeatures('user', source, more, [])).toThrow(
      /user id "u9" appears in the ratings but not in people\.csv/,
    );
  });

  it('a number that does not parse names the file, line and column', () => {
    const bad: SideSource = { ...source, rows: new Map([['u1', { fields: ['u1', 'old'], line: 7 }]]) };
    const one = new Vocabulary();
    one.add('u1');
    expect(() => buildSideFeatures('user', bad, one, [{ kind: 'numeric', name: 'age', column: 1 }])).toThrow(
      /people\.csv:7: feature "age" \(column 2\) is "old", not a number/,
    );
  });
});

function ratings(n: number, users: number, seed = 1): RatingsData {
  const r = new Random(seed);
  return {
    users: Int32Array.from({ length: n }, () => 1 + r.int(users)),
    items: Int32Array.from({ length: n }, () => 1 + r.int(50)),
    ratings: Float32Array.from({ length: n }, () => 1 + r.int(5)),
    timestamps: Float64Array.from({ length: n }, () => r.int(1_000_000)),
  };
}

const key = (d: RatingsData, i: number) => `${d.users[i]}:${d.items[i]}:${d.timestamps![i]}`;
const keys = (d: RatingsData) => Array.from({ length: d.users.length }, (_, i) => key(d, i));

describe('splits', () => {
  const data = ratings(1000, 30);

  it('random holdout: the fraction asked, disjoint, complete, and the same for a seed', () => {
    const a = randomHoldout(data, 0.2, 5),
      b = randomHoldout(data, 0.2, 5),
      c = randomHoldout(data, 0.2, 6);
    expect(a.test.users.length).toBe(200);
    expect(a.train.users.length).toBe(800);
    expect([...keys(a.train), ...keys(a.test)].sort()).toEqual(keys(data).sort());
    expect(keys(b.test)).toEqual(keys(a.test));
    expect(keys(c.test)).not.toEqual(keys(a.test));
  });

  it('k-fold: every row is in exactly one test fold', () => {
    const folds = kFold(data, 5, 3);
    expect(folds.map((f) => f.test.users.length)).toEqual([200, 200, 200, 200, 200]);
    expect(folds.flatMap((f) => keys(f.test)).sort()).toEqual(keys(data).sort());
    for (const f of folds) expect(f.train.users.length).toBe(800);
  });

  it("temporal per user: each user's test ratings are no older than their training ratings", () => {
    const { train, test } = temporalPerUser(data, 0.25);
    expect(train.users.length + test.users.length).toBe(1000);
    const latestTrain = new Map<number, number>();
    train.users.forEach((u, i) => latestTrain.set(u, Math.max(latestTrain.get(u) ?? -1, train.timestamps![i]!)));
    test.users.forEach((u, i) => expect(test.timestamps![i]).toBeGreaterThanOrEqual(latestTrain.get(u)!));
  });

  it('leave-last-out: one test rating per user, their latest', () => {
    const { train, test } = leaveLastOut(data);
    expect(new Set(test.users).size).toBe(test.users.length);
    expect(test.users.length).toBe(new Set(data.users).size);
    test.users.forEach((u, i) => {
      const own = Array.from(data.users.keys())
        .filter((r) => data.users[r] === u)
        .map((r) => data.timestamps![r]!);
      expect(test.timestamps![i]).toBe(Math.max(...own));
    });
    expect(train.users.length + test.users.length).toBe(1000);
  });
});

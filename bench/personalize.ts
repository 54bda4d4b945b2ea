// Personalisation on MovieLens 100K (u.data, with timestamps): 50 users (seeded) are left out of
// training entirely; the default retrieval recipe (softmax) and the default rating recipe train on
// everyone else. Each left-out user is personalised from their first 10 events by time
// (model.personalize) and ranked for Recall@20 on their other events (hits / min(20, targets)),
// against (a) popularity — the most-rated training items not among the 10 — and (b) the same
// users trained in: the recipe trained on everyone's events but those users' later ones, asked for
// them by id. Also: the faithfulness of explain's "because" items (removing a recommendation's
// top one lowers its score more than removing a random one of the person's items), and the
// median time of personalise + recommend from 20 events, on this model and on a 100k-item
// synthetic one.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { train, createModel, type Model, type PersonalEvent, type PersonalizeOptions, type TrainEvent } from '../src/index.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { Random } from '../src/util/random.js';
import { dataDir } from './movielens.js';

interface Event {
  user: string;
  item: string;
  rating: number;
  time: number;
}

export interface RecallRow {
  name: string;
  recall20: number;
}

export interface PersonalizeBenchResult {
  users: number;
  retrieval: RecallRow[];
  rating: RecallRow[];
  /** Share of (user, top recommendation) cases where removing the top "because" item lowers the score more than removing a random other item. */
  faithfulness: number;
  /** Median ms of personalise + recommend(k 20) from 20 events. */
  medianMs: { ml100k: number; synthetic100k: number };
  trainSeconds: { retrieval: number; rating: number; retrievalTrainedIn: number; ratingTrainedIn: number };
}

export function readMl100k(dir = dataDir()): Event[] | null {
  const file = join(dir, 'u.data');
  if (!existsSync(file)) return null;
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [user, item, rating, time] = line.split('\t');
      return { user: user!, item: item!, rating: Number(rating), time: Number(time) };
    });
}

/** The held-out split: `count` users drawn by `seed`, each user's events by time, the first `given` of them kept. */
export function holdOutUsers(events: Event[], count: number, seed: number, given: number) {
  const byUser = new Map<string, Event[]>();
  for (const e of events) (byUser.get(e.user) ?? byUser.set(e.user, []).get(e.user)!).push(e);
  const ids = [...byUser.keys()].sort((a, b) => Number(a) - Number(b));
  const random = new Random(seed);
  const chosen = new Set<string>();
  while (chosen.size < count) chosen.add(ids[random.int(ids.length)]!);
  const people = [...chosen].map((user) => {
    const list = byUser.get(user)!.sort((a, b) => a.time - b.time || Number(a.item) - Number(b.item));
    return { user, first: list.slice(0, given), later: list.slice(given) };
  });
  return { people, rest: events.filter((e) => !chosen.has(e.user)) };
}

function recallAt20(recommended: (string | number)[], targets: Event[]): number {
  const wanted = new Set(targets.map((e) => e.item));
  const hits = recommended.slice(0, 20).filter((id) => wanted.has(String(id))).length;
  return hits / Math.min(20, wanted.size);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

type Person = ReturnType<typeof holdOutUsers>['people'][number];

function personalRecall(model: Model, people: Person[], options: PersonalizeOptions, withRatings: boolean): number {
  return mean(
    people.map((p) => {
      const events: PersonalEvent[] = p.first.map((e) => ({
        item: e.item,
        time: e.time,
        ...(withRatings ? { rating: e.rating } : {}),
      }));
      const recs = model.personalize(events, { unknownItems: 'skip', ...options }).recommend({ k: 20 });
      return recallAt20(
        recs.map((r) => r.id),
        p.later,
      );
    }),
  );
}

function popularityRecall(rest: Event[], people: Person[]): number {
  const counts = new Map<string, number>();
  for (const e of rest) counts.set(e.item, (counts.get(e.item) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0])).map(([id]) => id);
  return mean(
    people.map((p) => {
      const own = new Set(p.first.map((e) => e.item));
      return recallAt20(ranked.filter((id) => !own.has(id)).slice(0, 20), p.later);
    }),
  );
}

function trainedInRecall(model: Model, people: Person[]): number {
  return mean(
    people.map((p) =>
      recallAt20(
        model.recommend(p.user, { k: 20 }).map((r) => r.id),
        p.later,
      ),
    ),
  );
}

/** Removing the top "because" item lowers the score more than removing a random other one: the share of cases. */
export function faithfulness(model: Model, people: Person[], seed: number): number {
  const random = new Random(seed);
  let wins = 0,
    cases = 0;
  for (const p of people) {
    const events = p.first.map((e) => ({ item: e.item, time: e.time }));
    const personal = model.personalize(events, { unknownItems: 'skip' });
    const top = personal.recommend({ k: 1 })[0]!;
    const why = personal.explain(top.id, { because: events.length });
    const first = why.because[0]!;
    const others = why.because.filter((b) => b.item !== first.item);
    if (others.length === 0) continue;
    const other = others[random.int(others.length)]!;
    const without = (item: string | number) =>
      model
        .personalize(
          events.filter((e) => e.item !== String(item)),
          { unknownItems: 'skip' },
        )
        .explain(top.id, { because: 0 }).score;
    if (why.score - without(first.item) > why.score - without(other.item)) wins++;
    cases++;
  }
  return wins / cases;
}

export function timePersonalise(model: Model, histories: PersonalEvent[][]): number {
  const times: number[] = [];
  model.personalize(histories[0]!, { unknownItems: 'skip' }).recommend({ k: 20 }); // warm: the model's item rows and fingerprint caches
  for (const h of histories) {
    const t0 = performance.now();
    model.personalize(h, { unknownItems: 'skip' }).recommend({ k: 20 });
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** A 100k-item retrieval model (ids only, dim 64, one epoch of softmax on synthetic events) and 50 histories of 20 events. */
export async function synthetic100k(): Promise<{ model: Model; histories: PersonalEvent[][] }> {
  const data = generateSynthetic({ users: 2000, items: 100_000, ratingsPerUser: 50, testFraction: 0.1, seed: 7 });
  const model = await createModel({
    dim: 64,
    user: { features: [{ kind: 'id', name: 'user', vocabSize: 2000, dim: 64 }], project: false },
    item: { features: [{ kind: 'id', name: 'item', vocabSize: 100_000, dim: 64 }], project: false },
  });
  model.fit(data.train, { loss: 'softmax', epochs: 1, batchSize: 1024, seed: 1 });
  const random = new Random(3);
  const histories = Array.from({ length: 50 }, () => Array.from({ length: 20 }, () => ({ item: random.int(100_000) })));
  return { model, histories };
}

export async function personalizeBench(log: (line: string) => void = () => {}): Promise<PersonalizeBenchResult | null> {
  const events = readMl100k();
  if (!events) return null;
  const { people, rest } = holdOutUsers(events, 50, 2026, 10);
  const trainedIn: Event[] = [...rest, ...people.flatMap((p) => p.first)];
  const asTrain = (list: Event[], ratings: boolean): TrainEvent[] =>
    list.map((e) => ({ user: e.user, item: e.item, time: e.time, ...(ratings ? { rating: e.rating } : {}) }));
  const seconds = async (run: () => Promise<Model>) => {
    const t0 = performance.now();
    const model = await run();
    return { model, seconds: (performance.now() - t0) / 1000 };
  };
  log('training the retrieval recipe (softmax) without the 50 users, and with their first 10 events…');
  const retrieval = await seconds(() => train(asTrain(rest, false), { task: 'retrieval' }));
  const retrievalIn = await seconds(() => train(asTrain(trainedIn, false), { task: 'retrieval' }));
  log('training the rating recipe likewise…');
  const rating = await seconds(() => train(asTrain(rest, true), { task: 'rating' }));
  const ratingIn = await seconds(() => train(asTrain(trainedIn, true), { task: 'rating' }));
  const popularity = popularityRecall(rest, people);
  const result: PersonalizeBenchResult = {
    users: people.length,
    retrieval: [
      { name: "personalize (gradient, prior 'mean': the default)", recall20: personalRecall(retrieval.model, people, {}, false) },
      {
        name: "personalize (gradient, prior 'zero')",
        recall20: personalRecall(retrieval.model, people, { prior: 'zero' }, false),
      },
      { name: 'popularity (most-rated items not among the 10)', recall20: popularity },
      { name: 'trained in (their first 10 events in training, by id)', recall20: trainedInRecall(retrievalIn.model, people) },
    ],
    rating: [
      {
        name: "personalize (fold-in toward the pooled 'rated' vector: the default)",
        recall20: personalRecall(rating.model, people, {}, true),
      },
      {
        name: "personalize (mode 'pooled': the 'rated' set alone)",
        recall20: personalRecall(rating.model, people, { mode: 'pooled' }, true),
      },
      { name: "personalize (fold-in, prior 'zero')", recall20: personalRecall(rating.model, people, { prior: 'zero' }, true) },
      { name: 'popularity (most-rated items not among the 10)', recall20: popularity },
      { name: 'trained in (their first 10 events in training, by id)', recall20: trainedInRecall(ratingIn.model, people) },
    ],
    faithfulness: faithfulness(retrieval.model, people, 5),
    medianMs: { ml100k: 0, synthetic100k: 0 },
    trainSeconds: {
      retrieval: retrieval.seconds,
      rating: rating.seconds,
      retrievalTrainedIn: retrievalIn.seconds,
      ratingTrainedIn: ratingIn.seconds,
    },
  };
  const twenty = people.map((p) => [...p.first, ...p.later].slice(0, 20).map((e) => ({ item: e.item, time: e.time })));
  result.medianMs.ml100k = timePersonalise(retrieval.model, twenty);
  for (const m of [retrieval, retrievalIn, rating, ratingIn]) m.model.dispose();
  log(`ML-100K figures: ${JSON.stringify(result)}`);
  log('building a 100k-item synthetic model…');
  const big = await synthetic100k();
  result.medianMs.synthetic100k = timePersonalise(big.model, big.histories);
  big.model.dispose();
  return result;
}

export function personalizeTable(r: PersonalizeBenchResult): string {
  const rows = (title: string, list: RecallRow[]) => {
    const pop = list.find((x) => x.name.startsWith('popularity'))!.recall20;
    const trained = list.find((x) => x.name.startsWith('trained in'))!.recall20;
    return [
      `${title}`,
      ...list.map(
        (x) =>
          `  ${x.name.padEnd(72)} Recall@20 ${x.recall20.toFixed(4)}  ×pop ${(x.recall20 / pop).toFixed(2)}  of trained-in ${((100 * x.recall20) / trained).toFixed(0)}%`,
      ),
    ].join('\n');
  };
  return [
    rows(`retrieval recipe (softmax), ${r.users} users left out, personalised from their first 10 events`, r.retrieval),
    rows('rating recipe (mse)', r.rating),
    `faithfulness: removing the top "because" item lowers the score more than a random one in ${(100 * r.faithfulness).toFixed(0)}% of cases`,
    `median personalise + recommend(k 20) from 20 events: ${r.medianMs.ml100k.toFixed(2)} ms (ML-100K, 1,682 items), ${r.medianMs.synthetic100k.toFixed(2)} ms (100k items, synthetic)`,
    `training seconds: retrieval ${r.trainSeconds.retrieval.toFixed(1)}, rating ${r.trainSeconds.rating.toFixed(1)} (trained in: ${r.trainSeconds.retrievalTrainedIn.toFixed(1)}, ${r.trainSeconds.ratingTrainedIn.toFixed(1)})`,
  ].join('\n');
}

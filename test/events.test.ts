// Events from text (parseEvents: the CLI's reading rules without a file system), structured
// progress and stopping in train() (onEpochEnd), and recommendations for a new user from the
// interaction set a rating model already has: what the browser example builds on.
import { describe, it, expect, vi } from 'vitest';
import {
  parseEvents,
  train,
  trainRecipe,
  recipeOptions,
  Vocabulary,
  TwoTowerError,
  type RecipeEpoch,
  type RecipeBatch,
} from '../src/index.js';

const expectError = async (run: () => Promise<unknown>, code: string, message: RegExp) => {
  const error = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TwoTowerError);
  expect((error as TwoTowerError).code).toBe(code);
  expect((error as TwoTowerError).message).toMatch(message);
};

describe('parseEvents', () => {
  it('reads a header by its names, in any column order, with ratings, times and weights', async () => {
    const parsed = await parseEvents('timestamp,itemId,userId,rating,plays\n10,a,u1,4,2\n11,b,u2,3.5,0\n', { name: 'log.csv' });
    expect(parsed.delimiter).toBe(',');
    expect(parsed.header).toEqual(['timestamp', 'itemId', 'userId', 'rating', 'plays']);
    expect(parsed.hasRatings).toBe(true);
    expect(parsed.events).toEqual([
      { user: 'u1', item: 'a', rating: 4, time: 10, weight: 2 },
      { user: 'u2', item: 'b', rating: 3.5, time: 11, weight: 0 },
    ]);
  });

  it('reads headerless text by position, sniffing tab, pipe, semicolon and "::" as the CLI does', async () => {
    for (const d of ['\t', '|', ';', '::']) {
      const parsed = await parseEvents(
        ['196', '242', '3', '881250949'].join(d) + '\r\n' + ['186', '302', '3', '891717742'].join(d) + '\n',
      );
      expect(parsed.delimiter).toBe(d);
      expect(parsed.header).toBeNull();
      expect(parsed.events[1]).toEqual({ user: '186', item: '302', rating: 3, time: 891717742 });
    }
  });

  it('an event log without a rating column gives events without ratings (train() then fits a retrieval model)', async () => {
    const parsed = await parseEvents('user,item\nx,1\ny,2\n');
    expect(parsed.hasRatings).toBe(false);
    expect(parsed.events).toEqual([
      { user: 'x', item: '1' },
      { user: 'y', item: '2' },
    ]);
  });

  it('reads the Last.fm log as published: artistID inferred as the item column, weight as confidence, and says so', async () => {
    const rows: string[] = ['userID\tartistID\tweight'];
    for (let u = 2; u < 42; u++)
      for (let k = 0; k < 8; k++)
        rows.push(`${u}\t${51 + (u % 4) * 10 + ((u * 7 + k * 3) % 10)}\t${1 + ((u * 31 + k * 17) % 900)}`);
    const parsed = await parseEvents(rows.join('\n') + '\n', { name: 'user_artists.dat' });
    expect(parsed.delimiter).toBe('\t');
    expect(parsed.header).toEqual(['userID', 'artistID', 'weight']);
    expect(parsed.columns).toEqual({ user: 0, item: 1, rating: undefined, time: undefined, weight: 2 });
    expect(parsed.inferredItem).toBe('artistID');
    expect(parsed.hasRatings).toBe(false);
    expect(parsed.events[0]).toEqual({ user: '2', item: '75', weight: 63 });
    expect(parsed.notes).toEqual([
      expect.stringMatching(
        /^item column: "artistID" \(the only id-like column besides the user's; columns: \{ item \} names another\)$/,
      ),
      expect.stringMatching(/^confidence: "weight" weights each row/),
    ]);
    const model = await train(parsed.events, { epochs: 2 });
    expect(model.trainedWith).toEqual({ loss: 'softmax', implicit: true });
    expect(model.recommend('2', { k: 3 })).toHaveLength(3);
    model.dispose();
    // Several id-like columns: none is guessed, and the message names them.
    await expectError(
      () => parseEvents('userID,artistID,tagID\n1,2,3\n', { name: 'tags.csv' }),
      'MISSING_COLUMN',
      /several id-like columns besides the user's \("artistID" and "tagID"\)/,
    );
    // A named item column, or a known one, is never second-guessed; nothing inferred, nothing noted.
    const named = await parseEvents('userID,artistID,tagID\n1,2,3\n', { columns: { item: 'tagID' } });
    expect(named.events).toEqual([{ user: '1', item: '3' }]);
    expect(named.inferredItem).toBeUndefined();
    expect(named.notes).toEqual([]);
  });

  it('quoted CSV fields (commas and line breaks inside) keep the line numbers of the CLI in errors', async () => {
    const text = 'user,item,rating\n"a, b","x\ny",4\nc,z,oops\n';
    await expectError(() => parseEvents(text, { name: 'q.csv' }), 'BAD_LINE', /^q\.csv:4: field "rating" \(column 3\) is "oops"/);
    const ok = await parseEvents('user,item,rating\n"a, b","x\ny",4\n');
    expect(ok.events).toEqual([{ user: 'a, b', item: 'x\ny', rating: 4 }]);
  });

  it('bad text is refused with the problem named', async () => {
    await expectError(() => parseEvents(''), 'EMPTY_DATA', /no events/);
    await expectError(() => parseEvents('user,item,rating\n'), 'EMPTY_DATA', /only a header/);
    await expectError(() => parseEvents('a,b,1\nc,d\n', { name: 'f.csv' }), 'BAD_LINE', /^f\.csv:2: expected 3 fields, found 2/);
    await expectError(
      () => parseEvents('who,what,how\n1,2,3\n', { name: 'f.csv' }),
      'MISSING_COLUMN',
      /no user column \(header: who, what, how/,
    );
    await expectError(() => parseEvents('a,b\0'), 'BAD_INPUT', /binary/);
  });
});

function ratingEvents(n = 3000) {
  return Array.from({ length: n }, (_, i) => ({ user: `u${i % 80}`, item: `m${(i * 7) % 60}`, rating: 1 + ((i * 13) % 5) }));
}

describe('train() progress: onEpochEnd', () => {
  it('reports every epoch of both phases with the phase, the planned epochs and the validation metric', async () => {
    const seen: RecipeEpoch[] = [];
    // tune: false: one phase-1 run (the penalty search's runs are test/recipe-tuning.test.ts's).
    const model = await train(ratingEvents(), {
      epochs: 4,
      patience: 10,
      tune: false,
      onEpochEnd: (info) => void seen.push(info),
    });
    const search = seen.filter((e) => e.phase === 1),
      refit = seen.filter((e) => e.phase === 2);
    expect(search.map((e) => [e.epoch, e.epochs])).toEqual([0, 1, 2, 3].map((i) => [i, 4]));
    // The refit trains for the best search epoch's count, each epoch reported.
    expect(refit.length).toBeGreaterThanOrEqual(1);
    expect(refit.map((e) => [e.epoch, e.epochs])).toEqual(refit.map((_, i) => [i, refit.length]));
    for (const e of seen) expect(Number.isFinite(e.loss)).toBe(true);
    expect(seen.filter((e) => e.phase === 1).every((e) => Number.isFinite(e.validationRmse))).toBe(true);
    model.dispose();
  });

  it('returning false in phase 1 stops there, keeps the best epoch so far and skips the refit', async () => {
    const events = ratingEvents();
    const users = new Vocabulary(),
      items = new Vocabulary();
    const data = {
      users: Int32Array.from(events, (e) => users.add(e.user)),
      items: Int32Array.from(events, (e) => items.add(e.item)),
      ratings: Float32Array.from(events, (e) => e.rating),
    };
    const calls: RecipeEpoch[] = [];
    const stopped = await trainRecipe(
      { train: data, users, items },
      recipeOptions('mse', { epochs: 20, patience: 20, onEpochEnd: (info) => (calls.push(info), info.epoch < 2) }),
    );
    expect(stopped.stopped).toBe(true);
    expect(calls.map((c) => c.phase)).toEqual([1, 1, 1]);
    expect(stopped.final).toBeUndefined();
    expect(stopped.search.history).toHaveLength(3);
    const best = stopped.search.bestEpoch!;
    expect(stopped.epochs).toBe(best + 1);
    // The kept weights are the best epoch's: a fresh run stopped right after it predicts the same.
    const again = await trainRecipe(
      { train: data, users, items },
      recipeOptions('mse', { epochs: 20, patience: 20, refit: false, onEpochEnd: (info) => info.epoch < best }),
    );
    expect(stopped.model.predict('u3', 'm7')).toBe(again.model.predict('u3', 'm7'));
    stopped.model.dispose();
    again.model.dispose();
  });
});

describe("train()'s callbacks speak fit()'s vocabulary", () => {
  it("onBatchEnd gets fit()'s BatchInfo with the phase and penalty; onLog gets the printed lines", async () => {
    const batches: RecipeBatch[] = [];
    const lines: string[] = [];
    const model = await train(ratingEvents(600), {
      epochs: 2,
      patience: 5,
      batchSize: 200,
      tune: false,
      l2: 0.05,
      onBatchEnd: (b) => void batches.push(b),
      onLog: (line) => void lines.push(line),
    });
    // Phase 1 on 90% of 600 rows (3 batches of ≤ 200) then the refit on all 600 (3 batches).
    expect(batches.filter((b) => b.phase === 1).map((b) => [b.epoch, b.batch, b.batches])).toEqual([
      [0, 0, 3],
      [0, 1, 3],
      [0, 2, 3],
      [1, 0, 3],
      [1, 1, 3],
      [1, 2, 3],
    ]);
    expect(batches.every((b) => b.l2 === 0.05 && Number.isFinite(b.loss))).toBe(true);
    expect(batches.some((b) => b.phase === 2)).toBe(true);
    expect(lines.some((l) => /^epoch 1: train loss .* validation RMSE/.test(l))).toBe(true);
    expect(lines.some((l) => /^final epoch 1\//.test(l))).toBe(true);
    model.dispose();
  });

  it("0.1's spellings still work for one minor version, each warned once: onEpoch, and onBatchEnd(epoch, loss, phase, batch, batches)", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const positional: number[][] = [];
      const epochs: number[] = [];
      const model = await train(ratingEvents(400), {
        epochs: 1,
        tune: false,
        batchSize: 200,
        onBatchEnd: (epoch: number, loss: number, phase: 1 | 2, batch: number, batches: number) =>
          void positional.push([epoch, phase, batch, batches, Number.isFinite(loss) ? 1 : 0]),
        onEpoch: (info: RecipeEpoch) => void epochs.push(info.phase),
      } as never);
      expect(positional.slice(0, 2)).toEqual([
        [0, 1, 0, 2, 1],
        [0, 1, 1, 2, 1],
      ]);
      expect(epochs).toEqual([1, 2]);
      const said = warn.mock.calls.map((c) => String(c[0]));
      expect(said.filter((m) => /onEpoch is deprecated/.test(m))).toHaveLength(1);
      expect(said.filter((m) => /positional train option onBatchEnd/.test(m))).toHaveLength(1);
      model.dispose();
    } finally {
      warn.mockRestore();
    }
  });

  it('refuses onEpoch beside onEpochEnd, and a callback that is not a function, before training', async () => {
    await expectError(
      () => train(ratingEvents(100), { onEpoch: () => {}, onEpochEnd: () => {} }),
      'BAD_OPTION',
      /onEpoch is the 0\.1 name/,
    );
    await expectError(
      () => train(ratingEvents(100), { onLog: 'yes' as never }),
      'BAD_OPTION',
      /options\.onLog must be a function/,
    );
  });
});

describe('recommendFromHistory', () => {
  it("a rating model serves a new user from the items they liked through its 'rated' set (the default feature)", async () => {
    const model = await train(ratingEvents(), { epochs: 3 });
    const picks = model.recommendFromHistory(['m1', 'm2', 'm3'], { k: 5 });
    expect(picks).toHaveLength(5);
    for (const p of picks) expect(['m1', 'm2', 'm3']).not.toContain(p.id);
    expect(picks).toEqual(model.recommendFromHistory(['m1', 'm2', 'm3'], { k: 5, feature: 'rated' }));
    // A different history gives a different list: the set is read, not ignored.
    expect(model.recommendFromHistory(['m40', 'm41', 'm42'], { k: 5 })).not.toEqual(picks);
    model.dispose();
  });
});

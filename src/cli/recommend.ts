// `twotower recommend`: a user's top items from a saved model, or a new user's from the items
// they interacted with (cold start through the history feature).
import { basename } from 'node:path';
import { loadModelFile } from '../node/model-io.js';
import { fail } from '../errors.js';

export interface RecommendFlags {
  model: string;
  user?: string;
  /** Comma-separated item ids: recommend for a new user who interacted with these. */
  history?: string;
  k: number;
  includeSeen?: boolean;
  json: boolean;
}

export async function recommendCommand(f: RecommendFlags): Promise<void> {
  const model = await loadModelFile(f.model);
  try {
    const { users, items } = model.vocabularies;
    if (!users || !items) fail('BAD_MODEL_FILE', `${f.model} has no id vocabularies, so user ids cannot be looked up`);
    const known = f.user !== undefined && users.has(f.user);
    let top;
    if (known) {
      top = model.recommend([users.lookup(f.user!)], { k: f.k, excludeSeen: !f.includeSeen && model.hasTrainingHistory });
    } else if (f.history !== undefined) {
      // Cold start: a user the model has not seen, embedded from the items they interacted with.
      const ids = f.history
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      const unknown = ids.filter((x) => !items.has(x));
      if (unknown.length) fail('UNKNOWN_ID', `--history: item id "${unknown[0]}" is not in ${basename(f.model)}`);
      top = model.recommendForHistory([ids.map((x) => items.lookup(x))], { k: f.k, excludeSeen: !f.includeSeen });
    } else if (f.user === undefined) {
      fail('BAD_OPTION', 'recommend needs --user ID, or --history ITEM,ITEM,… for a user the model has not seen');
    } else {
      const coldStart = model.config.user.features.some((s) => s.name === 'history' && s.kind === 'multiHot');
      fail(
        'UNKNOWN_ID',
        `user id "${f.user}" is not in ${basename(f.model)} (it knows ${users.size - 1} users)` +
          (coldStart ? '; pass --history ITEM,ITEM,… to recommend from their items' : ''),
      );
    }
    let list = Array.from(top.indices).flatMap((j, c) =>
      j < 0 ? [] : [{ item: items.key(j) ?? String(j), index: j, score: top.scores[c]! }],
    );
    // A rating model's retrieval score leaves out the user's own bias and the global offset (they
    // do not change the order): show the predicted rating, on the scale it was trained on.
    if (known && model.trainedWith && !model.trainedWith.implicit && list.length > 0) {
      const predicted = model.predict(
        new Int32Array(list.length).fill(users.lookup(f.user!)),
        list.map((x) => x.index),
      );
      list = list.map((x, r) => ({ ...x, score: predicted[r]! }));
    }
    const scoreKind = known && model.trainedWith && !model.trainedWith.implicit ? 'predicted rating' : 'score';
    const shown = list.map(({ item, score }) => ({ item, score }));
    if (f.json) console.log(JSON.stringify({ user: f.user ?? null, coldStart: !known, scoreKind, items: shown }));
    else shown.forEach((x, r) => console.log(`${r + 1}\t${x.item}\t${x.score.toFixed(4)}`));
  } finally {
    model.dispose();
  }
}

// `twotower eval`: a saved model's metrics on a file, for what it was trained for: RMSE and MAE
// for a rating model, ranking metrics over the whole catalogue (training items excluded) for an
// implicit-feedback model; --metrics asks for either or both. Ids are mapped through the model's
// vocabularies; unseen users or items are counted and said. The file is read as the model's
// training file was (its metadata's `read`), where flags do not say otherwise; the metrics are
// named as train names them.
import { basename } from 'node:path';
import { loadModelFile } from '../node/model-io.js';
import { loadRatingsFile } from '../node/ratings-file.js';
import { fail } from '../errors.js';
import { rankingLine, rankingSummary, type DataFlags } from './train.js';
import { asTrained } from './update.js';

export interface EvalFlags extends DataFlags {
  model: string;
  data: string;
  /** 'rating', 'ranking' or 'both'; default: what the model was trained for. */
  metrics?: 'rating' | 'ranking' | 'both';
}

export async function evaluate(f: EvalFlags): Promise<void> {
  const model = await loadModelFile(f.model);
  try {
    const { users, items } = model.vocabularies;
    if (!users || !items)
      fail(
        'BAD_MODEL_FILE',
        `${f.model} has no id vocabularies (it was not trained from files), so ids in ${f.data} cannot be mapped`,
      );
    const implicit = model.trainedWith?.implicit ?? false;
    const which = f.metrics ?? (implicit ? 'ranking' : 'rating');
    const loaded = await loadRatingsFile(f.data, {
      ...asTrained(model, f),
      users,
      items,
      // Ranking metrics need only who interacted with what; RMSE needs ratings.
      requireRating: which !== 'ranking',
    });
    // Said as train says it: the item column taken from the header.
    loaded.notes.filter((line) => line.startsWith('item column:')).forEach((line) => console.error(line));
    const n = loaded.data.users.length;
    const summary: Record<string, unknown> = {
      trainedWith: model.trainedWith?.loss ?? null,
      rows: n,
      unknownUsers: loaded.unknownUsers,
      unknownItems: loaded.unknownItems,
      users: users.size - 1,
      items: items.size - 1,
    };
    const lines: string[] = [];
    if (which !== 'ranking') {
      if (implicit)
        console.error(
          `${basename(f.model)} was trained with '${model.trainedWith!.loss}' (implicit feedback): its scores are not on the rating scale, so RMSE says little`,
        );
      const { rmse, mae } = model.evaluate(loaded.data);
      Object.assign(summary, { rmse, mae });
      lines.push(`RMSE ${rmse.toFixed(4)}, MAE ${mae.toFixed(4)} on ${n} ratings of ${basename(f.data)}`);
      if (loaded.unknownUsers || loaded.unknownItems) {
        console.error(
          `${loaded.unknownUsers} rows have users and ${loaded.unknownItems} have items the model has not seen: scored from biases only`,
        );
      }
    }
    if (which !== 'rating') {
      // Unknown users or items cannot be ranked: leave those rows out, and say how many.
      const keep = Array.from(loaded.data.users, (_, r) => r).filter(
        (r) => loaded.data.users[r] !== 0 && loaded.data.items[r] !== 0,
      );
      if (keep.length < n)
        console.error(`${n - keep.length} rows with users or items the model has not seen are left out of the ranking metrics`);
      if (keep.length === 0) fail('EMPTY_DATA', `${basename(f.data)}: no row has a user and an item the model knows`);
      const test = {
        users: Int32Array.from(keep, (r) => loaded.data.users[r]!),
        items: Int32Array.from(keep, (r) => loaded.data.items[r]!),
      };
      const m = model.rows.evaluateRanking(test, { ks: [10, 20], excludeSeen: model.hasTrainingHistory });
      Object.assign(summary, rankingSummary(m));
      lines.push(
        `ranking over all ${items.size - 1} items for ${m.users} users${model.hasTrainingHistory ? ' (training items excluded)' : ''}: ${rankingLine(m)}`,
      );
    }
    if (f.json) console.log(JSON.stringify(summary));
    else lines.forEach((line) => console.log(line));
  } finally {
    model.dispose();
  }
}

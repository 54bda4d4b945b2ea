// `twotower eval`: RMSE and MAE of a saved model on a ratings file (ids mapped through the
// model's vocabularies; unseen users or items are scored as unknown and counted).
import { basename } from 'node:path';
import { loadModelFile } from '../node/model-io.js';
import { loadRatingsFile } from '../node/ratings-file.js';
import { fail } from '../errors.js';
import { mapping, type DataFlags } from './train.js';

export interface EvalFlags extends DataFlags {
  model: string;
  data: string;
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
    const loaded = await loadRatingsFile(f.data, {
      format: f.format,
      columns: mapping(f),
      delimiter: f.delimiter,
      header: f.header,
      users,
      items,
    });
    const { rmse, mae } = model.evaluate(loaded.data);
    const n = loaded.data.users.length;
    const summary = {
      rmse,
      mae,
      ratings: n,
      unknownUsers: loaded.unknownUsers,
      unknownItems: loaded.unknownItems,
      users: users.size - 1,
      items: items.size - 1,
    };
    if (loaded.unknownUsers || loaded.unknownItems) {
      console.error(
        `${loaded.unknownUsers} ratings have users and ${loaded.unknownItems} have items the model has not seen: scored from biases only`,
      );
    }
    if (f.json) console.log(JSON.stringify(summary));
    else console.log(`RMSE ${rmse.toFixed(4)}, MAE ${mae.toFixed(4)} on ${n} ratings of ${basename(f.data)}`);
  } finally {
    model.dispose();
  }
}

// Training from events in the user's own ids: the events (and any features by id) are encoded
// through fresh vocabularies, the default recipe (recipe.ts) trains on them, and the model keeps
// the vocabularies, each user's items and the features' encoding.
import { internals, type Model } from './model.js';
import { resolveLoss, type LossName } from '../train/losses/index.js';
import type { RatingsData } from '../data/ratings.js';
import { Vocabulary } from '../data/vocabulary.js';
import { fail } from '../errors.js';
import { checkId } from '../data/checks.js';
import type { BuiltSideFeatures } from '../data/side-features.js';
import { checkEntityValues, encodeEntityValues, type CheckedValues, type EntityValues } from '../data/side-values.js';
import { regressColdRows } from '../train/cold-rows.js';
import { recipeOptions, type RecipeOptions } from './recipe-config.js';
import { trainRecipe } from './recipe.js';
import { trainBest, type BestOptions } from './best.js';
import { labelPairs, setLabelsOn, type LabelsInput } from './labels.js';

/** One interaction in the user's own ids. */
export interface TrainEvent {
  user: string | number;
  item: string | number;
  /** The rating, for a rating task. Absent in click or view logs. */
  rating?: number;
  /** When it happened (any increasing unit): orders each user's history. */
  time?: number;
  /** Confidence (a count, a duration; ≥ 0): examples are drawn ∝ log(1 + weight). */
  weight?: number;
}

export interface TrainOptions extends Partial<Omit<RecipeOptions, 'loss'>>, BestOptions {
  /**
   * 'default': one model by the tuned recipe (fast). 'best': the most accurate combination
   * measured (docs/accuracy.md): several members (seeds; for ratings also the autoencoder
   * family) blended by weights chosen on the validation split, as one model. Default 'default'.
   */
  recipe?: 'default' | 'best';
  /**
   * 'rating': predict ratings (squared error; every event needs a rating). 'retrieval': rank
   * items for users (every event is a positive). Default: 'rating' when every event has a
   * rating, else 'retrieval'.
   */
  task?: 'rating' | 'retrieval';
  /** The loss, where the task's default will not do: 'mse' for ratings; 'softmax' (default), 'bpr' or 'bce' for retrieval. */
  loss?: LossName;
  /**
   * Item features by id, in your own values: `{ ids, columns: { genre: ['Drama', …], year: [1977,
   * …], genres: [['Sci-Fi', 'Action'], …] }, specs? }`, encoded as the CLI encodes an items file
   * (strings categorical, numbers z-scored, lists multi-hot; the encoding is saved in the model's
   * metadata, and update() and addItems() encode new items' values alike). Ids no event names
   * join the catalogue, started from their features (recommendable at once); items of events
   * without a row take the unknown value. Turns `sideFeatures` on. Default none.
   */
  items?: EntityValues;
  /** User features by id, as `items`. Default none. */
  users?: EntityValues;
  /**
   * Human names kept with the model and shown as results' `label`: `{ items?, users? }`, each a
   * Map, an object `{ id: label }` or a list of `[id, label]` pairs (as Model.setLabels takes
   * them; labels of ids no event or feature row names are dropped). Default none.
   */
  labels?: LabelsInput;
}

/** Names the recipe gives its own features, per tower: a column may not take them. */
const RECIPE_FEATURES = { user: ['user', 'history', 'rated'], item: ['item', 'raters'] } as const;

/**
 * Trains a model on events in the user's own ids with the CLI's tuned recipe (architecture,
 * early stopping on a validation split, a final refit): the model keeps the id vocabularies
 * and each user's items, so `model.recommend(userId)` answers in the same ids.
 */
export async function train(events: Iterable<TrainEvent>, options: TrainOptions = {}): Promise<Model> {
  const rows = Array.isArray(events) ? (events as TrainEvent[]) : [...events];
  if (rows.length === 0) fail('EMPTY_DATA', 'train: no events given');
  const task = options.task ?? (rows.every((e) => e?.rating !== undefined) ? 'rating' : 'retrieval');
  if (task !== 'rating' && task !== 'retrieval')
    fail('BAD_OPTION', `task must be 'rating' or 'retrieval', got ${JSON.stringify(task)}`);
  const {
    task: _task,
    loss: _loss,
    users: userValues,
    items: itemValues,
    recipe = 'default',
    seeds,
    autorecSeeds,
    labels,
    ...given
  } = options;
  // Checked before training, so that a malformed label costs no training run.
  if (labels !== undefined) {
    if (!labels || typeof labels !== 'object') fail('BAD_OPTION', 'train: options.labels must be { items?, users? }');
    for (const side of ['items', 'users'] as const)
      if (labels[side] !== undefined) labelPairs(labels[side], `train: options.labels.${side}`);
  }
  if (recipe !== 'default' && recipe !== 'best')
    fail('BAD_OPTION', `train: options.recipe must be 'default' or 'best', got ${JSON.stringify(recipe)}`, {
      option: 'options.recipe',
      value: recipe,
    });
  for (const [name, value] of [
    ['seeds', seeds],
    ['autorecSeeds', autorecSeeds],
  ] as const)
    if (value !== undefined && recipe !== 'best')
      fail('BAD_OPTION', `train: options.${name} is for recipe: 'best'`, { option: `options.${name}`, value });
  const values = { user: userValues, item: itemValues };
  const checked: Partial<Record<'user' | 'item', CheckedValues>> = {};
  for (const side of ['user', 'item'] as const)
    if (values[side] !== undefined)
      checked[side] = checkEntityValues(values[side], `train: options.${side}s`, RECIPE_FEATURES[side]);
  const withFeatures = checked.user !== undefined || checked.item !== undefined;
  if (withFeatures && options.sideFeatures === false)
    fail('BAD_OPTION', `train: options.${checked.item ? 'items' : 'users'} gives features but options.sideFeatures is false`);
  // As the CLI with a side file: the features' ids are the first rows, in their order; ids only
  // the events name follow.
  const users = new Vocabulary(),
    items = new Vocabulary();
  for (const id of checked.user?.ids ?? []) users.add(id);
  for (const id of checked.item?.ids ?? []) items.add(id);
  const n = rows.length;
  const data: RatingsData = { users: new Int32Array(n), items: new Int32Array(n), ratings: new Float32Array(n) };
  const withTime = rows.every((e) => typeof e?.time === 'number');
  if (withTime) data.timestamps = new Float64Array(n);
  const withWeight = rows.some((e) => e?.weight !== undefined);
  if (withWeight) data.weights = new Float32Array(n);
  rows.forEach((e, r) => {
    if (!e || typeof e !== 'object') fail('BAD_INPUT', `events[${r}] must be { user, item, rating?, time? }`);
    for (const side of ['user', 'item'] as const) checkId(e[side], `events[${r}].${side}`);
    data.users[r] = users.add(String(e.user));
    data.items[r] = items.add(String(e.item));
    if (task === 'rating') {
      if (typeof e.rating !== 'number' || !Number.isFinite(e.rating))
        fail(
          'BAD_INPUT',
          `events[${r}].rating is ${JSON.stringify(e.rating)}: the rating task needs a finite rating on every event`,
        );
      data.ratings[r] = e.rating;
    } else {
      data.ratings[r] = typeof e.rating === 'number' && Number.isFinite(e.rating) ? e.rating : 1;
    }
    if (withTime) data.timestamps![r] = e.time!;
    if (withWeight) {
      const w = e.weight ?? 1;
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
        fail('BAD_INPUT', `events[${r}].weight is ${JSON.stringify(e.weight)}: weights must be finite and ≥ 0`);
      data.weights![r] = w;
    }
  });
  users.freeze();
  items.freeze();
  const loss = options.loss ?? (task === 'rating' ? 'mse' : 'softmax');
  if (resolveLoss(loss).implicit !== (task === 'retrieval')) fail('BAD_OPTION', `loss '${loss}' does not fit the ${task} task`);
  const vocabularies = { user: users, item: items };
  const built: Partial<Record<'user' | 'item', BuiltSideFeatures>> = {};
  for (const side of ['user', 'item'] as const)
    if (checked[side])
      built[side] = encodeEntityValues(values[side]!, checked[side], vocabularies[side], undefined, `train: options.${side}s`);
  const recipeData = { train: data, users, items, userSide: built.user, itemSide: built.item };
  const o = recipeOptions(loss, { ...given, ...(withFeatures ? { sideFeatures: true } : {}) });
  const { model } =
    recipe === 'best' ? await trainBest(recipeData, { ...o, seeds, autorecSeeds }) : await trainRecipe(recipeData, o);
  try {
    if (labels !== undefined) setLabelsOn(internals(model), labels, 'train: options.labels');
  } catch (error) {
    model.dispose();
    throw error;
  }
  if (!withFeatures) return model;
  try {
    const metadata: Record<string, unknown> = {};
    for (const side of ['user', 'item'] as const) {
      if (!checked[side]) continue;
      // What the CLI records for its side files: update() and addItems() encode new entities by them.
      metadata[`${side}Specs`] = checked[side].specs;
      metadata[`${side}Encoding`] = built[side]!.encoding;
      startFeatureOnlyRows(model, side, side === 'user' ? data.users : data.items, vocabularies[side].size);
    }
    model.metadata = { ...model.metadata, ...metadata };
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * Entities given features but no event start where their features point, as addItems' cold
 * items do: in a linear tower with side features, their id rows and biases are predicted by the
 * regression fitted on the trained ones (src/train/cold-rows.ts); otherwise they keep their
 * initial rows.
 */
function startFeatureOnlyRows(model: Model, side: 'user' | 'item', rows: Int32Array, count: number): void {
  const trained = new Uint8Array(count);
  for (const r of rows) trained[r] = 1;
  const warm: number[] = [],
    cold: number[] = [];
  for (let r = 1; r < count; r++) (trained[r] ? warm : cold).push(r);
  if (cold.length > 0) regressColdRows(internals(model), side, warm, cold);
}

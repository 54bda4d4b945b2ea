// The training recipes live in src/api/recipe.ts (they run in browsers too); here with
// worker_threads for `threads > 1`, for Node users, the CLI and the benchmarks.
import {
  trainRecipe as coreTrainRecipe,
  train as coreTrain,
  type RecipeData,
  type RecipeOptions,
  type RecipeResult,
  type TrainEvent,
  type TrainOptions,
} from '../api/recipe.js';
import type { Model } from '../api/model.js';
import { nodeSpawner } from './threads.js';

export * from '../api/recipe.js';

/** trainRecipe with worker_threads for `threads > 1`. */
export function trainRecipe(ds: RecipeData, o: RecipeOptions): Promise<RecipeResult> {
  return coreTrainRecipe(ds, o, nodeSpawner);
}

/** train with worker_threads for `threads > 1`. */
export function train(events: Iterable<TrainEvent>, options: TrainOptions = {}): Promise<Model> {
  return coreTrain(events, options, nodeSpawner);
}

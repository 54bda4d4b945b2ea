// twotower/node: the file loaders and model-file I/O, for Node. Re-exports the core too.
export * from '../index.js';
// The Node flavour of createScorer (worker_threads for threads > 1) replaces the core one.
export { createScorer, createIndex, createModel, nodeSpawner } from './threads.js';
export { train } from './recipe.js';
export {
  loadRatingsFile,
  detectFormat,
  type RatingsFileOptions,
  type LoadedRatings,
  type RatingsFormat,
} from './ratings-file.js';
export { readDelimited, type DelimitedOptions, type Delimiter } from './delimited.js';
export { loadDataset, type Dataset, type DatasetOptions } from './dataset.js';
export {
  findMovieLensSideFiles,
  readSideFile,
  inferSideFeatures,
  MOVIELENS_100K_USERS,
  MOVIELENS_100K_ITEMS,
  MOVIELENS_LATEST_ITEMS,
} from './side-files.js';
export { saveModel, loadModelFile } from './model-io.js';

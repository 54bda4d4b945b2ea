// twotower/node: the core API, plus the file loaders and model-file I/O, for Node. `twotower`
// resolves here in Node (the package's "node" export condition).
// First: worker_threads become the platform's threads (./platform.ts) before anything can run,
// so createModel, createScorer, createIndex, train and trainRecipe, re-exported unchanged from
// the core, run `threads > 1` on them.
import './platform.js';
export * from '../index.js';
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
export { writePyTorchExport, readPyTorchExport, importModelDirectory } from './pytorch-files.js';

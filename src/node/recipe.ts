// The training recipes live in src/api/recipe.ts (they run in browsers too); re-exported here
// for the CLI and the benchmarks, which train on a loaded Dataset.
export * from '../api/recipe.js';

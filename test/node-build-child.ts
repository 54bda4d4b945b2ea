// Child of test/node-versions.test.ts, run by a plain `node` with only the flags under test: prints
// which build 'auto' picks and which builds a one-thread and a 2-thread model run on.
import { createModel, loadWasmBackend } from '../src/node/index.js';
import { tinyConfig, tinyFeatures } from './fixtures.js';

const one = await createModel(tinyConfig(), tinyFeatures());
const two = await createModel(tinyConfig(), { ...tinyFeatures(), threads: 2 });
console.log(
  JSON.stringify({ auto: (await loadWasmBackend()).kind, model: one.kernels, threaded: `${two.kernels} × ${two.threads}` }),
);
one.dispose();
two.dispose();

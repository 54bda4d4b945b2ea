// Recipe workers (recipe: 'best''s members, tune's penalties) as the tests start them: on the
// TypeScript source, through a bootstrap that registers tsx, as the package's
// dist/node/member-worker.js runs the built code; installed through the platform seam, so that a
// test can wrap the spawner to edit a job or kill a worker.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodePlatform, nodeMemberSpawner } from '../src/node/platform.js';
import { setPlatform, type MemberSpawner } from '../src/wasm/platform.js';

const ROOT = resolve(import.meta.dirname, '..');
const href = (path: string) => pathToFileURL(resolve(ROOT, path)).href;
/** A worker script that registers tsx, then runs the recipe worker's source. */
const BOOTSTRAP = new URL(
  'data:text/javascript,' +
    encodeURIComponent(
      `import { register } from ${JSON.stringify(href('node_modules/tsx/dist/esm/api/index.mjs'))};\n` +
        `register();\nawait import(${JSON.stringify(href('src/node/member-worker.ts'))});\n`,
    ),
);

/** Starts recipe workers on the source. */
export const sourceSpawner = nodeMemberSpawner(BOOTSTRAP);

/** Recipe workers from the source, started by `spawner` (default: as they are). */
export const useWorkers = (spawner: MemberSpawner = sourceSpawner) => setPlatform({ ...nodePlatform, members: () => spawner });

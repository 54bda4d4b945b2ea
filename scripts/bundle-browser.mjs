// Bundles the public entry point into one ESM file for browsers (dist/twotower.browser.js).
// The kernels are inlined as base64, so the file needs nothing beside it.
import { build } from 'esbuild';

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
};
// The pool's Web Worker, loaded from beside the bundle (new URL('./twotower.worker.js', import.meta.url)).
await build({ ...common, entryPoints: ['src/wasm/web-worker.ts'], outfile: 'dist/twotower.worker.js' });
await build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/twotower.browser.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});

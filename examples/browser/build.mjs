// The example's own build, as an app built on the package would have it: esbuild bundles the
// page and its worker from src/ into dist/, resolving `twotower` like any dependency (here the
// package this example lives in, by its name).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
await build({
  absWorkingDir: here,
  entryPoints: ['src/main.js', 'src/worker.js'],
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
console.log(`example built: ${here}dist`);

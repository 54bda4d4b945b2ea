// Builds the four targets of the shipped kernels (assembly/index.ts), inlines them and generates
// the kernel types, and the two targets of the extras module (assembly/extras/index.ts: kernels
// for benchmarks and tests only, into build/extras/, which package.json's "files" leaves out) —
// unless nothing they depend on changed since the last build (assembly/, asconfig.json, the
// AssemblyScript version, these scripts): then it says so and stops, so `npm test` does not
// rebuild unchanged kernels. `--force` rebuilds anyway.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const root = new URL('../', import.meta.url);
const read = (path) => readFileSync(new URL(path, root));
const hash = createHash('sha256');
const sources = readdirSync(new URL('assembly/', root), { recursive: true }).map((name) => `assembly/${name}`);
for (const name of sources.filter((path) => statSync(new URL(path, root)).isFile()).sort()) hash.update(name).update(read(name));
for (const file of ['asconfig.json', 'scripts/build-wasm.mjs', 'scripts/inline-wasm.mjs', 'scripts/kernel-bindings.mjs'])
  hash.update(read(file));
const require = createRequire(import.meta.url);
hash.update(require('assemblyscript/package.json').version);
const digest = hash.digest('hex');

const stamp = new URL('build/.sources-sha256', root);
const outputs = [
  'build/kernels-simd.wasm',
  'build/kernels-relaxed.wasm',
  'build/kernels-simd-threads.wasm',
  'build/kernels-relaxed-threads.wasm',
  'build/extras/kernels-extras-simd.wasm',
  'build/extras/kernels-extras-relaxed.wasm',
  'src/wasm/generated/kernels-simd.ts',
  'src/backend/generated/kernels.ts',
];
const fresh = existsSync(stamp) && readFileSync(stamp, 'utf8') === digest && outputs.every((o) => existsSync(new URL(o, root)));
if (fresh && !process.argv.includes('--force')) {
  console.log('kernels: up to date (assembly/ unchanged)');
  process.exit(0);
}
const asc = require.resolve('assemblyscript/bin/asc.js');
for (const target of ['simd', 'relaxed', 'simd-threads', 'relaxed-threads']) {
  execFileSync(process.execPath, [asc, 'assembly/index.ts', '--target', target], { cwd: root, stdio: 'inherit' });
}
mkdirSync(new URL('build/extras/', root), { recursive: true });
for (const target of ['extras-simd', 'extras-relaxed']) {
  execFileSync(process.execPath, [asc, 'assembly/extras/index.ts', '--target', target], { cwd: root, stdio: 'inherit' });
}
execFileSync(process.execPath, ['scripts/inline-wasm.mjs'], { cwd: root, stdio: 'inherit' });
execFileSync(process.execPath, ['scripts/kernel-bindings.mjs'], { cwd: root, stdio: 'inherit' });
mkdirSync(new URL('build/', root), { recursive: true });
writeFileSync(stamp, digest);
console.log('kernels: built');

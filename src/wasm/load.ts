// Loading the kernel module and wrapping one instance as a Backend. The only place in src/
// that touches WebAssembly.*. Two builds exist: plain SIMD, and relaxed SIMD (fused
// multiply-add), which 'auto' picks when the host validates it (Chromium does; Node 20 only
// with --experimental-wasm-relaxed-simd).

import { SIMD_WASM_BASE64 } from './generated/kernels-simd.js';
import { RELAXED_WASM_BASE64 } from './generated/kernels-relaxed.js';
import { SIMD_THREADS_WASM_BASE64 } from './generated/kernels-simd-threads.js';
import { RELAXED_THREADS_WASM_BASE64 } from './generated/kernels-relaxed-threads.js';
import {
  AllocationLedger,
  MAX_BLOCK_BYTES,
  formatBytes,
  type Backend,
  type Floats,
  type HeapStats,
  type Kernels,
} from '../backend/contract.js';
import { KERNEL_ARITY, type KernelExports } from '../backend/generated/kernels.js';
import { fail } from '../errors.js';
import { instantiateKernels, settled } from './instantiate.js';

export type KernelBuild = 'simd' | 'relaxed';

export interface LoadOptions {
  /** Which inlined build to run; 'auto' takes relaxed SIMD when the host accepts it. Default 'auto'. */
  build?: 'auto' | KernelBuild;
  /** A precompiled module (for hosts that forbid compiling from bytes). Takes precedence over bytes and url. */
  module?: WebAssembly.Module;
  /** The bytes of a kernels .wasm file (from `twotower/kernels-simd.wasm` or `-relaxed.wasm`). */
  bytes?: ArrayBuffer | Uint8Array;
  /** Where to fetch a kernels .wasm file from (browsers; in Node pass `bytes`). */
  url?: string | URL;
  /**
   * Use the threads build: its memory is a shared WebAssembly.Memory that worker instances of
   * the same module can run kernels on. Only the inlined builds. Default false.
   */
  shared?: boolean;
}

/** Whether this host can share WebAssembly memory between threads (SharedArrayBuffer and Atomics). */
export function supportsSharedMemory(): boolean {
  try {
    if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Pages (64 KiB) of a shared memory: it cannot grow past its maximum, so reserve 2 GiB. */
const SHARED_INITIAL_PAGES = 32;
const SHARED_MAXIMUM_PAGES = 32768;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();
const INLINED: Record<string, string> = {
  simd: SIMD_WASM_BASE64,
  relaxed: RELAXED_WASM_BASE64,
  'simd-threads': SIMD_THREADS_WASM_BASE64,
  'relaxed-threads': RELAXED_THREADS_WASM_BASE64,
};

/** Whether this host runs relaxed SIMD (checked once by validating the relaxed build itself). */
let relaxedSupported: boolean | undefined;
export function supportsRelaxedSimd(): boolean {
  relaxedSupported ??= WebAssembly.validate(decodeBase64(RELAXED_WASM_BASE64));
  return relaxedSupported;
}

function inlinedModule(build: KernelBuild, shared = false): Promise<WebAssembly.Module> {
  const key = shared ? `${build}-threads` : build;
  let module = compiled.get(key);
  if (!module) {
    module = settled(WebAssembly.compile(decodeBase64(INLINED[key]!)));
    compiled.set(key, module);
  }
  return module;
}

/** Compiles kernel bytes; bytes that are not WebAssembly give LOAD_FAILED naming where they came from. */
async function compileKernels(bytes: BufferSource, where: string): Promise<WebAssembly.Module> {
  try {
    return await settled(WebAssembly.compile(bytes));
  } catch (cause) {
    fail('LOAD_FAILED', `${where} is not a WebAssembly module twotower can compile: ${(cause as Error).message}`, {}, { cause });
  }
}

async function resolveModule(options: LoadOptions): Promise<{ module: WebAssembly.Module; build: KernelBuild }> {
  const build = options.build ?? 'auto';
  if (build !== 'auto' && build !== 'simd' && build !== 'relaxed') {
    fail('BAD_OPTION', `build must be 'auto', 'simd' or 'relaxed', got ${JSON.stringify(build)}`);
  }
  let module: WebAssembly.Module | undefined = options.module;
  if (module !== undefined && !(module instanceof WebAssembly.Module))
    fail('BAD_OPTION', 'wasm.module must be a WebAssembly.Module');
  if (!module && options.bytes) module = await compileKernels(options.bytes as BufferSource, 'wasm.bytes');
  if (!module && options.url !== undefined) {
    let response: Response;
    try {
      response = await fetch(options.url);
    } catch (cause) {
      fail('LOAD_FAILED', `fetching ${String(options.url)} failed: ${(cause as Error).message}`, {}, { cause });
    }
    if (!response.ok) fail('LOAD_FAILED', `fetching ${String(options.url)} failed: HTTP ${response.status}`);
    module = await compileKernels(await response.arrayBuffer(), String(options.url));
  }
  // A module supplied by the caller is labelled by `build` ('relaxed' when it says so); the
  // label only reports which arithmetic ran, the module itself decides.
  if (module) return { module, build: build === 'relaxed' ? 'relaxed' : 'simd' };
  if (build === 'relaxed' && !supportsRelaxedSimd()) {
    fail('UNSUPPORTED', 'this host does not run relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)');
  }
  const chosen: KernelBuild = build === 'auto' ? (supportsRelaxedSimd() ? 'relaxed' : 'simd') : build;
  return { module: await inlinedModule(chosen, options.shared === true), build: chosen };
}

/** The instance's exports: the generated kernel signatures and, for builds that own it, the memory. */
type ModuleExports = KernelExports & { memory: WebAssembly.Memory };

/**
 * Checks that an instance exports every kernel this package calls, with the arity it was
 * generated with: a .wasm file from another version fails here, by name, not later in a call.
 */
function checkExports(exports: WebAssembly.Exports): ModuleExports {
  for (const [name, arity] of Object.entries(KERNEL_ARITY)) {
    const fn = exports[name];
    if (typeof fn !== 'function')
      fail('LOAD_FAILED', `the kernel module does not export ${name}(): is it a twotower kernels .wasm of this version?`);
    if (fn.length !== arity)
      fail('LOAD_FAILED', `the kernel module's ${name}() takes ${fn.length} arguments, this version expects ${arity}`);
  }
  return exports as unknown as ModuleExports;
}

/** One instance of the kernel module: its own memory and allocator. */
export class WasmBackend implements Backend {
  readonly floatBytes = 4 as const;
  readonly kernels: Kernels;
  private readonly exports: ModuleExports;
  private readonly ledger = new AllocationLedger();

  constructor(
    readonly kind: KernelBuild,
    instance: WebAssembly.Instance,
    readonly module: WebAssembly.Module,
    private readonly sharedMemory?: WebAssembly.Memory,
  ) {
    this.exports = checkExports(instance.exports);
    const { alloc: _alloc, free: _free, memory: _memory, gather_32, ...kernels } = this.exports;
    // i32 and f32 gathers are one kernel in WASM (both move 32-bit words).
    this.kernels = { ...kernels, gather_i32: gather_32, gather_f32: gather_32 };
    // The relaxed build's int8 index is stored in the relaxed dot's 7-bit form; its scan checks
    // inline whether the compiled code computes that dot right (assembly/score-int8.ts).
    this.int8Seven = kind === 'relaxed' ? 1 : 0;
  }

  readonly int8Seven: 0 | 1;

  get memoryLimit(): number {
    return this.shared ? SHARED_MAXIMUM_PAGES * 65536 : 2 ** 32;
  }

  get memory(): WebAssembly.Memory {
    return this.sharedMemory ?? this.exports.memory;
  }

  /** True for the threads build: workers may instantiate `module` on `memory`. */
  get shared(): boolean {
    return this.sharedMemory !== undefined;
  }

  alloc(bytes: number): number {
    if (!(bytes > 0)) bytes = 16;
    if (!Number.isFinite(bytes) || bytes > MAX_BLOCK_BYTES) {
      fail(
        'OUT_OF_MEMORY',
        `a block of ${formatBytes(bytes)} is needed, over the WebAssembly allocator's limit of 1 GiB per block: use fewer ids (hashed ids), a smaller dim, or fewer queries / a smaller k per call (docs/limits.md)`,
      );
    }
    let ptr = 0;
    try {
      ptr = this.exports.alloc(bytes) >>> 0;
    } catch (cause) {
      // TLSF traps (unreachable) when memory.grow fails: the memory is at its maximum.
      const limit = this.shared ? '2 GiB (threads build)' : '4 GiB';
      fail(
        'OUT_OF_MEMORY',
        `could not allocate ${formatBytes(bytes)}: the WebAssembly memory holds ${formatBytes(this.memory.buffer.byteLength)} and cannot grow past ${limit}; free models and scorers you no longer use, or use fewer ids, a smaller dim or smaller batches (docs/limits.md)`,
        {},
        { cause },
      );
    }
    if (ptr === 0) fail('OUT_OF_MEMORY', `the WASM heap could not allocate ${formatBytes(bytes)}`);
    this.ledger.add(ptr, bytes);
    return ptr;
  }

  free(ptr: number): void {
    this.ledger.remove(ptr);
    this.exports.free(ptr);
  }

  floats(ptr: number, n: number): Floats {
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  ints(ptr: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, n);
  }

  bytes(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, n);
  }

  stats(): HeapStats {
    return { liveBlocks: this.ledger.liveBlocks, liveBytes: this.ledger.liveBytes, memoryBytes: this.memory.buffer.byteLength };
  }
}

/**
 * BAD_OPTION unless `options` is an object whose boolean options are true, false or absent, never
 * truthy strings ('yes', 'false'). Local, as wasm/ sits below data/checks.ts, with its wording.
 */
function checkLoadOptions(options: unknown): asserts options is LoadOptions {
  const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v) : String(v));
  if (options === null || typeof options !== 'object')
    fail('BAD_OPTION', `loadWasmBackend: options must be an object, got ${show(options)}`);
  for (const name of ['shared'] as const) {
    const value = (options as LoadOptions)[name] as unknown;
    if (value !== undefined && typeof value !== 'boolean')
      fail('BAD_OPTION', `loadWasmBackend: options.${name} must be true or false, got ${show(value)}`);
  }
}

/** Compiles (once per build) and instantiates the kernels; each call gives a fresh memory. */
export async function loadWasmBackend(options: LoadOptions = {}): Promise<WasmBackend> {
  checkLoadOptions(options);
  if (options.shared && (options.module || options.bytes || options.url)) {
    fail('BAD_OPTION', 'the threads build is only available inlined: pass shared without module, bytes or url');
  }
  if (options.shared && !supportsSharedMemory()) fail('UNSUPPORTED', 'this host cannot share WebAssembly memory between threads');
  const { module, build } = await resolveModule(options);
  const memory = options.shared
    ? new WebAssembly.Memory({ initial: SHARED_INITIAL_PAGES, maximum: SHARED_MAXIMUM_PAGES, shared: true })
    : undefined;
  const instance = await instantiateKernels(module, memory);
  return new WasmBackend(build, instance, module, memory);
}

export { instantiateKernels };

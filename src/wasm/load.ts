// Loading the kernel module and wrapping one instance as a Backend. The only place in src/
// that touches WebAssembly.*. Two builds exist: plain SIMD, and relaxed SIMD (fused
// multiply-add), which 'auto' picks when the host validates it (Chromium does; Node 20 only
// with --experimental-wasm-relaxed-simd).

import { SIMD_WASM_BASE64 } from './generated/kernels-simd.js';
import { RELAXED_WASM_BASE64 } from './generated/kernels-relaxed.js';
import { AllocationLedger, type Backend, type Floats, type HeapStats, type Kernels } from './backend.js';
import { fail } from '../errors.js';

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
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const compiled = new Map<KernelBuild, Promise<WebAssembly.Module>>();

/** Whether this host runs relaxed SIMD (checked once by validating the relaxed build itself). */
let relaxedSupported: boolean | undefined;
export function supportsRelaxedSimd(): boolean {
  relaxedSupported ??= WebAssembly.validate(decodeBase64(RELAXED_WASM_BASE64));
  return relaxedSupported;
}

function inlinedModule(build: KernelBuild): Promise<WebAssembly.Module> {
  let module = compiled.get(build);
  if (!module) {
    const bytes = decodeBase64(build === 'simd' ? SIMD_WASM_BASE64 : RELAXED_WASM_BASE64);
    module = WebAssembly.compile(bytes);
    compiled.set(build, module);
  }
  return module;
}

async function resolveModule(options: LoadOptions): Promise<{ module: WebAssembly.Module; build: KernelBuild }> {
  const build = options.build ?? 'auto';
  if (build !== 'auto' && build !== 'simd' && build !== 'relaxed') {
    fail('BAD_OPTION', `build must be 'auto', 'simd' or 'relaxed', got ${JSON.stringify(build)}`);
  }
  let module: WebAssembly.Module | undefined = options.module;
  if (!module && options.bytes) module = await WebAssembly.compile(options.bytes as BufferSource);
  if (!module && options.url !== undefined) {
    const response = await fetch(options.url);
    if (!response.ok) fail('LOAD_FAILED', `fetching ${String(options.url)} failed: HTTP ${response.status}`);
    module = await WebAssembly.compile(await response.arrayBuffer());
  }
  // A module supplied by the caller is labelled by `build` ('relaxed' when it says so); the
  // label only reports which arithmetic ran, the module itself decides.
  if (module) return { module, build: build === 'relaxed' ? 'relaxed' : 'simd' };
  if (build === 'relaxed' && !supportsRelaxedSimd()) {
    fail('UNSUPPORTED', 'this host does not run relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)');
  }
  const chosen: KernelBuild = build === 'auto' ? (supportsRelaxedSimd() ? 'relaxed' : 'simd') : build;
  return { module: await inlinedModule(chosen), build: chosen };
}

interface KernelExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  gather_32(out: number, src: number, idx: number, n: number): void;
}

/** One instance of the kernel module: its own memory and allocator. */
export class WasmBackend implements Backend {
  readonly floatBytes = 4 as const;
  readonly kernels: Kernels;
  private readonly exports: KernelExports;
  private readonly ledger = new AllocationLedger();

  constructor(readonly kind: KernelBuild, instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as KernelExports;
    const raw = instance.exports as unknown as Kernels;
    // i32 and f32 gathers are one kernel in WASM (both move 32-bit words).
    this.kernels = { ...raw, gather_i32: this.exports.gather_32, gather_f32: this.exports.gather_32 };
  }

  get memory(): WebAssembly.Memory { return this.exports.memory; }

  alloc(bytes: number): number {
    if (!(bytes > 0)) bytes = 16;
    const ptr = this.exports.alloc(bytes) >>> 0;
    if (ptr === 0) fail('OUT_OF_MEMORY', `the WASM heap could not allocate ${bytes} bytes`);
    this.ledger.add(ptr, bytes);
    return ptr;
  }

  free(ptr: number): void {
    this.ledger.remove(ptr);
    this.exports.free(ptr);
  }

  floats(ptr: number, n: number): Floats {
    return new Float32Array(this.exports.memory.buffer, ptr, n);
  }

  ints(ptr: number, n: number): Int32Array {
    return new Int32Array(this.exports.memory.buffer, ptr, n);
  }

  stats(): HeapStats {
    return { liveBlocks: this.ledger.liveBlocks, liveBytes: this.ledger.liveBytes, memoryBytes: this.exports.memory.buffer.byteLength };
  }
}

/** Compiles (once per build) and instantiates the kernels; each call gives a fresh memory. */
export async function loadWasmBackend(options: LoadOptions = {}): Promise<WasmBackend> {
  const { module, build } = await resolveModule(options);
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(_msg: number, _file: number, line: number, column: number) {
        throw new Error(`twotower kernel aborted at ${line}:${column}`);
      },
    },
  });
  return new WasmBackend(build, instance);
}

// The pointer-level contract between the model code and whatever runs the arithmetic: the WASM
// kernels (f32, src/wasm/) or their TypeScript reference twins (f64, src/reference/). Model code
// is written once against this interface; pointers are byte addresses into the backend's heap,
// every float occupies `floatBytes` bytes there, ints 4.
import { fail } from '../errors.js';
import type { KernelExports } from './generated/kernels.js';

/** Row-major float storage as a backend exposes it: f32 in WASM, f64 in the reference. */
export type Floats = Float32Array | Float64Array;

/**
 * The kernels, derived from the compiled module's exports (src/backend/generated/kernels.ts is
 * written from asc's bindings of assembly/index.ts): everything but the allocator, with the one
 * 32-bit gather seen twice, for i32 and for float data (the same kernel in WASM; the reference
 * stores floats as f64, so it needs two).
 */
export type Kernels = Omit<KernelExports, 'alloc' | 'free' | 'gather_32'> & {
  /** out[r] = src[idx[r]] over i32 values. */
  gather_i32: KernelExports['gather_32'];
  /** out[r] = src[idx[r]] over floats. */
  gather_f32: KernelExports['gather_32'];
};

/**
 * The largest block a backend hands out: AssemblyScript's allocator refuses blocks of 1 GiB and
 * more (its BLOCK_MAXSIZE is 2³⁰ minus a 4-byte header; a little is kept for alignment). Code
 * that sizes a block from caller input checks it against this first.
 */
export const MAX_BLOCK_BYTES = 2 ** 30 - 64;

/** Bytes in human units, for messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

/** Which arithmetic runs: the two WASM builds, or the f64 TypeScript reference. */
export type BackendKind = 'simd' | 'relaxed' | 'reference';

export interface HeapStats {
  /** Blocks allocated and not yet freed. */
  liveBlocks: number;
  /** Bytes in those blocks, as requested. */
  liveBytes: number;
  /** Size of the whole memory (WASM: memory.buffer.byteLength). */
  memoryBytes: number;
}

export interface Backend {
  readonly kind: BackendKind;
  readonly kernels: Kernels;
  /** The most bytes the heap can ever hold (WASM: 4 GiB, 2 GiB for the shared threads build; the reference: unbounded). */
  readonly memoryLimit: number;
  /**
   * 1 where the int8 index is stored in the form relaxed_dot_i8x16_i7x16_add_s reads (7-bit
   * rows plus 64): the relaxed build, whose scan uses that instruction wherever the compiled
   * code computes it as specified (checked inline: V8 11.3's baseline tier does not) and the
   * integer dot products elsewhere; 0 for plain rows and integer dot products.
   */
  readonly int8Seven: 0 | 1;
  /** Bytes per float element in this backend's heap (4 for WASM, 8 for the reference). */
  readonly floatBytes: 4 | 8;
  /** Allocates `bytes` bytes, 16-byte aligned, and returns the byte address (never 0). */
  alloc(bytes: number): number;
  free(ptr: number): void;
  /** A view of n floats at ptr. Views may detach when memory grows: take a fresh one per use. */
  floats(ptr: number, n: number): Floats;
  /** A view of n i32 values at ptr; same lifetime rule as `floats`. */
  ints(ptr: number, n: number): Int32Array;
  /** A view of n bytes at ptr; same lifetime rule as `floats`. */
  bytes(ptr: number, n: number): Uint8Array;
  stats(): HeapStats;
}

/** Tracks live allocations so tests can prove that training does not leak heap blocks. */
export class AllocationLedger {
  private readonly sizes = new Map<number, number>();
  private bytes = 0;
  add(ptr: number, bytes: number): void {
    this.sizes.set(ptr, bytes);
    this.bytes += bytes;
  }
  remove(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) fail('INTERNAL', `free of a pointer that is not allocated: ${ptr}`);
    this.sizes.delete(ptr);
    this.bytes -= size;
  }
  get liveBlocks(): number {
    return this.sizes.size;
  }
  get liveBytes(): number {
    return this.bytes;
  }
}

/**
 * Kernels whose work splits by rows with the same bits on any number of threads: each output
 * row is computed by one thread, in the one summation order (assembly/simd.ts), or (the
 * initialisation kernels) from its own row index alone; lazy Adam's rows are independent; the
 * multi-hot gradient splits by 16-column blocks, each column summed in one order.
 */
export const ROW_KERNELS = [
  'score_matrix',
  'softmax_xent',
  'ccl_loss',
  'l2_normalize_rows',
  'l2_normalize_backward',
  'dense_forward',
  'dense_backward_input',
  'dense_backward_weight',
  'random_normal_f32',
  'random_uniform_f32',
  'embedding_bag',
  'embedding_bag_scatter_add_cols',
  'adam_rows',
] as const;
export type RowKernel = (typeof ROW_KERNELS)[number];

/** One thread's share of a row-parallel operation: a kernel and its arguments. */
export type RowCall = { [K in RowKernel]: { kernel: K; args: Parameters<KernelExports[K]> } }[RowKernel];

/** Threads that run kernel calls side by side on a backend's shared memory (wasm/pool.ts). */
export interface KernelThreads {
  /** Threads, the calling one included. */
  readonly size: number;
  /** Runs calls[t] on thread t (calls[0] on the calling thread); returns when all are done. */
  run(calls: RowCall[]): void;
  close(): void;
}

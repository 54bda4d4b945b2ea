// The pointer-level contract between the model code and whatever runs the arithmetic: the WASM
// kernels (f32) or their TypeScript reference twins (f64, for gradient checks). Model code is
// written once against this interface; pointers are byte addresses into the backend's heap and
// every float occupies `floatBytes` bytes there, ints 4.

/** Row-major float storage as a backend exposes it: f32 in WASM, f64 in the reference. */
export type Floats = Float32Array | Float64Array;

/**
 * The kernels, named and ordered as exported by assembly/index.ts (outputs, inputs, sizes,
 * scalar settings). Booleans travel as 0/1. See the assembly files for shapes and contracts.
 */
export interface Kernels {
  zero_f32(p: number, n: number): void;
  copy_f32(dst: number, src: number, n: number): void;
  count_nonfinite(p: number, n: number): number;
  /** Sum of n floats, read once (the bandwidth floor of a scan). */
  stream_sum(p: number, n: number): number;
  dense_forward(y: number, x: number, w: number, b: number, m: number, k: number, n: number): void;
  dense_backward_input(dx: number, dy: number, w: number, m: number, k: number, n: number): void;
  dense_backward_weight(dw: number, x: number, dy: number, m: number, k: number, n: number, accumulate: number): void;
  bias_backward(db: number, dy: number, m: number, n: number, accumulate: number): void;
  relu_forward(y: number, x: number, n: number): void;
  relu_backward(dx: number, dy: number, y: number, n: number): void;
  clamp_f32(x: number, n: number, lo: number, hi: number): void;
  embedding_gather(out: number, table: number, ids: number, n: number, dim: number, ld: number): void;
  embedding_scatter_add(dtable: number, dout: number, ids: number, n: number, dim: number, ld: number): void;
  embedding_bag(out: number, table: number, offsets: number, ids: number, weights: number, rows: number,
    skip: number, n: number, dim: number, ld: number, mean: number): void;
  embedding_bag_scatter_add(dtable: number, dout: number, offsets: number, ids: number, weights: number,
    rows: number, skip: number, n: number, dim: number, ld: number, mean: number): void;
  gather_rows(out: number, src: number, rows: number, n: number, width: number, ld: number): void;
  embedding_bag_attention(out: number, table: number, offsets: number, ids: number, rows: number, n: number, dim: number,
    ld: number, query: number): void;
  embedding_bag_attention_backward(dtable: number, dquery: number, dout: number, table: number, offsets: number, ids: number,
    rows: number, n: number, dim: number, ld: number, query: number): void;
  /** out[r] = src[idx[r]] over i32 values. */
  gather_i32(out: number, src: number, idx: number, n: number): void;
  /** out[r] = src[idx[r]] over floats. */
  gather_f32(out: number, src: number, idx: number, n: number): void;
  rowwise_dot(s: number, u: number, v: number, n: number, d: number): void;
  rowwise_dot_backward(du: number, dv: number, ds: number, u: number, v: number, n: number, d: number): void;
  add_pair_bias(s: number, g: number, ub: number, uids: number, ib: number, iids: number, n: number): void;
  mse_loss(ds: number, s: number, y: number, n: number): number;
  l2_penalty(dx: number, x: number, n: number, scale: number): number;
  bce_loss(ds: number, s: number, y: number, n: number): number;
  bpr_loss(ds: number, s: number, n: number): number;
  softmax_xent(dS: number, S: number, logq: number, ids: number, n: number, temperature: number): number;
  rank_targets(ranks: number, s: number, n: number, targets: number, m: number, exIds: number, e: number): void;
  embedding_l2(dtable: number, table: number, ids: number, n: number, dim: number, scale: number): number;
  adam_update(p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number,
    beta2: number, eps: number, decay: number, bc1: number, bc2: number): void;
  score_matrix(s: number, q: number, items: number, b: number, n: number, d: number): void;
  topk_reset(counts: number, b: number): void;
  score_topk(outIdx: number, outScore: number, counts: number, queries: number, items: number, exOffsets: number,
    exIds: number, b: number, n: number, d: number, k: number, itemBase: number): void;
  topk_merge(outIdx: number, outScore: number, counts: number, candIdx: number, candScore: number, b: number,
    k: number, m: number): void;
  topk_finish(outIdx: number, outScore: number, counts: number, b: number, k: number): void;
  /** Rows of n×d floats → n×dPad int8 (bytes) with one f32 scale per row. */
  quantize_rows_i8(out: number, scales: number, x: number, n: number, d: number, dPad: number): void;
  score_topk_i8(outIdx: number, outScore: number, counts: number, qq: number, qscales: number, iq: number,
    iscales: number, exOffsets: number, exIds: number, b: number, n: number, dPad: number, m: number, itemBase: number): void;
  score_rescore(outIdx: number, outScore: number, counts: number, queries: number, items: number, candIdx: number,
    b: number, m: number, d: number, k: number): void;
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
  /** Bytes per float element in this backend's heap (4 for WASM, 8 for the reference). */
  readonly floatBytes: 4 | 8;
  /** Allocates `bytes` bytes, 16-byte aligned, and returns the byte address (never 0). */
  alloc(bytes: number): number;
  free(ptr: number): void;
  /** A view of n floats at ptr. Views may detach when memory grows: take a fresh one per use. */
  floats(ptr: number, n: number): Floats;
  /** A view of n i32 values at ptr; same lifetime rule as `floats`. */
  ints(ptr: number, n: number): Int32Array;
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
    if (size === undefined) throw new Error(`free of a pointer that is not allocated: ${ptr}`);
    this.sizes.delete(ptr);
    this.bytes -= size;
  }
  get liveBlocks(): number { return this.sizes.size; }
  get liveBytes(): number { return this.bytes; }
}

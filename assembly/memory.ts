// The heap the TypeScript side allocates parameters, batches and scratch from. Blocks come
// from AssemblyScript's TLSF allocator (runtime "minimal"), so free() really reclaims them.

/** Allocates `bytes` bytes, 16-byte aligned; returns the byte address. */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Sets n f32 values at p to zero. */
export function zero_f32(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n << 2);
}

/** Copies n f32 values from src to dst (may overlap). */
export function copy_f32(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

/** Number of values among n f32 at p that are NaN or infinite. */
export function count_nonfinite(p: usize, n: i32): i32 {
  let bad = 0;
  for (let i = 0; i < n; i++) if (!isFinite<f32>(load<f32>(p + (<usize>i << 2)))) bad++;
  return bad;
}

/**
 * Reads n f32 values once and returns their sum: the time it takes is the memory-bandwidth
 * floor of any scan over the same data (the benchmarks' physical reference).
 */
export function stream_sum(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = p + (<usize>i << 2);
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));
    a3 = f32x4.add(a3, v128.load(q, 48));
  }
  const v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let s = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
  for (; i < n; i++) s += load<f32>(p + (<usize>i << 2));
  return s;
}

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

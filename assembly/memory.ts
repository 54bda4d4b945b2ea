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

/**
 * Number of values among n f32 at p that are NaN or infinite: x − x is 0 exactly when x is
 * finite. Vectorised, so that checking embeddings passed in costs about what copying them does.
 */
export function count_nonfinite(p: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = p + (<usize>i << 2);
    const v0 = v128.load(q), v1 = v128.load(q, 16);
    // A lane that is not finite compares false: its all-zero mask minus −1 counts it.
    a0 = i32x4.add(a0, v128.not(f32x4.eq(f32x4.sub(v0, v0), zero)));
    a1 = i32x4.add(a1, v128.not(f32x4.eq(f32x4.sub(v1, v1), zero)));
  }
  const a = i32x4.add(a0, a1);
  let bad = -(i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3));
  for (; i < n; i++) if (!isFinite<f32>(load<f32>(p + (<usize>i << 2)))) bad++;
  return bad;
}

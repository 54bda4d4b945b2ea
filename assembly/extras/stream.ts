// The bandwidth floors the scoring benchmark measures scans against (bench/scoring.ts): each
// reads its data once and sums it, which no scan over the same bytes can beat. Benchmark-only:
// built into the extras module (assembly/extras/index.ts), never into the shipped kernels.

/**
 * Reads n f32 values once and returns their sum: the time it takes is the memory-bandwidth
 * floor of any scan over the same data (the benchmarks' physical reference). Eight independent
 * accumulators, so that the adds' latency (4 cycles) never limits the stream: the loop is
 * bounded by the memory system, not by its own dependency chains.
 */
export function stream_sum(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    const q = p + (<usize>i << 2);
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));
    a3 = f32x4.add(a3, v128.load(q, 48));
    a4 = f32x4.add(a4, v128.load(q, 64));
    a5 = f32x4.add(a5, v128.load(q, 80));
    a6 = f32x4.add(a6, v128.load(q, 96));
    a7 = f32x4.add(a7, v128.load(q, 112));
  }
  const v = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  let s = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
  for (; i < n; i++) s += load<f32>(p + (<usize>i << 2));
  return s;
}

/**
 * Reads n signed bytes once and returns their sum (exact in i32 for n < 2²⁴): the bandwidth
 * floor of a scan over an int8 copy, with eight independent accumulators as stream_sum.
 */
export function stream_sum_i8(p: usize, n: i32): i32 {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
  let i = 0;
  for (; i + 128 <= n; i += 128) {
    const q = p + <usize>i;
    a0 = i32x4.add(a0, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(q))));
    a1 = i32x4.add(a1, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(q, 16))));
    a2 = i32x4.add(a2, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(q, 32))));
    a3 = i32x4.add(a3, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(q, 48))));
    a4 = i32x4.add(a4, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(q, 64))));
    a5 = i32x4.add(a5, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(q, 80))));
    a6 = i32x4.add(a6, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(q, 96))));
    a7 = i32x4.add(a7, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(q, 112))));
  }
  const v = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, a7)));
  let s = i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
  for (; i < n; i++) s += <i32>load<i8>(p + <usize>i);
  return s;
}

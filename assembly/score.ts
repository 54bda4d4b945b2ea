// Scoring queries against items by dot product, and the fused score + top-k kernel.
//
// Top-k contract: for query q, the k items with the highest score, ties broken by the lower item
// index, skipping the query's excluded items. Results live in the output rows themselves while
// the scan runs, as a binary heap whose root is the current k-th best ("worst kept"), with a
// per-query count. So the scan is three calls: topk_reset, score_topk (any number of times,
// over any item ranges, e.g. one per thread), topk_finish (sorts each row best-first and pads
// short rows with index −1 and score −∞). The full B×N score matrix is never materialised:
// items are scanned in cache-sized chunks, 2 queries × 4 items per register block, and each
// score is offered to its query's heap only when it beats the current k-th best. The int8 index's
// candidates (score-int8.ts) come back here to be re-ranked exactly: score_rescore, in the same
// summation order as score_topk.

import { gemm_nt } from "./gemm";
import { madd, hsum, at, reduce4, dotTail } from "./simd";

/** S[b×n] = Q[b×d]·Itemsᵀ (Items is [n×d]). */
export function score_matrix(s: usize, q: usize, items: usize, b: i32, n: i32, d: i32): void {
  gemm_nt(s, q, items, b, n, d, n, false);
}

/** Items per cache chunk: 1024 × 64 floats = 256 KB, which stays in L2 while every query passes. */
const CHUNK_BYTES: i32 = 256 * 1024;

// a is worse than b: lower score, or equal score and higher index.
@inline function worse(va: f32, ia: i32, vb: f32, ib: i32): bool {
  return va < vb || (va == vb && ia > ib);
}

function siftDown(hv: usize, hi: usize, count: i32, start: i32): void {
  let p = start;
  const v = load<f32>(at(hv, p)), id = load<i32>(at(hi, p));
  while (true) {
    let c = 2 * p + 1;
    if (c >= count) break;
    // The worse child, picked without a branch (which child it is is a coin toss: a branch
    // on it is mispredicted about every other level, and the int8 pass's heaps of ~74 offer
    // hundreds of times per query).
    if (c + 1 < count) c += <i32>worse(load<f32>(at(hv, c + 1)), load<i32>(at(hi, c + 1)), load<f32>(at(hv, c)), load<i32>(at(hi, c)));
    const cv = load<f32>(at(hv, c)), ci = load<i32>(at(hi, c));
    if (!worse(cv, ci, v, id)) break;
    store<f32>(at(hv, p), cv);
    store<i32>(at(hi, p), ci);
    p = c;
  }
  store<f32>(at(hv, p), v);
  store<i32>(at(hi, p), id);
}

function siftUp(hv: usize, hi: usize, start: i32): void {
  let c = start;
  const v = load<f32>(at(hv, c)), id = load<i32>(at(hi, c));
  while (c > 0) {
    const p = (c - 1) >> 1;
    const pv = load<f32>(at(hv, p)), pi = load<i32>(at(hi, p));
    if (!worse(v, id, pv, pi)) break;
    store<f32>(at(hv, c), pv);
    store<i32>(at(hi, c), pi);
    c = p;
  }
  store<f32>(at(hv, c), v);
  store<i32>(at(hi, c), id);
}

/** Is `item` among ids[start, end) (sorted ascending)? Binary search. */
@inline function excluded(ids: usize, start: i32, end: i32, item: i32): bool {
  let lo = start, hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = load<i32>(at(ids, mid));
    if (v < item) lo = mid + 1;
    else hi = mid;
  }
  return lo < end && load<i32>(at(ids, lo)) == item;
}

/**
 * Offers (score, item) to query q's heap. Returns the new threshold: the score a candidate must
 * beat from now on (−∞ while the heap is not full).
 */
export function offer(hv: usize, hi: usize, counts: usize, q: i32, k: i32, score: f32, item: i32,
               exOffsets: usize, exIds: usize): f32 {
  const count = load<i32>(at(counts, q));
  if (exOffsets != 0 && excluded(exIds, load<i32>(at(exOffsets, q)), load<i32>(at(exOffsets, q + 1)), item)) {
    return count < k ? -Infinity : load<f32>(hv);
  }
  if (count < k) {
    store<f32>(at(hv, count), score);
    store<i32>(at(hi, count), item);
    siftUp(hv, hi, count);
    store<i32>(at(counts, q), count + 1);
    return count + 1 < k ? -Infinity : load<f32>(hv);
  }
  if (worse(score, item, load<f32>(hv), load<i32>(hi))) return load<f32>(hv);
  store<f32>(hv, score);
  store<i32>(hi, item);
  siftDown(hv, hi, k, 0);
  return load<f32>(hv);
}

/** Offers the lanes of `w` set in `mask` (items g … g+3) in order; returns the new threshold. */
@inline export function offer4(w: v128, mask: i32, hv: usize, hi: usize, counts: usize, q: i32, k: i32, g: i32,
                        exOffsets: usize, exIds: usize): f32 {
  let t: f32 = -Infinity;
  if (mask & 1) t = offer(hv, hi, counts, q, k, f32x4.extract_lane(w, 0), g, exOffsets, exIds);
  if (mask & 2) t = offer(hv, hi, counts, q, k, f32x4.extract_lane(w, 1), g + 1, exOffsets, exIds);
  if (mask & 4) t = offer(hv, hi, counts, q, k, f32x4.extract_lane(w, 2), g + 2, exOffsets, exIds);
  if (mask & 8) t = offer(hv, hi, counts, q, k, f32x4.extract_lane(w, 3), g + 3, exOffsets, exIds);
  return t;
}

/**
 * Offers the lanes of `w` (items g … g+3) that reach threshold `t`; returns the new threshold.
 * One compare for four items: most blocks hold no candidate once the heaps are full.
 */
@inline export function offerAbove(w: v128, t: f32, hv: usize, hi: usize, counts: usize, q: i32, k: i32, g: i32,
                                   exOffsets: usize, exIds: usize): f32 {
  const mask = i32x4.bitmask(f32x4.ge(w, f32x4.splat(t)));
  return mask != 0 ? offer4(w, mask, hv, hi, counts, q, k, g, exOffsets, exIds) : t;
}

/** counts[q] = 0 for q < b: empties every heap before a scan. */
export function topk_reset(counts: usize, b: i32): void {
  memory.fill(counts, 0, <usize>b << 2);
}

/** The score threshold of query q's heap: −∞ until it holds k entries, then the k-th best. */
@inline export function threshold(hv: usize, counts: usize, q: i32, k: i32): f32 {
  return load<i32>(at(counts, q)) < k ? -Infinity : load<f32>(hv);
}

/**
 * Scans items [0, n) (reported as itemBase + j) for b queries, keeping each query's top k in
 * outIdx/outScore rows (b×k) with heap sizes in counts (b). Exclusions: query q skips the item
 * indices exIds[exOffsets[q] … exOffsets[q+1]), sorted ascending (exOffsets = 0: none).
 * Ties at equal score go to the lower index only when the lower index is offered first, which
 * holds for one ascending scan; topk_merge restores it across scans.
 */
export function score_topk(outIdx: usize, outScore: usize, counts: usize, queries: usize, items: usize,
                           exOffsets: usize, exIds: usize, b: i32, n: i32, d: i32, k: i32, itemBase: i32): void {
  if (k <= 0 || n <= 0) return;
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  const chunk = max(4, (CHUNK_BYTES / max(1, d * 4)) & ~3);
  for (let c0 = 0; c0 < n; c0 += chunk) {
    const c1 = min(n, c0 + chunk);
    let q = 0;
    for (; q + 2 <= b; q += 2) {
      const x0 = queries + <usize>q * rowBytes, x1 = x0 + rowBytes;
      const hv0 = at(outScore, q * k), hi0 = at(outIdx, q * k);
      const hv1 = hv0 + (<usize>k << 2), hi1 = hi0 + (<usize>k << 2);
      let t0 = threshold(hv0, counts, q, k), t1 = threshold(hv1, counts, q + 1, k);
      let j = c0;
      for (; j + 4 <= c1; j += 4) {
        const y0 = items + <usize>j * rowBytes, y1 = y0 + rowBytes, y2 = y1 + rowBytes, y3 = y2 + rowBytes;
        let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
        let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
        for (let e = 0; e < d4; e += 4) {
          const o = <usize>e << 2;
          const u0 = v128.load(x0 + o), u1 = v128.load(x1 + o);
          const v0 = v128.load(y0 + o), v1 = v128.load(y1 + o), v2 = v128.load(y2 + o), v3 = v128.load(y3 + o);
          s00 = madd(u0, v0, s00); s01 = madd(u0, v1, s01); s02 = madd(u0, v2, s02); s03 = madd(u0, v3, s03);
          s10 = madd(u1, v0, s10); s11 = madd(u1, v1, s11); s12 = madd(u1, v2, s12); s13 = madd(u1, v3, s13);
        }
        let w0 = reduce4(s00, s01, s02, s03), w1 = reduce4(s10, s11, s12, s13);
        if (d4 < d) {
          w0 = f32x4.add(w0, f32x4(dotTail(x0, y0, d4, d), dotTail(x0, y1, d4, d), dotTail(x0, y2, d4, d), dotTail(x0, y3, d4, d)));
          w1 = f32x4.add(w1, f32x4(dotTail(x1, y0, d4, d), dotTail(x1, y1, d4, d), dotTail(x1, y2, d4, d), dotTail(x1, y3, d4, d)));
        }
        const g = itemBase + j;
        t0 = offerAbove(w0, t0, hv0, hi0, counts, q, k, g, exOffsets, exIds);
        t1 = offerAbove(w1, t1, hv1, hi1, counts, q + 1, k, g, exOffsets, exIds);
      }
      for (; j < c1; j++) {
        const y0 = items + <usize>j * rowBytes;
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
        for (let e = 0; e < d4; e += 4) {
          const o = <usize>e << 2;
          const v0 = v128.load(y0 + o);
          s0 = madd(v128.load(x0 + o), v0, s0);
          s1 = madd(v128.load(x1 + o), v0, s1);
        }
        let r0 = hsum(s0), r1 = hsum(s1);
        if (d4 < d) { r0 += dotTail(x0, y0, d4, d); r1 += dotTail(x1, y0, d4, d); }
        if (r0 > t0 || (r0 == t0 && t0 != -Infinity)) t0 = offer(hv0, hi0, counts, q, k, r0, itemBase + j, exOffsets, exIds);
        if (r1 > t1 || (r1 == t1 && t1 != -Infinity)) t1 = offer(hv1, hi1, counts, q + 1, k, r1, itemBase + j, exOffsets, exIds);
      }
    }
    for (; q < b; q++) {
      const x0 = queries + <usize>q * rowBytes;
      const hv0 = at(outScore, q * k), hi0 = at(outIdx, q * k);
      let t0 = threshold(hv0, counts, q, k);
      let j = c0;
      for (; j + 4 <= c1; j += 4) {
        const y0 = items + <usize>j * rowBytes, y1 = y0 + rowBytes, y2 = y1 + rowBytes, y3 = y2 + rowBytes;
        // One accumulator per item (the canonical order of simd.ts), so a query scored alone
        // gets the bits it gets in a pair. Four chains are enough here: the next block's
        // accumulators start from zero, so out-of-order execution overlaps blocks, and a lone
        // query streams the items from memory. Eight items per block (eight chains) measured
        // 3–20% slower on a 100k × 64 scan: eight rows read at once stream worse than four.
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        let e = 0;
        for (; e + 8 <= d4; e += 8) {
          const o = <usize>e << 2;
          const u0 = v128.load(x0 + o), u1 = v128.load(x0 + o, 16);
          const a0 = y0 + o, a1 = y1 + o, a2 = y2 + o, a3 = y3 + o;
          s0 = madd(u0, v128.load(a0), s0); s1 = madd(u0, v128.load(a1), s1);
          s2 = madd(u0, v128.load(a2), s2); s3 = madd(u0, v128.load(a3), s3);
          s0 = madd(u1, v128.load(a0, 16), s0); s1 = madd(u1, v128.load(a1, 16), s1);
          s2 = madd(u1, v128.load(a2, 16), s2); s3 = madd(u1, v128.load(a3, 16), s3);
        }
        if (e < d4) {
          const o = <usize>e << 2;
          const u0 = v128.load(x0 + o);
          s0 = madd(u0, v128.load(y0 + o), s0); s1 = madd(u0, v128.load(y1 + o), s1);
          s2 = madd(u0, v128.load(y2 + o), s2); s3 = madd(u0, v128.load(y3 + o), s3);
        }
        let w0 = reduce4(s0, s1, s2, s3);
        if (d4 < d) w0 = f32x4.add(w0, f32x4(dotTail(x0, y0, d4, d), dotTail(x0, y1, d4, d), dotTail(x0, y2, d4, d), dotTail(x0, y3, d4, d)));
        t0 = offerAbove(w0, t0, hv0, hi0, counts, q, k, itemBase + j, exOffsets, exIds);
      }
      for (; j < c1; j++) {
        const y0 = items + <usize>j * rowBytes;
        let s0 = f32x4.splat(0);
        for (let e = 0; e < d4; e += 4) {
          const o = <usize>e << 2;
          s0 = madd(v128.load(x0 + o), v128.load(y0 + o), s0);
        }
        let r0 = hsum(s0);
        if (d4 < d) r0 += dotTail(x0, y0, d4, d);
        if (r0 > t0 || (r0 == t0 && t0 != -Infinity)) t0 = offer(hv0, hi0, counts, q, k, r0, itemBase + j, exOffsets, exIds);
      }
    }
  }
}

/**
 * Offers m candidates per query (candIdx/candScore rows, b×m; index −1 = empty) to the heaps:
 * merges partial results from scans over disjoint item ranges (threads).
 */
export function topk_merge(outIdx: usize, outScore: usize, counts: usize, candIdx: usize, candScore: usize,
                           b: i32, k: i32, m: i32): void {
  for (let q = 0; q < b; q++) {
    const hv = at(outScore, q * k), hi = at(outIdx, q * k);
    for (let c = 0; c < m; c++) {
      const item = load<i32>(at(candIdx, q * m + c));
      if (item < 0) continue;
      offer(hv, hi, counts, q, k, load<f32>(at(candScore, q * m + c)), item, 0, 0);
    }
  }
}

/**
 * Exact re-ranking: for each query, the f32 dot products with its m candidates (candIdx rows,
 * b×m, −1 = empty; indices into items) offered to fresh top-k heaps in outIdx/outScore/counts.
 */
export function score_rescore(outIdx: usize, outScore: usize, counts: usize, queries: usize, items: usize,
                              candIdx: usize, b: i32, m: i32, d: i32, k: i32): void {
  memory.fill(counts, 0, <usize>b << 2);
  const rowBytes = <usize>d << 2;
  const d4 = d & ~3;
  for (let q = 0; q < b; q++) {
    const x = queries + <usize>q * rowBytes;
    const hv = at(outScore, q * k), hi = at(outIdx, q * k);
    for (let c = 0; c < m; c++) {
      const item = load<i32>(at(candIdx, q * m + c));
      if (item < 0) continue;
      const y = items + <usize>item * rowBytes;
      let acc = f32x4.splat(0);
      for (let e = 0; e < d4; e += 4) acc = madd(v128.load(x + (<usize>e << 2)), v128.load(y + (<usize>e << 2)), acc);
      // The canonical summation order (simd.ts), as in score_topk: re-scored values equal the
      // exact path's bit for bit.
      offer(hv, hi, counts, q, k, d4 < d ? hsum(acc) + dotTail(x, y, d4, d) : hsum(acc), item, 0, 0);
    }
  }
}

/** Turns each heap into its row sorted best-first; rows with fewer than k entries are padded. */
export function topk_finish(outIdx: usize, outScore: usize, counts: usize, b: i32, k: i32): void {
  for (let q = 0; q < b; q++) {
    const hv = at(outScore, q * k), hi = at(outIdx, q * k);
    const count = load<i32>(at(counts, q));
    // Heap sort: moving the worst to the end each time leaves the row best-first.
    for (let end = count - 1; end > 0; end--) {
      const v = load<f32>(hv), id = load<i32>(hi);
      store<f32>(hv, load<f32>(at(hv, end)));
      store<i32>(hi, load<i32>(at(hi, end)));
      store<f32>(at(hv, end), v);
      store<i32>(at(hi, end), id);
      siftDown(hv, hi, end, 0);
    }
    for (let c = count; c < k; c++) {
      store<f32>(at(hv, c), -Infinity);
      store<i32>(at(hi, c), -1);
    }
  }
}

/**
 * Full-ranking positions for evaluation: for each of m target items t of one query, with scores
 * s[0, n), ranks[c] = 1 + #{j not excluded, j ≠ t : s_j > s_t, or s_j = s_t and j < t}
 * (the same tie rule as top-k). Excluded ids (sorted or not) are exIds[0, e).
 */
export function rank_targets(ranks: usize, s: usize, n: i32, targets: usize, m: i32, exIds: usize, e: i32): void {
  for (let c = 0; c < m; c++) {
    const t = load<i32>(at(targets, c));
    const st = load<f32>(at(s, t));
    const v = f32x4.splat(st);
    let above = i32x4.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) above = i32x4.sub(above, f32x4.gt(v128.load(at(s, j)), v));
    let count = i32x4.extract_lane(above, 0) + i32x4.extract_lane(above, 1) + i32x4.extract_lane(above, 2) + i32x4.extract_lane(above, 3);
    for (; j < n; j++) if (load<f32>(at(s, j)) > st) count++;
    // Equal scores at lower indices rank ahead.
    for (let q = 0; q < t; q++) if (load<f32>(at(s, q)) == st) count++;
    for (let x = 0; x < e; x++) {
      const ex = load<i32>(at(exIds, x));
      if (ex == t) continue;
      const se = load<f32>(at(s, ex));
      if (se > st || (se == st && ex < t)) count--;
    }
    store<i32>(at(ranks, c), count + 1);
  }
}

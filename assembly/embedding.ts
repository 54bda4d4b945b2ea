// Feature lookups that build a tower's input, and the scatter of their gradients.
// Tables are [vocab×dim] row-major f32; ids are i32. Outputs are written with a row stride
// (`ld`, in elements) so that each feature fills its own block of columns of the tower input.
// Ids are trusted: the TypeScript wrapper checks ranges once, when data is handed over.

import { at, gradRow } from "./simd";

@inline function copyRow(dst: usize, src: usize, dim: i32): void {
  let c = 0;
  for (; c + 4 <= dim; c += 4) v128.store(at(dst, c), v128.load(at(src, c)));
  for (; c < dim; c++) store<f32>(at(dst, c), load<f32>(at(src, c)));
}

@inline function addScaledRow(dst: usize, src: usize, scale: f32, dim: i32): void {
  const s = f32x4.splat(scale);
  let c = 0;
  for (; c + 4 <= dim; c += 4) {
    v128.store(at(dst, c), f32x4.add(v128.load(at(dst, c)), f32x4.mul(v128.load(at(src, c)), s)));
  }
  for (; c < dim; c++) store<f32>(at(dst, c), load<f32>(at(dst, c)) + load<f32>(at(src, c)) * scale);
}

/** out[r, 0:dim] = table[ids[r], 0:dim] for r < n; out has row stride ld. */
export function embedding_gather(out: usize, table: usize, ids: usize, n: i32, dim: i32, ld: i32): void {
  for (let r = 0; r < n; r++) {
    copyRow(at(out, r * ld), at(table, load<i32>(at(ids, r)) * dim), dim);
  }
}

/**
 * dTable[ids[r], :] += dOut[r, 0:dim] for r < n (repeated ids accumulate); dOut has row stride
 * ld. With a row map, row ids[r] of dTable is its compact row (gradRow).
 */
export function embedding_scatter_add(dtable: usize, dout: usize, ids: usize, map: usize, n: i32, dim: i32, ld: i32): void {
  for (let r = 0; r < n; r++) {
    addScaledRow(at(dtable, gradRow(map, load<i32>(at(ids, r))) * dim), at(dout, r * ld), 1, dim);
  }
}

/** How many of ids[start, end) are not `skip`. */
@inline function kept(ids: usize, start: i32, end: i32, skip: i32): i32 {
  let count = end - start;
  if (skip >= 0) for (let q = start; q < end; q++) if (load<i32>(at(ids, q)) == skip) count--;
  return count;
}

/**
 * Pooled multi-hot lookup. Entity e = rows[r] owns the id list ids[offsets[e] .. offsets[e+1])
 * with optional weights (weights = 0: all 1). out[r] = Σ w·table[id], divided by the number of
 * ids when `mean` (an entity with no ids gives a zero row). With skip ≠ 0, row r leaves the id
 * skip[r] out of its set (a history that must not contain the item being scored).
 */
export function embedding_bag(out: usize, table: usize, offsets: usize, ids: usize, weights: usize,
                              rows: usize, skip: usize, n: i32, dim: i32, ld: i32, mean: bool): void {
  const dim16 = dim & ~15;
  for (let r = 0; r < n; r++) {
    const e = load<i32>(at(rows, r));
    const start = load<i32>(at(offsets, e));
    const end = load<i32>(at(offsets, e + 1));
    const dst = at(out, r * ld);
    const leave: i32 = skip != 0 ? load<i32>(at(skip, r)) : -1;
    const count = kept(ids, start, end, leave);
    const norm: f32 = mean && count > 0 ? <f32>1 / <f32>count : 1;
    // Sixteen columns at a time summed in registers over the whole set, stored once.
    for (let c = 0; c < dim16; c += 16) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let q = start; q < end; q++) {
        const id = load<i32>(at(ids, q));
        if (id == leave) continue;
        const row = at(table, id * dim + c);
        const w = f32x4.splat(weights != 0 ? load<f32>(at(weights, q)) : 1);
        a0 = f32x4.add(a0, f32x4.mul(w, v128.load(row)));
        a1 = f32x4.add(a1, f32x4.mul(w, v128.load(row, 16)));
        a2 = f32x4.add(a2, f32x4.mul(w, v128.load(row, 32)));
        a3 = f32x4.add(a3, f32x4.mul(w, v128.load(row, 48)));
      }
      const nv = f32x4.splat(norm);
      v128.store(at(dst, c), f32x4.mul(a0, nv));
      v128.store(at(dst, c + 4), f32x4.mul(a1, nv));
      v128.store(at(dst, c + 8), f32x4.mul(a2, nv));
      v128.store(at(dst, c + 12), f32x4.mul(a3, nv));
    }
    if (dim16 < dim) {
      for (let c = dim16; c < dim; c++) store<f32>(at(dst, c), 0);
      for (let q = start; q < end; q++) {
        if (load<i32>(at(ids, q)) == leave) continue;
        const w: f32 = weights != 0 ? load<f32>(at(weights, q)) : 1;
        const row = at(table, load<i32>(at(ids, q)) * dim);
        for (let c = dim16; c < dim; c++) store<f32>(at(dst, c), load<f32>(at(dst, c)) + w * norm * load<f32>(at(row, c)));
      }
    }
  }
}

/** Gradient of embedding_bag: dTable[id] += w·dOut[r] (÷ count when `mean`); map as in embedding_scatter_add. */
export function embedding_bag_scatter_add(dtable: usize, dout: usize, offsets: usize, ids: usize,
                                          weights: usize, rows: usize, skip: usize, map: usize, n: i32, dim: i32, ld: i32,
                                          mean: bool): void {
  embedding_bag_scatter_add_cols(dtable, dout, offsets, ids, weights, rows, skip, map, n, dim, ld, mean, 0, dim);
}

/**
 * embedding_bag_scatter_add on columns [c0, c1) of every row only: c0 a multiple of 16, c1 a
 * multiple of 16 or dim. Each column is summed in the same order as by the whole call (rows, then
 * the bag), so threads that take disjoint column ranges give its bits.
 */
export function embedding_bag_scatter_add_cols(dtable: usize, dout: usize, offsets: usize, ids: usize,
                                               weights: usize, rows: usize, skip: usize, map: usize, n: i32, dim: i32,
                                               ld: i32, mean: bool, c0: i32, c1: i32): void {
  const dim16 = dim & ~15;
  const end16 = min(c1, dim16);
  const tail = c1 == dim && dim16 < dim;
  for (let r = 0; r < n; r++) {
    const e = load<i32>(at(rows, r));
    const start = load<i32>(at(offsets, e));
    const end = load<i32>(at(offsets, e + 1));
    const src = at(dout, r * ld);
    const leave: i32 = skip != 0 ? load<i32>(at(skip, r)) : -1;
    const count = kept(ids, start, end, leave);
    const norm: f32 = mean && count > 0 ? <f32>1 / <f32>count : 1;
    // The row's gradient (×norm) held in registers, sixteen columns at a time.
    for (let c = c0; c < end16; c += 16) {
      const nv = f32x4.splat(norm);
      const g0 = f32x4.mul(v128.load(at(src, c)), nv), g1 = f32x4.mul(v128.load(at(src, c + 4)), nv);
      const g2 = f32x4.mul(v128.load(at(src, c + 8)), nv), g3 = f32x4.mul(v128.load(at(src, c + 12)), nv);
      for (let q = start; q < end; q++) {
        const id = load<i32>(at(ids, q));
        if (id == leave) continue;
        const row = at(dtable, gradRow(map, id) * dim + c);
        const w = f32x4.splat(weights != 0 ? load<f32>(at(weights, q)) : 1);
        v128.store(row, f32x4.add(v128.load(row), f32x4.mul(w, g0)));
        v128.store(row, f32x4.add(v128.load(row, 16), f32x4.mul(w, g1)), 16);
        v128.store(row, f32x4.add(v128.load(row, 32), f32x4.mul(w, g2)), 32);
        v128.store(row, f32x4.add(v128.load(row, 48), f32x4.mul(w, g3)), 48);
      }
    }
    for (let q = start; q < end && tail; q++) {
      if (load<i32>(at(ids, q)) == leave) continue;
      const w: f32 = weights != 0 ? load<f32>(at(weights, q)) : 1;
      const row = at(dtable, gradRow(map, load<i32>(at(ids, q))) * dim);
      for (let c = dim16; c < dim; c++) store<f32>(at(row, c), load<f32>(at(row, c)) + w * norm * load<f32>(at(src, c)));
    }
  }
}

/** out[r, 0:width] = src[rows[r], 0:width]: numeric feature rows into the tower input (stride ld). */
export function gather_rows(out: usize, src: usize, rows: usize, n: i32, width: i32, ld: i32): void {
  for (let r = 0; r < n; r++) copyRow(at(out, r * ld), at(src, load<i32>(at(rows, r)) * width), width);
}

/** out[r] = src[idx[r]] for 32-bit elements (i32 or f32): batch assembly and id columns. */
export function gather_32(out: usize, src: usize, idx: usize, n: i32): void {
  for (let r = 0; r < n; r++) store<u32>(at(out, r), load<u32>(at(src, load<i32>(at(idx, r)))));
}

@inline function dotRow(a: usize, b: usize, dim: i32): f32 {
  let s: f32 = 0;
  for (let c = 0; c < dim; c++) s += load<f32>(at(a, c)) * load<f32>(at(b, c));
  return s;
}

/**
 * Attention-pooled multi-hot lookup: for entity e = rows[r] with ids L = ids[offsets[e] …
 * offsets[e+1]), s_j = ⟨query, table[j]⟩, α = softmax(s) over L, out[r] = Σ α_j table[j]
 * (zeros for an empty list). `query` is a learned dim-vector; zero makes this mean pooling.
 */
export function embedding_bag_attention(out: usize, table: usize, offsets: usize, ids: usize, rows: usize,
                                        n: i32, dim: i32, ld: i32, query: usize): void {
  for (let r = 0; r < n; r++) {
    const e = load<i32>(at(rows, r));
    const start = load<i32>(at(offsets, e)), end = load<i32>(at(offsets, e + 1));
    const dst = at(out, r * ld);
    memory.fill(dst, 0, <usize>dim << 2);
    if (end <= start) continue;
    let m: f32 = -Infinity;
    for (let q = start; q < end; q++) m = max(m, dotRow(query, at(table, load<i32>(at(ids, q)) * dim), dim));
    let sum: f32 = 0;
    for (let q = start; q < end; q++) sum += Mathf.exp(dotRow(query, at(table, load<i32>(at(ids, q)) * dim), dim) - m);
    for (let q = start; q < end; q++) {
      const row = at(table, load<i32>(at(ids, q)) * dim);
      addScaledRow(dst, row, Mathf.exp(dotRow(query, row, dim) - m) / sum, dim);
    }
  }
}

/**
 * Gradient of embedding_bag_attention. With g_j = ⟨dout_r, table[j]⟩ and ḡ = Σ α_j g_j:
 * dTable[j] += α_j·dout_r + α_j(g_j − ḡ)·query, dQuery += Σ_j α_j(g_j − ḡ)·table[j]. map as in
 * embedding_scatter_add (table is read at the ids themselves).
 */
export function embedding_bag_attention_backward(dtable: usize, dquery: usize, dout: usize, table: usize, offsets: usize,
                                                 ids: usize, rows: usize, map: usize, n: i32, dim: i32, ld: i32, query: usize): void {
  for (let r = 0; r < n; r++) {
    const e = load<i32>(at(rows, r));
    const start = load<i32>(at(offsets, e)), end = load<i32>(at(offsets, e + 1));
    if (end <= start) continue;
    const src = at(dout, r * ld);
    let m: f32 = -Infinity;
    for (let q = start; q < end; q++) m = max(m, dotRow(query, at(table, load<i32>(at(ids, q)) * dim), dim));
    let sum: f32 = 0, gbar: f32 = 0;
    for (let q = start; q < end; q++) {
      const row = at(table, load<i32>(at(ids, q)) * dim);
      const w = Mathf.exp(dotRow(query, row, dim) - m);
      sum += w;
      gbar += w * dotRow(src, row, dim);
    }
    gbar /= sum;
    for (let q = start; q < end; q++) {
      const id = load<i32>(at(ids, q));
      const row = at(table, id * dim);
      const alpha = Mathf.exp(dotRow(query, row, dim) - m) / sum;
      const ds = alpha * (dotRow(src, row, dim) - gbar);
      addScaledRow(dquery, row, ds, dim);
      const drow = at(dtable, gradRow(map, id) * dim);
      addScaledRow(drow, src, alpha, dim);
      addScaledRow(drow, query, ds, dim);
    }
  }
}

/**
 * Lists the rows a batch touches, each once: for r < n the row column[rows[r]] (or rows[r] when
 * column = 0) is appended to list[count…] unless stamps[row] = stamp already, and is stamped.
 * Returns the new count; list must have room for n more.
 */
export function touch_rows(list: usize, stamps: usize, stamp: i32, column: usize, rows: usize, n: i32, count: i32): i32 {
  for (let r = 0; r < n; r++) {
    const e = load<i32>(at(rows, r));
    const row = column != 0 ? load<i32>(at(column, e)) : e;
    if (load<i32>(at(stamps, row)) != stamp) {
      store<i32>(at(stamps, row), stamp);
      store<i32>(at(list, count), row);
      count++;
    }
  }
  return count;
}

/**
 * touch_rows for a multi-hot feature: every id of the bags ids[offsets[e] .. offsets[e+1]) of the
 * entities e = rows[r], r < n, in order. list must have room for the bags' ids.
 */
export function touch_bag_rows(list: usize, stamps: usize, stamp: i32, offsets: usize, ids: usize, rows: usize, n: i32,
                               count: i32): i32 {
  for (let r = 0; r < n; r++) {
    const e = load<i32>(at(rows, r));
    const end = load<i32>(at(offsets, e + 1));
    for (let q = load<i32>(at(offsets, e)); q < end; q++) {
      const row = load<i32>(at(ids, q));
      if (load<i32>(at(stamps, row)) != stamp) {
        store<i32>(at(stamps, row), stamp);
        store<i32>(at(list, count), row);
        count++;
      }
    }
  }
  return count;
}

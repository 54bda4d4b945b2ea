// The TypeScript reference as a Backend: the same pointer-level contract as the WASM kernels,
// over a heap of its own in which every float is an f64. Running the model on it gives f64
// gradients for finite-difference checks, and a second opinion on every WASM result.
import { AllocationLedger, type Backend, type Floats, type HeapStats, type Kernels } from '../backend/contract.js';
import { denseForward, denseBackwardInput, denseBackwardWeight, biasBackward, scoreMatrix } from './dense.js';
import { reluForward, reluBackward, clampValues } from './activation.js';
import {
  embeddingGather,
  embeddingScatterAdd,
  embeddingBag,
  embeddingBagScatterAdd,
  touchRows,
  touchBagRows,
  gatherRows,
  gather,
  embeddingBagAttention,
  embeddingBagAttentionBackward,
} from './embedding.js';
import {
  rowwiseDot,
  rowwiseDotBackward,
  addPairBias,
  mseLoss,
  l2Penalty,
  embeddingL2,
  bceLoss,
  bprLoss,
  softmaxXent,
  l2NormalizeRows,
  l2NormalizeBackward,
  cclLoss,
} from './loss.js';
import { adamUpdate, adamRows, adagradRows, sgdUpdate } from './optimizers.js';
import { scanFields } from './parse.js';
import { autorecEncode, autorecGrad } from './autorec.js';
import { easeGram, spdInverse, easeWeights, dlaeWeights } from './ease.js';
import { topkAccumulate, quantizeRowsI8, approximateScore, rankTargets, interleaveItems, interleavedOffset } from './score.js';
import { randomNormal, randomUniform } from './random.js';

export class ReferenceBackend implements Backend {
  readonly kind = 'reference' as const;
  readonly floatBytes = 8 as const;
  /** The reference models the plain build: integer dot products. */
  readonly int8Seven = 0 as const;
  readonly memoryLimit = Infinity;
  readonly kernels: Kernels;
  private buffer = new ArrayBuffer(1 << 20);
  private top = 16; // 0 stays the null pointer
  private readonly ledger = new AllocationLedger();

  constructor() {
    const F = (p: number, n: number): Floats => this.floats(p, n);
    const I = (p: number, n: number): Int32Array => this.ints(p, n);
    /** score_topk's definition for any item layout: item j's column c is itemAt(j, c). */
    const scanTopK = (
      outIdx: number,
      outScore: number,
      counts: number,
      queries: number,
      exOffsets: number,
      exIds: number,
      b: number,
      n: number,
      d: number,
      k: number,
      itemBase: number,
      itemAt: (j: number, c: number) => number,
    ): void => {
      const qs = F(queries, b * d);
      const offsets = exOffsets === 0 ? null : I(exOffsets, b + 1);
      for (let q = 0; q < b; q++) {
        const skip = new Set(offsets ? Array.from(I(exIds, offsets[b]!).subarray(offsets[q]!, offsets[q + 1]!)) : []);
        const candidates: [number, number][] = [];
        for (let j = 0; j < n; j++) {
          if (skip.has(itemBase + j)) continue;
          let s = 0;
          for (let c = 0; c < d; c++) s += qs[q * d + c]! * itemAt(j, c);
          candidates.push([s, itemBase + j]);
        }
        topkAccumulate(I(outIdx, b * k), F(outScore, b * k), I(counts, b), q, k, candidates);
      }
    };
    const Fo = (p: number, n: number): Floats | null => (p === 0 ? null : F(p, n));
    this.kernels = {
      zero_f32: (p, n) => F(p, n).fill(0),
      copy_f32: (dst, src, n) => F(dst, n).set(F(src, n).slice()),
      random_normal_f32: (out, rows, cols, row0, seedLo, seedHi, stream, std) =>
        randomNormal(F(out, rows * cols), rows, cols, row0, seedLo, seedHi, stream, std),
      random_uniform_f32: (out, rows, cols, row0, seedLo, seedHi, stream, limit) =>
        randomUniform(F(out, rows * cols), rows, cols, row0, seedLo, seedHi, stream, limit),
      count_nonfinite: (p, n) => Array.prototype.filter.call(F(p, n), (x: number) => !Number.isFinite(x)).length,
      dense_forward: (y, x, w, b, m, k, n) => denseForward(F(y, m * n), F(x, m * k), F(w, k * n), Fo(b, n), m, k, n),
      dense_backward_input: (dx, dy, w, m, k, n) => denseBackwardInput(F(dx, m * k), F(dy, m * n), F(w, k * n), m, k, n),
      dense_backward_weight: (dw, x, dy, m, k, n, ldx, acc) =>
        denseBackwardWeight(F(dw, k * n), this.tail(x), F(dy, m * n), m, k, n, ldx, acc !== 0),
      bias_backward: (db, dy, m, n, acc) => biasBackward(F(db, n), F(dy, m * n), m, n, acc !== 0),
      relu_forward: (y, x, n) => reluForward(F(y, n), F(x, n), n),
      relu_backward: (dx, dy, y, n) => reluBackward(F(dx, n), F(dy, n), F(y, n), n),
      clamp_f32: (x, n, lo, hi) => clampValues(F(x, n), n, lo, hi),
      embedding_gather: (out, table, ids, n, dim, ld) =>
        embeddingGather(this.tail(out), this.tail(table), this.intTail(ids), n, dim, ld),
      embedding_scatter_add: (dtable, dout, ids, map, n, dim, ld) =>
        embeddingScatterAdd(this.tail(dtable), this.tail(dout), this.intTail(ids), this.intTailOrNull(map), n, dim, ld),
      embedding_bag: (out, table, offsets, ids, weights, rows, skip, n, dim, ld, mean) =>
        embeddingBag(
          this.tail(out),
          this.tail(table),
          this.intTail(offsets),
          this.intTail(ids),
          weights === 0 ? null : this.tail(weights),
          I(rows, n),
          skip === 0 ? null : I(skip, n),
          n,
          dim,
          ld,
          mean !== 0,
        ),
      // The whole call is the column-block call over every column (as in assembly/embedding.ts).
      embedding_bag_scatter_add: (dtable, dout, offsets, ids, weights, rows, skip, map, n, dim, ld, mean) =>
        this.kernels.embedding_bag_scatter_add_cols(
          dtable,
          dout,
          offsets,
          ids,
          weights,
          rows,
          skip,
          map,
          n,
          dim,
          ld,
          mean,
          0,
          dim,
        ),
      embedding_bag_scatter_add_cols: (dtable, dout, offsets, ids, weights, rows, skip, map, n, dim, ld, mean, c0, c1) =>
        embeddingBagScatterAdd(
          this.tail(dtable),
          this.tail(dout),
          this.intTail(offsets),
          this.intTail(ids),
          weights === 0 ? null : this.tail(weights),
          I(rows, n),
          skip === 0 ? null : I(skip, n),
          this.intTailOrNull(map),
          n,
          dim,
          ld,
          mean !== 0,
          c0,
          c1,
        ),
      touch_rows: (list, stamps, stamp, column, rows, n, count) =>
        touchRows(this.intTail(list), this.intTail(stamps), stamp, this.intTailOrNull(column), I(rows, n), n, count),
      touch_bag_rows: (list, stamps, stamp, offsets, ids, rows, n, count) =>
        touchBagRows(
          this.intTail(list),
          this.intTail(stamps),
          stamp,
          this.intTail(offsets),
          this.intTail(ids),
          I(rows, n),
          n,
          count,
        ),
      embedding_bag_attention: (out, table, offsets, ids, rows, n, dim, ld, query) =>
        embeddingBagAttention(
          this.tail(out),
          this.tail(table),
          this.intTail(offsets),
          this.intTail(ids),
          I(rows, n),
          n,
          dim,
          ld,
          F(query, dim),
        ),
      embedding_bag_attention_backward: (dtable, dquery, dout, table, offsets, ids, rows, map, n, dim, ld, query) =>
        embeddingBagAttentionBackward(
          this.tail(dtable),
          F(dquery, dim),
          this.tail(dout),
          this.tail(table),
          this.intTail(offsets),
          this.intTail(ids),
          I(rows, n),
          this.intTailOrNull(map),
          n,
          dim,
          ld,
          F(query, dim),
        ),
      gather_rows: (out, src, rows, n, width, ld) => gatherRows(this.tail(out), this.tail(src), I(rows, n), n, width, ld),
      gather_i32: (out, src, idx, n) => gather(I(out, n), this.intTail(src), I(idx, n), n),
      gather_f32: (out, src, idx, n) => gather(F(out, n), this.tail(src), I(idx, n), n),
      rowwise_dot: (s, u, v, n, d) => rowwiseDot(F(s, n), F(u, n * d), F(v, n * d), n, d),
      rowwise_dot_backward: (du, dv, ds, u, v, n, d) =>
        rowwiseDotBackward(F(du, n * d), F(dv, n * d), F(ds, n), F(u, n * d), F(v, n * d), n, d),
      add_pair_bias: (s, g, ub, uids, ib, iids, n) =>
        addPairBias(
          F(s, n),
          Fo(g, 1),
          ub === 0 ? null : this.tail(ub),
          ub === 0 ? null : I(uids, n),
          ib === 0 ? null : this.tail(ib),
          ib === 0 ? null : I(iids, n),
          n,
        ),
      mse_loss: (ds, s, y, n) => mseLoss(F(ds, n), F(s, n), F(y, n), n),
      l2_penalty: (dx, x, n, scale) => l2Penalty(F(dx, n), F(x, n), n, scale),
      bce_loss: (ds, s, y, n) => bceLoss(F(ds, n), F(s, n), F(y, n), n),
      bpr_loss: (ds, s, n) => bprLoss(F(ds, 2 * n), F(s, 2 * n), n),
      softmax_xent: (dS, S, logq, ids, losses, n, cols, row0, rows, t) => {
        const logits = F(S, n * cols).slice();
        softmaxXent(
          F(dS, n * cols),
          logits,
          logq === 0 ? null : F(logq, cols),
          ids === 0 ? null : I(ids, cols),
          new Float64Array(this.buffer, losses, n),
          n,
          cols,
          row0,
          rows,
          t,
        );
      },
      l2_normalize_rows: (y, norms, x, n, d) => {
        const values = F(x, n * d).slice();
        l2NormalizeRows(F(y, n * d), F(norms, n), values, n, d);
      },
      l2_normalize_backward: (dx, dy, y, norms, n, d) =>
        l2NormalizeBackward(F(dx, n * d), F(dy, n * d), F(y, n * d), F(norms, n), n, d),
      ccl_loss: (dS, S, ids, losses, n, cols, from, row0, rows, margin, weight) => {
        const cosines = F(S, n * cols).slice();
        cclLoss(
          F(dS, n * cols),
          cosines,
          ids === 0 ? null : I(ids, cols),
          new Float64Array(this.buffer, losses, n),
          n,
          cols,
          from,
          row0,
          rows,
          margin,
          weight,
        );
      },
      rank_targets: (ranks, s, n, targets, m, exIds, e) =>
        rankTargets(I(ranks, m), F(s, n), n, I(targets, m), m, I(exIds, Math.max(e, 0)), e),
      embedding_l2: (dtable, table, ids, map, n, dim, scale) =>
        embeddingL2(this.tail(dtable), this.tail(table), I(ids, n), this.intTailOrNull(map), n, dim, scale),
      adam_update: (p, g, m, v, n, lr, b1, b2, eps, decay, bc1, bc2) =>
        adamUpdate(F(p, n), F(g, n), F(m, n), F(v, n), n, lr, b1, b2, eps, decay, bc1, bc2),
      sgd_update: (p, g, n, lr, decay) => sgdUpdate(F(p, n), F(g, n), n, lr, decay),
      adam_rows: (p, g, m, v, rows, nrows, dim, lr, b1, b2, eps, decay, bc1, bc2) =>
        adamRows(this.tail(p), this.tail(g), this.tail(m), this.tail(v), I(rows, nrows), dim, lr, b1, b2, eps, decay, bc1, bc2),
      scan_fields: (text, len, from, sep, final, rowFields, starts, ends, integers, decimals, maxRows, maxFields, consumed) => {
        const at = (p: number, n: number) => new Float64Array(this.buffer, p, n);
        const r = scanFields(
          new Uint8Array(this.buffer, text, len),
          len,
          from,
          sep,
          final !== 0,
          I(rowFields, maxRows + 1),
          I(starts, maxFields),
          I(ends, maxFields),
          at(integers, maxFields),
          at(decimals, maxFields),
          maxRows,
          maxFields,
        );
        I(consumed, 1)[0] = r.consumed;
        return r.rows;
      },
      autorec_encode: (out, V, b, offsets, raters, ratings, n, h, tanh) =>
        autorecEncode(
          F(out, n * h),
          this.tail(V),
          F(b, h),
          I(offsets, n + 1),
          this.intTail(raters),
          this.tail(ratings),
          n,
          h,
          tanh !== 0,
        ),
      autorec_grad: (dV, db, dW, dc, _scratch, V, b, W, c, offsets, raters, ratings, items, n, h, leaveOut, tanh, scale) =>
        autorecGrad(
          this.tail(dV),
          F(db, h),
          this.tail(dW),
          this.tail(dc),
          this.tail(V),
          F(b, h),
          this.tail(W),
          this.tail(c),
          this.intTail(offsets),
          this.intTail(raters),
          this.tail(ratings),
          I(items, n),
          n,
          h,
          leaveOut !== 0,
          tanh !== 0,
          scale,
        ),
      ease_gram: (G, offsets, ids, weights, n, m) =>
        easeGram(this.floats(G, m * m), I(offsets, n + 1), this.intTail(ids), weights === 0 ? null : this.tail(weights), n, m),
      spd_inverse: (A, n, shift) => spdInverse(this.floats(A, n * n), n, shift),
      ease_weights: (P, m) => easeWeights(this.floats(P, m * m), m),
      dlae_weights: (P, penalty, m) => dlaeWeights(this.floats(P, m * m), this.floats(penalty, m), m),
      adagrad_rows: (p, g, acc, rows, nrows, dim, lr, eps, decay) =>
        adagradRows(this.tail(p), this.tail(g), this.tail(acc), I(rows, nrows), dim, lr, eps, decay),
      score_matrix: (s, q, items, b, n, d) => scoreMatrix(F(s, b * n), F(q, b * d), F(items, n * d), b, n, d),
      topk_reset: (counts, b) => I(counts, b).fill(0),
      score_topk: (outIdx, outScore, counts, queries, items, exOffsets, exIds, b, n, d, k, itemBase) => {
        const its = F(items, n * d);
        scanTopK(outIdx, outScore, counts, queries, exOffsets, exIds, b, n, d, k, itemBase, (j, c) => its[j * d + c]!);
      },
      interleave_items: (out, items, n, d) => interleaveItems(F(out, Math.ceil(n / 8) * 8 * d), F(items, n * d), n, d),
      score_topk_il: (outIdx, outScore, counts, queries, items8, exOffsets, exIds, b, n, d, k, itemBase) => {
        const its = F(items8, Math.ceil(n / 8) * 8 * d);
        scanTopK(
          outIdx,
          outScore,
          counts,
          queries,
          exOffsets,
          exIds,
          b,
          n,
          d,
          k,
          itemBase,
          (j, c) => its[interleavedOffset(j, c, d)]!,
        );
      },
      topk_merge: (outIdx, outScore, counts, candIdx, candScore, b, k, m) => {
        const ci = I(candIdx, b * m),
          cs = F(candScore, b * m);
        for (let q = 0; q < b; q++) {
          const candidates: [number, number][] = [];
          for (let c = 0; c < m; c++) if (ci[q * m + c]! >= 0) candidates.push([cs[q * m + c]!, ci[q * m + c]!]);
          topkAccumulate(I(outIdx, b * k), F(outScore, b * k), I(counts, b), q, k, candidates);
        }
      },
      quantize_rows_i8: (out, scales, x, n, d, dPad) => {
        const sc = new Float32Array(n);
        quantizeRowsI8(this.signedBytes(out, n * dPad), sc, F(x, n * d), n, d, dPad);
        F(scales, n).set(sc);
      },
      quantize_items_i8: (out, scales, x, n, d, dPad, seven) => {
        const sc = new Float32Array(n);
        const [limit, offset] = seven ? [63, 64] : [127, 0];
        quantizeRowsI8(this.signedBytes(out, n * dPad), sc, F(x, n * d), n, d, dPad, limit, offset);
        F(scales, n).set(sc);
      },
      score_topk_i8: (outIdx, outScore, counts, qq, qscales, iq, iscales, exOffsets, exIds, b, n, dPad, m, itemBase, seven) => {
        const qb = this.signedBytes(qq, b * dPad),
          ib = this.signedBytes(iq, n * dPad),
          qs = F(qscales, b),
          is = F(iscales, n);
        const offsets = exOffsets === 0 ? null : I(exOffsets, b + 1);
        for (let q = 0; q < b; q++) {
          const skip = new Set(offsets ? Array.from(I(exIds, offsets[b]!).subarray(offsets[q]!, offsets[q + 1]!)) : []);
          const candidates: [number, number][] = [];
          for (let j = 0; j < n; j++) {
            if (!skip.has(itemBase + j))
              candidates.push([approximateScore(qb, qs[q]!, ib, is[j]!, dPad, q, j, seven ? 64 : 0), itemBase + j]);
          }
          topkAccumulate(I(outIdx, b * m), F(outScore, b * m), I(counts, b), q, m, candidates);
        }
      },
      score_rescore: (outIdx, outScore, counts, queries, items, candIdx, b, m, d, k) => {
        const ci = I(candIdx, b * m),
          qs = F(queries, b * d),
          its = this.tail(items);
        I(counts, b).fill(0);
        for (let q = 0; q < b; q++) {
          const candidates: [number, number][] = [];
          for (let c = 0; c < m; c++) {
            const j = ci[q * m + c]!;
            if (j < 0) continue;
            let s = 0;
            for (let e = 0; e < d; e++) s += qs[q * d + e]! * its[j * d + e]!;
            candidates.push([s, j]);
          }
          topkAccumulate(I(outIdx, b * k), F(outScore, b * k), I(counts, b), q, k, candidates);
        }
      },
      topk_finish: (outIdx, outScore, counts, b, k) => {
        const idx = I(outIdx, b * k),
          sc = F(outScore, b * k),
          cnt = I(counts, b);
        for (let q = 0; q < b; q++) {
          topkAccumulate(idx, sc, cnt, q, k, []);
          for (let c = cnt[q]!; c < k; c++) {
            idx[q * k + c] = -1;
            sc[q * k + c] = -Infinity;
          }
        }
      },
    };
  }

  /** Every float from p to the end of the heap: for kernels whose extent depends on data (ids). */
  private tail(p: number): Float64Array {
    return new Float64Array(this.buffer, p, (this.buffer.byteLength - p) >> 3);
  }

  private signedBytes(p: number, n: number): Int8Array {
    return new Int8Array(this.buffer, p, n);
  }

  private intTail(p: number): Int32Array {
    return new Int32Array(this.buffer, p, (this.buffer.byteLength - p) >> 2);
  }

  private intTailOrNull(p: number): Int32Array | null {
    return p === 0 ? null : this.intTail(p);
  }

  alloc(bytes: number): number {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const ptr = this.top;
    this.top += size;
    if (this.top > this.buffer.byteLength) {
      const grown = new ArrayBuffer(Math.max(this.top, this.buffer.byteLength * 2));
      new Uint8Array(grown).set(new Uint8Array(this.buffer));
      this.buffer = grown;
    }
    this.ledger.add(ptr, bytes);
    return ptr;
  }

  /** The reference never reuses memory (it serves small tests); free only updates the ledger. */
  free(ptr: number): void {
    this.ledger.remove(ptr);
  }

  floats(ptr: number, n: number): Float64Array {
    return new Float64Array(this.buffer, ptr, n);
  }

  ints(ptr: number, n: number): Int32Array {
    return new Int32Array(this.buffer, ptr, n);
  }

  bytes(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.buffer, ptr, n);
  }

  stats(): HeapStats {
    return { liveBlocks: this.ledger.liveBlocks, liveBytes: this.ledger.liveBytes, memoryBytes: this.buffer.byteLength };
  }
}

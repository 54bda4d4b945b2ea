// Row-wise Adagrad for the largest embedding tables (as FBGEMM's and TorchRec's row-wise
// Adagrad): one accumulator per table row, not per parameter, so its state is 4 bytes a row
// (4/dim per parameter) where Adam keeps 8 per parameter. For each listed row r with compact
// gradient row i:
//   acc[r] ← acc[r] + mean_c g[i, c]²
//   p[r, :] ← p[r, :]·(1 − lr·decay) − lr · g[i, :] / (√acc[r] + ε)
// Rows a batch does not touch are not read or written. The row's mean square is summed in f64.

import { at } from "./simd";

export function adagrad_rows(p: usize, g: usize, acc: usize, rows: usize, nrows: i32, dim: i32,
                             lr: f64, eps: f64, decay: f64): void {
  const sKeep = <f32>(1 - lr * decay), keep = f32x4.splat(sKeep);
  const rowBytes = <usize>dim << 2;
  for (let i = 0; i < nrows; i++) {
    const row = load<i32>(rows + (<usize>i << 2));
    const pr = p + <usize>row * rowBytes, gr = g + <usize>i * rowBytes;
    let squares: f64 = 0;
    for (let c = 0; c < dim; c++) {
      const gc = <f64>load<f32>(at(gr, c));
      squares += gc * gc;
    }
    const a = <f64>load<f32>(acc + (<usize>row << 2)) + squares / <f64>dim;
    store<f32>(acc + (<usize>row << 2), <f32>a);
    const sStep = <f32>(lr / (Math.sqrt(<f64><f32>a) + eps)), step = f32x4.splat(sStep);
    let c = 0;
    for (; c + 4 <= dim; c += 4) {
      v128.store(at(pr, c), f32x4.sub(f32x4.mul(v128.load(at(pr, c)), keep), f32x4.mul(step, v128.load(at(gr, c)))));
    }
    for (; c < dim; c++) store<f32>(at(pr, c), load<f32>(at(pr, c)) * sKeep - sStep * load<f32>(at(gr, c)));
  }
}

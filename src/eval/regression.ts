// Rating-prediction metrics over predictions already computed by the kernels.

/** Root mean squared error. */
export function rmse(predictions: ArrayLike<number>, targets: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < targets.length; i++) {
    const e = predictions[i]! - targets[i]!;
    s += e * e;
  }
  return Math.sqrt(s / targets.length);
}

/** Mean absolute error. */
export function mae(predictions: ArrayLike<number>, targets: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < targets.length; i++) s += Math.abs(predictions[i]! - targets[i]!);
  return s / targets.length;
}

// The first two principal components of n rows of dim values (row-major), by power iteration
// on the dim × dim covariance matrix with deflation: returns the rows' coordinates on them.
export function pca2(vectors, n, dim) {
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let c = 0; c < dim; c++) mean[c] += vectors[r * dim + c] / n;
  const cov = new Float64Array(dim * dim);
  for (let r = 0; r < n; r++)
    for (let a = 0; a < dim; a++) {
      const x = vectors[r * dim + a] - mean[a];
      for (let b = a; b < dim; b++) cov[a * dim + b] += x * (vectors[r * dim + b] - mean[b]);
    }
  for (let a = 0; a < dim; a++) for (let b = 0; b < a; b++) cov[a * dim + b] = cov[b * dim + a];
  const components = [];
  for (let k = 0; k < 2; k++) {
    // A fixed start (not random) keeps the picture the same for the same model.
    let v = Float64Array.from({ length: dim }, (_, i) => 1 + ((i * 7919) % 13) / 13);
    let lambda = 0;
    for (let it = 0; it < 200; it++) {
      const w = new Float64Array(dim);
      for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) w[a] += cov[a * dim + b] * v[b];
      const norm = Math.hypot(...w) || 1;
      v = w.map((x) => x / norm);
      lambda = norm;
    }
    components.push(v);
    // Deflate: remove this component's share so the next iteration finds the second.
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) cov[a * dim + b] -= lambda * v[a] * v[b];
  }
  const xy = new Float64Array(2 * n);
  for (let r = 0; r < n; r++)
    for (let k = 0; k < 2; k++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += (vectors[r * dim + c] - mean[c]) * components[k][c];
      xy[2 * r + k] = s;
    }
  return xy;
}

// One training scenario, run unchanged in Node (against src/) and in Chromium (against the
// built bundle): a small seeded model trained for a few steps, returning its losses and
// predictions as plain arrays. `tt` is the twotower module; `wasm` its load options.
export async function scenario(tt, wasm) {
  const data = tt.generateSynthetic({ users: 60, items: 40, ratingsPerUser: 20, seed: 3 });
  const model = await tt.createModel(data.suggestedConfig(8), {
    wasm,
    userFeatures: data.userFeatures,
    itemFeatures: data.itemFeatures,
  });
  const before = model.evaluate(data.train).rmse;
  const result = model.fit(data.train, { epochs: 4, batchSize: 64, learningRate: 0.01, seed: 9 });
  const after = model.evaluate(data.train).rmse;
  const predictions = Array.from(model.rows.predict(data.test.users.subarray(0, 50), data.test.items.subarray(0, 50)));
  const kernels = model.kernels;
  model.dispose();
  return { before, after, losses: result.history.map((h) => h.loss), predictions, kernels, steps: result.steps };
}

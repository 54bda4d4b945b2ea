// `twotower demo`: trains on the built-in synthetic data and reports the test RMSE beside the
// noise floor, and the top items for a few users.
import { createModel, generateSynthetic, type Model } from '../index.js';
import { progressBar } from './progress.js';

export interface DemoOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  users: number;
  items: number;
  json: boolean;
}

function describeTower(model: Model, side: 'user' | 'item'): string {
  const t = side === 'user' ? model.config.user : model.config.item;
  const inputs = t.features.map((f) => `${f.name}:${f.kind}${f.kind === 'numeric' ? `[${f.size}]` : `→${f.dim}`}`).join(' + ');
  return `${inputs} → ${[...(t.hidden ?? []), ...(t.project === false ? [] : [model.dim])].join(' → ')}`;
}

export async function demo(o: DemoOptions): Promise<void> {
  const log = o.json ? () => {} : (line: string) => console.log(line);
  const data = generateSynthetic({ users: o.users, items: o.items, seed: o.seed, ratingsPerUser: Math.min(200, o.items) });
  const model = await createModel(data.suggestedConfig(), { userFeatures: data.userFeatures, itemFeatures: data.itemFeatures });
  log(
    `twotower demo: synthetic ratings, ${o.users} users × ${o.items} items, ${data.train.users.length} train / ${data.test.users.length} test ratings (seed ${o.seed})`,
  );
  log(`kernels: WASM ${model.kernels === 'relaxed' ? 'relaxed SIMD (fused multiply-add)' : 'SIMD'}`);
  log(`user tower: ${describeTower(model, 'user')}`);
  log(`item tower: ${describeTower(model, 'item')}`);
  const batches = Math.ceil(data.train.users.length / o.batch);
  const bar = progressBar(batches * o.epochs, !o.json && process.stderr.isTTY === true);
  const result = model.fit(data.train, {
    epochs: o.epochs,
    batchSize: o.batch,
    learningRate: o.lr,
    seed: o.seed,
    validation: data.test,
    onBatchEnd: (b) => bar.tick(b.epoch, b.loss),
    onEpochEnd: (e) => {
      bar.stop();
      log(
        `epoch ${String(e.epoch + 1).padStart(2)}/${o.epochs}  train loss ${e.loss.toFixed(4)}  test RMSE ${e.validationRmse!.toFixed(4)}  ${e.seconds.toFixed(2)} s`,
      );
    },
  });
  bar.stop();
  const { rmse, mae } = model.evaluate(data.test);
  const examples = data.train.users.length * result.history.length;
  log(
    `test RMSE ${rmse.toFixed(4)}, MAE ${mae.toFixed(4)}; noise floor (RMSE of the true function) ${data.floorRmse.toFixed(4)}: ` +
      `${((rmse / data.floorRmse - 1) * 100).toFixed(1)}% above it`,
  );
  log(
    `trained ${examples.toLocaleString('en-US')} examples in ${result.seconds.toFixed(2)} s ` +
      `(${Math.round(examples / result.seconds).toLocaleString('en-US')} examples/s, including validation)`,
  );

  // Top 5 unseen items for a few users, by predicted rating, beside the true (noise-free) rating.
  const seen = new Set<number>();
  for (let r = 0; r < data.train.users.length; r++) seen.add(data.train.users[r]! * o.items + data.train.items[r]!);
  const top: { user: number; items: { item: number; predicted: number; truth: number }[] }[] = [];
  for (const user of [0, 1, 2].filter((u) => u < o.users)) {
    const candidates = Int32Array.from({ length: o.items }, (_, i) => i).filter((i) => !seen.has(user * o.items + i));
    const scores = model.rows.predict(new Int32Array(candidates.length).fill(user), candidates);
    const order = Array.from(candidates.keys()).sort((a, b) => scores[b]! - scores[a]! || candidates[a]! - candidates[b]!);
    top.push({
      user,
      items: order
        .slice(0, 5)
        .map((j) => ({ item: candidates[j]!, predicted: scores[j]!, truth: data.trueRating(user, candidates[j]!) })),
    });
  }
  log('top 5 unseen items (predicted rating / true rating):');
  for (const t of top)
    log(
      `  user ${t.user}: ${t.items.map((x) => `item ${x.item} (${x.predicted.toFixed(2)} / ${x.truth.toFixed(2)})`).join(', ')}`,
    );
  if (o.json) {
    console.log(
      JSON.stringify({
        rmse,
        mae,
        floorRmse: data.floorRmse,
        epochs: result.history.length,
        trainSeconds: result.seconds,
        examplesPerSecond: examples / result.seconds,
        kernels: model.kernels,
        history: result.history,
        top,
      }),
    );
  }
  model.dispose();
}

#!/usr/bin/env node
// The `twotower` command line (Node only). `twotower demo` trains on the built-in synthetic
// data and reports the test RMSE beside the noise floor.
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { createModel, generateSynthetic, TwoTowerError, type Model } from './index.js';

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

function positive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number > 0`);
    return n;
  };
}

interface DemoOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  users: number;
  items: number;
  json: boolean;
}

/** A progress bar on stderr (drawn only on a terminal); one tick per batch. */
function progressBar(total: number, enabled: boolean) {
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: 'training |{bar}| {percentage}% | epoch {epoch} | loss {loss}',
    hideCursor: true,
    clearOnComplete: true,
  }, cliProgress.Presets.shades_classic);
  if (enabled) bar.start(total, 0, { epoch: 1, loss: '-' });
  return {
    tick: (epoch: number, loss: number) => enabled && bar.increment(1, { epoch: epoch + 1, loss: loss.toFixed(4) }),
    stop: () => enabled && bar.stop(),
  };
}

function describeTower(model: Model, side: 'user' | 'item'): string {
  const t = side === 'user' ? model.config.user : model.config.item;
  const inputs = t.features.map((f) => `${f.name}:${f.kind}${f.kind === 'numeric' ? `[${f.size}]` : `→${f.dim}`}`).join(' + ');
  return `${inputs} → ${[...(t.hidden ?? []), ...(t.project === false ? [] : [model.dim])].join(' → ')}`;
}

async function demo(o: DemoOptions): Promise<void> {
  const log = o.json ? () => {} : (line: string) => console.log(line);
  const data = generateSynthetic({ users: o.users, items: o.items, seed: o.seed, ratingsPerUser: Math.min(200, o.items) });
  const model = await createModel(data.suggestedConfig(), { userFeatures: data.userFeatures, itemFeatures: data.itemFeatures });
  log(`twotower demo: synthetic ratings, ${o.users} users × ${o.items} items, ${data.train.users.length} train / ${data.test.users.length} test ratings (seed ${o.seed})`);
  log(`kernels: WASM ${model.backend.kind === 'relaxed' ? 'relaxed SIMD (fused multiply-add)' : 'SIMD'}`);
  log(`user tower: ${describeTower(model, 'user')}`);
  log(`item tower: ${describeTower(model, 'item')}`);
  const batches = Math.ceil(data.train.users.length / o.batch);
  const bar = progressBar(batches * o.epochs, !o.json && process.stderr.isTTY === true);
  const result = model.fit(data.train, {
    epochs: o.epochs, batchSize: o.batch, learningRate: o.lr, seed: o.seed, validation: data.test,
    onBatchEnd: (b) => bar.tick(b.epoch, b.loss),
    onEpochEnd: (e) => {
      bar.stop();
      log(`epoch ${String(e.epoch + 1).padStart(2)}/${o.epochs}  train loss ${e.loss.toFixed(4)}  test RMSE ${e.validationRmse!.toFixed(4)}  ${e.seconds.toFixed(2)} s`);
    },
  });
  bar.stop();
  const { rmse, mae } = model.evaluate(data.test);
  const examples = data.train.users.length * result.history.length;
  log(`test RMSE ${rmse.toFixed(4)}, MAE ${mae.toFixed(4)}; noise floor (RMSE of the true function) ${data.floorRmse.toFixed(4)}: ` +
    `${((rmse / data.floorRmse - 1) * 100).toFixed(1)}% above it`);
  log(`trained ${examples.toLocaleString('en-US')} examples in ${result.seconds.toFixed(2)} s ` +
    `(${Math.round(examples / result.seconds).toLocaleString('en-US')} examples/s, including validation)`);

  // Top 5 unseen items for a few users, by predicted rating, beside the true (noise-free) rating.
  const seen = new Set<number>();
  for (let r = 0; r < data.train.users.length; r++) seen.add(data.train.users[r]! * o.items + data.train.items[r]!);
  const top: { user: number; items: { item: number; predicted: number; truth: number }[] }[] = [];
  for (const user of [0, 1, 2].filter((u) => u < o.users)) {
    const candidates = Int32Array.from({ length: o.items }, (_, i) => i).filter((i) => !seen.has(user * o.items + i));
    const scores = model.predict(new Int32Array(candidates.length).fill(user), candidates);
    const order = Array.from(candidates.keys()).sort((a, b) => scores[b]! - scores[a]! || candidates[a]! - candidates[b]!);
    top.push({ user, items: order.slice(0, 5).map((j) => ({ item: candidates[j]!, predicted: scores[j]!, truth: data.trueRating(user, candidates[j]!) })) });
  }
  log('top 5 unseen items (predicted rating / true rating):');
  for (const t of top) log(`  user ${t.user}: ${t.items.map((x) => `item ${x.item} (${x.predicted.toFixed(2)} / ${x.truth.toFixed(2)})`).join(', ')}`);
  if (o.json) {
    console.log(JSON.stringify({
      rmse, mae, floorRmse: data.floorRmse, epochs: result.history.length, trainSeconds: result.seconds,
      examplesPerSecond: examples / result.seconds, kernels: model.backend.kind,
      history: result.history, top,
    }));
  }
  model.dispose();
}

const program = new Command();
program.name('twotower').description('Two-tower recommendation models trained with Adam, on WebAssembly SIMD kernels.');
program.command('demo')
  .description('train on built-in synthetic ratings with a known noise floor, report test RMSE and top items')
  .option('--epochs <n>', 'passes over the training data', integer('--epochs', 1), 12)
  .option('--batch <n>', 'interactions per Adam step', integer('--batch', 1), 512)
  .option('--lr <x>', 'Adam learning rate', positive('--lr'), 0.003)
  .option('--seed <n>', 'seed of the data, the initialisation and the shuffling', integer('--seed', 0), 42)
  .option('--users <n>', 'number of synthetic users', integer('--users', 1), 1000)
  .option('--items <n>', 'number of synthetic items', integer('--items', 1), 400)
  .option('--json', 'print one JSON object with the results as the last line', false)
  .action(demo);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof TwoTowerError) {
    console.error(`twotower: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

#!/usr/bin/env node
// The `twotower` command line (Node only): demo, train, eval. Errors from bad input print one
// line naming the problem and exit with code 1; nothing is half-written at --out.
// First: worker_threads as the platform's threads (src/node/platform.ts), before anything runs.
import './node/platform.js';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { TwoTowerError, VECTOR_FORMATS, RECIPE_DEFAULTS, IMPLICIT_DEFAULTS, BEST_DEFAULTS } from './index.js';
import { integer, positive, nonNegative, fraction, widths, column, delimiter } from './cli/args.js';
import { demo } from './cli/demo.js';
import { train } from './cli/train.js';
import { evaluate } from './cli/eval.js';
import { recommendCommand } from './cli/recommend.js';
import { exportCommand } from './cli/export.js';
import { exportPyTorchCommand, importCommand } from './cli/pytorch.js';
import { updateCommand, addItemsCommand } from './cli/update.js';
import { LOSSES, LOSS_NAMES } from './train/losses/index.js';
import { OPTIMIZERS } from './train/optimizers/index.js';

/** How a data file is read. train: auto-detected where not given; update and eval: as the model's training file was read, where not given. */
function columnOptions(command: Command, defaults: string): Command {
  return command
    .addOption(
      new Option('--format <format>', `ratings file format (default: ${defaults})`).choices(['auto', 'movielens', 'csv']),
    )
    .option('--user-col <col>', 'user id column (0-based index or header name)', column)
    .option(
      '--item-col <col>',
      "item id column (0-based index or header name; default: a known name, else the header's only id-like column besides the user's, e.g. artistID)",
      column,
    )
    .option(
      '--rating-col <col>',
      'rating column (0-based index or header name); a file without one is an event log (every row a positive)',
      column,
    )
    .option('--time-col <col>', 'timestamp column (0-based index or header name)', column)
    .option(
      '--weight-col <col>',
      'confidence column (a count, a duration; ≥ 0): examples drawn ∝ log(1 + weight); found by name (count, plays, quantity, …) in a header',
      column,
    )
    .option(
      '--delimiter <d>',
      `field separator: comma, tab, pipe, semicolon, :: (MovieLens 1M/10M) or auto (default: ${defaults})`,
      delimiter,
    )
    .option('--header', `the first line is a header (default: ${defaults}, from known column names)`)
    .option('--no-header', 'the first line is data');
}

const AUTO = 'auto';
/** update and eval read files the way the model's training file was read (model metadata), then auto. */
const AS_TRAINED = "as the model's training file was read, else auto";

function dataOptions(command: Command, defaults = AUTO): Command {
  return columnOptions(command, defaults).option(
    '--json',
    'print exactly one JSON object with the results as the last line of stdout',
    false,
  );
}

/** The version in the package.json beside dist/ (this file runs as dist/cli.js). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const program = new Command();
program
  .name('twotower')
  .description('Two-tower recommendation models (ratings or implicit feedback), trained on WebAssembly SIMD kernels.')
  .version(packageVersion(), '-V, --version', 'print the package version');

program
  .command('demo')
  .description('train on built-in synthetic ratings with a known noise floor, report test RMSE and top items')
  .option('--epochs <n>', 'passes over the training data', integer('--epochs', 1), 12)
  .option('--batch <n>', 'interactions per Adam step', integer('--batch', 1), 512)
  .option('--lr <x>', 'Adam learning rate', positive('--lr'), 0.003)
  .option('--seed <n>', 'seed of the data, the initialisation and the shuffling', integer('--seed', 0), 42)
  .option('--users <n>', 'number of synthetic users', integer('--users', 1), 1000)
  .option('--items <n>', 'number of synthetic items', integer('--items', 1), 400)
  .option('--json', 'print one JSON object with the results as the last line', false)
  .action(demo);

const d = RECIPE_DEFAULTS;
dataOptions(
  program
    .command('train')
    .description(
      'train a model on a ratings or events file (--loss picks ratings or implicit feedback); report its metrics on --test (or a held-out split)',
    )
    .requiredOption('--data <file>', 'training ratings (MovieLens u.data/uN.base, ratings.csv, or any delimited file)')
    .option('--test <file>', 'test ratings; without it a split of --data is held out')
    .option('--users <file>', 'user features file (header required; id in the first column)')
    .option('--items <file>', 'item features file (header required; id in the first column)')
    .option(
      '--no-side-features',
      'ignore user and item features, even MovieLens side files found beside --data (implicit losses ignore them by default)',
    )
    .addOption(
      new Option('--split <kind>', 'how to hold out a test set when --test is absent')
        .choices(['random', 'temporal', 'leave-last-out'])
        .default('random'),
    )
    .option('--test-fraction <x>', 'fraction held out by --split', fraction('--test-fraction'), 0.2)
    .addOption(
      new Option(
        '--loss <loss>',
        `the training loss; ${LOSS_NAMES.map((n) => `${n}: ${LOSSES[n].summary}`).join('; ')}. Implicit losses treat every rating as a positive (default: mse for a file with a rating column, softmax for an event log)`,
      ).choices(LOSS_NAMES),
    )
    .option('--min-rating <x>', 'implicit losses: only ratings ≥ x are positives (default: all)', Number)
    .option('--temperature <t>', 'softmax temperature (default 0.2)', positive('--temperature'))
    .option('--negatives <n>', 'bce: sampled negatives per positive (default 4)', integer('--negatives', 1))
    .option(
      '--epochs <n>',
      `most epochs; early stopping on a 10% validation split picks the number (default ${d.epochs}, implicit ${IMPLICIT_DEFAULTS.epochs})`,
      integer('--epochs', 1),
    )
    .option(
      '--patience <n>',
      `epochs without validation improvement before stopping (default ${d.patience}, implicit ${IMPLICIT_DEFAULTS.patience})`,
      integer('--patience', 1),
    )
    .option('--no-refit', 'keep the early-stopped model instead of retraining on all the training data')
    .option('--dim <d>', `embedding width (default ${d.dim}, implicit ${IMPLICIT_DEFAULTS.dim})`, integer('--dim', 1))
    .option('--hidden <sizes>', 'hidden layer widths of both towers, e.g. 128,64', widths('--hidden'), d.hidden)
    .option('--lr <x>', 'Adam learning rate', positive('--lr'), d.learningRate)
    .option('--batch <n>', 'ratings per Adam step', integer('--batch', 1), d.batchSize)
    .option(
      '--l2 <x>',
      `per-example L2 penalty on the tower outputs, used as given (with --tune: where the search starts); default ${d.l2}, chosen by validation for mse (see --tune); softmax ${IMPLICIT_DEFAULTS.l2}; bpr, bce 0.01`,
      nonNegative('--l2'),
    )
    .option(
      '--tune',
      'choose --l2 by validation: one early-stopped run per candidate penalty on the 10% validation split (never the test data), the best by validation RMSE (Recall@20 for implicit losses) refit on all the data (default for mse without --l2; ≈ 3× the time of one run)',
    )
    .option('--no-tune', 'train at --l2 alone (the default for implicit losses)')
    .addOption(
      new Option(
        '--recipe <name>',
        'default: one model by the tuned recipe (fast); best: the most accurate combination measured (docs/accuracy.md): several members (seeds; for ratings also the autoencoder family) blended by weights chosen on the validation split, saved as one model',
      )
        .choices(['default', 'best'])
        .default('default'),
    )
    .option(
      '--seeds <n>',
      `--recipe best: tower members, one per seed from --seed (default ${BEST_DEFAULTS.seeds} for ratings, ${BEST_DEFAULTS.retrievalSeeds} for implicit losses)`,
      integer('--seeds', 1),
    )
    .addOption(
      new Option(
        '--family <family>',
        'which model family trains: tower (the recipe), autorec (I-AutoRec, the item autoencoder: ratings) or ease (the item-item closed form: event logs and implicit losses); each is one ordinary model (docs/guide.md)',
      )
        .choices(['tower', 'autorec', 'ease'])
        .default('tower'),
    )
    .addOption(
      new Option(
        '--graph <hops>',
        "graph-aware towers (LightGCN propagation by tied pooling): 1 adds the other side's id embeddings over each entity's interactions, 2 also its two-hop neighbours; ids and the graph only (0 = off)",
      ).choices(['0', '1', '2']),
    )
    .option(
      '--autorec-seeds <n>',
      `--recipe best, ratings: autoencoder members averaged before the blend (default ${BEST_DEFAULTS.autorecSeeds}; 0 = towers only)`,
      integer('--autorec-seeds', 0),
    )
    .option(
      '--l2-grid <list>',
      'the penalties --tune tries, all of them, comma-separated, e.g. 0.01,0.02,0.05 (implies --tune; default: a walk from --l2 over --l2 × 0.1, 0.25, 0.5, 1, 2.5, 5, 10: --l2 and its neighbours, then onward while validation improves)',
      (value: string) => value.split(',').map((x) => nonNegative('--l2-grid')(x.trim())),
    )
    .option(
      '--implicit-dim <d>',
      `width of the implicit feature (users read the items they rated, items their raters; SVD++-style); 0 = off (default ${d.implicitDim} for mse, 0 for implicit losses)`,
      integer('--implicit-dim', 0),
    )
    .option(
      '--history <n>',
      'users also read their last n training items (pooled), so new users can be served from their items; 0 = off',
      integer('--history', 0),
      d.history,
    )
    .addOption(new Option('--history-pooling <kind>', 'how the history is pooled').choices(['mean', 'attention']).default('mean'))
    .addOption(
      new Option(
        '--table-optimizer <name>',
        'optimizer of the embedding and bias tables: lazyAdam (rows a batch touches), rowwiseAdagrad (4 bytes of state a row, for the largest tables), adam or sgd (whole tables every step)',
      )
        .choices(Object.keys(OPTIMIZERS))
        .default('lazyAdam'),
    )
    .option(
      '--threads <n>',
      'threads to train on (worker_threads; the default recipe tunes up to n penalties at once, --recipe best trains up to n members at once; the same model as one thread, bit for bit)',
      integer('--threads', 1),
      1,
    )
    .option(
      '--hash-ids <n>',
      'hash user and item ids into n buckets each instead of listing them (open-ended id spaces)',
      integer('--hash-ids', 1),
    )
    .option('--seed <n>', 'seed of initialisation, shuffling and splits', integer('--seed', 0), d.seed)
    .option('--out <model>', 'write the trained model here (atomically)'),
).action(train);

dataOptions(
  program
    .command('eval')
    .description("a saved model's metrics on a file: RMSE and MAE for rating models, ranking metrics for implicit ones")
    .requiredOption('--model <file>', 'a model written by twotower train --out')
    .requiredOption('--data <file>', 'ratings or events to score')
    .addOption(
      new Option(
        '--metrics <which>',
        'rating (RMSE, MAE), ranking (Recall, NDCG, MRR, AUC) or both; default: what the model was trained for',
      ).choices(['rating', 'ranking', 'both']),
    ),
  AS_TRAINED,
).action(evaluate);

program
  .command('recommend')
  .description('the top items for a user of a saved model (items rated in training are skipped)')
  .requiredOption('--model <file>', 'a model written by twotower train --out')
  .option('--user <id>', 'the user id, as in the training file')
  .option('--history <items>', 'comma-separated item ids a new user interacted with (needs a model trained with --history)')
  .option('-k, --k <n>', 'how many items', integer('-k', 1), 10)
  .option('--include-seen', 'also recommend items the user rated in training')
  .addOption(
    new Option(
      '--explain [form]',
      "give each item's top reasons: in words (default), or =numbers, each part's share of the score (in --json: both, and each item's full explanation; docs/explanations.md)",
    ).choices(['words', 'numbers']),
  )
  .option('--json', 'print one JSON object', false)
  .action(recommendCommand);

columnOptions(
  program
    .command('update')
    .description(
      'train a saved model further on new events (new users and items join it), saved as a new file (docs/updates.md)',
    ),
  AS_TRAINED,
)
  .requiredOption('--model <file>', 'a model written by twotower train --out (or update)')
  .requiredOption('--data <file>', 'the new events: the same kinds of files train reads, read as its training file was')
  .option('--users <file>', "new users' side features (default: MovieLens u.user beside --data, if any)")
  .option('--items <file>', "new items' side features (default: MovieLens u.item beside --data, if any)")
  .option('--epochs <n>', 'passes over the new events (default 3)', integer('--epochs', 1))
  .option('--learning-rate <x>', "step size (default: a third of the model's training rate)", positive('--learning-rate'))
  .requiredOption('--out <file>', 'where to write the updated model (the input model is not changed)')
  .option('--json', 'print one JSON object', false)
  .action(updateCommand);

program
  .command('add-items')
  .description('add the items of an items file that a saved model does not know, embedded from their features (cold items)')
  .requiredOption('--model <file>', 'a model written by twotower train --out, trained with item features')
  .requiredOption(
    '--items <file>',
    'an items file like the one the model was trained with (u.item, movies.csv, a CSV with a header)',
  )
  .requiredOption('--out <file>', 'where to write the model with the new items')
  .option('--json', 'print one JSON object', false)
  .action(addItemsCommand);

program
  .command('export')
  .description(
    "a saved model's embeddings for a vector database, its towers as ONNX models, or a serving bundle for devices (docs/serving.md)",
  )
  .requiredOption('--model <file>', 'a model written by twotower train --out')
  .addOption(
    new Option(
      '--format <format>',
      'jsonl: {"id", "vector"} per line; npy: float32 rows, ids beside; onnx: the towers; bundle: one file for loadBundle (--out is that file); pytorch: a Python package (model.py, train.py, safetensors) to train further with torchrun (docs/scale-out.md)',
    )
      .choices([...VECTOR_FORMATS, 'onnx', 'bundle', 'pytorch'])
      .default('jsonl'),
  )
  .addOption(new Option('--items <form>', 'bundle: item vectors as int8 (default) or f32').choices(['int8', 'f32']))
  .option('--users', 'bundle: keep every user (id rows, features, training items); default: none, a device serves one person')
  .addOption(new Option('--side <side>', 'which embeddings').choices(['user', 'item', 'both']).default('both'))
  .option('--no-augment', 'leave out the bias columns (then inner products omit the biases)')
  .requiredOption('--out <dir>', 'the directory to write users.jsonl / items.npy (+ items.ids.txt) into; with bundle, the file')
  .option('--json', 'print one JSON object', false)
  .action((flags: Parameters<typeof exportCommand>[0] | (Parameters<typeof exportPyTorchCommand>[0] & { format: 'pytorch' })) =>
    flags.format === 'pytorch' ? exportPyTorchCommand(flags) : exportCommand(flags),
  );

program
  .command('import')
  .description(
    'a model trained further elsewhere, back as a model file: --from pytorch DIR (an export --format pytorch directory, after train.py) (docs/scale-out.md)',
  )
  .addOption(new Option('--from <format>', 'what the directory holds').choices(['pytorch']).makeOptionMandatory())
  .argument('<dir>', 'the directory (config.json, weights.safetensors, features.safetensors, vocab.*.json)')
  .requiredOption('--out <file>', 'the model file to write')
  .option('--json', 'print one JSON object', false)
  .action((dir: string, flags: { from: 'pytorch'; out: string; json: boolean }) => importCommand({ ...flags, dir }));

program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof TwoTowerError) {
    console.error(`twotower: ${error.message}`);
    process.exit(1);
  }
  const code = (error as { code?: string; exitCode?: number }).code;
  if (code?.startsWith('commander.')) {
    process.exit(code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : 1);
  }
  // Not a mistake of the user's that the package recognised: still one line, not a stack trace,
  // unless TWOTOWER_DEBUG asks for it.
  console.error(
    `twotower: unexpected error: ${(error as Error)?.message ?? String(error)} (set TWOTOWER_DEBUG=1 for details; please report it)`,
  );
  if (process.env.TWOTOWER_DEBUG) console.error(error);
  process.exit(2);
}

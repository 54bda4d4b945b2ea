// Checks a model config before anything is allocated: each feature by its kind's module, then
// what concerns the towers and the model as a whole. Throws a TwoTowerError naming the field.
import { fail } from '../errors.js';
import type { IdFeature, MultiHotFeature, TowerConfig, TowerSide, TwoTowerConfig } from '../config/model.js';
import { FEATURE_KINDS, featureKind } from './features/index.js';
import { positiveInt } from './features/checks.js';
import { checkBooleans } from '../data/checks.js';

/**
 * The widest a tower's input, a hidden layer or the embedding may be: one chunk of rows (4096) of
 * such a layer's activations is then 512 MiB at most, well within one allocator block
 * (docs/limits.md).
 */
export const MAX_WIDTH = 2 ** 15;

/** Returns the tower's input width. */
function validateTower(t: TowerConfig, side: TowerSide, dim: number): number {
  if (!t || !Array.isArray(t.features) || t.features.length === 0) {
    fail('BAD_CONFIG', `config.${side}.features must list at least one feature`);
  }
  const names = new Set<string>();
  let width = 0;
  t.features.forEach((f, i) => {
    const where = `config.${side}.features[${i}]`;
    if (!f || typeof f.name !== 'string' || f.name === '') fail('BAD_CONFIG', `${where}.name must be a non-empty string`);
    if (names.has(f.name)) fail('BAD_CONFIG', `${where}: duplicate feature name "${f.name}"`);
    names.add(f.name);
    if (!Object.hasOwn(FEATURE_KINDS, f.kind)) {
      const kinds = Object.keys(FEATURE_KINDS)
        .map((k) => `'${k}'`)
        .join(', ');
      fail('BAD_CONFIG', `${where}.kind must be one of ${kinds}, got ${JSON.stringify((f as { kind?: unknown }).kind)}`);
    }
    const kind = featureKind(f);
    kind.validateSpec(f, where, side);
    width += kind.width(f);
  });
  // Several id tables over the same rows are allowed (an ensemble's members side by side, see
  // src/api/ensemble.ts); the first keys the biases and the row count.
  const ids = t.features.filter((f): f is IdFeature => f.kind === 'id');
  ids.forEach((f) => {
    if (f.vocabSize !== ids[0]!.vocabSize)
      fail(
        'BAD_CONFIG',
        `config.${side}'s id features "${ids[0]!.name}" and "${f.name}" must have the same vocabSize, got ${ids[0]!.vocabSize} and ${f.vocabSize}`,
      );
  });
  if (t.hidden !== undefined && !Array.isArray(t.hidden))
    fail('BAD_CONFIG', `config.${side}.hidden must be a list of layer widths, got ${JSON.stringify(t.hidden)}`);
  (t.hidden ?? []).forEach((h, i) => {
    positiveInt(h, `config.${side}.hidden[${i}]`);
    if (h > MAX_WIDTH) fail('BAD_CONFIG', `config.${side}.hidden[${i}] is ${h}, over the largest layer width ${MAX_WIDTH}`);
  });
  if (width > MAX_WIDTH)
    fail(
      'BAD_CONFIG',
      `config.${side}'s input is ${width} wide (the features' widths summed), over the largest layer width ${MAX_WIDTH}: use smaller feature dims`,
    );
  if (t.combine !== undefined && t.combine !== 'concat' && t.combine !== 'sum')
    fail('BAD_CONFIG', `config.${side}.combine must be 'concat' or 'sum', got ${JSON.stringify(t.combine)}`);
  if (t.combine === 'sum') {
    const widths = t.features.map((f) => featureKind(f).width(f));
    const odd = widths.findIndex((w) => w !== widths[0]);
    if (odd >= 0)
      fail(
        'BAD_CONFIG',
        `config.${side}.combine is 'sum', so every feature must have the same width: config.${side}.features[${odd}] ("${t.features[odd]!.name}") is ${widths[odd]} wide, features[0] ("${t.features[0]!.name}") ${widths[0]}`,
      );
    width = widths[0]!;
  }
  if (t.project !== undefined && typeof t.project !== 'boolean')
    fail('BAD_CONFIG', `config.${side}.project must be true or false, got ${JSON.stringify(t.project)}`);
  if (t.project === false && (t.hidden ?? []).length === 0 && width !== dim) {
    fail('BAD_CONFIG', `config.${side}.project is false, so its input width (${width}) must equal config.dim (${dim})`);
  }
  if (t.project === false && (t.hidden ?? []).length > 0 && t.hidden![t.hidden!.length - 1] !== dim) {
    fail('BAD_CONFIG', `config.${side}.project is false, so its last hidden width must equal config.dim (${dim})`);
  }
  return width;
}

/** A tied set reads the id table of its tokens' side: that side needs an id feature of the set's vocabSize and dim. */
function checkTied(config: TwoTowerConfig, side: TowerSide, f: MultiHotFeature, where: string): void {
  const tokenSide = f.tokens === 'self' ? side : side === 'user' ? 'item' : 'user';
  const id = config[tokenSide].features.find((g): g is IdFeature => g.kind === 'id');
  if (!id)
    fail(
      'BAD_CONFIG',
      `${where}.tied ("${f.name}") reads the ${tokenSide}s' id table, but config.${tokenSide} has no id feature`,
    );
  if (f.vocabSize !== id.vocabSize)
    fail(
      'BAD_CONFIG',
      `${where}.vocabSize ("${f.name}") is ${f.vocabSize}, but the tied set's tokens are the ${tokenSide}s' rows: it must equal their id feature "${id.name}"'s (${id.vocabSize})`,
    );
  if (f.dim !== id.dim)
    fail(
      'BAD_CONFIG',
      `${where}.dim ("${f.name}") is ${f.dim}, but the tied set reads the ${tokenSide}s' id table "${id.name}": it must equal its dim (${id.dim})`,
    );
}

export function validateConfig(config: TwoTowerConfig): void {
  if (!config || typeof config !== 'object') fail('BAD_CONFIG', 'config must be an object');
  positiveInt(config.dim, 'config.dim');
  if (config.dim > MAX_WIDTH) fail('BAD_CONFIG', `config.dim is ${config.dim}, over the largest layer width ${MAX_WIDTH}`);
  validateTower(config.user, 'user', config.dim);
  validateTower(config.item, 'item', config.dim);
  for (const side of ['user', 'item'] as const) {
    if (config.bias?.[side] && !config[side].features.some((f) => f.kind === 'id')) {
      fail('BAD_CONFIG', `config.bias.${side} needs an id feature in config.${side}.features to key the bias on`);
    }
  }
  for (const side of ['user', 'item'] as const) {
    const other = config[side === 'user' ? 'item' : 'user'].features.find((f) => f.kind === 'id');
    config[side].features.forEach((f, i) => {
      if (f.kind === 'multiHot' && f.tied) checkTied(config, side, f, `config.${side}.features[${i}]`);
      if (f.kind === 'multiHot' && f.interactions && other && f.vocabSize !== other.vocabSize)
        fail(
          'BAD_CONFIG',
          `config.${side}.features[${i}] ("${f.name}") is an interaction set over the ${side === 'user' ? 'item' : 'user'}s, so its vocabSize (${f.vocabSize}) must equal their id feature's (${other.vocabSize})`,
        );
    });
  }
  if (config.ratingRange !== undefined) {
    const r = config.ratingRange;
    if (!Array.isArray(r) || r.length !== 2 || !Number.isFinite(r[0]) || !Number.isFinite(r[1]) || !(r[0] < r[1])) {
      fail('BAD_CONFIG', `config.ratingRange must be [min, max] with min < max, got ${JSON.stringify(r)}`);
    }
  }
  if (config.seed !== undefined && !Number.isInteger(config.seed))
    fail('BAD_CONFIG', `config.seed must be an integer, got ${config.seed}`);
  // Beyond ~100 the initial scores overflow f32 in the dot products: a silent NaN model.
  if (config.embeddingInitStd !== undefined && !(config.embeddingInitStd >= 0 && config.embeddingInitStd <= 100)) {
    fail('BAD_CONFIG', `config.embeddingInitStd must be in [0, 100], got ${config.embeddingInitStd}`);
  }
  if (config.bias !== undefined && (typeof config.bias !== 'object' || config.bias === null))
    fail('BAD_CONFIG', `config.bias must be an object { global?, user?, item? }`);
  checkBooleans(config.bias, 'config.bias', ['global', 'user', 'item'], { code: 'BAD_CONFIG' });
}

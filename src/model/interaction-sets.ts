// Which multi-hot features of a tower are interaction sets (a user's items, an item's users; see
// MultiHotFeature.interactions): explanations name their tokens by the other side's ids, and
// growing a model (addItems, update) widens them with that side and appends new interactions.
import type { MultiHotFeature, TowerSide, TwoTowerConfig, InteractionSet } from '../config/model.js';

/** The recipe's interaction sets in model files written before `interactions` existed. */
const LEGACY: Record<TowerSide, Record<string, InteractionSet>> = {
  user: { history: {}, rated: { weighting: 'inverseSqrt' } },
  item: { raters: { weighting: 'inverseSqrt' } },
};

/** A tower's interaction-set features, each with how it is kept. */
export function interactionSets(config: TwoTowerConfig, side: TowerSide): { spec: MultiHotFeature; set: InteractionSet }[] {
  const other = config[side === 'user' ? 'item' : 'user'].features.find((f) => f.kind === 'id');
  const out: { spec: MultiHotFeature; set: InteractionSet }[] = [];
  for (const spec of config[side].features) {
    if (spec.kind !== 'multiHot' || (spec.tied && spec.tokens === 'self')) continue;
    const legacy =
      Object.hasOwn(LEGACY[side], spec.name) && other?.vocabSize === spec.vocabSize ? LEGACY[side][spec.name] : undefined;
    const set = spec.interactions ?? legacy;
    if (set) out.push({ spec, set });
  }
  return out;
}

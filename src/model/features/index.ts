// The registry of feature kinds: one module each. Adding a kind adds one line here.
import type { FeatureKindName, FeatureSpec } from '../../config/model.js';
import type { FeatureKind } from './kind.js';
import { idKind } from './id.js';
import { categoricalKind } from './categorical.js';
import { multiHotKind } from './multi-hot.js';
import { numericKind } from './numeric.js';

export const FEATURE_KINDS: { [K in FeatureKindName]: FeatureKind<Extract<FeatureSpec, { kind: K }>> } = {
  id: idKind,
  categorical: categoricalKind,
  multiHot: multiHotKind,
  numeric: numericKind,
};

/** The module of a spec's kind (undefined for an unknown kind: validation reports it). */
export function featureKind<S extends FeatureSpec>(spec: S): FeatureKind<S> {
  return FEATURE_KINDS[spec.kind] as unknown as FeatureKind<S>;
}

export type { FeatureKind, FeatureSlot, FeaturePass } from './kind.js';

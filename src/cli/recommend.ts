// `twotower recommend`: a user's top items from a saved model, or a new user's from the items
// they interacted with (cold start through the history feature). Ids in and out are the user's.
import { basename } from 'node:path';
import { loadModelFile } from '../node/model-io.js';
import { fail } from '../errors.js';
import { describeReason, type Recommendation } from '../index.js';

export interface RecommendFlags {
  model: string;
  user?: string;
  /** Comma-separated item ids: recommend for a new user who interacted with these. */
  history?: string;
  k: number;
  includeSeen?: boolean;
  /** true or 'words': reasons in words; 'numbers': each part's share of the score. */
  explain?: boolean | 'words' | 'numbers';
  json: boolean;
}

export async function recommendCommand(f: RecommendFlags): Promise<void> {
  const model = await loadModelFile(f.model);
  try {
    const vocabulary = model.vocabularies.users;
    // A model trained in code without vocabularies speaks its row indices as ids.
    const userId = (id: string) => (vocabulary || !/^\d+$/.test(id) ? id : Number(id));
    const known =
      f.user !== undefined && (vocabulary ? vocabulary.has(f.user) : /^\d+$/.test(f.user) && Number(f.user) < model.userCount);
    let list: Recommendation[];
    if (f.user !== undefined && !known && f.history === undefined) {
      const coldStart = model.config.user.features.some((s) => s.name === 'history' && s.kind === 'multiHot');
      fail(
        'UNKNOWN_ID',
        `user id "${f.user}" is not in ${basename(f.model)} (it knows ${model.userCount - (vocabulary ? 1 : 0)} users)` +
          (coldStart ? '; pass --history ITEM,ITEM,… to recommend from their items' : ''),
        { id: f.user, side: 'user' },
      );
    }
    if (f.explain && !known)
      fail('BAD_OPTION', '--explain explains a known user’s recommendations: give --user with an id the model knows');
    if (known) {
      list = model.recommend(userId(f.user!), {
        k: f.k,
        excludeSeen: !f.includeSeen && model.hasTrainingHistory,
        explain: f.explain !== undefined && f.explain !== false,
      });
    } else if (f.history !== undefined) {
      // Cold start: a user the model has not seen, embedded from the items they interacted with.
      const ids = f.history
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      const items = model.vocabularies.items;
      const unknown = items ? ids.filter((x) => !items.has(x)) : [];
      if (unknown.length)
        fail('UNKNOWN_ID', `--history: item id "${unknown[0]}" is not in ${basename(f.model)}`, {
          id: unknown[0],
          side: 'item',
          option: '--history',
        });
      list = model.recommendFromHistory(items ? ids : ids.map(Number), { k: f.k, excludeSeen: !f.includeSeen });
    } else {
      fail('BAD_OPTION', 'recommend needs --user ID, or --history ITEM,ITEM,… for a user the model has not seen');
    }
    const scoreKind = known && model.trainedWith && !model.trainedWith.implicit ? 'predicted rating' : 'score';
    if (f.json)
      console.log(
        JSON.stringify({ user: f.user ?? null, coldStart: !known, scoreKind, items: list.map((x) => ({ ...x, item: x.id })) }),
      );
    else
      list.forEach((x, r) =>
        console.log(
          `${r + 1}\t${x.id}\t${x.score.toFixed(4)}` +
            (x.label !== undefined ? `\t${x.label}` : '') +
            (f.explain === 'numbers' && x.reasons ? `\twhy: ${x.reasons.map(describeReason).join('; ') || '—'}` : '') +
            (f.explain !== 'numbers' && x.words ? `\t${x.words.join('; ') || '—'}` : ''),
        ),
      );
  } finally {
    model.dispose();
  }
}

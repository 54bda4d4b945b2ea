// One side's embeddings as a file for a vector database (Model.exportEmbeddings): which rows and
// ids an export holds, and the vectors, with the score biases folded in when augmented. The file
// formats and the folding are src/io/vector-export.ts.
import { fail } from '../errors.js';
import { checkBooleans } from '../data/checks.js';
import type { TwoTower } from '../model/twotower.js';
import { encodeJsonl, encodeNpy, foldBiases, VECTOR_FORMATS, type VectorFormat } from '../io/vector-export.js';

/** What to export (see Model.exportEmbeddings). */
export interface ExportEmbeddingsOptions {
  side: 'user' | 'item';
  /** 'jsonl' (default): `{"id": …, "vector": […]}` per line; 'npy': NumPy float32 rows × dim. */
  format?: VectorFormat;
  /** Append the bias columns that make an inner product equal the model's score. Default: when the model has biases. */
  augment?: boolean;
}

/** An exported side: the file's bytes and what they hold. */
export interface EmbeddingExport {
  side: 'user' | 'item';
  format: VectorFormat;
  /** Rows (users or items) in the file. */
  count: number;
  /** Floats per vector: the model's dim, + 2 when augmented. */
  dim: number;
  /** Whether the vectors carry the bias columns ([u, 1, b + b_u] and [v, b_i, 1]). */
  augmented: boolean;
  /** The ids, in row order (also inside a JSON Lines file). */
  ids: string[];
  /** The file: JSON Lines text (UTF-8) or a .npy file. */
  data: Uint8Array;
}

/**
 * The rows a side's export holds and their ids: a vocabulary's keys (its row 0, the unknown id,
 * left out), "bucket r" for a hashed one, else the row numbers.
 */
function exportedRows(core: TwoTower, side: 'user' | 'item'): { rows: number[]; ids: string[] } {
  const count = side === 'user' ? core.userCount : core.itemCount;
  const vocab = side === 'user' ? core.vocabularies.users : core.vocabularies.items;
  const rows: number[] = [];
  const ids: string[] = [];
  if (vocab && vocab.mode === 'exact') {
    for (let r = 1; r < Math.min(vocab.size, count); r++) {
      rows.push(r);
      ids.push(vocab.key(r)!);
    }
  } else {
    for (let r = 0; r < count; r++) {
      rows.push(r);
      ids.push(vocab ? `bucket ${r}` : String(r));
    }
  }
  return { rows, ids };
}

/** The file exportEmbeddings(options) writes for `core` (see Model.exportEmbeddings). */
export function exportEmbeddings(core: TwoTower, options: ExportEmbeddingsOptions): EmbeddingExport {
  core.live();
  const side = options?.side;
  if (side !== 'user' && side !== 'item') fail('BAD_OPTION', `side must be 'user' or 'item', got ${JSON.stringify(side)}`);
  const format = options.format ?? 'jsonl';
  if (!VECTOR_FORMATS.includes(format))
    fail('BAD_OPTION', `format must be one of ${VECTOR_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  checkBooleans(options, 'exportEmbeddings: options', ['augment']);
  const { global, user: ub, item: ib } = core.bias;
  const augment = options.augment ?? Boolean(global || ub || ib);
  const { rows, ids } = exportedRows(core, side);
  const base = side === 'user' ? core.userEmbeddings(rows) : core.itemEmbeddings(rows);
  const dim = core.dim + (augment ? 2 : 0);
  let vectors = base;
  if (augment) {
    const values = (block: typeof global) => (block ? core.store.values(block) : undefined);
    vectors = foldBiases(side, base, core.dim, rows, values(global)?.[0] ?? 0, values(side === 'user' ? ub : ib));
  }
  const data = format === 'jsonl' ? encodeJsonl(ids, vectors, dim) : encodeNpy(vectors, rows.length, dim);
  return { side, format, count: rows.length, dim, augmented: augment, ids, data };
}

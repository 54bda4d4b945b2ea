// String keys → dense indices. 'exact' mode keeps every key seen while building and maps unknown
// keys (after freeze) to the out-of-vocabulary bucket, index 0. 'hash' mode maps any key to one
// of `buckets` indices by FNV-1a, with no stored keys (for huge or open-ended id spaces).
import { fail } from '../errors.js';

export interface VocabularyJSON {
  mode: 'exact' | 'hash';
  /** exact: the keys of indices 1…n (index 0 is the out-of-vocabulary bucket). */
  keys?: string[];
  /** hash: number of buckets. */
  buckets?: number;
}

/** 32-bit FNV-1a over the UTF-16 code units of a string. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Vocabulary {
  readonly mode: 'exact' | 'hash';
  private readonly index = new Map<string, number>();
  private readonly list: string[] = [];
  private frozen = false;
  readonly buckets: number;

  /** Index of unknown keys in exact mode. */
  static readonly OOV = 0;

  constructor(mode: 'exact' | 'hash' = 'exact', buckets = 0) {
    this.mode = mode;
    this.buckets = buckets;
    if (mode === 'hash' && !(Number.isInteger(buckets) && buckets > 0)) {
      fail('BAD_OPTION', `a hashed vocabulary needs a positive integer number of buckets, got ${buckets}`);
    }
  }

  /** Number of indices, the OOV bucket included (exact), or the bucket count (hash). */
  get size(): number {
    return this.mode === 'hash' ? this.buckets : this.list.length + 1;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Stops adding keys: unknown keys then map to the OOV bucket. */
  freeze(): this {
    this.frozen = true;
    return this;
  }

  /** The index of key, adding it unless frozen. */
  add(key: string): number {
    if (this.mode === 'hash') return fnv1a(key) % this.buckets;
    const found = this.index.get(key);
    if (found !== undefined) return found;
    if (this.frozen) return Vocabulary.OOV;
    this.list.push(key);
    this.index.set(key, this.list.length);
    return this.list.length;
  }

  /** The index of key, or OOV (exact) without adding. */
  lookup(key: string): number {
    if (this.mode === 'hash') return fnv1a(key) % this.buckets;
    return this.index.get(key) ?? Vocabulary.OOV;
  }

  has(key: string): boolean {
    return this.mode === 'hash' || this.index.has(key);
  }

  /** The key at an index (exact mode), or undefined for OOV / hash mode. */
  key(index: number): string | undefined {
    return this.mode === 'exact' && index > 0 ? this.list[index - 1] : undefined;
  }

  /** The keys in index order (index i + 1 holds keys()[i]; 0 is the OOV bucket); none in hash mode. */
  keys(): string[] {
    return [...this.list];
  }

  /** A frozen copy with `keys` appended (those not already in it, in order); a hashed vocabulary is copied as is. */
  extended(keys: Iterable<string>): Vocabulary {
    const v = new Vocabulary(this.mode, this.buckets);
    for (const key of this.list) v.add(key);
    if (this.mode === 'exact') for (const key of keys) v.add(key);
    return v.freeze();
  }

  toJSON(): VocabularyJSON {
    return this.mode === 'hash' ? { mode: 'hash', buckets: this.buckets } : { mode: 'exact', keys: [...this.list] };
  }

  static fromJSON(json: VocabularyJSON): Vocabulary {
    const v = new Vocabulary(json.mode, json.buckets ?? 0);
    for (const key of json.keys ?? []) v.add(key);
    return v.freeze();
  }
}

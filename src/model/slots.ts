// Typed, named slots on a model core for other layers' heap data: training's scratch, the ranking
// layer's item index. The module that makes a key is the only one that can read its slot (it
// keeps the key to itself), so the core is no bag others reach into; the core only frees what
// the slots hold — scratch with the model, derived data also on every write (TwoTower.write).

/** What a slot holds: something with heap memory to free. */
export interface Freeable {
  free(): void;
}

/** The key of one owner's slot; `T` is what the slot holds. */
export class SlotKey<T extends Freeable> {
  /** Never set: ties the key to its slot's type. */
  declare readonly holds?: T;

  /** `name` says whose slot it is (for messages). */
  constructor(readonly name: string) {}
}

/** The slots of one kind on one core. */
export class Slots {
  private readonly held = new Map<SlotKey<Freeable>, Freeable>();

  /** The slot's value, made by `make` when the slot is empty. */
  get<T extends Freeable>(key: SlotKey<T>, make: () => T): T {
    const have = this.held.get(key);
    if (have) return have as T;
    const made = make();
    this.held.set(key, made);
    return made;
  }

  /** Frees and empties every slot. */
  clear(): void {
    const values = [...this.held.values()];
    this.held.clear();
    for (const value of values) value.free();
  }
}

// Typed arrays that grow by doubling while a file streams in: a 25M-row file never has its
// values in JS arrays or its text in memory twice.

type TypedCtor<T> = { new (n: number): T };

export class Growable<T extends Int32Array | Float32Array | Float64Array> {
  private data: T;
  length = 0;

  constructor(
    private readonly ctor: TypedCtor<T>,
    capacity = 1024,
  ) {
    this.data = new ctor(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new this.ctor(this.data.length * 2);
      bigger.set(this.data as never);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /** The values, trimmed to length (a copy, so the spare capacity can be collected). */
  take(): T {
    return this.data.slice(0, this.length) as T;
  }
}

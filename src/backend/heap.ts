// Moving data into a backend's heap: one-off uploads, and named scratch blocks that only grow
// (reused across calls, so steady-state calls allocate nothing and the memory never balloons).
import type { Backend } from './contract.js';

/** Copies i32 values into a fresh heap block and returns its address. */
export function upload(be: Backend, values: ArrayLike<number>): number {
  const p = be.alloc(Math.max(1, values.length) * 4);
  be.ints(p, values.length).set(values);
  return p;
}

/** Copies floats into a fresh heap block (converted to the backend's float width). */
export function uploadFloats(be: Backend, values: ArrayLike<number>): number {
  const p = be.alloc(Math.max(1, values.length) * be.floatBytes);
  be.floats(p, values.length).set(values);
  return p;
}

export class Buffers {
  private readonly blocks = new Map<string, { ptr: number; bytes: number }>();
  constructor(private readonly backend: Backend) {}

  /** A block of at least `bytes` bytes under `name`; its contents are kept only if it did not grow. */
  get(name: string, bytes: number): number {
    const have = this.blocks.get(name);
    if (have && have.bytes >= bytes) return have.ptr;
    const size = Math.max(16, Math.ceil((bytes * (have ? 1.5 : 1)) / 16) * 16);
    // Allocate before freeing: if the allocation fails, the old block is still valid and kept.
    const ptr = this.backend.alloc(size);
    if (have) this.backend.free(have.ptr);
    this.blocks.set(name, { ptr, bytes: size });
    return ptr;
  }

  free(): void {
    for (const { ptr } of this.blocks.values()) this.backend.free(ptr);
    this.blocks.clear();
  }
}

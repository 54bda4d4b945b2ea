// Named heap blocks that only grow: scratch reused across calls, so steady-state calls allocate
// nothing (and the memory never balloons).
import type { Backend } from '../wasm/backend.js';

export class Buffers {
  private readonly blocks = new Map<string, { ptr: number; bytes: number }>();
  constructor(private readonly backend: Backend) {}

  /** A block of at least `bytes` bytes under `name`; its contents are kept only if it did not grow. */
  get(name: string, bytes: number): number {
    const have = this.blocks.get(name);
    if (have && have.bytes >= bytes) return have.ptr;
    if (have) this.backend.free(have.ptr);
    const size = Math.max(16, Math.ceil(bytes * (have ? 1.5 : 1) / 16) * 16);
    const ptr = this.backend.alloc(size);
    this.blocks.set(name, { ptr, bytes: size });
    return ptr;
  }

  free(): void {
    for (const { ptr } of this.blocks.values()) this.backend.free(ptr);
    this.blocks.clear();
  }
}

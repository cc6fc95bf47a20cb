import type { Backend } from "./backend";
import type { DType } from "./dtype";
import { itemSize } from "./dtype";

/**
 * A block of device memory shared by every view on it. Tensors hold references; the last release frees the
 * handle. `version` counts in-place writes (shared by all views, as PyTorch's version counter is), so autograd
 * can tell that a saved tensor was modified.
 */
export class Storage {
  refs = 0;
  version = 0;
  freed = false;
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly length: number,
    readonly handle: unknown,
  ) {
    stats.storages++;
    stats.bytes += length * itemSize(dtype);
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs > 0 || this.freed) return;
    this.freed = true;
    stats.storages--;
    stats.bytes -= this.length * itemSize(this.dtype);
    this.backend.free(this.handle);
  }
}

export const stats = { tensors: 0, storages: 0, bytes: 0 };

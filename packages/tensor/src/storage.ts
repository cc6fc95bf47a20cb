import type { Backend } from "./backend";
import type { DType } from "./dtype";
import { itemSize } from "./dtype";

/**
 * The bookkeeping of a storage: reference count, size, and how to free it. The FinalizationRegistry holds
 * this, never the storage, so that for garbage-collected backends (CPU) it keeps no memory alive: a program
 * that never yields to the event loop (finalisers run only between tasks) still frees its CPU tensors.
 */
export class StorageAccount {
  refs = 0;
  freed = false;
  constructor(
    readonly bytes: number,
    private readonly onFree: (() => void) | null,
  ) {
    stats.storages++;
    stats.bytes += bytes;
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs > 0 || this.freed) return;
    this.freed = true;
    stats.storages--;
    stats.bytes -= this.bytes;
    this.onFree?.();
  }
}

/**
 * A block of device memory shared by every view on it. Tensors hold references; the last release frees the
 * handle. `version` counts in-place writes (shared by all views, as PyTorch's version counter is), so autograd
 * can tell that a saved tensor was modified.
 */
export class Storage {
  version = 0;
  readonly account: StorageAccount;
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly length: number,
    readonly handle: unknown,
  ) {
    const bytes = length * itemSize(dtype);
    this.account = new StorageAccount(bytes, backend.gcManaged ? null : () => backend.free(handle));
  }
  get freed(): boolean {
    return this.account.freed;
  }
}

export const stats = { tensors: 0, storages: 0, bytes: 0 };

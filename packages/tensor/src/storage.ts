import { type Cohort, countStorage, uncountStorage } from "./accounting";
import type { Backend, View } from "./backend";
import type { DType } from "./dtype";
import { itemSize } from "./dtype";
import { countCopy, type Pending, runPending } from "./fusion";
import { contiguousStrides } from "./shape";

/**
 * The bookkeeping of a storage: reference count, size, and how to free it. The FinalizationRegistry holds
 * this, never the storage, so that for garbage-collected backends (CPU) it keeps no memory alive: a program
 * that never yields to the event loop (finalisers run only between tasks) still frees its CPU tensors.
 */
export class StorageAccount {
  refs = 0;
  freed = false;
  /** The group this storage is counted in while the GC manages it (accounting.ts). */
  private readonly cohort: Cohort | null;
  constructor(
    readonly bytes: number,
    private readonly onFree: (() => void) | null,
  ) {
    this.cohort = countStorage(bytes, onFree === null);
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs > 0 || this.freed) return;
    this.freed = true;
    uncountStorage(this.cohort, this.bytes);
    this.onFree?.();
  }
}

/**
 * A block of device memory shared by every view on it. Tensors hold references; the last release frees the
 * handle. `version` counts in-place writes (shared by all views, as PyTorch's version counter is), so autograd
 * can tell that a saved tensor was modified.
 *
 * A storage may be pending (`fusion.ts`): it holds a program instead of a buffer, and the first use of `handle`
 * allocates the buffer and runs the program. `captured` says a pending program reads this storage's buffer, so an
 * in-place write must first move to a copy (`beforeWrite`); `external` marks a buffer the user owns (wrapped
 * without a copy), which programs never capture.
 */
export class Storage {
  version = 0;
  readonly account: StorageAccount;
  pending: Pending | null = null;
  captured = false;
  external = false;
  private buffer: unknown;
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly length: number,
    handle: unknown,
  ) {
    this.buffer = handle;
    const bytes = length * itemSize(dtype);
    this.account = new StorageAccount(bytes, backend.gcManaged ? null : () => backend.free(this.buffer));
  }
  /** A storage whose contents are `pending`'s result, computed at the first use of `handle`. */
  static pending(backend: Backend, dtype: DType, length: number, pending: Pending): Storage {
    const s = new Storage(backend, dtype, length, null);
    s.pending = pending;
    return s;
  }
  /** The backend's buffer (running a pending program first). */
  get handle(): unknown {
    if (this.pending !== null) this.realize();
    return this.buffer;
  }
  /** Whether the buffer is `h`, without running anything. */
  handleIs(h: unknown): boolean {
    return this.buffer === h;
  }
  /** Whether the buffer holds the contents: not pending (any more) and not released. */
  get ready(): boolean {
    return this.pending === null && this.buffer !== null && !this.account.freed;
  }
  /** Whether the storage has been released. */
  get freed(): boolean {
    return this.account.freed;
  }
  /** Called before every in-place write: run a pending program, and copy a buffer that pending programs read. */
  beforeWrite(): void {
    if (this.pending !== null) this.realize();
    if (!this.captured) return;
    const b = this.backend;
    const fresh = b.alloc(this.dtype, this.length);
    b.copy(this.whole(this.buffer), this.whole(fresh));
    this.buffer = fresh;
    this.captured = false;
    countCopy();
  }
  /** Drop a pending program that will never be needed (the storage was released). */
  discard(): void {
    this.pending = null;
  }
  private realize(): void {
    const p = this.pending as Pending;
    const b = this.backend;
    const out = b.alloc(this.dtype, this.length);
    runPending(b, p, {
      handle: out,
      dtype: this.dtype,
      shape: p.shape,
      strides: contiguousStrides(p.shape),
      offset: 0,
    });
    this.buffer = out;
    this.pending = null;
  }
  private whole(handle: unknown): View {
    return { handle, dtype: this.dtype, shape: [this.length], strides: [1], offset: 0 };
  }
}

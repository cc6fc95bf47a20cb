import { type Cohort, countStorage, uncountStorage } from "./accounting";
import type { Backend, View } from "./backend";
import type { DType } from "./dtype";
import { itemSize } from "./dtype";
import { countCopy, type Pending, runPending } from "./fusion";
import { contiguousStrides } from "./shape";

/**
 * The bookkeeping of a storage: reference count, size, and what to tell at the last release. The
 * FinalizationRegistry holds this for storage the collector does not manage (WebGPU); CPU storage is never
 * registered (accounting.ts counts it in cohorts), so a program that never yields to the event loop (finalisers run
 * only between tasks) still frees its CPU tensors.
 */
export class StorageAccount {
  refs = 0;
  freed = false;
  /** The group this storage is counted in while the GC manages it (accounting.ts). */
  private readonly cohort: Cohort | null;
  /** The storage (a private field: JSON.stringify and inspection of a tensor meet no cycle). */
  readonly #owner: { released(): void };
  constructor(
    readonly bytes: number,
    gcManaged: boolean,
    owner: { released(): void },
  ) {
    this.cohort = countStorage(bytes, gcManaged);
    this.#owner = owner;
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs > 0 || this.freed) return;
    this.freed = true;
    uncountStorage(this.cohort, this.bytes);
    this.#owner.released();
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
 *
 * Freeing: a backend gets `free` only for a buffer nobody else can read, so it may recycle it (the CPU's buffer pool,
 * WebGPU's): not read by a pending program that has not run yet (`readers`; such a buffer is freed when the last of
 * those programs runs or is dropped), and on a garbage-collected backend (CPU) not the user's (`external`). A buffer
 * a copy-on-write moved away from is freed the same way when its last reader is done (`retired`); on the CPU the
 * collector takes it.
 */
export class Storage {
  version = 0;
  readonly account: StorageAccount;
  pending: Pending | null = null;
  captured = false;
  external = false;
  private buffer: unknown;
  /**
   * Pending programs (not run, not dropped) that read `buffer`: it is freed to a GC-managed backend only at 0.
   * @internal
   */
  readers = 0;
  /**
   * Buffers a copy-on-write moved this storage away from, with the pending programs still reading each (a backend
   * that frees explicitly gets each back when its count reaches 0).
   */
  private retired: Map<unknown, number> | null = null;
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly length: number,
    handle: unknown,
  ) {
    this.buffer = handle;
    const bytes = length * itemSize(dtype);
    this.account = new StorageAccount(bytes, backend.gcManaged === true, this);
  }
  /** A storage whose contents are `pending`'s result, computed at the first use of `handle`. */
  static pending(backend: Backend, dtype: DType, length: number, pending: Pending): Storage {
    const s = new Storage(backend, dtype, length, null);
    s.pending = pending;
    const { sources, inputs } = pending;
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i];
      const h = inputs[i].handle;
      if (src.buffer === h) src.readers++;
      else {
        // an inlined program's input that a copy-on-write has moved away from since: one more reader of it
        const left = src.retired?.get(h);
        if (left !== undefined) src.retired?.set(h, left + 1);
      }
    }
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
    // every program that read this buffer has run or was dropped: nothing to protect, write in place
    if (this.readers === 0) {
      this.captured = false;
      return;
    }
    const b = this.backend;
    const fresh = b.alloc(this.dtype, this.length, false);
    b.copy(this.whole(this.buffer), this.whole(fresh));
    // the old buffer belongs to the programs that read it now (freed after the last, or by the collector); none
    // reads the new one
    if (b.gcManaged !== true) {
      this.retired ??= new Map();
      this.retired.set(this.buffer, this.readers);
    }
    this.buffer = fresh;
    this.readers = 0;
    this.captured = false;
    countCopy();
  }
  /** Drop a pending program that will never be needed (the storage was released). */
  discard(): void {
    const p = this.pending;
    this.pending = null;
    if (p !== null) endReads(p);
  }
  /** The last release (`StorageAccount`): free the buffer, unless (GC-managed) someone else may still read it. */
  released(): void {
    this.discard();
    if (this.buffer !== null && this.readers === 0 && this.recyclable) this.backend.free(this.buffer);
  }
  /** Whether the backend may take the buffer back once nobody reads it (GC-managed: not the user's memory). */
  get recyclable(): boolean {
    return !this.external || this.backend.gcManaged !== true;
  }
  /** A pending program reading `handle`, a buffer this storage moved away from, ran or was dropped. */
  endRetired(handle: unknown): void {
    const left = this.retired?.get(handle);
    if (left === undefined) return; // GC-managed: the collector frees it
    const r = this.retired as Map<unknown, number>;
    if (left > 1) r.set(handle, left - 1);
    else {
      r.delete(handle);
      this.backend.free(handle);
    }
  }
  private realize(): void {
    const p = this.pending as Pending;
    const b = this.backend;
    const out = b.alloc(this.dtype, this.length, false); // the program writes every element
    runPending(b, p, {
      handle: out,
      dtype: this.dtype,
      shape: p.shape,
      strides: contiguousStrides(p.shape),
      offset: 0,
    });
    this.buffer = out;
    this.pending = null;
    endReads(p);
  }
  private whole(handle: unknown): View {
    return { handle, dtype: this.dtype, shape: [this.length], strides: [1], offset: 0 };
  }
}

/** A program ran or was dropped: its sources lose a reader, and a released source nobody reads any more is freed. */
function endReads(p: Pending): void {
  const { sources, inputs } = p;
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i];
    const h = inputs[i].handle;
    if (!s.handleIs(h)) s.endRetired(h);
    else if (--s.readers === 0 && s.freed && s.recyclable) s.backend.free(h);
  }
}

/**
 * A storage that is another storage's buffer seen as `dtype` (`view_as_real`, `view_as_complex`, `x.real`): same
 * buffer, version counter, reference count and copy-on-write state as the owner, whose dtype only differs in how
 * many words an element takes (complex64 as float32 pairs). Every field and method but `dtype` and `length` is the
 * owner's (read, written and called on the owner), so a copy-on-write move or a pending program run by either side
 * is seen by both. An alias of an alias is an alias of the owner; the owner's own dtype gives the owner back.
 */
export function aliasStorage(base: Storage, dtype: DType, length: number): Storage {
  const owner = (base as { aliasOf?: Storage }).aliasOf ?? base;
  if (owner.dtype === dtype) return owner;
  const o = owner as unknown as Record<string, unknown>;
  const props: PropertyDescriptorMap = {
    aliasOf: { value: owner },
    dtype: { value: dtype },
    length: { value: length },
  };
  for (const key of Object.getOwnPropertyNames(owner)) {
    if (key in props) continue;
    props[key] = {
      get: () => o[key],
      set: (v: unknown) => {
        o[key] = v;
      },
    };
  }
  for (const key of Object.getOwnPropertyNames(Storage.prototype)) {
    if (key === "constructor" || key in props) continue;
    const d = Object.getOwnPropertyDescriptor(Storage.prototype, key) as PropertyDescriptor;
    props[key] = d.get
      ? { get: () => o[key] }
      : { value: (...args: unknown[]) => (o[key] as (...a: unknown[]) => unknown).apply(owner, args) };
  }
  return Object.create(Storage.prototype, props) as Storage;
}

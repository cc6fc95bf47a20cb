/**
 * CPU storage in WebAssembly memory (issue 11). Float32 and float64 storage of at least HEAP_MIN_BYTES lives in one
 * shared `WebAssembly.Memory`, the one the GEMM's module and its worker threads import (wasm/gemm.ts), so the WASM
 * kernels read and write tensors where they are instead of copying every operand into their own memory and the
 * result out: the GEMM packs its panels straight from the operands and writes C in place, the optimizer updates run
 * in place (optim-wasm.ts). A storage handle stays a plain typed array (a view of the memory's SharedArrayBuffer), so
 * every JS kernel, the `@cinder/blas` provider and `readSync` work on it unchanged.
 *
 * Why a shared memory only: views of a shared memory survive `memory.grow` (a SharedArrayBuffer is never detached;
 * the grown memory is a new, longer SharedArrayBuffer over the same bytes), while growing an unshared memory
 * detaches its ArrayBuffer and every tensor on it. Where memory cannot be shared (no SharedArrayBuffer, a page that
 * is not cross-origin isolated) the heap is off and storage stays on the JS heap, as before.
 *
 * The allocator: blocks start 64-byte aligned (cache lines; SIMD loads need 16). Blocks up to LARGE_BYTES come in
 * size classes, four per power of two (a block's size is its class's top, so any free block of a class serves any
 * request of it; waste < 25 %), each class a free list. Larger blocks come from one address-ordered free list:
 * best fit, the rest split off, neighbours merged when freed, and a free block at the top lowers the top. New
 * blocks are cut from the top; the memory grows (by at least a quarter) as needed, up to its maximum (1 GiB, as
 * gemm.wat declares; reserved lazily by the engine). A request the heap cannot serve, full or not, returns null and
 * the caller takes a JS array: no allocation fails that would succeed without the heap.
 *
 * Lifetime, as the buffer pool's (`@cinder/tensor`'s buffer-pool.ts): the core frees a buffer only when nobody can
 * read it any more (last view released, not user memory, no pending fused program reading it), and `free` returns
 * the block at once. A storage the program drops without dispose/tidy is the collector's: every handed-out view is
 * registered with a FinalizationRegistry, and its block comes back when the view is collected. `data()` and reads
 * return copies, so no view escapes to the user, and one posted to another thread arrives as a view of another
 * SharedArrayBuffer object: `owns` is false there, so it never reaches that thread's allocator.
 *
 * Memory layout, in bytes: [0, RESERVED): the GEMM's control block and job descriptor (threads/pool.ts) and the
 * in-place kernels' arguments (KERNEL_ARGS); blocks from RESERVED on.
 */

import type { TypedArray } from "@cinder/tensor";
import { zeroFillHeap } from "../heap-fill";
import { FnBuilder, moduleBytes, T } from "./emit";

const PAGE = 65536;
/** The memory's maximum in pages: 1 GiB, gemm.wat's declared maximum (an imported memory may not exceed it). */
export const HEAP_MAX_PAGES = 16384;
/** Bytes below the first block: the GEMM's control block and job descriptor, then kernel arguments. */
export const RESERVED = PAGE;
/** Where in-place kernels (optim-wasm.ts) keep their constants and operand addresses. */
export const KERNEL_ARGS = 4096;
/**
 * Storage of fewer bytes stays on the JS heap: a view and its finaliser registration cost ~0.3 us, more than a
 * small kernel, and the WASM kernels take tensors of at least 1024 elements (the optimizer updates) anyway.
 */
export const HEAP_MIN_BYTES = 4096;
/**
 * Live heap storage past which new storage goes to the JS heap. The collector cannot see this memory: a dropped
 * tensor's block comes back only when its small view is collected, and views alone put no pressure on V8, so an
 * untidied loop (`a.matmul(b)` dropped every step) would fill the heap to its maximum and leave the kernels without
 * scratch (the WASM GEMM then fell to ~8 GFLOPS). Past this limit new storage is ordinary ArrayBuffers again, which
 * V8 counts, so a collection comes and the finalisers hand the heap's blocks back.
 */
export const HEAP_STORAGE_SOFT_BYTES = 256 * 1024 * 1024;
/** Bytes kept free after the last block: a kernel's last vector may read up to 12 bytes past an operand. */
const SLACK = 64;
/** Blocks above this come from the free list of large blocks instead of a size class. */
const LARGE_BYTES = 1 << 20;

/** What `heapStats()` reports. */
export interface HeapStats {
  enabled: boolean;
  /** Whether the shared memory exists (created at the first float storage of HEAP_MIN_BYTES). */
  available: boolean;
  /** Blocks handed out, and of those taken from a free list (not cut from the top). */
  allocs: number;
  reused: number;
  /** Requests the heap could not serve (full, or the memory would not grow): they got JS arrays. */
  fallbacks: number;
  /** Blocks returned by `free` (dispose, tidy, backward) and by the garbage collector (finaliser). */
  frees: number;
  collected: number;
  /**
   * Bytes of the storage arrays live in the heap now (as `memory()` counts them; their blocks are rounded up to a
   * size class). Blocks and bytes live now (storage and kernels' scratch), bytes waiting in free lists, the top of
   * the heap and the memory's size.
   */
  storageBytes: number;
  liveBlocks: number;
  liveBytes: number;
  freeBytes: number;
  topBytes: number;
  memoryBytes: number;
  /** Products and optimizer updates that read their operands in place (no copy into a module memory). */
  gemmInPlace: number;
  optimInPlace: number;
  fusedInPlace: number;
  im2colInPlace: number;
  /** Copies between heap views done by `memory.copy` (`heapCopy`). */
  copies: number;
}

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
/** `CINDER_WASM_HEAP=0` in the environment starts with the heap off (storage on the JS heap, kernels copying). */
let enabled = env?.CINDER_WASM_HEAP !== "0";
/** As the buffer pool's poison option: blocks handed out without zeroing are filled with 0xFF bytes. */
const poison = env?.CINDER_BUFFER_POOL === "poison";

let memory: WebAssembly.Memory | null | undefined;
/** The memory's current SharedArrayBuffer and every earlier one (views made before a grow keep theirs). */
let buffer: SharedArrayBuffer | null = null;
const buffers = new WeakSet<object>();
let top = RESERVED;
/** Whether the last block `allocBlock` handed out was still zero. */
let lastClean = true;
/** Memory at or above this address has never been handed out: it is still zero. */
let clean = RESERVED;
/** Free blocks by size class (addresses). */
const classes: number[][] = [];
/** Free large blocks, by address: parallel arrays of addresses and sizes. */
const largeAt: number[] = [];
const largeSize: number[] = [];
/** Live blocks: address -> size in bytes. */
const live = new Map<number, number>();
/** Live storage arrays' bytes (heapAlloc's), by block address, and their sum. */
const storage = new Map<number, number>();
let storageBytes = 0;
let freeBytes = 0;
const counters = {
  allocs: 0,
  reused: 0,
  fallbacks: 0,
  frees: 0,
  collected: 0,
  gemmInPlace: 0,
  optimInPlace: 0,
  fusedInPlace: 0,
  im2colInPlace: 0,
  copies: 0,
};
const registry =
  typeof FinalizationRegistry === "function" ? new FinalizationRegistry<number>(onCollected) : null;

/** Counters for tests and profiling. */
export const heapCounters = counters;

/**
 * Turn the heap on or off for new storage (on by default; `CINDER_WASM_HEAP=0` starts with it off). Storage already
 * in the heap stays there and returns to it when freed. Results are bit-identical either way. Returns the previous
 * setting.
 */
export function setWasmHeapEnabled(on: boolean): boolean {
  if (typeof on !== "boolean")
    throw new TypeError(`setWasmHeapEnabled: expected a boolean, got ${typeof on}`);
  const was = enabled;
  enabled = on;
  return was;
}

/**
 * The shared memory the heap, the GEMM and its threads use, created on first call; null where memory cannot be
 * shared (no SharedArrayBuffer or no WebAssembly) or the engine refuses to reserve it.
 */
export function sharedMemory(): WebAssembly.Memory | null {
  if (memory !== undefined) return memory;
  memory = null;
  if (typeof WebAssembly !== "object" || typeof SharedArrayBuffer !== "function") return null;
  // 32-bit engines may refuse to reserve 1 GiB: a quarter of it still serves most programs.
  for (const maximum of [HEAP_MAX_PAGES, HEAP_MAX_PAGES / 4]) {
    try {
      const m = new WebAssembly.Memory({ initial: 16, maximum, shared: true });
      if (!(m.buffer instanceof SharedArrayBuffer)) return null;
      memory = m;
      maxBytes = maximum * PAGE;
      refresh();
      return memory;
    } catch {
      // Try the smaller maximum.
    }
  }
  return null;
}
let maxBytes = HEAP_MAX_PAGES * PAGE;

function refresh(): void {
  buffer = (memory as WebAssembly.Memory).buffer as unknown as SharedArrayBuffer;
  buffers.add(buffer);
}

/** Whether `a` is a view of this thread's heap memory (a storage handle the heap handed out, or part of one). */
export function inHeap(a: { buffer: ArrayBufferLike }): boolean {
  const b = a.buffer;
  return b === buffer || (buffer !== null && buffers.has(b));
}

/**
 * The size class of `bytes` (at least 256): sizes in (2^e, 2^(e+1)] round up to a quarter step of 2^e, class
 * 4e + q for the size 2^e + q 2^(e-2) (q = 1..4). Steps are multiples of 64 from 256 bytes on, so blocks stay aligned.
 */
function classOf(bytes: number): number {
  const e = 31 - Math.clz32(bytes - 1);
  return 4 * e + Math.ceil((bytes - 2 ** e) / 2 ** (e - 2));
}
function classBytes(k: number): number {
  const e = (k - 1) >> 2;
  return 2 ** e + (k - 4 * e) * 2 ** (e - 2);
}

/**
 * A block of at least `bytes` bytes: its address, or -1 when the heap is full or the memory cannot grow. For the
 * GEMM's scratch (gemm.ts) as well as storage; return it with `freeBlock`.
 */
export function allocBlock(bytes: number): number {
  if (sharedMemory() === null) return -1;
  if (bytes > maxBytes - RESERVED - SLACK) {
    counters.fallbacks++;
    return -1;
  }
  let size: number;
  let at = -1;
  if (bytes <= LARGE_BYTES) {
    const k = classOf(Math.max(bytes, 256));
    size = classBytes(k);
    const list = classes[k];
    if (list !== undefined && list.length > 0) at = list.pop() as number;
  } else {
    size = Math.ceil(bytes / PAGE) * PAGE;
    at = takeLarge(size);
  }
  if (at >= 0) {
    counters.reused++;
    freeBytes -= size;
  } else {
    at = top;
    if (at + size + SLACK > (buffer as SharedArrayBuffer).byteLength && !grow(at + size + SLACK)) {
      counters.fallbacks++;
      return -1;
    }
    top = at + size;
  }
  counters.allocs++;
  live.set(at, size);
  // memory at or above `clean` was never handed out, so it is still zero
  lastClean = at >= clean;
  if (at + size > clean) clean = at + size;
  return at;
}

/** Best fit among the free large blocks; the rest of it stays free. */
function takeLarge(size: number): number {
  let best = -1;
  for (let i = 0; i < largeAt.length; i++) {
    if (largeSize[i] >= size && (best < 0 || largeSize[i] < largeSize[best])) best = i;
  }
  if (best < 0) return -1;
  const at = largeAt[best];
  const rest = largeSize[best] - size;
  if (rest > 0) {
    largeAt[best] = at + size;
    largeSize[best] = rest;
    // the rest is still free: counted in freeBytes, which the caller lowers by `size` only
  } else {
    largeAt.splice(best, 1);
    largeSize.splice(best, 1);
  }
  return at;
}

/** Grow the memory to hold `end` bytes (by at least a quarter of it, to amortise); false past the maximum. */
function grow(end: number): boolean {
  const m = memory as WebAssembly.Memory;
  const have = (buffer as SharedArrayBuffer).byteLength;
  if (end > maxBytes) return false;
  const want = Math.min(maxBytes, Math.max(end, have + (have >> 2)));
  try {
    m.grow(Math.ceil((want - have) / PAGE));
  } catch {
    try {
      m.grow(Math.ceil((end - have) / PAGE));
    } catch {
      return false;
    }
  }
  refresh();
  return true;
}

/** Return a block (`allocBlock`'s address). */
export function freeBlock(at: number): void {
  const size = live.get(at);
  if (size === undefined) throw new Error(`internal error: heap block ${at} is not live`);
  live.delete(at);
  freeBytes += size;
  if (size <= LARGE_BYTES) {
    const k = classOf(size);
    while (classes.length <= k) classes.push([]);
    classes[k].push(at);
    return;
  }
  // address order: merge with the free neighbours, and give a free block at the top back to the top
  let i = 0;
  while (i < largeAt.length && largeAt[i] < at) i++;
  let start = at;
  let len = size;
  if (i > 0 && largeAt[i - 1] + largeSize[i - 1] === at) {
    i--;
    start = largeAt[i];
    len += largeSize[i];
    largeAt.splice(i, 1);
    largeSize.splice(i, 1);
  }
  if (i < largeAt.length && start + len === largeAt[i]) {
    len += largeSize[i];
    largeAt.splice(i, 1);
    largeSize.splice(i, 1);
  }
  if (start + len === top) {
    top = start;
    freeBytes -= len;
    return;
  }
  largeAt.splice(i, 0, start);
  largeSize.splice(i, 0, len);
}

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/**
 * Storage for `length` elements of float32 (`Float32Array`) or float64 in the heap, or null when the heap is off,
 * the request is small or the heap cannot serve it (the caller then allocates on the JS heap). Zero-filled unless
 * `zero` is false (the caller writes every element first).
 */
export function heapAlloc(
  ctor: FloatCtor,
  length: number,
  zero: boolean,
): Float32Array | Float64Array | null {
  const bytes = length * ctor.BYTES_PER_ELEMENT;
  if (!enabled || bytes < HEAP_MIN_BYTES) return null;
  // past the soft limit storage goes to the JS heap (see HEAP_STORAGE_SOFT_BYTES)
  if (storageBytes + bytes > HEAP_STORAGE_SOFT_BYTES) {
    counters.fallbacks++;
    return null;
  }
  const at = allocBlock(bytes);
  if (at < 0) return null;
  const a = new ctor(buffer as unknown as ArrayBuffer, at, length);
  // memory never handed out is still zero; a reused block is filled, or poisoned for tests
  // (a memset: TypedArray.fill over a SharedArrayBuffer goes element by element, ~10x slower, heap-fill.ts)
  if (zero) {
    if (!lastClean && !zeroFillHeap(a, 0, length)) a.fill(0);
  } else if (poison) new Uint8Array(buffer as unknown as ArrayBuffer, at, bytes).fill(255);
  registry?.register(a, at, a);
  storage.set(at, bytes);
  storageBytes += bytes;
  return a;
}

/**
 * Take back a storage handle the core frees (nobody can read it any more); false when it is not a heap block of
 * this thread (a JS array, or a view of another thread's memory), which the caller then handles.
 */
export function heapFree(handle: unknown): boolean {
  if (!ArrayBuffer.isView(handle) || !inHeap(handle)) return false;
  const at = handle.byteOffset;
  // only the whole block's view is registered; a part of one (never handed out as storage) is not ours to free
  if (registry !== null && !registry.unregister(handle)) return false;
  counters.frees++;
  releaseStorage(at);
  return true;
}

function onCollected(at: number): void {
  counters.collected++;
  releaseStorage(at);
}

function releaseStorage(at: number): void {
  storageBytes -= storage.get(at) ?? 0;
  storage.delete(at);
  freeBlock(at);
}

/**
 * The end (byte address) of the memory a heap storage handle may be written up to: its block's end, which is past
 * the array when the size class rounded it up (kernels whose last vector store overshoots need 16 bytes there).
 */
export function blockEnd(a: Float32Array | Float64Array): number {
  const size = live.get(a.byteOffset);
  return size === undefined ? a.byteOffset + a.byteLength : a.byteOffset + size;
}

/**
 * Elements [offset, offset + n) of `a` in a new array of its type (a read's copy). For a heap view this is `set`
 * from a subarray, not `slice`, which over a SharedArrayBuffer goes element by element (400 KB: ~100 us against
 * ~15 us); bits are copied either way.
 */
export function copyOut<A extends TypedArray>(a: A, offset: number, n: number): A {
  if (!inHeap(a)) return a.slice(offset, offset + n) as A;
  const out = new (a.constructor as new (n: number) => A)(n);
  out.set(a.subarray(offset, offset + n) as never);
  return out;
}

type Memcpy = (dst: number, src: number, bytes: number) => void;
let memcpy: Memcpy | null | undefined;

/**
 * Copy the dense views' elements (`x` into `out`, one dtype) with WebAssembly's `memory.copy` when both are in the
 * heap: `TypedArray.set` between views of a SharedArrayBuffer runs at a fraction of memcpy's speed (400 KB: 14-24 us
 * against 3-5 us). False (nothing copied) otherwise.
 */
export function heapCopy(
  x: { handle: unknown; offset: number },
  out: { handle: unknown; offset: number },
  n: number,
): boolean {
  const a = x.handle as TypedArray;
  const b = out.handle as TypedArray;
  if (!(ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && inHeap(a) && inHeap(b))) return false;
  if (memcpy === undefined) {
    memcpy = null;
    try {
      // run(dst, src, bytes): memory.copy (0xfc 10, memory 0 to memory 0)
      const fn = new FnBuilder(3).get(0).get(1).get(2).op(0xfc, 10, 0, 0);
      const bytes = moduleBytes([T.i32, T.i32, T.i32], fn, 1, HEAP_MAX_PAGES);
      const m = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        env: { memory: sharedMemory() as WebAssembly.Memory },
      });
      memcpy = m.exports.run as Memcpy;
    } catch {
      // an engine without bulk memory: `set` stays
    }
  }
  if (memcpy === null) return false;
  const size = a.BYTES_PER_ELEMENT;
  memcpy(b.byteOffset + size * out.offset, a.byteOffset + size * x.offset, size * n);
  counters.copies++;
  return true;
}

/** The heap's counters and what it holds now. */
export function heapStats(): HeapStats {
  let liveBytes = 0;
  for (const s of live.values()) liveBytes += s;
  return {
    enabled,
    available: memory !== undefined && memory !== null,
    ...counters,
    storageBytes,
    liveBlocks: live.size,
    liveBytes,
    freeBytes,
    topBytes: top,
    memoryBytes: buffer?.byteLength ?? 0,
  };
}

/**
 * A size-class pool of CPU storage buffers. A training step allocates the same buffers every step (activations,
 * gradients, temporaries) and releases most of them before the next one: autograd disposes the forward's
 * intermediates at backward (`graphOwned`), `tidy` and `dispose()` release the rest. Without a pool each of those
 * arrays is a fresh, zero-filled ArrayBuffer that the garbage collector must find and free later (V8 also counts
 * off-heap bytes as external memory and starts collections for them). With it, a released buffer waits here and the
 * next allocation of a size that fits takes it back, before the collector ever sees it.
 *
 * What may come here: only a buffer nobody else can read. The core decides that (`Storage`): the last tensor on the
 * storage is released, the buffer is not the user's (`fromTypedArray` wraps user memory: `external`), and no pending
 * fused program still reads it. `data()` and reads return copies, so no storage buffer escapes through them.
 *
 * Sizes: arrays of at most 64 bytes live on V8's heap (`typed_array_max_size_in_heap`), where allocation costs what
 * an object does and death costs a scavenge, so they are not pooled. Larger buffers are kept in size classes, four per
 * power of two (by capacity, rounded down); a request looks in its own class for a buffer that fits (the same array
 * type and length first: in a loop that is the common case, and the array itself is handed back) and then takes any
 * buffer of the next class up (every one fits), as a view of the requested length. Misses allocate the exact size,
 * so live storage never carries slack; a reused larger buffer carries less than the width of two classes.
 *
 * Bounded: the pool holds at most what the program held at its peak since the last trim (`memory().bytesInUse`,
 * sampled at misses, at least 16 MiB), so it can at most double a program's footprint, and never more than `maxBytes`
 * (1 GiB unless set). A buffer released beyond that is left to the garbage collector. `memory()` counts storages,
 * not pooled buffers: `bufferPoolStats().bytesHeld` is what the pool keeps on top of it.
 */
import { stats } from "./accounting";
import { allocTypedArray, DTYPE_INFO, type DType, type TypedArray } from "./dtype";

/** Buffers of at most this many bytes are allocated on V8's heap and not pooled. */
export const SMALL_BYTES = 64;
const MIN_LIMIT = 16 * 2 ** 20;
const DEFAULT_MAX_BYTES = 2 ** 30;
/** Entries of a class looked at for a fit (from the most recently released). */
const SCAN = 8;

/** Options of `setBufferPool`. */
export interface BufferPoolOptions {
  /** The most bytes the pool holds (default 1 GiB); it also holds at most the program's peak live bytes. */
  maxBytes?: number;
  /**
   * Debugging aid: fill buffers handed out without zeroing (the caller said it overwrites every element) with
   * 0xFF bytes (NaN floats, -1 integers), so a kernel that reads its output before writing it fails tests.
   */
  poison?: boolean;
}

/** What `bufferPoolStats()` reports. */
export interface BufferPoolStats {
  enabled: boolean;
  /** Allocations served from the pool. */
  hits: number;
  /** Poolable allocations (more than 64 bytes) the pool could not serve: fresh arrays. */
  misses: number;
  /** Buffers released into the pool. */
  recycled: number;
  /** Buffers released while the pool was full, left to the garbage collector. */
  dropped: number;
  /** Buffers and bytes waiting in the pool now. */
  buffersHeld: number;
  bytesHeld: number;
  /** The most bytes the pool holds now: min(maxBytes, max(16 MiB, peak live bytes since the last trim)). */
  limitBytes: number;
}

const ENV = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
  ?.CINDER_BUFFER_POOL;
let enabled = ENV !== "0";
let maxBytes = DEFAULT_MAX_BYTES;
let poison = ENV === "poison";
/** Free lists by size class (`classOf`); each entry is an array whose byteLength is its buffer's. */
let lists: TypedArray[][] = [];
let bytesHeld = 0;
let buffersHeld = 0;
let peakLive = 0;
const counters = { hits: 0, misses: 0, recycled: 0, dropped: 0 };

/** The size class of a capacity: four classes per power of two, rounded down. */
function classOf(bytes: number): number {
  const e = bytes < 2 ** 31 ? 31 - Math.clz32(bytes) : Math.floor(Math.log2(bytes));
  return e * 4 + Math.floor(bytes / 2 ** (e - 2)) - 4;
}

function limit(): number {
  return Math.min(maxBytes, Math.max(MIN_LIMIT, peakLive));
}

/**
 * A buffer of `length` elements of `dtype` for a CPU storage: from the pool when one fits, else a fresh array.
 * Zero-filled unless `zero` is false, which a caller passes only when it writes every element before anything
 * reads one (a copy, a kernel's whole output). Allocation errors are `allocTypedArray`'s.
 */
export function takeBuffer(dtype: DType, length: number, zero = true): TypedArray {
  const info = DTYPE_INFO[dtype];
  const bytes = length * info.ctor.BYTES_PER_ELEMENT;
  if (enabled && bytes > SMALL_BYTES) {
    const k = classOf(bytes);
    const a =
      fromClass(lists[k], info.ctor, length, bytes) ?? fromClass(lists[k + 1], info.ctor, length, bytes);
    if (a !== null) {
      counters.hits++;
      if (zero) a.fill(0);
      else if (poison) new Uint8Array(a.buffer, a.byteOffset, a.byteLength).fill(255);
      return a;
    }
    counters.misses++;
    if (stats.bytes > peakLive) peakLive = stats.bytes;
  }
  return allocTypedArray(dtype, length);
}

/** Take a buffer of at least `bytes` from `list`: the same array when type and length match, else a view. */
function fromClass(
  list: TypedArray[] | undefined,
  ctor: (typeof DTYPE_INFO)[DType]["ctor"],
  length: number,
  bytes: number,
): TypedArray | null {
  if (list === undefined || list.length === 0) return null;
  const last = list.length - 1;
  let fit = -1;
  for (let i = last; i >= 0 && i > last - SCAN; i--) {
    const e = list[i];
    if (e.length === length && e.constructor === ctor) {
      fit = i;
      break;
    }
    if (fit < 0 && e.byteLength >= bytes) fit = i;
  }
  if (fit < 0) return null;
  const e = list[fit];
  list[fit] = list[last];
  list.pop();
  bytesHeld -= e.byteLength;
  buffersHeld--;
  return e.length === length && e.constructor === ctor ? e : new ctor(e.buffer as ArrayBuffer, 0, length);
}

/**
 * Give a storage's buffer back once nobody can read it any more (the core calls this through the CPU backend's
 * `free`). Returns whether the pool kept it: not when off, full, on-heap small, shared or not a whole plain buffer.
 */
export function recycleBuffer(handle: unknown): boolean {
  if (!enabled || !ArrayBuffer.isView(handle)) return false;
  let a = handle as TypedArray;
  const buf = a.buffer;
  const cap = buf.byteLength;
  if (cap <= SMALL_BYTES || a.byteOffset !== 0 || !(buf instanceof ArrayBuffer)) return false;
  if (bytesHeld + cap > limit()) {
    counters.dropped++;
    return false;
  }
  // a view over part of a larger buffer (a reused one) is kept as the whole buffer, so byteLength is the capacity
  if (a.byteLength !== cap) a = new Uint8Array(buf);
  const k = classOf(cap);
  while (lists.length <= k) lists.push([]);
  lists[k].push(a);
  bytesHeld += cap;
  buffersHeld++;
  counters.recycled++;
  return true;
}

/**
 * Turn the buffer pool on or off (on by default; `CINDER_BUFFER_POOL=0` in the environment starts with it off,
 * `CINDER_BUFFER_POOL=poison` with `poison` on), and set its options. Turning it off empties it. Returns the previous setting. Results are the same either way.
 */
export function setBufferPool(on: boolean, options: BufferPoolOptions = {}): boolean {
  if (typeof on !== "boolean") throw new TypeError(`setBufferPool: expected a boolean, got ${typeof on}`);
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `setBufferPool: expected an options object, got ${options === null ? "null" : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== "maxBytes" && key !== "poison") {
      throw new TypeError(`setBufferPool: unknown option "${key}" (expected maxBytes, poison)`);
    }
  }
  const m = options.maxBytes;
  if (m !== undefined && !(Number.isSafeInteger(m) && m >= 0)) {
    throw new RangeError(`setBufferPool: maxBytes must be a non-negative integer, got ${m}`);
  }
  if (options.poison !== undefined && typeof options.poison !== "boolean") {
    throw new TypeError(`setBufferPool: poison must be a boolean, got ${typeof options.poison}`);
  }
  const was = enabled;
  enabled = on;
  if (m !== undefined) maxBytes = m;
  if (options.poison !== undefined) poison = options.poison;
  if (!on) trimBufferPool();
  else if (bytesHeld > limit()) trimBufferPool(limit());
  return was;
}

/**
 * Release pooled buffers to the garbage collector until at most `keepBytes` (default 0: all) are held, and forget
 * the peak live bytes the limit follows. Returns the bytes released.
 */
export function trimBufferPool(keepBytes = 0): number {
  if (!(Number.isFinite(keepBytes) && keepBytes >= 0)) {
    throw new RangeError(`trimBufferPool: keepBytes must be a non-negative number, got ${keepBytes}`);
  }
  const before = bytesHeld;
  // the largest classes first: they free the most memory per buffer
  for (let k = lists.length - 1; k >= 0 && bytesHeld > keepBytes; k--) {
    const list = lists[k];
    while (list.length > 0 && bytesHeld > keepBytes) {
      bytesHeld -= (list.pop() as TypedArray).byteLength;
      buffersHeld--;
    }
  }
  if (bytesHeld === 0) lists = [];
  peakLive = 0;
  return before - bytesHeld;
}

/** Counters of the buffer pool since the start (for tests and profiling), and what it holds now. */
export function bufferPoolStats(): BufferPoolStats {
  return { enabled, ...counters, buffersHeld, bytesHeld, limitBytes: limit() };
}

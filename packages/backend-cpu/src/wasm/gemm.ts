/**
 * Float32 matmul on the WebAssembly SIMD kernels of gemm.wat. The module is instantiated on first use (never at
 * import), twice at most: on an ordinary memory for products that run on this thread, and on the shared memory of
 * heap.ts (where the platform has SharedArrayBuffer) for products of at least THREAD_MIN multiply-adds that split
 * over getNumThreads() threads, the workers of threads/pool.ts working on the same memory, and for products whose
 * operands live there. A product copies the operands that are not in its memory in (a plain memcpy for row-major
 * and column-major operands, a strided JS copy otherwise), describes the product as a job of chunks (see gemm.wat's
 * `run`: pack B into panels, then blocks of rows of C), runs them, and copies C out unless it was written in place.
 * Operands in the shared memory (CPU storage, heap.ts) are read where they are, at any strides (packing reads
 * strided rows anyway), and C is written in place when `out` is laid out as the kernel writes it. Every element of
 * C is computed by the same sequence of operations whatever the thread count, memory and placement, so the results
 * are bit-identical.
 *
 * Memory layout, in bytes: [control block][job descriptor] at the start, then a workspace (on the ordinary memory
 * right after the descriptor, which grows to the largest product seen; on the shared one a heap block kept from
 * product to product): [per-thread scratch: edge tile 128 + packed A block][packed B][A][B][C], the last three only
 * for operands copied in.
 */
import type { TypedArray, View } from "@cinder/tensor";
import { finishJob, getThreads, JOB_AT, recordGain, runJob, startJob, usableThreads } from "../threads/pool";
import { JOB, JOB_WORDS } from "../threads/worker-source";
import { align, type Host, isShared, plain, shared, up4, up8, wasmGemmEnabled, workspace } from "./gemm-host";
import { heapCounters, inHeap } from "./heap";

export {
  setFmaEnabled,
  setSharedMemoryEnabled,
  setWasmGemmEnabled,
  wasmGemm,
  wasmGemmKernel,
  wasmGemmShared,
} from "./gemm-host";

/** Reduction block: one B micro-panel (KC x 8 floats, 8 KiB) stays in L1. */
const KC = 256;
/** Rows of A per packed block (MC x KC floats, 128 KiB, in L2). */
const MC = 128;

/**
 * Products of at least this many multiply-adds (M * N * K per matrix) split over threads. Measured on a 2-core
 * EPYC (Node 20, 2 threads against 1, median time while the machine's other core was free, worker asleep or
 * not): 64^3 0.6x, 96^3 (0.9M) 0.7-0.77x, 128^3 (2.1M) 1.07-1.23x, 160^3 1.2x, the MNIST MLP's 64x784x128
 * products and their gradients (6.4M) 1.33-1.5x, 256^3 1.6-1.7x, 512^3 1.85-1.9x. The fixed cost behind the
 * losses: publishing the job and waking a worker (~10 us), and waiting for its last chunk.
 */
const THREAD_MIN = 1 << 21;
/** Least work (multiply-adds) per compute chunk, and per pack chunk (floats of B). */
const CHUNK_MIN = 1 << 17;
const PACK_MIN = 1 << 15;

/**
 * What storing one element of C through the strided JS copy costs, in multiply-adds of the kernel: C leaves the
 * memory by a memcpy only when its layout there matches `out`'s. Measured on the 2-core EPYC (CPU time, the MNIST
 * CNN's conv2 forward, 64 x [64, 288] @ [288, 196] into row-major [64, 196]): computed as C^T (padding 196 columns
 * to 200 rows saves 74K multiply-adds per item) and transposed on the way out, 11.0 ms; computed as C (the 4 extra
 * columns' work) and copied out whole, 10.5 ms: the strided copy costs ~0.9 ns per element, ~20 multiply-adds.
 */
const TRANSPOSED_STORE = 16;

/**
 * Counters for tests: batches folded into one product, jobs that split a batch by items (gemm.wat's batch mode),
 * products computed as C^T = B^T A^T, operands (A, B, C of a product, whole batches counted once) read or written
 * in place in the shared memory and copied through the workspace.
 */
export const gemmStats = { folds: 0, batchJobs: 0, swaps: 0, inPlace: 0, copied: 0 };

let threadMin = THREAD_MIN;
let transposedStore = TRANSPOSED_STORE;

/** Test hook: the multiply-adds from which products split over threads; returns the previous value. */
export function setThreadThreshold(macs: number = THREAD_MIN): number {
  const was = threadMin;
  threadMin = macs;
  return was;
}

/**
 * Test hook: the cost of a strided store of C, in multiply-adds per element (0: products are laid out by their
 * padding alone, as before the store was weighed); returns the previous value.
 */
export function setTransposedStoreCost(macs: number = TRANSPOSED_STORE): number {
  const was = transposedStore;
  transposedStore = macs;
  return was;
}

/**
 * The byte address of batch item `t` of `v` when it can be read in place from h's memory: a float32 view of that
 * memory with no negative stride; else -1 (it is copied in).
 */
function addressIn(h: Host, v: View, t: number): number {
  const a = v.handle as TypedArray;
  if (!isShared(h) || !(a instanceof Float32Array) || !inHeap(a)) return -1;
  if (v.strides[0] < 0 || v.strides[1] < 0 || v.strides[2] < 0) return -1;
  return a.byteOffset + 4 * (v.offset + t * v.strides[0]);
}

/** An operand's strides as `load` lays it out, size-1 dimensions normalised to the row-major ones. */
function stridesOf(v: View, rows: number, cols: number): [rowStride: number, colStride: number] {
  return [rows === 1 ? cols : v.strides[1], cols === 1 ? 1 : v.strides[2]];
}

/** The bytes of `v`'s elements for a batch of B items [rows, cols]: [first, end) (v's strides are >= 0). */
function spanOf(v: View, B: number, rows: number, cols: number): [number, number] {
  const first = (v.handle as TypedArray).byteOffset + 4 * v.offset;
  const last = (B - 1) * v.strides[0] + (rows - 1) * v.strides[1] + (cols - 1) * v.strides[2];
  return [first, first + 4 * last + 4];
}

/**
 * Whether C can be written in place into `out` (in h's memory): laid out as the kernel writes it (rows of C, or
 * of C^T when swapped, contiguous) and sharing no bytes with an operand, which it would overwrite while read.
 */
function writesInPlace(h: Host, d: Dims, a: View, b: View, out: View): boolean {
  if (addressIn(h, out, 0) < 0) return false;
  if (!(d.swap ? storesWhole(out, d.M, d.N, 1, d.M) : storesWhole(out, d.M, d.N, d.N, 1))) return false;
  const [o0, o1] = spanOf(out, d.B, d.M, d.N);
  for (const [v, rows, cols] of [
    [a, d.M, d.K],
    [b, d.K, d.N],
  ] as const) {
    if (!inHeap(v.handle as TypedArray)) continue;
    const [s0, s1] = spanOf(v, d.B, rows, cols);
    if (s0 < o1 && o0 < s1) return false;
  }
  return true;
}

/**
 * Bring batch `t` of the [rows, cols] operand `v` into memory at `dst` (bytes); returns its element strides
 * there. Row-major and column-major matrices are copied as they are; anything else is gathered row-major.
 */
function load(
  f32: Float32Array,
  v: View,
  t: number,
  rows: number,
  cols: number,
  dst: number,
): [rowStride: number, colStride: number] {
  const src = v.handle as TypedArray;
  const off = v.offset + t * v.strides[0];
  // Strides of size-1 dimensions are arbitrary: normalise them to the row-major ones.
  const s0 = rows === 1 ? cols : v.strides[1];
  const s1 = cols === 1 ? 1 : v.strides[2];
  const d = dst >> 2;
  if (src instanceof Float32Array) {
    if (s1 === 1 && s0 === cols) {
      f32.set(src.subarray(off, off + rows * cols), d);
      return [cols, 1];
    }
    if (s0 === 1 && s1 === rows) {
      f32.set(src.subarray(off, off + rows * cols), d);
      return [1, rows];
    }
  }
  copy2d(src, off, v.strides[1], v.strides[2], f32, d, cols, 1, rows, cols);
  return [cols, 1];
}

/**
 * Copy the [rows, cols] result at `src` (bytes; element [i, j] at src + 4 * (i * rs + j * cs)) into batch `t` of
 * `out`: one memcpy when the layouts agree.
 */
function store(
  f32: Float32Array,
  src: number,
  rs: number,
  cs: number,
  out: View,
  t: number,
  rows: number,
  cols: number,
): void {
  const C = out.handle as Float32Array;
  const base = out.offset + t * out.strides[0];
  const s = src >> 2;
  const s1 = rows === 1 ? rs : out.strides[1];
  const s2 = cols === 1 ? cs : out.strides[2];
  if (s1 === rs && s2 === cs && C instanceof Float32Array) C.set(f32.subarray(s, s + rows * cols), base);
  else copy2d(f32, s, rs, cs, C, base, s1, s2, rows, cols);
}

/** dst[dOff + i * d0 + j * d1] = src[sOff + i * s0 + j * s1]: kept apart so its loop has its own type feedback. */
function copy2d(
  src: ArrayLike<number>,
  sOff: number,
  s0: number,
  s1: number,
  dst: TypedArray,
  dOff: number,
  d0: number,
  d1: number,
  rows: number,
  cols: number,
): void {
  for (let i = 0; i < rows; i++) {
    const p = sOff + i * s0;
    const q = dOff + i * d0;
    for (let j = 0; j < cols; j++) dst[q + j * d1] = src[p + j * s1];
  }
}

/** An operand in memory, element [p, k] at ptr + 4 * (p * sp + k * sk): p runs over rows of A or columns of B. */
interface Operand {
  ptr: number;
  sp: number;
  sk: number;
}

/** Rows of the padded work: the micro-kernel computes 4x8 tiles whole. */
const padded = (m: number, n: number): number => (((m + 3) >> 2) << 2) * (((n + 7) >> 3) << 3);

/** How a product's chunks divide the work (see gemm.wat's `run`). */
interface Plan {
  nPack: number;
  packCols: number;
  rowBlocks: number;
  rowsPer: number;
  colsPer: number;
  nCompute: number;
}

/**
 * Chunks for C[rows, cols] = A[rows, K] @ B[K, cols] on `threads` threads: one pack chunk and one compute chunk
 * on one thread; otherwise up to 4 compute chunks per thread (blocks of rows, multiples of 4; blocks of
 * columns, multiples of 8, only when the rows run out) of at least CHUNK_MIN multiply-adds, so that a thread
 * that starts late or runs slow only shifts chunks to the others, and pack chunks of at least PACK_MIN floats.
 */
function plan(rows: number, cols: number, K: number, threads: number): Plan {
  if (threads <= 1) {
    return {
      nPack: 1,
      packCols: up8(cols),
      rowBlocks: 1,
      rowsPer: up4(rows),
      colsPer: up8(cols),
      nCompute: 1,
    };
  }
  const target = Math.max(1, Math.min(4 * threads, Math.floor((rows * cols * K) / CHUNK_MIN)));
  let rowBlocks = Math.min(Math.ceil(rows / 4), target);
  const rowsPer = up4(Math.ceil(rows / rowBlocks));
  rowBlocks = Math.ceil(rows / rowsPer);
  let colBlocks = Math.min(Math.ceil(cols / 8), Math.ceil(target / rowBlocks));
  const colsPer = up8(Math.ceil(cols / colBlocks));
  colBlocks = Math.ceil(cols / colsPer);
  let nPack = Math.max(1, Math.min(threads, Math.ceil(cols / 8), Math.floor((K * cols) / PACK_MIN)));
  const packCols = up8(Math.ceil(cols / nPack));
  nPack = Math.ceil(cols / packCols);
  return { nPack, packCols, rowBlocks, rowsPer, colsPer, nCompute: rowBlocks * colBlocks };
}

/** Bytes of operands and results one job of a batch brings into memory at most (more items run as more jobs). */
const GROUP_BYTES = 16 << 20;

/** A product's shape as the kernel sees it: C[rows, cols] = L[rows, K] @ R[K, cols], L and R from A and B. */
interface Dims {
  B: number;
  M: number;
  N: number;
  K: number;
  kc: number;
  /** C^T = B^T A^T: L is B^T, R is A^T and C comes out transposed. */
  swap: boolean;
  rows: number;
  cols: number;
}

/** Write the job descriptor (see gemm.wat's `run`); `batch` is [per, items, steps..., own]. */
function describe(
  h: Host,
  d: Dims,
  L: Operand,
  R: Operand,
  at: { pb: number; c: number; scratch: number; stride: number; need: number },
  p: Plan,
  nPack: number,
  batch: readonly number[] = NO_BATCH,
): void {
  const job = new Int32Array(h.memory.buffer, JOB_AT, JOB_WORDS);
  job.set([d.rows, d.cols, d.K, d.kc, L.ptr, L.sp, L.sk, R.ptr, R.sp, R.sk, at.pb, at.c]);
  job.set([nPack, p.packCols, p.rowBlocks, p.rowsPer, p.colsPer, MC], JOB.NPACK);
  job[JOB.SCRATCH] = at.scratch;
  job[JOB.SCRATCH_STRIDE] = at.stride;
  job[JOB.NEED] = at.need;
  job.set(batch, JOB.BATCH);
}
const NO_BATCH = [0, 0, 0, 0, 0, 0];

/** Whether C [rows, cols], laid out in memory with element strides (rs, cs), leaves for `out` by one memcpy. */
function storesWhole(out: View, rows: number, cols: number, rs: number, cs: number): boolean {
  // the normalisation `store` applies to size-1 dimensions
  return (rows === 1 || out.strides[1] === rs) && (cols === 1 || out.strides[2] === cs);
}

/**
 * The cost of computing C^T = B^T A^T minus that of C = A B, in multiply-adds: the padded tiles' work, plus the
 * strided store of C into `out` when its layout in memory (C row-major, C^T column-major) is not out's.
 */
function swapCosts(M: number, N: number, K: number, out: View): number {
  const store = (whole: boolean) => (whole ? 0 : transposedStore * M * N);
  const asIs = padded(M, N) * K + store(storesWhole(out, M, N, N, 1));
  const swapped = padded(N, M) * K + store(storesWhole(out, M, N, 1, M));
  return swapped - asIs;
}

/** Copy batch item `t`'s C (at `c` in memory) out into `out`. */
function storeItem(f32: Float32Array, d: Dims, c: number, out: View, t: number): void {
  if (d.swap) store(f32, c, 1, d.M, out, t, d.M, d.N);
  else store(f32, c, d.N, 1, out, t, d.M, d.N);
}

/**
 * out = a @ b for float32 [B, M, K] @ [B, K, N] views, on the WASM kernel. Returns false (having written nothing)
 * when the kernel is unavailable, K = 0 or the product does not fit in its memory.
 */
export function matmulWasm(a: View, b: View, out: View): boolean {
  let [B, M, N] = out.shape;
  const K = a.shape[2];
  if (!wasmGemmEnabled() || K === 0) return false;
  // A shared B and batches of A and C that continue each other's rows: one product with B * M rows.
  const fold =
    B > 1 &&
    b.strides[0] === 0 &&
    a.strides[0] === M * a.strides[1] &&
    out.strides[0] === M * out.strides[1] &&
    out.strides[2] === 1 &&
    out.strides[1] === N;
  let av = a;
  let ov = out;
  if (fold) {
    gemmStats.folds++;
    av = { ...a, shape: [1, B * M, K] };
    ov = { ...out, shape: [1, B * M, N] };
    M *= B;
    B = 1;
  }
  // C^T = B^T A^T when that costs less (N small: less padding): the operands swap roles and C comes out transposed.
  const swap = swapCosts(M, N, K, ov) < 0;
  if (swap) gemmStats.swaps++;
  const d: Dims = {
    B,
    M,
    N,
    K,
    kc: Math.ceil(K / Math.ceil(K / KC)),
    swap,
    rows: swap ? N : M,
    cols: swap ? M : N,
  };
  // Products that split run on the shared memory, the others on the ordinary one: copies into a
  // SharedArrayBuffer are slower (relaxed atomics), which costs small products 5-8 %. A batch of products each
  // too small to split splits by items instead (a convolution's per-image products).
  const macs = M * N * K;
  const byItems =
    B > 1 && macs * B >= threadMin && (macs < threadMin || B >= ITEMS_PER_THREAD * getThreads());
  // Operands in the shared memory are read there (no copy), whatever the product's size.
  const resident =
    inHeap(av.handle as TypedArray) || inHeap(b.handle as TypedArray) || inHeap(ov.handle as TypedArray);
  const sh = macs >= threadMin || byItems || resident ? shared() : null;
  const threads = sh === null || (macs < threadMin && !byItems) ? 1 : usableThreads(sh);
  // Items too large for two groups in memory at once run one after another instead.
  if (threads > 1 && byItems && batched(sh as Host, av, b, ov, d, threads)) return true;
  const h = threads > 1 || (resident && sh !== null) ? sh : (plain() ?? sh);
  if (h === null) return false;
  return oneByOne(h, av, b, ov, d, threads);
}

/** The products of a batch one after another, each split over `threads` threads. */
function oneByOne(h: Host, av: View, b: View, ov: View, d: Dims, threads: number): boolean {
  const { B, M, N, K, kc, swap, rows, cols } = d;
  const p = plan(rows, cols, K, threads);
  const inA = addressIn(h, av, 0) >= 0;
  const inB = addressIn(h, b, 0) >= 0;
  const inC = writesInPlace(h, d, av, b, ov);
  const stride = 128 + align(4 * MC * kc);
  // workspace offsets: operands read or written in place take no room in it
  const pbOff = threads * stride;
  const aOff = pbOff + align(4 * K * up8(cols));
  const bOff = aOff + (inA ? 0 : align(4 * M * K));
  const cOff = bOff + (inB ? 0 : align(4 * K * N));
  const ws = workspace(h, cOff + (inC ? 0 : 4 * M * N));
  if (ws < 0) return false;
  countPlacement(inA, inB, inC);
  const [aAt, bAt] = [ws + aOff, ws + bOff];
  // a worker refreshes its view of the memory when it is shorter than this
  const need = h.memory.buffer.byteLength;
  const f32 = new Float32Array(h.memory.buffer);
  let A: Operand = { ptr: aAt, sp: 0, sk: 0 };
  let Bo: Operand = { ptr: bAt, sp: 0, sk: 0 };
  for (let t = 0; t < B; t++) {
    const newA = t === 0 || av.strides[0] !== 0;
    const newB = t === 0 || b.strides[0] !== 0;
    if (newA) {
      const [rs, cs] = inA ? stridesOf(av, M, K) : load(f32, av, t, M, K, aAt);
      A = { ptr: inA ? addressIn(h, av, t) : aAt, sp: rs, sk: cs };
    }
    if (newB) {
      const [rs, cs] = inB ? stridesOf(b, K, N) : load(f32, b, t, K, N, bAt);
      Bo = { ptr: inB ? addressIn(h, b, t) : bAt, sp: cs, sk: rs };
    }
    const [L, R] = swap ? [Bo, A] : [A, Bo];
    // The packed right operand of the previous batch is still in place when that operand is shared.
    const nPack = (swap ? newA : newB) ? p.nPack : 0;
    const c = inC ? addressIn(h, ov, t) : ws + cOff;
    describe(h, d, L, R, { pb: ws + pbOff, c, scratch: ws, stride, need }, p, nPack);
    runJob(h, nPack + p.nCompute, nPack, threads, ws);
    if (!inC) storeItem(f32, d, c, ov, t);
  }
  return true;
}

/** Count a product's operands read in place and copied (`gemmStats`, `heapStats().gemmInPlace`). */
function countPlacement(...inPlace: boolean[]): void {
  for (const x of inPlace) {
    if (x) gemmStats.inPlace++;
    else gemmStats.copied++;
  }
  if (inPlace.some((x) => x)) heapCounters.gemmInPlace++;
}

/**
 * A batch of products large enough to split each splits by items instead when it has at least this many items
 * per thread: one job per group of items instead of one per item, and no waiting for pack chunks inside an item.
 * Measured (2 threads, load 9-13, min / p25 / median of 150-300): conv2's 64x(64x288x196) 13.9 / 20.7 / 43 ->
 * 11.5 / 16.4 / 37 ms, 64x(196x64x288) 12.1 / 13.3 / 24 -> 10.0 / 10.6 / 16 ms, 4x(196x64x288) (the chunks of
 * conv's input gradient) 0.62 / 0.65 / 0.79-0.90 -> 0.60 / 0.62-0.64 / 0.74 ms.
 */
const ITEMS_PER_THREAD = 2;

/** Groups a batched product is cut into at least (when each keeps THREAD_MIN work), so copies overlap work. */
const PIPELINE = 4;

/**
 * A batch of small products split by items: a job computes a group of items, each chunk some whole products
 * (gemm.wat's batch mode). A right operand shared by the items is packed once, by pack chunks; otherwise each
 * chunk packs its items' right operands into its own scratch. Groups alternate between two sets of buffers:
 * while the workers start on a group, this thread copies the previous group's results out and the next group's
 * operands in (copies from and into the shared memory are half as fast as plain memcpy: they are the serial part).
 */
function batched(h: Host, av: View, b: View, ov: View, d: Dims, threads: number): boolean {
  const { B, M, N, K, kc, swap, cols } = d;
  const sharedA = av.strides[0] === 0;
  const sharedB = b.strides[0] === 0;
  const sharedR = swap ? sharedA : sharedB;
  const inA = addressIn(h, av, 0) >= 0;
  const inB = addressIn(h, b, 0) >= 0;
  const inC = writesInPlace(h, d, av, b, ov);
  // bytes between items in the workspace (0: in place or shared, one copy) and in the job (in place: the view's)
  const aStep = sharedA || inA ? 0 : align(4 * M * K);
  const bStep = sharedB || inB ? 0 : align(4 * K * N);
  const cStep = inC ? 0 : align(4 * M * N);
  const jobStep = (v: View, inPlace: boolean, step: number) => (inPlace ? 4 * v.strides[0] : step);
  const macs = M * N * K;
  // Nothing to copy: one group (the groups only overlap copies with work).
  let G =
    aStep + bStep + cStep === 0
      ? B
      : Math.max(1, Math.min(B, Math.floor(GROUP_BYTES / (aStep + bStep + cStep))));
  // Groups of at least one item per thread (else a job would leave threads idle).
  G = Math.min(G, Math.max(Math.ceil(threadMin / macs), Math.ceil(B / PIPELINE), threads));
  if (aStep + bStep + cStep === 0) G = B;
  const groups = Math.ceil(B / G);
  const bufs = groups > 1 ? 2 : 1;
  const packed = align(4 * K * up8(cols));
  const p = plan(d.rows, cols, K, sharedR ? threads : 1);
  const own = sharedR ? 0 : 128 + align(4 * MC * kc);
  const stride = 128 + align(4 * MC * kc) + (sharedR ? 0 : packed);
  const pbOff = threads * stride;
  const aOff = pbOff + (sharedR ? packed : 0);
  const bOff = aOff + (inA ? 0 : sharedA ? align(4 * M * K) : bufs * G * aStep);
  const cOff = bOff + (inB ? 0 : sharedB ? align(4 * K * N) : bufs * G * bStep);
  const ws = workspace(h, cOff + bufs * G * cStep);
  if (ws < 0) return false;
  countPlacement(inA, inB, inC);
  const [scratchAt, pbAt, aAt, bAt, cAt] = [ws, ws + pbOff, ws + aOff, ws + bOff, ws + cOff];
  const need = h.memory.buffer.byteLength;
  const f32 = new Float32Array(h.memory.buffer);
  // Chunks of at least CHUNK_MIN multiply-adds, up to 4 per thread so that a late thread only shifts items.
  const target = Math.max(threads, Math.min(4 * threads, Math.floor((G * macs) / CHUNK_MIN)));
  const items = (g: number) => Math.min(G, B - g * G);
  const [ars, acs] = stridesOf(av, M, K);
  const [brs, bcs] = stridesOf(b, K, N);
  let A: Operand = { ptr: aAt, sp: ars, sk: acs };
  let Bo: Operand = { ptr: bAt, sp: bcs, sk: brs };
  const loadGroup = (g: number) => {
    const k = (g % bufs) * G;
    for (let t = 0; t < items(g); t++) {
      if (!inA && (!sharedA || g + t === 0)) {
        const [rs, cs] = load(f32, av, g * G + t, M, K, aAt + (k + t) * aStep);
        A = { ptr: aAt, sp: rs, sk: cs };
      }
      if (!inB && (!sharedB || g + t === 0)) {
        const [rs, cs] = load(f32, b, g * G + t, K, N, bAt + (k + t) * bStep);
        Bo = { ptr: bAt, sp: cs, sk: rs };
      }
    }
  };
  const storeGroup = (g: number) => {
    if (inC) return;
    const k = (g % bufs) * G;
    for (let t = 0; t < items(g); t++) storeItem(f32, d, cAt + (k + t) * cStep, ov, g * G + t);
  };
  // where group g's item 0 of each operand is
  const first = (g: number, v: View, inPlace: boolean, at: number, step: number) =>
    inPlace ? addressIn(h, v, g * G) : at + (g % bufs) * G * step;
  // The back-off weighs the whole product: its jobs' one-thread estimates plus half this thread's copying (the
  // unshared memory of a one-thread product copies about twice as fast), against the time it all took.
  const t0 = performance.now();
  let alone = 0;
  let copyMs = 0;
  let t = t0;
  loadGroup(0);
  for (let g = 0; g < groups; g++) {
    // Operand layouts are the same for every item: the first group's loads fixed them.
    const at = { pb: pbAt, c: first(g, ov, inC, cAt, cStep), scratch: scratchAt, stride, need };
    const Ag = { ...A, ptr: first(g, av, inA, aAt, aStep) };
    const Bg = { ...Bo, ptr: first(g, b, inB, bAt, bStep) };
    const [L, R] = swap ? [Bg, Ag] : [Ag, Bg];
    const [sA, sB] = [jobStep(av, inA, aStep), jobStep(b, inB, bStep)];
    const [lStep, rStep] = swap ? [sB, sA] : [sA, sB];
    const n = items(g);
    const per = Math.ceil(n / Math.min(n, target));
    const nPack = sharedR && g === 0 ? p.nPack : 0;
    describe(h, d, L, R, at, p, nPack, [per, n, lStep, rStep, jobStep(ov, inC, cStep), own]);
    gemmStats.batchJobs++;
    copyMs += performance.now() - t;
    const job = startJob(h, nPack + Math.ceil(n / per), nPack, threads, scratchAt);
    t = performance.now();
    if (g > 0) storeGroup(g - 1);
    if (g + 1 < groups) loadGroup(g + 1);
    copyMs += performance.now() - t;
    alone += finishJob(job, false);
    t = performance.now();
  }
  storeGroup(groups - 1);
  const end = performance.now();
  copyMs += end - t;
  // NaN (this thread ran no chunk) records nothing.
  recordGain((alone + copyMs / 2) / (end - t0));
  return true;
}

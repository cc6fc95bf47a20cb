/**
 * An optional native GEMM for the CPU backend: a package such as `@cinder/blas` registers a provider (the system's
 * OpenBLAS through a Node-API addon) and float32/float64 products whose operands CBLAS can read in place run on
 * it; the rest keep the WASM SIMD and JS kernels of matmul.ts. Nothing is copied: each [B, M, K] / [B, K, N] /
 * [B, M, N] view must be, per batch item, a row-major matrix with some row stride (CBLAS's `ld`) or the
 * transpose of one (CBLAS's trans flag), which covers contiguous tensors, `.t()`/`.mT` views, column slices and
 * batches with any batch stride (0 for a broadcast operand). Views that are not (an expanded row or column, a
 * step slice of the last two dims, an out aliasing an input) fall back.
 *
 * A provider's results differ from the WASM kernel's in rounding (FMA, another summation order): a relative
 * error of a few float32 ulps times sqrt(K). Cinder's promise that a product is bit-identical whatever the
 * thread count holds for the WASM path only; OpenBLAS splits its work by thread count.
 */
import type { View } from "@cinder/tensor";
import { getThreads } from "./threads/pool";

type FloatArray = Float32Array | Float64Array;

/** A native GEMM: CBLAS's row-major sgemm/dgemm with alpha = 1, beta = 0, looped over a batch. */
export interface GemmProvider {
  /** Shown by `gemmProviderName()` and in benchmarks, e.g. "openblas". */
  readonly name: string;
  /** The provider's own thread count, set before a product when it changes (see THREAD_MIN). */
  setThreads(n: number): void;
  /**
   * For t < batch: C_t[M, N] = op(A_t) @ op(B_t), row-major, C_t overwritten. op(X) is X, or X's transpose when
   * its flag is set: A_t is stored as M x K (K x M when transposed) from A[aOff + t * strideA] with row stride
   * lda, B_t as K x N (N x K), C_t as M x N. A, B and C are arrays of one type.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: FloatArray,
    aOff: number,
    lda: number,
    strideA: number,
    B: FloatArray,
    bOff: number,
    ldb: number,
    strideB: number,
    C: FloatArray,
    cOff: number,
    ldc: number,
    strideC: number,
    batch: number,
  ): void;
}

/**
 * Products (multiply-adds per provider call) from which the provider runs on getNumThreads() threads; smaller ones
 * run on one. OpenBLAS's workers are woken per call and spin-yield while idle, which pays on a quiet machine but
 * not on a busy one, where a worker that is not scheduled stalls the call (Cinder's WASM pool backs off instead,
 * which OpenBLAS cannot: its results depend on the thread count, so the choice must not depend on timing).
 * Measured on the 2-core EPYC at load 13-15 (OpenBLAS 1 thread vs 2, interleaved medians): 256^3 1.5 vs 2.4 ms,
 * 384^3 3.5 vs 3.3, 512^3 10.5 vs 11.3, 768^3 31 vs 23, 1024^3 42 vs 34; the MNIST MLP step 2.0 vs 2.2-5.8 ms, the
 * MNIST CNN step (its conv2 products 12544x288x64, 2^27.8) 109 vs 146 ms.
 */
const THREAD_MIN = 1 << 28;
const INT32_MAX = 2 ** 31 - 1;

let provider: GemmProvider | null = null;
let providerThreads = 0;
const stats = { products: 0 };

/**
 * Register a native GEMM (null: none, the default). Packages do this for you (`import "@cinder/blas"`); the
 * provider applies from the next product.
 */
export function setGemmProvider(p: GemmProvider | null): void {
  const ok =
    p === null ||
    (typeof p === "object" &&
      typeof p.name === "string" &&
      typeof p.gemm === "function" &&
      typeof p.setThreads === "function");
  if (!ok)
    throw new TypeError(
      `setGemmProvider: expected null or a GemmProvider ({ name, setThreads(n), gemm(...) }), got ${p === undefined ? "undefined" : typeof p === "object" ? `an object with keys [${Object.keys(p as object).join(", ")}]` : typeof p}`,
    );
  provider = p;
  providerThreads = 0;
}

/** The registered native GEMM, or null when products run on Cinder's own kernels. */
export function gemmProvider(): GemmProvider | null {
  return provider;
}

/** How many products the provider ran since the process started (tests use it to prove the path is taken). */
export function gemmProviderStats(): { products: number } {
  return { ...stats };
}

/**
 * Whether two arrays share memory. Written in place, an out sharing memory with an input would be read after
 * being written (the WASM path copies its operands, so it takes those products).
 */
function overlap(x: FloatArray, y: FloatArray): boolean {
  return (
    x.buffer === y.buffer &&
    x.byteOffset < y.byteOffset + y.byteLength &&
    y.byteOffset < x.byteOffset + x.byteLength
  );
}

/** One batch operand as CBLAS sees it: stored transposed or not, its row stride, its batch stride. */
interface Mat {
  trans: boolean;
  ld: number;
  bs: number;
}

/**
 * The [rows, cols] matrices of a 3-d view as a CBLAS operand, or null when CBLAS cannot read them in place. A
 * dimension of size 1 has no meaningful stride, so it never disqualifies a view; `ld` must still be at least the
 * stored row length, as CBLAS checks.
 */
function asMatrix(v: View, rows: number, cols: number): Mat | null {
  const [bs, s1, s2] = v.strides;
  if (bs < 0) return null;
  if ((cols === 1 || s2 === 1) && (rows === 1 || s1 >= cols))
    return { trans: false, ld: rows === 1 ? cols : s1, bs };
  if ((rows === 1 || s1 === 1) && (cols === 1 || s2 >= rows))
    return { trans: true, ld: cols === 1 ? rows : s2, bs };
  return null;
}

/**
 * out = a @ b for [B, M, K] @ [B, K, N] float views on the registered provider. Returns false (having written
 * nothing) when there is none, the dtype is not a float one or a view does not fit (see asMatrix).
 */
export function matmulProvider(a: View, b: View, out: View): boolean {
  const p = provider;
  if (p === null || (out.dtype !== "float32" && out.dtype !== "float64")) return false;
  const ctor = out.dtype === "float32" ? Float32Array : Float64Array;
  const A = a.handle;
  const B = b.handle;
  const C = out.handle;
  if (!(A instanceof ctor && B instanceof ctor && C instanceof ctor) || overlap(C, A) || overlap(C, B))
    return false;
  // CBLAS takes 32-bit ints: arrays below 2^31 elements keep every dimension, offset and stride in range.
  if (A.length > INT32_MAX || B.length > INT32_MAX || C.length > INT32_MAX) return false;
  let [batch, M, N] = out.shape;
  const K = a.shape[2];
  const ma = asMatrix(a, M, K);
  const mb = asMatrix(b, K, N);
  const mc = asMatrix(out, M, N);
  if (ma === null || mb === null || mc === null) return false;
  if (batch === 1) ma.bs = mb.bs = mc.bs = 0;
  // A shared B under batches of A and C that continue each other's rows: one product of batch * M rows.
  if (batch > 1 && mb.bs === 0 && !ma.trans && !mc.trans && ma.bs === M * ma.ld && mc.bs === M * mc.ld) {
    M *= batch;
    batch = 1;
  }
  const threads = M * N * K >= THREAD_MIN ? getThreads() : 1;
  if (threads !== providerThreads) {
    p.setThreads(threads);
    providerThreads = threads;
  }
  // C stored transposed (column-major): C^T = op(B)^T @ op(A)^T, the operands swapping roles.
  const t = mc.trans;
  const [l, lv, r, rv] = t ? [mb, b, ma, a] : [ma, a, mb, b];
  const [L, R] = [lv.handle as FloatArray, rv.handle as FloatArray];
  p.gemm(
    l.trans !== t,
    r.trans !== t,
    t ? N : M,
    t ? M : N,
    K,
    L,
    lv.offset,
    l.ld,
    l.bs,
    R,
    rv.offset,
    r.ld,
    r.bs,
    C,
    out.offset,
    mc.ld,
    mc.bs,
    batch,
  );
  stats.products++;
  return true;
}

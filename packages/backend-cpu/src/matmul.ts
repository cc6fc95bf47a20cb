/**
 * Batched matrix multiply. float32 products of at least WASM_MIN multiply-adds (all but tiny ones and plain dot
 * products) run on the WebAssembly SIMD kernel of wasm/gemm.ts when the platform has WebAssembly SIMD; the rest,
 * float64 and int32 run here. Operands of any strides are brought to row-major form (packed into temporaries
 * when strided, transposed or broadcast; a stride-0 batch is packed once), then one of two kernels runs on plain
 * row-major arrays:
 *
 * - `gemmRows` (N >= 8): cache-blocked over k and j, i-k-j order, register-blocked 4 rows x 4 k so each load of
 *   a row of B feeds 16 multiply-adds; the inner loop runs over contiguous N and accumulates into C.
 * - `gemmDot` (N < 8, e.g. matrix-vector): C[i, j] = dot(A[i, :], Bt[j, :]) with B packed transposed.
 *
 * Tiny problems skip packing and run a direct strided loop.
 */
import type { TypedArray, View } from "@cinder/tensor";
import { fill } from "./elementwise";
import { matmulProvider } from "./gemm-provider";
import { matmulWasm } from "./wasm/gemm";

type FloatArray = Float32Array | Float64Array;

const KB = 256;
const NB = 512;
const TINY = 4096;
/**
 * float32 products of at least this many multiply-adds run on the WASM SIMD kernel when it is available. Measured
 * on x64 (Node 20): its fixed cost is ~0.25 us, and it already beats the direct loop at ~128 (4x4x8: 1.6x).
 */
const WASM_MIN = 256;

/** C[M, N] = A[M, K] @ B[K, N], all row-major; C is overwritten. */
export function gemmRows(
  A: FloatArray,
  ao: number,
  B: FloatArray,
  bo: number,
  C: FloatArray,
  co: number,
  M: number,
  K: number,
  N: number,
): void {
  C.fill(0, co, co + M * N);
  for (let jb = 0; jb < N; jb += NB) {
    const je = Math.min(jb + NB, N);
    for (let kb = 0; kb < K; kb += KB) {
      const ke = Math.min(kb + KB, K);
      let i = 0;
      for (; i + 3 < M; i += 4) {
        const c0 = co + i * N;
        const c1 = c0 + N;
        const c2 = c1 + N;
        const c3 = c2 + N;
        const r0 = ao + i * K;
        const r1 = r0 + K;
        const r2 = r1 + K;
        const r3 = r2 + K;
        let k = kb;
        for (; k + 3 < ke; k += 4) {
          const a00 = A[r0 + k];
          const a01 = A[r0 + k + 1];
          const a02 = A[r0 + k + 2];
          const a03 = A[r0 + k + 3];
          const a10 = A[r1 + k];
          const a11 = A[r1 + k + 1];
          const a12 = A[r1 + k + 2];
          const a13 = A[r1 + k + 3];
          const a20 = A[r2 + k];
          const a21 = A[r2 + k + 1];
          const a22 = A[r2 + k + 2];
          const a23 = A[r2 + k + 3];
          const a30 = A[r3 + k];
          const a31 = A[r3 + k + 1];
          const a32 = A[r3 + k + 2];
          const a33 = A[r3 + k + 3];
          const b0 = bo + k * N;
          const b1 = b0 + N;
          const b2 = b1 + N;
          const b3 = b2 + N;
          for (let j = jb; j < je; j++) {
            const x0 = B[b0 + j];
            const x1 = B[b1 + j];
            const x2 = B[b2 + j];
            const x3 = B[b3 + j];
            C[c0 + j] += a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3;
            C[c1 + j] += a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3;
            C[c2 + j] += a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3;
            C[c3 + j] += a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3;
          }
        }
        for (; k < ke; k++) {
          const a0 = A[r0 + k];
          const a1 = A[r1 + k];
          const a2 = A[r2 + k];
          const a3 = A[r3 + k];
          const b = bo + k * N;
          for (let j = jb; j < je; j++) {
            const x = B[b + j];
            C[c0 + j] += a0 * x;
            C[c1 + j] += a1 * x;
            C[c2 + j] += a2 * x;
            C[c3 + j] += a3 * x;
          }
        }
      }
      for (; i < M; i++) {
        const c = co + i * N;
        const r = ao + i * K;
        let k = kb;
        // A single row has no reuse of B across rows: unroll k by 8 instead to amortise the C traffic.
        for (; k + 7 < ke; k += 8) {
          const a0 = A[r + k];
          const a1 = A[r + k + 1];
          const a2 = A[r + k + 2];
          const a3 = A[r + k + 3];
          const a4 = A[r + k + 4];
          const a5 = A[r + k + 5];
          const a6 = A[r + k + 6];
          const a7 = A[r + k + 7];
          const b0 = bo + k * N;
          const b1 = b0 + N;
          const b2 = b1 + N;
          const b3 = b2 + N;
          const b4 = b3 + N;
          const b5 = b4 + N;
          const b6 = b5 + N;
          const b7 = b6 + N;
          for (let j = jb; j < je; j++) {
            C[c + j] +=
              a0 * B[b0 + j] +
              a1 * B[b1 + j] +
              a2 * B[b2 + j] +
              a3 * B[b3 + j] +
              (a4 * B[b4 + j] + a5 * B[b5 + j] + a6 * B[b6 + j] + a7 * B[b7 + j]);
          }
        }
        for (; k < ke; k++) {
          const a = A[r + k];
          const b = bo + k * N;
          for (let j = jb; j < je; j++) C[c + j] += a * B[b + j];
        }
      }
    }
  }
}

/** C[M, N] = A[M, K] @ Bt[N, K]^T, all row-major: one dot product per output, four partial sums each. */
export function gemmDot(
  A: FloatArray,
  ao: number,
  Bt: FloatArray,
  bo: number,
  C: FloatArray,
  co: number,
  M: number,
  K: number,
  N: number,
): void {
  for (let i = 0; i < M; i++) {
    const r = ao + i * K;
    for (let j = 0; j < N; j++) {
      const q = bo + j * K;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        s0 += A[r + k] * Bt[q + k];
        s1 += A[r + k + 1] * Bt[q + k + 1];
        s2 += A[r + k + 2] * Bt[q + k + 2];
        s3 += A[r + k + 3] * Bt[q + k + 3];
      }
      for (; k < K; k++) s0 += A[r + k] * Bt[q + k];
      C[co + i * N + j] = s0 + s1 + (s2 + s3);
    }
  }
}

const TILE = 32;

/**
 * Copy a strided [rows, cols] matrix into row-major `dst`. Row-friendly sources are copied row by row; others
 * (transposes) in 32x32 tiles so both the reads and the writes stay in cache.
 */
function pack(
  src: TypedArray,
  off: number,
  s0: number,
  s1: number,
  rows: number,
  cols: number,
  dst: TypedArray,
): void {
  if (Math.abs(s1) <= Math.abs(s0)) {
    for (let r = 0; r < rows; r++) {
      const p = off + r * s0;
      const q = r * cols;
      for (let c = 0; c < cols; c++) dst[q + c] = src[p + c * s1];
    }
    return;
  }
  for (let rb = 0; rb < rows; rb += TILE) {
    const re = Math.min(rb + TILE, rows);
    for (let cb = 0; cb < cols; cb += TILE) {
      const ce = Math.min(cb + TILE, cols);
      for (let c = cb; c < ce; c++) {
        const p = off + c * s1;
        for (let r = rb; r < re; r++) dst[r * cols + c] = src[p + r * s0];
      }
    }
  }
}

/** A batch operand as a row-major matrix: the source itself when it already is one, else a packed copy. */
class Operand2d {
  private buf: TypedArray | null = null;
  private packedBatch = -1;
  constructor(
    private readonly v: View,
    private readonly rows: number,
    private readonly cols: number,
    /** Pack as the transpose (cols x rows) instead. */
    private readonly transposed: boolean,
    private readonly ctor: { new (n: number): TypedArray },
  ) {}

  /** Array and offset of batch `b` in row-major form. */
  get(b: number): [TypedArray, number] {
    const v = this.v;
    const s0 = this.transposed ? v.strides[2] : v.strides[1];
    const s1 = this.transposed ? v.strides[1] : v.strides[2];
    const rows = this.transposed ? this.cols : this.rows;
    const cols = this.transposed ? this.rows : this.cols;
    const off = v.offset + b * v.strides[0];
    const src = v.handle as TypedArray;
    if ((s1 === 1 || cols === 1) && (s0 === cols || rows === 1) && src.constructor === this.ctor)
      return [src, off];
    const key = v.strides[0] === 0 ? 0 : b;
    if (this.buf === null) this.buf = new this.ctor(rows * cols);
    if (this.packedBatch !== key) {
      pack(src, off, s0, s1, rows, cols, this.buf);
      this.packedBatch = key;
    }
    return [this.buf, 0];
  }
}

function isRowMajor(v: View, rows: number, cols: number): boolean {
  return (v.strides[2] === 1 || cols === 1) && (v.strides[1] === cols || rows === 1);
}

/** Direct strided triple loop for tiny products and int32 (which wraps at 32 bits via Math.imul). */
function matmulDirect(a: View, b: View, out: View, intMath: boolean): void {
  const [B, M, N] = out.shape;
  const K = a.shape[2];
  const A = a.handle as TypedArray;
  const Bm = b.handle as TypedArray;
  const C = out.handle as TypedArray;
  const [as0, as1, as2] = a.strides;
  const [bs0, bs1, bs2] = b.strides;
  const [cs0, cs1, cs2] = out.strides;
  for (let t = 0; t < B; t++) {
    for (let i = 0; i < M; i++) {
      const ar = a.offset + t * as0 + i * as1;
      const cr = out.offset + t * cs0 + i * cs1;
      for (let j = 0; j < N; j++) {
        const bc = b.offset + t * bs0 + j * bs2;
        let s = 0;
        if (intMath) {
          for (let k = 0; k < K; k++) s = (s + Math.imul(A[ar + k * as2], Bm[bc + k * bs1])) | 0;
        } else {
          for (let k = 0; k < K; k++) s += A[ar + k * as2] * Bm[bc + k * bs1];
        }
        C[cr + j * cs2] = s;
      }
    }
  }
}

export function matmul(a: View, b: View, out: View): void {
  const [B, M, N] = out.shape;
  const K = a.shape[2];
  if (B === 0 || M === 0 || N === 0) return;
  if (K === 0) {
    fill(out, 0);
    return;
  }
  // A registered native GEMM (gemm-provider.ts, e.g. @cinder/blas) takes the float products it can read in place.
  if (matmulProvider(a, b, out)) return;
  // Dot products (M = N = 1) read each operand once: copying them into WASM memory would cost more than it saves.
  if (out.dtype === "float32" && M * N * K >= WASM_MIN && (M > 1 || N > 1) && matmulWasm(a, b, out)) return;
  const floatOut = out.dtype === "float32" || out.dtype === "float64";
  if (!floatOut || M * N * K <= TINY) {
    matmulDirect(a, b, out, !floatOut);
    return;
  }
  const ctor = out.dtype === "float32" ? Float32Array : Float64Array;
  const dot = N < 8;
  const A = new Operand2d(a, M, K, false, ctor);
  const Bop = new Operand2d(b, K, N, dot, ctor);
  const C = out.handle as FloatArray;
  const direct = isRowMajor(out, M, N) && C.constructor === ctor;
  const tmp = direct ? null : new ctor(M * N);
  for (let t = 0; t < B; t++) {
    const [Aa, ao] = A.get(t);
    const [Ba, bo] = Bop.get(t);
    const co = direct ? out.offset + t * out.strides[0] : 0;
    const Ca = tmp ?? C;
    if (dot) gemmDot(Aa as FloatArray, ao, Ba as FloatArray, bo, Ca, co, M, K, N);
    else gemmRows(Aa as FloatArray, ao, Ba as FloatArray, bo, Ca, co, M, K, N);
    if (tmp !== null) {
      const base = out.offset + t * out.strides[0];
      const [, s1, s2] = out.strides;
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) C[base + i * s1 + j * s2] = tmp[i * N + j];
    }
  }
}

/**
 * Host plumbing of the `torch.linalg` decompositions (issue 14): the input's batch of matrices read synchronously
 * as float64, and float64 results written back as tensors of the input's dtype on the input's device. The kernels
 * (LU, Cholesky, Householder QR, Jacobi eigh / SVD) are loops over these buffers, not backend primitives: a device
 * without synchronous reads (WebGPU) gets an error naming `x.toAsync("cpu")`.
 */
import { isComplex, isFloat } from "../dtype";
import { DeviceError, DTypeError, ShapeError } from "../errors";
import type { Tensor } from "../tensor";
import { tensor } from "./creation";

/** PyTorch's `torch.linalg.LinAlgError`: a singular or non-positive-definite input, or a kernel that did not converge. */
export class LinAlgError extends Error {
  override name = "LinAlgError";
}

/** The input's elements in row-major order as float64 (throws on devices without synchronous reads). */
export function readF64(x: Tensor, what: string): Float64Array {
  if (!x.backend.readSync) {
    throw new DeviceError(
      `${what}() runs on the host and reads the input synchronously, which a ${x.device} tensor cannot do; use (await x.toAsync("cpu")) first`,
    );
  }
  if (x.numel() === 0) return new Float64Array(0);
  return Float64Array.from(x.data() as ArrayLike<number>);
}

/** A float64 buffer as a tensor of `like`'s dtype (or `dtype`) on `like`'s device. */
export function fromF64(
  data: Float64Array,
  shape: readonly number[],
  like: Tensor,
  dtype = like.dtype,
): Tensor {
  return tensor(data, { dtype, device: like.device }).reshape([...shape]);
}

/** float32/float64 only, as PyTorch's linalg functions. */
export function checkFloat(A: Tensor, what: string): void {
  if (isComplex(A.dtype)) {
    throw new DTypeError(
      `${what}: complex input is not supported yet (Cinder's decompositions are real; linalg.eig/eigvals take complex matrices)`,
    );
  }
  if (!isFloat(A.dtype)) {
    throw new DTypeError(
      `${what}: Expected a floating point or complex tensor as input. Got ${A.dtype === "int64" ? "Long" : A.dtype === "int32" ? "Int" : A.dtype}`,
    );
  }
}

/** At least 2 dims (PyTorch: "The input tensor A must have at least 2 dimensions."). */
export function checkMatrix(A: Tensor, what: string, name = "A"): void {
  if (A.ndim < 2) {
    throw new ShapeError(`${what}: The input tensor ${name} must have at least 2 dimensions.`);
  }
  checkFloat(A, what);
}

/** Batches of square matrices (PyTorch: "A must be batches of square matrices"). */
export function checkSquare(A: Tensor, what: string, name = "A"): number {
  checkMatrix(A, what, name);
  const n = A.shape[A.ndim - 1];
  if (A.shape[A.ndim - 2] !== n) {
    throw new ShapeError(
      `${what}: ${name} must be batches of square matrices, but they are ${A.shape[A.ndim - 2]} by ${n} matrices`,
    );
  }
  return n;
}

/** The number of matrices in the leading dims. */
export const batchCount = (shape: readonly number[]): number => shape.slice(0, -2).reduce((p, s) => p * s, 1);

/** A named tuple: an array that also has its fields by name (as PyTorch's return types). */
export function named<const N extends readonly string[]>(
  names: N,
  values: readonly Tensor[],
): readonly Tensor[] & { readonly [K in N[number]]: Tensor } {
  const out = [...values] as Tensor[] & Record<string, Tensor>;
  names.forEach((n, i) => {
    out[n] = values[i];
  });
  return out as unknown as readonly Tensor[] & { readonly [K in N[number]]: Tensor };
}

// ---- float64 kernels on one row-major matrix at an offset ----

/** In-place LU with partial pivoting of the n x n matrix at `off`; returns the pivots (0-based) and parity. */
export function luInPlace(
  a: Float64Array,
  off: number,
  n: number,
): { piv: Int32Array; sign: number; zeroAt: number } {
  const piv = new Int32Array(n);
  let sign = 1;
  let zeroAt = -1;
  for (let j = 0; j < n; j++) {
    let p = j;
    let best = Math.abs(a[off + j * n + j]);
    for (let i = j + 1; i < n; i++) {
      const v = Math.abs(a[off + i * n + j]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    piv[j] = p;
    if (p !== j) {
      sign = -sign;
      for (let c = 0; c < n; c++) {
        const t = a[off + j * n + c];
        a[off + j * n + c] = a[off + p * n + c];
        a[off + p * n + c] = t;
      }
    }
    const d = a[off + j * n + j];
    if (d === 0) {
      if (zeroAt < 0) zeroAt = j;
      continue;
    }
    for (let i = j + 1; i < n; i++) {
      const f = a[off + i * n + j] / d;
      a[off + i * n + j] = f;
      if (f === 0) continue;
      for (let c = j + 1; c < n; c++) a[off + i * n + c] -= f * a[off + j * n + c];
    }
  }
  return { piv, sign, zeroAt };
}

/** Solves LU x = P b in place for the n x k right-hand sides at `boff` (row-major). */
export function luSolveInPlace(
  lu: Float64Array,
  off: number,
  n: number,
  piv: Int32Array,
  b: Float64Array,
  boff: number,
  k: number,
): void {
  for (let j = 0; j < n; j++) {
    const p = piv[j];
    if (p !== j) {
      for (let c = 0; c < k; c++) {
        const t = b[boff + j * k + c];
        b[boff + j * k + c] = b[boff + p * k + c];
        b[boff + p * k + c] = t;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const f = lu[off + i * n + j];
      if (f !== 0) for (let c = 0; c < k; c++) b[boff + i * k + c] -= f * b[boff + j * k + c];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let j = i + 1; j < n; j++) {
      const f = lu[off + i * n + j];
      if (f !== 0) for (let c = 0; c < k; c++) b[boff + i * k + c] -= f * b[boff + j * k + c];
    }
    const d = lu[off + i * n + i];
    for (let c = 0; c < k; c++) b[boff + i * k + c] /= d;
  }
}

/** Lower Cholesky factor of the n x n matrix at `off` (its lower triangle read) into `l`; the failing order or 0. */
export function choleskyInto(a: Float64Array, off: number, n: number, l: Float64Array): number {
  for (let j = 0; j < n; j++) {
    let s = a[off + j * n + j];
    for (let c = 0; c < j; c++) s -= l[off + j * n + c] * l[off + j * n + c];
    if (!(s > 0)) return j + 1;
    const d = Math.sqrt(s);
    l[off + j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = a[off + i * n + j];
      for (let c = 0; c < j; c++) t -= l[off + i * n + c] * l[off + j * n + c];
      l[off + i * n + j] = t / d;
    }
  }
  return 0;
}

/**
 * Eigen-decomposition of the symmetric n x n matrix `a` (a copy, destroyed) by cyclic Jacobi rotations: ascending
 * eigenvalues into `w`, the eigenvectors as the columns of `v` (n x n row-major).
 */
export function jacobiEigh(a: Float64Array, n: number, w: Float64Array, v: Float64Array): void {
  v.fill(0);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = a[i * n + j] * a[i * n + j];
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        rotateColumns(a, n, n, p, q, c, s);
        rotateRows(a, n, n, p, q, c, s);
        rotateColumns(v, n, n, p, q, c, s);
      }
    }
  }
  // sort ascending, permuting the columns of v
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[x * n + x] - a[y * n + y]);
  const vs = Float64Array.from(v);
  order.forEach((src, dst) => {
    w[dst] = a[src * n + src];
    for (let r = 0; r < n; r++) v[r * n + dst] = vs[r * n + src];
  });
}

/**
 * Householder QR of the m x n matrix `a` (row-major, destroyed): Q (m x qc, qc = m when complete else min(m, n)) and
 * R (qc x n), with LAPACK's sign convention (R's diagonal is -sign(x0) |x|, so R[i][i] <= 0 when x0 > 0).
 */
export function householderQr(
  a: Float64Array,
  m: number,
  n: number,
  complete: boolean,
): { q: Float64Array; r: Float64Array; qc: number } {
  const kk = Math.min(m, n);
  const vs: Float64Array[] = [];
  const taus: number[] = [];
  for (let j = 0; j < kk; j++) {
    let norm2 = 0;
    for (let i = j + 1; i < m; i++) norm2 += a[i * n + j] * a[i * n + j];
    const alpha = a[j * n + j];
    const v = new Float64Array(m);
    if (norm2 === 0) {
      // H = I (LAPACK's dlarfg with a zero tail)
      vs.push(v);
      taus.push(0);
      continue;
    }
    const beta = -Math.sign(alpha || 1) * Math.sqrt(alpha * alpha + norm2);
    const tau = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    v[j] = 1;
    for (let i = j + 1; i < m; i++) v[i] = a[i * n + j] * scale;
    // apply H = I - tau v v^T to the columns j.. of a
    for (let c = j; c < n; c++) {
      let s = 0;
      for (let i = j; i < m; i++) s += v[i] * a[i * n + c];
      s *= tau;
      for (let i = j; i < m; i++) a[i * n + c] -= s * v[i];
    }
    vs.push(v);
    taus.push(tau);
  }
  const qc = complete ? m : kk;
  const r = new Float64Array(qc * n);
  for (let i = 0; i < Math.min(qc, m); i++) for (let c = i; c < n; c++) r[i * n + c] = a[i * n + c];
  // Q = H_0 H_1 ... applied to the first qc columns of the identity
  const q = new Float64Array(m * qc);
  for (let i = 0; i < Math.min(m, qc); i++) q[i * qc + i] = 1;
  for (let j = kk - 1; j >= 0; j--) {
    const v = vs[j];
    const tau = taus[j];
    if (tau === 0) continue;
    for (let c = 0; c < qc; c++) {
      let s = 0;
      for (let i = j; i < m; i++) s += v[i] * q[i * qc + c];
      s *= tau;
      for (let i = j; i < m; i++) q[i * qc + c] -= s * v[i];
    }
  }
  return { q, r, qc };
}

/** Columns p and q of a row-major matrix (`rows` rows of `stride` entries) rotated by the Givens pair (c, s). */
export function rotateColumns(
  a: Float64Array,
  rows: number,
  stride: number,
  p: number,
  q: number,
  c: number,
  s: number,
): void {
  for (let r = 0; r < rows; r++) {
    const x = a[r * stride + p];
    const y = a[r * stride + q];
    a[r * stride + p] = c * x - s * y;
    a[r * stride + q] = s * x + c * y;
  }
}

/** Rows p and q (the first `cols` entries of each, rows `stride` apart) rotated by the Givens pair (c, s). */
export function rotateRows(
  a: Float64Array,
  cols: number,
  stride: number,
  p: number,
  q: number,
  c: number,
  s: number,
): void {
  for (let r = 0; r < cols; r++) {
    const x = a[p * stride + r];
    const y = a[q * stride + r];
    a[p * stride + r] = c * x - s * y;
    a[q * stride + r] = s * x + c * y;
  }
}

/**
 * `linalg.eig` / `linalg.eigvals` of real and complex square (batched) matrices, on the host in complex float64:
 * Householder reduction to Hessenberg form, implicit single-shift QR sweeps (Wilkinson shifts, deflation on tiny
 * subdiagonals) to the complex Schur form T = Z^H A Z, then eigenvectors by back substitution on T (LAPACK's
 * ztrevc, a tiny denominator perturbed as it does) mapped back by Z, each scaled to unit 2-norm with its largest
 * component real and positive (zgeev's normalisation).
 *
 * Real input runs the same complex algorithm (LAPACK's dgeev uses the real double-shift QR instead) and is then put in
 * dgeev's form (`realPairs`): real eigenpairs exactly real, conjugate pairs adjacent with the positive imaginary part
 * first. The order is then PyTorch's on most matrices, but where the two QR iterations deflate differently it is
 * another; a real eigenvector may differ from PyTorch's in sign (dgeev does not fix it). Each pair satisfies A v = w v.
 */
import { complexDtype, DTYPE_INFO, isComplex, isFloat } from "../dtype";
import { DeviceError, DTypeError, ShapeError } from "../errors";
import { needsGrad } from "../grad";
import { arg, k, op, signature } from "../signature";
import { complexGradError, type Tensor, tensorFromData } from "../tensor";
import { batchCount, LinAlgError, named } from "./linalg-host";

/** A batch of n x n complex matrices, row-major, parts apart. */
interface CMat {
  re: Float64Array;
  im: Float64Array;
}

const EPS = 2 ** -52;

/** One n x n matrix (at `off` in the batch) reduced in place to upper Hessenberg form; Z accumulates the reflectors. */
function hessenberg(n: number, a: CMat, z: CMat): void {
  const { re, im } = a;
  const vr = new Float64Array(n);
  const vi = new Float64Array(n);
  for (let kk = 0; kk < n - 2; kk++) {
    // the Householder vector v that maps column kk below the diagonal to (alpha, 0, ..., 0)
    let norm2 = 0;
    for (let i = kk + 1; i < n; i++) norm2 += re[i * n + kk] ** 2 + im[i * n + kk] ** 2;
    const xr = re[(kk + 1) * n + kk];
    const xi = im[(kk + 1) * n + kk];
    const xabs = Math.hypot(xr, xi);
    if (norm2 - xabs * xabs <= 0) continue; // already zero below the subdiagonal
    const norm = Math.sqrt(norm2);
    // alpha = -e^{i arg x} ||x||: v = x - alpha e1 then adds magnitudes (no cancellation)
    const pr = xabs === 0 ? 1 : xr / xabs;
    const pi = xabs === 0 ? 0 : xi / xabs;
    for (let i = kk + 1; i < n; i++) {
      vr[i] = re[i * n + kk];
      vi[i] = im[i * n + kk];
    }
    vr[kk + 1] += pr * norm;
    vi[kk + 1] += pi * norm;
    let vn = 0;
    for (let i = kk + 1; i < n; i++) vn += vr[i] ** 2 + vi[i] ** 2;
    // H = I - 2 v v^H / (v^H v): A <- H A H, Z <- Z H
    const beta = 2 / vn;
    for (let j = 0; j < n; j++) {
      // s = v^H A[:, j]
      let sr = 0;
      let si = 0;
      for (let i = kk + 1; i < n; i++) {
        const ar = re[i * n + j];
        const ai = im[i * n + j];
        sr += vr[i] * ar + vi[i] * ai;
        si += vr[i] * ai - vi[i] * ar;
      }
      sr *= beta;
      si *= beta;
      for (let i = kk + 1; i < n; i++) {
        re[i * n + j] -= vr[i] * sr - vi[i] * si;
        im[i * n + j] -= vr[i] * si + vi[i] * sr;
      }
    }
    for (const m of [a, z]) {
      for (let i = 0; i < n; i++) {
        // s = M[i, :] v
        let sr = 0;
        let si = 0;
        for (let j = kk + 1; j < n; j++) {
          const mr = m.re[i * n + j];
          const mi = m.im[i * n + j];
          sr += mr * vr[j] - mi * vi[j];
          si += mr * vi[j] + mi * vr[j];
        }
        sr *= beta;
        si *= beta;
        // M[i, j] -= s conj(v_j)
        for (let j = kk + 1; j < n; j++) {
          m.re[i * n + j] -= sr * vr[j] + si * vi[j];
          m.im[i * n + j] -= si * vr[j] - sr * vi[j];
        }
      }
    }
    for (let i = kk + 2; i < n; i++) {
      re[i * n + kk] = 0;
      im[i * n + kk] = 0;
    }
  }
}

const cabs = (r: number, i: number) => Math.hypot(r, i);

/** The principal square root of r + i i. */
function csqrt(r: number, i: number): [number, number] {
  const m = Math.hypot(r, i);
  if (m === 0) return [0, 0];
  const t = Math.sqrt((m + Math.abs(r)) / 2);
  if (r >= 0) return [t, i / (2 * t)];
  return [Math.abs(i) / (2 * t), i >= 0 ? t : -t];
}

/** The eigenvalue of the trailing 2 x 2 block [[a, b], [c, d]] closer to d (Wilkinson's shift). */
function wilkinson(h: CMat, n: number, hi: number): [number, number] {
  const at = (i: number, j: number): [number, number] => [h.re[i * n + j], h.im[i * n + j]];
  const [ar, ai] = at(hi - 1, hi - 1);
  const [br, bi] = at(hi - 1, hi);
  const [cr, ci] = at(hi, hi - 1);
  const [dr, di] = at(hi, hi);
  // mu = (a + d)/2 +- sqrt(((a - d)/2)^2 + b c)
  const hr = (ar - dr) / 2;
  const hi2 = (ai - di) / 2;
  const [sr, si] = csqrt(hr * hr - hi2 * hi2 + br * cr - bi * ci, 2 * hr * hi2 + br * ci + bi * cr);
  const mr = (ar + dr) / 2;
  const mi = (ai + di) / 2;
  const d1 = cabs(mr + sr - dr, mi + si - di);
  const d2 = cabs(mr - sr - dr, mi - si - di);
  return d1 <= d2 ? [mr + sr, mi + si] : [mr - sr, mi - si];
}

/** Hessenberg H to upper triangular (complex Schur form) in place by shifted QR sweeps; Z accumulates. */
function schur(n: number, h: CMat, z: CMat, what: string): void {
  const { re, im } = h;
  let hi = n - 1;
  let iter = 0;
  let total = 0;
  while (hi > 0) {
    // deflate: the lowest l with a negligible subdiagonal H[l][l-1] (relative to its diagonal neighbours)
    let l = hi;
    for (; l > 0; l--) {
      const s = cabs(re[l * n + l], im[l * n + l]) + cabs(re[(l - 1) * n + l - 1], im[(l - 1) * n + l - 1]);
      if (cabs(re[l * n + l - 1], im[l * n + l - 1]) <= EPS * (s === 0 ? 1 : s)) {
        re[l * n + l - 1] = 0;
        im[l * n + l - 1] = 0;
        break;
      }
    }
    if (l === hi) {
      hi--;
      iter = 0;
      continue;
    }
    iter++;
    if (++total > 100 * n) throw new LinAlgError(`${what}: the QR algorithm failed to converge`);
    let [mur, mui] = wilkinson(h, n, hi);
    if (iter % 10 === 0) {
      // an exceptional shift breaks a cycle the Wilkinson shift may fall into (as LAPACK's zlahqr)
      mur = re[hi * n + hi] + Math.abs(re[hi * n + hi - 1]);
      mui = im[hi * n + hi] + Math.abs(im[hi * n + hi - 1]);
    }
    sweep(n, h, z, l, hi, mur, mui);
  }
}

/** One implicit single-shift QR sweep over the active block [lo, hi]: a Givens rotation chases the bulge down. */
function sweep(n: number, h: CMat, z: CMat, lo: number, hi: number, mur: number, mui: number): void {
  const { re, im } = h;
  for (let kk = lo; kk < hi; kk++) {
    let xr: number;
    let xi: number;
    let yr: number;
    let yi: number;
    if (kk === lo) {
      xr = re[lo * n + lo] - mur;
      xi = im[lo * n + lo] - mui;
      yr = re[(lo + 1) * n + lo];
      yi = im[(lo + 1) * n + lo];
    } else {
      xr = re[kk * n + kk - 1];
      xi = im[kk * n + kk - 1];
      yr = re[(kk + 1) * n + kk - 1];
      yi = im[(kk + 1) * n + kk - 1];
    }
    // G = [[c, s], [-conj(s), c]] with G [x; y] = [r; 0]: c = |x| / r, s = (x / |x|) conj(y) / r
    const ax = cabs(xr, xi);
    const r = Math.hypot(ax, cabs(yr, yi));
    if (r === 0) continue;
    let c: number;
    let sr: number;
    let si: number;
    if (ax === 0) {
      // c = 0 and s = conj(y) / |y|: s y = |y| is real
      c = 0;
      const ay = cabs(yr, yi);
      sr = yr / ay;
      si = -yi / ay;
    } else {
      c = ax / r;
      const ur = xr / ax;
      const ui = xi / ax;
      sr = (ur * yr + ui * yi) / r;
      si = (ui * yr - ur * yi) / r;
    }
    // rows kk, kk + 1 <- G rows (every column right of the bulge: the whole Schur form is kept)
    for (let j = Math.max(lo, kk - 1); j < n; j++) {
      const a = kk * n + j;
      const b = (kk + 1) * n + j;
      const ar = re[a];
      const ai = im[a];
      const br = re[b];
      const bi = im[b];
      re[a] = c * ar + sr * br - si * bi;
      im[a] = c * ai + sr * bi + si * br;
      re[b] = c * br - (sr * ar + si * ai);
      im[b] = c * bi - (sr * ai - si * ar);
    }
    // columns kk, kk + 1 <- columns G^H, on H's rows above the bulge and on all of Z
    const last = Math.min(kk + 2, hi);
    for (const [m, rows] of [
      [h, last + 1],
      [z, n],
    ] as const) {
      for (let i = 0; i < rows; i++) {
        const a = i * n + kk;
        const b = a + 1;
        const ar = m.re[a];
        const ai = m.im[a];
        const br = m.re[b];
        const bi = m.im[b];
        m.re[a] = c * ar + sr * br + si * bi;
        m.im[a] = c * ai + sr * bi - si * br;
        m.re[b] = c * br - (sr * ar - si * ai);
        m.im[b] = c * bi - (sr * ai + si * ar);
      }
    }
  }
}

/** Eigenvectors of upper triangular T by back substitution, mapped back by Z, normalised as zgeev; into v. */
function eigenvectors(n: number, t: CMat, z: CMat, v: CMat): void {
  let tnorm = 0;
  for (let i = 0; i < n * n; i++) tnorm = Math.max(tnorm, cabs(t.re[i], t.im[i]));
  // LAPACK's floor on the denominators: eps * ||T||, at least a safe minimum (whose square still is a normal number)
  const smin = Math.max(EPS * tnorm, 1e-150);
  const xr = new Float64Array(n);
  const xi = new Float64Array(n);
  for (let kk = 0; kk < n; kk++) {
    xr.fill(0);
    xi.fill(0);
    xr[kk] = 1;
    const lr = t.re[kk * n + kk];
    const li = t.im[kk * n + kk];
    for (let i = kk - 1; i >= 0; i--) {
      let sr = 0;
      let si = 0;
      for (let j = i + 1; j <= kk; j++) {
        const tr = t.re[i * n + j];
        const ti = t.im[i * n + j];
        sr += tr * xr[j] - ti * xi[j];
        si += tr * xi[j] + ti * xr[j];
      }
      // x_i = -s / (T_ii - lambda), the denominator kept at least smin (ztrevc), so repeated eigenvalues stay finite
      let dr = t.re[i * n + i] - lr;
      let di = t.im[i * n + i] - li;
      if (cabs(dr, di) < smin) {
        dr = smin;
        di = 0;
      }
      // -s / d, scaled by max(|dr|, |di|) so the squares neither overflow nor underflow
      const sc = Math.max(Math.abs(dr), Math.abs(di));
      const er = dr / sc;
      const ei = di / sc;
      const den = (er * er + ei * ei) * sc;
      xr[i] = -(sr * er + si * ei) / den;
      xi[i] = -(si * er - sr * ei) / den;
      // a defective eigenvalue divides by smin again and again: rescale the vector before it overflows (ztrevc)
      const big = Math.max(Math.abs(xr[i]), Math.abs(xi[i]));
      if (big > 1e100) {
        for (let j = i; j <= kk; j++) {
          xr[j] /= big;
          xi[j] /= big;
        }
      }
    }
    // v = Z x, then unit norm with the largest component real and positive
    let norm2 = 0;
    let big = -1;
    let bigAbs = -1;
    for (let i = 0; i < n; i++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j <= kk; j++) {
        sr += z.re[i * n + j] * xr[j] - z.im[i * n + j] * xi[j];
        si += z.re[i * n + j] * xi[j] + z.im[i * n + j] * xr[j];
      }
      v.re[i * n + kk] = sr;
      v.im[i * n + kk] = si;
      const a2 = sr * sr + si * si;
      norm2 += a2;
      if (a2 > bigAbs) {
        bigAbs = a2;
        big = i;
      }
    }
    // scale by conj(v_big) / (|v_big| ||v||)
    const ba = Math.sqrt(bigAbs);
    const fr = v.re[big * n + kk] / ba / Math.sqrt(norm2);
    const fi = -v.im[big * n + kk] / ba / Math.sqrt(norm2);
    for (let i = 0; i < n; i++) {
      const a = i * n + kk;
      const r = v.re[a];
      const im = v.im[a];
      v.re[a] = r * fr - im * fi;
      v.im[a] = r * fi + im * fr;
    }
    v.im[big * n + kk] = 0;
  }
}

/** The (eigenvalues, eigenvectors) of every matrix of A, as interleaved complex float64 words. */
function eigBatch(A: Tensor, vectors: boolean, what: string): [Float64Array, Float64Array] {
  const n = A.shape[A.ndim - 1];
  const count = batchCount(A.shape);
  const words = Float64Array.from(A.data() as ArrayLike<number>);
  const complexIn = isComplex(A.dtype);
  const w = new Float64Array(2 * count * n);
  const vv = new Float64Array(vectors ? 2 * count * n * n : 0);
  const mat = (): CMat => ({ re: new Float64Array(n * n), im: new Float64Array(n * n) });
  for (let b = 0; b < count; b++) {
    const h = mat();
    for (let i = 0; i < n * n; i++) {
      const src = b * n * n + i;
      h.re[i] = complexIn ? words[2 * src] : words[src];
      h.im[i] = complexIn ? words[2 * src + 1] : 0;
      if (!Number.isFinite(h.re[i]) || !Number.isFinite(h.im[i])) {
        throw new LinAlgError(`torch.${what}: input tensor should not contain infs or NaNs.`);
      }
    }
    const z = mat();
    for (let i = 0; i < n; i++) z.re[i * n + i] = 1;
    hessenberg(n, h, z);
    schur(n, h, z, what);
    const lr = Float64Array.from({ length: n }, (_, i) => h.re[i * n + i]);
    const li = Float64Array.from({ length: n }, (_, i) => h.im[i * n + i]);
    const v = vectors ? mat() : null;
    if (v) eigenvectors(n, h, z, v);
    // a real matrix: LAPACK's dgeev form (see realPairs); the columns of v follow their eigenvalues
    const order = complexIn ? null : realPairs(n, lr, li, v, norm1(h, n));
    for (let k = 0; k < n; k++) {
      const i = order ? order[k] : k;
      w[2 * (b * n + k)] = lr[i];
      w[2 * (b * n + k) + 1] = li[i];
      if (!v) continue;
      for (let r = 0; r < n; r++) {
        vv[2 * (b * n * n + r * n + k)] = v.re[r * n + i];
        vv[2 * (b * n * n + r * n + k) + 1] = v.im[r * n + i];
      }
    }
  }
  return [w, vv];
}

/** The largest |entry| of the (Schur form) matrix: the scale "negligible" is measured against. */
function norm1(h: CMat, n: number): number {
  let m = 0;
  for (let i = 0; i < n * n; i++) m = Math.max(m, cabs(h.re[i], h.im[i]));
  return m;
}

/**
 * For a real matrix, the form LAPACK's dgeev returns (which the complex QR only approximates): real eigenvalues
 * exactly real with real eigenvectors (renormalised), and complex ones in conjugate pairs, adjacent, the one with
 * the positive imaginary part first, the second exactly the conjugate of the first (eigenvector too). Rewrites
 * `lr`/`li`/`v` in place and returns the order of the eigenvalues (indices into them).
 */
function realPairs(n: number, lr: Float64Array, li: Float64Array, v: CMat | null, scale: number): number[] {
  const tol = 1e3 * EPS * Math.max(scale, Number.MIN_VALUE);
  const order: number[] = [];
  const used = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (used[i]) continue;
    used[i] = 1;
    if (Math.abs(li[i]) <= tol) {
      li[i] = 0;
      if (v) realVector(n, v, i);
      order.push(i);
      continue;
    }
    // its partner: the unused eigenvalue nearest the conjugate
    let j = -1;
    for (let k = i + 1; k < n; k++) {
      if (used[k]) continue;
      if (j < 0 || cabs(lr[k] - lr[i], li[k] + li[i]) < cabs(lr[j] - lr[i], li[j] + li[i])) j = k;
    }
    if (j < 0) {
      order.push(i);
      continue;
    }
    used[j] = 1;
    const [p, q] = li[i] > 0 ? [i, j] : [j, i];
    lr[q] = lr[p];
    li[q] = -li[p];
    if (v) {
      for (let r = 0; r < n; r++) {
        v.re[r * n + q] = v.re[r * n + p];
        v.im[r * n + q] = -v.im[r * n + p];
      }
    }
    order.push(p, q);
  }
  return order;
}

/** Column i of v as a real unit vector (the eigenvector of a real eigenvalue of a real matrix), largest entry > 0. */
function realVector(n: number, v: CMat, i: number): void {
  let norm2 = 0;
  let big = 0;
  for (let r = 0; r < n; r++) {
    v.im[r * n + i] = 0;
    norm2 += v.re[r * n + i] ** 2;
    if (Math.abs(v.re[r * n + i]) > Math.abs(v.re[big * n + i])) big = r;
  }
  const f = (v.re[big * n + i] < 0 ? -1 : 1) / Math.sqrt(norm2);
  for (let r = 0; r < n; r++) v.re[r * n + i] *= f;
}

/** PyTorch's checks: at least 2 dims, square, float or complex, a device that reads synchronously, no grad. */
function checkEigInput(A: Tensor, what: string): number {
  if (A.ndim < 2) throw new ShapeError(`${what}: The input tensor A must have at least 2 dimensions.`);
  const n = A.shape[A.ndim - 1];
  if (A.shape[A.ndim - 2] !== n) {
    throw new ShapeError(
      `${what}: A must be batches of square matrices, but they are ${A.shape[A.ndim - 2]} by ${n} matrices`,
    );
  }
  if (!isFloat(A.dtype) && !isComplex(A.dtype)) {
    throw new DTypeError(
      `${what}: Expected a floating point or complex tensor as input. Got ${DTYPE_INFO[A.dtype].torch}`,
    );
  }
  if (needsGrad(A)) throw complexGradError(`${what} (its backward)`);
  return n;
}

/** The eigenvalues (and vectors) as complex tensors of A's precision on A's device. */
function eigImpl(A: Tensor, vectors: boolean, what: string): Tensor[] {
  const n = checkEigInput(A, what);
  if (!A.backend.readSync) {
    throw new DeviceError(
      `${what}() runs on the host and reads A synchronously: use (await A.toAsync("cpu")) first`,
    );
  }
  const dtype = complexDtype(A.dtype); // float32 and complex64 give complex64, float64 and complex128 complex128
  const batch = A.shape.slice(0, -2);
  const [w, v] = eigBatch(A.contiguous(), vectors, what);
  const words = (d: Float64Array) => (dtype === "complex64" ? Float32Array.from(d) : d);
  const out = [tensorFromData(words(w), [...batch, n], dtype, A.device, what)];
  if (vectors) out.push(tensorFromData(words(v), [...batch, n, n], dtype, A.device, what));
  return out;
}

const fn = { forms: ["function"] as const };
const noOut = arg.unsupported("out", null, "out= is not supported");

/** `(eigenvalues, eigenvectors)` of `linalg.eig`. */
export type EigResult = readonly Tensor[] & { readonly eigenvalues: Tensor; readonly eigenvectors: Tensor };

/**
 * `linalg.eig(A, *, out=None)`: the eigenvalues and eigenvectors (columns) of real or complex square matrices, as
 * complex tensors; eigenvectors have unit norm and their largest component real. Order and phases may differ from
 * PyTorch's (see the module comment); no gradient.
 */
export const eig = op(
  signature("linalg.eig", [arg("A", k.tensor)], [noOut], fn),
  ({ A }): EigResult => named(["eigenvalues", "eigenvectors"], eigImpl(A, true, "linalg.eig")) as EigResult,
);

/** `linalg.eigvals(A, *, out=None)`: the eigenvalues of real or complex square matrices (complex). */
export const eigvals = op(
  signature("linalg.eigvals", [arg("A", k.tensor)], [noOut], fn),
  ({ A }): Tensor => eigImpl(A, false, "linalg.eigvals")[0],
);

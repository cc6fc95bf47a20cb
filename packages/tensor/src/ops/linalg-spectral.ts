/**
 * `torch.linalg` decompositions by orthogonal transformations (issue 14): `qr` (Householder, LAPACK's signs),
 * `eigh` / `eigvalsh` (cyclic Jacobi), `svd` / `svdvals` (one-sided Jacobi), `pinv` (by the SVD) and `lstsq` (by
 * `pinv`). Host kernels in float64 over synchronously read inputs (linalg-host.ts), results in the input's dtype on
 * its device.
 *
 * Outputs whose sign is not unique (Q and R's rows, eigenvectors, singular vectors) follow LAPACK's convention for
 * QR only; eigenvectors and singular vectors are normalised only up to sign. Several differentiable outputs are
 * produced as one packed tensor recorded with one backward (PyTorch's formulas: linalg_qr_backward, the hermitian
 * linalg_eig_backward, svd_backward, pinv_backward), and returned as views of it.
 */
import { defaultIntDtype } from "../dtype";
import { ShapeError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { arg, k, op, signature } from "../signature";
import type { Tensor } from "../tensor";
import { eye } from "./creation";
import { where } from "./elementwise";
import { matmul } from "./linalg";
import { inv } from "./linalg-decomp";
import {
  batchCount,
  checkMatrix,
  checkSquare,
  fromF64,
  householderQr,
  jacobiEigh,
  LinAlgError,
  named,
  readF64,
  rotateColumns,
} from "./linalg-host";
import { cat } from "./view";

const noOut = arg.unsupported("out", null, "out= is not supported");
const mT = (t: Tensor): Tensor => t.transpose(-2, -1);
const EPS = { float32: 1.1920928955078125e-7, float64: 2.220446049250313e-16 } as Record<string, number>;

/** Splits a packed [..., sum(sizes)] tensor into pieces reshaped to `shapes` (each without the batch dims). */
function unpack(packed: Tensor, batch: readonly number[], shapes: readonly (readonly number[])[]): Tensor[] {
  let at = 0;
  return shapes.map((s) => {
    const len = s.reduce((p, q) => p * q, 1);
    const piece = packed.narrow(-1, at, len).reshape([...batch, ...s]);
    at += len;
    return piece;
  });
}
const packOf = (ts: readonly Tensor[], batch: readonly number[]): Tensor =>
  cat(
    ts.map((t) => t.reshape([...batch, -1])),
    -1,
  );

// ---- qr ----

type QrMode = "reduced" | "complete" | "r";
/** `(Q, R)` of `linalg.qr`. */
export type QrResult = readonly Tensor[] & { readonly Q: Tensor; readonly R: Tensor };

/** gA of A = QR (A m x n, m >= n, reduced): (gQ + Q N) R^{-T}, N = M with its upper triangle copied down, M = gR R^T - Q^T gQ. */
function qrBackwardTall(gQ: Tensor, gR: Tensor, Q: Tensor, R: Tensor): Tensor {
  const M = matmul(gR, mT(R)).sub(matmul(mT(Q), gQ));
  const N = M.triu().add(mT(M.triu(1)));
  return mT(matmul(inv(R), mT(gQ.add(matmul(Q, N)))));
}

function qrImpl(A: Tensor, mode: QrMode): QrResult {
  const what = "linalg.qr";
  checkMatrix(A, what);
  const m = A.shape[A.ndim - 2];
  const n = A.shape[A.ndim - 1];
  const kk = Math.min(m, n);
  const batch = A.shape.slice(0, -2);
  const B = batchCount(A.shape);
  const complete = mode === "complete";
  const qc = complete ? m : kk;
  const a = readF64(A, what);
  const q = new Float64Array(B * m * qc);
  const r = new Float64Array(B * qc * n);
  for (let b = 0; b < B; b++) {
    const res = householderQr(a.slice(b * m * n, (b + 1) * m * n), m, n, complete);
    q.set(res.q, b * m * qc);
    r.set(res.r, b * qc * n);
  }
  const Qv = fromF64(q, [...batch, m, qc], A);
  const Rv = fromF64(r, [...batch, qc, n], A);
  const Qout = mode === "r" ? fromF64(new Float64Array(0), [0], A) : Qv;
  if (!needsGrad(A)) return named(["Q", "R"], [Qout, Rv]) as QrResult;
  const packed = recordOp({
    name: "LinalgQrBackward0",
    inputs: [A],
    output: packOf([Qv, Rv], batch),
    saved: [A],
    backward: (g) => {
      if (mode === "r") {
        throw new LinAlgError(
          "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.",
        );
      }
      if (complete && m > n) {
        throw new LinAlgError(
          "The QR decomposition is not differentiable when mode='complete' and nrows > ncols.",
        );
      }
      const [gQ, gR] = unpack(g, batch, [
        [m, qc],
        [qc, n],
      ]);
      if (m >= n) return [qrBackwardTall(gQ, gR, Qv, Rv)];
      // A = Q [X | Y]: X = Q R1 (square), Y = Q R2
      const Y = A.narrow(-1, kk, n - kk);
      const gR1 = gR.narrow(-1, 0, kk);
      const gR2 = gR.narrow(-1, kk, n - kk);
      const gX = qrBackwardTall(gQ.add(matmul(Y, mT(gR2))), gR1, Qv, Rv.narrow(-1, 0, kk));
      return [cat([gX, matmul(Qv, gR2)], -1)];
    },
  });
  const [Q, R] = unpack(packed, batch, [
    [m, qc],
    [qc, n],
  ]);
  return named(["Q", "R"], [mode === "r" ? Qout : Q, R]) as QrResult;
}
/**
 * `linalg.qr(A, mode='reduced', *, out=None)`: A = Q R with orthonormal columns in Q and upper-triangular R, by
 * Householder reflections (LAPACK's signs); 'reduced' (Q [m, k], R [k, n], k = min(m, n)), 'complete' (Q [m, m]),
 * 'r' (R only, Q empty)
 */
export const qr = op(
  signature(
    "linalg.qr",
    [arg("A", k.tensor), arg("mode", k.oneOf("reduced", "complete", "r"), "reduced")],
    [noOut],
    { forms: ["function"] },
  ),
  ({ A, mode }): QrResult => qrImpl(A, mode),
);

// ---- eigh ----

/** `(eigenvalues, eigenvectors)` of `linalg.eigh`. */
export type EighResult = readonly Tensor[] & { readonly eigenvalues: Tensor; readonly eigenvectors: Tensor };

function eighHost(A: Tensor, uplo: "L" | "U", what: string): { w: Float64Array; v: Float64Array } {
  const n = checkSquare(A, what);
  const a = readF64(A, what);
  const B = batchCount(A.shape);
  const w = new Float64Array(B * n);
  const v = new Float64Array(B * n * n);
  const one = new Float64Array(n * n);
  const vec = new Float64Array(n * n);
  const vals = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    const off = b * n * n;
    // the symmetric matrix from the chosen triangle
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const lower = uplo === "L" ? i >= j : i <= j;
        one[i * n + j] = lower ? a[off + i * n + j] : a[off + j * n + i];
      }
    }
    jacobiEigh(one, n, vals, vec);
    w.set(vals, b * n);
    v.set(vec, off);
  }
  return { w, v };
}

function eighImpl(A: Tensor, uplo: "L" | "U"): EighResult {
  const what = "linalg.eigh";
  const { w, v } = eighHost(A, uplo, what);
  const n = A.shape[A.ndim - 1];
  const batch = A.shape.slice(0, -2);
  const L = fromF64(w, [...batch, n], A);
  const V = fromF64(v, A.shape, A);
  if (!needsGrad(A)) return named(["eigenvalues", "eigenvectors"], [L, V]) as EighResult;
  const packed = recordOp({
    name: "LinalgEighBackward0",
    inputs: [A],
    output: packOf([L, V], batch),
    saved: [A],
    backward: (g) => {
      const [gL, gV] = unpack(g, batch, [[n], [n, n]]);
      // PyTorch's hermitian linalg_eig_backward: V (diag(gL) + skew(V^T gV) / E) V^T, E_ij = L_j - L_i
      let VtgV = matmul(mT(V), gV);
      VtgV = VtgV.sub(mT(VtgV)).mul(0.5);
      const E = L.unsqueeze(-2).sub(L.unsqueeze(-1));
      const I = eye(n, { dtype: "bool", device: A.device });
      const inner = where(I, gL.diagEmbed(), VtgV.div(where(I, 1, E)));
      return [matmul(matmul(V, inner), mT(V))];
    },
  });
  const [Lp, Vp] = unpack(packed, batch, [[n], [n, n]]);
  return named(["eigenvalues", "eigenvectors"], [Lp, Vp]) as EighResult;
}
const uploArg = arg("uplo", k.oneOf("L", "U"), "L");
/**
 * `linalg.eigh(A, UPLO='L', *, out=None)`: `(eigenvalues, eigenvectors)` of symmetric matrices read from the lower
 * (or upper) triangle: ascending eigenvalues and orthonormal eigenvectors as columns (signs not normalised), by
 * cyclic Jacobi rotations
 */
export const eigh = op(
  signature("linalg.eigh", [arg("A", k.tensor), uploArg], [noOut], { forms: ["function"] }),
  ({ A, uplo }): EighResult => eighImpl(A, uplo),
);
/** `linalg.eigvalsh(A, UPLO='L', *, out=None)`: the ascending eigenvalues of symmetric matrices (`eigh`'s first output) */
export const eigvalsh = op(
  signature("linalg.eigvalsh", [arg("A", k.tensor), uploArg], [noOut], { forms: ["function"] }),
  ({ A, uplo }): Tensor => eighImpl(A, uplo).eigenvalues,
);

// ---- svd ----

/**
 * One-sided Jacobi SVD of the m x n matrix `a` (row-major): U [m, c], S [k] descending, V [n, c] with c = k = min(m, n)
 * or c = m / n (`full`), orthonormal completions where singular values vanish.
 */
function jacobiSvd(
  a: Float64Array,
  m: number,
  n: number,
  full: boolean,
): { u: Float64Array; s: Float64Array; v: Float64Array; uc: number; vc: number } {
  if (m < n) {
    const t = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
    const r = jacobiSvd(t, n, m, full);
    return { u: r.v, s: r.s, v: r.u, uc: r.vc, vc: r.uc };
  }
  // m >= n: orthogonalise the columns of W = A, accumulating V
  const w = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 80; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let al = 0;
        let be = 0;
        let ga = 0;
        for (let i = 0; i < m; i++) {
          const x = w[i * n + p];
          const y = w[i * n + q];
          al += x * x;
          be += y * y;
          ga += x * y;
        }
        if (ga === 0 || Math.abs(ga) <= 1e-15 * Math.sqrt(al * be)) continue;
        rotated = true;
        const zeta = (be - al) / (2 * ga);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotateColumns(w, m, n, p, q, c, s);
        rotateColumns(v, n, n, p, q, c, s);
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += w[i * n + j] * w[i * n + j];
    return Math.sqrt(s);
  });
  const order = norms.map((_, j) => j).sort((x, y) => norms[y] - norms[x]);
  const smax = norms[order[0]] ?? 0;
  const uc = full ? m : n;
  const u = new Float64Array(m * uc);
  const sv = new Float64Array(n);
  const vo = new Float64Array(n * n);
  const filled: boolean[] = new Array(uc).fill(false);
  order.forEach((src, dst) => {
    const s = norms[src];
    sv[dst] = s;
    for (let i = 0; i < n; i++) vo[i * n + dst] = v[i * n + src];
    if (s > smax * 1e-13 && s > 0) {
      for (let i = 0; i < m; i++) u[i * uc + dst] = w[i * n + src] / s;
      filled[dst] = true;
    }
  });
  completeColumns(u, m, uc, filled);
  return { u, s: sv, v: vo, uc, vc: n };
}

/** Fills the columns of q (rows x cols) not marked `filled` with unit vectors orthogonal to all others (Gram-Schmidt). */
function completeColumns(q: Float64Array, rows: number, cols: number, filled: boolean[]): void {
  let basis = 0;
  for (let c = 0; c < cols; c++) {
    if (filled[c]) continue;
    for (; basis < rows; basis++) {
      const x = new Float64Array(rows);
      x[basis] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let o = 0; o < cols; o++) {
          if (!filled[o]) continue;
          let d = 0;
          for (let i = 0; i < rows; i++) d += q[i * cols + o] * x[i];
          for (let i = 0; i < rows; i++) x[i] -= d * q[i * cols + o];
        }
      }
      const nrm = Math.sqrt(x.reduce((p, y) => p + y * y, 0));
      if (nrm > 1e-8) {
        for (let i = 0; i < rows; i++) q[i * cols + c] = x[i] / nrm;
        filled[c] = true;
        basis++;
        break;
      }
    }
  }
}

/** `(U, S, Vh)` of `linalg.svd`. */
export type SvdResult = readonly Tensor[] & { readonly U: Tensor; readonly S: Tensor; readonly Vh: Tensor };

function svdHost(A: Tensor, full: boolean, what: string) {
  checkMatrix(A, what);
  const m = A.shape[A.ndim - 2];
  const n = A.shape[A.ndim - 1];
  const kk = Math.min(m, n);
  const a = readF64(A, what);
  const B = batchCount(A.shape);
  const uc = full ? m : kk;
  const vc = full ? n : kk;
  const U = new Float64Array(B * m * uc);
  const S = new Float64Array(B * kk);
  const Vh = new Float64Array(B * vc * n);
  for (let b = 0; b < B; b++) {
    const r = jacobiSvd(a.subarray(b * m * n, (b + 1) * m * n), m, n, full);
    // r.v is n x r.vc with r.vc >= vc when m < n and full; the reduced one keeps the first kk columns
    const v = r.v;
    const vcols = r.vc;
    let vv = v;
    if (full && vcols < n) {
      vv = new Float64Array(n * n);
      const filled = new Array(n).fill(false);
      for (let i = 0; i < n; i++) for (let c = 0; c < vcols; c++) vv[i * n + c] = v[i * vcols + c];
      for (let c = 0; c < vcols; c++) filled[c] = true;
      completeColumns(vv, n, n, filled);
    }
    const vcc = full && vcols < n ? n : vcols;
    for (let i = 0; i < m; i++) for (let c = 0; c < uc; c++) U[b * m * uc + i * uc + c] = r.u[i * r.uc + c];
    S.set(r.s.subarray(0, kk), b * kk);
    for (let c = 0; c < vc; c++) for (let i = 0; i < n; i++) Vh[b * vc * n + c * n + i] = vv[i * vcc + c];
  }
  return { U, S, Vh, m, n, kk, uc, vc };
}

function svdImpl(A: Tensor, full: boolean): SvdResult {
  const what = "linalg.svd";
  const h = svdHost(A, full, what);
  const batch = A.shape.slice(0, -2);
  const U = fromF64(h.U, [...batch, h.m, h.uc], A);
  const S = fromF64(h.S, [...batch, h.kk], A);
  const Vh = fromF64(h.Vh, [...batch, h.vc, h.n], A);
  if (!needsGrad(A)) return named(["U", "S", "Vh"], [U, S, Vh]) as SvdResult;
  const shapes = [[h.m, h.uc], [h.kk], [h.vc, h.n]];
  const packed = recordOp({
    name: "LinalgSvdBackward0",
    inputs: [A],
    output: packOf([U, S, Vh], batch),
    saved: [A],
    backward: (g) => {
      const [gU, gS, gVh] = unpack(g, batch, shapes);
      if (full && h.m !== h.n) {
        throw new LinAlgError(
          "linalg.svd: The singular vectors in the complete case are not uniquely determined, so the gradient is not defined. Use full_matrices=False.",
        );
      }
      return [svdBackward(gU, gS, mT(gVh), U, S, mT(Vh))];
    },
  });
  const [Up, Sp, Vhp] = unpack(packed, batch, shapes);
  return named(["U", "S", "Vh"], [Up, Sp, Vhp]) as SvdResult;
}

/**
 * PyTorch's svd_backward (real, reduced): U [(skew(U^T gU) S_j + S_i skew(V^T gV)) / E + diag(gS)] V^T
 * + (I - U U^T) gU S^{-1} V^T + U S^{-1} gV^T (I - V V^T), E_ij = S_j^2 - S_i^2, skew(X) = X - X^T.
 */
function svdBackward(gU: Tensor, gS: Tensor, gV: Tensor, U: Tensor, S: Tensor, V: Tensor): Tensor {
  const m = U.shape[U.ndim - 2];
  const n = V.shape[V.ndim - 2];
  const kk = S.shape[S.ndim - 1];
  const skew = (X: Tensor) => X.sub(mT(X));
  const S2 = S.square();
  const I = eye(kk, { dtype: "bool", device: U.device });
  const E = where(I, 1, S2.unsqueeze(-2).sub(S2.unsqueeze(-1)));
  const UtgU = skew(matmul(mT(U), gU));
  const VtgV = skew(matmul(mT(V), gV));
  let gA = UtgU.mul(S.unsqueeze(-2)).add(S.unsqueeze(-1).mul(VtgV)).div(E);
  gA = where(I, gS.diagEmbed(), gA);
  const Sinv = S.unsqueeze(-2);
  let left = matmul(U, gA);
  if (m > kk) {
    const gUSinv = gU.div(Sinv);
    left = left.add(gUSinv.sub(matmul(U, matmul(mT(U), gUSinv))));
  }
  let res = matmul(left, mT(V));
  if (n > kk) {
    const gVSinv = gV.div(Sinv);
    res = res.add(matmul(U, mT(gVSinv.sub(matmul(V, matmul(mT(V), gVSinv))))));
  }
  return res;
}

const driverArg = arg.unsupported("driver", null, "only the default driver is supported");
/**
 * `linalg.svd(A, full_matrices=True, *, driver=None, out=None)`: `(U, S, Vh)` with A = U diag(S) Vh, S descending,
 * by one-sided Jacobi rotations (singular vectors normalised only up to sign); gradients need
 * `fullMatrices=false` (or square A)
 */
export const svd = op(
  signature("linalg.svd", [arg("A", k.tensor), arg("fullMatrices", k.bool, true)], [driverArg, noOut], {
    forms: ["function"],
  }),
  ({ A, fullMatrices }): SvdResult => svdImpl(A, fullMatrices),
);

function svdvalsImpl(A: Tensor): Tensor {
  const h = svdHost(A, false, "linalg.svdvals");
  const batch = A.shape.slice(0, -2);
  const S = fromF64(h.S, [...batch, h.kk], A);
  if (!needsGrad(A)) return S;
  const U = fromF64(h.U, [...batch, h.m, h.uc], A);
  const Vh = fromF64(h.Vh, [...batch, h.vc, h.n], A);
  return recordOp({
    name: "LinalgSvdBackward0",
    inputs: [A],
    output: S,
    saved: [A],
    backward: (g) => [matmul(U.mul(g.unsqueeze(-2)), Vh)],
  });
}
/** `linalg.svdvals(A, *, driver=None, out=None)`: the singular values of A, descending; gradient U diag(g) Vh */
export const svdvals = op(
  signature("linalg.svdvals", [arg("A", k.tensor)], [driverArg, noOut], { forms: ["function"] }),
  ({ A }): Tensor => svdvalsImpl(A),
);

// ---- pinv, lstsq ----

/** PyTorch's pinv_backward, in terms of A and its pseudo-inverse P. */
function pinvBackward(g: Tensor, P: Tensor, A: Tensor): Tensor {
  const m = A.shape[A.ndim - 2];
  const n = A.shape[A.ndim - 1];
  const Ph = mT(P);
  const gh = mT(g);
  if (m <= n) {
    const K = matmul(gh, P);
    const KPh = matmul(K, Ph);
    return mT(matmul(P, K))
      .neg()
      .add(KPh)
      .sub(matmul(matmul(A, P), KPh))
      .add(matmul(matmul(Ph, P), gh.sub(matmul(K, A))));
  }
  const K = matmul(P, gh);
  const PhK = matmul(Ph, K);
  return mT(matmul(K, P))
    .neg()
    .add(matmul(matmul(gh.sub(matmul(A, K)), P), Ph))
    .add(PhK)
    .sub(matmul(matmul(PhK, P), A));
}

function pinvImpl(A: Tensor, atol: number | null, rtol: number | null, hermitian: boolean): Tensor {
  const what = "linalg.pinv";
  checkMatrix(A, what);
  const Af = hermitian ? A.tril().add(mT(A.tril(-1))) : A;
  const h = svdHost(Af, false, what);
  const batch = A.shape.slice(0, -2);
  const { m, n, kk } = h;
  const rt = rtol ?? (atol !== null && atol > 0 ? 0 : (EPS[A.dtype] ?? 0) * Math.max(m, n));
  const p = new Float64Array(batchCount(A.shape) * n * m);
  for (let b = 0; b < batchCount(A.shape); b++) {
    const s = h.S.subarray(b * kk, (b + 1) * kk);
    const cut = Math.max(atol ?? 0, rt * (s[0] ?? 0));
    for (let c = 0; c < kk; c++) {
      if (!(s[c] > cut)) continue;
      const si = 1 / s[c];
      for (let i = 0; i < n; i++) {
        const vic = h.Vh[b * kk * n + c * n + i] * si;
        for (let j = 0; j < m; j++) p[b * n * m + i * m + j] += vic * h.U[b * m * kk + j * kk + c];
      }
    }
  }
  const P = fromF64(p, [...batch, n, m], A);
  if (!needsGrad(A)) return P;
  return recordOp({
    name: "LinalgPinvBackward0",
    inputs: [A],
    output: P,
    saved: [A, P],
    backward: (g) => [pinvBackward(g, P, A)],
  });
}
/**
 * `linalg.pinv(A, *, atol=None, rtol=None, hermitian=False, out=None)`: the Moore-Penrose pseudo-inverse by the SVD,
 * singular values <= max(atol, rtol * largest) treated as 0 (rtol defaults to eps * max(m, n) when atol is not given)
 */
export const pinv = op(
  signature(
    "linalg.pinv",
    [arg("A", k.tensor)],
    [arg.opt("atol", k.float), arg.opt("rtol", k.float), arg("hermitian", k.bool, false), noOut],
    { forms: ["function"] },
  ),
  ({ A, atol, rtol, hermitian }): Tensor => pinvImpl(A, atol, rtol, hermitian),
);

/** `(solution, residuals, rank, singular_values)` of `linalg.lstsq`. */
export type LstsqResult = readonly Tensor[] & {
  readonly solution: Tensor;
  readonly residuals: Tensor;
  readonly rank: Tensor;
  readonly singularValues: Tensor;
};
/**
 * `linalg.lstsq(A, B, rcond=None, *, driver=None)`: the minimum-norm least-squares solution of A X = B (as LAPACK's
 * default gelsy driver), empty residuals and singular values (gelsy computes neither), the ranks (int32); the solution is `pinv(A, rtol=rcond) @ B`, differentiable
 */
export const lstsq = op(
  signature(
    "linalg.lstsq",
    [arg("A", k.tensor), arg("B", k.tensor), arg.opt("rcond", k.float)],
    [arg("driver", k.opt(k.oneOf("gelsy")), null)],
    { forms: ["function"] },
  ),
  ({ A, B, rcond }): LstsqResult => {
    const what = "torch.linalg.lstsq";
    checkMatrix(A, what);
    const m = A.shape[A.ndim - 2];
    const n = A.shape[A.ndim - 1];
    const vector = B.ndim === A.ndim - 1;
    const Bm = vector ? B.unsqueeze(-1) : B;
    if (Bm.shape[Bm.ndim - 2] !== m) {
      throw new ShapeError(
        `${what}: input.size(-2) should match other.size(-2). Got ${m} and ${Bm.shape[Bm.ndim - 2]}`,
      );
    }
    const rt = rcond ?? (EPS[A.dtype] ?? 0) * Math.max(m, n);
    const P = pinvImpl(A, null, rt, false);
    const Xm = matmul(P, Bm);
    const X = vector ? Xm.squeeze(-1) : Xm;
    const s = svdHost(A, false, what);
    const kk = s.kk;
    const B0 = batchCount(A.shape);
    const ranks = new Float64Array(B0);
    for (let b = 0; b < B0; b++) {
      const sv = s.S.subarray(b * kk, (b + 1) * kk);
      ranks[b] = sv.filter((x) => x > rt * (sv[0] ?? 0)).length;
    }
    // as PyTorch 1.13 with gelsy: no residuals (PyTorch computes them only for the other drivers)
    const residuals = fromF64(new Float64Array(0), [0], A);
    return named(
      ["solution", "residuals", "rank", "singularValues"],
      [
        X,
        residuals,
        fromF64(ranks, A.shape.slice(0, -2), A, defaultIntDtype(A.backend)),
        fromF64(new Float64Array(0), [0], A),
      ],
    ) as LstsqResult;
  },
);

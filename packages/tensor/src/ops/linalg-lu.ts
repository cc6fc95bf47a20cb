/**
 * `torch.linalg`'s LU interface (issue 14): `lu` (P, L, U), `luFactorEx` (packed LU, pivots, info) and `luSolve`, for
 * square and rectangular matrices, batched, float32/float64; and det's gradient at singular matrices.
 *
 * The factorization is a partially pivoted LU on the host in float64 (linalg-host.ts: devices with synchronous reads).
 * `lu` and `luFactorEx` record PyTorch's `linalg_lu_backward` (square, wide and tall) on the packed LU, which also
 * covers `lu`'s L and U (the packed LU's strictly lower part is L's, the rest U's). `luSolve` rebuilds A = P L U from the packed LU with tensor ops and solves with `linalg.solve`, so
 * its gradients (for LU and B) are those of its parts. det's gradient is the cofactor matrix: g det A^{-T} where det
 * is nonzero and, when a matrix of the batch is singular, PyTorch's SVD form for the whole batch,
 *   g U diag(prod_{j != i} s_j) Vh det(U) det(Vh).
 */
import { ShapeError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { arg, k, op, overloads, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { eye, ones } from "./creation";
import { matmul } from "./linalg";
import { det, inv, solve } from "./linalg-decomp";
import { batchCount, checkMatrix, fromF64, LinAlgError, named, readF64 } from "./linalg-host";
import { svd } from "./linalg-spectral";
import { cat } from "./view";

const noOut = arg.unsupported("out", null, "out= is not supported");
const pivotOnly = arg.unsupported("pivot", true, "only pivoted LU is supported");
const fn = { forms: ["function"] as const };
const mT = (t: Tensor): Tensor => t.transpose(-2, -1);

interface Factored {
  /** The packed factors [..., m, n] (row-major float64). */
  lu: Float64Array;
  /** 1-based pivots [..., k]. */
  piv: Float64Array;
  /** Per matrix: 0, or the 1-based index of the first zero pivot. */
  info: Float64Array;
}

/** Partially pivoted LU of each m x n matrix of `A` (rows swapped whole, as LAPACK's getrf). */
function factor(A: Tensor, what: string): Factored {
  checkMatrix(A, what);
  const m = A.shape[A.ndim - 2];
  const n = A.shape[A.ndim - 1];
  const kk = Math.min(m, n);
  const a = readF64(A, what);
  const B = batchCount(A.shape);
  const piv = new Float64Array(B * kk);
  const info = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const off = b * m * n;
    for (let j = 0; j < kk; j++) {
      let p = j;
      for (let i = j + 1; i < m; i++) if (Math.abs(a[off + i * n + j]) > Math.abs(a[off + p * n + j])) p = i;
      piv[b * kk + j] = p + 1;
      if (p !== j) {
        for (let c = 0; c < n; c++) {
          const t = a[off + j * n + c];
          a[off + j * n + c] = a[off + p * n + c];
          a[off + p * n + c] = t;
        }
      }
      const d = a[off + j * n + j];
      if (d === 0) {
        if (info[b] === 0) info[b] = j + 1;
        continue;
      }
      for (let i = j + 1; i < m; i++) {
        const f = a[off + i * n + j] / d;
        a[off + i * n + j] = f;
        if (f !== 0) for (let c = j + 1; c < n; c++) a[off + i * n + c] -= f * a[off + j * n + c];
      }
    }
  }
  return { lu: a, piv, info };
}

/** The permutation matrices P (A = P L U) of 1-based pivots [..., k] for m rows, as a float64 buffer [..., m, m]. */
function permutations(piv: Float64Array, batch: number, kk: number, m: number): Float64Array {
  const P = new Float64Array(batch * m * m);
  const rows = new Int32Array(m);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < m; r++) rows[r] = r;
    for (let j = 0; j < kk; j++) {
      const p = piv[b * kk + j] - 1;
      const t = rows[j];
      rows[j] = rows[p];
      rows[p] = t;
    }
    // row r of P^T A is row rows[r] of A: P[rows[r], r] = 1
    for (let r = 0; r < m; r++) P[b * m * m + rows[r] * m + r] = 1;
  }
  return P;
}

/** L (unit lower, [..., m, k]) and U (upper, [..., k, n]) of a packed LU. */
function unpackLU(LU: Tensor): { L: Tensor; U: Tensor } {
  const m = LU.shape[LU.ndim - 2];
  const n = LU.shape[LU.ndim - 1];
  const kk = Math.min(m, n);
  const opts = { dtype: LU.dtype, device: LU.device };
  const L = LU.narrow(-1, 0, kk)
    .tril(-1)
    .add(eye(m, kk, opts));
  const U = LU.narrow(-2, 0, kk).triu();
  return { L, U };
}

/**
 * PyTorch's `linalg_lu_backward` (A = P L U, L [..., m, k], U [..., k, n]) from the packed gradient `g` [..., m, n]:
 * L's gradient is its strictly lower part (first k columns), U's its upper part (first k rows). Square:
 *   P L^{-T} (tril_{-1}(L^T gL) + triu(gU U^T)) U^{-T};
 * wide (m < n, U = [U1 U2]): P L^{-T} [tril_{-1}(L^T gL - gU U^T) U1^{-T} + gU1, gU2];
 * tall (m > n, L = [L1; L2]): P [L1^{-T} triu(gU U^T - L^T gL) + gL1; gL2] U^{-T}.
 */
function luBackward(g: Tensor, P: Tensor, L: Tensor, U: Tensor): Tensor {
  const m = L.shape[L.ndim - 2];
  const n = U.shape[U.ndim - 1];
  const kk = Math.min(m, n);
  const gL = g.narrow(-1, 0, kk).tril(-1);
  const gU = g.narrow(-2, 0, kk).triu();
  let gA: Tensor;
  if (m === n) {
    const phi = matmul(mT(L), gL)
      .tril(-1)
      .add(matmul(gU, mT(U)).triu());
    gA = matmul(matmul(mT(inv(L)), phi), mT(inv(U)));
  } else if (m < n) {
    const X = matmul(
      matmul(mT(L), gL)
        .sub(matmul(gU, mT(U)))
        .tril(-1),
      mT(inv(U.narrow(-1, 0, kk))),
    );
    gA = matmul(mT(inv(L)), cat([X.add(gU.narrow(-1, 0, kk)), gU.narrow(-1, kk, n - kk)], -1));
  } else {
    const X = matmul(
      mT(inv(L.narrow(-2, 0, kk))),
      matmul(gU, mT(U))
        .sub(matmul(mT(L), gL))
        .triu(),
    );
    gA = matmul(cat([X.add(gL.narrow(-2, 0, kk)), gL.narrow(-2, kk, m - kk)], -2), mT(inv(U)));
  }
  return matmul(P, gA);
}

/** The packed LU as a tensor, recording PyTorch's backward. */
function packedLU(A: Tensor, f: Factored, P: Tensor): Tensor {
  const LU = fromF64(f.lu, A.shape, A);
  if (!needsGrad(A)) return LU;
  return recordOp({
    name: "LinalgLuFactorExBackward0",
    inputs: [A],
    output: LU,
    backward: (g) => {
      const { L, U } = unpackLU(LU.detach());
      return [luBackward(g, P, L, U)];
    },
  });
}

/** `(P, L, U)` of `linalg.lu`. */
export type LuResult = readonly Tensor[] & { readonly P: Tensor; readonly L: Tensor; readonly U: Tensor };
/**
 * `linalg.lu(A, *, pivot=True, out=None)`: A = P L U with P a permutation, L unit lower-triangular [..., m, k] and U
 * upper-triangular [..., k, n] (k = min(m, n)), by partial pivoting, with PyTorch's gradient
 */
export const lu = op(
  signature("linalg.lu", [arg("A", k.tensor)], [pivotOnly, noOut], fn),
  ({ A }): LuResult => {
    const what = "linalg.lu";
    const f = factor(A, what);
    const m = A.shape[A.ndim - 2];
    const kk = Math.min(m, A.shape[A.ndim - 1]);
    const batch = A.shape.slice(0, -2);
    const P = fromF64(permutations(f.piv, batchCount(A.shape), kk, m), [...batch, m, m], A);
    const { L, U } = unpackLU(packedLU(A, f, P));
    return named(["P", "L", "U"], [P, L, U]) as LuResult;
  },
);

/** `(LU, pivots, info)` of `linalg.luFactorEx`. */
export type LuFactorExResult = readonly Tensor[] & {
  readonly LU: Tensor;
  readonly pivots: Tensor;
  readonly info: Tensor;
};
/** The packed LU, its 1-based pivots (int32) and info (int32) of each matrix of A, as `lu_factor_ex` returns them. */
export function luFactorImpl(A: Tensor, what: string, checkErrors = false): LuFactorExResult {
  const f = factor(A, what);
  const m = A.shape[A.ndim - 2];
  const kk = Math.min(m, A.shape[A.ndim - 1]);
  const batch = A.shape.slice(0, -2);
  const bad = f.info.findIndex((v) => v > 0);
  if (checkErrors && bad >= 0) {
    throw new LinAlgError(
      `${what}: ${f.info.length > 1 ? `(Batch element ${bad}): ` : ""}U[${f.info[bad]},${f.info[bad]}] is zero and using it on lu_solve would result in a division by zero. If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)`,
    );
  }
  const P = needsGrad(A) ? fromF64(permutations(f.piv, batchCount(A.shape), kk, m), [...batch, m, m], A) : A;
  return named(
    ["LU", "pivots", "info"],
    [packedLU(A, f, P), fromF64(f.piv, [...batch, kk], A, "int32"), fromF64(f.info, batch, A, "int32")],
  ) as LuFactorExResult;
}
/**
 * `linalg.lu_factor_ex(A, *, pivot=True, check_errors=False, out=None)`: the packed LU (as `lu_factor`), 1-based pivots
 * (int32) and `info` (int32: 0, or the 1-based index of the first zero pivot; a `LinAlgError` when `checkErrors`)
 */
export const luFactorEx = op(
  signature(
    "linalg.luFactorEx",
    [arg("A", k.tensor)],
    [pivotOnly, arg("checkErrors", k.bool, false), noOut],
    fn,
  ),
  ({ A, checkErrors }): LuFactorExResult => luFactorImpl(A, "torch.linalg.lu_factor_ex", checkErrors),
);

/** P [..., m, m] from 1-based `pivots` [..., k] (int32, as lu_factor's) for a packed LU [..., m, n], checked. */
function pivotMatrix(LU: Tensor, pivots: Tensor, what: string): Tensor {
  const m = LU.shape[LU.ndim - 2];
  const kk = Math.min(m, LU.shape[LU.ndim - 1]);
  const batch = LU.shape.slice(0, -2);
  if (pivots.dtype !== "int32" || pivots.ndim !== LU.ndim - 1 || pivots.shape[pivots.ndim - 1] !== kk) {
    throw new ShapeError(
      `${what}: pivots must be an int32 tensor of shape [${[...batch, kk]}] (lu_factor's), got ${pivots.dtype} [${pivots.shape}]`,
    );
  }
  const piv = readF64(pivots, what);
  if (piv.some((p) => !(p >= 1 && p <= m && Number.isInteger(p)))) {
    throw new ShapeError(`${what}: pivots must be 1-based row indices in [1, ${m}]`);
  }
  return fromF64(permutations(piv, batchCount(LU.shape), kk, m), [...batch, m, m], LU);
}

/**
 * `linalg.lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None)` (`LU` is the option `lu`, as camelCase
 * cannot start with a capital): X with A X = B (X A = B when `left=False`;
 * A^T when `adjoint`) for A = P L U given by `lu_factor`; gradients for LU and B
 */
export const luSolve = op(
  signature(
    "linalg.luSolve",
    [arg("lu", k.tensor), arg("pivots", k.tensor), arg("B", k.tensor)],
    [arg("left", k.bool, true), arg("adjoint", k.bool, false), noOut],
    fn,
  ),
  ({ lu: LU, pivots, B, left, adjoint }): Tensor => {
    const what = "linalg.lu_solve";
    checkMatrix(LU, what, "LU");
    const n = LU.shape[LU.ndim - 1];
    if (LU.shape[LU.ndim - 2] !== n) {
      throw new ShapeError(
        `${what}: LU must be batches of square matrices, but they are ${LU.shape[LU.ndim - 2]} by ${n} matrices`,
      );
    }
    const P = pivotMatrix(LU, pivots, what);
    const { L, U } = unpackLU(LU);
    const A = matmul(P, matmul(L, U));
    const Aeff = adjoint ? mT(A) : A;
    return left ? solve(Aeff, B) : (solve(Aeff, B, { left: false }) as Tensor);
  },
);

// ---- PyTorch's older LU functions ----

const luArgs = [arg("A", k.tensor), pivotOnly, arg("getInfos", k.bool, false)] as const;
/**
 * `lu(A, pivot=True, get_infos=False, out=None)` / `x.lu(pivot=True, get_infos=False)`: the older `torch.lu`,
 * `[LU, pivots]` (and `infos` when `getInfos`) as `linalg.lu_factor_ex` gives them
 */
export const torchLu = overloads(
  op(
    signature("lu", [...luArgs, arg.unsupported("out", null, "out= is not supported")], [], fn),
    ({ A, getInfos }): Tensor[] => luTuple(A, getInfos),
  ),
  op(
    signature("lu", [self, pivotOnly, arg("getInfos", k.bool, false)], [], { forms: ["method"] as const }),
    ({ input, getInfos }): Tensor[] => luTuple(input, getInfos),
  ),
);
function luTuple(A: Tensor, getInfos: boolean): Tensor[] {
  const { LU, pivots, info } = luFactorImpl(A, "torch.lu");
  return getInfos ? [LU, pivots, info] : [LU, pivots];
}

const luSolveArgs = [self, arg("luData", k.tensor), arg("luPivots", k.tensor)] as const;
/** `lu_solve(input, LU_data, LU_pivots, *, out=None)`: the older `torch.lu_solve`, `linalg.lu_solve(LU_data, LU_pivots, input)` */
export const torchLuSolve = op(
  signature("luSolve", luSolveArgs, [noOut], fn),
  ({ input, luData, luPivots }): Tensor => luSolve(luData, luPivots, input),
);
/** `x.luSolve(LU_data, LU_pivots)` */
export const torchLuSolveMethod = op(
  signature("luSolve", luSolveArgs, [], { forms: ["method"] as const }),
  ({ input, luData, luPivots }): Tensor => luSolve(luData, luPivots, input),
);

/** `(P, L, U)` of `luUnpack`. */
export type LuUnpackResult = readonly Tensor[] & {
  readonly P: Tensor;
  readonly L: Tensor;
  readonly U: Tensor;
};
/**
 * `lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None)`: `(P, L, U)` of a packed LU
 * (`lu_factor`'s); L and U empty without `unpackData`, P empty without `unpackPivots`; differentiable in LU_data
 */
export const luUnpack = op(
  signature(
    "luUnpack",
    [
      arg("luData", k.tensor),
      arg("luPivots", k.tensor),
      arg("unpackData", k.bool, true),
      arg("unpackPivots", k.bool, true),
    ],
    [noOut],
    fn,
  ),
  ({ luData, luPivots, unpackData, unpackPivots }): LuUnpackResult => {
    const what = "torch.lu_unpack";
    checkMatrix(luData, what, "LU_data");
    const empty = () => luData.reshape([-1]).narrow(0, 0, 0);
    const P = unpackPivots ? pivotMatrix(luData, luPivots, what) : empty();
    const { L, U } = unpackData ? unpackLU(luData) : { L: empty(), U: empty() };
    return named(["P", "L", "U"], [P, L, U]) as LuUnpackResult;
  },
);

// ---- det's gradient ----

/** The gradient of det (`y = det(A)`, `g` its gradient): the cofactor matrix times g, at singular matrices too. */
export function detBackward(A: Tensor, y: Tensor, g: Tensor): Tensor {
  const scale = g.mul(y).unsqueeze(-1).unsqueeze(-1);
  const singular = y.numel() > 0 && (y.detach().eq(0).any().item() as boolean);
  if (!singular) return scale.mul(mT(inv(A)));
  const [U, S, Vh] = svd(A, { fullMatrices: false }) as unknown as Tensor[];
  // prod_{j != i} s_j as an exclusive product from each side (exact with zeros, unlike det / s_i)
  const one = ones([...S.shape.slice(0, -1), 1], { dtype: S.dtype, device: S.device });
  const n = S.shape[S.ndim - 1];
  const left = cat([one, S.narrow(-1, 0, n - 1)], -1).cumprod(-1);
  const right = cat([one, S.flip([-1]).narrow(-1, 0, n - 1)], -1)
    .cumprod(-1)
    .flip([-1]);
  const alpha = det(U.detach()).mul(det(Vh.detach())).mul(g).unsqueeze(-1).unsqueeze(-1);
  return matmul(U.mul(left.mul(right).unsqueeze(-2)), Vh).mul(alpha);
}

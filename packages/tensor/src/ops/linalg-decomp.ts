/**
 * `torch.linalg` by LU and Cholesky (issue 14): `det`, `slogdet`, `inv` (+ `torch.inverse`), `solve`, `luFactor`,
 * `cholesky` and `torch.cholesky_solve`, batched over the leading dims, float32/float64 (`luFactor` is linalg-lu.ts's).
 *
 * The factorizations run on the host in float64 over the input read synchronously (linalg-host.ts) and come back as
 * tensors of the input's dtype on its device; a device without synchronous reads gets an error naming
 * `x.toAsync("cpu")`. Each records its own backward, PyTorch's formulas from derivatives.yaml written with tensor ops
 * (and these functions), so double backward works:
 *   det: (g det) A^{-T};  slogdet: g_logabsdet A^{-T};  inv: -A^{-T} g A^{-T};
 *   solve: gB = A^{-T} g, gA = -gB X^T;  cholesky: L^{-T} Phi(L^T gL) L^{-1}, symmetrized.
 * det's gradient is linalg-lu.ts's `detBackward`: PyTorch's SVD form where a matrix is singular.
 */
import { ShapeError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { broadcastShapes } from "../shape";
import { arg, k, op, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { eye, ones } from "./creation";
import { matmul } from "./linalg";
import {
  batchCount,
  checkMatrix,
  checkSquare,
  choleskyInto,
  fromF64,
  LinAlgError,
  luInPlace,
  luSolveInPlace,
  named,
  readF64,
} from "./linalg-host";
import { detBackward, luFactorImpl } from "./linalg-lu";

const noOut = arg.unsupported("out", null, "out= is not supported");
const batchPrefix = (B: number, b: number): string => (B > 1 ? `(Batch element ${b}): ` : "");
const mT = (t: Tensor): Tensor => t.transpose(-2, -1);
const lastTwo = (t: Tensor): Tensor => t.unsqueeze(-1).unsqueeze(-1);

// ---- LU-based: det, slogdet ----

/** [det, sign, logabsdet] of each matrix, by LU. */
function luDets(A: Tensor, what: string): { det: Float64Array; sign: Float64Array; logabs: Float64Array } {
  const n = checkSquare(A, what);
  const a = readF64(A, what);
  const B = batchCount(A.shape);
  const det = new Float64Array(B);
  const sign = new Float64Array(B);
  const logabs = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const off = b * n * n;
    const { sign: s } = luInPlace(a, off, n);
    let d = s;
    let sg = s;
    let la = 0;
    for (let i = 0; i < n; i++) {
      const u = a[off + i * n + i];
      d *= u;
      sg *= Math.sign(u);
      la += Math.log(Math.abs(u));
    }
    det[b] = d;
    sign[b] = sg;
    logabs[b] = sg === 0 ? Number.NEGATIVE_INFINITY : la;
  }
  return { det, sign, logabs };
}

function detImpl(A: Tensor, what: string): Tensor {
  const y = fromF64(luDets(A, what).det, A.shape.slice(0, -2), A);
  if (!needsGrad(A)) return y;
  return recordOp({
    name: "LinalgDetBackward0",
    inputs: [A],
    output: y,
    saved: [A],
    backward: (g) => [detBackward(A, y, g)],
  });
}
/** `linalg.det(A, *, out=None)`: the determinant of each square matrix in A [..., n, n] (by a pivoted LU) */
export const det = op(
  signature("linalg.det", [arg("A", k.tensor)], [noOut], { forms: ["function"] }),
  ({ A }): Tensor => detImpl(A, "linalg.det"),
);
/** `torch.det(input)` / `x.det()`: `linalg.det` */
export const torchDet = op(signature("det", [self]), ({ input }): Tensor => detImpl(input, "linalg.det"));

/** `(sign, logabsdet)` of `linalg.slogdet`. */
export type SlogdetResult = readonly Tensor[] & { readonly sign: Tensor; readonly logabsdet: Tensor };
function slogdetImpl(A: Tensor, what: string): SlogdetResult {
  const r = luDets(A, what);
  const batch = A.shape.slice(0, -2);
  const sign = fromF64(r.sign, batch, A);
  const logabs = fromF64(r.logabs, batch, A);
  const out = !needsGrad(A)
    ? logabs
    : recordOp({
        name: "LinalgSlogdetBackward0",
        inputs: [A],
        output: logabs,
        saved: [A],
        backward: (g) => [lastTwo(g).mul(mT(inv(A)))],
      });
  return named(["sign", "logabsdet"], [sign, out]) as SlogdetResult;
}
/** `linalg.slogdet(A, *, out=None)`: `(sign, logabsdet)` with det = sign * exp(logabsdet); sign 0 and -inf when singular */
export const slogdet = op(
  signature("linalg.slogdet", [arg("A", k.tensor)], [noOut], { forms: ["function"] }),
  ({ A }): SlogdetResult => slogdetImpl(A, "linalg.slogdet"),
);
/** `torch.slogdet(input)` / `x.slogdet()`: `linalg.slogdet` */
export const torchSlogdet = op(
  signature("slogdet", [self]),
  ({ input }): SlogdetResult => slogdetImpl(input, "linalg.slogdet"),
);

// ---- solve, inv ----

/** X with A X = B for A [..., n, n] and B [..., n, k] (batch dims already equal), by LU; throws when singular. */
function luSolve(A: Tensor, Bm: Tensor, what: string, verb: string): Float64Array {
  const n = A.shape[A.ndim - 1];
  const kk = Bm.shape[Bm.ndim - 1];
  const a = readF64(A, what);
  const x = readF64(Bm, what);
  const B = batchCount(A.shape);
  for (let b = 0; b < B; b++) {
    const { piv, zeroAt } = luInPlace(a, b * n * n, n);
    if (zeroAt >= 0 && verb === "solve") {
      throw new LinAlgError(
        `${what}: ${batchPrefix(B, b)}The solver failed because the input matrix is singular.`,
      );
    }
    if (zeroAt >= 0) {
      throw new LinAlgError(
        `${what}: ${batchPrefix(B, b)}The diagonal element ${zeroAt + 1} is zero, the ${verb} could not be completed because the input matrix is singular.`,
      );
    }
    luSolveInPlace(a, b * n * n, n, piv, x, b * n * kk, kk);
  }
  return x;
}

function invImpl(A: Tensor, what: string): Tensor {
  const n = checkSquare(A, what);
  const I = eye(n, { dtype: A.dtype, device: A.device }).expand(A.shape);
  const y = fromF64(luSolve(A, I, what, "inversion"), A.shape, A);
  if (!needsGrad(A)) return y;
  return recordOp({
    name: "LinalgInvExBackward0",
    inputs: [A],
    output: y,
    saved: [A],
    backward: (g) => {
      const yT = mT(y);
      return [matmul(matmul(yT, g), yT).neg()];
    },
  });
}
/** `linalg.inv(A, *, out=None)`: the inverse of each square matrix; throws a `LinAlgError` for a singular one */
export const inv = op(
  signature("linalg.inv", [arg("A", k.tensor)], [noOut], { forms: ["function"] }),
  ({ A }): Tensor => invImpl(A, "linalg.inv"),
);
/** `torch.inverse(input, *, out=None)` / `x.inverse()`: `linalg.inv` */
export const inverse = op(
  signature("inverse", [self], [noOut], { forms: ["function"] }),
  ({ input }): Tensor => invImpl(input, "linalg.inv"),
);
/** `x.inverse()`: `linalg.inv` */
export const inverseMethod = op(
  signature("inverse", [self], [], { forms: ["method"] }),
  ({ input }): Tensor => invImpl(input, "linalg.inv"),
);

function solveLeft(A: Tensor, B: Tensor, what: string): Tensor {
  const n = checkSquare(A, what);
  checkMatrix(B, what, "B");
  if (A.dtype !== B.dtype) {
    throw new ShapeError(
      `${what}: Expected A and B to have the same dtype, but found A of type ${A.dtype} and B of type ${B.dtype} instead`,
    );
  }
  if (B.shape[B.ndim - 2] !== n) {
    throw new ShapeError(
      `linalg.solve: Incompatible shapes of A and B for the equation AX = B (${n}x${n} and ${B.shape[B.ndim - 2]}x${B.shape[B.ndim - 1]})`,
    );
  }
  const batch = broadcastShapes(A.shape.slice(0, -2), B.shape.slice(0, -2), what);
  const Ab = A.expand([...batch, n, n]);
  const Bb = B.expand([...batch, n, B.shape[B.ndim - 1]]);
  const X = fromF64(luSolve(Ab, Bb, what, "solve"), Bb.shape, A);
  if (!needsGrad(A, B)) return X;
  return recordOp({
    name: "LinalgSolveExBackward0",
    inputs: [A, B],
    output: X,
    saved: [A, X],
    backward: (g) => {
      const gB = solveLeft(mT(A), g, what);
      return [A.requiresGrad ? matmul(gB, mT(X)).neg() : null, gB];
    },
  });
}

function solveImpl(A: Tensor, B: Tensor, left: boolean): Tensor {
  const what = "torch.linalg.solve";
  checkSquare(A, what);
  // PyTorch: B is a (batch of) vector(s) when 1-D or when its shape is A's without the last dim
  const vector = B.ndim === 1 || (B.ndim === A.ndim - 1 && B.shape.every((s, i) => s === A.shape[i]));
  if (vector) {
    // PyTorch reads a vector B as a column, which X A = B cannot take
    const n = A.shape[A.ndim - 1];
    if (!left)
      throw new ShapeError(
        `${what}: Incompatible shapes of A and B for the equation XA = B (${n}x${n} and ${B.shape[B.ndim - 1]}x1); a vector B needs left=true`,
      );
    return solveLeft(A, B.unsqueeze(-1), what).squeeze(-1);
  }
  return left ? solveLeft(A, B, what) : mT(solveLeft(mT(A), mT(B), what));
}
/**
 * `linalg.solve(A, B, *, left=True, out=None)`: X with A X = B (X A = B when `left=False`), batch dims broadcast;
 * B may be a vector (or batch of vectors); throws a `LinAlgError` when A is singular
 */
export const solve = op(
  signature("linalg.solve", [arg("A", k.tensor), arg("B", k.tensor)], [arg("left", k.bool, true), noOut], {
    forms: ["function"],
  }),
  ({ A, B, left }): Tensor => solveImpl(A, B, left),
);

/** `(LU, pivots)` of `linalg.luFactor`. */
export type LuFactorResult = readonly Tensor[] & { readonly LU: Tensor; readonly pivots: Tensor };
/**
 * `linalg.lu_factor(A, *, pivot=True, out=None)`: the partially pivoted LU of (batches of) matrices packed as PyTorch's
 * (unit-lower L below the diagonal, U on and above) and the 1-based pivots (int32 for PyTorch's int32), with
 * PyTorch's gradient (linalg-lu.ts); a zero pivot is a `LinAlgError`, as PyTorch's
 */
export const luFactor = op(
  signature(
    "linalg.luFactor",
    [arg("A", k.tensor)],
    [arg.unsupported("pivot", true, "only pivoted LU is supported"), noOut],
    { forms: ["function"] },
  ),
  ({ A }): LuFactorResult => {
    const { LU, pivots } = luFactorImpl(A, "torch.linalg.lu_factor", true);
    return named(["LU", "pivots"], [LU, pivots]) as LuFactorResult;
  },
);

// ---- cholesky ----

function choleskyImpl(A: Tensor, upper: boolean, what: string): Tensor {
  const n = checkSquare(A, what);
  const a = readF64(A, what);
  const B = batchCount(A.shape);
  const l = new Float64Array(a.length);
  for (let b = 0; b < B; b++) {
    const order = choleskyInto(a, b * n * n, n, l);
    if (order > 0) {
      throw new LinAlgError(
        `${what}: ${batchPrefix(B, b)}The factorization could not be completed because the input is not positive-definite (the leading minor of order ${order} is not positive-definite).`,
      );
    }
  }
  const L = fromF64(l, A.shape, A);
  const y = upper ? mT(L).contiguous() : L;
  if (!needsGrad(A)) return y;
  return recordOp({
    name: "LinalgCholeskyExBackward0",
    inputs: [A],
    output: y,
    saved: [y],
    backward: (g) => {
      const Lo = upper ? mT(y) : y;
      const gL = upper ? mT(g) : g;
      const Linv = inv(Lo);
      // Phi(L^T gL): the lower triangle with the diagonal halved
      const half = ones([n, n], { dtype: A.dtype, device: A.device })
        .tril()
        .sub(eye(n, { dtype: A.dtype, device: A.device }).mul(0.5));
      const phi = matmul(mT(Lo), gL).mul(half);
      const gA = matmul(matmul(mT(Linv), phi), Linv);
      return [gA.add(mT(gA)).mul(0.5)];
    },
  });
}
/**
 * `linalg.cholesky(A, *, upper=False, out=None)`: L lower-triangular with A = L L^T (U = L^T when `upper`), reading
 * A's lower triangle; throws a `LinAlgError` when A is not positive-definite
 */
export const cholesky = op(
  signature("linalg.cholesky", [arg("A", k.tensor)], [arg("upper", k.bool, false), noOut], {
    forms: ["function"],
  }),
  ({ A, upper }): Tensor => choleskyImpl(A, upper, "linalg.cholesky"),
);
/** `x.cholesky(upper=False)` (PyTorch's deprecated `torch.cholesky`): `linalg.cholesky` */
export const choleskyMethod = op(
  signature("cholesky", [self, arg("upper", k.bool, false)], [], { forms: ["method"] }),
  ({ input, upper }): Tensor => choleskyImpl(input, upper, "linalg.cholesky"),
);

function choleskySolveImpl(B: Tensor, L: Tensor, upper: boolean): Tensor {
  const what = "torch.cholesky_solve";
  checkSquare(L, what, "input2");
  checkMatrix(B, what, "input");
  // A = L L^T (U^T U): X = A^{-1} B, composed of solve so autograd follows it
  const A = upper ? matmul(mT(L), L) : matmul(L, mT(L));
  return solveLeft(A, B, what);
}
/**
 * `cholesky_solve(input, input2, upper=False, *, out=None)`: X with A X = input where A = L L^T from its Cholesky
 * factor `input2` (U^T U when `upper`)
 */
export const choleskySolve = op(
  signature("choleskySolve", [self, arg("input2", k.tensor), arg("upper", k.bool, false)], [noOut], {
    forms: ["function"],
  }),
  ({ input, input2, upper }): Tensor => choleskySolveImpl(input, input2, upper),
);
/** `x.choleskySolve(input2, upper=False)` */
export const choleskySolveMethod = op(
  signature("choleskySolve", [self, arg("input2", k.tensor), arg("upper", k.bool, false)], [], {
    forms: ["method"],
  }),
  ({ input, input2, upper }): Tensor => choleskySolveImpl(input, input2, upper),
);

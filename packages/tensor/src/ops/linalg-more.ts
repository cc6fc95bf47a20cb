/**
 * The rest of `torch.linalg`'s matrix functions (issue 14): `matrixPower`, `matrixExp`, `multiDot`, `matrixRank`,
 * `cond`, `vander`, `vecdot`, `tensorinv`, `tensorsolve`, `householderProduct` (+ `torch.orgqr`), and the torch-level
 * `matrixPower` / `matrixExp` / `vander`. Each is a composite of tensor ops and the existing decompositions (matmul,
 * inv, solve, svdvals, eigvalsh, the norms), so it runs wherever its parts do and takes its gradient from them (the
 * decompositions run on the host: devices with synchronous reads); `solveTriangular` is a host substitution with
 * PyTorch's gradient. Real dtypes only (`eig` / `eigvals`, complex results, are in linalg-eig.ts).
 */
import { DTypeError, ShapeError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { broadcastShapes } from "../shape";
import { ArgumentError, arg, k, op, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { eye, ones, zeros } from "./creation";
import { computeDtype, where } from "./elementwise";
import { matmul } from "./linalg";
import { det, inv, solve } from "./linalg-decomp";
import { batchCount, checkFloat, checkMatrix, checkSquare, fromF64, readF64 } from "./linalg-host";
import { matrixNorm } from "./linalg-norms";
import { eigvalsh, svdvals } from "./linalg-spectral";
import { cumprod } from "./reduce";
import { cat, permute, reshape } from "./view";

const noOut = arg.unsupported("out", null, "out= is not supported");
const fn = { forms: ["function"] as const };
const mT = (t: Tensor): Tensor => t.transpose(-2, -1);
const prod = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);
/** The identity broadcast over A's batch (A: [..., n, n]). */
const identityLike = (A: Tensor, n: number): Tensor =>
  eye(n, { dtype: A.dtype, device: A.device }).expand([...A.shape.slice(0, -2), n, n]);

/** Square matrices of any dtype (matrix_power of integers is allowed), as PyTorch's message. */
function squareSize(A: Tensor, what: string): number {
  const n = A.shape[A.ndim - 1];
  if (A.ndim < 2 || A.shape[A.ndim - 2] !== n) {
    const dims = A.ndim < 2 ? `a ${A.ndim}-D tensor` : `${A.shape[A.ndim - 2]} by ${n} matrices`;
    throw new ShapeError(`${what}: A must be batches of square matrices, but they are ${dims}`);
  }
  return n;
}

// ---- matrix_power ----

function matrixPowerImpl(A: Tensor, n: number, what: string): Tensor {
  const size = squareSize(A, what);
  if (n === 0) {
    // the identity; as PyTorch's, it depends on A with a zero gradient
    const I = identityLike(A, size).to(A.dtype).clone();
    if (!needsGrad(A)) return I;
    const zero = zeros([...A.shape], { dtype: A.dtype, device: A.device });
    return recordOp({ name: "LinalgMatrixPowerBackward0", inputs: [A], output: I, backward: () => [zero] });
  }
  let base = A;
  if (n < 0) {
    checkFloat(A, what);
    base = inv(A);
  }
  // binary powering: base^|n| with about 2 log2|n| products
  let result: Tensor | null = null;
  for (let e = Math.abs(n); e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = result ? matmul(result, base) : base;
    if (e > 1) base = matmul(base, base);
  }
  return result === A ? A.clone() : (result as Tensor);
}
const powerParams = [arg("A", k.tensor), arg("n", k.int)] as const;
/** `linalg.matrix_power(A, n, *, out=None)`: A^n for square matrices (n < 0: the inverse's power; n = 0: the identity). */
export const matrixPower = op(
  signature("linalg.matrixPower", powerParams, [noOut], fn),
  ({ A, n }): Tensor => matrixPowerImpl(A, n, "linalg.matrix_power"),
);
/** `torch.matrix_power(input, n)` / `x.matrixPower(n)`: `linalg.matrix_power`. */
export const torchMatrixPower = op(
  signature("matrixPower", [self, arg("n", k.int)]),
  ({ input, n }): Tensor => matrixPowerImpl(input, n, "linalg.matrix_power"),
);

// ---- matrix_exp ----

/** Taylor degree for `matrixExp` after scaling to a 1-norm of at most 1/2: the remainder is below 1e-22. */
const EXP_DEGREE = 18;

function matrixExpImpl(A: Tensor): Tensor {
  const what = "linalg.matrix_exp";
  const n = squareSize(A, what);
  checkFloat(A, what);
  if (A.numel() === 0) return A.clone();
  const I = identityLike(A, n);
  // scaling and squaring: exp(A) = exp(A / 2^s)^(2^s) with ||A / 2^s||_1 <= 1/2 (the largest norm of the batch,
  // read from the device), then exp of the scaled matrix by Horner's rule on its Taylor series
  const norm = A.detach().abs().sum(-2).amax().item() as number;
  const s = Number.isFinite(norm) && norm > 0.5 ? Math.min(1000, Math.ceil(Math.log2(norm / 0.5))) : 0;
  const X = s > 0 ? A.div(2 ** s) : A;
  let T = I;
  for (let j = EXP_DEGREE; j >= 1; j--) T = I.add(matmul(X, T).div(j));
  for (let i = 0; i < s; i++) T = matmul(T, T);
  return T;
}
/** `linalg.matrix_exp(A)`: the matrix exponential of each square matrix (scaling and squaring of a Taylor series). */
export const matrixExp = op(
  signature("linalg.matrixExp", [arg("A", k.tensor)], [], fn),
  ({ A }): Tensor => matrixExpImpl(A),
);
/** `torch.matrix_exp(input)` / `x.matrixExp()`: `linalg.matrix_exp`. */
export const torchMatrixExp = op(signature("matrixExp", [self]), ({ input }): Tensor => matrixExpImpl(input));

// ---- multi_dot ----

/** The cheapest parenthesization of a chain of matrices with dims p[0] x p[1], p[1] x p[2], ... (the classic DP). */
function chainOrder(p: readonly number[]): number[][] {
  const m = p.length - 1;
  const cost = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  const split = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  for (let len = 1; len < m; len++) {
    for (let i = 0; i + len < m; i++) {
      const j = i + len;
      cost[i][j] = Number.POSITIVE_INFINITY;
      for (let q = i; q < j; q++) {
        const c = cost[i][q] + cost[q + 1][j] + p[i] * p[q + 1] * p[j + 1];
        if (c < cost[i][j]) {
          cost[i][j] = c;
          split[i][j] = q;
        }
      }
    }
  }
  return split;
}

function multiDotImpl(tensors: readonly Tensor[]): Tensor {
  const what = "multi_dot()";
  const n = tensors.length;
  if (n < 2) throw new ArgumentError(`${what}: expected at least 2 tensors but got ${n}`);
  tensors.forEach((t, i) => {
    const edge = i === 0 ? "first" : i === n - 1 ? "last" : null;
    const ok = edge ? t.ndim === 1 || t.ndim === 2 : t.ndim === 2;
    if (!ok) {
      throw new ShapeError(
        `${what}: ${edge ? `the ${edge} tensor must be 1D or 2D` : `tensor ${i} must be 2D`} but got ${t.ndim}D`,
      );
    }
    if (t.dtype !== tensors[0].dtype) {
      throw new DTypeError(
        `${what}: all tensors must have the same dtype, got ${tensors[0].dtype} and ${t.dtype}`,
      );
    }
  });
  const ms = tensors.map((t, i) => (t.ndim === 2 ? t : i === 0 ? t.unsqueeze(0) : t.unsqueeze(1)));
  for (let i = 1; i < n; i++) {
    if (ms[i - 1].shape[1] !== ms[i].shape[0]) {
      throw new ShapeError(
        `${what}: tensors ${i - 1} and ${i} with shapes [${ms[i - 1].shape}] and [${ms[i].shape}] cannot be multiplied`,
      );
    }
  }
  const split = chainOrder([ms[0].shape[0], ...ms.map((m) => m.shape[1])]);
  const chain = (i: number, j: number): Tensor =>
    i === j ? ms[i] : matmul(chain(i, split[i][j]), chain(split[i][j] + 1, j));
  let r = chain(0, n - 1);
  if (tensors[n - 1].ndim === 1) r = r.squeeze(1);
  if (tensors[0].ndim === 1) r = r.squeeze(0);
  return r;
}
/** `linalg.multi_dot(tensors, *, out=None)`: the product of a chain of matrices in the cheapest order (1-D ends allowed). */
export const multiDot = op(
  signature("linalg.multiDot", [arg("tensors", k.tensors)], [noOut], fn),
  ({ tensors }): Tensor => multiDotImpl(tensors),
);

// ---- matrix_rank, cond ----

const tolKind = k.or(k.tensor, k.float);
const epsOf = (A: Tensor): number => (A.dtype === "float64" ? 2 ** -52 : 2 ** -23);

/**
 * `linalg.matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None)`: the number of singular values (of
 * |eigenvalues| when `hermitian`) above `max(atol, rtol * largest)`; rtol defaults to eps * max(m, n) when neither
 * is given, to 0 when only atol is. int32 (PyTorch's int64).
 */
export const matrixRank = op(
  signature(
    "linalg.matrixRank",
    [arg("A", k.tensor)],
    [arg.opt("atol", tolKind), arg.opt("rtol", tolKind), arg("hermitian", k.bool, false), noOut],
    fn,
  ),
  ({ A, atol, rtol, hermitian }): Tensor => {
    const what = "torch.linalg.matrix_rank";
    if (A.ndim < 2) throw new ShapeError(`${what}: The input tensor A must have at least 2 dimensions.`);
    checkFloat(A, what);
    const S = (hermitian ? eigvalsh(A.detach()).abs() : svdvals(A.detach())) as Tensor;
    const m = Math.max(A.shape[A.ndim - 2], A.shape[A.ndim - 1]);
    const rt = rtol ?? (atol === null ? epsOf(A) * m : 0);
    const big = S.numel() === 0 ? S.sum(-1) : S.amax(-1);
    const lift = (t: number | Tensor) => (typeof t === "number" ? t : t.unsqueeze(-1));
    const tol = big
      .mul(rt)
      .unsqueeze(-1)
      .maximum(lift(atol ?? 0));
    return S.gt(tol).sum(-1); // a count: the device's default integer (PyTorch's int64)
  },
);

const CondP = k.or(k.float, k.oneOf("fro", "nuc"));
/**
 * `linalg.cond(A, p=None, *, out=None)`: the condition number `norm(A, p) * norm(inv(A), p)`; p None, 2, -2 by the
 * singular values (any shape), the others (fro, nuc, inf, -inf, 1, -1) for square matrices, inf where one is singular.
 */
export const cond = op(
  signature("linalg.cond", [arg("A", k.tensor), arg.opt("p", CondP)], [noOut], fn),
  ({ A, p }): Tensor => {
    const what = "linalg.cond";
    if (A.ndim < 2) throw new ShapeError(`${what}: The input tensor A must have at least 2 dimensions.`);
    checkFloat(A, what);
    if (p === null || p === 2 || p === -2) {
      const S = svdvals(A) as Tensor;
      const r = S.select(-1, 0).div(S.select(-1, S.shape[S.ndim - 1] - 1));
      return p === -2 ? r.reciprocal() : r;
    }
    if (![1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, "fro", "nuc"].includes(p)) {
      throw new ArgumentError(`${what}: got an invalid norm type ${p}`);
    }
    const n = checkSquare(A, what);
    const singular = det(A.detach()).eq(0);
    // singular matrices take the identity's inverse (any invertible stand-in), and inf at the end
    const safe = where(singular.unsqueeze(-1).unsqueeze(-1), identityLike(A, n), A);
    const value = (matrixNorm(A, p) as Tensor).mul(matrixNorm(inv(safe), p) as Tensor);
    return where(singular, Number.POSITIVE_INFINITY, value);
  },
);

// ---- vander, vecdot ----

/** [..., n] -> [..., n, N]: the powers 0..N-1 of each element as a running product, as PyTorch's kernel. */
function powers(x: Tensor, N: number): Tensor {
  const one = ones([...x.shape, 1], { dtype: x.dtype, device: x.device });
  if (N <= 1) return N === 0 ? one.narrow(-1, 0, 0) : one;
  return cat([one, cumprod(x.unsqueeze(-1).expand([...x.shape, N - 1]), -1)], -1);
}
function checkN(n: number, least: number, what: string): number {
  if (n < least) {
    throw new ArgumentError(
      `${what}: N must be ${least === 0 ? "non-negative" : "greater than 1"}, got N=${n}`,
    );
  }
  return n;
}
/** `linalg.vander(x, N=None)`: the Vandermonde matrix of x's last dim, columns x^0 .. x^(N-1) (N = x.shape[-1]). */
export const vander = op(
  signature("linalg.vander", [arg("x", k.tensor), arg.opt("N", k.int)], [], fn),
  ({ x, N }): Tensor => {
    if (x.ndim < 1)
      throw new ShapeError("linalg.vander: x must have at least one dimension, got a 0-D tensor");
    if (x.dtype === "bool") throw new DTypeError("linalg.vander: bool tensors are not supported");
    return powers(x, checkN(N ?? x.shape[x.ndim - 1], 2, "linalg.vander"));
  },
);
/** `torch.vander(x, N=None, increasing=False)`: the Vandermonde matrix of a 1-D x, decreasing powers by default. */
export const torchVander = op(
  signature("vander", [arg("x", k.tensor), arg.opt("N", k.int), arg("increasing", k.bool, false)], [], fn),
  ({ x, N, increasing }): Tensor => {
    if (x.ndim !== 1)
      throw new ShapeError(`vander(): x must be a one-dimensional tensor, got ${x.ndim} dims`);
    const v = powers(x, checkN(N ?? x.shape[0], 0, "vander()"));
    return increasing ? v : v.flip([-1]);
  },
);
/** `linalg.vecdot(x, y, *, dim=-1, out=None)`: the dot products of x and y (broadcast) along `dim`. */
export const vecdot = op(
  signature("linalg.vecdot", [arg("x", k.tensor), arg("y", k.tensor)], [arg("dim", k.int, -1), noOut], fn),
  ({ x, y, dim }): Tensor => {
    if (x.dtype !== y.dtype) {
      throw new DTypeError(
        `linalg.vecdot: Expected x and y to have the same dtype, but found x of type ${x.dtype} and y of type ${y.dtype} instead`,
      );
    }
    return x.mul(y).sum(dim);
  },
);

// ---- tensorinv, tensorsolve ----

/** `linalg.tensorinv(A, ind=2, *, out=None)`: the tensor whose tensordot with A over `ind` dims is the identity. */
export const tensorinv = op(
  signature("linalg.tensorinv", [arg("A", k.tensor), arg("ind", k.int, 2)], [noOut], fn),
  ({ A, ind }): Tensor => {
    const what = "linalg.tensorinv";
    if (ind <= 0)
      throw new ArgumentError(`${what}: Expected a strictly positive integer for 'ind', but got ${ind}`);
    const rows = A.shape.slice(0, ind);
    const cols = A.shape.slice(ind);
    if (prod(rows) !== prod(cols)) {
      throw new ShapeError(
        `${what}: Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), but got ${prod(cols)} != ${prod(rows)}`,
      );
    }
    return reshape(inv(reshape(A, [prod(rows), prod(cols)])), [...cols, ...rows]);
  },
);
/** `linalg.tensorsolve(A, B, dims=None, *, out=None)`: X with `tensordot(A, X, X.ndim) = B` (A's `dims` moved last first). */
export const tensorsolve = op(
  signature(
    "linalg.tensorsolve",
    [arg("A", k.tensor), arg("B", k.tensor), arg.opt("dims", k.ints)],
    [noOut],
    fn,
  ),
  ({ A, B, dims }): Tensor => {
    const what = "linalg.tensorsolve";
    let a = A;
    if (dims !== null) {
      const moved = dims.map((d) => (d < 0 ? d + A.ndim : d));
      const rest = A.shape.map((_, i) => i).filter((i) => !moved.includes(i));
      a = permute(A, [...rest, ...moved]);
    }
    const xShape = a.shape.slice(B.ndim);
    const rows = prod(B.shape);
    if (
      a.ndim < B.ndim ||
      a.shape.slice(0, B.ndim).some((d, i) => d !== B.shape[i]) ||
      prod(xShape) !== rows
    ) {
      throw new ShapeError(
        `${what}: Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), but got ${prod(xShape)} != ${rows} (A [${a.shape}], B [${B.shape}])`,
      );
    }
    return reshape(solve(reshape(a, [rows, rows]), reshape(B, [rows])), xShape);
  },
);

// ---- householder_product ----

function householderImpl(A: Tensor, tau: Tensor, what: string): Tensor {
  if (A.ndim < 2) throw new ShapeError(`${what}: input must have at least 2 dimensions.`);
  checkFloat(A, what);
  const m = A.shape[A.ndim - 2];
  const n = A.shape[A.ndim - 1];
  const kk = tau.shape[tau.ndim - 1] ?? 0;
  if (m < n)
    throw new ShapeError(
      `${what}: input.shape[-2] must be greater than or equal to input.shape[-1] (${m} < ${n})`,
    );
  if (tau.ndim !== A.ndim - 1 || kk > n) {
    throw new ShapeError(
      `${what}: input.shape[-1] must be greater than or equal to tau.shape[-1], and tau must have one dim less than input (input [${A.shape}], tau [${tau.shape}])`,
    );
  }
  if (tau.dtype !== A.dtype)
    throw new DTypeError(`${what}: tau dtype ${tau.dtype} does not match input dtype ${A.dtype}`);
  // Q = H_0 ... H_{k-1} applied to the first n columns of the identity, H_i = I - tau_i v_i v_i^T, v_i = column i of
  // A below the diagonal with a 1 on it; applied right to left, each a rank-one update
  const opts = { dtype: A.dtype, device: A.device };
  const row = ones([m], opts).cumsum(0).sub(1).unsqueeze(-1);
  let Q = eye(m, n, opts).expand([...A.shape.slice(0, -2), m, n]);
  for (let i = kk - 1; i >= 0; i--) {
    const v = where(row.gt(i), A.narrow(-1, i, 1), row.eq(i).to(A.dtype)); // [..., m, 1]
    const t = tau.narrow(-1, i, 1).unsqueeze(-1); // [..., 1, 1]
    Q = Q.sub(matmul(v, matmul(mT(v), Q)).mul(t));
  }
  return Q;
}
/** `linalg.householder_product(A, tau, *, out=None)`: the first n columns of the product of the Householder reflectors in A and tau (LAPACK's orgqr). */
export const householderProduct = op(
  signature("linalg.householderProduct", [arg("A", k.tensor), arg("tau", k.tensor)], [noOut], fn),
  ({ A, tau }): Tensor => householderImpl(A, tau, "torch.linalg.householder_product"),
);
/** `torch.orgqr(input, input2)` / `x.orgqr(input2)`: `linalg.householder_product`. */
export const orgqr = op(
  signature("orgqr", [self, arg("input2", k.tensor)]),
  ({ input, input2 }): Tensor => householderImpl(input, input2, "torch.linalg.householder_product"),
);

// ---- solve_triangular ----

/** X with T X = B for each triangular T [n, n] (upper or lower, unit diagonal or not), by substitution on the host. */
function substitute(A: Tensor, B: Tensor, upper: boolean, unit: boolean, what: string): Tensor {
  const n = A.shape[A.ndim - 1];
  const kk = B.shape[B.ndim - 1];
  const a = readF64(A, what);
  const x = readF64(B, what);
  for (let b = 0; b < batchCount(A.shape); b++) {
    const ao = b * n * n;
    const xo = b * n * kk;
    for (let step = 0; step < n; step++) {
      const i = upper ? n - 1 - step : step;
      for (let c = 0; c < kk; c++) {
        let v = x[xo + i * kk + c];
        for (let j = upper ? i + 1 : 0; upper ? j < n : j < i; j++)
          v -= a[ao + i * n + j] * x[xo + j * kk + c];
        x[xo + i * kk + c] = unit ? v : v / a[ao + i * n + i];
      }
    }
  }
  return fromF64(x, B.shape, B);
}

function solveTriangularLeft(A: Tensor, B: Tensor, upper: boolean, unit: boolean, what: string): Tensor {
  const n = checkSquare(A, what);
  checkMatrix(B, what, "B");
  if (B.shape[B.ndim - 2] !== n) {
    throw new ShapeError(
      `${what}: Incompatible shapes of A and B for the equation AX = B (${n}x${n} and ${B.shape[B.ndim - 2]}x${B.shape[B.ndim - 1]})`,
    );
  }
  const batch = broadcastShapes(A.shape.slice(0, -2), B.shape.slice(0, -2), what);
  const dtype = computeDtype(A, B);
  const Ab = A.expand([...batch, n, n]).to(dtype);
  const Bb = B.expand([...batch, n, B.shape[B.ndim - 1]]).to(dtype);
  const X = substitute(Ab, Bb, upper, unit, what);
  if (!needsGrad(A, B)) return X;
  return recordOp({
    name: "LinalgSolveTriangularBackward0",
    inputs: [A, B],
    output: X,
    saved: [A, X],
    backward: (g) => {
      // PyTorch's: gB = T^{-T} g, gA = -(gB X^T) on the triangle read (without the diagonal when unit)
      const gB = solveTriangularLeft(mT(A), g, !upper, unit, what);
      const full = matmul(gB, mT(X)).neg();
      const gA = upper ? full.triu(unit ? 1 : 0) : full.tril(unit ? -1 : 0);
      return [A.requiresGrad ? gA : null, gB];
    },
  });
}
/**
 * `linalg.solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None)`: X with A X = B (X A = B when
 * `left=False`) reading only A's upper or lower triangle (its diagonal taken as 1 when `unitriangular`), batch dims
 * broadcast; a zero on the diagonal gives inf/NaN, as LAPACK's trtrs; on the host, with PyTorch's gradients
 */
export const solveTriangular = op(
  signature(
    "linalg.solveTriangular",
    [arg("A", k.tensor), arg("B", k.tensor)],
    [arg("upper", k.bool), arg("left", k.bool, true), arg("unitriangular", k.bool, false), noOut],
    fn,
  ),
  ({ A, B, upper, left, unitriangular }): Tensor => {
    const what = "linalg.solve_triangular";
    if (left) return solveTriangularLeft(A, B, upper, unitriangular, what);
    // X A = B  <=>  A^T X^T = B^T, with A^T's triangle the other one
    checkMatrix(B, what, "B");
    return mT(solveTriangularLeft(mT(A), mT(B), !upper, unitriangular, what));
  },
);

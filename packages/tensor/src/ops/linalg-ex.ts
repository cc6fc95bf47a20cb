/**
 * `torch.linalg`'s `_ex` variants (issue 14): `invEx`, `solveEx`, `choleskyEx` return the result with an `info` tensor
 * (int32, one per matrix: 0, or where the factorization stopped, as LAPACK's) instead of raising, unless
 * `checkErrors`. Where `info` is nonzero PyTorch's result is not meaningful; Cinder's is NaN there. The rest is
 * `inv` / `solve` / `cholesky` of the matrices that succeeded (the failed ones replaced by the identity), so the
 * gradients are theirs.
 */
import { arg, k, op, signature } from "../signature";
import type { Tensor } from "../tensor";
import { eye } from "./creation";
import { where } from "./elementwise";
import { cholesky, inv, solve } from "./linalg-decomp";
import { batchCount, checkSquare, choleskyInto, fromF64, named, readF64 } from "./linalg-host";
import { luFactorImpl } from "./linalg-lu";

const noOut = arg.unsupported("out", null, "out= is not supported");
const checkErrorsArg = arg("checkErrors", k.bool, false);
const fn = { forms: ["function"] as const };
/** The LU's info of each matrix: 0, or the 1-based index of its first zero pivot. */
const luInfo = (A: Tensor): Tensor => luFactorImpl(A.detach(), "linalg.lu_factor_ex").info;

/** A with its failed matrices (`bad`, over the batch) replaced by the identity, and a function masking results. */
function guarded(A: Tensor, bad: Tensor, n: number) {
  const badM = bad.unsqueeze(-1).unsqueeze(-1);
  const I = eye(n, { dtype: A.dtype, device: A.device });
  return {
    safe: where(badM, I, A),
    /** `y` with NaN on the failed matrices; `vector` for results with one dim per matrix (solve's vector B). */
    mask: (y: Tensor, vector = false) => where(vector ? bad.unsqueeze(-1) : badM, Number.NaN, y),
  };
}

/** `(inverse, info)` of `linalg.invEx`. */
export type InvExResult = readonly Tensor[] & { readonly inverse: Tensor; readonly info: Tensor };
/** `linalg.inv_ex(A, *, check_errors=False, out=None)`: `(inverse, info)`; NaN for a singular matrix (info > 0) */
export const invEx = op(
  signature("linalg.invEx", [arg("A", k.tensor)], [checkErrorsArg, noOut], fn),
  ({ A, checkErrors }): InvExResult => {
    const n = checkSquare(A, "linalg.inv_ex");
    if (checkErrors) return named(["inverse", "info"], [inv(A), luInfo(A)]) as InvExResult;
    const info = luInfo(A);
    const { safe, mask } = guarded(A, info.gt(0), n);
    return named(["inverse", "info"], [mask(inv(safe)), info]) as InvExResult;
  },
);

/** `(result, info)` of `linalg.solveEx`. */
export type SolveExResult = readonly Tensor[] & { readonly result: Tensor; readonly info: Tensor };
/**
 * `linalg.solve_ex(A, B, *, left=True, check_errors=False, out=None)`: `(result, info)` of `linalg.solve`; NaN where A
 * is singular (info > 0)
 */
export const solveEx = op(
  signature(
    "linalg.solveEx",
    [arg("A", k.tensor), arg("B", k.tensor)],
    [arg("left", k.bool, true), checkErrorsArg, noOut],
    fn,
  ),
  ({ A, B, left, checkErrors }): SolveExResult => {
    const n = checkSquare(A, "linalg.solve_ex");
    const info = luInfo(A);
    if (checkErrors) return named(["result", "info"], [solve(A, B, { left }), info]) as SolveExResult;
    const { safe, mask } = guarded(A, info.gt(0), n);
    // linalg.solve's rule: B is a (batch of) vector(s) when 1-D or A's shape without the last dim
    const vector = B.ndim === 1 || (B.ndim === A.ndim - 1 && B.shape.every((s, i) => s === A.shape[i]));
    return named(
      ["result", "info"],
      [mask(solve(safe, B, { left }) as Tensor, vector), info],
    ) as SolveExResult;
  },
);

/** `(L, info)` of `linalg.choleskyEx`. */
export type CholeskyExResult = readonly Tensor[] & { readonly L: Tensor; readonly info: Tensor };
/**
 * `linalg.cholesky_ex(A, *, upper=False, check_errors=False, out=None)`: `(L, info)`; info is the order of the first
 * leading minor that is not positive-definite, and L is NaN there
 */
export const choleskyEx = op(
  signature(
    "linalg.choleskyEx",
    [arg("A", k.tensor)],
    [arg("upper", k.bool, false), checkErrorsArg, noOut],
    fn,
  ),
  ({ A, upper, checkErrors }): CholeskyExResult => {
    const what = "linalg.cholesky_ex";
    const n = checkSquare(A, what);
    const a = readF64(A, what);
    const B = batchCount(A.shape);
    const scratch = new Float64Array(a.length);
    const orders = Float64Array.from({ length: B }, (_, b) => choleskyInto(a, b * n * n, n, scratch));
    const info = fromF64(orders, A.shape.slice(0, -2), A, "int32");
    if (checkErrors) return named(["L", "info"], [cholesky(A, { upper }), info]) as CholeskyExResult;
    const { safe, mask } = guarded(A, info.gt(0), n);
    return named(["L", "info"], [mask(cholesky(safe, { upper })), info]) as CholeskyExResult;
  },
);

/**
 * `linalg.vectorNorm`, `linalg.matrixNorm` and `linalg.norm` (issue 14), with PyTorch 1.13's dispatch.
 *
 * `vectorNorm` is composed of elementwise ops and reductions (so it runs on every backend) and records PyTorch's
 * `norm_backward`, which is 0 where the norm is 0 (the composite's gradient there is NaN). `matrixNorm` composes
 * `vectorNorm` with amax/amin ('fro', 1, -1, inf, -inf) or `svdvals` (2, -2, 'nuc', host-only).
 */
import type { DType } from "../dtype";
import { isComplex, isFloat } from "../dtype";
import { DTypeError, ShapeError } from "../errors";
import { needsGrad, noGrad, recordOp } from "../grad";
import { normDim } from "../shape";
import { ArgumentError, arg, k, op, signature } from "../signature";
import type { Tensor } from "../tensor";
import { where } from "./elementwise";
import { checkMatrix } from "./linalg-host";
import { svdvals } from "./linalg-spectral";

const noOut = arg.unsupported("out", null, "out= is not supported");
type Dims = number | readonly number[] | null;

function dimList(x: Tensor, dim: Dims, what: string): number[] {
  if (dim === null) return x.shape.map((_, i) => i);
  const ds = (typeof dim === "number" ? [dim] : [...dim]).map((d) => normDim(d, Math.max(x.ndim, 1), what));
  return ds;
}

function vectorNormImpl(
  input: Tensor,
  ord: number,
  dim: Dims,
  keepdim: boolean,
  dtype: DType | null,
): Tensor {
  const what = "linalg.vector_norm";
  if (!isFloat(input.dtype) && !isComplex(input.dtype) && dtype === null) {
    throw new DTypeError(`${what}: Expected a floating point or complex tensor as input. Got ${input.dtype}`);
  }
  const x = dtype ? input.to(dtype) : input;
  const dims = dimList(x, dim, what);
  if (!Number.isFinite(ord) && !Number.isNaN(ord) && x.numel() === 0 && ord === Number.POSITIVE_INFINITY) {
    throw new ShapeError(
      `${what}: Expected a non-empty tensor when ord is inf, got shape [${x.shape.join(", ")}]`,
    );
  }
  const ro = { dim: dims, keepdim };
  const norm = noGrad(() => {
    const a = x.abs();
    if (ord === Number.POSITIVE_INFINITY) return a.amax(dims, keepdim);
    if (ord === Number.NEGATIVE_INFINITY) return a.amin(dims, keepdim);
    if (ord === 0) return a.ne(0).to(a.dtype).sum(ro);
    if (ord === 1) return a.sum(ro);
    if (ord === 2) return a.square().sum(ro).sqrt();
    return a
      .pow(ord)
      .sum(ro)
      .pow(1 / ord);
  });
  if (!needsGrad(x)) return norm;
  return recordOp({
    name: "LinalgVectorNormBackward0",
    inputs: [x],
    output: norm,
    saved: [x, norm],
    backward: (g) => {
      // PyTorch's norm_backward: grad and norm with the reduced dims kept
      let gk = g;
      let nk = norm;
      if (!keepdim) {
        for (const d of [...dims].sort((p, q) => p - q)) {
          gk = gk.unsqueeze(d);
          nk = nk.unsqueeze(d);
        }
      }
      if (ord === 0) return [x.mul(0)];
      if (ord === 1) return [x.sign().mul(gk)];
      if (ord === 2) return [x.mul(where(nk.eq(0), 0, gk.div(nk)))];
      if (!Number.isFinite(ord)) {
        const ax = x.abs();
        const mask = ax.eq(nk).logicalOr(ax.isnan()).to(x.dtype);
        return [x.sign().mul(gk.div(mask.sum(dims, true)).mul(mask))];
      }
      const scale = where(nk.eq(0), 0, gk.div(nk.pow(ord - 1)));
      if (ord < 2)
        return [
          x
            .sign()
            .mul(x.abs().pow(ord - 1))
            .mul(scale),
        ];
      return [x.mul(x.abs().pow(ord - 2)).mul(scale)];
    },
  });
}

const ordFloat = k.float;
/**
 * `linalg.vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None)`: the vector `ord`-norm over `dim`
 * (every element when None): sum(|x|^ord)^(1/ord), max |x| for inf, min |x| for -inf, the count of non-zeros for 0
 */
export const vectorNorm = op(
  signature(
    "linalg.vectorNorm",
    [arg("x", k.tensor), arg("ord", ordFloat, 2), arg.opt("dim", k.intOrInts), arg("keepdim", k.bool, false)],
    [arg.opt("dtype", k.dtype), noOut],
    { forms: ["function"] },
  ),
  ({ x, ord, dim, keepdim, dtype }): Tensor => vectorNormImpl(x, ord, dim, keepdim, dtype),
);

type MatrixOrd = number | "fro" | "nuc";
function matrixNormImpl(
  input: Tensor,
  ord: MatrixOrd,
  dim: readonly number[],
  keepdim: boolean,
  dtype: DType | null,
): Tensor {
  const what = "linalg.matrix_norm";
  checkMatrix(dtype ? input.to(dtype) : input, what);
  if (dim.length !== 2) throw new ArgumentError(`${what}: dim must be a 2-tuple. Got ${dim.join(" ")}`);
  const [d0, d1] = dim.map((d) => normDim(d, input.ndim, what));
  if (d0 === d1) throw new ArgumentError(`${what}: dims must be different. Got (${dim[0]}, ${dim[1]})`);
  const A = dtype ? input.to(dtype) : input;
  if (ord === "fro") return vectorNormImpl(A, 2, [d0, d1], keepdim, null);
  if (ord === "nuc" || Math.abs(ord) === 2) {
    const rest = A.shape.map((_, i) => i).filter((i) => i !== d0 && i !== d1);
    const s = svdvals(A.permute([...rest, d0, d1]));
    let r = ord === "nuc" ? s.sum(-1) : ord > 0 ? s.amax(-1) : s.amin(-1);
    if (keepdim) for (const d of [d0, d1].sort((p, q) => p - q)) r = r.unsqueeze(d);
    return r;
  }
  if (![1, -1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].includes(ord)) {
    throw new ArgumentError(`${what}: Order ${ord} not supported.`);
  }
  let [a, b] = [d0, d1];
  if (Math.abs(ord) === Number.POSITIVE_INFINITY) [a, b] = [b, a];
  if (!keepdim && a < b) b--;
  const v = vectorNormImpl(A, 1, [a], keepdim, null);
  return ord > 0 ? v.amax(b, keepdim) : v.amin(b, keepdim);
}
const matrixOrd = k.or(k.float, k.oneOf("fro", "nuc"));
/**
 * `linalg.matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None, out=None)`: the matrix norm over the
 * two dims `dim`: 'fro', 'nuc' (sum of singular values), inf / -inf (max / min row abs-sum), 1 / -1 (columns), 2 / -2
 * (largest / smallest singular value)
 */
export const matrixNorm = op(
  signature(
    "linalg.matrixNorm",
    [
      arg("A", k.tensor),
      arg("ord", matrixOrd, "fro"),
      arg("dim", k.ints, [-2, -1]),
      arg("keepdim", k.bool, false),
    ],
    [arg.opt("dtype", k.dtype), noOut],
    { forms: ["function"] },
  ),
  ({ A, ord, dim, keepdim, dtype }): Tensor => matrixNormImpl(A, ord, dim, keepdim, dtype),
);

/**
 * `linalg.norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None)`: `vectorNorm` when `dim` is one dim
 * (or when both are None, over the flattened input, or for a 1-D input), `matrixNorm` when `dim` has two dims (or
 * for a 2-D input with `ord` given), as PyTorch dispatches
 */
export const norm = op(
  signature(
    "linalg.norm",
    [
      arg("A", k.tensor),
      arg.opt("ord", matrixOrd),
      arg.opt("dim", k.intOrInts),
      arg("keepdim", k.bool, false),
    ],
    [noOut, arg.opt("dtype", k.dtype)],
    { forms: ["function"] },
  ),
  ({ A, ord, dim, keepdim, dtype }): Tensor => {
    const what = "linalg.norm";
    if (dim !== null) {
      const ds = typeof dim === "number" ? [dim] : [...dim];
      if (ds.length === 1) {
        if (typeof ord === "string") {
          throw new ArgumentError(
            `${what}: If dim is specified, it must be of length 2 when ord is a string. Got ${ds.length}`,
          );
        }
        return vectorNormImpl(A, ord ?? 2, ds, keepdim, dtype);
      }
      if (ds.length === 2) return matrixNormImpl(A, ord ?? "fro", ds, keepdim, dtype);
      throw new ArgumentError(
        `${what}: If dim is specified, it mut be of length 1 or 2. Got [${ds.join(", ")}]`,
      );
    }
    if (ord === null) return vectorNormImpl(A, 2, null, keepdim, dtype);
    if (A.ndim === 1 && typeof ord === "number") return vectorNormImpl(A, ord, null, keepdim, dtype);
    if (A.ndim === 2) return matrixNormImpl(A, ord, [-2, -1], keepdim, dtype);
    throw new ArgumentError(
      `${what}: If dim is not specified but ord is, the input must be 1D or 2D. Got ${A.ndim}D.`,
    );
  },
);

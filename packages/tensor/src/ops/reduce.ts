/** Reductions, scans and softmax. Each records its own autograd node (SumBackward0, MeanBackward1, ...). */

import type { ArgReduceOp, ReduceOp, ScanOp } from "../backend";
import type { DType } from "../dtype";
import { defaultIntDtype, isComplex, isFloat } from "../dtype";
import { DTypeError, fmtShape, IndexError } from "../errors";
import { fuses, isWholePending, ProgramBuilder, runNow } from "../fusion";
import { needsGrad, noGrad as noRecord, recordOp } from "../grad";
import { checkHalfKernel, isHalf } from "../half";
import { normDim, normDims, numel } from "../shape";
import { arg, k, op, overloads, self, signature } from "../signature";
import { Tensor } from "../tensor";
import { complexUnsupported } from "./complex";
import { full, zerosLike } from "./creation";
import { binary as binaryOp } from "./elementwise";
import { cast, empty, output } from "./kernels";
import {
  amaxAminBackward,
  checkIntReduction,
  checkIntScan,
  cumprodBackwardFn,
  cumsumBackward,
  extremumAllBackward,
  extremumDimBackward,
  logsumexpBackward,
  prodBackwardFn,
  softmaxBackward,
  sumBackward,
  unsqueezeGrad,
  varBackward,
} from "./reduce-grad";

/** Options of reductions: the dims to reduce and whether to keep them (size 1). */
export interface ReduceOptions {
  /** One dim or several; omitted = all dims. */
  dim?: number | readonly number[];
  keepdim?: boolean;
}

// the parameters most reductions share, declared once
const dimOpt = arg.opt("dim", k.intOrInts);
const keepdimArg = arg("keepdim", k.bool, false);
const dtypeOpt = arg.opt("dtype", k.dtype);

/** Reduced dims (sorted) and whether every dim is reduced. */
function dimsOf(x: Tensor, dim: ReduceOptions["dim"], what: string): number[] {
  if (dim === undefined || (Array.isArray(dim) && dim.length === 0)) return x.shape.map((_, i) => i);
  return normDims(dim, x.ndim, what);
}

function keptShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

function droppedShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.filter((_, i) => !dims.includes(i));
}

/** The same storage seen with the reduced dims dropped (out is contiguous, so this is a free view). */
function squeezeDims(t: Tensor, dims: readonly number[], keepdim: boolean): Tensor {
  if (keepdim || dims.length === 0) return t;
  return new Tensor(t.storage, droppedShape(t.shape, dims));
}

export function reduceKernel(
  op: ReduceOp,
  x: Tensor,
  dims: number[],
  keepdim: boolean,
  dtype: DType,
): Tensor {
  // complex numbers have no order: PyTorch refuses max/min (and what is built on them) for them
  if (isComplex(x.dtype) && op !== "sum" && op !== "prod") throw complexUnsupported(op, x.dtype);
  const src = cast(x, op === "sum" || op === "prod" ? dtype : x.dtype);
  // a reduction of no elements leaves its identity to the zero fill; otherwise every output is written
  const out = (x.numel() > 0 ? output : empty)(keptShape(x.shape, dims), dtype, x);
  if (isWholePending(src) && fuses(x.backend, src.numel())) {
    // the pending chain and the reduction in one pass; `src` itself stays pending (computed if it is ever read)
    const pb = new ProgramBuilder(src.shape);
    runNow(x.backend, pb, pb.operand(src), out.view_, { op, axes: dims, shape: src.shape });
  } else x.backend.reduce(op, src.view_, dims, out.view_);
  return squeezeDims(out, dims, keepdim);
}

/** Bring a reduced gradient back to the input's rank (size-1 reduced dims), ready to broadcast. */

/** sum/prod/cumsum/cumprod's dtype: integers and bool accumulate in the backend's default integer (PyTorch's int64). */
const accDtype = (x: Tensor): DType =>
  isFloat(x.dtype) || isComplex(x.dtype) || x.dtype === "int64" ? x.dtype : defaultIntDtype(x.backend);

/** `sum(input, dim=None, keepdim=False, *, dtype=None)` */
export const sum = op(
  signature("sum", [self, dimOpt, keepdimArg], [dtypeOpt]),
  ({ input, dim, keepdim, dtype }): Tensor => sumImpl(input, dim, keepdim, dtype),
);
function sumImpl(
  x: Tensor,
  dim: number | readonly number[] | null,
  keepdim: boolean,
  dtype: DType | null,
): Tensor {
  const dims = dimsOf(x, dim ?? undefined, "sum");
  if (!isComplex(x.dtype)) checkIntReduction("sum", x, dim, dtype);
  const y = reduceKernel("sum", x, dims, keepdim, dtype ?? accDtype(x));
  if (!needsGrad(x)) return y;
  return recordOp({
    name: dim === null ? "SumBackward0" : "SumBackward1",
    inputs: [x],
    output: y,
    backward: sumBackward(x.shape, dims, keepdim, 1),
  });
}

/** `mean(input, dim=None, keepdim=False, *, dtype=None)` */
export const mean = op(
  signature("mean", [self, dimOpt, keepdimArg], [dtypeOpt]),
  ({ input, dim, keepdim, dtype }): Tensor => meanImpl(input, dim, keepdim, dtype),
);
function meanImpl(
  x: Tensor,
  dim: number | readonly number[] | null,
  keepdim: boolean,
  dt: DType | null,
): Tensor {
  const dtype = dt ?? x.dtype;
  if (!isFloat(dtype) && !isComplex(dtype)) {
    throw new DTypeError(
      `mean(): could not infer output dtype. Input dtype must be a floating point dtype, got ${x.dtype} (use x.float().mean())`,
    );
  }
  const dims = dimsOf(x, dim ?? undefined, "mean");
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const s = reduceKernel("sum", x, dims, keepdim, dtype);
  const y = empty(s.shape, dtype, s);
  x.backend.binary("div", s.view_, scalarView(n, dtype, s).view_, y.view_);
  if (!needsGrad(x)) return y;
  return recordOp({
    name: dim === null ? "MeanBackward0" : "MeanBackward1",
    inputs: [x],
    output: y,
    backward: sumBackward(x.shape, dims, keepdim, n),
  });
}

/** A 0-dim scalar broadcast to `like`'s shape (a free stride-0 view). */
function scalarView(v: number, dtype: DType, like: Tensor): Tensor {
  const s = empty([], dtype, like);
  like.backend.fill(s.view_, v);
  return new Tensor(
    s.storage,
    like.shape,
    like.shape.map(() => 0),
    0,
  );
}

/** `prod(input, dim=None, keepdim=False, *, dtype=None)` (one dim, as PyTorch 1.13) */
export const prod = op(
  signature("prod", [self, arg.opt("dim", k.int), keepdimArg], [dtypeOpt]),
  ({ input, dim, keepdim, dtype }): Tensor => prodImpl(input, dim, keepdim, dtype),
);
function prodImpl(x: Tensor, dim: number | null, keepdim: boolean, dtype: DType | null): Tensor {
  const dims = dimsOf(x, dim ?? undefined, "prod");
  checkHalfKernel("prod", x.dtype);
  if (!isComplex(x.dtype)) checkIntReduction("prod", x, dim, dtype);
  const y = reduceKernel("prod", x, dims, keepdim, dtype ?? accDtype(x));
  if (!needsGrad(x)) return y;
  return recordOp({
    name: dim === null ? "ProdBackward0" : "ProdBackward1",
    inputs: [x],
    output: y,
    saved: [x, y],
    // PyTorch's prod_backward: grad * result / input without zeros, else the product of the others (exact)
    backward: prodBackwardFn(x, y, dim, keepdim),
  });
}

/**
 * PyTorch's named tuple `(values, indices)`: read `.values` / `.indices`, or destructure as
 * `const [values, indices] = x.max(1)`, as `_, pred = torch.max(out, 1)` is written.
 */
export type ValuesIndices = readonly [values: Tensor, indices: Tensor] & {
  readonly values: Tensor;
  readonly indices: Tensor;
};
/** Builds a named tuple `(values, indices)`. */
export function valuesIndices(values: Tensor, indices: Tensor): ValuesIndices {
  return Object.assign([values, indices] as const, { values, indices });
}

function maxMin(
  op: "max" | "min",
  x: Tensor,
  opts?: { dim: number; keepdim: boolean },
): Tensor | ValuesIndices {
  if (opts === undefined) {
    if (x.numel() === 0) {
      throw new IndexError(
        `${op}(): expected reduction dim to be specified for input.numel() == 0 (got shape ${fmtShape(x.shape)})`,
      );
    }
    const dims = x.shape.map((_, i) => i);
    const y = reduceKernel(op, x, dims, false, x.dtype);
    if (!needsGrad(x)) return y;
    return recordOp({
      name: op === "max" ? "MaxBackward1" : "MinBackward1",
      inputs: [x],
      output: y,
      saved: [x],
      // ties share the gradient evenly, as in PyTorch
      backward: extremumAllBackward(x, y),
    });
  }
  const dim = normDim(opts.dim, x.ndim, op);
  const keepdim = opts.keepdim ?? false;
  if (x.shape[dim] === 0) throw new IndexError(`${op}(): cannot reduce over a zero-size dimension ${dim}`);
  const idx = argKernel(op === "max" ? "argmax" : "argmin", x, dim, true);
  const vals = empty(idx.shape, x.dtype, x);
  x.backend.gather(x.view_, dim, idx.view_, vals.view_);
  const values = squeezeDims(vals, [dim], keepdim);
  const indices = squeezeDims(idx, [dim], keepdim);
  if (!needsGrad(x)) return valuesIndices(values, indices);
  recordOp({
    name: op === "max" ? "MaxBackward0" : "MinBackward0",
    inputs: [x],
    output: values,
    backward: extremumDimBackward(x, idx, dim, keepdim),
  });
  return valuesIndices(values, indices);
}

/** `max(input)`, `max(input, dim, keepdim=False)` -> (values, indices), `max(input, other)` (elementwise) */
export const max = overloads(
  op(signature("max", [self]), ({ input }): Tensor => maxMin("max", input) as Tensor),
  op(
    signature("max", [self, arg("dim", k.int), keepdimArg]),
    ({ input, dim, keepdim }): ValuesIndices => maxMin("max", input, { dim, keepdim }) as ValuesIndices,
  ),
  op(
    signature("max", [self, arg("other", k.tensor)]),
    ({ input, other }): Tensor => binaryOp("maximum", input, other),
  ),
);
/** `min(input)`, `min(input, dim, keepdim=False)` -> (values, indices), `min(input, other)` (elementwise) */
export const min = overloads(
  op(signature("min", [self]), ({ input }): Tensor => maxMin("min", input) as Tensor),
  op(
    signature("min", [self, arg("dim", k.int), keepdimArg]),
    ({ input, dim, keepdim }): ValuesIndices => maxMin("min", input, { dim, keepdim }) as ValuesIndices,
  ),
  op(
    signature("min", [self, arg("other", k.tensor)]),
    ({ input, other }): Tensor => binaryOp("minimum", input, other),
  ),
);

function argKernel(op: ArgReduceOp, x: Tensor, dim: number, keepdim: boolean): Tensor {
  if (isComplex(x.dtype)) throw complexUnsupported(op, x.dtype);
  // a 0-dim tensor has no axis to hand the backend: run on a 1-element view
  if (x.ndim === 0) {
    return new Tensor(argKernel(op, new Tensor(x.storage, [1], [1], x.offset), 0, true).storage, []);
  }
  const out = empty(keptShape(x.shape, [dim]), defaultIntDtype(x.backend), x);
  x.backend.argReduce(op, x.view_, dim, out.view_);
  return squeezeDims(out, [dim], keepdim);
}

function argOp(op: ArgReduceOp, x: Tensor, opts: { dim: number | null; keepdim: boolean }): Tensor {
  if (opts.dim === null) {
    if (x.numel() === 0)
      throw new IndexError(`${op}(): expected reduction dim to be specified for input.numel() == 0`);
    const flat = x.reshape(-1);
    const r = argKernel(op, flat, 0, false);
    return opts.keepdim ? r.reshape(x.shape.map(() => 1)) : r;
  }
  const dim = normDim(opts.dim, x.ndim, op);
  if (x.shape[dim] === 0) throw new IndexError(`${op}(): cannot reduce over a zero-size dimension ${dim}`);
  return argKernel(op, x, dim, opts.keepdim ?? false);
}

/** `argmax(input, dim=None, keepdim=False)` */
export const argmax = op(
  signature("argmax", [self, arg.opt("dim", k.int), keepdimArg]),
  ({ input, dim, keepdim }): Tensor => argOp("argmax", input, { dim, keepdim }),
);
/** `argmin(input, dim=None, keepdim=False)` */
export const argmin = op(
  signature("argmin", [self, arg.opt("dim", k.int), keepdimArg]),
  ({ input, dim, keepdim }): Tensor => argOp("argmin", input, { dim, keepdim }),
);

/** Options of `var` and `std`: reduction dims and Bessel's correction. */
export interface VarOptions extends ReduceOptions {
  /** Bessel's correction: 1 (default, unbiased) or 0. `unbiased: false` is the same as `correction: 0`. */
  correction?: number;
  unbiased?: boolean;
}

function varImpl(
  x: Tensor,
  opts: { dim: number | readonly number[] | null; keepdim: boolean; correction: number },
  sqrt: boolean,
): Tensor {
  if (!isFloat(x.dtype))
    throw new DTypeError(`${sqrt ? "std" : "var"}(): expected a floating point tensor, got ${x.dtype}`);
  const dims = dimsOf(x, opts.dim ?? undefined, sqrt ? "std" : "var");
  const { keepdim, correction } = opts;
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const denom = Math.max(0, n - correction);
  const { y, centered } = noRecord(() => {
    // a 16-bit float is computed in float32 and rounded once, as PyTorch's CPU (rounding each step would drift)
    const xf = isHalf(x.dtype) ? cast(x, "float32") : x;
    const m = reduceKernel("sum", xf, dims, true, xf.dtype).div(n);
    const c = xf.sub(m);
    const v = reduceKernel("sum", c.mul(c), dims, keepdim, xf.dtype).div(denom);
    return { y: cast(sqrt ? v.sqrt() : v, x.dtype), centered: cast(c, x.dtype) };
  });
  if (!needsGrad(x)) return y;
  return recordOp({
    name: sqrt ? "StdBackward0" : "VarBackward0",
    inputs: [x],
    output: y,
    backward: varBackward(x, y, centered, dims, keepdim, denom, sqrt),
  });
}

/**
 * std/var, PyTorch's three forms: `(input, dim=None, unbiased=True, keepdim=False)`,
 * `(input, dim=None, *, correction=None, keepdim=False)` and `(input, unbiased=True)`.
 */
function varForms(name: "std" | "var") {
  const sqrt = name === "std";
  return overloads(
    op(
      signature(name, [self, dimOpt, arg("unbiased", k.bool, true), keepdimArg]),
      ({ input, dim, unbiased, keepdim }): Tensor =>
        varImpl(input, { dim, keepdim, correction: unbiased ? 1 : 0 }, sqrt),
    ),
    op(
      signature(name, [self, dimOpt], [arg.opt("correction", k.int), keepdimArg]),
      ({ input, dim, correction, keepdim }): Tensor =>
        varImpl(input, { dim, keepdim, correction: correction ?? 1 }, sqrt),
    ),
    op(
      signature(name, [self, arg("unbiased", k.bool, true)]),
      ({ input, unbiased }): Tensor =>
        varImpl(input, { dim: null, keepdim: false, correction: unbiased ? 1 : 0 }, sqrt),
    ),
  );
}
/**
 * `torch.var(input, dim=None, *, correction=1, keepdim=False)` (and the `unbiased` forms): variance over
 * dims.
 */
export const variance = varForms("var");
/**
 * `torch.std(input, dim=None, *, correction=1, keepdim=False)` (and the `unbiased` forms): standard deviation
 * over dims.
 */
export const std = varForms("std");

/** `logsumexp(input, dim, keepdim=False)` */
export const logsumexp = op(
  signature("logsumexp", [self, arg("dim", k.intOrInts), keepdimArg]),
  ({ input, dim, keepdim }): Tensor => logsumexpImpl(input, dim, keepdim),
);
function logsumexpImpl(x: Tensor, dim: number | readonly number[], keepdim: boolean): Tensor {
  if (isComplex(x.dtype)) throw complexUnsupported("logsumexp", x.dtype);
  const xf = isFloat(x.dtype) ? x : x.float();
  const dims = dimsOf(xf, dim, "logsumexp");
  const y = noRecord(() => {
    const m = reduceKernel("max", xf, dims, true, xf.dtype);
    const mSafe = m.maskedFill(m.isinf(), 0);
    const s = reduceKernel("sum", xf.sub(mSafe).exp(), dims, true, xf.dtype).log().add(mSafe);
    return squeezeDims(s.contiguous(), dims, keepdim);
  });
  if (!needsGrad(xf)) return y;
  return recordOp({
    name: "LogsumexpBackward0",
    inputs: [xf],
    output: y,
    saved: [xf],
    backward: logsumexpBackward(xf, y, dims, keepdim),
  });
}

const normP = arg("p", k.or(k.float, k.oneOf("fro")), "fro");
/** `torch.norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None)` */
export const norm = op(
  signature(
    "norm",
    [self, normP, dimOpt, keepdimArg, arg.unsupported("out", null, "out= is not supported"), dtypeOpt],
    [],
    {
      forms: ["function"],
    },
  ),
  (a): Tensor => normImpl(a.input, a.p, a.dim, a.keepdim, a.dtype),
);
/** `x.norm(p="fro", dim=None, keepdim=False, dtype=None)` */
export const normMethod = op(
  signature("norm", [self, normP, dimOpt, keepdimArg, dtypeOpt], [], { forms: ["method"] }),
  (a): Tensor => normImpl(a.input, a.p, a.dim, a.keepdim, a.dtype),
);
/** Vector p-norm over `dim` (all elements by default); composite, so autograd follows its parts. */
function normImpl(
  input: Tensor,
  pArg: number | "fro",
  dim: number | readonly number[] | null,
  keepdim: boolean,
  dtype: DType | null,
): Tensor {
  const x = dtype ? input.to(dtype) : input;
  const p = pArg === "fro" ? 2 : pArg;
  const ro = { dim, keepdim };
  const a = x.abs();
  if (p === Number.POSITIVE_INFINITY) return amaxAmin("max", a, dim ?? [], keepdim);
  if (p === Number.NEGATIVE_INFINITY) return amaxAmin("min", a, dim ?? [], keepdim);
  // p = 0: the count of non-zeros (no gradient flows, as in PyTorch)
  if (p === 0) return a.ne(0).to(a.dtype).sum(ro);
  if (p === 1) return a.sum(ro);
  if (p === 2) return a.square().sum(ro).sqrt();
  return a
    .pow(p)
    .sum(ro)
    .pow(1 / p);
}

/** `amax(input, dim=[], keepdim=False)`: max over dims without indices; gradient shared evenly among ties. */
export const amax = op(
  signature("amax", [self, arg("dim", k.intOrInts, []), keepdimArg]),
  (a): Tensor => amaxAmin("max", a.input, a.dim, a.keepdim),
);
/** `amin(input, dim=[], keepdim=False)` */
export const amin = op(
  signature("amin", [self, arg("dim", k.intOrInts, []), keepdimArg]),
  (a): Tensor => amaxAmin("min", a.input, a.dim, a.keepdim),
);
function amaxAmin(
  which: "max" | "min",
  x: Tensor,
  dim: number | readonly number[],
  keepdim: boolean,
): Tensor {
  const dims = dimsOf(x, dim, `a${which}`);
  const emptyDim = dims.find((d) => x.shape[d] === 0);
  if (emptyDim !== undefined) {
    throw new IndexError(
      `a${which}(): Expected reduction dim ${emptyDim} to have non-zero size (got shape ${fmtShape(x.shape)})`,
    );
  }
  const y = reduceKernel(which, x, dims, keepdim, x.dtype);
  if (!needsGrad(x)) return y;
  return recordOp({
    name: which === "max" ? "AmaxBackward0" : "AminBackward0",
    inputs: [x],
    output: y,
    backward: amaxAminBackward(x, y, dims, keepdim),
  });
}

/** all/any over an empty set of elements is true/false; the backend's min/max is never asked for it. */
function overEmpty(x: Tensor, dims: readonly number[], keepdim: boolean, value: boolean): Tensor | null {
  if (!dims.some((d) => x.shape[d] === 0)) return null;
  const shape = keepdim ? keptShape(x.shape, dims) : droppedShape(x.shape, dims);
  return full(shape, value, { dtype: "bool", device: x.device });
}

/** `all(input, dim=None, keepdim=False)` */
export const all = op(
  signature("all", [self, arg.opt("dim", k.int), keepdimArg]),
  ({ input: x, dim, keepdim }): Tensor => {
    const dims = dimsOf(x, dim ?? undefined, "all");
    return overEmpty(x, dims, keepdim, true) ?? reduceKernel("min", cast(x, "bool"), dims, keepdim, "bool");
  },
);
/** `any(input, dim=None, keepdim=False)` */
export const any = op(
  signature("any", [self, arg.opt("dim", k.int), keepdimArg]),
  ({ input: x, dim, keepdim }): Tensor => {
    const dims = dimsOf(x, dim ?? undefined, "any");
    return overEmpty(x, dims, keepdim, false) ?? reduceKernel("max", cast(x, "bool"), dims, keepdim, "bool");
  },
);

function scanKernel(op: ScanOp, x: Tensor, dim: number, dtype: DType): Tensor {
  // a 0-dim tensor has no axis to hand the backend: scan a 1-element view
  if (x.ndim === 0) {
    return new Tensor(scanKernel(op, new Tensor(x.storage, [1], [1], x.offset), 0, dtype).storage, []);
  }
  const src = cast(x, dtype);
  const out = empty(x.shape, dtype, x);
  x.backend.scan(op, src.view_, dim, out.view_);
  return out;
}

/** `cumsum(input, dim, *, dtype=None)` */
export const cumsum = op(
  signature("cumsum", [self, arg("dim", k.int)], [dtypeOpt]),
  (a): Tensor => cumsumImpl(a.input, a.dim, a.dtype),
);
function cumsumImpl(x: Tensor, dim: number, dtype: DType | null): Tensor {
  const d = normDim(dim, x.ndim, "cumsum");
  checkHalfKernel("cumsum", dtype ?? x.dtype);
  if (!isComplex(x.dtype)) checkIntScan("cumsum", x, d, dtype);
  const y = scanKernel("cumsum", x, d, dtype ?? accDtype(x));
  if (!needsGrad(x)) return y;
  return recordOp({
    name: "CumsumBackward0",
    inputs: [x],
    output: y,
    // reverse cumulative sum, sum_{j >= i} g_j, summed from the end (as PyTorch; total - cumsum loses precision)
    backward: cumsumBackward(d),
  });
}

/** `cumprod(input, dim, *, dtype=None)` */
export const cumprod = op(
  signature("cumprod", [self, arg("dim", k.int)], [dtypeOpt]),
  (a): Tensor => cumprodImpl(a.input, a.dim, a.dtype),
);
function cumprodImpl(x: Tensor, dim: number, dtype: DType | null): Tensor {
  const d = normDim(dim, x.ndim, "cumprod");
  checkHalfKernel("cumprod", dtype ?? x.dtype);
  checkIntScan("cumprod", x, d, dtype);
  const y = scanKernel("cumprod", x, d, dtype ?? accDtype(x));
  if (!needsGrad(x)) return y;
  return recordOp({
    name: "CumprodBackward0",
    inputs: [x],
    output: y,
    saved: [x, y],
    // PyTorch's cumprod_backward: a reversed cumsum (no total - cumsum cancellation), zeros handled exactly
    backward: cumprodBackwardFn(x, y, d),
  });
}

/** `softmax(input, dim, dtype=None)` */
export const softmax = op(
  signature("softmax", [self, arg("dim", k.int), dtypeOpt]),
  (a): Tensor => softmaxImpl(a.input, a.dim, false, a.dtype),
);
/** `log_softmax(input, dim, dtype=None)` */
export const logSoftmax = op(
  signature("logSoftmax", [self, arg("dim", k.int), dtypeOpt]),
  (a): Tensor => softmaxImpl(a.input, a.dim, true, a.dtype),
);

/** Softmax (or log-softmax) along `dim`, computed in `dtype` when given (as PyTorch, the input is cast first). */
export function softmaxImpl(x: Tensor, dim: number, log: boolean, dtype: DType | null = null): Tensor {
  const xd = dtype ? x.to(dtype) : x;
  if (isComplex(xd.dtype)) throw complexUnsupported(log ? "logSoftmax" : "softmax", xd.dtype);
  checkHalfKernel(log ? "logSoftmax" : "softmax", xd.dtype);
  const xf = isFloat(xd.dtype) ? xd : xd.float();
  const d = normDim(dim, xf.ndim, log ? "logSoftmax" : "softmax");
  let y: Tensor;
  const b = xf.backend;
  if (b.softmax && d === xf.ndim - 1 && xf.ndim > 0) {
    const src = xf.contiguous();
    y = output(xf.shape, xf.dtype, xf);
    if (y.numel() > 0) b.softmax(src.view_, log, y.view_);
  } else {
    y = noRecord(() => {
      const m = reduceKernel("max", xf, [d], true, xf.dtype);
      const z = xf.sub(m.maskedFill(m.isinf(), 0));
      const lse = reduceKernel("sum", z.exp(), [d], true, xf.dtype).log();
      return log ? z.sub(lse) : z.sub(lse).exp();
    });
  }
  if (!needsGrad(xf)) return y;
  return recordOp({
    name: log ? "LogSoftmaxBackward0" : "SoftmaxBackward0",
    inputs: [xf],
    output: y,
    saved: [y],
    backward: softmaxBackward(y, d, log),
  });
}

export { numel };

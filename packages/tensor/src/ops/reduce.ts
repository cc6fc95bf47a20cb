/** Reductions, scans and softmax. Each records its own autograd node (SumBackward0, MeanBackward1, ...). */
import type { ArgReduceOp, ReduceOp, ScanOp } from "../backend";
import type { DType } from "../dtype";
import { isFloat } from "../dtype";
import { DTypeError, fmtShape, IndexError } from "../errors";
import { needsGrad, noGrad as noRecord, recordOp } from "../grad";
import { normDim, normDims, numel } from "../shape";
import { Tensor } from "../tensor";
import { full, zerosLike } from "./creation";
import { where } from "./elementwise";
import { cast, empty } from "./kernels";

export interface ReduceOptions {
  /** One dim or several; omitted = all dims. */
  dim?: number | readonly number[];
  keepdim?: boolean;
}

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
  const src = cast(x, op === "sum" || op === "prod" ? dtype : x.dtype);
  const out = empty(keptShape(x.shape, dims), dtype, x);
  x.backend.reduce(op, src.view_, dims, out.view_);
  return squeezeDims(out, dims, keepdim);
}

/** Bring a reduced gradient back to the input's rank (size-1 reduced dims), ready to broadcast. */
function unsqueezeGrad(
  g: Tensor,
  shape: readonly number[],
  dims: readonly number[],
  keepdim: boolean,
): Tensor {
  return keepdim ? g : g.reshape(keptShape(shape, dims));
}

const accDtype = (d: DType): DType => (isFloat(d) ? d : "int32");

export function sum(x: Tensor, opts: ReduceOptions & { dtype?: DType } = {}): Tensor {
  const dims = dimsOf(x, opts.dim, "sum");
  const keepdim = opts.keepdim ?? false;
  const y = reduceKernel("sum", x, dims, keepdim, opts.dtype ?? accDtype(x.dtype));
  if (!needsGrad(x)) return y;
  return recordOp({
    name: opts.dim === undefined ? "SumBackward0" : "SumBackward1",
    inputs: [x],
    output: y,
    backward: (g) => [unsqueezeGrad(g, x.shape, dims, keepdim).expand(x.shape)],
  });
}

export function mean(x: Tensor, opts: ReduceOptions & { dtype?: DType } = {}): Tensor {
  const dtype = opts.dtype ?? x.dtype;
  if (!isFloat(dtype)) {
    throw new DTypeError(
      `mean(): could not infer output dtype. Input dtype must be a floating point dtype, got ${x.dtype} (use x.float().mean())`,
    );
  }
  const dims = dimsOf(x, opts.dim, "mean");
  const keepdim = opts.keepdim ?? false;
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const s = reduceKernel("sum", x, dims, keepdim, dtype);
  const y = empty(s.shape, dtype, s);
  x.backend.binary("div", s.view_, scalarView(n, dtype, s).view_, y.view_);
  if (!needsGrad(x)) return y;
  return recordOp({
    name: opts.dim === undefined ? "MeanBackward0" : "MeanBackward1",
    inputs: [x],
    output: y,
    backward: (g) => [unsqueezeGrad(g, x.shape, dims, keepdim).div(n).expand(x.shape)],
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

export function prod(x: Tensor, opts: { dim?: number; keepdim?: boolean; dtype?: DType } = {}): Tensor {
  const dims = dimsOf(x, opts.dim, "prod");
  const keepdim = opts.keepdim ?? false;
  const y = reduceKernel("prod", x, dims, keepdim, opts.dtype ?? accDtype(x.dtype));
  if (!needsGrad(x)) return y;
  return recordOp({
    name: opts.dim === undefined ? "ProdBackward0" : "ProdBackward1",
    inputs: [x],
    output: y,
    saved: [x],
    // d prod / d x_i = prod / x_i; the product of the others where x_i == 0 (one zero) is handled by cumprod-free masking
    backward: (g) => {
      const yk = unsqueezeGrad(y, x.shape, dims, keepdim);
      const gk = unsqueezeGrad(g, x.shape, dims, keepdim);
      const zero = x.eq(0);
      const safe = x.maskedFill(zero, 1);
      const others = reduceKernel("prod", safe, dims, true, x.dtype);
      return [gk.mul(where(zero, others, yk.div(safe)))];
    },
  });
}

export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

function maxMin(
  op: "max" | "min",
  x: Tensor,
  opts?: { dim?: number; keepdim?: boolean },
): Tensor | ValuesIndices {
  if (opts?.dim === undefined) {
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
      backward: (g) => {
        const mask = x.eq(y).float().to(x.dtype);
        return [mask.div(mask.sum()).mul(g)];
      },
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
  if (!needsGrad(x)) return { values, indices };
  recordOp({
    name: op === "max" ? "MaxBackward0" : "MinBackward0",
    inputs: [x],
    output: values,
    backward: (g) => [
      zerosLike(x, { dtype: g.dtype }).scatterAdd(dim, idx, unsqueezeGrad(g, x.shape, [dim], keepdim)),
    ],
  });
  return { values, indices };
}

export function max(x: Tensor): Tensor;
export function max(x: Tensor, opts: { dim: number; keepdim?: boolean }): ValuesIndices;
export function max(x: Tensor, opts?: { dim?: number; keepdim?: boolean }): Tensor | ValuesIndices {
  return maxMin("max", x, opts);
}
export function min(x: Tensor): Tensor;
export function min(x: Tensor, opts: { dim: number; keepdim?: boolean }): ValuesIndices;
export function min(x: Tensor, opts?: { dim?: number; keepdim?: boolean }): Tensor | ValuesIndices {
  return maxMin("min", x, opts);
}

function argKernel(op: ArgReduceOp, x: Tensor, dim: number, keepdim: boolean): Tensor {
  // a 0-dim tensor has no axis to hand the backend: run on a 1-element view
  if (x.ndim === 0) {
    return new Tensor(argKernel(op, new Tensor(x.storage, [1], [1], x.offset), 0, true).storage, []);
  }
  const out = empty(keptShape(x.shape, [dim]), "int32", x);
  x.backend.argReduce(op, x.view_, dim, out.view_);
  return squeezeDims(out, [dim], keepdim);
}

function argOp(op: ArgReduceOp, x: Tensor, opts: { dim?: number; keepdim?: boolean }): Tensor {
  if (opts.dim === undefined) {
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

export function argmax(x: Tensor, opts: { dim?: number; keepdim?: boolean } = {}): Tensor {
  return argOp("argmax", x, opts);
}
export function argmin(x: Tensor, opts: { dim?: number; keepdim?: boolean } = {}): Tensor {
  return argOp("argmin", x, opts);
}

export interface VarOptions extends ReduceOptions {
  /** Bessel's correction: 1 (default, unbiased) or 0. `unbiased: false` is the same as `correction: 0`. */
  correction?: number;
  unbiased?: boolean;
}

function varImpl(x: Tensor, opts: VarOptions, sqrt: boolean): Tensor {
  if (!isFloat(x.dtype))
    throw new DTypeError(`${sqrt ? "std" : "var"}(): expected a floating point tensor, got ${x.dtype}`);
  const dims = dimsOf(x, opts.dim, sqrt ? "std" : "var");
  const keepdim = opts.keepdim ?? false;
  const correction = opts.correction ?? (opts.unbiased === false ? 0 : 1);
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const denom = Math.max(0, n - correction);
  const { y, centered } = noRecord(() => {
    const m = reduceKernel("sum", x, dims, true, x.dtype).div(n);
    const c = x.sub(m);
    const v = reduceKernel("sum", c.mul(c), dims, keepdim, x.dtype).div(denom);
    return { y: sqrt ? v.sqrt() : v, centered: c };
  });
  if (!needsGrad(x)) return y;
  return recordOp({
    name: sqrt ? "StdBackward0" : "VarBackward0",
    inputs: [x],
    output: y,
    backward: (g) => {
      const gk = unsqueezeGrad(g, x.shape, dims, keepdim);
      if (!sqrt) return [gk.mul(centered).mul(2 / denom)];
      return [gk.mul(centered).div(unsqueezeGrad(y, x.shape, dims, keepdim).mul(denom))];
    },
  });
}

export function variance(x: Tensor, opts: VarOptions = {}): Tensor {
  return varImpl(x, opts, false);
}
export function std(x: Tensor, opts: VarOptions = {}): Tensor {
  return varImpl(x, opts, true);
}

export function logsumexp(x: Tensor, opts: { dim: number | readonly number[]; keepdim?: boolean }): Tensor {
  const xf = isFloat(x.dtype) ? x : x.float();
  const dims = dimsOf(xf, opts.dim, "logsumexp");
  const keepdim = opts.keepdim ?? false;
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
    backward: (g) => [
      unsqueezeGrad(g, xf.shape, dims, keepdim).mul(xf.sub(unsqueezeGrad(y, xf.shape, dims, keepdim)).exp()),
    ],
  });
}

/** Vector p-norm over `dim` (all elements by default); composite, so autograd follows its parts. */
export function norm(
  x: Tensor,
  opts: { p?: number; dim?: number | readonly number[]; keepdim?: boolean } = {},
): Tensor {
  const p = opts.p ?? 2;
  const ro = { dim: opts.dim, keepdim: opts.keepdim };
  const a = x.abs();
  if (p === Number.POSITIVE_INFINITY) return amax(a, ro);
  if (p === 1) return a.sum(ro);
  if (p === 2) return a.square().sum(ro).sqrt();
  return a
    .pow(p)
    .sum(ro)
    .pow(1 / p);
}

/** Max over dims without indices (torch.amax); gradient shared evenly among ties. */
export function amax(x: Tensor, opts: ReduceOptions = {}): Tensor {
  const dims = dimsOf(x, opts.dim, "amax");
  const keepdim = opts.keepdim ?? false;
  const emptyDim = dims.find((d) => x.shape[d] === 0);
  if (emptyDim !== undefined) {
    throw new IndexError(
      `amax(): Expected reduction dim ${emptyDim} to have non-zero size (got shape ${fmtShape(x.shape)})`,
    );
  }
  const y = reduceKernel("max", x, dims, keepdim, x.dtype);
  if (!needsGrad(x)) return y;
  return recordOp({
    name: "AmaxBackward0",
    inputs: [x],
    output: y,
    backward: (g) => {
      const mask = x.eq(unsqueezeGrad(y, x.shape, dims, keepdim)).to(x.dtype);
      const count = mask.sum({ dim: dims as number[], keepdim: true });
      return [mask.div(count).mul(unsqueezeGrad(g, x.shape, dims, keepdim))];
    },
  });
}

/** all/any over an empty set of elements is true/false; the backend's min/max is never asked for it. */
function overEmpty(x: Tensor, dims: readonly number[], keepdim: boolean, value: boolean): Tensor | null {
  if (!dims.some((d) => x.shape[d] === 0)) return null;
  const shape = keepdim ? keptShape(x.shape, dims) : droppedShape(x.shape, dims);
  return full(shape, value, { dtype: "bool", device: x.device });
}

export function all(x: Tensor, opts: { dim?: number; keepdim?: boolean } = {}): Tensor {
  const dims = dimsOf(x, opts.dim, "all");
  const keepdim = opts.keepdim ?? false;
  return overEmpty(x, dims, keepdim, true) ?? reduceKernel("min", cast(x, "bool"), dims, keepdim, "bool");
}
export function any(x: Tensor, opts: { dim?: number; keepdim?: boolean } = {}): Tensor {
  const dims = dimsOf(x, opts.dim, "any");
  const keepdim = opts.keepdim ?? false;
  return overEmpty(x, dims, keepdim, false) ?? reduceKernel("max", cast(x, "bool"), dims, keepdim, "bool");
}

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

export function cumsum(x: Tensor, dim: number, opts: { dtype?: DType } = {}): Tensor {
  const d = normDim(dim, x.ndim, "cumsum");
  const y = scanKernel("cumsum", x, d, opts.dtype ?? accDtype(x.dtype));
  if (!needsGrad(x)) return y;
  return recordOp({
    name: "CumsumBackward0",
    inputs: [x],
    output: y,
    // reverse cumulative sum: sum_{j >= i} g_j = total - cumsum(g) + g
    backward: (g) => [g.sum({ dim: d, keepdim: true }).sub(g.cumsum(d)).add(g)],
  });
}

export function cumprod(x: Tensor, dim: number, opts: { dtype?: DType } = {}): Tensor {
  const d = normDim(dim, x.ndim, "cumprod");
  const y = scanKernel("cumprod", x, d, opts.dtype ?? accDtype(x.dtype));
  if (!needsGrad(x)) return y;
  return recordOp({
    name: "CumprodBackward0",
    inputs: [x],
    output: y,
    saved: [x],
    // valid where x has no zeros: d y_j / d x_i = y_j / x_i for j >= i
    backward: (g) => {
      const gy = g.mul(y);
      const rev = gy.sum({ dim: d, keepdim: true }).sub(gy.cumsum(d)).add(gy);
      return [rev.div(x)];
    },
  });
}

export function softmax(x: Tensor, dim: number): Tensor {
  return softmaxImpl(x, dim, false);
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return softmaxImpl(x, dim, true);
}

function softmaxImpl(x: Tensor, dim: number, log: boolean): Tensor {
  const xf = isFloat(x.dtype) ? x : x.float();
  const d = normDim(dim, xf.ndim, log ? "logSoftmax" : "softmax");
  let y: Tensor;
  const b = xf.backend;
  if (b.softmax && d === xf.ndim - 1 && xf.ndim > 0) {
    const src = xf.contiguous();
    y = empty(xf.shape, xf.dtype, xf);
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
    backward: (g) =>
      log
        ? [g.sub(y.exp().mul(g.sum({ dim: d, keepdim: true })))]
        : [y.mul(g.sub(g.mul(y).sum({ dim: d, keepdim: true })))],
  });
}

export { numel };

/**
 * Indexing ops of issue 14: `take`, `index_add`, `index_copy`, `index_fill` (with their in-place forms) and
 * `masked_select`, composed of index_select, scatter/scatter_add, where and boolean indexing, so every backend runs
 * them and their gradients come from those ops. Index tensors are int32 (Cinder's stand-in for int64). Indices are
 * range-checked where the device reads synchronously (as advanced indexing does).
 */
import { DTypeError, fmtShape, IndexError, ShapeError } from "../errors";
import { broadcastShapes, normDim, sameShape } from "../shape";
import { ArgumentError, arg, k, op, overloads, self, signature } from "../signature";
import { Tensor } from "../tensor";
import { zeros } from "./creation";
import { inplace, type Scalar, toTensor, where } from "./elementwise";
import { writeOut } from "./elementwise-signatures";
import { at, indexSelect, scatter, scatterAdd } from "./indexing";
import { cast, contiguous, expandTo, sameDevice } from "./kernels";

const outOpt = arg.opt("out", k.tensor);
const maybeOut = (what: string, y: Tensor, out: Tensor | null, inputs: readonly unknown[]): Tensor =>
  out ? writeOut(what, y, out, inputs) : y;

/** Index tensors are int64 (PyTorch's) or int32 (backends without int64); anything else is an error. */
function checkIndex(what: string, index: Tensor): void {
  if (index.dtype !== "int64" && index.dtype !== "int32") {
    throw new ArgumentError(
      `${what}(): argument "index": expected an integer index tensor (int64 or int32), got ${index.dtype}`,
    );
  }
}

/** The index's values, when the device reads synchronously (null otherwise: the check is skipped). */
function readIndex(index: Tensor): ArrayLike<number> | null {
  return index.backend.readSync && index.numel() > 0 ? index.data() : null;
}

// ---- take ----

function takeImpl(x: Tensor, index: Tensor): Tensor {
  checkIndex("take", index);
  sameDevice("take", x, index);
  const n = x.numel();
  if (n === 0 && index.numel() > 0) throw new IndexError("take(): tried to take from an empty tensor");
  const v = readIndex(index);
  if (v) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] < -n || v[i] >= n) {
        throw new IndexError(
          `take(): out of range: tried to access index ${v[i]} on a tensor of ${n} elements`,
        );
      }
    }
  }
  const flat = index.reshape(-1);
  const wrapped = flat.add(flat.lt(0).int().mul(n));
  return indexSelect(x.reshape(-1), 0, wrapped).reshape(index.shape);
}
const takeArgs = [self, arg("index", k.tensor)] as const;
/** `take(input, index, *, out=None)`: the elements of the flattened input at `index` (negative counts from the end), shaped as `index` */
export const take = op(
  signature("take", takeArgs, [outOpt], { forms: ["function"] }),
  ({ input, index, out }): Tensor => maybeOut("take", takeImpl(input, index), out, [input]),
);
/** `x.take(index)` */
export const takeMethod = op(
  signature("take", takeArgs, [], { forms: ["method"] }),
  ({ input, index }): Tensor => takeImpl(input, index),
);

// ---- index_add / index_copy ----

/** The 1-D index broadcast along every dim of `shape` but `d` (stride 0): the index scatter/scatter_add take. */
function spread(index: Tensor, shape: readonly number[], d: number): Tensor {
  const idx = contiguous(index.reshape(-1));
  return new Tensor(
    idx.storage,
    shape,
    shape.map((_, i) => (i === d ? 1 : 0)),
    idx.offset,
  );
}

/**
 * The checks index_add and index_copy share; returns the dim and the source viewed with x's rank (0-dim tensors as
 * 1-D), and x likewise.
 */
function prepare(
  what: "indexAdd" | "indexCopy",
  x: Tensor,
  dim: number,
  index: Tensor,
  source: Tensor,
): { d: number; x1: Tensor; src: Tensor; n: number } {
  checkIndex(what, index);
  sameDevice(what, x, index, source);
  const py = what === "indexAdd" ? "index_add_" : "index_copy_";
  if (index.ndim > 1) {
    throw new IndexError(
      `${what}(): ${py} expects the index to be a vector (or a 0-dim tensor), got shape ${fmtShape(index.shape)}`,
    );
  }
  if (source.dtype !== x.dtype) {
    throw new DTypeError(
      `${what}(): self (${x.dtype}) and source (${source.dtype}) must have the same dtype`,
    );
  }
  const d = normDim(dim, x.ndim, what);
  const x1 = x.ndim === 0 ? x.reshape(1) : x;
  const n = index.numel();
  if (source.ndim !== x.ndim && source.ndim > 0 && x.ndim > 0) {
    throw new IndexError(
      `${what}(): source and self must have the same number of dimensions (unless one is 0-dim), got source of shape ${fmtShape(source.shape)} and self of shape ${fmtShape(x.shape)}`,
    );
  }
  const src = source.ndim === 0 ? source.reshape(1) : source;
  const srcN = src.ndim === x1.ndim ? src.shape[d] : 1;
  if (srcN !== n) {
    throw new IndexError(
      `${what}(): number of indices (${n}) should be equal to source.size(dim) (${srcN}), for dim ${d}`,
    );
  }
  const size = x1.shape[d];
  const v = readIndex(index);
  if (v) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] < 0 || v[i] >= size) {
        throw new IndexError(
          `${what}(): index ${v[i]} is out of bounds for dimension ${d} with size ${size}`,
        );
      }
    }
  }
  return { d, x1, src, n };
}

function indexAddImpl(x: Tensor, dim: number, index: Tensor, source: Tensor, alpha: Scalar): Tensor {
  const { d, x1, src, n } = prepare("indexAdd", x, dim, index, source);
  const target = x1.shape.map((s, i) => (i === d ? n : s));
  // each slice of source is added to its slice of x: a source that broadcasts to the slices is accepted, as PyTorch
  if (!sameShape(broadcastShapes(src.shape, target, "indexAdd"), target)) {
    throw new ShapeError(
      `indexAdd(): source of shape ${fmtShape(source.shape)} does not match the indexed slices of shape ${fmtShape(target)}`,
    );
  }
  // an integer tensor takes alpha truncated (PyTorch converts it to the tensor's type)
  const a = x.isFloatingPoint() ? +alpha : Math.trunc(+alpha);
  const s = src.expand(target);
  const scaled = a === 1 ? s : s.mul(toTensor(a, x.dtype, x));
  const y = n === 0 ? x1.clone() : scatterAdd(x1, d, spread(index, target, d), scaled);
  return x.ndim === 0 ? y.reshape([]) : y;
}

function indexCopyImpl(x: Tensor, dim: number, index: Tensor, source: Tensor): Tensor {
  const { d, x1, src, n } = prepare("indexCopy", x, dim, index, source);
  const target = x1.shape.map((s, i) => (i === d ? n : s));
  if (!sameShape(src.shape, target)) {
    throw new ShapeError(
      `indexCopy(): source/destination tensor must have same slice shapes: source of shape ${fmtShape(source.shape)} for slices of shape ${fmtShape(target)}`,
    );
  }
  const y = n === 0 ? x1.clone() : scatter(x1, d, spread(index, target, d), src);
  return x.ndim === 0 ? y.reshape([]) : y;
}

const indexArgs = [self, arg("dim", k.int), arg("index", k.tensor), arg("source", k.tensor)] as const;
const alphaOpt = arg("alpha", k.scalar, 1);
/**
 * `index_add(input, dim, index, source, *, alpha=1, out=None)`: a copy of `input` with `alpha * source[..., j, ...]`
 * added to slice `index[j]` along `dim` (repeated indices accumulate)
 */
export const indexAdd = op(
  signature("indexAdd", indexArgs, [alphaOpt, outOpt], { forms: ["function"] }),
  ({ input, dim, index, source, alpha, out }): Tensor =>
    maybeOut("indexAdd", indexAddImpl(input, dim, index, source, alpha), out, [input, source]),
);
/** `x.index_add(dim, index, source, *, alpha=1)` */
export const indexAddMethod = op(
  signature("indexAdd", indexArgs, [alphaOpt], { forms: ["method"] }),
  ({ input, dim, index, source, alpha }): Tensor => indexAddImpl(input, dim, index, source, alpha),
);
/** `x.index_add_(dim, index, source, *, alpha=1)`: in place */
export const indexAdd_ = op(
  signature("indexAdd_", indexArgs, [alphaOpt], { forms: ["method"] }),
  ({ input, dim, index, source, alpha }): Tensor =>
    inplace(input, [source], (s): Tensor => indexAddImpl(s, dim, index, source, alpha), "indexAdd_"),
);

/** `index_copy(input, dim, index, source, *, out=None)`: a copy of `input` with slice `index[j]` along `dim` replaced by `source[..., j, ...]` */
export const indexCopy = op(
  signature("indexCopy", indexArgs, [outOpt], { forms: ["function"] }),
  ({ input, dim, index, source, out }): Tensor =>
    maybeOut("indexCopy", indexCopyImpl(input, dim, index, source), out, [input, source]),
);
/** `x.index_copy(dim, index, source)` */
export const indexCopyMethod = op(
  signature("indexCopy", indexArgs, [], { forms: ["method"] }),
  ({ input, dim, index, source }): Tensor => indexCopyImpl(input, dim, index, source),
);
/** `x.index_copy_(dim, index, source)`: in place */
export const indexCopy_ = op(
  signature("indexCopy_", indexArgs, [], { forms: ["method"] }),
  ({ input, dim, index, source }): Tensor =>
    inplace(input, [source], (s): Tensor => indexCopyImpl(s, dim, index, source), "indexCopy_"),
);

// ---- index_fill ----

function indexFillImpl(x: Tensor, dim: number, index: Tensor, value: Tensor | Scalar): Tensor {
  checkIndex("indexFill", index);
  sameDevice("indexFill", x, index);
  if (index.ndim > 1) {
    throw new ShapeError(
      `indexFill(): index has to be a vector or a 0-dim tensor, got shape ${fmtShape(index.shape)}`,
    );
  }
  if (typeof value === "object" && value.ndim !== 0) {
    throw new ShapeError(
      `indexFill(): only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s)`,
    );
  }
  const d = normDim(dim, x.ndim, "indexFill");
  const size = x.ndim === 0 ? 1 : x.shape[d];
  const v = readIndex(index);
  if (v) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] < -size || v[i] >= size) {
        throw new IndexError(
          `indexFill(): index ${v[i]} is out of bounds for dimension ${d} with size ${size}`,
        );
      }
    }
  }
  // a bool mask of the filled positions along dim, broadcast over the other dims
  const flat = index.reshape(-1);
  const wrapped = flat.add(flat.lt(0).int().mul(size));
  const marks = zeros([size], { dtype: "bool", device: x.device });
  const mask1 = index.numel() === 0 ? marks : scatter(marks, 0, wrapped, true);
  const mask = mask1.reshape(x.shape.map((s, i) => (i === d ? s : 1)));
  // a tensor value gets the gradient of every filled position (each position once, as PyTorch)
  const val = typeof value === "object" ? value.to(x.dtype) : toTensor(value, x.dtype, x);
  return where(mask, val, x);
}
function indexFillForms(name: "indexFill" | "indexFill_", forms: ("function" | "method")[]) {
  const run = (x: Tensor, dim: number, index: Tensor, value: Tensor | Scalar): Tensor =>
    name === "indexFill"
      ? indexFillImpl(x, dim, index, value)
      : inplace(x, [value], (s): Tensor => indexFillImpl(s, dim, index, value), name);
  const head = [self, arg("dim", k.int), arg("index", k.tensor)] as const;
  return overloads(
    op(
      signature(name, [...head, arg("value", k.tensor)], [], { forms }),
      ({ input, dim, index, value }): Tensor => run(input, dim, index, value),
    ),
    op(
      signature(name, [...head, arg("value", k.scalar)], [], { forms }),
      ({ input, dim, index, value }): Tensor => run(input, dim, index, value),
    ),
  );
}
/** `index_fill(input, dim, index, value)`: a copy of `input` with the slices `index` along `dim` set to `value` (a number or a 0-dim tensor) */
export const indexFill = indexFillForms("indexFill", ["function", "method"]);
/** `x.index_fill_(dim, index, value)`: in place */
export const indexFill_ = indexFillForms("indexFill_", ["method"]);

// ---- masked_select ----

function maskedSelectImpl(x: Tensor, mask: Tensor): Tensor {
  if (mask.dtype !== "bool" && mask.dtype !== "uint8") {
    throw new DTypeError(`maskedSelect(): expected a bool (or uint8) mask, got ${mask.dtype}`);
  }
  sameDevice("maskedSelect", x, mask);
  const shape = broadcastShapes(x.shape, mask.shape, "maskedSelect");
  const full = shape.length === 0 ? [1] : shape;
  const m = expandTo(cast(mask, "bool"), shape, "maskedSelect").reshape(full);
  return at(x.expand(shape).reshape(full), m);
}
const maskedArgs = [self, arg("mask", k.tensor)] as const;
/**
 * `masked_select(input, mask, *, out=None)`: the elements of `input` where the bool `mask` (broadcast together) is
 * true, as a 1-D tensor. Reads the mask: synchronous devices only (as boolean indexing).
 */
export const maskedSelect = op(
  signature("maskedSelect", maskedArgs, [outOpt], { forms: ["function"] }),
  ({ input, mask, out }): Tensor => maybeOut("maskedSelect", maskedSelectImpl(input, mask), out, [input]),
);
/** `x.masked_select(mask)` */
export const maskedSelectMethod = op(
  signature("maskedSelect", maskedArgs, [], { forms: ["method"] }),
  ({ input, mask }): Tensor => maskedSelectImpl(input, mask),
);

// ---- put ----

function putImpl(x: Tensor, index: Tensor, source: Tensor, accumulate: boolean): Tensor {
  checkIndex("put", index);
  sameDevice("put", x, index, source);
  if (source.dtype !== x.dtype) {
    throw new DTypeError(
      `put(): self and source expected to have the same dtype, got ${x.dtype} and ${source.dtype}`,
    );
  }
  if (source.numel() !== index.numel()) {
    throw new ShapeError(
      `put(): expected source and index to have the same number of elements, but got source.numel() = ${source.numel()}, index.numel() = ${index.numel()}`,
    );
  }
  const n = x.numel();
  const v = readIndex(index);
  if (v) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] < -n || v[i] >= n) {
        throw new IndexError(
          `put(): out of range: tried to access index ${v[i]} on a tensor of ${n} elements`,
        );
      }
    }
  }
  if (index.numel() === 0) return x.clone();
  const flat = index.reshape(-1);
  const wrapped = flat.add(flat.lt(0).int().mul(n));
  const src = source.reshape(-1);
  const y = accumulate ? scatterAdd(x.reshape(-1), 0, wrapped, src) : scatter(x.reshape(-1), 0, wrapped, src);
  return y.reshape(x.shape);
}
const putArgs = [
  self,
  arg("index", k.tensor),
  arg("source", k.tensor),
  arg("accumulate", k.bool, false),
] as const;
/**
 * `put(input, index, source, accumulate=False)`: a copy of `input` with the elements of the flattened tensor at
 * `index` (negative counts from the end) set to `source`'s, or incremented by them with `accumulate`
 */
export const put = op(
  signature("put", putArgs),
  ({ input, index, source, accumulate }): Tensor => putImpl(input, index, source, accumulate),
);
/** `x.put_(index, source, accumulate=False)`: in place */
export const put_ = op(
  signature("put_", putArgs, [], { forms: ["method"] }),
  ({ input, index, source, accumulate }): Tensor =>
    inplace(input, [source], (s): Tensor => putImpl(s, index, source, accumulate), "put_"),
);

/**
 * Indexing: `x.at(...items)` reads and `x.set([...items], value)` writes, covering every form of Python's
 * `x[...]`: integers (negative too), slices ("1:4:2", ":", slice()), "..." and null (new axis), integer lists or
 * tensors (advanced indexing, broadcast together), and boolean masks. Basic indexing returns a view.
 */
import { defaultIntDtype, isComplex } from "../dtype";
import { DTypeError, fmtShape, IndexError, ShapeError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { opTracer } from "../op-tracer";
import { broadcastShapes, normDim, numel } from "../shape";
import {
  ArgumentError,
  arg,
  k,
  type Overloaded,
  op,
  overloads,
  type Param,
  type Signature,
  self,
  signature,
} from "../signature";
import { Tensor } from "../tensor";
import { arange, tensor, zerosLike } from "./creation";
import { inplace, type Scalar, toTensor } from "./elementwise";
import { cast, contiguous, copyOf, empty, expandTo, sameDevice } from "./kernels";
import { reshapeImpl, selectImpl, sliceDim } from "./view";

/** A Python slice, `slice(start, stop, step)`; null or absent parts take their defaults. */
export interface Slice {
  start?: number | null;
  stop?: number | null;
  step?: number | null;
}
type N = number | "";
/** Python slice syntax as a string: ":", "1:", ":-1", "1:4:2", "::2". */
export type SliceString = `${N}:${N}` | `${N}:${N}:${N}`;
export type NestedIndex = number | boolean | readonly NestedIndex[];
/**
 * One item of `x.at(...)` / `x.set([...], v)`: an integer, a slice (string or object), "...", null (a new
 * axis), nested integer/bool lists, or an int or bool tensor.
 */
export type IndexItem = number | null | "..." | SliceString | Slice | Tensor | readonly NestedIndex[];

/** Python's `slice(start, stop, step)`. */
export function slice(start?: number | null, stop?: number | null, step?: number | null): Slice {
  return { start, stop, step };
}

function parseSlice(item: SliceString | Slice): Slice {
  if (typeof item !== "string") return item;
  const parts = item.split(":");
  const num = (s: string | undefined) => {
    if (s === undefined || s.trim() === "") return null;
    const v = Number(s);
    if (!Number.isInteger(v))
      throw new IndexError(`invalid slice "${item}": ${JSON.stringify(s)} is not an integer`);
    return v;
  };
  if (parts.length > 3) throw new IndexError(`invalid slice "${item}"`);
  return { start: num(parts[0]), stop: num(parts[1]), step: num(parts[2]) };
}

/** Python's slice.indices for a dimension of `size` (positive steps only, as in PyTorch). */
function sliceBounds(s: Slice, size: number): [number, number, number] {
  const step = s.step ?? 1;
  if (step <= 0) throw new IndexError(`slice step must be greater than zero, got ${step}`);
  const clamp = (v: number | null | undefined, dflt: number) => {
    if (v === null || v === undefined) return dflt;
    const w = v < 0 ? v + size : v;
    return Math.min(Math.max(w, 0), size);
  };
  return [clamp(s.start, 0), clamp(s.stop, size), step];
}

function isSlice(item: IndexItem): item is SliceString | Slice {
  return (
    (typeof item === "string" && item !== "...") ||
    (typeof item === "object" && item !== null && !Array.isArray(item) && !(item instanceof Tensor))
  );
}

type Adv = { dim: number; index: Tensor };

/**
 * An index tensor as int32 for the kernels that take int32 positions. int64 saturates at int32's range rather than
 * wrap (a wrapped 2^32 + 1 would be the valid index 1): an index out of range stays out of range, and fails so.
 */
export function indexInt32(index: Tensor): Tensor {
  return index.dtype === "int64" ? cast(index.clamp(-(2 ** 31), 2 ** 31 - 1), "int32") : cast(index, "int32");
}

/** A JS list as an index tensor: booleans give a mask, numbers int32 (an empty list too, as in PyTorch). */
function listIndex(list: NestedIndex[], x: Tensor): Tensor {
  const t = tensor(list, { device: x.device });
  return t.numel() === 0 ? cast(t, "int32") : t;
}

/** Turn lists into index tensors and count the dims each item consumes. */
function normalize(x: Tensor, items: readonly IndexItem[]): (IndexItem | Tensor)[] {
  const out = items.map((it) => (Array.isArray(it) ? listIndex(it as NestedIndex[], x) : it));
  const consumed = (it: IndexItem | Tensor) =>
    it === null || it === "..." ? 0 : it instanceof Tensor && it.dtype === "bool" ? Math.max(it.ndim, 1) : 1;
  const used = out.reduce((n: number, it) => n + consumed(it), 0);
  const ellipses = out.filter((it) => it === "...").length;
  if (ellipses > 1) throw new IndexError("an index can only have a single ellipsis ('...')");
  if (used > x.ndim) throw new IndexError(`too many indices for tensor of dimension ${x.ndim} (got ${used})`);
  const e = out.indexOf("...");
  const fill = Array.from({ length: x.ndim - used }, () => ":" as const);
  if (e >= 0) out.splice(e, 1, ...fill);
  return out;
}

/** Read `x[items]`. */
export function at(x: Tensor, ...items: IndexItem[]): Tensor {
  if (opTracer !== null) return opTracer.call("at", { input: x, items }, () => atImpl(x, items)) as Tensor;
  return atImpl(x, items);
}

function atImpl(x: Tensor, items: readonly IndexItem[]): Tensor {
  const norm = normalize(x, items);
  let cur = x;
  let dim = 0;
  let xdim = 0; // the dim of `x` the item indexes (errors name it, as PyTorch does)
  const adv: Adv[] = [];
  for (const it of norm) {
    if (it !== null) xdim += it instanceof Tensor && it.dtype === "bool" ? Math.max(it.ndim, 1) : 1;
    if (typeof it === "number") {
      // an int is a select (basic indexing) even next to index tensors, as in PyTorch (NumPy differs: there it
      // counts as an advanced index, so x[1, :, idx] moves idx's dims to the front in NumPy but not in PyTorch)
      boundsCheck(it, cur.shape[dim], xdim - 1);
      cur = selectImpl(cur, dim, it);
    } else if (it instanceof Tensor && it.ndim === 0 && it.dtype !== "bool" && !it.isFloatingPoint()) {
      // a 0-dim integer tensor selects like an int (PyTorch), without reading it
      cur = advanced(cur, [{ dim, index: it.reshape(1) }]).squeeze(dim);
    } else if (it === null) {
      cur = cur.unsqueeze(dim++);
    } else if (it instanceof Tensor) {
      if (it.dtype === "bool") {
        const k = Math.max(it.ndim, 1);
        const mask = it.ndim === 0 ? it.reshape(1) : it;
        const want = cur.shape.slice(dim, dim + k);
        if (mask.shape.some((s, i) => s !== want[i])) {
          throw new IndexError(
            `the shape of the mask ${fmtShape(mask.shape)} at index ${dim} does not match the shape of the indexed tensor ${fmtShape(cur.shape)} at index ${dim}`,
          );
        }
        if (it.ndim === 0) cur = cur.unsqueeze(dim);
        const nz = nonzeroImpl(mask);
        for (let j = 0; j < k; j++) adv.push({ dim: dim + j, index: nz.select(1, j) });
        dim += k;
      } else {
        if (it.isFloatingPoint()) {
          throw new IndexError(
            `tensors used as indices must be long, int, byte or bool tensors, got ${it.dtype}`,
          );
        }
        adv.push({ dim: dim++, index: it });
      }
    } else if (isSlice(it as IndexItem)) {
      const [s, e, step] = sliceBounds(parseSlice(it as SliceString | Slice), cur.shape[dim]);
      cur = sliceDim(cur, dim, s, Math.max(s, e), step);
      dim++;
    } else {
      throw new IndexError(`unsupported index item ${String(it)}`);
    }
  }
  return adv.length ? advanced(cur, adv) : cur;
}

function boundsCheck(i: number, size: number, dim: number): void {
  if (!Number.isInteger(i) || i < -size || i >= size) {
    throw new IndexError(`index ${i} is out of bounds for dimension ${dim} with size ${size}`);
  }
}

/** Advanced indexing on dims `adv` of `x` (numpy/PyTorch placement rules). */
function advanced(x: Tensor, adv: Adv[]): Tensor {
  let S: number[] = [];
  for (const a of adv) {
    try {
      S = broadcastShapes(S, a.index.shape, "index");
    } catch {
      throw new IndexError(
        `shape mismatch: indexing tensors could not be broadcast together with shapes ${adv.map((b) => fmtShape(b.index.shape)).join(", ")}`,
      );
    }
  }
  const dims = adv.map((a) => a.dim);
  const rest = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  const sizes = dims.map((d) => x.shape[d]);
  // flat position within the advanced dims, as int32: sum_j wrap(index_j) * prod(sizes after j)
  let linear: Tensor | null = null;
  let mult = 1;
  for (let j = adv.length - 1; j >= 0; j--) {
    const idx = wrapIndex(indexInt32(adv[j].index), sizes[j], dims[j]);
    const term = mult === 1 ? idx : idx.mul(mult);
    linear = linear ? linear.add(term) : term;
    mult *= sizes[j];
  }
  const flatIdx = expandTo(linear!, S, "index").reshape(-1);
  const v = x.permute([...dims, ...rest]).reshape([mult, ...rest.map((d) => x.shape[d])]);
  let out = indexSelectImpl(v, 0, flatIdx).reshape([...S, ...rest.map((d) => x.shape[d])]);
  const adjacent = dims.every((d, i) => d === dims[0] + i);
  if (adjacent && dims[0] > 0) {
    const k = S.length;
    const p = dims[0];
    const order = [
      ...Array.from({ length: p }, (_, i) => k + i),
      ...Array.from({ length: k }, (_, i) => i),
      ...Array.from({ length: rest.length - p }, (_, i) => k + p + i),
    ];
    out = out.permute(order);
  }
  return out;
}

/** Negative indices count from the end; out-of-range indices are an error (checked where readable). */
function wrapIndex(idx: Tensor, size: number, dim: number): Tensor {
  if (idx.backend.readSync && idx.numel() > 0) {
    const d = idx.data();
    for (let i = 0; i < d.length; i++) {
      if (d[i] < -size || d[i] >= size) {
        throw new IndexError(`index ${d[i]} is out of bounds for dimension ${dim} with size ${size}`);
      }
    }
  }
  return idx.add(idx.lt(0).int().mul(size));
}

/**
 * Coordinates of the nonzero elements as an [n, ndim] tensor of the backend's default integer (PyTorch's int64);
 * reads the data: synchronous devices only.
 */
function nonzeroImpl(x: Tensor): Tensor {
  // a complex element is nonzero when either part is (its data holds two words per element)
  if (isComplex(x.dtype)) return nonzeroImpl(x.ne(0));
  const d = x.data();
  const coords: number[] = [];
  const nd = x.ndim;
  const strides = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((p, s) => p * s, 1));
  let n = 0;
  for (let i = 0; i < d.length; i++) {
    if (d[i] !== 0) {
      for (let k = 0; k < nd; k++) coords.push(Math.floor(i / strides[k]) % x.shape[k]);
      n++;
    }
  }
  return tensor(coords, { dtype: defaultIntDtype(x.backend), device: x.device }).reshape(n, nd);
}
const NONZERO = signature("nonzero", [self], [arg("asTuple", k.bool, false)]);
/** The two result types of `nonzero` by `asTuple`, for TypeScript (one declared signature). */
type NonzeroAsTensor = {
  readonly signature: Signature<[typeof self], [Param<"asTuple", false, true>]>;
} & ((...a: never[]) => Tensor);
type NonzeroAsTuple = {
  readonly signature: Signature<[typeof self], [Param<"asTuple", true, false>]>;
} & ((...a: never[]) => Tensor[]);
/**
 * `nonzero(input, *, as_tuple=False)`: the coordinates of the nonzero elements as an int64 [n, ndim] tensor, or
 * with `asTuple: true` one 1-D tensor per dim (a 0-dim input counts as 1-D). Reads the data: synchronous devices.
 */
export const nonzero = Object.assign(
  op(NONZERO, ({ input, asTuple }): Tensor | Tensor[] => {
    if (!asTuple) return nonzeroImpl(input);
    const nz = nonzeroImpl(input.ndim === 0 ? reshapeImpl(input, [1]) : input);
    return Array.from({ length: nz.shape[1] }, (_, j) => nz.select(1, j).contiguous());
  }),
  { signatures: [NONZERO] },
) as unknown as Overloaded<NonzeroAsTensor, NonzeroAsTuple>;

/** The index as a view broadcast along every dim but `dim` (stride 0), for gather/scatter kernels. */
function spreadIndex(index: Tensor, shape: readonly number[], dim: number): Tensor {
  const strides = shape.map((_, i) => (i === dim ? index.strides[0] : 0));
  return new Tensor(index.storage, shape, strides, index.offset);
}

/** Index tensors of gather/scatter/index_select are int64 (PyTorch's) or int32 (backends without int64). */
function checkIndex(what: string, index: Tensor): void {
  if (index.dtype !== "int64" && index.dtype !== "int32") {
    throw new ArgumentError(
      `${what}(): argument "index": expected an integer index tensor (int64 or int32), got ${index.dtype}`,
    );
  }
}

const dimArg = arg("dim", k.int);
const indexArg = arg("index", k.tensor);

function indexSelectImpl(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim(dim, x.ndim, "indexSelect");
  if (index.ndim > 1)
    throw new IndexError(
      `index_select(): Index is supposed to be a vector, got shape ${fmtShape(index.shape)}`,
    );
  sameDevice("indexSelect", x, index);
  const idx = indexInt32(index.reshape(-1));
  const shape = [...x.shape];
  if (x.ndim > 0) shape[d] = idx.shape[0];
  const out = empty(shape, x.dtype, x);
  if (numel(shape) > 0) {
    // a 0-dim input has no axis to hand the backend: gather from its 1-element view
    const src = x.ndim === 0 ? new Tensor(x.storage, [1], [1], x.offset) : x;
    const dst = x.ndim === 0 ? new Tensor(out.storage, [1], [1], out.offset) : out;
    x.backend.gather(src.view_, d, spreadIndex(idx, dst.shape, d).view_, dst.view_);
  }
  if (!needsGrad(x)) return out;
  return recordOp({
    name: "IndexSelectBackward0",
    inputs: [x],
    output: out,
    backward: (g) => [
      scatterImpl("add", zerosLike(x, { dtype: g.dtype }), d, spreadIndex(idx, g.shape, d), g, null),
    ],
  });
}
/** `index_select(input, dim, index)`: the entries of `dim` at the positions of a 1-D int32 index */
export const indexSelect = op(
  signature("indexSelect", [self, dimArg, indexArg]),
  ({ input, dim, index }): Tensor => {
    checkIndex("indexSelect", index);
    return indexSelectImpl(input, dim, index);
  },
);

/** `gather(input, dim, index, *, sparse_grad=False)` */
export const gather = op(
  signature(
    "gather",
    [self, dimArg, indexArg],
    [arg.unsupported("sparseGrad", false, "sparse gradients are not supported")],
  ),
  ({ input: x, dim, index }): Tensor => {
    checkIndex("gather", index);
    const d = normDim(dim, x.ndim, "gather");
    sameDevice("gather", x, index);
    if (index.ndim !== x.ndim) {
      throw new ShapeError(
        `gather(): Index tensor must have the same number of dimensions as input tensor (${x.ndim}), got ${index.ndim}`,
      );
    }
    const out = empty(index.shape, x.dtype, x);
    if (out.numel() > 0) x.backend.gather(x.view_, d, index.view_, out.view_);
    if (!needsGrad(x)) return out;
    return recordOp({
      name: "GatherBackward0",
      inputs: [x],
      output: out,
      backward: (g) => [scatterImpl("add", zerosLike(x, { dtype: g.dtype }), d, index, g, null)],
    });
  },
);

type Reduce = "add" | "multiply";

/**
 * scatter / scatter_add out of place. `reduce` (PyTorch's `scatter(..., reduce=)`): "add" accumulates, "multiply"
 * multiplies, each for every occurrence of an index, with a tensor `src` or a scalar `value`.
 */
function scatterImpl(
  mode: "set" | "add",
  x: Tensor,
  dim: number,
  index: Tensor,
  src: Tensor | Scalar,
  reduce: Reduce | null,
): Tensor {
  const what = mode === "set" ? "scatter" : "scatterAdd";
  const d = normDim(dim, x.ndim, what);
  if (index.ndim !== x.ndim && index.numel() > 0) {
    throw new ShapeError(
      `${what}(): Index tensor must have the same number of dimensions as self tensor (${x.ndim}), got ${index.ndim}`,
    );
  }
  const srcT = typeof src === "object" ? src : null;
  if (srcT && srcT.ndim !== index.ndim && index.numel() > 0) {
    throw new ShapeError(
      `${what}(): Index tensor must have the same number of dimensions as src tensor (${srcT.ndim}), got ${index.ndim}`,
    );
  }
  const s = srcT ? cast(srcT, x.dtype) : expandTo(toTensor(src, x.dtype, x), index.shape, what);
  sameDevice(what, x, index, s);
  const kernelMode = mode === "add" || reduce === "add" ? "add" : "set";
  let out: Tensor;
  if (reduce === "multiply") {
    out = scatterMultiply(x, d, index, s);
  } else {
    out = copyOf(x);
    if (index.numel() > 0) x.backend.scatter(kernelMode, out.view_, d, index.view_, s.view_);
  }
  if (!needsGrad(x, srcT)) return out;
  if (reduce !== null) {
    // as PyTorch 1.13, which has no derivative for scatter with reduce
    return recordOp({
      name: "ScatterBackward0",
      inputs: [x, srcT],
      output: out,
      backward: () => {
        throw new Error(`derivative for scatter with reduce="${reduce}" is not implemented (as in PyTorch)`);
      },
    });
  }
  return recordOp({
    name: mode === "add" ? "ScatterAddBackward0" : srcT ? "ScatterBackward0" : "ScatterBackward1",
    inputs: [x, srcT],
    output: out,
    backward: (g) => [
      mode === "set" ? scatterImpl("set", g, d, index, 0, null) : g,
      srcT ? gatherKernel(g, d, index) : null,
    ],
  });
}
/** The gradient of src: g gathered at the index (PyTorch's `grad.gather(dim, index)`). */
function gatherKernel(g: Tensor, d: number, index: Tensor): Tensor {
  const out = empty(index.shape, g.dtype, g);
  if (out.numel() > 0) g.backend.gather(g.view_, d, index.view_, out.view_);
  return out;
}

/**
 * out[index] *= src for every occurrence, composed of gather and scatter: the positions written by one slice
 * j of the index along `dim` are distinct, so going slice by slice is exact, in PyTorch's order of products.
 */
function scatterMultiply(x: Tensor, d: number, index: Tensor, src: Tensor): Tensor {
  const out = copyOf(x);
  if (index.numel() === 0) return out;
  // src may be larger than index along any dim: only its leading index-shaped block is read
  const s = new Tensor(src.storage, index.shape, src.strides, src.offset);
  for (let j = 0; j < index.shape[d]; j++) {
    const idx = contiguous(sliceDim(index, d, j, j + 1, 1));
    const cur = gatherKernel(out, d, idx);
    const prod = empty(idx.shape, x.dtype, x);
    x.backend.binary("mul", cur.view_, sliceDim(s, d, j, j + 1, 1).view_, prod.view_);
    x.backend.scatter("set", out.view_, d, idx.view_, prod.view_);
  }
  return out;
}

const reduceArg = arg.opt("reduce", k.oneOf("add", "multiply"));

function scatterForms(name: "scatter" | "scatter_") {
  const forms: ("function" | "method")[] = name === "scatter" ? ["function", "method"] : ["method"];
  const run = (x: Tensor, dim: number, index: Tensor, src: Tensor | Scalar, reduce: Reduce | null) => {
    checkIndex(name, index);
    if (name === "scatter") return scatterImpl("set", x, dim, index, src, reduce);
    return inplace(x, [src], (s): Tensor => scatterImpl("set", s, dim, index, src, reduce), name);
  };
  return overloads(
    op(
      signature(name, [self, dimArg, indexArg, arg("src", k.tensor)], [reduceArg], { forms }),
      ({ input, dim, index, src, reduce }): Tensor => run(input, dim, index, src, reduce),
    ),
    op(
      signature(name, [self, dimArg, indexArg, arg("value", k.scalar)], [reduceArg], { forms }),
      ({ input, dim, index, value, reduce }): Tensor => run(input, dim, index, value, reduce),
    ),
  );
}
/**
 * `scatter(input, dim, index, src, *, reduce=None)` and `scatter(input, dim, index, value, *, reduce=None)`:
 * a copy of `input` with `src` (or the scalar `value`) written at `index` along `dim`; `reduce: "add"` or
 * `"multiply"` combines with what is there instead of replacing it.
 */
export const scatter = scatterForms("scatter");
/** `x.scatter_(dim, index, src, *, reduce=None)`, `x.scatter_(dim, index, value, *, reduce=None)`: in place */
export const scatter_ = scatterForms("scatter_");

const srcArg = arg("src", k.tensor);
/** `scatter_add(input, dim, index, src)`: a copy of `input` with `src` added at `index` along `dim` */
export const scatterAdd = op(
  signature("scatterAdd", [self, dimArg, indexArg, srcArg]),
  ({ input, dim, index, src }): Tensor => {
    checkIndex("scatterAdd", index);
    return scatterImpl("add", input, dim, index, src, null);
  },
);
/** `x.scatter_add_(dim, index, src)`: in place */
export const scatterAdd_ = op(
  signature("scatterAdd_", [self, dimArg, indexArg, srcArg], [], { forms: ["method"] }),
  ({ input: x, dim, index, src }): Tensor => {
    checkIndex("scatterAdd_", index);
    return inplace(x, [src], (s): Tensor => scatterImpl("add", s, dim, index, src, null), "scatterAdd_");
  },
);

function maskedFillImpl(x: Tensor, mask: Tensor, value: Tensor | Scalar): Tensor {
  if (mask.dtype !== "bool") throw new DTypeError(`masked_fill(): expected a bool mask, got ${mask.dtype}`);
  if (typeof value === "object" && value.ndim !== 0) {
    throw new ShapeError(
      `masked_fill(): only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s)`,
    );
  }
  const v = typeof value === "object" ? value.to(x.dtype) : value;
  return x.where(mask.logicalNot(), v);
}
const maskArgs = [self, arg("mask", k.tensor), arg("value", k.tensorOrScalar)] as const;
/** `masked_fill(input, mask, value)`: `input` with `value` (a number or a 0-dim tensor) where the bool `mask` is true */
export const maskedFill = op(
  signature("maskedFill", maskArgs),
  ({ input, mask, value }): Tensor => maskedFillImpl(input, mask, value),
);
/** `x.masked_fill_(mask, value)`: in place */
export const maskedFill_ = op(
  signature("maskedFill_", maskArgs, [], { forms: ["method"] }),
  ({ input, mask, value }): Tensor =>
    inplace(input, [value], (s): Tensor => maskedFillImpl(s, mask, value), "maskedFill_"),
);

function isValue(v: unknown): v is Tensor | Scalar {
  return v instanceof Tensor || typeof v === "number" || typeof v === "boolean";
}

/** Out-of-place `x[items] = value`. */
export function indexPut(x: Tensor, items: readonly IndexItem[], value: Tensor | Scalar): Tensor {
  if (!isValue(value)) throw badValue("indexPut", value);
  const out = copyOf(x);
  writeIndexed(out, items, value);
  const gv = typeof value === "object" ? value : null;
  if (!needsGrad(x, gv)) return out;
  return recordOp({
    name: "IndexPutBackward0",
    inputs: [x, gv],
    output: out,
    backward: (g) => [indexPut(g, items, 0), gv ? at(g, ...items) : null],
  });
}

function badValue(what: string, value: unknown): ArgumentError {
  return new ArgumentError(
    `${what}(): argument "value" must be Tensor or Number, got ${
      value === undefined
        ? "undefined (call it as x.set([...items], value))"
        : value === null
          ? "null"
          : Array.isArray(value)
            ? "a list (make it a tensor: tensor([...]))"
            : typeof value
    }`,
  );
}

/** Write `value` into `x[items]` in place, without autograd. */
function writeIndexed(x: Tensor, items: readonly IndexItem[], value: Tensor | Scalar): void {
  const hasAdv = items.some((it) => it instanceof Tensor || Array.isArray(it));
  if (!hasAdv) {
    const region = at(x, ...items);
    const v = typeof value === "object" ? value : toTensor(value, x.dtype, x);
    sameDevice("set", x, v);
    const vv = expandTo(v, region.shape, "set").view_;
    x.backend.copy(vv, region.writeView_);
    return;
  }
  // advanced: index a tensor of flat positions the same way, then scatter into the flat storage
  const posR = at(arange(0, x.numel(), { device: x.device }).reshape(x.shape), ...items);
  const positions = posR.contiguous().reshape(-1);
  if (positions.numel() === 0) return;
  const v = typeof value === "object" ? cast(value, x.dtype) : toTensor(value, x.dtype, x);
  sameDevice("set", x, v);
  const src = copyOf(expandTo(v, posR.shape, "set")).reshape(-1);
  const dense = x.isContiguous() ? x : copyOf(x);
  const flat = new Tensor(dense.storage, [x.numel()], [1], dense.offset);
  const pv = positions.view_;
  const sv = src.view_;
  x.backend.scatter("set", flat.writeView_, 0, pv, sv);
  if (dense !== x) {
    const dv = dense.view_;
    x.backend.copy(dv, x.writeView_);
  }
}

/** `x[items] = value` in place (autograd rebases x, as PyTorch does). */
export function set(x: Tensor, items: readonly IndexItem[] | IndexItem, value: Tensor | Scalar): Tensor {
  if (!isValue(value)) throw badValue("set", value);
  const list = (Array.isArray(items) ? items : [items]) as IndexItem[];
  return inplace(
    x,
    [value],
    (src, out) => {
      if (out) {
        writeIndexed(out, list, value);
        return out;
      }
      return indexPut(src, list, value);
    },
    "set",
  );
}

/** Shape and view ops. Views share storage and only change (shape, strides, offset). */
import { promoteTypes as promote } from "../dtype";
import { fmtShape, IndexError, ShapeError } from "../errors";
import { needsGrad, needsGradAny, recordOp } from "../grad";
import {
  broadcastStrides,
  checkShape,
  contiguousStrides,
  inferShape,
  normDim,
  sameShape,
  viewStrides,
} from "../shape";
import { arg, k, op, overloads, self, signature } from "../signature";
import { Tensor } from "../tensor";
import { arange } from "./creation";
import { cast, copyOf, empty, sameDevice } from "./kernels";
import { viewAsDtype } from "./view-dtype";

const other = arg("other", k.tensor);

/** A view over the same storage, recorded with a backward closure. */
function viewOf(
  x: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  name: string,
  backward: (g: Tensor) => Tensor,
): Tensor {
  const y = new Tensor(x.storage, shape, strides, offset);
  if (!needsGrad(x)) return y;
  return recordOp({ name, inputs: [x], output: y, backward: oneGrad(backward) });
}

// (closures returned by a function, not written inline under a property name: esbuild's keepNames, in tsup's
// build and tsx, wraps named closures in a defineProperty per call; see ops/elementwise.ts)
function oneGrad(backward: (g: Tensor) => Tensor) {
  return (g: Tensor) => [backward(g)];
}
const passGrad = (g: Tensor) => [g];

function viewImpl(x: Tensor, size: readonly number[]): Tensor {
  const shape = inferShape(size, x.numel(), "view");
  const strides = viewStrides(x.shape, x.strides, shape);
  if (!strides) {
    throw new ShapeError(
      `view size is not compatible with input tensor's size and stride (at least one dimension spans across two ` +
        `contiguous subspaces): cannot view shape ${fmtShape(x.shape)} with strides ${fmtShape(x.strides)} as ` +
        `${fmtShape(shape)}. Use .reshape(...) instead, or call .contiguous() first.`,
    );
  }
  return viewOf(x, shape, strides, x.offset, "ViewBackward0", (g) => reshapeImpl(g, x.shape));
}
/**
 * `x.view(*size)`: `x.view(2, 3)` or `x.view([2, 3])` (a view; fails where strides do not allow one); `x.view(dtype)`:
 * the bytes read as another dtype (view-dtype.ts).
 */
export const view = overloads(
  op(
    signature("view", [self, arg.varargs("size")], [], { forms: ["method"] }),
    ({ input, size }): Tensor => viewImpl(input, size),
  ),
  op(
    signature("view", [self, arg("dtype", k.dtype)], [], { forms: ["method"] }),
    ({ input, dtype }): Tensor =>
      dtype === input.dtype ? viewImpl(input, input.shape) : viewAsDtype(input, dtype),
  ),
);
/** `x.view_as(other)` */
export const viewAs = op(
  signature("viewAs", [self, other], [], { forms: ["method"] }),
  ({ input, other }): Tensor => viewImpl(input, other.shape),
);

export function reshapeImpl(x: Tensor, size: readonly number[]): Tensor {
  const shape = inferShape(size, x.numel(), "reshape");
  const strides = viewStrides(x.shape, x.strides, shape);
  if (strides) return viewOf(x, shape, strides, x.offset, "ViewBackward0", (g) => reshapeImpl(g, x.shape));
  return viewImpl(cloneImpl(x), shape);
}
/** `torch.reshape(input, shape)` (a view where strides allow, else a copy) */
export const reshape = op(
  signature("reshape", [self, arg("shape", k.ints)], [], { forms: ["function"] }),
  ({ input, shape }): Tensor => reshapeImpl(input, shape),
);
/** `x.reshape(*shape)`: `x.reshape(2, 3)` or `x.reshape([2, 3])` */
export const reshapeMethod = op(
  signature("reshape", [self, arg.varargs("shape")], [], { forms: ["method"] }),
  ({ input, shape }): Tensor => reshapeImpl(input, shape),
);
/** `x.reshape_as(other)` */
export const reshapeAs = op(
  signature("reshapeAs", [self, other], [], { forms: ["method"] }),
  ({ input, other }): Tensor => reshapeImpl(input, other.shape),
);

function cloneImpl(x: Tensor): Tensor {
  const y = copyOf(x);
  if (!needsGrad(x)) return y;
  return recordOp({ name: "CloneBackward0", inputs: [x], output: y, backward: passGrad });
}
const noMemoryFormat = "memory formats are not supported: Cinder tensors are always row-major";
/** `clone(input, *, memory_format=None)` */
export const clone = op(
  signature("clone", [self], [arg.unsupported("memoryFormat", null, noMemoryFormat)]),
  ({ input }): Tensor => cloneImpl(input),
);

/** `x.contiguous(memory_format=torch.contiguous_format)` */
export const contiguous = op(
  signature("contiguous", [self, arg.unsupported("memoryFormat", "contiguous_format", noMemoryFormat)], [], {
    forms: ["method"],
  }),
  ({ input }): Tensor => (input.isContiguous() ? input : cloneImpl(input)),
);

/** Detached alias sharing storage (autograd's `detach()` builds on this). */
export function alias(x: Tensor): Tensor {
  return new Tensor(x.storage, x.shape, x.strides, x.offset);
}

/** `squeeze(input, dim=None)`: drop size-1 dims (all, or `dim` if its size is 1) */
export const squeeze = op(
  signature("squeeze", [self, arg.opt("dim", k.int)]),
  ({ input, dim }): Tensor => squeezeImpl(input, dim),
);
function squeezeImpl(x: Tensor, dim: number | null): Tensor {
  const d = dim === null ? -1 : normDim(dim, x.ndim, "squeeze");
  const keep = x.shape.map((s, i) => !(s === 1 && (d === -1 || i === d)));
  const shape = x.shape.filter((_, i) => keep[i]);
  const strides = x.strides.filter((_, i) => keep[i]);
  return viewOf(x, shape, strides, x.offset, dim === null ? "SqueezeBackward0" : "SqueezeBackward1", (g) =>
    reshapeImpl(g, x.shape),
  );
}

/** `unsqueeze(input, dim)` */
export const unsqueeze = op(
  signature("unsqueeze", [self, arg("dim", k.int)]),
  ({ input, dim }): Tensor => unsqueezeImpl(input, dim),
);
function unsqueezeImpl(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1, "unsqueeze");
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return viewOf(x, shape, strides, x.offset, "UnsqueezeBackward0", (g) => squeezeImpl(g, d));
}

function permuteImpl(x: Tensor, dims: readonly number[]): Tensor {
  const order = dims.map((d) => normDim(d, x.ndim, "permute"));
  if (order.length !== x.ndim || new Set(order).size !== order.length) {
    throw new ShapeError(
      `permute(): number of dims don't match: expected a permutation of ${x.ndim} dims, got ${fmtShape(dims)}`,
    );
  }
  const inverse = new Array<number>(order.length);
  order.forEach((d, i) => {
    inverse[d] = i;
  });
  return viewOf(
    x,
    order.map((d) => x.shape[d]),
    order.map((d) => x.strides[d]),
    x.offset,
    "PermuteBackward0",
    (g) => permuteImpl(g, inverse),
  );
}
/** `torch.permute(input, dims)` */
export const permute = op(
  signature("permute", [self, arg("dims", k.ints)], [], { forms: ["function"] }),
  ({ input, dims }): Tensor => permuteImpl(input, dims),
);
/** `x.permute(*dims)`: `x.permute(2, 0, 1)` or `x.permute([2, 0, 1])` */
export const permuteMethod = op(
  signature("permute", [self, arg.varargs("dims")], [], { forms: ["method"] }),
  ({ input, dims }): Tensor => permuteImpl(input, dims),
);

function transposeImpl(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normDim(dim0, x.ndim, "transpose");
  const b = normDim(dim1, x.ndim, "transpose");
  const shape = [...x.shape];
  const strides = [...x.strides];
  [shape[a], shape[b]] = [shape[b], shape[a]];
  [strides[a], strides[b]] = [strides[b], strides[a]];
  return viewOf(x, shape, strides, x.offset, "TransposeBackward0", (g) => transposeImpl(g, a, b));
}
/** `transpose(input, dim0, dim1)` */
export const transpose = op(
  signature("transpose", [self, arg("dim0", k.int), arg("dim1", k.int)]),
  ({ input, dim0, dim1 }): Tensor => transposeImpl(input, dim0, dim1),
);

/** `t(input)`: 2-D transpose (0-D and 1-D tensors are returned as they are) */
export const t = op(signature("t", [self]), ({ input: x }): Tensor => {
  if (x.ndim > 2) throw new ShapeError(`t() expects a tensor with <= 2 dimensions, but got ${x.ndim}D`);
  if (x.ndim < 2) return x;
  return transposeImpl(x, 0, 1);
});

/** `flatten(input, start_dim=0, end_dim=-1)` */
export const flatten = op(
  signature("flatten", [self, arg("startDim", k.int, 0), arg("endDim", k.int, -1)]),
  ({ input: x, startDim, endDim }): Tensor => {
    if (x.ndim === 0) {
      normDim(startDim, 1, "flatten");
      normDim(endDim, 1, "flatten");
      return reshapeImpl(x, [1]);
    }
    const s = normDim(startDim, x.ndim, "flatten");
    const e = normDim(endDim, x.ndim, "flatten");
    if (s > e)
      throw new ShapeError(
        `flatten() has invalid args: start_dim (${startDim}) cannot come after end_dim (${endDim})`,
      );
    const shape = [
      ...x.shape.slice(0, s),
      x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1),
      ...x.shape.slice(e + 1),
    ];
    return reshapeImpl(x, shape);
  },
);

/** `unflatten(input, dim, sizes)`: one dim into `sizes` (one of them may be -1) */
export const unflatten = op(
  signature("unflatten", [self, arg("dim", k.int), arg("sizes", k.ints)]),
  ({ input: x, dim, sizes }): Tensor => {
    const d = normDim(dim, x.ndim, "unflatten");
    const inner = inferShape(sizes, x.shape[d], "unflatten");
    return reshapeImpl(x, [...x.shape.slice(0, d), ...inner, ...x.shape.slice(d + 1)]);
  },
);

/** Broadcast to a larger shape without copying; -1 keeps a dimension. */
function expandImpl(x: Tensor, req: readonly number[]): Tensor {
  if (req.length < x.ndim) {
    throw new ShapeError(
      `expand(): the number of sizes provided (${req.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`,
    );
  }
  const shape = req.map((d, i) => (d === -1 ? x.shape[i - (req.length - x.ndim)] : d));
  checkShape(shape, "expand");
  if (sameShape(shape, x.shape)) return x;
  const strides = broadcastStrides(x.shape, x.strides, shape, "expand");
  // the autograd engine sums broadcast gradients back to x's shape
  return viewOf(x, shape, strides, x.offset, "ExpandBackward0", (g) => g);
}
/** `x.expand(*size)`: `x.expand(3, -1)` or `x.expand([3, -1])` (a broadcast view; -1 keeps a dim) */
export const expand = op(
  signature(
    "expand",
    [self, arg.varargs("size")],
    [arg.unsupported("implicit", false, "implicit=True is internal to PyTorch's tracer")],
    { forms: ["method"] },
  ),
  ({ input, size }): Tensor => expandImpl(input, size),
);
/** `x.expand_as(other)` */
export const expandAs = op(
  signature("expandAs", [self, other], [], { forms: ["method"] }),
  ({ input, other }): Tensor => expandImpl(input, other.shape),
);

function narrowImpl(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.ndim, "narrow");
  const size = x.shape[d];
  const s = start < 0 ? start + size : start;
  if (s < 0 || length < 0 || s + length > size) {
    throw new IndexError(
      `narrow(): start (${start}) + length (${length}) exceeds dimension size (${size}) of dim ${d}`,
    );
  }
  return sliceDim(x, d, s, s + length, 1);
}
/** `narrow(input, dim, start, length)`: the elements [start, start + length) of `dim` (a view) */
export const narrow = op(
  signature("narrow", [self, arg("dim", k.int), arg("start", k.int), arg("length", k.int)]),
  ({ input, dim, start, length }): Tensor => narrowImpl(input, dim, start, length),
);

/** A strided slice [start, stop) by `step` (> 0) of one dim, already normalised. */
export function sliceDim(x: Tensor, d: number, start: number, stop: number, step: number): Tensor {
  const len = Math.max(0, Math.ceil((stop - start) / step));
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape[d] = len;
  strides[d] = x.strides[d] * step;
  const offset = x.offset + (len > 0 ? start * x.strides[d] : 0);
  return viewOf(x, shape, strides, offset, "SliceBackward0", (g) => {
    const z = empty(x.shape, g.dtype, g);
    const region = new Tensor(
      z.storage,
      shape,
      contiguousStrides(x.shape).map((s, i) => (i === d ? s * step : s)),
      len > 0 ? start * contiguousStrides(x.shape)[d] : 0,
    );
    region.copy_(g);
    return z;
  });
}

/** Index one position of `dim`, removing it (a view). */
export function selectImpl(x: Tensor, dim: number, index: number): Tensor {
  const d = normDim(dim, x.ndim, "select");
  const size = x.shape[d];
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new IndexError(
      `select(): index ${index} out of range for tensor of size ${fmtShape(x.shape)} at dimension ${d}`,
    );
  }
  const i = index < 0 ? index + size : index;
  const shape = x.shape.filter((_, k) => k !== d);
  const strides = x.strides.filter((_, k) => k !== d);
  return viewOf(x, shape, strides, x.offset + i * x.strides[d], "SelectBackward0", (g) => {
    const z = empty(x.shape, g.dtype, g);
    const cs = contiguousStrides(x.shape);
    new Tensor(
      z.storage,
      shape,
      cs.filter((_, k) => k !== d),
      i * cs[d],
    ).copy_(g);
    return z;
  });
}
/** `select(input, dim, index)`: one position of `dim`, removing the dim (a view) */
export const select = op(
  signature("select", [self, arg("dim", k.int), arg("index", k.int)]),
  ({ input, dim, index }): Tensor => selectImpl(input, dim, index),
);

const tensorsArg = arg("tensors", k.tensors);
const dim0 = arg("dim", k.int, 0);

function catImpl(tensors: readonly Tensor[], dim: number): Tensor {
  if (tensors.length === 0) throw new ShapeError("cat(): expected a non-empty list of tensors");
  // PyTorch skips 1-D empty tensors in cat
  const parts = tensors.filter((t) => !(t.ndim === 1 && t.shape[0] === 0));
  if (parts.length === 0) return tensors[0];
  const ref = parts[0];
  const d = normDim(dim, ref.ndim, "cat");
  sameDevice("cat", ...parts);
  let total = 0;
  for (const [i, p] of parts.entries()) {
    if (p.ndim !== ref.ndim || p.shape.some((s, k) => k !== d && s !== ref.shape[k])) {
      throw new ShapeError(
        `cat(): sizes of tensors must match except in dimension ${d}: expected ${fmtShape(ref.shape)}-like, ` +
          `got ${fmtShape(p.shape)} for tensor ${i} in the list`,
      );
    }
    total += p.shape[d];
  }
  const dtype = parts.map((p) => p.dtype).reduce((a, b) => (a === b ? a : promote(a, b)));
  const shape = [...ref.shape];
  shape[d] = total;
  const out = empty(shape, dtype, ref);
  let at = 0;
  const offsets: number[] = [];
  const cs = out.strides;
  for (const p of parts) {
    offsets.push(at);
    const dst = new Tensor(out.storage, p.shape, cs, at * cs[d]);
    p.backend.copy(cast(p, dtype).view_, dst.view_);
    at += p.shape[d];
  }
  if (!needsGradAny(parts)) return out;
  return recordOp({
    name: "CatBackward0",
    inputs: parts,
    output: out,
    backward: (g) => parts.map((p, i) => narrowImpl(g, d, offsets[i], p.shape[d])),
  });
}
/** `cat(tensors, dim=0)` */
export const cat = op(
  signature("cat", [tensorsArg, dim0]),
  ({ tensors, dim }): Tensor => catImpl(tensors, dim),
);

/** `stack(tensors, dim=0)` */
export const stack = op(signature("stack", [tensorsArg, dim0]), ({ tensors, dim }): Tensor => {
  if (tensors.length === 0) throw new ShapeError("stack(): expected a non-empty list of tensors");
  const ref = tensors[0];
  for (const [i, t] of tensors.entries()) {
    if (!sameShape(t.shape, ref.shape)) {
      throw new ShapeError(
        `stack(): expects each tensor to be equal size, but got ${fmtShape(ref.shape)} at entry 0 and ${fmtShape(t.shape)} at entry ${i}`,
      );
    }
  }
  const d = normDim(dim, ref.ndim + 1, "stack");
  return catImpl(
    tensors.map((t) => unsqueezeImpl(t, d)),
    d,
  );
});

/** Split into chunks of `size` (or the given sizes) along `dim` (views). */
function splitImpl(x: Tensor, sizeOrSections: number | readonly number[], dim: number): Tensor[] {
  const d = normDim(dim, x.ndim, "split");
  const n = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === "number") {
    if (sizeOrSections <= 0 && !(sizeOrSections === 0 && n === 0))
      throw new ShapeError(`split(): split_size must be positive, got ${sizeOrSections}`);
    sizes = [];
    for (let at = 0; at < n || (n === 0 && sizes.length === 0); at += sizeOrSections)
      sizes.push(Math.min(sizeOrSections, n - at));
  } else {
    sizes = [...sizeOrSections];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n || sizes.some((s) => s < 0)) {
      throw new ShapeError(
        `split(): split_with_sizes expects split_sizes to sum exactly to ${n} (input tensor's size at dimension ${d}), but got split_sizes=${fmtShape(sizes)}`,
      );
    }
  }
  let at = 0;
  return sizes.map((s) => {
    const part = narrowImpl(x, d, at, s);
    at += s;
    return part;
  });
}
/** `torch.split(tensor, split_size_or_sections, dim=0)`: pieces of one size (the last may be smaller) or of the given sizes */
export const split = op(
  signature("split", [arg("tensor", k.tensor), arg("splitSizeOrSections", k.intOrInts), dim0], [], {
    forms: ["function"],
  }),
  ({ tensor, splitSizeOrSections, dim }): Tensor[] => splitImpl(tensor, splitSizeOrSections, dim),
);
/** `x.split(split_size, dim=0)` (an int or a list of sizes, as torch.split) */
export const splitMethod = op(
  signature("split", [self, arg("splitSize", k.intOrInts), dim0], [], { forms: ["method"] }),
  ({ input, splitSize, dim }): Tensor[] => splitImpl(input, splitSize, dim),
);

/** `chunk(input, chunks, dim=0)`: `chunks` nearly equal pieces (the last may be smaller) */
export const chunk = op(
  signature("chunk", [self, arg("chunks", k.int), dim0]),
  ({ input: x, chunks, dim }): Tensor[] => {
    if (chunks <= 0)
      throw new ShapeError(`chunk(): chunk expects \`chunks\` to be greater than 0, got: ${chunks}`);
    const d = normDim(dim, x.ndim, "chunk");
    const size = Math.ceil(x.shape[d] / chunks) || 1;
    return splitImpl(x, size, d);
  },
);

/** `unbind(input, dim=0)`: every position of `dim`, each without it (views) */
export const unbind = op(signature("unbind", [self, dim0]), ({ input: x, dim }): Tensor[] => {
  const d = normDim(dim, x.ndim, "unbind");
  return Array.from({ length: x.shape[d] }, (_, i) => selectImpl(x, d, i));
});

/** `x.repeat(*repeats)`: tile the tensor; `repeat(2, 3)` doubles dim -2 and triples dim -1 */
export const repeat = op(
  signature("repeat", [self, arg.varargs("repeats")], [], { forms: ["method"] }),
  ({ input: x, repeats: reps }): Tensor => {
    if (reps.length < x.ndim) {
      throw new ShapeError(
        `repeat(): number of dimensions of repeat dims (${reps.length}) can not be smaller than number of dimensions of tensor (${x.ndim})`,
      );
    }
    const lead = reps.length - x.ndim;
    const xs = [...new Array(lead).fill(1), ...x.shape];
    // view x as [1, s0, 1, s1, ...], expand to [r0, s0, r1, s1, ...], copy, reshape
    const inter: number[] = [];
    const expanded: number[] = [];
    xs.forEach((s, i) => {
      inter.push(1, s);
      expanded.push(reps[i], s);
    });
    const out = expandImpl(reshapeImpl(x, inter), expanded);
    return reshapeImpl(
      out.isContiguous() ? out : cloneImpl(out),
      xs.map((s, i) => s * reps[i]),
    );
  },
);

function flipImpl(x: Tensor, dims: readonly number[]): Tensor {
  const ds = dims.map((d) => normDim(d, x.ndim, "flip"));
  if (new Set(ds).size !== ds.length) {
    const dup = ds.find((d, i) => ds.indexOf(d) !== i);
    throw new ShapeError(`flip(): dim ${dup} appears multiple times in the list of dims`);
  }
  let y = x;
  for (const d of ds) {
    const n = x.shape[d];
    y = y.indexSelect(d, arange(n - 1, -1, -1, { device: x.device }));
  }
  return y;
}
/** `torch.flip(input, dims)` */
export const flip = op(
  signature("flip", [self, arg("dims", k.ints)], [], { forms: ["function"] }),
  ({ input, dims }): Tensor => flipImpl(input, dims),
);
/** `x.flip(*dims)`: `x.flip(0, 1)` or `x.flip([0, 1])` */
export const flipMethod = op(
  signature("flip", [self, arg.varargs("dims")], [], { forms: ["method"] }),
  ({ input, dims }): Tensor => flipImpl(input, dims),
);

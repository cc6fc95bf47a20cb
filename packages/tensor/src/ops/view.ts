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
import { Tensor } from "../tensor";
import { arange } from "./creation";
import { cast, copyOf, empty, sameDevice } from "./kernels";

/** `(2, 3)` or `([2, 3])`. */
export type ShapeArgs = readonly (number | readonly number[])[];

/** Accept `f(2, 3)` and `f([2, 3])`. */
export function shapeArg(args: ShapeArgs): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  if (args.some((a) => typeof a !== "number")) {
    throw new TypeError(
      `expected a shape as numbers or one array of numbers, got (${args.map((a) => JSON.stringify(a)).join(", ")})`,
    );
  }
  return args as number[];
}

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
  return recordOp({ name, inputs: [x], output: y, backward: (g) => [backward(g)] });
}

export function view(x: Tensor, ...args: ShapeArgs): Tensor {
  const shape = inferShape(shapeArg(args), x.numel(), "view");
  const strides = viewStrides(x.shape, x.strides, shape);
  if (!strides) {
    throw new ShapeError(
      `view size is not compatible with input tensor's size and stride (at least one dimension spans across two ` +
        `contiguous subspaces): cannot view shape ${fmtShape(x.shape)} with strides ${fmtShape(x.strides)} as ` +
        `${fmtShape(shape)}. Use .reshape(...) instead, or call .contiguous() first.`,
    );
  }
  return viewOf(x, shape, strides, x.offset, "ViewBackward0", (g) => g.reshape(x.shape));
}

export function reshape(x: Tensor, ...args: ShapeArgs): Tensor {
  const shape = inferShape(shapeArg(args), x.numel(), "reshape");
  const strides = viewStrides(x.shape, x.strides, shape);
  if (strides) return viewOf(x, shape, strides, x.offset, "ViewBackward0", (g) => g.reshape(x.shape));
  return view(clone(x), shape);
}

export function clone(x: Tensor): Tensor {
  const y = copyOf(x);
  if (!needsGrad(x)) return y;
  return recordOp({ name: "CloneBackward0", inputs: [x], output: y, backward: (g) => [g] });
}

export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : clone(x);
}

/** Detached alias sharing storage (autograd's `detach()` builds on this). */
export function alias(x: Tensor): Tensor {
  return new Tensor(x.storage, x.shape, x.strides, x.offset);
}

export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const dims =
    dim === undefined
      ? x.shape.map((_, i) => i)
      : (typeof dim === "number" ? [dim] : dim).map((d) => normDim(d, x.ndim, "squeeze"));
  const keep = x.shape.map((s, i) => !(s === 1 && dims.includes(i)));
  const shape = x.shape.filter((_, i) => keep[i]);
  const strides = x.strides.filter((_, i) => keep[i]);
  return viewOf(
    x,
    shape,
    strides,
    x.offset,
    dim === undefined ? "SqueezeBackward0" : "SqueezeBackward1",
    (g) => g.reshape(x.shape),
  );
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1, "unsqueeze");
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return viewOf(x, shape, strides, x.offset, "UnsqueezeBackward0", (g) => g.squeeze(d));
}

export function permute(x: Tensor, ...args: ShapeArgs): Tensor {
  const order = shapeArg(args).map((d) => normDim(d, x.ndim, "permute"));
  if (order.length !== x.ndim || new Set(order).size !== order.length) {
    throw new ShapeError(
      `permute: number of dims don't match: expected a permutation of ${x.ndim} dims, got ${fmtShape(shapeArg(args))}`,
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
    (g) => g.permute(inverse),
  );
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normDim(dim0, x.ndim, "transpose");
  const b = normDim(dim1, x.ndim, "transpose");
  const shape = [...x.shape];
  const strides = [...x.strides];
  [shape[a], shape[b]] = [shape[b], shape[a]];
  [strides[a], strides[b]] = [strides[b], strides[a]];
  return viewOf(x, shape, strides, x.offset, "TransposeBackward0", (g) => g.transpose(a, b));
}

/** 2-D transpose (0-D and 1-D tensors are returned as they are), as torch.t. */
export function t(x: Tensor): Tensor {
  if (x.ndim > 2) throw new ShapeError(`t() expects a tensor with <= 2 dimensions, but got ${x.ndim}D`);
  if (x.ndim < 2) return x;
  return transpose(x, 0, 1);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return x.reshape(1);
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
  return x.reshape(shape);
}

/** Unflatten one dim into `sizes` (torch.unflatten). */
export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  const d = normDim(dim, x.ndim, "unflatten");
  const inner = inferShape(sizes, x.shape[d], "unflatten");
  return x.reshape([...x.shape.slice(0, d), ...inner, ...x.shape.slice(d + 1)]);
}

/** Broadcast to a larger shape without copying; -1 keeps a dimension. */
export function expand(x: Tensor, ...args: ShapeArgs): Tensor {
  const req = shapeArg(args);
  const shape = req.map((d, i) => (d === -1 ? x.shape[i - (req.length - x.ndim)] : d));
  checkShape(shape, "expand");
  if (sameShape(shape, x.shape)) return x;
  const strides = broadcastStrides(x.shape, x.strides, shape, "expand");
  // the autograd engine sums broadcast gradients back to x's shape
  return viewOf(x, shape, strides, x.offset, "ExpandBackward0", (g) => g);
}

export function expandAs(x: Tensor, other: Tensor): Tensor {
  return expand(x, other.shape);
}

/** The elements [start, start + length) of `dim` (a view). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.ndim, "narrow");
  const size = x.shape[d];
  const s = start < 0 ? start + size : start;
  if (s < 0 || length < 0 || s + length > size) {
    throw new IndexError(
      `narrow: start (${start}) + length (${length}) exceeds dimension size (${size}) of dim ${d}`,
    );
  }
  return sliceDim(x, d, s, s + length, 1);
}

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
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normDim(dim, x.ndim, "select");
  const size = x.shape[d];
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new IndexError(`index ${index} is out of bounds for dimension ${d} with size ${size}`);
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

export function cat(tensors: readonly Tensor[], dimOrOpts: number | { dim?: number } = 0): Tensor {
  const dim = typeof dimOrOpts === "number" ? dimOrOpts : (dimOrOpts.dim ?? 0);
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
    backward: (g) => parts.map((p, i) => g.narrow(d, offsets[i], p.shape[d])),
  });
}

export function stack(tensors: readonly Tensor[], dimOrOpts: number | { dim?: number } = 0): Tensor {
  const dim = typeof dimOrOpts === "number" ? dimOrOpts : (dimOrOpts.dim ?? 0);
  if (tensors.length === 0) throw new ShapeError("stack(): expected a non-empty list of tensors");
  const ref = tensors[0];
  for (const [i, t] of tensors.entries()) {
    if (!sameShape(t.shape, ref.shape)) {
      throw new ShapeError(
        `stack expects each tensor to be equal size, but got ${fmtShape(ref.shape)} at entry 0 and ${fmtShape(t.shape)} at entry ${i}`,
      );
    }
  }
  const d = normDim(dim, ref.ndim + 1, "stack");
  return cat(
    tensors.map((t) => unsqueeze(t, d)),
    d,
  );
}

/** Split into chunks of `size` (or the given sizes) along `dim` (views). */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim(dim, x.ndim, "split");
  const n = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === "number") {
    if (sizeOrSections <= 0)
      throw new ShapeError(`split: split_size must be positive, got ${sizeOrSections}`);
    sizes = [];
    for (let at = 0; at < n || (n === 0 && sizes.length === 0); at += sizeOrSections)
      sizes.push(Math.min(sizeOrSections, n - at));
  } else {
    sizes = [...sizeOrSections];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n) {
      throw new ShapeError(
        `split: split sizes ${fmtShape(sizes)} must sum to the size of dim ${d} (${n}), got ${total}`,
      );
    }
  }
  let at = 0;
  return sizes.map((s) => {
    const part = narrow(x, d, at, s);
    at += s;
    return part;
  });
}

/** Split into `chunks` nearly equal pieces along `dim` (the last may be smaller), as torch.chunk. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new ShapeError(`chunk expects chunks to be greater than 0, got ${chunks}`);
  const d = normDim(dim, x.ndim, "chunk");
  const size = Math.ceil(x.shape[d] / chunks) || 1;
  return split(x, size, d);
}

export function unbind(x: Tensor, dim = 0): Tensor[] {
  const d = normDim(dim, x.ndim, "unbind");
  return Array.from({ length: x.shape[d] }, (_, i) => select(x, d, i));
}

/** Tile the tensor (torch.repeat): `repeat(2, 3)` doubles dim -2 and triples dim -1. */
export function repeat(x: Tensor, ...args: ShapeArgs): Tensor {
  const reps = shapeArg(args);
  if (reps.length < x.ndim) {
    throw new ShapeError(
      `repeat: number of repeat dims (${reps.length}) can not be smaller than the number of tensor dims (${x.ndim})`,
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
  const out = x.reshape(inter).expand(expanded).contiguous();
  return out.reshape(xs.map((s, i) => s * reps[i]));
}

export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const ds = (typeof dims === "number" ? [dims] : dims).map((d) => normDim(d, x.ndim, "flip"));
  let y = x;
  for (const d of ds) {
    const n = x.shape[d];
    y = y.indexSelect(d, arange(n - 1, -1, -1, { device: x.device }));
  }
  return y;
}

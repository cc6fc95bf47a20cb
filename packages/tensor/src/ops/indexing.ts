/**
 * Indexing: `x.at(...items)` reads and `x.set([...items], value)` writes, covering every form of Python's
 * `x[...]`: integers (negative too), slices ("1:4:2", ":", slice()), "..." and null (new axis), integer lists or
 * tensors (advanced indexing, broadcast together), and boolean masks. Basic indexing returns a view.
 */
import { fmtShape, IndexError, ShapeError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { broadcastShapes, normDim, numel } from "../shape";
import { Tensor } from "../tensor";
import { arange, tensor, zerosLike } from "./creation";
import { inplace, type Scalar, toTensor } from "./elementwise";
import { cast, copyOf, empty, expandTo, sameDevice } from "./kernels";
import { select, sliceDim } from "./view";

export interface Slice {
  start?: number | null;
  stop?: number | null;
  step?: number | null;
}
type N = number | "";
/** Python slice syntax as a string: ":", "1:", ":-1", "1:4:2", "::2". */
export type SliceString = `${N}:${N}` | `${N}:${N}:${N}`;
export type NestedIndex = number | boolean | readonly NestedIndex[];
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
  const norm = normalize(x, items);
  const hasAdv = norm.some((it) => it instanceof Tensor);
  let cur = x;
  let dim = 0;
  let xdim = 0; // the dim of `x` the item indexes (errors name it, as PyTorch does)
  const adv: Adv[] = [];
  for (const it of norm) {
    if (it !== null) xdim += it instanceof Tensor && it.dtype === "bool" ? Math.max(it.ndim, 1) : 1;
    if (typeof it === "number") {
      boundsCheck(it, cur.shape[dim], xdim - 1);
      if (hasAdv) adv.push({ dim: dim++, index: tensor(it, { device: x.device }) });
      else cur = select(cur, dim, it);
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
        const nz = nonzero(mask);
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
    const idx = wrapIndex(cast(adv[j].index, "int32"), sizes[j], dims[j]);
    const term = mult === 1 ? idx : idx.mul(mult);
    linear = linear ? linear.add(term) : term;
    mult *= sizes[j];
  }
  const flatIdx = expandTo(linear!, S, "index").reshape(-1);
  const v = x.permute([...dims, ...rest]).reshape([mult, ...rest.map((d) => x.shape[d])]);
  let out = indexSelect(v, 0, flatIdx).reshape([...S, ...rest.map((d) => x.shape[d])]);
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

/** Coordinates of the nonzero elements as an int32 [n, ndim] tensor (reads the data: synchronous devices only). */
export function nonzero(x: Tensor): Tensor {
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
  return tensor(new Int32Array(coords), { device: x.device }).reshape(n, nd);
}

/** The index as a view broadcast along every dim but `dim` (stride 0), for gather/scatter kernels. */
function spreadIndex(index: Tensor, shape: readonly number[], dim: number): Tensor {
  const strides = shape.map((_, i) => (i === dim ? index.strides[0] : 0));
  return new Tensor(index.storage, shape, strides, index.offset);
}

/** Select entries of `dim` by a 1-D index (torch.index_select). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim(dim, x.ndim, "indexSelect");
  if (index.ndim > 1)
    throw new IndexError(`indexSelect: index must be 0-D or 1-D, got shape ${fmtShape(index.shape)}`);
  sameDevice("indexSelect", x, index);
  const idx = cast(index.reshape(-1), "int32");
  const shape = [...x.shape];
  shape[d] = idx.shape[0];
  const out = empty(shape, x.dtype, x);
  if (numel(shape) > 0) x.backend.gather(x.view_, d, spreadIndex(idx, shape, d).view_, out.view_);
  if (!needsGrad(x)) return out;
  return recordOp({
    name: "IndexSelectBackward0",
    inputs: [x],
    output: out,
    backward: (g) => [zerosLike(x, { dtype: g.dtype }).scatterAdd(d, spreadIndex(idx, g.shape, d), g)],
  });
}

/** torch.gather along `dim`. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim(dim, x.ndim, "gather");
  sameDevice("gather", x, index);
  if (index.ndim !== x.ndim) {
    throw new ShapeError(
      `gather: index tensor must have the same number of dimensions as input (${x.ndim}), got ${index.ndim}`,
    );
  }
  const idx = cast(index, "int32");
  const out = empty(index.shape, x.dtype, x);
  if (out.numel() > 0) x.backend.gather(x.view_, d, idx.view_, out.view_);
  if (!needsGrad(x)) return out;
  return recordOp({
    name: "GatherBackward0",
    inputs: [x],
    output: out,
    backward: (g) => [zerosLike(x, { dtype: g.dtype }).scatterAdd(d, idx, g)],
  });
}

function scatterImpl(
  mode: "set" | "add",
  x: Tensor,
  dim: number,
  index: Tensor,
  src: Tensor | Scalar,
): Tensor {
  const d = normDim(dim, x.ndim, mode === "set" ? "scatter" : "scatterAdd");
  const idx = cast(index, "int32");
  const s =
    typeof src === "object"
      ? cast(src, x.dtype)
      : expandTo(toTensor(src, x.dtype, x), index.shape, "scatter");
  sameDevice("scatter", x, idx, s);
  const out = copyOf(x);
  if (idx.numel() > 0) x.backend.scatter(mode, out.view_, d, idx.view_, s.view_);
  const gs = typeof src === "object" ? src : null;
  if (!needsGrad(x, gs)) return out;
  return recordOp({
    name: mode === "set" ? "ScatterBackward0" : "ScatterAddBackward0",
    inputs: [x, gs],
    output: out,
    backward: (g) => [mode === "set" ? g.scatter(d, idx, 0) : g, gs ? g.gather(d, idx) : null],
  });
}

export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | Scalar): Tensor {
  return scatterImpl("set", x, dim, index, src);
}
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return scatterImpl("add", x, dim, index, src);
}

/** `x` with `value` where `mask` is true (broadcast). */
export function maskedFill(x: Tensor, mask: Tensor, value: Tensor | Scalar): Tensor {
  if (mask.dtype !== "bool") throw new TypeError(`maskedFill: expected a bool mask, got ${mask.dtype}`);
  const v = typeof value === "object" ? value.to(x.dtype) : value;
  return x.where(mask.logicalNot(), v);
}

/** Out-of-place `x[items] = value`. */
export function indexPut(x: Tensor, items: readonly IndexItem[], value: Tensor | Scalar): Tensor {
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

/** Write `value` into `x[items]` in place, without autograd. */
function writeIndexed(x: Tensor, items: readonly IndexItem[], value: Tensor | Scalar): void {
  const hasAdv = items.some((it) => it instanceof Tensor || Array.isArray(it));
  if (!hasAdv) {
    const region = at(x, ...items);
    const v = typeof value === "object" ? value : toTensor(value, x.dtype, x);
    sameDevice("set", x, v);
    x.backend.copy(expandTo(v, region.shape, "set").view_, region.view_);
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
  x.backend.scatter("set", flat.view_, 0, positions.view_, src.view_);
  if (dense !== x) x.backend.copy(dense.view_, x.view_);
}

/** `x[items] = value` in place (autograd rebases x, as PyTorch does). */
export function set(x: Tensor, items: readonly IndexItem[] | IndexItem, value: Tensor | Scalar): Tensor {
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

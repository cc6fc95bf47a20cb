/**
 * scatter_reduce / scatter_reduce_ (`sum`, `prod`, `mean`, `amax`, `amin`, `include_self`) with PyTorch 1.13's
 * values and derivative (`scatter_reduce_backward`: ties of amax/amin share the gradient, products with zeros
 * are exact).
 *
 * Composed of primitives, so every backend runs it: sum and mean are the backend's scatter-add (in PyTorch's order);
 * amax and amin sort the source values by their flat target (a stable sort by value, then by target), so each
 * target's group is in order and its first and last elements are scattered once each; prod multiplies each group by a
 * log-depth segmented scan after a stable sort by target (so a float product is associated differently from
 * PyTorch's left-to-right loop: equal within rounding).
 */
import { isFloat } from "../dtype";
import { DTypeError, fmtShape, IndexError, ShapeError } from "../errors";
import { needsGrad, noGrad as noRecord, recordOp } from "../grad";
import { contiguousStrides, normDim } from "../shape";
import { ArgumentError, arg, k, op, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { full, onesLike, zerosLike } from "./creation";
import { inplace, where } from "./elementwise";
import { logScan, positions } from "./scan-extra";
import { cat } from "./view";

const REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"] as const;
type Reduction = (typeof REDUCTIONS)[number];

/** PyTorch's argument checks: dtypes, ranks, index shape against self and src, index range. */
function check(x: Tensor, d: number, index: Tensor, src: Tensor, reduce: Reduction, what: string): void {
  if (index.dtype !== "int64" && index.dtype !== "int32") {
    throw new ArgumentError(
      `${what}(): argument "index": expected an integer index tensor (int64 or int32), got ${index.dtype}`,
    );
  }
  if (src.dtype !== x.dtype) throw new DTypeError("scatter(): Expected self.dtype to be equal to src.dtype");
  if (reduce === "mean" && x.dtype === "bool") {
    throw new DTypeError(`"scatter_gather_tensor_cpu_reduce_mean" not implemented for 'Bool'`);
  }
  if (index.numel() === 0) return;
  if (index.ndim !== x.ndim) {
    throw new ShapeError("Index tensor must have the same number of dimensions as self tensor");
  }
  if (index.ndim !== src.ndim) {
    throw new ShapeError("Index tensor must have the same number of dimensions as src tensor");
  }
  const fits = index.shape.every((s, i) => s <= src.shape[i] && (i === d || s <= x.shape[i]));
  if (!fits) {
    throw new ShapeError(
      `Expected index ${fmtShape(index.shape)} to be smaller than self ${fmtShape(x.shape)} apart from dimension ${d} and to be smaller size than src ${fmtShape(src.shape)}`,
    );
  }
  if (index.backend.readSync) {
    const n = x.shape[d];
    const bad = index.lt(0).logicalOr(index.ge(n));
    if (bad.any().item()) {
      const v = index.at(bad.reshape(-1).nonzero().at(0)).item();
      throw new IndexError(`index ${v} is out of bounds for dimension ${d} with size ${n}`);
    }
  }
}

/** The leading index-shaped block of `src`: the elements scatter reads. */
function block(src: Tensor, index: Tensor): Tensor {
  let s = src;
  index.shape.forEach((n, i) => {
    if (s.shape[i] !== n) s = s.narrow(i, 0, n);
  });
  return s;
}

/** `t` padded with zeros at the end of each dim up to `shape` (a gradient for a src larger than the index). */
function padTo(t: Tensor, shape: readonly number[]): Tensor {
  let r = t;
  shape.forEach((n, i) => {
    if (r.shape[i] < n) {
      const extra = r.shape.map((s, j) => (j === i ? n - s : s));
      r = cat([r, full(extra, 0, { dtype: r.dtype, device: r.device })], i);
    }
  });
  return r;
}

/** Each element's flat position in `x` (contiguous order) when scattered along `d` at `index`. */
function flatTargets(x: Tensor, d: number, index: Tensor): Tensor {
  const strides = contiguousStrides(x.shape);
  let t = index.mul(strides[d]);
  for (let i = 0; i < index.ndim; i++) {
    if (i !== d && index.shape[i] > 1) t = t.add(positions(index.shape, i, x.device).mul(strides[i]));
  }
  return t.reshape(-1);
}

/**
 * Per target of x (flat), the first and last of the values scattered there, in the order given by `perm` (a
 * permutation of the flat index elements grouping them by target): tensors of x's shape (zero where nothing lands).
 */
function groupEnds(
  x: Tensor,
  targets: Tensor,
  values: Tensor,
  perm: Tensor,
): { first: Tensor; last: Tensor } {
  const n = perm.shape[0];
  const total = x.numel();
  const ts = targets.indexSelect(0, perm);
  const vs = values.indexSelect(0, perm);
  const differs = ts.narrow(0, 1, n - 1).ne(ts.narrow(0, 0, n - 1));
  const yes = full([1], true, { dtype: "bool", device: x.device });
  const isFirst = cat([yes, differs], 0);
  const isLast = cat([differs, yes], 0);
  // one write per target at its first (last) element; the rest go to a spare slot past the end
  const put = (mask: Tensor) =>
    full([total + 1], 0, { dtype: values.dtype, device: x.device })
      .scatter(0, ts.maskedFill(mask.logicalNot(), total), vs)
      .narrow(0, 0, total)
      .reshape(x.shape);
  return { first: put(isFirst), last: put(isLast) };
}

function forward(
  x: Tensor,
  d: number,
  index: Tensor,
  src: Tensor,
  reduce: Reduction,
  includeSelf: boolean,
): Tensor {
  if (index.numel() === 0) return x.clone();
  const s = block(src, index);
  const touched = full(x.shape, false, { dtype: "bool", device: x.device }).scatter(d, index, true);
  if (reduce === "sum" || reduce === "mean") {
    const base = includeSelf ? x : x.maskedFill(touched, x.dtype === "bool" ? false : 0);
    const total = base.scatterAdd(d, index, s);
    if (reduce === "sum") return total;
    const count = (includeSelf ? onesLike(x) : zerosLike(x)).scatterAdd(d, index, onesLike(s));
    const n = count.maskedFill(count.eq(0), 1);
    return isFloat(x.dtype) ? total.div(n) : total.floorDivide(n);
  }
  const bool = x.dtype === "bool";
  const xv = bool ? x.to("uint8") : x;
  const values = (bool ? s.to("uint8") : s).reshape(-1);
  const targets = flatTargets(x, d, index);
  let group: Tensor;
  if (reduce === "prod") {
    const perm = targets.sort(0).indices;
    const n = perm.shape[0];
    const ts = targets.indexSelect(0, perm);
    const starts = cat(
      [
        full([1], true, { dtype: "bool", device: x.device }),
        ts.narrow(0, 1, n - 1).ne(ts.narrow(0, 0, n - 1)),
      ],
      0,
    );
    // a segmented inclusive product: a later partial product that starts a group does not take the earlier one
    const [, prods] = logScan([starts, values.indexSelect(0, perm)], 0, ([fa, va], [fb, vb]) => [
      fa.logicalOr(fb),
      where(fb, vb, va.mul(vb)),
    ]);
    group = groupEnds(xv, ts, prods, positions([n], 0, x.device).contiguous()).last;
    group = includeSelf ? xv.mul(group) : group;
  } else {
    // grouped by target, ascending within a group (NaN last): the last element is the max, the first the min
    const byValue = values.sort(0).indices;
    const perm = byValue.indexSelect(0, targets.indexSelect(0, byValue).sort(0).indices);
    const { first, last } = groupEnds(xv, targets, values, perm);
    group = reduce === "amax" ? last : isFloat(x.dtype) ? where(last.isnan(), last, first) : first;
    if (includeSelf) group = reduce === "amax" ? xv.maximum(group) : xv.minimum(group);
  }
  const out = where(touched, group, xv);
  return bool ? out.to("bool") : out;
}

function scatterReduceImpl(
  x: Tensor,
  dim: number,
  index: Tensor,
  src: Tensor,
  reduce: Reduction,
  includeSelf: boolean,
  what: string,
): Tensor {
  const d = normDim(dim, x.ndim, what);
  // a 0-dim tensor counts as one element along one dim (PyTorch's ensure_nonempty_dim)
  const scalar = x.ndim === 0;
  const one = (t: Tensor) => (t.ndim === 0 ? t.reshape([1]) : t);
  const x1 = one(x);
  const idx = one(index);
  const src1 = one(src);
  check(x1, d, idx, src1, reduce, what);
  const y1 = noRecord(() => forward(x1, d, idx, src1, reduce, includeSelf));
  const y = scalar ? y1.reshape([]) : y1;
  if (!needsGrad(x, src)) return y;
  return recordOp({
    name: "ScatterReduceBackward0",
    inputs: [x, src],
    output: y,
    saved: [x, src, y],
    backward: (g) => {
      const [gs, gsrc] = backward(one(g), x1, d, idx, src1, reduce, includeSelf, one(y));
      return [scalar ? gs.reshape([]) : gs, src.ndim === 0 ? gsrc.reshape([]) : gsrc];
    },
  });
}

/** PyTorch 1.13's scatter_reduce_backward (FunctionsManual.cpp), in differentiable ops. */
function backward(
  g: Tensor,
  x: Tensor,
  d: number,
  index: Tensor,
  srcFull: Tensor,
  reduce: Reduction,
  includeSelf: boolean,
  result: Tensor,
): [Tensor, Tensor] {
  if (index.numel() === 0) return [g, zerosLike(srcFull, { dtype: g.dtype })];
  const src = block(srcFull, index);
  let gSelf: Tensor;
  let gSrc: Tensor;
  if (reduce === "sum") {
    gSelf = g;
    gSrc = g.gather(d, index);
  } else if (reduce === "mean") {
    const n0 = (includeSelf ? onesLike(g) : zerosLike(g)).scatterAdd(
      d,
      index,
      onesLike(src, { dtype: g.dtype }),
    );
    const n = n0.maskedFill(n0.eq(0), 1);
    gSelf = g.div(n);
    gSrc = g.gather(d, index).div(n.gather(d, index));
  } else if (reduce === "prod") {
    // the product of the others, exact where self or src holds zeros
    const maskedSelf = x.maskedFill(x.eq(0), 1);
    const maskedSelfResult = scatterReduce(maskedSelf, d, index, src, "prod", { includeSelf });
    gSelf = g.mul(maskedSelfResult).div(maskedSelf);
    const srcZero = src.eq(0);
    const zerosThere = zerosLike(x).scatterAdd(d, index, srcZero.to(x.dtype)).gather(d, index);
    const singleZero = srcZero.logicalAnd(zerosThere.eq(1));
    const maskedSrcResult = scatterReduce(x, d, index, src.maskedFill(singleZero, 1), "prod", {
      includeSelf,
    });
    gSrc = where(
      singleZero,
      g.mul(maskedSrcResult).gather(d, index),
      g.mul(result).gather(d, index).div(src.maskedFill(srcZero, 1)),
    );
  } else {
    // amax / amin: shared evenly among the elements (of self, included or not, and of src) equal to the result
    const value = result.gather(d, index);
    const selfIs = x.eq(result).to(g.dtype);
    const srcIs = src.eq(value).to(g.dtype);
    const shared = g.div(selfIs.scatterAdd(d, index, srcIs));
    gSelf = selfIs.mul(shared);
    gSrc = srcIs.mul(shared.gather(d, index));
  }
  if (!includeSelf) gSelf = gSelf.scatter(d, index, 0);
  return [gSelf, padTo(gSrc, srcFull.shape)];
}

const SCATTER_REDUCE_ARGS = [
  self,
  arg("dim", k.int),
  arg("index", k.tensor),
  arg("src", k.tensor),
  arg("reduce", k.oneOf(...REDUCTIONS)),
] as const;
const includeSelfArg = arg("includeSelf", k.bool, true);

/**
 * `scatter_reduce(input, dim, index, src, reduce, *, include_self=True)`: a copy of `input` where each `src` element
 * is reduced into the position `index` names along `dim` ("sum", "prod", "mean", "amax", "amin"); with
 * `includeSelf: false` the input's own values at those positions are left out. Integer "mean" rounds down.
 */
export const scatterReduce = op(
  signature("scatterReduce", SCATTER_REDUCE_ARGS, [includeSelfArg]),
  ({ input, dim, index, src, reduce, includeSelf }): Tensor =>
    scatterReduceImpl(input, dim, index, src, reduce, includeSelf, "scatter_reduce"),
);

/** `x.scatter_reduce_(dim, index, src, reduce, *, include_self=True)`: in place */
export const scatterReduce_ = op(
  signature("scatterReduce_", SCATTER_REDUCE_ARGS, [includeSelfArg], { forms: ["method"] }),
  ({ input, dim, index, src, reduce, includeSelf }): Tensor =>
    inplace(
      input,
      [src],
      (s): Tensor => scatterReduceImpl(s, dim, index, src, reduce, includeSelf, "scatter_reduce_"),
      "scatterReduce_",
    ),
);

/**
 * Order statistics and other reductions with PyTorch 1.13's semantics: median, nanmedian, mode, kthvalue, quantile,
 * nanquantile, count_nonzero, aminmax, std_mean and var_mean.
 *
 * All are composed of the backend's stable sort (NaN last), gather and elementwise ops, so they run on every backend
 * and read nothing back to the host (but for quantile's range check of a tensor `q`, where reads are synchronous). Ties are broken as PyTorch's CPU kernels do where those are deterministic: the
 * k-th element in (value, index) order for median and kthvalue, the last index of the most frequent (smallest) value
 * for mode. Where PyTorch's index among equal elements comes from an unstable selection (kthvalue's quickselect,
 * mode's std::sort beyond 16 elements, nanmedian of an all-NaN line, NaN in mode) it is unspecified, and Cinder
 * gives the same rule as above.
 */
import { defaultIntDtype, isFloat } from "../dtype";
import { DTypeError, IndexError, ShapeError } from "../errors";
import { needsGrad, noGrad as noRecord, recordOp } from "../grad";
import { normDim } from "../shape";
import { arg, k, op, overloads, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { full, zerosLike } from "./creation";
import { where } from "./elementwise";
import { mean, std, type ValuesIndices, valuesIndices, variance } from "./reduce";
import { positions, runningExtreme } from "./scan-extra";
import { cat } from "./view";

const keepdimArg = arg("keepdim", k.bool, false);
const dimOpt = arg.opt("dim", k.intOrInts);

function notForBool(x: Tensor, kernel: string): void {
  if (x.dtype === "bool") throw new DTypeError(`"${kernel}" not implemented for 'Bool'`);
}

/** Empty values/indices of a reduction over `d` (an input with no elements but a non-empty `d`). */
function emptyReduced(x: Tensor, d: number, keepdim: boolean): ValuesIndices {
  const shape = keepdim ? x.shape.map((s, i) => (i === d ? 1 : s)) : x.shape.filter((_, i) => i !== d);
  const dev = { device: x.device };
  return valuesIndices(
    full(shape, 0, { dtype: x.dtype, ...dev }),
    full(shape, 0, { dtype: defaultIntDtype(x.backend), ...dev }),
  );
}

/**
 * The entry at position `at` (a number, or an int32 tensor with `d` of size 1) of each line along `d` of the sorted
 * values and their source indices; `d` dropped unless `keepdim`.
 */
function pick(sorted: ValuesIndices, d: number, at: number | Tensor, keepdim: boolean): ValuesIndices {
  const take = (t: Tensor) => (typeof at === "number" ? t.narrow(d, at, 1) : t.gather(d, at)).contiguous();
  const v = take(sorted.values);
  const i = take(sorted.indices);
  return keepdim ? valuesIndices(v, i) : valuesIndices(v.squeeze(d), i.squeeze(d));
}

/**
 * Record a reduction whose values come from the input at `indices` along `d` (median, kthvalue, mode along a dim):
 * the gradient goes back to those elements (PyTorch's value_selecting_reduction_backward).
 */
function recordSelection(
  name: string,
  x: Tensor,
  r: ValuesIndices,
  d: number,
  keepdim: boolean,
): ValuesIndices {
  if (!needsGrad(x)) return r;
  const idx = keepdim || x.ndim === 0 ? r.indices : r.indices.unsqueeze(d);
  recordOp({
    name,
    inputs: [x],
    output: r.values,
    backward: (g) => {
      if (x.ndim === 0) return [g];
      const gk = keepdim ? g : g.unsqueeze(d);
      return [zerosLike(x, { dtype: g.dtype }).scatterAdd(d, idx, gk)];
    },
  });
  return r;
}

/** Values and indices of a reduction over `d` of a 0-dim tensor: itself and 0. */
function ofScalar(x: Tensor): ValuesIndices {
  return valuesIndices(
    x.detach().clone(),
    full([], 0, { dtype: defaultIntDtype(x.backend), device: x.device }),
  );
}

function checkReducible(x: Tensor, d: number, name: string): void {
  if (x.ndim > 0 && x.shape[d] === 0) {
    throw new IndexError(`${name}(): Expected reduction dim ${d} to have non-zero size.`);
  }
}

// ---- median, nanmedian ----

function medianDim(x: Tensor, dim: number, keepdim: boolean, ignoreNan: boolean): ValuesIndices {
  const name = ignoreNan ? "nanmedian" : "median";
  notForBool(x, "median_out");
  const d = normDim(dim, x.ndim, name);
  checkReducible(x, d, "median"); // (PyTorch's message names median for nanmedian too)
  const r = noRecord((): ValuesIndices => {
    if (x.ndim === 0) return ofScalar(x);
    if (x.numel() === 0) return emptyReduced(x, d, keepdim);
    const size = x.shape[d];
    const sorted = x.sort(d);
    if (!isFloat(x.dtype)) return pick(sorted, d, Math.floor((size - 1) / 2), keepdim);
    // NaN sorts last: median takes the first NaN of a line that has one; nanmedian the lower median of the rest
    const nans = x.isnan().sum({ dim: d, keepdim: true });
    const at = ignoreNan
      ? nans
          .neg()
          .add(size - 1)
          .floorDivide(2)
          .clamp(0)
      : where(nans.gt(0), nans.neg().add(size), Math.floor((size - 1) / 2));
    return pick(sorted, d, at, keepdim);
  });
  return recordSelection(ignoreNan ? "NanmedianBackward1" : "MedianBackward1", x, r, d, keepdim);
}

function medianAll(x: Tensor, ignoreNan: boolean): Tensor {
  notForBool(x, "median_cpu");
  const name = ignoreNan ? "nanmedian" : "median";
  if (x.numel() === 0) {
    if (!isFloat(x.dtype)) {
      throw new RangeError(
        `${name}(): the median of an empty ${x.dtype} tensor is undefined (PyTorch returns int64's minimum, past the ±(2^53 - 1) Cinder's int64 holds)`,
      );
    }
    return full([], Number.NaN, { dtype: x.dtype, device: x.device });
  }
  const y = noRecord(() => medianDim(x.reshape(-1), 0, false, ignoreNan).values);
  if (!needsGrad(x)) return y;
  return recordOp({
    name: ignoreNan ? "NanmedianBackward0" : "MedianBackward0",
    inputs: [x],
    output: y,
    saved: [x, y],
    // PyTorch's evenly_distribute_backward: shared among the elements equal to the median (NaN: the NaNs)
    backward: (g) => {
      const mask = where(y.isnan(), x.isnan(), x.eq(y)).to(g.dtype);
      return [mask.mul(g.div(mask.sum()))];
    },
  });
}

/**
 * `median(input)`: the lower median of all elements (NaN if any is NaN); `median(input, dim, keepdim=False)` ->
 * (values, indices) along `dim`, the index of the median element (the first NaN of a line that has one).
 */
export const median = overloads(
  op(signature("median", [self]), ({ input }): Tensor => medianAll(input, false)),
  op(
    signature("median", [self, arg("dim", k.int), keepdimArg]),
    ({ input, dim, keepdim }): ValuesIndices => medianDim(input, dim, keepdim, false),
  ),
);
/** `nanmedian(input)`, `nanmedian(input, dim, keepdim=False)` -> (values, indices): the median ignoring NaN. */
export const nanmedian = overloads(
  op(signature("nanmedian", [self]), ({ input }): Tensor => medianAll(input, true)),
  op(
    signature("nanmedian", [self, arg("dim", k.int), keepdimArg]),
    ({ input, dim, keepdim }): ValuesIndices => medianDim(input, dim, keepdim, true),
  ),
);

// ---- kthvalue, mode ----

/** `kthvalue(input, k, dim=-1, keepdim=False)` -> (values, indices): the k-th smallest element along `dim` (1-based). */
export const kthvalue = op(
  signature("kthvalue", [self, arg("k", k.int), arg("dim", k.int, -1), keepdimArg]),
  ({ input: x, k: kth, dim, keepdim }): ValuesIndices => {
    notForBool(x, "kthvalue_cpu");
    const d = normDim(dim, x.ndim, "kthvalue");
    checkReducible(x, d, "kthvalue");
    const size = x.ndim === 0 ? 1 : x.shape[d];
    if (kth < 1 || kth > size) {
      throw new IndexError(`kthvalue(): selected number k out of range for dimension ${d}`);
    }
    const r = noRecord((): ValuesIndices => {
      if (x.ndim === 0) return ofScalar(x);
      if (x.numel() === 0) return emptyReduced(x, d, keepdim);
      return pick(x.sort(d), d, kth - 1, keepdim);
    });
    return recordSelection("KthvalueBackward0", x, r, d, keepdim);
  },
);

/**
 * `mode(input, dim=-1, keepdim=False)` -> (values, indices): the most frequent value along `dim` (the smallest among
 * equally frequent ones) and the last index where it occurs.
 */
export const mode = op(
  signature("mode", [self, arg("dim", k.int, -1), keepdimArg]),
  ({ input: x, dim, keepdim }): ValuesIndices => {
    const d = normDim(dim, x.ndim, "mode");
    checkReducible(x, d, "mode");
    const r = noRecord((): ValuesIndices => {
      if (x.ndim === 0) return ofScalar(x);
      if (x.numel() === 0) return emptyReduced(x, d, keepdim);
      const sorted = x.sort(d);
      const n = x.shape[d];
      if (n === 1) return pick(sorted, d, 0, keepdim);
      const sv = sorted.values;
      // runs of equal values (NaN != NaN: each NaN its own run); freq = the position within its run
      const fresh = sv.narrow(d, 1, n - 1).ne(sv.narrow(d, 0, n - 1));
      const pos = positions(x.shape, d, x.device);
      const first = full(
        x.shape.map((s, i) => (i === d ? 1 : s)),
        0,
        { dtype: defaultIntDtype(x.backend), device: x.device },
      );
      const start = runningExtreme("max", cat([first, where(fresh, pos.narrow(d, 1, n - 1), 0)], d), d);
      const freq = pos.sub(start);
      // the first maximum of freq is the end of the first (smallest-valued) longest run
      return pick(sorted, d, freq.argmax(d, true), keepdim);
    });
    return recordSelection("ModeBackward0", x, r, d, keepdim);
  },
);

// ---- quantile, nanquantile ----

const INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"] as const;
type Interpolation = (typeof INTERPOLATIONS)[number];

/** PyTorch's lerp: `a + w (b - a)` for w < 0.5, else `b - (b - a)(1 - w)` (exact at both ends). */
function lerp(a: Tensor, b: Tensor, w: Tensor): Tensor {
  const diff = b.sub(a);
  return where(w.abs().lt(0.5), a.add(w.mul(diff)), b.sub(diff.mul(w.neg().add(1))));
}

/** PyTorch 1.13's quantile: sort, ranks q * (n - 1), gather below and above, interpolate. Composite (autograd follows). */
function quantileImpl(
  x: Tensor,
  q: Tensor | number,
  dim: number | null,
  keepdim: boolean,
  interpolation: Interpolation,
  ignoreNan: boolean,
): Tensor {
  if (typeof q === "number" && !(q >= 0 && q <= 1)) {
    throw new RangeError(`quantile() q must be in the range [0, 1] but got ${q}`);
  }
  const qt = typeof q === "number" ? full([], q, { dtype: x.dtype, device: x.device }) : q;
  if (x.numel() === 0) throw new ShapeError("quantile() input tensor must be non-empty");
  if (qt.ndim > 1) throw new ShapeError("quantile() q must be a scalar or 1D tensor");
  if (x.dtype !== "float32" && x.dtype !== "float64") {
    throw new DTypeError("quantile() input tensor must be either float or double dtype");
  }
  if (qt.dtype !== x.dtype)
    throw new DTypeError("quantile() q tensor must be same dtype as the input tensor");
  if (qt.device !== x.device) {
    throw new DTypeError(
      `quantile() q tensor must be on the same device as the input tensor (${x.device}), got ${qt.device}`,
    );
  }
  if (typeof q !== "number" && qt.backend.readSync && qt.numel() > 0) {
    if (!(qt.ge(0).logicalAnd(qt.le(1)).all().item() as boolean)) {
      throw new RangeError("quantile() q values must be in the range [0, 1]");
    }
  }
  const d = dim === null ? null : normDim(dim, x.ndim, ignoreNan ? "nanquantile" : "quantile");
  // PyTorch's output shape: q's size first, then the input's with `dim` reduced (all dims without `dim`)
  let outShape: number[] = [];
  if (d !== null && x.ndim > 0) {
    outShape = [...x.shape];
    if (keepdim) outShape[d] = 1;
    else outShape.splice(d, 1);
  } else if (keepdim) outShape = x.shape.map(() => 1);
  if (qt.ndim > 0) outShape.unshift(qt.numel());

  // the values to rank, sorted along the last dim: [n] without `dim`, else [...other dims, n]
  let src = x.reshape(-1);
  if (d !== null && x.ndim > 1) {
    const perm = x.shape.map((_, i) => i).filter((i) => i !== d);
    src = x.permute([...perm, d]);
  }
  const sorted = src.sort(-1).values;
  const n = sorted.shape[sorted.ndim - 1];
  if (n > 2 ** 24) throw new RangeError("quantile() input tensor is too large");
  const q1 = qt.ndim === 0 ? qt.reshape([1]) : qt;
  let ranks: Tensor;
  if (ignoreNan) {
    // ranks over the non-NaN values; an all-NaN line gets rank 0, which is NaN
    const count = sorted.isnan().logicalNot().sum({ dim: -1, keepdim: true });
    ranks = q1.mul(count.sub(1));
    ranks = ranks.maskedFill(ranks.lt(0), 0);
  } else {
    // a line with a NaN gets the last rank, which is NaN
    const hasNan = sorted.isnan().any(-1, true);
    ranks = where(hasNan, n - 1, q1.mul(n - 1));
  }
  if (interpolation === "lower") ranks = ranks.floor();
  else if (interpolation === "higher") ranks = ranks.ceil();
  else if (interpolation === "nearest") ranks = ranks.round();
  const below = ranks.to("int32");
  let out = sorted.gather(-1, below);
  if (interpolation === "linear" || interpolation === "midpoint") {
    const w =
      interpolation === "midpoint"
        ? full(ranks.shape, 0.5, { dtype: ranks.dtype, device: x.device })
        : ranks.sub(below);
    const above = sorted.gather(-1, ranks.ceil().to("int32"));
    out = lerp(out, above, w);
  }
  if (qt.ndim === 0) out = out.squeeze(-1);
  else out = out.permute([out.ndim - 1, ...out.shape.slice(0, -1).map((_, i) => i)]);
  return out.reshape(outShape);
}

const quantileArgs = [self, arg("q", k.or(k.tensor, k.float)), arg.opt("dim", k.int), keepdimArg] as const;
const interpolationArg = arg("interpolation", k.oneOf(...INTERPOLATIONS), "linear");

/**
 * `quantile(input, q, dim=None, keepdim=False, *, interpolation='linear')`: the q-th quantiles (q a number or a 1-D
 * tensor in [0, 1], of the input's dtype) of all elements or along `dim`; a line with a NaN gives NaN. The quantiles
 * are the result's first dim when q is a tensor. Interpolation between the two nearest ranks: "linear", "lower",
 * "higher", "midpoint" or "nearest" (half to even).
 */
export const quantile = op(
  signature("quantile", quantileArgs, [interpolationArg]),
  ({ input, q, dim, keepdim, interpolation }): Tensor =>
    quantileImpl(input, q, dim, keepdim, interpolation, false),
);
/** `nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear')`: quantile ignoring NaN. */
export const nanquantile = op(
  signature("nanquantile", quantileArgs, [interpolationArg]),
  ({ input, q, dim, keepdim, interpolation }): Tensor =>
    quantileImpl(input, q, dim, keepdim, interpolation, true),
);

// ---- count_nonzero, aminmax, std_mean, var_mean ----

/** `count_nonzero(input, dim=None)`: the number of non-zero elements (NaN counts) over `dim` (one, several or all). */
export const countNonzero = op(signature("countNonzero", [self, dimOpt]), ({ input: x, dim }): Tensor => {
  const dims =
    dim === null
      ? []
      : (typeof dim === "number" ? [dim] : dim).map((v) => normDim(v, x.ndim, "count_nonzero"));
  const seen = new Set<number>();
  for (const v of dims) {
    if (seen.has(v)) throw new ShapeError(`dim ${v} appears multiple times in the list of dims`);
    seen.add(v);
  }
  const nz = x.ne(0);
  return dims.length === 0 || x.ndim === 0 ? nz.sum() : nz.sum(dims);
});

/** PyTorch's named tuple `(min, max)`: `.min` / `.max`, or `const [lo, hi] = torch.aminmax(x)`. */
export type MinMax = readonly [min: Tensor, max: Tensor] & { readonly min: Tensor; readonly max: Tensor };

/**
 * `aminmax(input, *, dim=None, keepdim=False)` -> (min, max) over all elements or along `dim`; NaN propagates. As in
 * PyTorch 1.13 it has no derivative (backward through it is an error).
 */
export const aminmax = op(
  signature("aminmax", [self], [arg.opt("dim", k.int), keepdimArg]),
  ({ input: x, dim, keepdim }): MinMax => {
    const [lo, hi] = noRecord((): [Tensor, Tensor] => {
      if (dim === null) {
        if (x.numel() === 0) {
          throw new IndexError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity.",
          );
        }
        const ones = x.shape.map(() => 1);
        const a = x.amin();
        const b = x.amax();
        return keepdim ? [a.reshape(ones), b.reshape(ones)] : [a, b];
      }
      const d = normDim(dim, x.ndim, "aminmax");
      if (x.ndim === 0) {
        // PyTorch 1.13 resizes a 0-dim result to [1] under keepdim
        const c = x.clone();
        return keepdim ? [c.reshape([1]), c.reshape([1]).clone()] : [c, x.clone()];
      }
      if (x.shape[d] === 0)
        throw new IndexError(`aminmax: Expected reduction dim ${d} to have non-zero size.`);
      return [x.amin(d, keepdim), x.amax(d, keepdim)];
    });
    if (needsGrad(x)) {
      for (const out of [lo, hi]) {
        recordOp({
          name: "AminmaxBackward0",
          inputs: [x],
          output: out,
          backward: () => {
            throw new Error("the derivative for 'aminmax' is not implemented (as in PyTorch 1.13)");
          },
        });
      }
    }
    return Object.assign([lo, hi] as const, { min: lo, max: hi });
  },
);

function stdVarMean(
  name: "stdMean" | "varMean",
  x: Tensor,
  dim: number | readonly number[] | null,
  correction: number,
  keepdim: boolean,
): readonly [Tensor, Tensor] {
  if (!isFloat(x.dtype)) {
    throw new DTypeError(
      `${name === "stdMean" ? "std_mean" : "var_mean"} only support floating point and complex dtypes`,
    );
  }
  const f = name === "stdMean" ? std : variance;
  return [f(x, dim, { correction, keepdim }), mean(x, dim, keepdim)] as const;
}

/** std_mean / var_mean in PyTorch's three forms, as std/var: (dim, unbiased, keepdim), (dim, *, correction, keepdim), (unbiased). */
function meanForms(name: "stdMean" | "varMean") {
  const forms = { forms: ["function" as const] };
  return overloads(
    op(
      signature(name, [self, dimOpt, arg("unbiased", k.bool, true), keepdimArg], [], forms),
      ({ input, dim, unbiased, keepdim }): readonly [Tensor, Tensor] =>
        stdVarMean(name, input, dim, unbiased ? 1 : 0, keepdim),
    ),
    op(
      signature(name, [self, dimOpt], [arg.opt("correction", k.int), keepdimArg], forms),
      ({ input, dim, correction, keepdim }): readonly [Tensor, Tensor] =>
        stdVarMean(name, input, dim, correction ?? 1, keepdim),
    ),
    op(
      signature(name, [self, arg("unbiased", k.bool, true)], [], forms),
      ({ input, unbiased }): readonly [Tensor, Tensor] =>
        stdVarMean(name, input, null, unbiased ? 1 : 0, false),
    ),
  );
}
/** `std_mean(input, dim=None, unbiased=True, keepdim=False)` (or `*, correction=`) -> (std, mean), a plain tuple */
export const stdMean = meanForms("stdMean");
/** `var_mean(input, dim=None, unbiased=True, keepdim=False)` (or `*, correction=`) -> (var, mean), a plain tuple */
export const varMean = meanForms("varMean");

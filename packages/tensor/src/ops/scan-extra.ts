/**
 * Scans beyond cumsum/cumprod: cummax, cummin (values and indices) and logcumsumexp, with PyTorch 1.13's semantics
 * and derivatives.
 *
 * No backend has a primitive for them, so each is composed: a log-depth (Hillis-Steele) scan whose every round
 * combines each position with the one `s` places before it, in elementwise ops over two shifted views and one `cat`
 * (ceil(log2 n) rounds, O(n log n) work instead of a kernel's O(n)); so they run on every backend, WebGPU included.
 * The combines are associative, so the results are the sequential scan's: exact for cummax/cummin (ties go to the
 * later index, NaN wins and keeps the index of the latest NaN, as PyTorch's `cummax_cummin_helper`), and for
 * logcumsumexp within rounding (computed in float64 where the backend stores it, as PyTorch's CPU kernel accumulates
 * in double; elsewhere in float32).
 */
import { defaultIntDtype, isFloat } from "../dtype";
import { DTypeError } from "../errors";
import { needsGrad, noGrad as noRecord, recordOp } from "../grad";
import { normDim } from "../shape";
import { arg, k, op, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { arange, zerosLike } from "./creation";
import { where } from "./elementwise";
import { type ValuesIndices, valuesIndices } from "./reduce";
import { cat } from "./view";

/**
 * The inclusive scan along `d` of an associative `combine(earlier, later)` over tuples of same-shaped tensors:
 * ceil(log2 n) rounds, each combining position i with position i - s (s = 1, 2, 4, ...).
 */
export function logScan(
  parts: Tensor[],
  d: number,
  combine: (a: Tensor[], b: Tensor[]) => Tensor[],
): Tensor[] {
  const n = parts[0].shape[d];
  let cur = parts;
  for (let s = 1; s < n; s *= 2) {
    const a = cur.map((t) => t.narrow(d, 0, n - s));
    const b = cur.map((t) => t.narrow(d, s, n - s));
    const m = combine(a, b);
    cur = cur.map((t, i) => cat([t.narrow(d, 0, s), m[i]], d));
  }
  return cur;
}

/** 0, 1, ..., n-1 along `d` of `shape` (the default integer of `device`, broadcast over the other dims). */
export function positions(shape: readonly number[], d: number, device: string): Tensor {
  const n = shape[d];
  return arange(n, { device })
    .reshape(shape.map((_, i) => (i === d ? n : 1)))
    .expand(shape);
}

/** The running max (or min) of `x` along `d`, values only (NaN propagates); for integer scans such as positions. */
export function runningExtreme(which: "max" | "min", x: Tensor, d: number): Tensor {
  const [v] = logScan([x], d, ([a], [b]) => [which === "max" ? a.maximum(b) : a.minimum(b)]);
  return v === x ? x.clone() : v;
}

const dimArg = arg("dim", k.int);

function cumExtreme(which: "max" | "min", x: Tensor, dim: number): ValuesIndices {
  const name = which === "max" ? "cummax" : "cummin";
  const d = normDim(dim, x.ndim, name);
  const x1 = x.ndim === 0 ? x.reshape([1]) : x;
  const { values, indices } = noRecord(() => {
    if (x1.numel() === 0) return { values: x1.clone(), indices: x1.to(defaultIntDtype(x1.backend)) };
    const bool = x1.dtype === "bool";
    const v0 = bool ? x1.to("uint8") : x1;
    const float = isFloat(x1.dtype);
    const [v, i] = logScan([v0, positions(x1.shape, d, x1.device)], d, ([va, ia], [vb, ib]) => {
      // the later value wins on ties (>= / <=, so the last index), and a NaN wins: a later NaN over anything, an
      // earlier NaN over any later number
      let later = which === "max" ? vb.ge(va) : vb.le(va);
      if (float) later = vb.isnan().logicalOr(va.isnan().logicalNot().logicalAnd(later));
      return [where(later, vb, va), where(later, ib, ia)];
    });
    return { values: bool ? v.to("bool") : v === x1 ? v.clone() : v, indices: i.contiguous() };
  });
  const vals = x.ndim === 0 ? values.reshape([]) : values;
  const idx = x.ndim === 0 ? indices.reshape([]) : indices;
  if (!needsGrad(x)) return valuesIndices(vals, idx);
  recordOp({
    name: which === "max" ? "CummaxBackward0" : "CumminBackward0",
    inputs: [x],
    output: vals,
    // PyTorch's cummaxmin_backward: each gradient goes to the element its index names (summed where shared)
    backward: (g) => [zerosLike(x, { dtype: g.dtype }).scatterAdd(d, idx, g)],
  });
  return valuesIndices(vals, idx);
}

/**
 * `cummax(input, dim)` -> (values, indices): the running maximum along `dim` and where it was found; ties give the
 * later index, and a NaN propagates (with the index of the latest NaN), as in PyTorch.
 */
export const cummax = op(
  signature("cummax", [self, dimArg]),
  ({ input, dim }): ValuesIndices => cumExtreme("max", input, dim),
);
/** `cummin(input, dim)` -> (values, indices): the running minimum along `dim` (ties: the later index; NaN wins). */
export const cummin = op(
  signature("cummin", [self, dimArg]),
  ({ input, dim }): ValuesIndices => cumExtreme("min", input, dim),
);

/**
 * log(exp(a) + exp(b)) as PyTorch's `_log_add_exp_helper`: log1p(exp(min - max)) + max, NaN propagating, and `a`
 * itself when both are the same infinity (where min - max would be NaN).
 */
function logAddExp(a: Tensor, b: Tensor): Tensor {
  const mn = a.minimum(b);
  const mx = a.maximum(b);
  const general = mn.sub(mx).exp().log1p().add(mx);
  return where(mn.ne(mx).logicalOr(mn.isinf().logicalNot()), general, a);
}

/** `logcumsumexp(input, dim)`: log(cumsum(exp(input))) along `dim`, computed stably (no overflow, no underflow). */
export const logcumsumexp = op(
  signature("logcumsumexp", [self, dimArg]),
  ({ input, dim }): Tensor => logcumsumexpImpl(input, dim),
);
function logcumsumexpImpl(x: Tensor, dim: number): Tensor {
  if (!isFloat(x.dtype)) {
    throw new DTypeError(
      `logcumsumexp(): expected a floating point tensor, got ${x.dtype} (PyTorch: "logcumsumexp_out_cpu" not implemented for integer and bool tensors)`,
    );
  }
  const d = normDim(dim, x.ndim, "logcumsumexp");
  const y = noRecord(() => {
    const x1 = x.ndim === 0 ? x.reshape([1]) : x;
    // float64 where the backend declares it, or (undeclared) on a host-memory backend such as the CPU
    const b = x.backend;
    const f64 = b.dtypes ? b.dtypes.includes("float64") : b.readSync !== undefined;
    const wide = x.dtype === "float32" && f64 ? "float64" : x.dtype;
    const [s] = logScan([x1.to(wide)], d, ([a], [b]) => [logAddExp(b, a)]);
    const r = s.to(x.dtype);
    const out = r === x1 ? r.clone() : r.contiguous();
    return x.ndim === 0 ? out.reshape([]) : out;
  });
  if (!needsGrad(x)) return y;
  return recordOp({
    name: "LogcumsumexpBackward0",
    inputs: [x],
    output: y,
    saved: [x, y],
    backward: (g) => [logcumsumexpBackward(g, x, y, d)],
  });
}

/**
 * PyTorch 1.13's logcumsumexp_backward: the positive and negative parts of the gradient, each summed from the end
 * in log space (a reversed logcumsumexp), so nothing overflows. Composed of differentiable ops (double backward).
 */
function logcumsumexpBackward(g: Tensor, x: Tensor, y: Tensor, d: number): Tensor {
  if (g.ndim === 0 || g.numel() === 0) return g;
  const lowest = g.dtype === "float64" ? -Number.MAX_VALUE : -3.4028234663852886e38;
  const reversed = (t: Tensor) => logcumsumexp(t.flip([d]), d).flip([d]);
  const logAbs = g.abs().log();
  const pos = where(g.gt(0), logAbs, lowest);
  const neg = where(g.lt(0), logAbs, lowest);
  const outPos = reversed(pos.sub(y)).add(x).exp();
  const outNeg = reversed(neg.sub(y)).add(x).exp();
  return outPos.sub(outNeg);
}

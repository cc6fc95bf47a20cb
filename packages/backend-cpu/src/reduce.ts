/**
 * Reductions, arg-reductions, scans and the softmax fast path.
 *
 * `reduce` accumulates in float64 (a temporary unless `out` is float64), walking the input in its memory
 * order with the accumulator's strides set to 0 on the reduced axes: a reduction over the last contiguous
 * axis becomes a flat loop with the accumulator in a register, a reduction over a leading axis a flat
 * row-add. Integer sums are exact in float64 up to 2^53 and wrap modulo 2^32 when stored; integer products
 * use Math.imul so they wrap exactly.
 */
import type { ArgReduceOp, DType, ReduceOp, ScanOp, TypedArray, View } from "@cinder/tensor";
import { Int64RangeError, i64 } from "@cinder/tensor";
import {
  atLeast1d,
  contiguousStrides,
  forEachLine,
  isContiguous,
  type LoopSpec,
  numel,
  type Operand,
  operand,
  runLoop,
} from "./codegen";
import { copy, fill, transfer } from "./elementwise";

const isFloatDType = (d: DType) => d === "float32" || d === "float64";

const REDUCE: Record<ReduceOp, string> = {
  sum: "acc + x",
  prod: "acc * x",
  // Math.max/min propagate NaN, as torch.max/min do.
  max: "Math.max(acc, x)",
  min: "Math.min(acc, x)",
};

const REDUCE_INT: Partial<Record<ReduceOp, string>> = {
  prod: "Math.imul(acc, x)",
};

/** int64 outputs (exact integers in doubles): each partial sum/product range-checked, never a rounded total. */
const REDUCE_INT64: Partial<Record<ReduceOp, string>> = {
  sum: "i64(acc + x)",
  prod: "i64(acc * x)",
};

const IDENTITY: Record<ReduceOp, number> = {
  sum: 0,
  prod: 1,
  max: Number.NEGATIVE_INFINITY,
  min: Number.POSITIVE_INFINITY,
};

export function reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
  reduceProgram(op, x.dtype, PLAIN, [operand(x)], x.shape, axes, out);
}

/** The values to reduce as loop source: `value` computed by `body` from the inputs' elements `vars`. */
export interface ReduceSource {
  readonly key: string;
  readonly vars: readonly string[];
  readonly value: string;
  readonly prelude?: string;
  readonly body?: string;
  readonly consts?: Float64Array;
}

const PLAIN: ReduceSource = { key: "", vars: ["x"], value: "x" };

/**
 * Reduce the values `src` computes from `inputs` (each with strides for `shape`) over `axes` into `out`; `dtype` is
 * the values' dtype. A plain reduction's source is the input itself; a fused one's is a program (fused.ts).
 */
export function reduceProgram(
  op: ReduceOp,
  dtype: DType,
  src: ReduceSource,
  inputs: readonly Operand[],
  shape: readonly number[],
  axes: readonly number[],
  out: View,
): void {
  const n = numel(out.shape);
  if (n === 0) return;
  const int64 = out.dtype === "int64" && !isFloatDType(dtype);
  const specKey = `${op}${dtype}${int64 ? "l" : ""}|${src.key}`;
  let spec = specs.get(specKey);
  if (spec === undefined) {
    const combine = isFloatDType(dtype)
      ? REDUCE[op]
      : ((int64 ? REDUCE_INT64[op] : undefined) ?? REDUCE_INT[op] ?? REDUCE[op]);
    const expr = src.value === "x" ? combine : combine.replace(/\bx\b/g, src.value);
    spec = {
      key: `r:${expr}|${src.key}`,
      vars: src.vars,
      expr,
      accumulate: true,
      prelude: src.prelude,
      body: src.body,
    };
    specs.set(specKey, spec);
  }
  const direct = out.dtype === "float64";
  const acc: View = direct
    ? out
    : {
        handle: new Float64Array(n),
        dtype: "float64",
        shape: out.shape,
        strides: contiguousStrides(out.shape),
        offset: 0,
      };
  fill(acc, IDENTITY[op]);
  const accStrides = acc.strides.slice();
  for (const a of axes) accStrides[a] = 0;
  try {
    runLoop(
      spec,
      { arr: acc.handle as TypedArray, offset: acc.offset, strides: accStrides },
      inputs,
      shape,
      src.consts ?? 0,
      1,
    );
  } catch (e) {
    throw e instanceof Int64RangeError ? new Int64RangeError(`${op}: ${e.message}`) : e;
  }
  if (!direct) transfer(acc, out);
}

const specs = new Map<string, LoopSpec>();

function argmaxLine(a: TypedArray, off: number, s: number, n: number): number {
  let best = a[off];
  if (Number.isNaN(best)) return 0;
  let bi = 0;
  for (let i = 1; i < n; i++) {
    const v = a[off + i * s];
    if (v > best) {
      best = v;
      bi = i;
    } else if (Number.isNaN(v)) {
      return i;
    }
  }
  return bi;
}

function argminLine(a: TypedArray, off: number, s: number, n: number): number {
  let best = a[off];
  if (Number.isNaN(best)) return 0;
  let bi = 0;
  for (let i = 1; i < n; i++) {
    const v = a[off + i * s];
    if (v < best) {
      best = v;
      bi = i;
    } else if (Number.isNaN(v)) {
      return i;
    }
  }
  return bi;
}

/** Index of the first max/min along `axis`; a NaN wins (the first NaN), as in PyTorch. */
export function argReduce(op: ArgReduceOp, x: View, axis: number, out: View): void {
  x = atLeast1d(x);
  out = atLeast1d(out);
  const n = x.shape[axis];
  const s = x.strides[axis];
  const xa = x.handle as TypedArray;
  const oa = out.handle as TypedArray;
  const line = op === "argmax" ? argmaxLine : argminLine;
  forEachLine(x.shape, axis, [x.strides, out.strides], [x.offset, out.offset], (o) => {
    oa[o[1]] = n === 0 ? 0 : line(xa, o[0], s, n);
  });
}

/** Inclusive cumulative sum/product along `axis`, accumulated in a double (integer outputs wrap at 32 bits). */
export function scan(op: ScanOp, x: View, axis: number, out: View): void {
  x = atLeast1d(x);
  out = atLeast1d(out);
  const n = x.shape[axis];
  if (n === 0) return;
  const xs = x.strides[axis];
  const os = out.strides[axis];
  const xa = x.handle as TypedArray;
  const oa = out.handle as TypedArray;
  const intOut = !isFloatDType(out.dtype);
  // int64: each partial result range-checked (i64 throws past 2^53 - 1)
  const int64 = out.dtype === "int64";
  forEachLine(x.shape, axis, [x.strides, out.strides], [x.offset, out.offset], (o) => {
    const xo = o[0];
    const oo = o[1];
    if (op === "cumsum") {
      let acc = 0;
      if (int64) {
        for (let i = 0; i < n; i++) {
          acc = i64(acc + xa[xo + i * xs]);
          oa[oo + i * os] = acc;
        }
      } else if (intOut) {
        for (let i = 0; i < n; i++) {
          acc = (acc + xa[xo + i * xs]) | 0;
          oa[oo + i * os] = acc;
        }
      } else {
        for (let i = 0; i < n; i++) {
          acc += xa[xo + i * xs];
          oa[oo + i * os] = acc;
        }
      }
    } else {
      let acc = 1;
      if (int64) {
        for (let i = 0; i < n; i++) {
          acc = i64(acc * xa[xo + i * xs]);
          oa[oo + i * os] = acc;
        }
      } else if (intOut) {
        for (let i = 0; i < n; i++) {
          acc = Math.imul(acc, xa[xo + i * xs]);
          oa[oo + i * os] = acc;
        }
      } else {
        for (let i = 0; i < n; i++) {
          acc *= xa[xo + i * xs];
          oa[oo + i * os] = acc;
        }
      }
    }
  });
}

/** Softmax / log-softmax along the last axis: subtract the row max, exponentiate, normalise. */
export function softmax(x: View, log: boolean, out: View): void {
  const rank = x.shape.length;
  const d = rank === 0 ? 1 : x.shape[rank - 1];
  const total = numel(x.shape);
  if (total === 0) return;
  let src = x;
  if (!isContiguous(x)) {
    src = {
      ...x,
      handle: new Float64Array(total),
      dtype: "float64",
      strides: contiguousStrides(x.shape),
      offset: 0,
    };
    copy(x, src);
  }
  let dst = out;
  if (!isContiguous(out)) {
    dst = {
      ...out,
      handle: new Float64Array(total),
      dtype: "float64",
      strides: contiguousStrides(out.shape),
      offset: 0,
    };
  }
  softmaxRows(src.handle as TypedArray, src.offset, dst.handle as TypedArray, dst.offset, total / d, d, log);
  if (dst !== out) copy(dst, out);
}

function softmaxRows(
  xa: TypedArray,
  xo: number,
  oa: TypedArray,
  oo: number,
  rows: number,
  d: number,
  log: boolean,
): void {
  for (let r = 0; r < rows; r++) {
    const xb = xo + r * d;
    const ob = oo + r * d;
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < d; i++) {
      const v = xa[xb + i];
      if (v > m || Number.isNaN(v)) m = v;
      if (Number.isNaN(m)) break;
    }
    let sum = 0;
    if (log) {
      for (let i = 0; i < d; i++) sum += Math.exp(xa[xb + i] - m);
      const ls = Math.log(sum);
      for (let i = 0; i < d; i++) oa[ob + i] = xa[xb + i] - m - ls;
    } else {
      for (let i = 0; i < d; i++) {
        const e = Math.exp(xa[xb + i] - m);
        sum += e;
        oa[ob + i] = e;
      }
      const inv = 1 / sum;
      for (let i = 0; i < d; i++) oa[ob + i] *= inv;
    }
  }
}

/**
 * The ONNX mappings of the tensor ops, by Cinder's op name (what the tracing seam reports): elementwise ops with
 * tensor or number operands, reductions, matmul, and the shape ops (reshape/view/flatten, permute/transpose, cat,
 * stack, narrow/select, indexing with `at`, squeeze/unsqueeze, expand).
 */
import { type DType, Tensor } from "@cinder/tensor";
import {
  axis,
  castTo,
  chain,
  type Emit,
  type Exporter,
  O,
  operand,
  reduce,
  refuse,
  reshapeLike,
  T,
} from "./export-util";
import { DATA_TYPE } from "./schema";

const unary =
  (opType: string): Exporter =>
  (e, a, out) => {
    const x = T(a);
    e.g.node(opType, [castTo(e, x, x.dtype, O(out).dtype)], O(out));
  };

const COMPARE = new Set(["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"]);

/** A binary op of two operands (tensors or numbers), in the result's dtype (comparisons: the operands'). */
const binary =
  (opType: string): Exporter =>
  (e, a, out) => {
    const x = a.input;
    const y = a.other ?? a.exponent;
    const like = (x instanceof Tensor ? x : y) as Tensor;
    const dtype: DType = COMPARE.has(opType) ? like.dtype : O(out).dtype;
    if (a.roundingMode != null)
      refuse(`div with roundingMode "${a.roundingMode}"`, "has no ONNX mapping yet");
    let b = operand(e, y, opType === "Pow" && y instanceof Tensor ? y.dtype : dtype);
    const alpha = a.alpha as number | undefined;
    if (alpha !== undefined && alpha !== 1) b = e.g.node("Mul", [b, e.g.scalar(alpha, dtype)]);
    e.g.node(opType, [operand(e, x, dtype), b], O(out));
  };

/** The `max`/`min` overloads: over everything, along a dim (values and indices), or elementwise with `other`. */
const extreme =
  (which: "Max" | "Min"): Exporter =>
  (e, a, out) => {
    const x = T(a);
    if (a.other instanceof Tensor) return binary(which)(e, a, out);
    if (a.dim === undefined) return void reduce(e, `Reduce${which}`, x, x.ndim, null, false, O(out));
    const [values, indices] = out as [Tensor, Tensor];
    const dim = axis(a.dim as number, x.ndim);
    const keepdims = a.keepdim ? 1 : 0;
    reduce(e, `Reduce${which}`, x, x.ndim, dim, a.keepdim as boolean, values);
    const idx = e.g.node(`Arg${which}`, [x], undefined, { axis: dim, keepdims });
    e.g.node("Cast", [idx], indices, { to: DATA_TYPE[indices.dtype as keyof typeof DATA_TYPE] });
  };

/** sum/mean with `dim`, `keepdim` and `dtype`. */
const reduction =
  (opType: string): Exporter =>
  (e, a, out) => {
    const x = T(a);
    const dims = a.dim as number | number[] | null;
    const input = castTo(e, x, x.dtype, O(out).dtype);
    reduce(e, opType, input, x.ndim, dims, a.keepdim as boolean, O(out));
  };

const amaxmin =
  (opType: string): Exporter =>
  (e, a, out) => {
    const x = T(a);
    reduce(e, opType, x, x.ndim, a.dim as number[], a.keepdim as boolean, O(out));
  };

const matmul: Exporter = (e, a, out) => e.g.node("MatMul", [T(a), T(a, a.other ? "other" : "mat2")], O(out));

const identity: Exporter = (e, a, out) => e.g.alias(O(out), T(a));

const reshape: Exporter = (e, a, out) => {
  const x = T(a);
  if (out === x) return;
  reshapeLike(e, x, O(out));
};

/** `softmax`/`logSoftmax` (the tensor ops' and `nn.functional`'s): PyTorch's implicit dim when none is given. */
export const softmax =
  (opType: string): Exporter =>
  (e, a, out) => {
    const x = T(a);
    const n = x.ndim;
    const dim = (a.dim as number | null) ?? (n === 0 || n === 1 || n === 3 ? 0 : 1);
    const input = castTo(e, x, x.dtype, O(out).dtype);
    e.g.node(opType, [input], O(out), { axis: axis(dim, Math.max(n, 1)) });
  };

/** Clip with number bounds (absent inputs as ""), or Max/Min with tensor bounds. */
export function clip(e: Emit, x: Tensor, lo: unknown, hi: unknown, out: Tensor): void {
  if (lo instanceof Tensor || hi instanceof Tensor) {
    let cur = e.g.nameOf(x);
    const steps: [string, unknown][] = [
      ["Max", lo],
      ["Min", hi],
    ];
    const live = steps.filter(([, v]) => v != null);
    live.forEach(([opType, v], i) => {
      cur = e.g.node(opType, [cur, operand(e, v, x.dtype)], i === live.length - 1 ? out : undefined);
    });
    if (live.length === 0) e.g.alias(out, x);
    return;
  }
  const bound = (v: unknown) => (v == null ? "" : e.g.scalar(v as number, x.dtype));
  const inputs = [e.g.nameOf(x), bound(lo), bound(hi)];
  while (inputs.at(-1) === "") inputs.pop();
  e.g.node("Clip", inputs, out);
}

const INT64_MAX = Number.MAX_SAFE_INTEGER;

/** A Python slice ("1:4:2", "::2", `{ start, stop, step }`) as [start, stop, step] for ONNX's Slice. */
function sliceParts(item: unknown): [number, number, number] {
  let s: { start?: number | null; stop?: number | null; step?: number | null };
  if (typeof item === "string") {
    const [a, b, c] = item.split(":").map((p) => (p.trim() === "" ? null : Number(p)));
    s = { start: a, stop: b, step: c };
  } else s = item as typeof s;
  return [s.start ?? 0, s.stop ?? INT64_MAX, s.step ?? 1];
}

/** `x.at(...items)` (Python's `x[...]`): ints (Gather), slices (Slice), null (Unsqueeze) and "...". */
const at: Exporter = (e, a, out) => {
  const x = T(a);
  const items = [...(a.items as unknown[])];
  const used = items.filter((it) => it !== null && it !== "...").length;
  const ell = items.indexOf("...");
  if (ell >= 0) items.splice(ell, 1, ...Array(x.ndim - used).fill(":"));
  const steps: Parameters<typeof chain>[3][number][] = [];
  let dim = 0;
  for (const it of items) {
    if (typeof it === "number") steps.push(["Gather", [e.g.ints([it], [])], { axis: dim }]);
    else if (it === null) steps.push(["Unsqueeze", [e.g.ints([dim++])], {}]);
    else if (it instanceof Tensor || Array.isArray(it))
      refuse("indexing with a tensor or a list (advanced indexing)", "has no ONNX mapping yet");
    else {
      const [start, stop, step] = sliceParts(it);
      if (!(start === 0 && stop === INT64_MAX && step === 1))
        steps.push(["Slice", [e.g.ints([start]), e.g.ints([stop]), e.g.ints([dim]), e.g.ints([step])], {}]);
      dim++;
    }
  }
  chain(e, x, O(out), steps);
};

/** split/chunk: one Split node, its sizes read from the pieces. */
const split: Exporter = (e, a, out) => {
  const x = (a.input ?? a.tensor) as Tensor;
  const pieces = out as Tensor[];
  const dim = axis(a.dim as number, x.ndim);
  e.g.nodeMulti("Split", [x, e.g.ints(pieces.map((p) => p.shape[dim]))], pieces, { axis: dim });
};

/** Expand to `y`'s shape: 1 where the input keeps its size (left open for a dynamic batch). */
function expandTo(e: Emit, x: Tensor, y: Tensor): void {
  const lead = y.ndim - x.ndim;
  const shape = y.shape.map((s, i) => (i >= lead && x.shape[i - lead] === s ? 1 : s));
  e.g.node("Expand", [x, e.g.ints(shape)], y);
}

/** The tensor ops' exporters, by Cinder's op name. */
export const TENSOR_EXPORTERS: Record<string, Exporter> = {
  relu: unary("Relu"),
  sigmoid: unary("Sigmoid"),
  tanh: unary("Tanh"),
  exp: unary("Exp"),
  log: unary("Log"),
  neg: unary("Neg"),
  sqrt: unary("Sqrt"),
  abs: unary("Abs"),
  erf: unary("Erf"),
  reciprocal: unary("Reciprocal"),
  floor: unary("Floor"),
  ceil: unary("Ceil"),
  rsqrt: (e, a, out) => e.g.node("Reciprocal", [e.g.node("Sqrt", [T(a)])], O(out)),
  square: (e, a, out) => e.g.node("Mul", [T(a), T(a)], O(out)),
  add: binary("Add"),
  sub: binary("Sub"),
  mul: binary("Mul"),
  div: binary("Div"),
  pow: binary("Pow"),
  maximum: binary("Max"),
  minimum: binary("Min"),
  eq: binary("Equal"),
  lt: binary("Less"),
  gt: binary("Greater"),
  le: binary("LessOrEqual"),
  ge: binary("GreaterOrEqual"),
  clamp: (e, a, out) => clip(e, T(a), a.min, a.max, O(out)),
  clip: (e, a, out) => clip(e, T(a), a.min, a.max, O(out)),
  sum: reduction("ReduceSum"),
  mean: reduction("ReduceMean"),
  amax: amaxmin("ReduceMax"),
  amin: amaxmin("ReduceMin"),
  max: extreme("Max"),
  min: extreme("Min"),
  matmul,
  mm: matmul,
  bmm: matmul,
  softmax: softmax("Softmax"),
  logSoftmax: softmax("LogSoftmax"),
  view: reshape,
  reshape,
  flatten: (e, a, out) => {
    const x = T(a);
    if (out === x) return;
    const start = axis(a.startDim as number, x.ndim);
    const end = axis(a.endDim as number, x.ndim);
    if (start === 1 && end === x.ndim - 1) e.g.node("Flatten", [x], O(out), { axis: 1 });
    else reshapeLike(e, x, O(out));
  },
  contiguous: identity,
  clone: identity,
  detach: identity,
  to: (e, a, out) => {
    const x = T(a);
    const y = O(out);
    if (y.dtype === x.dtype) e.g.alias(y, x);
    else e.g.node("Cast", [x], y, { to: DATA_TYPE[y.dtype as keyof typeof DATA_TYPE] });
  },
  t: (e, a, out) =>
    T(a).ndim < 2 ? identity(e, a, out) : e.g.node("Transpose", [T(a)], O(out), { perm: [1, 0] }),
  permute: (e, a, out) => {
    const x = T(a);
    const perm = (a.dims as number[]).map((d) => axis(d, x.ndim));
    e.g.node("Transpose", [x], O(out), { perm });
  },
  transpose: (e, a, out) => {
    const x = T(a);
    const perm = Array.from({ length: x.ndim }, (_, i) => i);
    const [d0, d1] = [axis(a.dim0 as number, x.ndim), axis(a.dim1 as number, x.ndim)];
    [perm[d0], perm[d1]] = [perm[d1], perm[d0]];
    if (d0 === d1) identity(e, a, out);
    else e.g.node("Transpose", [x], O(out), { perm });
  },
  cat: (e, a, out) => {
    const ts = a.tensors as Tensor[];
    e.g.node("Concat", ts, O(out), { axis: axis(a.dim as number, O(out).ndim) });
  },
  stack: (e, a, out) => {
    const ts = a.tensors as Tensor[];
    const dim = axis(a.dim as number, O(out).ndim);
    const parts = ts.map((t) => e.g.node("Unsqueeze", [t, e.g.ints([dim])]));
    e.g.node("Concat", parts, O(out), { axis: dim });
  },
  narrow: (e, a, out) => {
    const x = T(a);
    const [dim, start] = [axis(a.dim as number, x.ndim), a.start as number];
    const begin = start < 0 ? start + x.shape[dim] : start;
    const ints = (v: number) => e.g.ints([v]);
    e.g.node("Slice", [x, ints(begin), ints(begin + (a.length as number)), ints(dim)], O(out));
  },
  select: (e, a, out) => {
    const x = T(a);
    e.g.node("Gather", [x, e.g.ints([a.index as number], [])], O(out), {
      axis: axis(a.dim as number, x.ndim),
    });
  },
  squeeze: (e, a, out) => {
    const x = T(a);
    if (a.dim === null) return void e.g.node("Squeeze", [x], O(out));
    const dims = (typeof a.dim === "number" ? [a.dim] : (a.dim as number[])).map((d) => axis(d, x.ndim));
    const axes = dims.filter((d) => x.shape[d] === 1);
    if (axes.length === 0) e.g.alias(O(out), x);
    else e.g.node("Squeeze", [x, e.g.ints(axes)], O(out));
  },
  unsqueeze: (e, a, out) => {
    const x = T(a);
    e.g.node("Unsqueeze", [x, e.g.ints([axis(a.dim as number, x.ndim + 1)])], O(out));
  },
  expand: (e, a, out) => expandTo(e, T(a), O(out)),
  expandAs: (e, a, out) => expandTo(e, T(a), O(out)),
  split,
  chunk: split,
  norm: (e, a, out) => {
    const x = T(a);
    const p = a.p as number | string | null;
    const opType = p === 1 ? "ReduceL1" : p === 2 || p === null || p === "fro" ? "ReduceL2" : null;
    if (opType === null || a.dtype != null)
      refuse(
        `norm with p=${p}${a.dtype != null ? " and a dtype" : ""}`,
        "has no ONNX mapping yet (p 1 or 2)",
      );
    reduce(e, opType, x, x.ndim, a.dim as number | number[] | null, a.keepdim as boolean, O(out));
  },
  indexSelect: (e, a, out) => {
    const x = T(a);
    e.g.node("Gather", [x, T(a, "index")], O(out), { axis: axis(a.dim as number, x.ndim) });
  },
  at,
};

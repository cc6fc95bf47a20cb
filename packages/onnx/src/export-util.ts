/**
 * What the exporters of `export-tensor.ts` and `export-nn.ts` share: the exporter type, argument access, and the
 * node patterns several ops use (casts, scalar operands, reductions, reshapes with an open batch dimension).
 */
import type { DType, Tensor } from "@cinder/tensor";
import { type GraphBuilder, OnnxExportError } from "./graph";
import { DATA_TYPE } from "./schema";

/** An op's parsed arguments, by parameter name. */
export type Args = Readonly<Record<string, unknown>>;

/** What an exporter writes into: the graph, and the opset it targets. */
export interface Emit {
  readonly g: GraphBuilder;
  readonly opset: number;
}

/** Writes the ONNX node(s) of one traced op call: its parsed arguments and its result. */
export type Exporter = (e: Emit, a: Args, out: unknown) => void;

/** The tensor argument `key`. */
export const T = (a: Args, key = "input"): Tensor => a[key] as Tensor;

/** The result as one tensor. */
export const O = (out: unknown): Tensor => out as Tensor;

/** Fail the export of `op` with `why`. */
export function refuse(op: string, why: string): never {
  throw new OnnxExportError(`onnx.export: ${op} ${why}`);
}

/** A dim in [0, n). */
export const axis = (d: number, n: number): number => (d < 0 ? d + n : d);

/** `v` as `n` entries (PyTorch's `int[2]`: one int stands for every entry). */
export const nTuple = (v: unknown, n: number): number[] =>
  typeof v === "number" ? Array(n).fill(v) : [...(v as number[])];

/** `x` cast to `dtype` (its name unchanged when it has that dtype already). */
export function castTo(e: Emit, x: Tensor | string, from: DType, dtype: DType): string {
  const name = typeof x === "string" ? x : e.g.nameOf(x);
  if (from === dtype) return name;
  return e.g.node("Cast", [name], undefined, { to: DATA_TYPE[dtype as keyof typeof DATA_TYPE] });
}

/** A number as a scalar initializer of `dtype`, or a tensor operand cast to `dtype`. */
export function operand(e: Emit, v: unknown, dtype: DType): string {
  if (typeof v === "number" || typeof v === "boolean") return e.g.scalar(+v, dtype);
  const t = v as Tensor;
  return castTo(e, t, t.dtype, dtype);
}

/**
 * A reduction over `dims` (all when null): the axes are an input from opset 18 on (from 13 for ReduceSum), an
 * attribute before.
 */
export function reduce(
  e: Emit,
  opType: string,
  x: Tensor | string,
  ndim: number,
  dims: number | readonly number[] | null,
  keepdim: boolean,
  out: Tensor | string | undefined,
): string {
  const list = dims === null ? [] : typeof dims === "number" ? [dims] : [...dims];
  const axes = (list.length === 0 ? Array.from({ length: ndim }, (_, i) => i) : list).map((d) =>
    axis(d, ndim),
  );
  const keepdims = keepdim ? 1 : 0;
  if (opType === "ReduceSum" || e.opset >= 18)
    return e.g.node(opType, [x, e.g.ints(axes)], out, { keepdims });
  return e.g.node(opType, [x], out, { axes, keepdims });
}

/**
 * `x` reshaped to `y`'s shape with the batch dimension left open: a 0 copies the input's first dimension when `y`
 * keeps it, else the first dimension is inferred (-1).
 */
export function reshapeLike(e: Emit, x: Tensor, y: Tensor): void {
  const shape = [...y.shape];
  if (shape.length > 0 && x.ndim > 0 && shape[0] === x.shape[0]) shape[0] = 0;
  else if (shape.length > 0 && !shape.slice(1).includes(0)) shape[0] = -1;
  e.g.node("Reshape", [x, e.g.ints(shape)], y);
}

/** Emit a chain of single-input nodes from `x`, the last one computing `out` (none: `out` is `x`). */
export function chain(
  e: Emit,
  x: Tensor,
  out: Tensor,
  steps: readonly [opType: string, extra: string[], attrs: Record<string, number | number[]>][],
): void {
  if (steps.length === 0) {
    e.g.alias(out, x);
    return;
  }
  let cur: string = e.g.nameOf(x);
  steps.forEach(([opType, extra, attrs], i) => {
    cur = e.g.node(opType, [cur, ...extra], i === steps.length - 1 ? out : undefined, attrs);
  });
}

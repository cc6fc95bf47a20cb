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
  /** Which dims of a traced value vary with the dynamic axes (null: not known; see `probe.ts`). */
  readonly varies: (t: Tensor) => readonly boolean[] | null;
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
 * `x` reshaped to `y`'s shape with the leading dims left open: the dims `y` keeps from `x` at the start are copied
 * (0), and the first one after them is inferred (-1), so a batch dimension kept, merged (`[B, T, E] -> [B * T,
 * E]`) or split (`[B * H, T, d] -> [B, H, T, d]`) follows the input's size.
 */
export function reshapeLike(e: Emit, x: Tensor, y: Tensor): void {
  const open = e.varies(y);
  if (open) return void e.g.node("Reshape", [x, e.g.ints(openShape(e, x, y, open))], y);
  const shape = [...y.shape];
  let i = 0;
  while (i < shape.length && i < x.ndim && shape[i] === x.shape[i] && shape[i] !== 0) shape[i++] = 0;
  if (i < shape.length && !shape.slice(i + 1).includes(0)) shape[i] = -1;
  e.g.node("Reshape", [x, e.g.ints(shape)], y);
}

/**
 * A Reshape's shape where `open` marks the dims that follow the dynamic axes: those kept from `x` at the same
 * index are copied (0), one other is inferred (-1), the rest are fixed.
 */
function openShape(e: Emit, x: Tensor, y: Tensor, open: readonly boolean[]): number[] {
  const fromX = e.varies(x);
  const shape: number[] = [...y.shape];
  const rest: number[] = [];
  open.forEach((o, i) => {
    if (!o) return;
    if (i < x.ndim && x.shape[i] === y.shape[i] && fromX?.[i]) shape[i] = 0;
    else rest.push(i);
  });
  if (rest.length > 1)
    refuse(
      `a reshape to [${y.shape.join(", ")}] with ${rest.length} dims that follow the dynamic axes`,
      "has no ONNX mapping yet (at most one such dim besides those it keeps)",
    );
  if (rest.length === 1) shape[rest[0]] = -1;
  return shape;
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

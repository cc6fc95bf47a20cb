/**
 * float16 and bfloat16 on the CPU. Storage is a Uint16Array of the bits; PyTorch's CPU computes each op on these
 * dtypes in float32 and rounds the result to the dtype, and so does Cinder, in two ways:
 * - elementwise ops and reductions of them run as fused programs (fused.ts): each 16-bit input is decoded to its
 *   value, every node is rounded to its dtype and a 16-bit result is encoded by the store. The version 1 calls
 *   `unary`, `binary`, `where` and `reduce` on such views go the same way (one program of one node), so fused and
 *   unfused results have the same bits.
 * - every other primitive (matmul, softmax, sort, scans, indexing, windows, ...) runs its float32 kernel on float32
 *   copies of the 16-bit views (`viaFloat32`), and the outputs are rounded back: one rounding per op, as PyTorch.
 * Casts and copies (elementwise.ts `castExpr`) and `fill` convert through float32 as `c10::Half(float)` does.
 */
import { type BinaryOp, type Expr, isHalf, type ReduceOp, type UnaryOp, type View } from "@cinder/tensor";
import { contiguousStrides, numel } from "./codegen";
import { copy } from "./elementwise";
import { elementwise } from "./fused";

/** Calls that ran on float32 copies of 16-bit views since load (tests check which path a 16-bit op takes). */
export const halfStats = { viaFloat32: 0, fused: 0 };

/** Whether any of `views` holds float16 or bfloat16 (a null view, an absent optional output, does not). */
export function anyHalf(...views: readonly (View | null)[]): boolean {
  for (const v of views) if (v !== null && isHalf(v.dtype)) return true;
  return false;
}

const input = (index: number, v: View): Expr => ({ op: "input", index, dtype: v.dtype });

/** `unary` on 16-bit views: a one-node program (decoded, computed, rounded once). */
export function unary(fn: UnaryOp, x: View, out: View): void {
  halfStats.fused++;
  elementwise({ op: "unary", fn, x: input(0, x), dtype: out.dtype }, [x], out);
}

/** `binary` on 16-bit views: a one-node program. */
export function binary(fn: BinaryOp, a: View, b: View, out: View): void {
  halfStats.fused++;
  elementwise({ op: "binary", fn, a: input(0, a), b: input(1, b), dtype: out.dtype }, [a, b], out);
}

/** `where` on 16-bit views: a one-node program (selects bits' values, stores them encoded: the same bits). */
export function where(cond: View, a: View, b: View, out: View): void {
  halfStats.fused++;
  const e: Expr = { op: "where", cond: input(0, cond), a: input(1, a), b: input(2, b), dtype: out.dtype };
  elementwise(e, [cond, a, b], out);
}

/**
 * `reduce` of a 16-bit view: the program reading it, reduced (accumulated in float64, then rounded through float32
 * to the output's dtype: PyTorch accumulates in float32, whose error is far below a 16-bit result's rounding).
 */
export function reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
  halfStats.fused++;
  if (isHalf(x.dtype)) elementwise(input(0, x), [x], out, { op, axes, shape: x.shape });
  else viaFloat32([x, out], (v) => elementwise(input(0, v[0]), [v[0]], v[1], { op, axes, shape: x.shape }));
}

/** A contiguous float32 copy of `v`'s elements (decoded), same shape. */
function widen(v: View): View {
  const out: View = {
    handle: new Float32Array(numel(v.shape)),
    dtype: "float32",
    shape: v.shape,
    strides: contiguousStrides(v.shape),
    offset: 0,
  };
  copy(v, out);
  return out;
}

/**
 * Run `run` on `views` with every 16-bit one replaced by a float32 copy, then write the copies back (rounded) into
 * the 16-bit views among `views` from index `firstOut` on (the outputs; their current values are copied in first,
 * for kernels that accumulate into them or leave parts untouched).
 */
export function viaFloat32(
  views: readonly (View | null)[],
  run: (widened: View[]) => void,
  firstOut = views.length - 1,
): void {
  halfStats.viaFloat32++;
  const wide = views.map((v) => (v !== null && isHalf(v.dtype) ? widen(v) : v)) as View[];
  run(wide);
  for (let k = firstOut; k < views.length; k++) {
    const v = views[k];
    if (v !== null && wide[k] !== v) copy(wide[k], v);
  }
}

/**
 * The reductions over contiguous typed arrays, in rank order (rank 0 first, rounding to the array's type after each
 * step), shared by the threads backend and the conformance reference. Integer sums and products wrap as C's
 * (`Int32Array`/`Uint8Array` stores wrap; products of int32 use `Math.imul`); `min`/`max` propagate NaN as
 * `torch.minimum`/`torch.maximum`; `avg` is the sum divided by the number of ranks (floating arrays only).
 */
import type { CollectiveArray, ReduceOpName } from "./backend";

/** `dst[i] = op(dst[i], src[i])` for `i` in `[0, n)` (the running step of a rank-order reduction). */
export function combineInto(op: ReduceOpName, dst: CollectiveArray, src: CollectiveArray, n: number): void {
  switch (op) {
    case "sum":
    case "avg":
      for (let i = 0; i < n; i++) dst[i] += src[i];
      return;
    case "product":
      if (dst instanceof Int32Array) for (let i = 0; i < n; i++) dst[i] = Math.imul(dst[i], src[i]);
      else for (let i = 0; i < n; i++) dst[i] *= src[i];
      return;
    case "min":
      for (let i = 0; i < n; i++) {
        const a = dst[i];
        const b = src[i];
        dst[i] = b < a || Number.isNaN(b) ? b : a;
      }
      return;
    case "max":
      for (let i = 0; i < n; i++) {
        const a = dst[i];
        const b = src[i];
        dst[i] = b > a || Number.isNaN(b) ? b : a;
      }
      return;
  }
}

/** The last step of `avg` over `worldSize` ranks: `dst[i] /= worldSize` (no-op for other ops). */
export function finishReduce(op: ReduceOpName, dst: CollectiveArray, n: number, worldSize: number): void {
  if (op !== "avg") return;
  for (let i = 0; i < n; i++) dst[i] /= worldSize;
}

/** The reduction of `inputs` (one per rank, in rank order) as a new array: the reference every backend matches. */
export function reduceArrays(op: ReduceOpName, inputs: readonly CollectiveArray[]): CollectiveArray {
  const out = inputs[0].slice();
  for (let r = 1; r < inputs.length; r++) combineInto(op, out, inputs[r], out.length);
  finishReduce(op, out, out.length, inputs.length);
  return out;
}

/** The constructor of a typed array of the same type as `a`. */
export function arrayType(
  a: CollectiveArray,
): new (
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
) => CollectiveArray {
  return a.constructor as new (
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ) => CollectiveArray;
}

/** A short name of the array's type for errors ("float32", "int32", ...). */
export function arrayTypeName(a: CollectiveArray): string {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  return "uint8";
}

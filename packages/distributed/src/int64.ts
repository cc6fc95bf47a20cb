/**
 * int64 sums and products over ranks. int64 storage holds exact doubles (a Float64Array), which the backends reduce
 * as float64 (MPI_DOUBLE): exact while every partial result stays within ±(2^53 - 1), but a partial past it rounds
 * and could come back to a wrong in-range value that no check of the result would catch. So every rank first learns
 * the largest |value| of any rank (one all-reduce of a single double, `max`, exact) and the reduction runs only when
 * that bound keeps every partial result exact: `maxAbs * worldSize` for a sum, `maxAbs ^ worldSize` for a product.
 * Otherwise every rank throws the same error, so none is left waiting in the collective.
 */
import type { Tensor } from "@cinder/tensor";
import type { ProcessGroup } from "./process-group";

export function checkInt64Reduction(
  g: ProcessGroup,
  op: "sum" | "product",
  inputs: readonly Tensor[],
  what: string,
): void {
  let local = 0;
  for (const t of inputs) if (t.numel() > 0) local = Math.max(local, t.abs().max().item() as number);
  const maxAbs = Float64Array.of(local);
  g.backend.allReduce(maxAbs, "max").wait();
  const n = g.size();
  const bound = op === "sum" ? maxAbs[0] * n : maxAbs[0] ** n;
  if (bound > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `${what}: an int64 ${op} over ${n} ranks of values up to ${maxAbs[0]} could pass 2^53 - 1, past which Cinder's int64 is not exact; convert with .double() first`,
    );
  }
}

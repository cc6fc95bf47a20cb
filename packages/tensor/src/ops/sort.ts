/** Sorting: sort, argsort, topk. Values are differentiable (their gradient scatters back through the indices). */
import { IndexError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { normDim } from "../shape";
import type { Tensor } from "../tensor";
import { zerosLike } from "./creation";
import { empty } from "./kernels";
import { type ValuesIndices, valuesIndices } from "./reduce";

export interface SortOptions {
  dim?: number;
  descending?: boolean;
  /** Cinder's sort is always stable; accepted for PyTorch compatibility. */
  stable?: boolean;
}

export function sort(x: Tensor, opts: SortOptions = {}): ValuesIndices {
  const d = normDim(opts.dim ?? -1, x.ndim, "sort");
  const values = empty(x.shape, x.dtype, x);
  const indices = empty(x.shape, "int32", x);
  if (x.numel() > 0) {
    if (x.ndim === 0) x.backend.copy(x.view_, values.view_);
    else x.backend.sort(x.view_, d, opts.descending ?? false, values.view_, indices.view_);
  }
  if (!needsGrad(x)) return valuesIndices(values, indices);
  recordOp({
    name: "SortBackward0",
    inputs: [x],
    output: values,
    backward: (g) => [zerosLike(x, { dtype: g.dtype }).scatterAdd(d, indices, g)],
  });
  return valuesIndices(values, indices);
}

export function argsort(x: Tensor, opts: SortOptions = {}): Tensor {
  return sort(x, opts).indices;
}

/** The k largest (or smallest) elements along `dim`, sorted. */
export function topk(
  x: Tensor,
  k: number,
  opts: { dim?: number; largest?: boolean; sorted?: boolean } = {},
): ValuesIndices {
  const d = normDim(opts.dim ?? -1, x.ndim, "topk");
  const size = x.ndim === 0 ? 1 : x.shape[d];
  if (!Number.isInteger(k) || k < 0 || k > size) {
    throw new IndexError(`topk: k (${k}) is out of range for dimension ${d} of size ${size}`);
  }
  const { values, indices } = sort(x, { dim: d, descending: opts.largest ?? true });
  return valuesIndices(values.narrow(d, 0, k), indices.narrow(d, 0, k));
}

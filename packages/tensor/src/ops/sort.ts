/** Sorting: sort, argsort, topk. Values are differentiable (their gradient scatters back through the indices). */
import { defaultIntDtype, isComplex } from "../dtype";
import { IndexError } from "../errors";
import { needsGrad, recordOp } from "../grad";
import { checkHalfKernel } from "../half";
import { normDim } from "../shape";
import { arg, k, op, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { complexUnsupported } from "./complex";
import { zerosLike } from "./creation";
import { empty } from "./kernels";
import { type ValuesIndices, valuesIndices } from "./reduce";

const dimArg = arg("dim", k.int, -1);
const descendingArg = arg("descending", k.bool, false);
/** Cinder's sort is always stable, so `stable` changes nothing: both values are PyTorch's results. */
const stableArg = arg("stable", k.bool, false);

function sortImpl(x: Tensor, dim: number, descending: boolean, what = "sort"): ValuesIndices {
  if (isComplex(x.dtype)) throw complexUnsupported(what, x.dtype);
  const d = normDim(dim, x.ndim, what);
  const values = empty(x.shape, x.dtype, x);
  const indices = empty(x.shape, defaultIntDtype(x.backend), x);
  if (x.numel() > 0) {
    if (x.ndim === 0) {
      x.backend.copy(x.view_, values.view_);
      x.backend.fill(indices.view_, 0);
    } else x.backend.sort(x.view_, d, descending, values.view_, indices.view_);
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

/**
 * `sort(input, dim=-1, descending=False, *, stable=False)` -> (values, indices): read `.values` / `.indices` or
 * destructure `const [values, indices] = x.sort(1, true)`. Always stable (ties keep their order).
 */
export const sort = op(
  signature("sort", [self, dimArg, descendingArg], [stableArg]),
  ({ input, dim, descending }): ValuesIndices => sortImpl(input, dim, descending),
);

/** `argsort(input, dim=-1, descending=False, *, stable=False)`: the indices that sort `input` along `dim` */
export const argsort = op(
  signature("argsort", [self, dimArg, descendingArg], [stableArg]),
  ({ input, dim, descending }): Tensor => sortImpl(input, dim, descending, "argsort").indices,
);

/**
 * `topk(input, k, dim=-1, largest=True, sorted=True)` -> (values, indices): the k largest (or smallest) elements
 * along `dim`. The result is always sorted (PyTorch leaves the order unspecified with `sorted=False`).
 */
export const topk = op(
  signature("topk", [
    self,
    arg("k", k.int),
    dimArg,
    arg("largest", k.bool, true),
    arg("sorted", k.bool, true),
  ]),
  ({ input: x, k: n, dim, largest }): ValuesIndices => {
    checkHalfKernel("topk", x.dtype); // PyTorch 1.13's CPU has no float16 topk (sort it has)
    const d = normDim(dim, x.ndim, "topk");
    const size = x.ndim === 0 ? 1 : x.shape[d];
    if (n < 0 || n > size) {
      throw new IndexError(`topk(): selected index k (${n}) out of range for dimension ${d} of size ${size}`);
    }
    const { values, indices } = sortImpl(x, d, largest, "topk");
    return valuesIndices(values.narrow(d, 0, n), indices.narrow(d, 0, n));
  },
);

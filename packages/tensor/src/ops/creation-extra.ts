/**
 * Creation ops of issue 14: `logspace` (computed as PyTorch's CPU kernel computes it, so values agree to the last
 * bit) and `meshgrid` (broadcast views of its 1-D inputs).
 */
import { allocTypedArray, checkAllocation, isFloat } from "../dtype";
import { DTypeError, fmtShape, ShapeError } from "../errors";
import { isHalf } from "../half";
import { arg, k, op, type Param, signature } from "../signature";
import { type Tensor, tensorFromData } from "../tensor";
import {
  checkCount,
  checkRequiresGrad,
  FACTORY_KEYWORDS,
  finish,
  getDefaultDevice,
  resolveDtype,
} from "./creation-args";
import { sameDevice } from "./kernels";
import { checkScalarFits } from "./range-check";

const LOGSPACE = signature(
  "logspace",
  [arg("start", k.float), arg("end", k.float), arg("steps", k.int), arg("base", k.float, 10)],
  FACTORY_KEYWORDS,
);
/**
 * `logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: `base` raised to `steps` evenly spaced exponents from start to end inclusive. As PyTorch's
 * kernel: start and end become the dtype first (integers truncate), the exponents and powers are computed in double
 * (from each end towards the middle) and the powers rounded (truncated for integer dtypes) to the dtype.
 */
export const logspace = op(
  LOGSPACE,
  ({ start, end, steps, base, dtype: asked, device, requiresGrad }): Tensor => {
    checkCount("logspace", "steps", steps);
    const dtype = resolveDtype("logspace", asked, "float32");
    if (dtype === "bool") throw new DTypeError("logspace(): not implemented for bool");
    checkRequiresGrad("logspace", requiresGrad, dtype);
    checkAllocation(steps, dtype, "logspace()", [steps]);
    checkScalarFits("logspace", start, dtype);
    checkScalarFits("logspace", end, dtype);
    // (a 16-bit float's values are computed in float64 and rounded on write, tensorFromData)
    const arr = allocTypedArray(isHalf(dtype) ? "float64" : dtype, steps, "logspace()");
    // start and end in the dtype (float32 rounds, integers truncate); their difference in the dtype too
    const ends = allocTypedArray(dtype === "float64" ? "float64" : isFloat(dtype) ? "float32" : "int32", 3);
    ends[0] = isFloat(dtype) ? start : Math.trunc(start);
    ends[1] = isFloat(dtype) ? end : Math.trunc(end);
    ends[2] = ends[1] - ends[0];
    const [a, b] = [ends[0], ends[1]];
    if (steps === 1) arr[0] = base ** start;
    else if (steps > 1) {
      const step = ends[2] / (steps - 1);
      const half = Math.floor(steps / 2);
      for (let i = 0; i < steps; i++)
        arr[i] = i < half ? base ** (a + step * i) : base ** (b - step * (steps - i - 1));
    }
    return finish(
      tensorFromData(arr, [steps], dtype, device ?? getDefaultDevice(), "logspace()"),
      requiresGrad,
    );
  },
);

/** `*tensors`: `f(a, b)` or `f([a, b])`; the value is always the list. */
const tensorsVarargs: Param<"tensors", readonly Tensor[], true> & { readonly varargs: true } = {
  name: "tensors",
  kind: k.tensors,
  // optional, so that `meshgrid()` gets meshgrid's own error rather than the parser's
  optional: true,
  default: [],
  varargs: true,
};

/**
 * `meshgrid(*tensors, indexing=None)`: coordinate grids of 0-dim or 1-D tensors, as broadcast views. With "ij" (the
 * default, which PyTorch 1.13 warns about) the i-th grid varies along dim i; with "xy" the first two dims are swapped
 * (Cartesian indexing). `meshgrid(a, b)` or `meshgrid([a, b])`.
 */
export const meshgrid = op(
  signature("meshgrid", [tensorsVarargs], [arg.opt("indexing", k.oneOf("ij", "xy"))]),
  ({ tensors, indexing }): Tensor[] => {
    if (tensors.length === 0) throw new ShapeError("meshgrid(): meshgrid expects a non-empty TensorList");
    sameDevice("meshgrid", ...tensors);
    tensors.forEach((t, i) => {
      if (t.dtype !== tensors[0].dtype) {
        throw new DTypeError(
          `meshgrid(): expects all tensors to have the same dtype, got ${tensors[0].dtype} and ${t.dtype} (tensor ${i})`,
        );
      }
      if (t.ndim > 1) {
        throw new ShapeError(
          `meshgrid(): expected 0D or 1D tensors in the tensor list, got shape ${fmtShape(t.shape)} for tensor ${i}`,
        );
      }
    });
    // "xy": the grids of the first two tensors swapped, then the results swapped back (as PyTorch)
    const swap = indexing === "xy" && tensors.length >= 2;
    const ts = swap ? [tensors[1], tensors[0], ...tensors.slice(2)] : [...tensors];
    const shape = ts.map((t) => t.numel());
    const grids = ts.map((t, i) => t.reshape(shape.map((n, j) => (j === i ? n : 1))).expand(shape));
    if (swap) [grids[0], grids[1]] = [grids[1], grids[0]];
    return grids;
  },
);

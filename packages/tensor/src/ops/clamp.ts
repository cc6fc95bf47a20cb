/**
 * clamp / clip with PyTorch 1.13's derivative. The value is min(max(x, min), max) (so `max` wins where
 * min > max, as in PyTorch); the gradient is not that of the maximum/minimum composition (which would split
 * ties 0.5/0.5) but PyTorch's subgradient 1 at the bounds:
 *   - number bounds (ClampBackward1): grad where min <= x <= max, else 0;
 *   - tensor bounds (ClampBackward0, `clamp_backward_min_max`): x gets grad where min <= x <= max, `min` where
 *     x < min and min < max, `max` where x > max or max < min.
 * A NaN x gets no gradient (every comparison with it is false).
 */
import { needsGrad, noGrad, recordOp } from "../grad";
import { checkHalfKernel } from "../half";
import type { Tensor } from "../tensor";
import { binary, type TensorOrScalar, where } from "./elementwise";

type Bound = TensorOrScalar | null;

export function clampOp(x: Tensor, min: Bound, max: Bound): Tensor {
  if (min === null && max === null) {
    throw new TypeError("clamp: at least one of min or max must not be None/undefined");
  }
  // PyTorch 1.13's CPU clamps float16 by tensor bounds only
  if (typeof min !== "object" && typeof max !== "object") checkHalfKernel("clamp", x.dtype);
  const y = noGrad(() => {
    const r = min !== null ? binary("maximum", x, min) : x;
    return max !== null ? binary("minimum", r, max) : r;
  });
  const lo = typeof min === "object" ? min : null;
  const hi = typeof max === "object" ? max : null;
  if (!needsGrad(x, lo, hi)) return y;
  const pass = (mask: Tensor, g: Tensor) => where(mask, g, 0);
  if (lo === null && hi === null) {
    // number bounds (torch.clamp(Tensor, Scalar?, Scalar?)): only x has a gradient
    const a = min as number | boolean | null;
    const b = max as number | boolean | null;
    return recordOp({
      name: "ClampBackward1",
      inputs: [x],
      output: y,
      saved: [x],
      backward: (g) => {
        const inside =
          a !== null && b !== null ? x.ge(a).logicalAnd(x.le(b)) : a !== null ? x.ge(a) : x.le(b as number);
        return [pass(inside, g)];
      },
    });
  }
  // tensor bounds (torch.clamp(Tensor, Tensor?, Tensor?)); a number beside a tensor bound acts as a 0-dim tensor
  const need = [x.requiresGrad, lo?.requiresGrad === true, hi?.requiresGrad === true] as const;
  return recordOp({
    name: "ClampBackward0",
    inputs: [x, lo, hi],
    output: y,
    saved: [x, ...(lo ? [lo] : []), ...(hi ? [hi] : [])],
    backward: (g) => {
      if (min !== null && max !== null) {
        return [
          need[0] ? pass(x.ge(min).logicalAnd(x.le(max)), g) : null,
          need[1] ? pass(x.lt(min).logicalAnd(binary("lt", min, max)), g) : null,
          need[2] ? pass(x.gt(max).logicalOr(binary("lt", max, min)), g) : null,
        ];
      }
      if (min !== null)
        return [need[0] ? pass(x.ge(min), g) : null, need[1] ? pass(x.lt(min), g) : null, null];
      return [
        need[0] ? pass(x.le(max as TensorOrScalar), g) : null,
        null,
        need[2] ? pass(x.gt(max as TensorOrScalar), g) : null,
      ];
    },
  });
}

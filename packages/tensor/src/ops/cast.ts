import type { DType } from "../dtype";
import { isComplex, isFloat } from "../dtype";
import { needsGrad, recordOp } from "../grad";
import { opTracer } from "../op-tracer";
import { complexGradError, type Tensor } from "../tensor";
import { cast } from "./kernels";

/** Dtype conversion; differentiable between float dtypes (ToCopyBackward0). */
export function castOp(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  if (opTracer !== null) return opTracer.call("to", { input: x, dtype }, () => castRun(x, dtype)) as Tensor;
  return castRun(x, dtype);
}

function castRun(x: Tensor, dtype: DType): Tensor {
  if (isComplex(dtype) && needsGrad(x)) throw complexGradError("to");
  const out = cast(x, dtype);
  if (!isFloat(dtype)) return out;
  return recordOp({
    name: "ToCopyBackward0",
    inputs: [x],
    output: out,
    backward: (g) => [castOp(g, x.dtype)],
  });
}

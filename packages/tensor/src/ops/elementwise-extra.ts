/**
 * Composite elementwise ops: each is PyTorch 1.13's formula written with the op table's primitives, so it runs on
 * every backend, fuses on the CPU, and gets its gradient from the primitives' (no derivative of its own). The
 * formulas follow PyTorch's kernels step by step, in the same order, so float32 results round as PyTorch's do.
 */
import { isFloat } from "../dtype";
import { DTypeError } from "../errors";
import { arg, k, op, self, signature } from "../signature";
import type { Tensor } from "../tensor";
import { binary, computeDtype, inplace, type TensorOrScalar, where } from "./elementwise";
import { writeOut } from "./elementwise-signatures";
import { cast } from "./kernels";

const outOpt = arg.opt("out", k.tensor);
const fn = { forms: ["function"] as const };
const method = { forms: ["method"] as const };

/** `out=` when given, else the result itself. */
const maybeOut = (
  what: string,
  y: Tensor,
  out: Tensor | null | undefined,
  inputs: readonly unknown[],
): Tensor => (out ? writeOut(what, y, out, inputs) : y);

// ---- isfinite ----

function isfiniteValue(x: Tensor): Tensor {
  // x - x is 0 for every finite x and NaN for NaN and ±inf; integers are always finite
  if (!isFloat(x.dtype)) return x.eq(x);
  return x.sub(x).eq(0);
}
/** `torch.isfinite(input)`: true where the element is neither NaN nor ±inf. */
export const isfinite = op(signature("isfinite", [self]), ({ input }): Tensor => isfiniteValue(input));

// ---- frac ----

function fracValue(x: Tensor): Tensor {
  if (!isFloat(x.dtype)) {
    throw new DTypeError(
      `frac(): "frac_cpu" is not implemented for ${x.dtype} (frac needs a floating point tensor)`,
    );
  }
  return x.sub(x.trunc()); // PyTorch: self - trunc(self), the sign of the input kept
}
/** `torch.frac(input, *, out=None)`: the fractional part, `input - trunc(input)`. */
export const frac = op(
  signature("frac", [self], [outOpt], fn),
  ({ input, out }): Tensor => maybeOut("frac", fracValue(input), out, [input]),
);
/** `x.frac()` */
export const fracMethod = op(signature("frac", [self], [], method), ({ input }): Tensor => fracValue(input));
/** `x.frac_()` */
export const frac_ = op(
  signature("frac_", [self], [], method),
  ({ input }): Tensor => inplace(input, [], (s) => fracValue(s), "frac_"),
);

// ---- lerp ----

const lerpParams = [self, arg("end", k.tensor), arg("weight", k.tensorOrScalar)] as const;

function lerpValue(start: Tensor, end: Tensor, weight: TensorOrScalar): Tensor {
  if (start.dtype !== end.dtype) {
    throw new DTypeError(`lerp(): expected dtype ${start.dtype} for \`end\` but got dtype ${end.dtype}`);
  }
  if (!isFloat(start.dtype))
    throw new DTypeError(`lerp(): "lerp_kernel_scalar" is not implemented for ${start.dtype}`);
  const diff = end.sub(start);
  // PyTorch: |w| < 0.5 ? start + w * (end - start) : end - (end - start) * (1 - w), each as one fused multiply-add.
  // For float32, float64 arithmetic is that FMA (the product of two floats is exact in a double, one rounding to
  // double then to float); float64 inputs round twice (PyTorch's fma once: at most an ulp apart).
  const f32 = start.dtype === "float32";
  const wide = (t: Tensor) => (f32 ? cast(t, "float64") : t);
  const fma = (a: Tensor, b: Tensor | number, c: Tensor, sign: 1 | -1) => {
    const p = wide(a).mul(typeof b === "number" ? b : wide(b));
    return cast(sign === 1 ? wide(c).add(p) : wide(c).sub(p), start.dtype);
  };
  if (typeof weight !== "object") {
    const w = f32 ? Math.fround(+weight) : +weight;
    if (Math.abs(w) < 0.5) return fma(diff, w, start, 1);
    return fma(diff, f32 ? Math.fround(1 - w) : 1 - w, end, -1);
  }
  if (weight.dtype !== start.dtype) {
    throw new DTypeError(
      `lerp(): expected dtype ${start.dtype} for \`weight\` but got dtype ${weight.dtype}`,
    );
  }
  const low = fma(diff, weight, start, 1);
  const high = fma(diff, binary("sub", 1, weight), end, -1);
  return where(weight.abs().lt(0.5), low, high);
}
/** `torch.lerp(input, end, weight, *, out=None)`: `input + weight * (end - input)`, computed as PyTorch does. */
export const lerp = op(
  signature("lerp", lerpParams, [outOpt], fn),
  ({ input, end, weight, out }): Tensor =>
    maybeOut("lerp", lerpValue(input, end, weight), out, [input, end, weight]),
);
/** `x.lerp(end, weight)` */
export const lerpMethod = op(
  signature("lerp", lerpParams, [], method),
  ({ input, end, weight }): Tensor => lerpValue(input, end, weight),
);
/** `x.lerp_(end, weight)` */
export const lerp_ = op(
  signature("lerp_", lerpParams, [], method),
  ({ input, end, weight }): Tensor =>
    inplace(input, [end, weight], (s) => lerpValue(s, end, weight), "lerp_"),
);

// ---- addcmul / addcdiv ----

const addcParams = [self, arg("tensor1", k.tensor), arg("tensor2", k.tensor)] as const;
const valueOpt = arg("value", k.scalar, 1);

function addcmulValue(x: Tensor, t1: Tensor, t2: Tensor, value: number | boolean): Tensor {
  // PyTorch's kernel: self + value * t1 * t2, left to right, in the common dtype
  const dtype = computeDtype(x, t1, t2);
  const a = cast(t1, dtype);
  const prod = (+value === 1 ? a : a.mul(value)).mul(cast(t2, dtype));
  return cast(x, dtype).add(prod);
}
function addcdivValue(x: Tensor, t1: Tensor, t2: Tensor, value: number | boolean): Tensor {
  const dtype = computeDtype(x, t1, t2);
  if (!isFloat(dtype)) {
    throw new DTypeError(
      "addcdiv(): integer division with addcdiv is no longer supported, and in a future release addcdiv will perform a true division of tensor1 and tensor2 (PyTorch 1.13's message); use floating point tensors",
    );
  }
  // PyTorch's vectorized kernel: self + value * (t1 / t2)
  const q = cast(t1, dtype).div(cast(t2, dtype));
  return cast(x, dtype).add(+value === 1 ? q : q.mul(value));
}
/** `torch.addcmul(input, tensor1, tensor2, *, value=1, out=None)`: `input + value * tensor1 * tensor2`. */
export const addcmul = op(
  signature("addcmul", addcParams, [valueOpt, outOpt], fn),
  ({ input, tensor1, tensor2, value, out }): Tensor =>
    maybeOut("addcmul", addcmulValue(input, tensor1, tensor2, value), out, [input, tensor1, tensor2]),
);
/** `torch.addcdiv(input, tensor1, tensor2, *, value=1, out=None)`: `input + value * tensor1 / tensor2`. */
export const addcdiv = op(
  signature("addcdiv", addcParams, [valueOpt, outOpt], fn),
  ({ input, tensor1, tensor2, value, out }): Tensor =>
    maybeOut("addcdiv", addcdivValue(input, tensor1, tensor2, value), out, [input, tensor1, tensor2]),
);
/** `x.addcmul(tensor1, tensor2, *, value=1)` */
export const addcmulMethod = op(
  signature("addcmul", addcParams, [valueOpt], method),
  ({ input, tensor1, tensor2, value }): Tensor => addcmulValue(input, tensor1, tensor2, value),
);
/** `x.addcdiv(tensor1, tensor2, *, value=1)` */
export const addcdivMethod = op(
  signature("addcdiv", addcParams, [valueOpt], method),
  ({ input, tensor1, tensor2, value }): Tensor => addcdivValue(input, tensor1, tensor2, value),
);
/** `x.addcmul_(tensor1, tensor2, *, value=1)` */
export const addcmul_ = op(
  signature("addcmul_", addcParams, [valueOpt], method),
  ({ input, tensor1, tensor2, value }): Tensor =>
    inplace(input, [tensor1, tensor2], (s) => addcmulValue(s, tensor1, tensor2, value), "addcmul_"),
);
/** `x.addcdiv_(tensor1, tensor2, *, value=1)` */
export const addcdiv_ = op(
  signature("addcdiv_", addcParams, [valueOpt], method),
  ({ input, tensor1, tensor2, value }): Tensor =>
    inplace(input, [tensor1, tensor2], (s) => addcdivValue(s, tensor1, tensor2, value), "addcdiv_"),
);

// ---- logaddexp / logaddexp2 ----

const otherParam = arg("other", k.tensor);

function logaddexpValue(a: Tensor, b: Tensor, base2: boolean): Tensor {
  const dtype = computeDtype(a, b);
  if (!isFloat(dtype)) {
    throw new DTypeError(
      `${base2 ? "logaddexp2" : "logaddexp"}(): "${base2 ? "logaddexp2" : "logaddexp"}_cpu" is not implemented for ${dtype} (PyTorch 1.13 takes floating point tensors only)`,
    );
  }
  const x = cast(a, dtype);
  const y = cast(b, dtype);
  // PyTorch: isinf(a) && a == b ? a : max(a, b) + log1p(exp(-|a - b|))  (exp2 and / ln 2 for logaddexp2)
  const d = x.sub(y).abs().neg();
  const tail = base2
    ? d
        .exp2()
        .log1p()
        .mul(1 / Math.LN2)
    : d.exp().log1p();
  const value = x.maximum(y).add(tail);
  return where(x.isinf().logicalAnd(x.eq(y)), x, value);
}
/** `torch.logaddexp(input, other, *, out=None)`: `log(exp(input) + exp(other))` without overflow. */
export const logaddexp = op(
  signature("logaddexp", [self, otherParam], [outOpt], fn),
  ({ input, other, out }) => maybeOut("logaddexp", logaddexpValue(input, other, false), out, [input, other]),
);
/** `torch.logaddexp2(input, other, *, out=None)`: `log2(2^input + 2^other)` without overflow. */
export const logaddexp2 = op(
  signature("logaddexp2", [self, otherParam], [outOpt], fn),
  ({ input, other, out }) => maybeOut("logaddexp2", logaddexpValue(input, other, true), out, [input, other]),
);
/** `x.logaddexp(other)` */
export const logaddexpMethod = op(
  signature("logaddexp", [self, otherParam], [], method),
  ({ input, other }) => logaddexpValue(input, other, false),
);
/** `x.logaddexp2(other)` */
export const logaddexp2Method = op(
  signature("logaddexp2", [self, otherParam], [], method),
  ({ input, other }) => logaddexpValue(input, other, true),
);

/**
 * Scalar functions with PyTorch's semantics where JS's built-ins differ. They define the reference semantics
 * of the op table (ops/elementwise.ts) and CPU kernels call them per element (small and monomorphic, so V8
 * inlines them).
 */
import { type DType, wrapInt } from "./dtype";
import { roundBFloat16, roundFloat16 } from "./half";

/** Round half to even (torch.round): 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> -0. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +inf; keeps -0 for x in [-0.5, -0]
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Numerically stable logistic function. (Not named `sigmoid`: the package's `sigmoid` is the tensor op, and a
 * local export shadows a star export silently, which handed the CPU kernels the tensor op.)
 */
export function sigmoidScalar(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** C's pow: unlike Math.pow, pow(1, y) = 1 and pow(-1, ±inf) = 1 (also for NaN y in the first case). */
export function powFloat(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && (b === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY)) return 1;
  return a ** b;
}

/** Integer power with 32-bit wrap-around; negative exponents follow PyTorch (1, ±1 for -1, else 0). */
export function powInt(a: number, b: number): number {
  if (b < 0) {
    if (a === 1) return 1;
    if (a === -1) return b & 1 ? -1 : 1;
    return 0;
  }
  let r = 1;
  let base = a | 0;
  while (b > 0) {
    if (b & 1) r = Math.imul(r, base);
    base = Math.imul(base, base);
    b >>>= 1;
  }
  return r;
}

/** Python-style float remainder (sign of the divisor), as PyTorch computes it: fmod then adjust. */
export function remFloat(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && b < 0 !== m < 0 ? m + b : m;
}

/** Integer remainder with the sign of the divisor. Division by zero gives NaN, which an integer store makes 0. */
export function remInt(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && b < 0 !== m < 0 ? m + b : m;
}

/** PyTorch's floor division for floats (div_floor_floating): exact near integers, IEEE result for b = 0. */
export function floorDivFloat(a: number, b: number): number {
  if (b === 0) return a / b;
  const m = a % b;
  let div = (a - m) / b;
  if (m !== 0 && b < 0 !== m < 0) div -= 1;
  if (div === 0) return a / b < 0 || Object.is(a / b, -0) ? -0 : 0;
  let fl = Math.floor(div);
  if (div - fl > 0.5) fl += 1;
  return fl;
}

/**
 * One number converted to `dtype` as the protocol's `copy` converts (the value of a float64 source): float32 rounds,
 * to int32 truncates toward zero and saturates (NaN -> 0), to uint8 truncates and wraps modulo 256, to int8/int16
 * truncates and wraps values in int32's range (others give 0, as x86 PyTorch), to bool is `!= 0`.
 */
export function castScalar(v: number, dtype: DType): number {
  switch (dtype) {
    case "float32":
      return Math.fround(v);
    case "float64":
      return v;
    // a real number as a complex constant: its real part, in the part's precision (a fill sets it, imag 0)
    case "complex64":
      return Math.fround(v);
    case "complex128":
      return v;
    case "float16":
      return roundFloat16(v); // through float32, as c10::Half(float(v))
    case "bfloat16":
      return roundBFloat16(v);
    case "int32":
      return v >= 2147483647 ? 2147483647 : v <= -2147483648 ? -2147483648 : v | 0;
    case "int8":
    case "int16":
      // x86 PyTorch converts through int32: values outside its range (and NaN, ±inf) give INT32_MIN, whose low bits are 0
      return v > -2147483649 && v < 2147483648 ? wrapInt(v, dtype) : 0;
    default:
      return wrapInt(v, dtype); // uint8 wraps modulo 256, bool is `!= 0`
  }
}

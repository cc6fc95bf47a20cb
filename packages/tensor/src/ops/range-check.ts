/**
 * Range checks where PyTorch raises and a typed array would silently wrap, clamp or round: fill values that do
 * not fit the dtype (PyTorch's "value cannot be converted to type int without overflow"), integer results that
 * PyTorch's int64 holds but Cinder's int32 (its integer type: WebGPU has no 64-bit integers) cannot, and integer
 * division by zero (PyTorch's "ZeroDivisionError").
 */
import type { DType } from "../dtype";
import { DTYPE_INFO, isFloat } from "../dtype";
import { checkIntegerDivisor, computeDtype, type TensorOrScalar } from "./elementwise";

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The check PyTorch makes when a Python number becomes a `dtype` value (c10's `checked_convert`): int32 takes
 * [-2^31, 2^31 - 1] and no inf/NaN; int8, int16 and int64 take their range (int64: the exactly stored ±(2^53 - 1)); uint8 takes integers in [-255, 255] (negatives wrap) and floats in [0, 255];
 * float32 takes |v| <= FLT_MAX, inf and NaN; float64 and bool take anything.
 * `inferred`: the dtype was inferred from a JS integer, where PyTorch would make int64.
 */
export function checkScalarFits(what: string, value: number | boolean, dtype: DType, inferred = false): void {
  if (typeof value === "boolean") return;
  const v = value;
  let ok = true;
  if (dtype === "int32") ok = !Number.isNaN(v) && v >= INT32_MIN && v <= INT32_MAX;
  else if (dtype === "uint8") ok = Number.isInteger(v) ? v >= -255 && v <= 255 : v >= 0 && v <= 255;
  else if (dtype === "int8" || dtype === "int16" || dtype === "int64")
    ok = v >= DTYPE_INFO[dtype].min && v <= DTYPE_INFO[dtype].max;
  else if (dtype === "float32") ok = !Number.isFinite(v) || Math.abs(v) <= FLOAT32_MAX;
  if (ok) return;
  if (inferred && dtype === "int32") {
    throw new RangeError(
      `${what}: value ${v} does not fit int32 (Cinder's integer type; PyTorch would make an int64 tensor): pass { dtype: "float64" }`,
    );
  }
  throw new RangeError(
    `${what}: value ${v} cannot be converted to type ${DTYPE_INFO[dtype].ctype} without overflow`,
  );
}

/**
 * `arange` with an inferred integer dtype: PyTorch makes int64, so values outside int32 are an error here rather
 * than wrapped (an explicit `{ dtype: "int32" }` wraps, as it does in PyTorch).
 */
export function checkArangeFits(
  start: number,
  step: number,
  n: number,
  dtype: DType,
  inferred: boolean,
): void {
  // int64 (inferred or asked for) must stay where doubles hold it exactly
  if (n === 0 || !(dtype === "int64" || (inferred && dtype === "int32"))) return;
  checkScalarFits("arange", start, dtype, true);
  checkScalarFits("arange", start + (n - 1) * step, dtype, true);
}

/**
 * An integer result of `what` (computed exactly, in float64) that PyTorch holds in int64 but that does not fit
 * int32 is an error, not a wrapped value. `values` are the float64 results; NaN (0 * inf in a product that
 * overflowed float64 before a zero factor) stands for 0.
 */
export function checkInt32Results(what: string, values: ArrayLike<number>, hint: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < INT32_MIN || v > INT32_MAX) {
      const shown = Number.isFinite(v) && Math.abs(v) < 2 ** 63 ? BigInt(v).toString() : String(v);
      throw new RangeError(
        `${what}: the int64 result ${shown} does not fit int32 (Cinder's integer type is int32); use ${hint}`,
      );
    }
  }
}

/**
 * torch.div(a, b, rounding_mode="trunc" | "floor") with integer operands: a zero divisor is PyTorch's
 * ZeroDivisionError (JS would give NaN or inf, stored as 0 or clamped).
 */
export function checkIntegerDivision(what: string, a: TensorOrScalar, b: TensorOrScalar): void {
  if (isFloat(computeDtype(a, b))) return;
  if (typeof b === "object") checkIntegerDivisor(what, b);
  else if (+b === 0) {
    throw new RangeError(
      `${what}: ZeroDivisionError: integer division by zero (the divisor is 0); PyTorch raises here too. Divide floats (e.g. x.double()) to get inf/nan instead`,
    );
  }
}

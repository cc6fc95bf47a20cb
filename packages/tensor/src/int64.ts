/**
 * int64 as the CPU stores it: exact integers in a Float64Array. Doubles hold every integer up to 2^53 - 1 exactly,
 * so int64 arithmetic is float64 arithmetic checked to stay in that range: a result outside it throws an
 * `Int64RangeError` naming the value, never a rounded one. (True 64-bit wrap-around is not emulated: a value past
 * 2^53 - 1 has no exact double to wrap from.) These functions are the per-element semantics the CPU kernels call:
 * small and monomorphic, so V8 inlines them.
 */

/** The largest int64 Cinder stores exactly (2^53 - 1); the smallest is its negation. */
export const INT64_SAFE_MAX = Number.MAX_SAFE_INTEGER;

/** An int64 value outside the exactly stored range [-(2^53 - 1), 2^53 - 1]. */
export class Int64RangeError extends RangeError {
  override name = "Int64RangeError";
}

/** The error for an int64 result `v` (any number, or a BigInt) that Cinder cannot store exactly. */
export function int64RangeError(v: number | bigint, what?: string): Int64RangeError {
  // a double past 2^53 may itself be rounded: shown as such
  const shown =
    typeof v === "bigint" ? `${v}` : Math.abs(v) <= 2 ** 53 ? `${v}` : `of about ${v.toPrecision(17)}`;
  return new Int64RangeError(
    `${what ? `${what}: ` : ""}int64 value ${shown} is outside the range Cinder stores int64 exactly, ` +
      "[-(2^53 - 1), 2^53 - 1] (int64 values live in doubles; PyTorch's wrap-around past that is not emulated)",
  );
}

function overflow(v: number): never {
  throw int64RangeError(v);
}

/**
 * `v`, an int64 result computed in doubles, checked to be exact: in range it is returned (-0 as 0: int64 has no
 * negative zero), else an `Int64RangeError` is thrown. A double beyond 2^53 - 1 may already be rounded, so the
 * check is on the range, which every exact result inside it passes.
 */
export function i64(v: number): number {
  return v >= -INT64_SAFE_MAX && v <= INT64_SAFE_MAX ? v + 0 : overflow(v);
}

/**
 * A float converted to int64 as PyTorch converts (truncation toward zero). x86 PyTorch turns NaN, ±inf and values
 * outside int64 into INT64_MIN, and values from 2^53 on are exact int64 in PyTorch but not here: all of these throw.
 */
export function castToInt64(v: number): number {
  const t = Math.trunc(v);
  return t >= -INT64_SAFE_MAX && t <= INT64_SAFE_MAX ? t + 0 : castError(v);
}

function castError(v: number): never {
  if (Number.isFinite(v)) throw int64RangeError(Math.trunc(v), `cast of ${v} to int64`);
  // x86 PyTorch gives INT64_MIN here, which Cinder cannot store exactly
  throw new Int64RangeError(`cannot convert ${v} to int64 (PyTorch gives -9223372036854775808)`);
}

/**
 * Integer division truncated toward zero (`div(a, b, rounding_mode="trunc")`, C's `/`), exact for every stored
 * value: the double quotient can round across an integer once |a / b| nears 2^52, so the remainder corrects it.
 * Division by zero gives 0, as Cinder's other integer kernels (PyTorch raises).
 */
export function divTruncInt64(a: number, b: number): number {
  if (b === 0) return 0;
  let q = Math.trunc(a / b);
  const r = a - q * b;
  // the true remainder has a's sign (or is 0) and |r| < |b|
  if (r !== 0 && (r < 0 !== a < 0 || Math.abs(r) >= Math.abs(b))) q += (r < 0 ? -1 : 1) * (b < 0 ? -1 : 1);
  return q + 0;
}

/** Floor division (Python's `//`), exact as `divTruncInt64`; division by zero gives 0. */
export function floorDivInt64(a: number, b: number): number {
  const q = divTruncInt64(a, b);
  return b !== 0 && a - q * b !== 0 && a < 0 !== b < 0 ? q - 1 : q;
}

/** Remainder with the divisor's sign (Python's `%`); 0 for b = 0. (`%` on doubles is exact.) */
export function remInt64(a: number, b: number): number {
  if (b === 0) return 0;
  const m = a % b;
  return (m !== 0 && b < 0 !== m < 0 ? m + b : m) + 0;
}

/** Remainder with the dividend's sign (C's `%`, `fmod`); 0 for b = 0. */
export function fmodInt64(a: number, b: number): number {
  return b === 0 ? 0 : (a % b) + 0;
}

/** Integer power, exact (each step range-checked); negative exponents follow PyTorch (1, ±1 for -1, else 0). */
export function powInt64(a: number, b: number): number {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b % 2 !== 0 ? -1 : 1) : 0;
  let r = 1;
  let base = a;
  let e = b;
  while (e > 0) {
    if (e % 2 === 1) r = i64(r * base);
    e = Math.floor(e / 2);
    if (e > 0) base = i64(base * base);
  }
  return r;
}

const isI32 = (v: number) => (v | 0) === v;

/** Bitwise and/or/xor of int64 values: int32 arithmetic when both fit, BigInt otherwise (exact either way). */
export function andInt64(a: number, b: number): number {
  return isI32(a) && isI32(b) ? a & b : i64(Number(BigInt(a) & BigInt(b)));
}
/** Bitwise or of int64 values (see `andInt64`). */
export function orInt64(a: number, b: number): number {
  return isI32(a) && isI32(b) ? a | b : i64(Number(BigInt(a) | BigInt(b)));
}
/** Bitwise xor of int64 values (see `andInt64`). */
export function xorInt64(a: number, b: number): number {
  return isI32(a) && isI32(b) ? a ^ b : i64(Number(BigInt(a) ^ BigInt(b)));
}
/** `~a` = -a - 1 in two's complement, exact in doubles. */
export function notInt64(a: number): number {
  return -a - 1;
}

/** Left shift of int64 with the count taken modulo 64 (x86's shift); a result past 2^53 - 1 throws. */
export function shlInt64(a: number, b: number): number {
  const s = b & 63;
  return i64(Number(BigInt.asIntN(64, BigInt(a) << BigInt(s))));
}

/** Arithmetic right shift of int64 with the count taken modulo 64: floor(a / 2^s), exact in doubles. */
export function shrInt64(a: number, b: number): number {
  const s = b & 63;
  return Math.floor(a / 2 ** s) + 0;
}

/** A BigInt int64 value as a stored number, range-checked (`what` names the caller in the error). */
export function bigintToInt64(v: bigint, what: string): number {
  if (v > BigInt(INT64_SAFE_MAX) || v < -BigInt(INT64_SAFE_MAX)) throw int64RangeError(v, what);
  return Number(v);
}

/** A BigInt64Array as stored int64 values (a Float64Array), each range-checked. */
export function fromBigInt64Array(a: BigInt64Array, what: string): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = bigintToInt64(a[i], what);
  return out;
}

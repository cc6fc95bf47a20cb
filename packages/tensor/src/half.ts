/**
 * float16 and bfloat16 as 16-bit patterns: the two conversions every part of Cinder uses (storage is a Uint16Array
 * of the bits on the CPU; Node 20 has no Float16Array). Written as PyTorch's `c10::Half` / `c10::BFloat16` do it,
 * with table-free bit arithmetic on a float32's bits:
 * - to float16 (`fp16_ieee_from_fp32_value`): round to nearest even, subnormals kept, overflow to ±inf, NaN to a
 *   quiet NaN of the same sign (0x7e00);
 * - to bfloat16 (`round_to_nearest_even`): round to nearest even on the upper 16 bits, NaN to 0x7fc0 (the sign
 *   dropped, as c10 does), overflow to ±inf by the carry into the exponent;
 * - back to a number: exact (every float16 and bfloat16 value is a float32 value).
 * Numbers are converted as PyTorch converts a double: to float32 first (`c10::Half(float)`), then to 16 bits.
 */
import type { DType } from "./dtype";
import { DTypeError } from "./errors";

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The bits of float32 `v` (v already a float32 value or rounded to one by the store). */
function bitsOf(v: number): number {
  F32[0] = v;
  return U32[0];
}

function fromBits(u: number): number {
  U32[0] = u;
  return F32[0];
}

/** float32 constants of c10's `fp16_ieee_from_fp32_value`: 2^112 and 2^-110. */
const SCALE_TO_INF = 2 ** 112;
const SCALE_TO_ZERO = 2 ** -110;

/**
 * The float16 bits of `v` (rounded to float32 first). As c10: scaling by 2^112 then 2^-110 in float32 lets the
 * float32 adder round the mantissa to 10 bits (nearest even, subnormals included) and overflow to inf.
 */
export function toFloat16Bits(v: number): number {
  const w = bitsOf(v);
  const shl1 = (w << 1) >>> 0;
  const sign = (w >>> 16) & 0x8000;
  if (shl1 > 0xff000000) return sign | 0x7e00; // NaN
  let base = Math.fround(Math.fround(Math.abs(Math.fround(v)) * SCALE_TO_INF) * SCALE_TO_ZERO);
  let bias = shl1 & 0xff000000;
  if (bias >>> 0 < 0x71000000) bias = 0x71000000;
  base = Math.fround(fromBits(((bias >>> 1) + 0x07800000) >>> 0) + base);
  const bits = bitsOf(base);
  const expBits = (bits >>> 13) & 0x7c00;
  const mantissaBits = bits & 0x0fff;
  return sign | (expBits + mantissaBits);
}

/** The value of float16 bits `h` (exact): a subnormal scaled, anything else rebuilt as float32 bits (no `2 ** e`). */
export function fromFloat16Bits(h: number): number {
  const exp = h & 0x7c00;
  const man = h & 0x3ff;
  if (exp === 0) return (h & 0x8000 ? -man : man) * 2 ** -24; // zero and subnormals (a constant scale)
  // normal: rebias the exponent (15 -> 127); inf and NaN: the all-ones exponent
  const e32 = exp === 0x7c00 ? 0x7f800000 : ((exp >>> 10) + 112) << 23;
  return fromBits((((h & 0x8000) << 16) | e32 | (man << 13)) >>> 0);
}

/** The bfloat16 bits of `v` (rounded to float32 first): c10's round to nearest even; NaN is 0x7fc0. */
export function toBFloat16Bits(v: number): number {
  const w = bitsOf(v);
  if ((w << 1) >>> 0 > 0xff000000) return 0x7fc0;
  // (a non-NaN pattern plus the bias stays below 2^32: the shift is exact)
  return ((w + (((w >>> 16) & 1) + 0x7fff)) >>> 16) & 0xffff;
}

/** The value of bfloat16 bits `h` (exact: the upper half of a float32). */
export function fromBFloat16Bits(h: number): number {
  return fromBits((h << 16) >>> 0);
}

/** `v` rounded to float16 (through float32), as a number: what a float16 store and load give. */
export function roundFloat16(v: number): number {
  return fromFloat16Bits(toFloat16Bits(v));
}

/** `v` rounded to bfloat16 (through float32), as a number. */
export function roundBFloat16(v: number): number {
  return fromBFloat16Bits(toBFloat16Bits(v));
}

/** Whether `dtype` is stored as 16-bit patterns (float16, bfloat16). */
export function isHalf(dtype: DType): dtype is "float16" | "bfloat16" {
  return dtype === "float16" || dtype === "bfloat16";
}

/** The bits of each value of `values` in half dtype `dtype`. */
export function encodeHalf(dtype: "float16" | "bfloat16", values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  const enc = dtype === "float16" ? toFloat16Bits : toBFloat16Bits;
  for (let i = 0; i < values.length; i++) out[i] = enc(values[i]);
  return out;
}

/** The values of half dtype `dtype`'s bits `bits`, as float32 (exact). */
export function decodeHalf(dtype: "float16" | "bfloat16", bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  const dec = dtype === "float16" ? fromFloat16Bits : fromBFloat16Bits;
  for (let i = 0; i < bits.length; i++) out[i] = dec(bits[i]);
  return out;
}

/** The numbers a read of `dtype` holds: a half dtype's bits decoded to float32 values, other arrays as they are. */
export function valuesOf<T extends ArrayLike<number>>(dtype: DType, data: T): T | Float32Array {
  return isHalf(dtype) ? decodeHalf(dtype, data) : data;
}

/**
 * The ops PyTorch 1.13's CPU has no 16-bit float kernel for, by Cinder's op name, with the kernel its error names
 * (`"exp_vml_cpu" not implemented for 'Half'`): Cinder refuses them as PyTorch does rather than make up values.
 * float16 lacks most math (later PyTorch versions compute it in float32); bfloat16 lacks `prod`. Checked against
 * PyTorch by tests/test/half.test.mjs.
 */
const MISSING: Readonly<Record<"float16" | "bfloat16", Readonly<Record<string, string>>>> = {
  float16: {
    ...Object.fromEntries(
      [
        "sqrt",
        "exp",
        "expm1",
        "log",
        "log1p",
        "log2",
        "sin",
        "cos",
        "tan",
        "tanh",
        "floor",
        "ceil",
        "round",
        "trunc",
      ]
        .concat(["erf", "asin", "acos", "atan", "log10", "erfinv"])
        .map((op) => [op, `${op}_vml_cpu`]),
    ),
    ...Object.fromEntries(
      ["rsqrt", "sigmoid", "sinh", "cosh", "asinh", "acosh", "atanh", "atan2", "hypot", "prod", "topk"].map(
        (op) => [op, `${op}_cpu`],
      ),
    ),
    relu: "clamp_min_cpu",
    clamp: "clamp_scalar_cpu",
    cumsum: "cumsum_out_cpu",
    cumprod: "cumprod_out_cpu",
    softmax: "softmax_lastdim_kernel_impl",
    logSoftmax: "log_softmax_lastdim_kernel_impl",
    mm: "addmm_impl_cpu_",
    matmul: "addmm_impl_cpu_",
    bmm: "bmm",
    dot: "dot",
    mv: "addmv_impl_cpu",
  },
  bfloat16: { prod: "prod_cpu" },
};

/** Throws PyTorch 1.13's error when its CPU has no kernel for `op` on 16-bit float `dtype`; else nothing. */
export function checkHalfKernel(op: string, dtype: DType): void {
  if (!isHalf(dtype)) return;
  const kernel = MISSING[dtype][op];
  if (kernel === undefined) return;
  throw new DTypeError(
    `${op}: "${kernel}" not implemented for '${dtype === "float16" ? "Half" : "BFloat16"}' (PyTorch 1.13's CPU has no ${dtype} ${op}: compute in float32)`,
  );
}

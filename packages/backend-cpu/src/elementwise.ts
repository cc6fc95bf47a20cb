/**
 * Elementwise kernels: copy/cast, fill, unary, binary and where. Each op is one JS expression in a table
 * typed by the protocol's op union, so adding an op to `UNARY_OPS`/`BINARY_OPS` does not compile until it has
 * an expression here. Integer dtypes override a few entries (wrapping multiply, exact integer power, ...).
 *
 * Everything data-dependent is written branch-free: V8 compiles a ternary `a > b ? 1 : 0` to a branch, which on data
 * of random sign mispredicts about half the time (measured on 1M floats: 5.4 ms against 1.0 ms). Comparisons and
 * logical ops become `+(a > b)`, `(a !== 0) & (b !== 0)`; `relu` and `where` select through a two-element scratch
 * array (`SEL[0] = b, SEL[1] = a, SEL[+cond]`: 1.3 ms), the only branch-free form that keeps every value exact
 * (-0, NaN and -inf, which arithmetic selects such as `x * +(x > 0)` break).
 *
 * Stores do the final conversion: a Float32Array store rounds to float32, an Int32Array store wraps modulo
 * 2^32 (NaN and ±inf become 0), a Uint8Array store wraps modulo 256.
 */
import {
  allocTypedArray,
  type BinaryOp,
  type DType,
  isHalf,
  type TypedArray,
  UNARY_OPS,
  type UnaryOp,
  unaryOps,
  type View,
} from "@cinder/tensor";
import { isContiguous, type LoopSpec, numel, operand, runLoop } from "./codegen";
import { zeroFillHeap } from "./heap-fill";

/** Float dtypes (float16/bfloat16 values are decoded from their bits first: see `halfCast` and fused.ts). */
export const isFloatDType = (d: DType) =>
  d === "float32" || d === "float64" || d === "float16" || d === "bfloat16";

/** Unary expressions over `x` for float inputs (and integer inputs unless overridden below). */
export const UNARY: Record<UnaryOp, string> = {
  neg: "-x",
  abs: "Math.abs(x)",
  sqrt: "Math.sqrt(x)",
  rsqrt: "1 / Math.sqrt(x)",
  exp: "Math.exp(x)",
  expm1: "Math.expm1(x)",
  log: "Math.log(x)",
  log1p: "Math.log1p(x)",
  log2: "Math.log2(x)",
  sin: "Math.sin(x)",
  cos: "Math.cos(x)",
  tan: "Math.tan(x)",
  tanh: "Math.tanh(x)",
  sigmoid: "sigmoid(x)",
  // clamp_min(x, 0): NaN and -0 pass through, as in PyTorch. Branch-free: a select through SEL (see above).
  relu: "(SEL[0] = x, SEL[1] = 0, SEL[+(x < 0)])",
  floor: "Math.floor(x)",
  ceil: "Math.ceil(x)",
  round: "roundHalfEven(x)",
  trunc: "Math.trunc(x)",
  // PyTorch computes (0 < x) - (x < 0): sign(NaN) = 0 and sign(-0) = 0.
  sign: "(+(x > 0) - +(x < 0))",
  reciprocal: "1 / x",
  square: "x * x",
  erf: "erf(x)",
  asin: "Math.asin(x)",
  acos: "Math.acos(x)",
  atan: "Math.atan(x)",
  sinh: "Math.sinh(x)",
  cosh: "Math.cosh(x)",
  asinh: "Math.asinh(x)",
  acosh: "Math.acosh(x)",
  atanh: "Math.atanh(x)",
  exp2: "2 ** x",
  log10: "Math.log10(x)",
  erfinv: "erfinv(x)",
  // integer and bool inputs only (the core refuses floats and runs logicalNot on bool); uint8 wraps on store
  bitwiseNot: "~x",
  logicalNot: "+(x === 0)",
  isnan: "+(x !== x)",
  isinf: "+(Math.abs(x) === Infinity)",
};

export const UNARY_INT: Partial<Record<UnaryOp, string>> = {
  square: "Math.imul(x, x)",
  floor: "x",
  ceil: "x",
  round: "x",
  trunc: "x",
  isnan: "0",
  isinf: "0",
};

/**
 * int64 overrides (exact integers in a Float64Array, int64.ts): the int32 tricks (`Math.imul`, 32-bit bitwise ops,
 * truncation by the store) are wrong past 2^31, so these call the exact helpers; every int64 result is then checked
 * by `i64` (see `int64Expr`).
 */
const UNARY_INT64: Partial<Record<UnaryOp, string>> = { square: "x * x", bitwiseNot: "notInt64(x)" };

/** Unary ops whose result is bool whatever the input (from the core's op table). */
export const UNARY_BOOL: ReadonlySet<UnaryOp> = new Set(
  UNARY_OPS.filter((op) => unaryOps[op].kind === "bool"),
);

/** Binary expressions over `a` and `b` for float inputs (and integer inputs unless overridden below). */
export const BINARY: Record<BinaryOp, string> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  pow: "powFloat(a, b)",
  maximum: "Math.max(a, b)",
  minimum: "Math.min(a, b)",
  remainder: "remFloat(a, b)",
  fmod: "a % b",
  floorDivide: "floorDivFloat(a, b)",
  atan2: "Math.atan2(a, b)",
  hypot: "Math.hypot(a, b)",
  // |a| times -1 where b is negative or -0 (1 / -0 = -inf); NaN's sign bit is not visible to JS
  copysign: "Math.abs(a) * (1 - 2 * ((b < 0) | (1 / b === -Infinity)))",
  // integer and bool operands only (the core refuses floats): int32 ops, uint8 wraps on store, bool stays 0/1;
  // shift counts are taken modulo 32 by JS, as PyTorch 1.13 on int32 tensors
  bitwiseAnd: "a & b",
  bitwiseOr: "a | b",
  bitwiseXor: "a ^ b",
  bitwiseLeftShift: "a << b",
  bitwiseRightShift: "a >> b",
  eq: "+(a === b)",
  ne: "+(a !== b)",
  lt: "+(a < b)",
  le: "+(a <= b)",
  gt: "+(a > b)",
  ge: "+(a >= b)",
  logicalAnd: "((a !== 0) & (b !== 0))",
  logicalOr: "((a !== 0) | (b !== 0))",
  logicalXor: "((a !== 0) ^ (b !== 0))",
};

/**
 * Integer overrides. add/sub are exact in doubles and wrap on store. Division by zero yields ±inf or NaN, which
 * the integer store turns into 0: floorDivide, remainder, fmod and div by zero give 0 (PyTorch raises).
 * `div` on integers truncates toward zero (the core normally promotes true division to float).
 */
export const BINARY_INT: Partial<Record<BinaryOp, string>> = {
  mul: "Math.imul(a, b)",
  pow: "powInt(a, b)",
  maximum: "(a > b ? a : b)",
  minimum: "(a < b ? a : b)",
  remainder: "remInt(a, b)",
  floorDivide: "Math.floor(a / b)",
};

const BINARY_INT64: Partial<Record<BinaryOp, string>> = {
  mul: "a * b",
  div: "divTruncInt64(a, b)",
  pow: "powInt64(a, b)",
  remainder: "remInt64(a, b)",
  fmod: "fmodInt64(a, b)",
  floorDivide: "floorDivInt64(a, b)",
  bitwiseAnd: "andInt64(a, b)",
  bitwiseOr: "orInt64(a, b)",
  bitwiseXor: "xorInt64(a, b)",
  bitwiseLeftShift: "shlInt64(a, b)",
  bitwiseRightShift: "shrInt64(a, b)",
};

/** An int64 result range-checked (`i64` throws past 2^53 - 1 rather than store a rounded value). */
export function int64Expr(expr: string): string {
  return `i64(${expr})`;
}

/** The expression of unary `op` on an `x` of dtype `from`, before any conversion to the output's dtype. */
export function unaryExpr(op: UnaryOp, from: DType): string {
  if (isFloatDType(from)) return UNARY[op];
  return (from === "int64" ? UNARY_INT64[op] : undefined) ?? UNARY_INT[op] ?? UNARY[op];
}

/** The expression of binary `op` on operands of dtype `from` (any float operand: the float expression). */
export function binaryExpr(op: BinaryOp, from: DType, fl: boolean): string {
  if (fl) return BINARY[op];
  return (from === "int64" ? BINARY_INT64[op] : undefined) ?? BINARY_INT[op] ?? BINARY[op];
}

export const BINARY_BOOL: ReadonlySet<BinaryOp> = new Set<BinaryOp>([
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  "logicalAnd",
  "logicalOr",
  "logicalXor",
]);

/** Wrap an expression so a bool output only ever holds 0 or 1. */
export function toBool(expr: string): string {
  return `+((${expr}) !== 0)`;
}

/**
 * Loop specs by op and variant (bit 0: float operands, bit 1: a bool output the op does not make itself): built
 * once, not per call, and found without building a key string (a small op's whole kernel costs ~100 ns).
 */
const unarySpecs = new Map<UnaryOp, (LoopSpec | undefined)[]>();
const binarySpecs = new Map<BinaryOp, (LoopSpec | undefined)[]>();

function specOf<Op extends string>(
  specs: Map<Op, (LoopSpec | undefined)[]>,
  op: Op,
  variant: number,
  make: () => LoopSpec,
): LoopSpec {
  let row = specs.get(op);
  if (row === undefined) {
    row = [undefined, undefined, undefined, undefined, undefined, undefined];
    specs.set(op, row);
  }
  let spec = row[variant];
  if (spec === undefined) {
    spec = make();
    row[variant] = spec;
  }
  return spec;
}

/**
 * Variant of a kernel: 0 integer operands, 1 float operands, 2/3 the same with a bool output the op does not make
 * itself, 4 int64 operands and output (range-checked), 5 int64 operands with another output.
 */
function variant(fl: boolean, from: DType, out: DType, makesBool: boolean): number {
  if (out === "bool" && !makesBool) return (fl ? 1 : 0) + 2;
  if (from === "int64") return out === "int64" ? 4 : 5;
  return fl ? 1 : 0;
}

export function unary(op: UnaryOp, x: View, out: View): void {
  const v = variant(isFloatDType(x.dtype), x.dtype, out.dtype, UNARY_BOOL.has(op));
  const spec = specOf(unarySpecs, op, v, () => {
    let expr = unaryExpr(op, x.dtype);
    if (v === 2 || v === 3) expr = toBool(expr);
    else if (v === 4) expr = int64Expr(expr);
    return { key: `u:${expr}`, vars: ["x"], expr };
  });
  runLoop(spec, operand(out), [operand(x)], out.shape);
}

export function binary(op: BinaryOp, a: View, b: View, out: View): void {
  const fl = isFloatDType(a.dtype) || isFloatDType(b.dtype);
  const v = variant(fl, a.dtype, out.dtype, BINARY_BOOL.has(op));
  const spec = specOf(binarySpecs, op, v, () => {
    let expr = binaryExpr(op, a.dtype, fl);
    if (v === 2 || v === 3) expr = toBool(expr);
    else if (v === 4) expr = int64Expr(expr);
    return { key: `b:${expr}`, vars: ["a", "b"], expr };
  });
  runLoop(spec, operand(out), [operand(a), operand(b)], out.shape);
}

const ADD_SCALED: LoopSpec = { key: "addScaled", vars: ["a", "b"], expr: "a + p * b" };
/** out = a + alpha * b in one pass (float dtypes): the optimizers' `p.add_(d, { alpha: -lr })`. */
export function addScaled(a: View, b: View, alpha: number, out: View): void {
  runLoop(ADD_SCALED, operand(out), [operand(a), operand(b)], out.shape, alpha);
}

/** `c ? a : b`, branch-free (see above). */
export const WHERE_EXPR = "(SEL[0] = b, SEL[1] = a, SEL[+(c !== 0)])";
const WHERE: LoopSpec = { key: "where", vars: ["c", "a", "b"], expr: WHERE_EXPR };

export function where(cond: View, a: View, b: View, out: View): void {
  runLoop(WHERE, operand(out), [operand(cond), operand(a), operand(b)], out.shape);
}

/**
 * Cast semantics of `copy`: to bool is `!= 0` (NaN is true); float to int32 truncates toward zero and
 * saturates (NaN -> 0, out-of-range -> INT32_MIN/MAX, as ARM PyTorch and WGSL do); float to uint8 truncates
 * and wraps modulo 256 (as x86 PyTorch does); float to int8/int16 truncates and wraps values in int32's range, others
 * give 0 (as x86 PyTorch does); float to int64 truncates, and what x86 PyTorch makes INT64_MIN (NaN, ±inf, out of
 * range) or Cinder cannot store exactly (|v| >= 2^53) throws; integer narrowing wraps.
 */
export function castExpr(from: DType, to: DType): string {
  if (isHalf(from) || isHalf(to)) return halfCast(from, to);
  if (to === "bool" && from !== "bool") return "+(x !== 0)";
  // int64 takes a float truncated and range-checked; integers fit it (and narrowing from it wraps on store)
  if (to === "int64") return isFloatDType(from) ? "castToInt64(x)" : "x";
  if (to === "int32" && isFloatDType(from)) {
    return "(x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : x)";
  }
  // x86 PyTorch converts through int32: out of its range (and NaN, ±inf) is INT32_MIN, whose low bits are 0
  if ((to === "int8" || to === "int16") && isFloatDType(from))
    return "(x > -2147483649 && x < 2147483648 ? x : 0)";
  return "x";
}

/** The generated kernels' float16/bfloat16 decoders (bits -> value) and encoders (value -> bits), see codegen.ts. */
export const DECODE = { float16: "h2f", bfloat16: "b2f" } as const;
export const ENCODE = { float16: "f2h", bfloat16: "f2b" } as const;

/**
 * A cast from or to a 16-bit float: its bits decoded to their value (a float32 one), which converts as float32 does;
 * a value to a 16-bit float goes through float32 first, as PyTorch's `c10::Half(float)`. The same dtype copies bits.
 */
function halfCast(from: DType, to: DType): string {
  if (from === to) return "x";
  const x = isHalf(from) ? `${DECODE[from]}(x)` : "x";
  if (isHalf(to)) return `${ENCODE[to]}(${x})`;
  return castExpr(isHalf(from) ? "float32" : from, to).replace(/\bx\b/g, x);
}

const castSpecs = new Map<string, LoopSpec>();

function castSpec(expr: string): LoopSpec {
  let s = castSpecs.get(expr);
  if (!s) {
    s = { key: `c:${expr}`, vars: ["x"], expr };
    castSpecs.set(expr, s);
  }
  return s;
}

/** Same-dtype contiguous copies up to this many elements are a loop (see `copy`). */
const SMALL_COPY = 16;

/** out <- x with `copy`'s cast semantics. */
export function copy(x: View, out: View): void {
  if (x.dtype === out.dtype && isContiguous(x) && isContiguous(out)) {
    const n = numel(out.shape);
    if (n === 0) return;
    const src = x.handle as TypedArray;
    const dst = out.handle as TypedArray;
    // `slice`, not `subarray`, for small arrays: V8 keeps typed arrays of up to 64 bytes on its heap, and
    // `subarray` first moves one to an ArrayBuffer of its own (~0.5 us, more than the 4-element add whose result
    // `data()` reads); both copy bits (a JS loop would not keep NaN payloads)
    if (n <= SMALL_COPY) dst.set(src.slice(x.offset, x.offset + n), out.offset);
    else dst.set(src.subarray(x.offset, x.offset + n), out.offset);
    return;
  }
  runLoop(castSpec(castExpr(x.dtype, out.dtype)), operand(out), [operand(x)], out.shape);
}

/** out <- x with plain store semantics (integer outputs wrap): for moving accumulators into outputs. */
export function transfer(x: View, out: View): void {
  // (a 16-bit float output is encoded: its store would not convert)
  const expr = out.dtype === "bool" ? "+(x !== 0)" : isHalf(out.dtype) ? castExpr(x.dtype, out.dtype) : "x";
  runLoop(castSpec(expr), operand(out), [operand(x)], out.shape);
}

const FILL: LoopSpec = { key: "fill", vars: [], expr: "p" };

/** `fill`'s value converted to `dtype` with the cast semantics of `copy` (value as a float64 source). */
function fillValue(dtype: DType, value: number): number {
  // a float store rounds as the cast does: TypedArray.fill converts the value with that very store
  if (isFloatDType(dtype) && !isHalf(dtype)) return value;
  const one = allocTypedArray(dtype, 1);
  const v: View = { handle: one, dtype, shape: [], strides: [], offset: 0 };
  copy({ handle: new Float64Array([value]), dtype: "float64", shape: [], strides: [], offset: 0 }, v);
  return one[0];
}

export function fill(out: View, value: number): void {
  const converted = fillValue(out.dtype, value);
  if (isContiguous(out)) {
    const n = numel(out.shape);
    // +0 is all zero bits: in the heap's shared memory a memset is ~10x faster than TypedArray.fill (heap-fill.ts)
    const zero = converted === 0 && 1 / converted > 0;
    if (zero && zeroFillHeap(out.handle as TypedArray, out.offset, out.offset + n)) return;
    (out.handle as TypedArray).fill(converted, out.offset, out.offset + n);
    return;
  }
  runLoop(FILL, operand(out), [], out.shape, converted);
}

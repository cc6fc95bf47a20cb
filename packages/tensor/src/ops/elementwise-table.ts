/**
 * The elementwise op table. Each entry is the one declaration of an op: its reference scalar function (the
 * living definition the conformance suite checks every backend against), its dtype rule, and its derivative.
 * Methods (`x.exp()`, `x.exp_()`), functions (`exp(x)`) and conformance cases are all generated from it; running
 * the ops (dtype promotion, fusion, autograd records) is `elementwise.ts`.
 */
import type { BinaryOp, UnaryOp } from "../backend";
import type { DType } from "../dtype";
import { DTYPE_INFO, isFloat } from "../dtype";
import { DTypeError } from "../errors";
import { checkHalfKernel } from "../half";
import { floorDivFloat, powFloat, remFloat, roundHalfEven, sigmoidScalar as sigmoid } from "../scalar";
import type { Tensor } from "../tensor";
import { where } from "./elementwise";

/** A unary derivative in terms of the one tensor the op saves (`save`): its input or its result. */
type Grad1 = (g: Tensor, saved: Tensor) => Tensor;
/** A binary derivative; `need[i]` says whether input i wants its gradient (the other entry may be null). */
type Grad2 = (
  g: Tensor,
  a: Tensor,
  b: Tensor,
  y: Tensor,
  need: readonly [boolean, boolean],
) => readonly [Tensor | null, Tensor | null];
/** What a derivative reads, PyTorch's derivatives.yaml names: "self"/"other" (inputs), "result" (output). */
export type SavedName = "self" | "other" | "result";

/** One unary op in the op table: its reference function, dtype rule and derivative. */
export interface UnaryDef {
  /** Reference semantics on one JS number. */
  ref: (x: number) => number;
  /** "float": integer inputs become float32 first; "same": any dtype, kept; "bool": any dtype in, bool out. */
  kind: "float" | "same" | "bool";
  /** Derivative; absent for ops that are not differentiable. */
  grad?: Grad1;
  /**
   * The tensor `grad` reads and autograd saves (version-checked), as PyTorch's derivatives.yaml: "self" (the
   * input: log, sin, ...) or "result" (the output: exp, sigmoid, tanh, sqrt, relu, ...); absent = nothing
   * (neg, floor, ...), so an in-place change to it after the op is only an error where it is in PyTorch.
   */
  save?: "self" | "result";
  /** PyTorch's autograd node name when it is not `<Name>Backward0`. */
  node?: string;
  /** The input dtypes PyTorch has a kernel for, when not all (see `Only`). */
  only?: Only;
}

/**
 * An op defined only for some dtypes (of its input, or the promoted operands of a binary op), as PyTorch's kernels:
 * "float" (float32/float64: hypot), "integral" (integers and bool: bitwise and/or/xor/not), "integer" (no bool:
 * shifts). Other dtypes are PyTorch's `"bitwise_and_cpu" not implemented for 'Float'` error.
 */
export type Only = "float" | "integral" | "integer";

/** One binary op in the op table: its reference function, dtype rule and derivatives. */
export interface BinaryDef {
  /** Reference semantics on two JS numbers. */
  ref: (a: number, b: number) => number;
  /** "arith": promoted dtype; "float": promoted, then float32 if integral; "compare"/"logical": bool out. */
  kind: "arith" | "float" | "compare" | "logical";
  grad?: Grad2;
  /**
   * What the derivative w.r.t. each input reads: `uses[0]` for self (a), `uses[1]` for other (b). Autograd saves
   * what PyTorch's generated code saves: an input read by one derivative only when that input needs its
   * gradient, one read by both always, the result always when read.
   */
  uses?: readonly [readonly SavedName[], readonly SavedName[]];
  node?: string;
  /** The compute dtypes PyTorch has a kernel for, when not all (see `Only`). */
  only?: Only;
}

const zero: Grad1 = (g) => g.mul(0);
const LN2 = Math.LN2;

/** erf to ~1e-15 (series for small |x|, continued fraction for large). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  if (ax < 2.5) {
    let sum = x;
    let term = x;
    const x2 = x * x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc by Lentz's continued fraction
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/**
 * erfinv in float64: Giles' single-precision approximation ("Approximating the erfinv function", 2010), then two
 * Newton steps on `erf` (quadratic convergence: from ~1e-7 to the accuracy of `erf`). erfinv(±1) = ±inf,
 * |x| > 1 and NaN give NaN, erfinv(-0) = -0.
 */
export function erfinv(x: number): number {
  const ax = Math.abs(x);
  if (!(ax < 1)) return ax === 1 ? x * Number.POSITIVE_INFINITY : Number.NaN;
  if (x === 0) return x;
  let w = -Math.log((1 - x) * (1 + x));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  let r = p * x;
  for (let i = 0; i < 2; i++) r -= (erf(r) - x) / (TWO_OVER_SQRT_PI * Math.exp(-r * r));
  return r;
}
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** Whether an op restricted to `only` dtypes (see `Only`) accepts `dtype`. */
export function accepts(only: Only | undefined, dtype: DType): boolean {
  if (only === undefined) return true;
  if (only === "float") return isFloat(dtype);
  return !isFloat(dtype) && (only === "integral" || dtype !== "bool");
}

/** PyTorch's error for an op its kernels lack for `dtype`: `"bitwise_and_cpu" not implemented for 'Float'`. */
export function checkOnly(op: UnaryOp | BinaryOp, only: Only | undefined, dtype: DType): void {
  checkHalfKernel(op, dtype);
  if (accepts(only, dtype)) return;
  const kernel =
    op === "bitwiseLeftShift"
      ? "lshift"
      : op === "bitwiseRightShift"
        ? "rshift"
        : op.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  throw new DTypeError(`${op}: "${kernel}_cpu" not implemented for '${DTYPE_INFO[dtype].torch}'`);
}

/**
 * The unary op table: each op's reference function (the living definition), dtype rule, saved tensors and
 * derivative.
 */
export const unaryOps = {
  neg: { ref: (x) => -x, kind: "same", grad: (g) => g.neg() },
  abs: { ref: Math.abs, kind: "same", save: "self", grad: (g, x) => g.mul(x.sign()) },
  sqrt: { ref: Math.sqrt, kind: "float", save: "result", grad: (g, y) => g.div(y.mul(2)) },
  rsqrt: {
    ref: (x) => 1 / Math.sqrt(x),
    kind: "float",
    save: "result",
    grad: (g, y) => g.mul(y.pow(3)).mul(-0.5),
  },
  exp: { ref: Math.exp, kind: "float", save: "result", grad: (g, y) => g.mul(y) },
  expm1: { ref: Math.expm1, kind: "float", save: "result", grad: (g, y) => g.mul(y.add(1)) },
  log: { ref: Math.log, kind: "float", save: "self", grad: (g, x) => g.div(x) },
  log1p: {
    ref: Math.log1p,
    kind: "float",
    save: "self",
    grad: (g, x) => g.div(x.add(1)),
    node: "Log1PBackward0",
  },
  log2: { ref: Math.log2, kind: "float", save: "self", grad: (g, x) => g.div(x.mul(LN2)) },
  sin: { ref: Math.sin, kind: "float", save: "self", grad: (g, x) => g.mul(x.cos()) },
  cos: { ref: Math.cos, kind: "float", save: "self", grad: (g, x) => g.mul(x.sin()).neg() },
  tan: { ref: Math.tan, kind: "float", save: "result", grad: (g, y) => g.mul(y.square().add(1)) },
  tanh: { ref: Math.tanh, kind: "float", save: "result", grad: (g, y) => g.mul(y.square().neg().add(1)) },
  sigmoid: {
    ref: sigmoid,
    kind: "float",
    save: "result",
    grad: (g, y) => g.mul(y).mul(y.neg().add(1)),
  },
  relu: {
    ref: (x) => (x > 0 ? x : x === 0 || x < 0 ? 0 * Math.sign(x + 1) : x),
    kind: "same",
    save: "result",
    // PyTorch's threshold_backward(grad, result, 0): result <= 0 ? 0 : grad (a NaN result passes grad; inf grad at 0 is 0)
    grad: (g, y) => where(y.le(0), 0, g),
  },
  floor: { ref: Math.floor, kind: "same", grad: zero },
  ceil: { ref: Math.ceil, kind: "same", grad: zero },
  round: { ref: roundHalfEven, kind: "same", grad: zero },
  trunc: { ref: Math.trunc, kind: "same", grad: zero },
  sign: { ref: (x) => (Number.isNaN(x) ? 0 : Math.sign(x) + 0), kind: "same", grad: zero },
  reciprocal: { ref: (x) => 1 / x, kind: "float", save: "result", grad: (g, y) => g.mul(y.square()).neg() },
  square: {
    ref: (x) => x * x,
    kind: "same",
    save: "self",
    grad: (g, x) => g.mul(x).mul(2),
    node: "PowBackward0",
  },
  erf: {
    ref: erf,
    kind: "float",
    save: "self",
    grad: (g, x) => g.mul(x.square().neg().exp()).mul(2 / Math.sqrt(Math.PI)),
  },
  // derivatives as PyTorch 1.13's derivatives.yaml writes them
  asin: {
    ref: Math.asin,
    kind: "float",
    save: "self",
    grad: (g, x) => g.mul(x.square().neg().add(1).rsqrt()),
  },
  acos: {
    ref: Math.acos,
    kind: "float",
    save: "self",
    grad: (g, x) => g.mul(x.square().neg().add(1).rsqrt().neg()),
  },
  atan: { ref: Math.atan, kind: "float", save: "self", grad: (g, x) => g.div(x.square().add(1)) },
  sinh: { ref: Math.sinh, kind: "float", save: "self", grad: (g, x) => g.mul(x.cosh()) },
  cosh: { ref: Math.cosh, kind: "float", save: "self", grad: (g, x) => g.mul(x.sinh()) },
  asinh: { ref: Math.asinh, kind: "float", save: "self", grad: (g, x) => g.mul(x.square().add(1).rsqrt()) },
  acosh: { ref: Math.acosh, kind: "float", save: "self", grad: (g, x) => g.mul(x.square().sub(1).rsqrt()) },
  atanh: {
    ref: Math.atanh,
    kind: "float",
    save: "self",
    grad: (g, x) => g.mul(x.square().neg().add(1).reciprocal()),
  },
  exp2: { ref: (x) => 2 ** x, kind: "float", save: "result", grad: (g, y) => g.mul(y).mul(LN2) },
  log10: { ref: Math.log10, kind: "float", save: "self", grad: (g, x) => g.div(x.mul(Math.LN10)) },
  // PyTorch: 0.5 * sqrt(M_PI) * exp(self.erfinv().pow(2)) * grad
  erfinv: {
    ref: erfinv,
    kind: "float",
    save: "self",
    grad: (g, x) =>
      g.mul(
        x
          .erfinv()
          .square()
          .exp()
          .mul(Math.sqrt(Math.PI) / 2),
      ),
  },
  // integers: two's complement (uint8 wraps at 8 bits on store); bool input runs logicalNot (see `unary`)
  bitwiseNot: { ref: (x) => ~x, kind: "same", only: "integral" },
  // NaN is truthy (it is != 0), unlike JS's `!NaN`
  logicalNot: { ref: (x) => +(x === 0), kind: "bool" },
  isnan: { ref: (x) => +Number.isNaN(x), kind: "bool" },
  isinf: { ref: (x) => +(x === Infinity || x === -Infinity), kind: "bool" },
} satisfies Record<UnaryOp, UnaryDef> as Record<UnaryOp, UnaryDef>;

/**
 * Where a == b, max/min send half the gradient to each side (PyTorch 1.13's
 * `where(self == other, grad / 2, grad).masked_fill_(self < other, 0)`); a NaN side passes it to both.
 */
const maxMinGrad =
  (pick: "gt" | "lt"): Grad2 =>
  (g, a, b, _y, need) => {
    const lose = pick === "gt" ? "lt" : "gt";
    const shared = () => where(a.eq(b), g.div(2), g);
    return [
      need[0] ? shared().maskedFill(a[lose](b), 0) : null,
      need[1] ? shared().maskedFill(b[lose](a), 0) : null,
    ];
  };

/** The binary op table: each op's reference function, dtype rule, saved tensors and derivatives. */
export const binaryOps = {
  add: { ref: (a, b) => a + b, kind: "arith", grad: (g) => [g, g] },
  sub: { ref: (a, b) => a - b, kind: "arith", grad: (g) => [g, g.neg()] },
  mul: {
    ref: (a, b) => a * b,
    kind: "arith",
    uses: [["other"], ["self"]],
    grad: (g, a, b, _y, need) => [need[0] ? g.mul(b) : null, need[1] ? g.mul(a) : null],
  },
  div: {
    ref: (a, b) => a / b,
    kind: "float",
    uses: [["other"], ["self", "other"]],
    // PyTorch: grad / other and -grad * ((self / other) / other)
    grad: (g, a, b, _y, need) => [need[0] ? g.div(b) : null, need[1] ? g.mul(a.div(b).div(b)).neg() : null],
  },
  pow: {
    ref: powFloat,
    kind: "arith",
    uses: [
      ["self", "other"],
      ["self", "other", "result"],
    ],
    grad: (g, a, b, y, need) => [
      // where(b == 0, 0, g * b * a^(b-1)): no 0 * inf = NaN at a == 0 for b == 0
      need[0] ? g.mul(b.mul(a.pow(b.sub(1)))).maskedFill(b.eq(0), 0) : null,
      // d/db a^b = a^b log a, taken as 0 where a == 0 and b >= 0 (PyTorch's convention)
      need[1] ? g.mul(y.mul(a.log()).maskedFill(a.eq(0).logicalAnd(b.ge(0)), 0)) : null,
    ],
  },
  maximum: {
    ref: Math.max,
    kind: "arith",
    uses: [
      ["self", "other"],
      ["self", "other"],
    ],
    grad: maxMinGrad("gt"),
  },
  minimum: {
    ref: Math.min,
    kind: "arith",
    uses: [
      ["self", "other"],
      ["self", "other"],
    ],
    grad: maxMinGrad("lt"),
  },
  remainder: {
    ref: remFloat,
    kind: "arith",
    uses: [[], ["self", "other"]],
    grad: (g, a, b, _y, need) => [g, need[1] ? g.mul(a.floorDivide(b)).neg() : null],
  },
  fmod: {
    ref: (a, b) => a % b,
    kind: "arith",
    uses: [[], ["self", "other"]],
    grad: (g, a, b, _y, need) => [g, need[1] ? g.mul(a.div(b).trunc()).neg() : null],
  },
  floorDivide: { ref: floorDivFloat, kind: "arith" },
  atan2: {
    ref: Math.atan2,
    kind: "float",
    uses: [
      ["self", "other"],
      ["self", "other"],
    ],
    // PyTorch: recip = 1 / (a^2 + b^2); grad * b * recip, grad * -a * recip
    grad: (g, a, b, _y, need) => {
      const recip = a.mul(a).add(b.mul(b)).reciprocal();
      return [need[0] ? g.mul(b).mul(recip) : null, need[1] ? g.mul(a.neg()).mul(recip) : null];
    },
  },
  hypot: {
    ref: Math.hypot,
    kind: "arith",
    only: "float",
    uses: [
      ["self", "result"],
      ["other", "result"],
    ],
    // PyTorch: grad * self / result, grad * other / result
    grad: (g, a, b, y, need) => [need[0] ? g.mul(a).div(y) : null, need[1] ? g.mul(b).div(y) : null],
  },
  // the sign of b: -0 is negative (a NaN's sign bit is not visible to JS: NaN counts as positive here)
  copysign: {
    ref: (a, b) => (b < 0 || 1 / b === Number.NEGATIVE_INFINITY ? -Math.abs(a) : Math.abs(a)),
    kind: "float",
    uses: [["self", "result"], []],
    // PyTorch's copysign_tensor_self_backward: grad * result / self, 0 where self == 0; other: zeros
    grad: (g, a, _b, y, need) => [
      need[0] ? g.mul(y.div(a).maskedFill(a.eq(0), 0)) : null,
      need[1] ? g.mul(0) : null,
    ],
  },
  // integer and bool operands (bool gives logical results); int32 semantics, uint8 wraps at 8 bits on store
  bitwiseAnd: { ref: (a, b) => a & b, kind: "arith", only: "integral" },
  bitwiseOr: { ref: (a, b) => a | b, kind: "arith", only: "integral" },
  bitwiseXor: { ref: (a, b) => a ^ b, kind: "arith", only: "integral" },
  // the shift count is taken modulo 32 (JS's and WGSL's rule, and PyTorch 1.13's on int32 tensors on x86: a count
  // of 32 shifts by 0, -1 by 31); int64 tensors in PyTorch take it modulo 64 instead
  bitwiseLeftShift: { ref: (a, b) => a << b, kind: "arith", only: "integer" },
  bitwiseRightShift: { ref: (a, b) => a >> b, kind: "arith", only: "integer" },
  eq: { ref: (a, b) => +(a === b), kind: "compare" },
  ne: { ref: (a, b) => +(a !== b), kind: "compare" },
  lt: { ref: (a, b) => +(a < b), kind: "compare" },
  le: { ref: (a, b) => +(a <= b), kind: "compare" },
  gt: { ref: (a, b) => +(a > b), kind: "compare" },
  ge: { ref: (a, b) => +(a >= b), kind: "compare" },
  logicalAnd: { ref: (a, b) => +(a !== 0 && b !== 0), kind: "logical" },
  logicalOr: { ref: (a, b) => +(a !== 0 || b !== 0), kind: "logical" },
  logicalXor: { ref: (a, b) => +((a !== 0) !== (b !== 0)), kind: "logical" },
} satisfies Record<BinaryOp, BinaryDef> as Record<BinaryOp, BinaryDef>;

/** PyTorch's autograd node name of an op, e.g. "ExpBackward0". */
const nodeNames = new Map<string, string>();
/** PyTorch's autograd node name of an op of the table (computed once per op). */
export function nodeName(op: string, def: { node?: string }): string {
  if (def.node !== undefined) return def.node;
  let name = nodeNames.get(op);
  if (name === undefined) {
    name = `${op[0].toUpperCase()}${op.slice(1)}Backward0`;
    nodeNames.set(op, name);
  }
  return name;
}

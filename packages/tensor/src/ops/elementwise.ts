/**
 * The elementwise op table. Each entry is the one declaration of an op: its reference scalar function (the
 * living definition the conformance suite checks every backend against), its dtype rule, and its derivative.
 * Methods (`x.exp()`, `x.exp_()`), functions (`exp(x)`) and conformance cases are all generated from it.
 */
import type { BinaryOp, UnaryOp } from "../backend";
import type { DType } from "../dtype";
import { dtypeOfNumber, isFloat, resultType } from "../dtype";
import { DTypeError, fmtShape, ShapeError } from "../errors";
import { fuses } from "../fusion";
import { needsGrad, recordOp } from "../grad";
import {
  castScalar,
  floorDivFloat,
  powFloat,
  remFloat,
  roundHalfEven,
  sigmoidScalar as sigmoid,
} from "../scalar";
import { broadcastShapes, numel, sameShape } from "../shape";
import type { Tensor } from "../tensor";
import { emptyTensor } from "../tensor";
import { cast, expandTo, fused, runBinary, runUnary, sameDevice } from "./kernels";

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
type SavedName = "self" | "other" | "result";

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

/** PyTorch's name of a dtype in its "not implemented for" errors. */
const TORCH_TYPE: Record<DType, string> = {
  float32: "Float",
  float64: "Double",
  int32: "Int",
  uint8: "Byte",
  bool: "Bool",
};

/** Whether an op restricted to `only` dtypes (see `Only`) accepts `dtype`. */
export function accepts(only: Only | undefined, dtype: DType): boolean {
  if (only === undefined) return true;
  if (only === "float") return isFloat(dtype);
  return !isFloat(dtype) && (only === "integral" || dtype !== "bool");
}

/** PyTorch's error for an op its kernels lack for `dtype`: `"bitwise_and_cpu" not implemented for 'Float'`. */
function checkOnly(op: UnaryOp | BinaryOp, only: Only | undefined, dtype: DType): void {
  if (accepts(only, dtype)) return;
  const kernel =
    op === "bitwiseLeftShift"
      ? "lshift"
      : op === "bitwiseRightShift"
        ? "rshift"
        : op.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  throw new DTypeError(`${op}: "${kernel}_cpu" not implemented for '${TORCH_TYPE[dtype]}'`);
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

// ---- running them ----

/** A JS scalar operand: a number or a boolean. */
export type Scalar = number | boolean;
/** An operand of elementwise ops: a tensor or a JS scalar. */
export type TensorOrScalar = Tensor | Scalar;

export function unaryOutDtype(op: UnaryOp, dtype: DType): DType {
  const k = unaryOps[op].kind;
  return k === "bool" ? "bool" : k === "float" && !isFloat(dtype) ? "float32" : dtype;
}

export function unary(op: UnaryOp, x: Tensor, out?: Tensor): Tensor {
  checkOnly(op, unaryOps[op].only, x.dtype);
  // PyTorch's bitwise_not of bool is the logical not (~ on 0/1 words would give -1/-2)
  if (op === "bitwiseNot" && x.dtype === "bool") op = "logicalNot";
  const def = unaryOps[op];
  const dtype = unaryOutDtype(op, x.dtype);
  const src = def.kind === "float" ? cast(x, dtype) : x;
  let y: Tensor;
  if (out && out.dtype === dtype) {
    y = out;
    const sv = src.view_;
    x.backend.unary(op, sv, out.writeView_);
  } else y = runUnary(op, src, dtype);
  if (!def.grad || !needsGrad(x)) return y;
  const grad = def.grad;
  // ops that save nothing (neg, floor, ...) have derivatives that do not read their second argument
  const saved = def.save === "self" ? x : def.save === "result" ? y : null;
  return recordOp({
    name: nodeName(op, def),
    inputs: [x],
    output: y,
    saved: saved ? [saved] : [],
    backward: (g) => [grad(g, saved ?? y)],
  });
}

function kindOf(v: TensorOrScalar): "tensor" | "scalar-tensor" | "number" {
  return typeof v === "object" ? (v.ndim === 0 ? "scalar-tensor" : "tensor") : "number";
}

/** The dtype computation runs in (torch.result_type) for an elementwise op over these operands. */
export function computeDtype(...vs: TensorOrScalar[]): DType {
  // two tensors of one dtype (the usual case) promote to it whatever their dims: no bookkeeping objects
  if (vs.length === 2) {
    const [a, b] = vs;
    if (typeof a === "object" && typeof b === "object" && a.dtype === b.dtype) return a.dtype;
  }
  return resultType(
    vs.map((v) => ({ dtype: typeof v === "object" ? v.dtype : dtypeOfNumber(v), kind: kindOf(v) })),
  );
}

export function binaryDtypes(
  op: BinaryOp,
  a: TensorOrScalar,
  b: TensorOrScalar,
): { compute: DType; out: DType } {
  const { kind, only } = binaryOps[op];
  let compute = computeDtype(a, b);
  checkOnly(op, only, compute);
  if (kind === "float" && !isFloat(compute)) compute = "float32";
  return { compute, out: kind === "compare" || kind === "logical" ? "bool" : compute };
}

/** A JS number as a 0-dim tensor of `dtype` on `like`'s device. */
export function scalarTensor(v: Scalar, dtype: DType, like: Tensor): Tensor {
  if (fuses(like.backend, Number.POSITIVE_INFINITY)) {
    return fused(like.backend, [], dtype, "scalar", (p) => p.constant(castScalar(+v, dtype), dtype));
  }
  const t = emptyTensor([], dtype, like.backend);
  if (v !== 0) t.backend.fill(t.view_, +v);
  return t;
}

export function toTensor(v: TensorOrScalar, dtype: DType, like: Tensor): Tensor {
  return typeof v === "object" ? cast(v, dtype) : scalarTensor(v, dtype, like);
}

export function binary(op: BinaryOp, a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  const like = (typeof a === "object" ? a : b) as Tensor;
  if (typeof like !== "object") throw new TypeError(`${op}: expected at least one tensor operand`);
  const { compute, out: outDtype } = binaryDtypes(op, a, b);
  const ta = toTensor(a, compute, like);
  const tb = toTensor(b, compute, like);
  if ((op === "floorDivide" || op === "remainder" || op === "fmod") && !isFloat(compute)) {
    checkIntegerDivisor(op, tb);
  }
  let y: Tensor;
  if (out && out.dtype === outDtype) {
    sameDevice(op, ta, tb, out);
    const shape = broadcastShapes(ta.shape, tb.shape, op);
    if (!sameShape(shape, out.shape)) {
      throw new ShapeError(
        `${op}: output with shape ${fmtShape(out.shape)} doesn't match the broadcast shape ${fmtShape(shape)}`,
      );
    }
    const av = expandTo(ta, out.shape, op).view_;
    const bv = expandTo(tb, out.shape, op).view_;
    ta.backend.binary(op, av, bv, out.writeView_);
    y = out;
  } else y = runBinary(op, ta, tb, outDtype);
  const def = binaryOps[op];
  const ga = typeof a === "object" ? a : null;
  const gb = typeof b === "object" ? b : null;
  if (!def.grad || !needsGrad(ga, gb)) return y;
  const grad = def.grad;
  const need = [ga?.requiresGrad === true, gb?.requiresGrad === true] as const;
  // pow's three overloads are three nodes in PyTorch: Tensor_Scalar 0, Tensor_Tensor 1, Scalar (a number base) 2
  const name = op === "pow" ? `PowBackward${gb === null ? 0 : ga === null ? 2 : 1}` : nodeName(op, def);
  return recordOp({
    name,
    inputs: [ga, gb],
    output: y,
    saved: savedTensors(def, ga, gb, y, need),
    backward: (g) => grad(g, ta, tb, y, need),
  });
}

/**
 * The tensors a binary node saves, as PyTorch 1.13's generated autograd code does (gen_variable_type.py): an
 * input read by only one of the derivatives is saved only when that input needs its gradient, one read by both
 * always, the result always when read. A JS number operand is PyTorch's Scalar overload (no derivative for it).
 * The originals are saved (not their dtype-converted copies), so an in-place change to them is caught.
 */
function savedTensors(
  def: BinaryDef,
  a: Tensor | null,
  b: Tensor | null,
  y: Tensor,
  need: readonly [boolean, boolean],
): Tensor[] {
  const uses = def.uses;
  if (!uses) return [];
  const derivs = [0, 1].filter((i) => (i === 0 ? a : b) !== null);
  const saved: Tensor[] = [];
  const consider = (name: SavedName, t: Tensor | null) => {
    if (!t) return;
    const usedBy = derivs.filter((i) => uses[i].includes(name));
    if (usedBy.length === 0) return;
    if (name === "result" || usedBy.length > 1 || derivs.length === 1 || need[usedBy[0]]) saved.push(t);
  };
  consider("self", a);
  consider("other", b);
  consider("result", y);
  return saved;
}

/**
 * Integer division by zero is PyTorch's "ZeroDivisionError" (floor/trunc division, remainder, fmod on integer
 * tensors); JS would give NaN, stored as 0. `divisor` is the operand converted to the integer compute dtype.
 * Checked where the backend reads synchronously (on other devices the kernel's result stands).
 */
export function checkIntegerDivisor(what: string, divisor: Tensor): void {
  if (isFloat(divisor.dtype) || divisor.numel() === 0 || !divisor.backend.readSync) return;
  const zero = divisor.ndim === 0 ? divisor.item() === 0 : (divisor.eq(0).any().item() as boolean);
  if (zero) {
    throw new RangeError(
      `${what}: ZeroDivisionError: integer division by zero (the divisor, of dtype ${divisor.dtype}, has a 0); PyTorch raises here too. Divide floats (e.g. x.double()) to get inf/nan instead`,
    );
  }
}

/**
 * `where(cond, a, b)`: `out = cond ? a : b` with broadcasting over all three (WhereBackward0).
 * `where(cond)`: the indices of the nonzero elements of `cond`, one int32 tensor per dim (torch.where(condition),
 * which is `nonzero(cond, as_tuple=True)`; a 0-dim `cond` counts as 1-D).
 */
export function where(cond: Tensor): Tensor[];
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor;
export function where(cond: Tensor, a?: TensorOrScalar, b?: TensorOrScalar): Tensor | Tensor[] {
  if (a === undefined && b === undefined) {
    const idx = (cond.ndim === 0 ? cond.reshape(1) : cond).nonzero(); // [n, ndim]
    return Array.from({ length: idx.shape[1] }, (_, d) => idx.select(1, d).contiguous());
  }
  if (a === undefined || b === undefined) {
    throw new TypeError("where: expected where(condition) or where(condition, input, other)");
  }
  const like = typeof a === "object" ? a : typeof b === "object" ? b : cond;
  const dtype = typeof a === "object" || typeof b === "object" ? computeDtype(a, b) : computeDtype(a, b);
  const ta = toTensor(a, dtype, like);
  const tb = toTensor(b, dtype, like);
  const c = cast(cond, "bool");
  sameDevice("where", c, ta, tb);
  const shape = broadcastShapes(broadcastShapes(c.shape, ta.shape, "where"), tb.shape, "where");
  let y: Tensor;
  if (fuses(like.backend, numel(shape))) {
    y = fused(like.backend, shape, dtype, "where", (p) =>
      p.node({ op: "where", cond: p.operand(c), a: p.operand(ta), b: p.operand(tb), dtype }),
    );
  } else {
    y = emptyTensor(shape, dtype, like.backend);
    like.backend.where(
      expandTo(c, shape, "where").view_,
      expandTo(ta, shape, "where").view_,
      expandTo(tb, shape, "where").view_,
      y.view_,
    );
  }
  const ga = typeof a === "object" ? a : null;
  const gb = typeof b === "object" ? b : null;
  if (!needsGrad(ga, gb)) return y;
  return recordOp({
    name: "WhereBackward0",
    inputs: [ga, gb],
    output: y,
    saved: [cond],
    backward: (g) => [g.maskedFill(c.logicalNot(), 0), g.maskedFill(c, 0)],
  });
}

/**
 * Run `compute` and write its result into `self` (the `op_` variants). Without autograd the kernel writes
 * straight into `self` when dtypes allow. With autograd, `self` is rebased onto the new node as PyTorch does.
 */
export function inplace(
  self: Tensor,
  others: readonly (Tensor | Scalar | null | undefined)[],
  compute: (src: Tensor, out?: Tensor) => Tensor,
  what: string,
): Tensor {
  const tensors = others.filter((o): o is Tensor => typeof o === "object" && o !== null);
  const tracking = needsGrad(self) || tensors.some((t) => needsGrad(t));
  if (tracking && self.isLeaf && self.requiresGrad) {
    throw new Error(`${what}: a leaf Variable that requires grad is being used in an in-place operation.`);
  }
  // under autograd the op reads a copy of self's old values (PyTorch's `original_self`): a node that saves its
  // input must not see it overwritten by the op's own write below
  const r = tracking ? compute(self.clone()) : compute(self, self);
  if (r !== self) {
    if (!sameShape(r.shape, self.shape)) {
      throw new ShapeError(
        `${what}: output with shape ${fmtShape(self.shape)} doesn't match the broadcast shape ${fmtShape(r.shape)}`,
      );
    }
    if (isFloat(r.dtype) && !isFloat(self.dtype)) {
      throw new DTypeError(
        `${what}: result type ${r.dtype} can't be cast to the desired output type ${self.dtype}`,
      );
    }
    const rv = r.view_;
    self.backend.copy(rv, self.writeView_);
  }
  self.bumpVersion();
  if (tracking) {
    self.gradFn = r.gradFn;
    self.requiresGrad = r.requiresGrad;
  }
  return self;
}

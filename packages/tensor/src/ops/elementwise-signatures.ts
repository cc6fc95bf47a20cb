/**
 * PyTorch's signatures of the elementwise ops, derived from the op table (`unaryOps`, `binaryOps`): for each op
 * the function `torch.exp(input, *, out=None)` / `torch.mul(input, other, *, out=None)`, the method
 * `x.exp()` / `x.mul(other)` and the in-place method `x.exp_()` / `x.mul_(other)`, declared once here and
 * installed on Tensor.prototype by `methods.ts`.
 *
 * Hot path: `x.add(y)` / `x.mul(2)` / `x.exp()` are the most frequent calls of all. Each method first checks for
 * the exact common shape of call (one Tensor/number/boolean operand, or no argument) and runs the op directly;
 * that gives the identical result as the parsed path (whose defaults are alpha=1, rounding_mode=None, out=None).
 * Any other call goes through the declared signature's parser.
 */
import type { BinaryOp, UnaryOp } from "../backend";
import { BINARY_OPS, UNARY_OPS } from "../backend";
import type { DType } from "../dtype";
import { dtypeOfNumber, intOn, isFloat } from "../dtype";
import { DTypeError, fmtShape, ShapeError } from "../errors";
import { isGradEnabled } from "../grad";
import { addImpl as add, divImpl as div, subImpl as sub } from "../methods";
import { sameShape } from "../shape";
import {
  type AnyParam,
  ArgumentError,
  arg,
  k,
  type MethodCalls,
  type OpFn,
  op,
  Signature,
  self,
  signature,
} from "../signature";
import { Tensor } from "../tensor";
import { binary, inplace, scalarTensor, type TensorOrScalar, unary } from "./elementwise";
import { copyInto } from "./kernels";

// ---- PyTorch 1.13 facts the op table does not hold ----

/** Unary ops whose torch function takes no `out=` (`torch.relu(input)`, `torch.isnan(input)`, ...). */
const UNARY_NO_OUT = ["relu", "isnan", "isinf"] as const satisfies readonly UnaryOp[];
type UnaryNoOut = (typeof UNARY_NO_OUT)[number];
/** Binary ops whose `input` may be a number (`torch.mul(2, x)`, `torch.pow(2, x)`), as PyTorch's parser allows. */
const NUMBER_INPUT = new Set<BinaryOp>([
  "add",
  "sub",
  "mul",
  "div",
  "floorDivide",
  "pow",
  "remainder",
  "bitwiseAnd",
  "bitwiseOr",
  "bitwiseXor",
  "bitwiseLeftShift",
  "bitwiseRightShift",
]);
/** In-place methods Cinder has and PyTorch lacks: parsed like the others, not registered as PyTorch's. */
const NOT_IN_PYTORCH = new Set(["isnan_", "isinf_", "maximum_", "minimum_"]);

// ---- parameters ----

const outOpt = arg.opt("out", k.tensor);
const otherArg = arg("other", k.tensorOrScalar);
/** `torch.hypot(input, other)` takes a Tensor `other` only. */
const otherTensorArg = arg("other", k.tensor);
const exponentArg = arg("exponent", k.tensorOrScalar);
const inputOrNumber = arg("input", k.tensorOrScalar);
const alphaArg = arg("alpha", k.scalar, 1);
const roundingModeOpt = arg.opt("roundingMode", k.oneOf("trunc", "floor"));
const decimalsArg = arg("decimals", k.int, 0);

type OutOpt = typeof outOpt;
type Self = typeof self;
type Other = typeof otherArg;
type OtherTensor = typeof otherTensorArg;
type Exponent = typeof exponentArg;
type Alpha = typeof alphaArg;
type RoundingMode = typeof roundingModeOpt;
type Decimals = typeof decimalsArg;

/** The second operand's parameter: PyTorch calls it `exponent` for pow, `other` elsewhere (a Tensor for hypot). */
type OperandOf<O extends BinaryOp> = O extends "pow" ? Exponent : O extends "hypot" ? OtherTensor : Other;
/** The keyword-only parameters of the method form (and the in-place form). */
type MethodKw<O extends BinaryOp> = O extends "add" | "sub" ? [Alpha] : O extends "div" ? [RoundingMode] : [];
type UnaryKw<O extends UnaryOp> = O extends "round" ? [Decimals] : [];

const operandOf = (o: BinaryOp): AnyParam =>
  o === "pow" ? exponentArg : o === "hypot" ? otherTensorArg : otherArg;
const methodKw = (o: BinaryOp): AnyParam[] =>
  o === "add" || o === "sub" ? [alphaArg] : o === "div" ? [roundingModeOpt] : [];
const unaryKw = (o: UnaryOp): AnyParam[] => (o === "round" ? [decimalsArg] : []);

/** Declare (and register, when PyTorch has it) a signature. */
function declare(
  name: string,
  positional: readonly AnyParam[],
  keyword: readonly AnyParam[],
  forms: readonly ("function" | "method")[],
): Signature<readonly AnyParam[], readonly AnyParam[]> {
  if (NOT_IN_PYTORCH.has(name)) return new Signature(name, positional, keyword, { forms });
  return signature(name, positional, keyword, { forms });
}

// ---- out= ----

const category = (d: DType) => (d === "bool" ? 0 : isFloat(d) ? 2 : 1);

/**
 * `out=`: write the result `y` into `out` (same shape; a dtype the result can be cast to, as PyTorch's
 * `canCast`) and return `out`. Like PyTorch, refused when an input requires grad. Cinder does not resize `out`.
 */
export function writeOut(what: string, y: Tensor, out: Tensor, inputs: readonly unknown[]): Tensor {
  const ts = inputs.filter((v): v is Tensor => v instanceof Tensor);
  if (isGradEnabled() && (ts.some((t) => t.requiresGrad) || out.requiresGrad)) {
    throw new Error(
      `${what}(): functions with out=... arguments don't support automatic differentiation, but one of the arguments requires grad.`,
    );
  }
  if (!sameShape(y.shape, out.shape)) {
    throw new ShapeError(
      `${what}(): out= tensor has shape ${fmtShape(out.shape)} but the result has shape ${fmtShape(y.shape)} (Cinder does not resize out= tensors)`,
    );
  }
  if (category(y.dtype) > category(out.dtype)) {
    throw new DTypeError(
      `${what}(): result type ${y.dtype} can't be cast to the desired output type ${out.dtype}`,
    );
  }
  copyInto(out, y);
  return out;
}

// ---- unary ----

/** What the op computes, given the parsed keywords (round's decimals). */
function unaryValue(o: UnaryOp, x: Tensor, decimals: number, out?: Tensor): Tensor {
  if (o === "round" && decimals !== 0) {
    if (!isFloat(x.dtype))
      throw new DTypeError(`round(): decimals is only supported for floating point, got ${x.dtype}`);
    // PyTorch's round(decimals): nearbyint(x * 10^d) / 10^d (for d < 0: nearbyint(x / 10^-d) * 10^-d)
    const p = 10 ** Math.abs(decimals);
    return decimals > 0 ? x.mul(p).round().div(p) : x.div(p).round().mul(p);
  }
  return unary(o, x, out);
}

export type UnaryFn<O extends UnaryOp> = O extends UnaryNoOut
  ? OpFn<[Self], UnaryKw<O>, Tensor>
  : OpFn<[Self], [...UnaryKw<O>, OutOpt], Tensor>;
export type UnaryMethod<O extends UnaryOp> = (...args: MethodCalls<[Self], UnaryKw<O>>) => Tensor;

export type UnaryFns = { [O in UnaryOp]: UnaryFn<O> };
export type UnaryMethods = { [O in UnaryOp]: UnaryMethod<O> } & {
  [O in UnaryOp as `${O}_`]: UnaryMethod<O>;
};

/** `torch.<name>(input, *, out=None)` computing the op `o` (`name` differs for an alias: `torch.arccos` is acos). */
export function unaryFn(o: UnaryOp, name: string = o) {
  const noOut = (UNARY_NO_OUT as readonly UnaryOp[]).includes(o);
  const sig = declare(name, [self], noOut ? unaryKw(o) : [...unaryKw(o), outOpt], ["function"]);
  return op(sig, (a: Record<string, unknown>): Tensor => {
    const x = a.input as Tensor;
    const decimals = (a.decimals as number | undefined) ?? 0;
    const out = a.out as Tensor | null | undefined;
    const y = unaryValue(o, x, decimals);
    return out ? writeOut(name, y, out, [x]) : y;
  });
}

/** The functional forms of the unary ops (`torch.exp(x)`, with `out=`), by name. */
export const unaryFns = Object.fromEntries(UNARY_OPS.map((o) => [o, unaryFn(o)])) as unknown as UnaryFns;

/** Install `x.<name>()` and `x.<name>_()` computing the op `o` (`name` differs for an alias). */
export function installUnary(proto: Record<string, unknown>, o: UnaryOp, name: string = o): void {
  const msig = declare(name, [self], unaryKw(o), ["method"]);
  const isig = declare(`${name}_`, [self], unaryKw(o), ["method"]);
  proto[name] = function (this: Tensor): Tensor {
    // fast path: `x.exp()`
    if (arguments.length === 0) return unary(o, this);
    const a = msig.parse([this, ...arguments]) as Record<string, unknown>;
    return unaryValue(o, this, (a.decimals as number | undefined) ?? 0);
  };
  proto[`${name}_`] = function (this: Tensor): Tensor {
    const a = (arguments.length === 0 ? {} : isig.parse([this, ...arguments])) as Record<string, unknown>;
    const decimals = (a.decimals as number | undefined) ?? 0;
    // a bool result fits any dtype (PyTorch's logical_not_ on floats writes 0/1); inplace() refuses float into int
    return inplace(this, [], (s, out) => unaryValue(o, s, decimals, out), `${name}_`);
  };
}

// ---- binary ----

type NumberIn = typeof inputOrNumber;
export type BinaryFn<O extends BinaryOp> = O extends "add" | "sub"
  ? OpFn<[NumberIn, Other], [Alpha, OutOpt], Tensor>
  : O extends "div"
    ? OpFn<[NumberIn, Other], [RoundingMode, OutOpt], Tensor>
    : O extends "pow"
      ? OpFn<[NumberIn, Exponent], [OutOpt], Tensor>
      : O extends "mul" | "floorDivide" | "remainder" | BitwiseBinary
        ? OpFn<[NumberIn, Other], [OutOpt], Tensor>
        : OpFn<[Self, OperandOf<O>], [OutOpt], Tensor>;
type BitwiseBinary = "bitwiseAnd" | "bitwiseOr" | "bitwiseXor" | "bitwiseLeftShift" | "bitwiseRightShift";
export type BinaryMethod<O extends BinaryOp> = (
  ...args: MethodCalls<[Self, OperandOf<O>], MethodKw<O>>
) => Tensor;

export type BinaryFns = { [O in BinaryOp]: BinaryFn<O> };
export type BinaryMethods = { [O in BinaryOp]: BinaryMethod<O> } & {
  [O in BinaryOp as `${O}_`]: BinaryMethod<O>;
};

const isOperand = (v: unknown): v is TensorOrScalar =>
  v instanceof Tensor || typeof v === "number" || typeof v === "boolean";

/** The op with its keywords (alpha, rounding_mode) on parsed arguments. */
function binaryValue(o: BinaryOp, x: TensorOrScalar, y: TensorOrScalar, a: Record<string, unknown>): Tensor {
  if (typeof x !== "object") {
    if (typeof y !== "object") {
      throw new ArgumentError(`${o}(): expected at least one Tensor operand, got two numbers (${x}, ${y})`);
    }
    // a number input (torch.mul(2, x)): PyTorch wraps it in a 0-dim tensor, which promotes as the number does
    return binaryValue(o, scalarTensor(x, intOn(dtypeOfNumber(x), y.backend), y), y, a);
  }
  if (o === "add") return add(x, y, { alpha: a.alpha as number });
  if (o === "sub") return sub(x, y, { alpha: a.alpha as number });
  if (o === "div") {
    const rm = a.roundingMode as "trunc" | "floor" | null;
    return div(x, y, rm === null ? {} : { roundingMode: rm });
  }
  return binary(o, x, y);
}

/** A binary op's forms' name and keywords: the op's own, or an alias's (`true_divide` has no `rounding_mode`). */
export interface BinarySpec {
  name: string;
  keywords: readonly AnyParam[];
}
/** The op's own spec, with `over` changed (an alias's name and keywords). */
export const binarySpec = (o: BinaryOp, over: Partial<BinarySpec> = {}): BinarySpec => ({
  name: o,
  keywords: methodKw(o),
  ...over,
});

/** `torch.<name>(input, other, *, out=None)` computing the op `o` (an alias's own `spec`: `torch.multiply` is mul). */
export function binaryFn(o: BinaryOp, spec: BinarySpec = binarySpec(o)) {
  const sig = declare(
    spec.name,
    [NUMBER_INPUT.has(o) ? inputOrNumber : self, operandOf(o)],
    [...spec.keywords, outOpt],
    ["function"],
  );
  const name = operandOf(o).name;
  return op(sig, (a: Record<string, unknown>): Tensor => {
    const x = a.input as TensorOrScalar;
    const y = a[name] as TensorOrScalar;
    const out = a.out as Tensor | null;
    const r = binaryValue(o, x, y, a);
    return out === null ? r : writeOut(spec.name, r, out, [x, y]);
  });
}

/** The functional forms of the binary ops (`torch.add(a, b)`, with `out=`), by name. */
export const binaryFns = Object.fromEntries(BINARY_OPS.map((o) => [o, binaryFn(o)])) as unknown as BinaryFns;

/** Install `x.<name>(other)` and `x.<name>_(other)` computing the op `o` (an alias's own `spec`). */
export function installBinary(
  proto: Record<string, unknown>,
  o: BinaryOp,
  spec: BinarySpec = binarySpec(o),
): void {
  const msig = declare(spec.name, [self, operandOf(o)], spec.keywords, ["method"]);
  const isig = declare(`${spec.name}_`, [self, operandOf(o)], spec.keywords, ["method"]);
  const name = operandOf(o).name;
  const what = spec.name;
  proto[what] = function (this: Tensor, other: unknown): Tensor {
    // fast path: `x.op(y)` with one Tensor/number/boolean operand (alpha=1, rounding_mode=None: the defaults)
    if (arguments.length === 1 && isOperand(other) && (o !== "hypot" || other instanceof Tensor)) {
      return binary(o, this, other);
    }
    const a = msig.parse([this, ...arguments]) as Record<string, unknown>;
    return binaryValue(o, this, a[name] as TensorOrScalar, a);
  };
  proto[`${what}_`] = function (this: Tensor, other: unknown): Tensor {
    // fast path: `x.op_(y)` (the defaults alpha=1, rounding_mode=None)
    if (arguments.length === 1 && isOperand(other) && (o !== "hypot" || other instanceof Tensor)) {
      return inplace(this, [other], (s, out) => binary(o, s, other, out), `${what}_`);
    }
    const a = isig.parse([this, ...arguments]) as Record<string, unknown>;
    const y = a[name] as TensorOrScalar;
    if (o === "add" || o === "sub") {
      const opts = { alpha: a.alpha as number };
      const f = o === "add" ? add : sub;
      return inplace(this, [y], (s, out) => f(s, y, opts, out), `${what}_`);
    }
    return inplace(this, [y], (s) => binaryValue(o, s, y, a), `${what}_`);
  };
}

/** Install every elementwise method and its in-place form on Tensor.prototype (called once by methods.ts). */
export function installElementwise(proto: Record<string, unknown>): void {
  for (const o of UNARY_OPS) installUnary(proto, o);
  for (const o of BINARY_OPS) installBinary(proto, o);
}

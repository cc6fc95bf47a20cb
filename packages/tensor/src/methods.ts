/**
 * Tensor methods. Every op is written once as a function taking the tensor first (`sum(x, opts)`); this
 * module makes each one a method (`x.sum(opts)`) and generates the elementwise methods, their in-place `_`
 * variants and their functional forms from the op table. This is the one place Tensor.prototype is extended.
 */
import type { BinaryOp, UnaryOp } from "./backend";
import { BINARY_OPS, UNARY_OPS } from "./backend";
import { DTypeError } from "./errors";
import { needsGrad } from "./grad";
import { castOp } from "./ops/cast";
import { clampOp } from "./ops/clamp";
import { diag, normal_, uniform_ } from "./ops/creation";
import { binary, inplace, type Scalar, type TensorOrScalar, unary, where } from "./ops/elementwise";
import * as ix from "./ops/indexing";
import { copyInto, expandTo } from "./ops/kernels";
import * as la from "./ops/linalg";
import { checkIntegerDivision } from "./ops/range-check";
import * as rd from "./ops/reduce";
import * as so from "./ops/sort";
import * as vw from "./ops/view";
import { broadcastShapes, sameShape } from "./shape";
import type { AsMethod } from "./signature";
import { emptyTensor, Tensor } from "./tensor";

export interface AlphaOptions {
  /** Multiplier for `other` (torch's `alpha`): `a.add(b, { alpha: 2 })` is a + 2b. */
  alpha?: number;
}

function add(x: Tensor, other: TensorOrScalar, opts: AlphaOptions = {}, out?: Tensor): Tensor {
  if (opts.alpha === undefined || opts.alpha === 1) return binary("add", x, other, out);
  return fusedAxpy(x, other, opts.alpha, out) ?? binary("add", x, scaled(other, opts.alpha), out);
}
function sub(x: Tensor, other: TensorOrScalar, opts: AlphaOptions = {}, out?: Tensor): Tensor {
  if (opts.alpha === undefined || opts.alpha === 1) return binary("sub", x, other, out);
  return fusedAxpy(x, other, -opts.alpha, out) ?? binary("sub", x, scaled(other, opts.alpha), out);
}
/**
 * x + alpha * other in one pass, through the backend's optional `addScaled`, when nothing needs recording and
 * both are tensors of one float dtype (optimizer updates); null when the general path must run.
 */
function fusedAxpy(x: Tensor, other: TensorOrScalar, alpha: number, out?: Tensor): Tensor | null {
  const b = x.backend;
  if (typeof other !== "object" || !b.addScaled || other.backend !== b || other.dtype !== x.dtype)
    return null;
  if (!x.isFloatingPoint() || needsGrad(x, other)) return null;
  const shape = broadcastShapes(x.shape, other.shape, "add");
  const y =
    out && out.dtype === x.dtype && sameShape(out.shape, shape) ? out : emptyTensor(shape, x.dtype, b);
  b.addScaled(expandTo(x, shape, "add").view_, expandTo(other, shape, "add").view_, alpha, y.view_);
  return y;
}
function scaled(v: TensorOrScalar, alpha: number): TensorOrScalar {
  return typeof v === "object" ? v.mul(alpha) : +v * alpha;
}

/** `roundingMode: "floor" | "trunc"` gives integer-valued division like torch.div. */
function div(x: Tensor, other: TensorOrScalar, opts: { roundingMode?: "floor" | "trunc" } = {}): Tensor {
  if (opts.roundingMode === "floor") return binary("floorDivide", x, other);
  if (opts.roundingMode === "trunc") checkIntegerDivision("div", x, other);
  const q = binary("div", x, other);
  if (opts.roundingMode === "trunc") {
    const t = q.trunc();
    return x.isFloatingPoint() || (typeof other === "object" && other.isFloatingPoint()) ? t : t.to(x.dtype);
  }
  return q;
}

export interface ClampOptions {
  min?: TensorOrScalar | null;
  max?: TensorOrScalar | null;
}
/** `clamp(min, max)` or `clamp({ min, max })`. */
function clamp(x: Tensor, min?: TensorOrScalar | null | ClampOptions, max?: TensorOrScalar | null): Tensor {
  const o: ClampOptions =
    min !== null && typeof min === "object" && !(min instanceof Tensor) ? min : { min, max };
  if ((o.min === undefined || o.min === null) && (o.max === undefined || o.max === null)) {
    throw new TypeError("clamp: at least one of min or max must not be None/undefined");
  }
  // PyTorch's gradient: 1 at the bounds themselves (ClampBackward1 / ClampBackward0), not maximum's 0.5
  return clampOp(x, o.min ?? null, o.max ?? null);
}

/** Element-wise `|a - b| <= atol + rtol * |b|` (torch.isclose). */
function isclose(
  x: Tensor,
  other: Tensor,
  opts: { rtol?: number; atol?: number; equalNan?: boolean } = {},
): Tensor {
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-8;
  const a = x.double();
  const b = other.double();
  // as PyTorch: equal, or a finite error within atol + rtol * |b| (so inf vs -inf and 0 vs inf are not close)
  const err = a.sub(b).abs();
  const finiteErr = err.isinf().logicalNot();
  let close = err.le(b.abs().mul(rtol).add(atol)).logicalAnd(finiteErr).logicalOr(a.eq(b));
  if (opts.equalNan) close = close.logicalOr(a.isnan().logicalAnd(b.isnan()));
  return close;
}
function allclose(
  x: Tensor,
  other: Tensor,
  opts: { rtol?: number; atol?: number; equalNan?: boolean } = {},
): boolean {
  return isclose(x, other, opts).all().item() as boolean;
}
/** Same shape and same elements (torch.equal). */
function equal(x: Tensor, other: Tensor): boolean {
  if (x.ndim !== other.ndim || x.shape.some((s, i) => s !== other.shape[i])) return false;
  return x.eq(other).all().item() as boolean;
}

/** A new tensor sharing storage, outside the autograd graph. */
function detach(x: Tensor): Tensor {
  return vw.alias(x);
}
function detach_(x: Tensor): Tensor {
  x.gradFn = null;
  x.requiresGrad = false;
  return x;
}

/** Copy `src` (broadcast, converted) into this tensor in place. */
function copy_(x: Tensor, src: Tensor): Tensor {
  return inplace(
    x,
    [src],
    (s, out) => {
      // under autograd: out of place, so the gradient reaches src (and nothing reaches the old values of x)
      if (!out) return src.expand(x.shape).to(x.dtype).add(s.mul(0));
      copyInto(out, src);
      return out;
    },
    "copy_",
  );
}
function fill_(x: Tensor, value: Scalar | Tensor): Tensor {
  if (typeof value === "object") return copy_(x, value);
  return inplace(
    x,
    [],
    (s, out) => {
      if (out) {
        out.backend.fill(out.view_, +value);
        return out;
      }
      return s.mul(0).add(value);
    },
    "fill_",
  );
}
function zero_(x: Tensor): Tensor {
  return fill_(x, 0);
}

const methodImpls = {
  add,
  sub,
  div,
  add_: (x: Tensor, other: TensorOrScalar, opts?: AlphaOptions): Tensor =>
    inplace(x, [other], (s, out) => add(s, other, opts, out), "add_"),
  sub_: (x: Tensor, other: TensorOrScalar, opts?: AlphaOptions): Tensor =>
    inplace(x, [other], (s, out) => sub(s, other, opts, out), "sub_"),
  div_: (x: Tensor, other: TensorOrScalar, opts?: { roundingMode?: "floor" | "trunc" }): Tensor =>
    inplace(x, [other], (s) => div(s, other, opts), "div_"),
  clamp,
  clip: clamp,
  clamp_: (x: Tensor, min?: TensorOrScalar | null | ClampOptions, max?: TensorOrScalar | null): Tensor =>
    inplace(x, [], (s) => clamp(s, min, max), "clamp_"),
  /** `x.where(cond, other)`: x where cond, else other (torch.Tensor.where). */
  where: (x: Tensor, cond: Tensor, other: TensorOrScalar): Tensor => where(cond, x, other),
  maskedFill: ix.maskedFill,
  maskedFill_: ix.maskedFill_,
  isclose,
  allclose,
  equal,
  detach,
  detach_,
  copy_,
  fill_,
  zero_,
  uniform_,
  diag,
  normal_,
  to_: castOp,
  sum: rd.sum,
  mean: rd.mean,
  prod: rd.prod,
  argmax: rd.argmax,
  argmin: rd.argmin,
  std: rd.std,
  var: rd.variance,
  logsumexp: rd.logsumexp,
  norm: rd.normMethod,
  amax: rd.amax,
  amin: rd.amin,
  max: rd.max,
  min: rd.min,
  all: rd.all,
  any: rd.any,
  cumsum: rd.cumsum,
  cumprod: rd.cumprod,
  softmax: rd.softmax,
  logSoftmax: rd.logSoftmax,
  matmul: la.matmul,
  mm: la.mm,
  bmm: la.bmm,
  dot: la.dot,
  mv: la.mv,
  outer: la.outer,
  reshape: vw.reshapeMethod,
  view: vw.view,
  viewAs: vw.viewAs,
  reshapeAs: vw.reshapeAs,
  clone: vw.clone,
  contiguous: vw.contiguous,
  squeeze: vw.squeeze,
  unsqueeze: vw.unsqueeze,
  permute: vw.permuteMethod,
  transpose: vw.transpose,
  t: vw.t,
  flatten: vw.flatten,
  unflatten: vw.unflatten,
  expand: vw.expand,
  expandAs: vw.expandAs,
  narrow: vw.narrow,
  select: vw.select,
  split: vw.splitMethod,
  chunk: vw.chunk,
  unbind: vw.unbind,
  repeat: vw.repeat,
  flip: vw.flipMethod,
  at: ix.at,
  set: ix.set,
  gather: ix.gather,
  scatter: ix.scatter,
  scatterAdd: ix.scatterAdd,
  scatter_: ix.scatter_,
  scatterAdd_: ix.scatterAdd_,
  indexSelect: ix.indexSelect,
  nonzero: ix.nonzero,
  sort: so.sort,
  argsort: so.argsort,
  topk: so.topk,
};

type Auto = { [K in keyof typeof methodImpls]: AsMethod<(typeof methodImpls)[K]> };
type UnaryMethods = { [K in UnaryOp]: () => Tensor } & { [K in UnaryOp as `${K}_`]: () => Tensor };
type BinaryMethods = {
  [K in Exclude<BinaryOp, "add" | "sub" | "div">]: (other: TensorOrScalar) => Tensor;
} & {
  [K in Exclude<BinaryOp, "add" | "sub" | "div"> as `${K}_`]: (other: TensorOrScalar) => Tensor;
};

export interface TensorMethods extends Auto, UnaryMethods, BinaryMethods {}

let installed = false;

/**
 * Install the op methods on Tensor.prototype, once. The package entry calls it at load: a call rather than a
 * side-effect import, so bundlers honouring `"sideEffects": false` keep it.
 */
export function installMethods(): void {
  if (installed) return;
  installed = true;
  const proto = Tensor.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, fn] of Object.entries(methodImpls)) {
    const f = fn as (self: Tensor, ...args: unknown[]) => unknown;
    proto[name] = function (this: Tensor, ...args: unknown[]) {
      return f(this, ...args);
    };
  }
  for (const op of UNARY_OPS) {
    proto[op] = function (this: Tensor) {
      return unary(op, this);
    };
    proto[`${op}_`] = function (this: Tensor) {
      if (unaryOutDtypeChanges(op, this)) {
        throw new DTypeError(
          `${op}_: result type ${op === "isnan" || op === "isinf" || op === "logicalNot" ? "bool" : "float32"} can't be cast to the desired output type ${this.dtype}`,
        );
      }
      return inplace(this, [], (s, out) => unary(op, s, out), `${op}_`);
    };
  }
  for (const op of BINARY_OPS) {
    if (op === "add" || op === "sub" || op === "div") continue;
    proto[op] = function (this: Tensor, other: unknown) {
      return binary(op, this, other as TensorOrScalar);
    };
    proto[`${op}_`] = function (this: Tensor, other: unknown) {
      return inplace(
        this,
        [other as TensorOrScalar],
        (s, out) => binary(op, s, other as TensorOrScalar, out),
        `${op}_`,
      );
    };
  }
}

function unaryOutDtypeChanges(op: UnaryOp, x: Tensor): boolean {
  const t = ["isnan", "isinf", "logicalNot"].includes(op);
  return t ? x.dtype !== "bool" : false;
}

// ---- functional forms: torch.exp(x), torch.add(a, b), ... ----

type UnaryFns = { [K in UnaryOp]: (x: Tensor) => Tensor };
type BinaryFns = { [K in BinaryOp]: (a: TensorOrScalar, b: TensorOrScalar) => Tensor };

export const unaryFns = Object.fromEntries(
  UNARY_OPS.map((op) => [op, (x: Tensor) => unary(op, x)]),
) as UnaryFns;
export const binaryFns = Object.fromEntries(
  BINARY_OPS.map((op) => [op, (a: TensorOrScalar, b: TensorOrScalar) => binary(op, a, b)]),
) as BinaryFns;

export { add, allclose, clamp, detach, div, equal, isclose, sub };

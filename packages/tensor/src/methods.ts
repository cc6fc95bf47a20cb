/**
 * Tensor methods. Every op is written once as a function taking the tensor first (`sum(x, opts)`); this
 * module makes each one a method (`x.sum(opts)`) and generates the elementwise methods, their in-place `_`
 * variants and their functional forms from the op table. This is the one place Tensor.prototype is extended.
 */

import { getBackend } from "./backend";
import { checkDType, DTYPES, type DType, isComplex, LEGACY_NAMES } from "./dtype";
import { DeviceError, ShapeError } from "./errors";
import { autogradHooks, needsGrad, type RemovableHandle, type TensorHook } from "./grad";
import { isHalf } from "./half";
import { methodTable } from "./method-table";
import { type AliasMethods, installAliases } from "./ops/aliases";
import { castOp } from "./ops/cast";
import { clampOp } from "./ops/clamp";
import { binary, inplace, type Scalar, type TensorOrScalar, where } from "./ops/elementwise";
import {
  type BinaryMethods,
  binaryFns,
  installElementwise,
  type UnaryMethods,
  unaryFns,
  writeOut,
} from "./ops/elementwise-signatures";
import { copyInto, expandTo } from "./ops/kernels";
import { checkIntegerDivision } from "./ops/range-check";
import * as vw from "./ops/view";
import { broadcastShapes, sameShape } from "./shape";
import {
  type AnyParam,
  type AsMethod,
  arg,
  type Kind,
  k,
  methodOf,
  op,
  overloads,
  type Signature,
  self,
  signature,
} from "./signature";
import { emptyTensor, moveData, Tensor } from "./tensor";

/** Options of `add` and `sub`: the multiplier of `other`. */
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
  // (16-bit floats: PyTorch rounds alpha and alpha * other to the dtype, as the general path does)
  if (!x.isFloatingPoint() || needsGrad(x, other) || isHalf(x.dtype)) return null;
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
  const floating = x.isFloatingPoint() || (typeof other === "object" && other.isFloatingPoint());
  if (opts.roundingMode === "trunc" && !floating && typeof other !== "boolean") {
    // integers: exact, not through a float32 quotient (which rounds past 2^24): the floor quotient, plus one where
    // the remainder is nonzero and the operands' signs differ (floor and trunc differ exactly there)
    const signsDiffer =
      typeof other === "object" ? x.lt(0).logicalXor(other.lt(0)) : other < 0 ? x.ge(0) : x.lt(0);
    return binary("floorDivide", x, other).add(binary("fmod", x, other).ne(0).logicalAnd(signsDiffer));
  }
  const q = binary("div", x, other);
  if (opts.roundingMode === "trunc") {
    const t = q.trunc();
    return x.isFloatingPoint() || (typeof other === "object" && other.isFloatingPoint()) ? t : t.to(x.dtype);
  }
  return q;
}

/** Options of `clamp`: the lower and upper bounds (null or absent: unbounded on that side). */
export interface ClampOptions {
  min?: TensorOrScalar | null;
  max?: TensorOrScalar | null;
}
/** Element-wise `|a - b| <= atol + rtol * |b|` (torch.isclose). */
function isclose(
  x: Tensor,
  other: Tensor,
  opts: { rtol?: number; atol?: number; equalNan?: boolean } = {},
): Tensor {
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-8;
  // complex operands compare as complex128 (|a - b| is then the complex distance)
  const wide = isComplex(x.dtype) || isComplex(other.dtype) ? "complex128" : "float64";
  const a = castOp(x, wide);
  const b = castOp(other, wide);
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
        out.backend.fill(out.writeView_, +value);
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

// ---- PyTorch's signatures of the methods above (the elementwise table ops: ops/elementwise-signatures.ts) ----

const boundOpt = (name: "min" | "max") => arg.opt(name, k.tensorOrScalar);
const clampArgs = [self, boundOpt("min"), boundOpt("max")] as const;
const outOpt = arg.opt("out", k.tensor);
// PyTorch's gradient: 1 at the bounds themselves (ClampBackward1 / ClampBackward0), not maximum's 0.5 (clampOp)
/** `clamp(input, min=None, max=None, *, out=None)` / `clip(...)`: the functions */
const clampFunction = (name: "clamp" | "clip") =>
  op(signature(name, clampArgs, [outOpt], { forms: ["function"] }), ({ input, min, max, out }): Tensor => {
    const y = clampOp(input, min, max);
    return out ? writeOut(name, y, out, [input, min, max]) : y;
  });
/** `x.clamp(min=None, max=None)`, `x.clip(...)` */
const clampMethodOf = (name: "clamp" | "clip") =>
  op(
    signature(name, clampArgs, [], { forms: ["method"] }),
    ({ input, min, max }): Tensor => clampOp(input, min, max),
  );
/** `x.clamp_(min=None, max=None)`, `x.clip_(...)` */
const clampInplaceOf = (name: "clamp_" | "clip_") =>
  op(
    signature(name, clampArgs, [], { forms: ["method"] }),
    ({ input, min, max }): Tensor => inplace(input, [], (s) => clampOp(s, min, max), name),
  );
// declared in this order: the registry lists signatures as declared
/**
 * `torch.clamp(input, min=None, max=None, *, out=None)`: each element limited to [min, max] (bounds may be
 * tensors).
 */
const clampFn = clampFunction("clamp");
/** `torch.clip(input, min=None, max=None, *, out=None)`: alias of `clamp`. */
const clipFn = clampFunction("clip");
const clampMethod = clampMethodOf("clamp");
const clipMethod = clampMethodOf("clip");
const clampInplace = clampInplaceOf("clamp_");
const clipInplace = clampInplaceOf("clip_");
/** `x.where(condition, other)`: x where condition, else other (torch.Tensor.where). */
const whereMethod = op(
  signature("where", [self, arg("condition", k.tensor), arg("other", k.tensorOrScalar)], [], {
    forms: ["method"],
  }),
  ({ input, condition, other }): Tensor => where(condition, input, other),
);
const closeArgs = [
  self,
  arg("other", k.tensor),
  arg("rtol", k.float, 1e-5),
  arg("atol", k.float, 1e-8),
  arg("equalNan", k.bool, false),
] as const;
/** `isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False)` */
const iscloseOp = op(
  signature("isclose", closeArgs),
  ({ input, other, rtol, atol, equalNan }): Tensor => isclose(input, other, { rtol, atol, equalNan }),
);
/** `allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False)` */
const allcloseOp = op(signature("allclose", closeArgs), ({ input, other, rtol, atol, equalNan }): boolean =>
  allclose(input, other, { rtol, atol, equalNan }),
);
/** `equal(input, other)` */
const equalOp = op(signature("equal", [self, arg("other", k.tensor)]), ({ input, other }): boolean =>
  equal(input, other),
);
/** `detach(input)` */
const detachOp = op(signature("detach", [self]), ({ input }): Tensor => detach(input));
/** `x.detach_()` */
const detachInplace = op(
  signature("detach_", [self], [], { forms: ["method"] }),
  ({ input }): Tensor => detach_(input),
);
/** `x.copy_(src, non_blocking=False)` (non_blocking changes nothing: copies are ordered on every backend) */
const copyOp = op(
  signature("copy_", [self, arg("src", k.tensor), arg("nonBlocking", k.bool, false)], [], {
    forms: ["method"],
  }),
  ({ input, src }): Tensor => copy_(input, src),
);
/** `x.fill_(value)`: a number or a 0-dim tensor */
const fillOp = op(
  signature("fill_", [self, arg("value", k.tensorOrScalar)], [], { forms: ["method"] }),
  ({ input, value }): Tensor => {
    if (typeof value === "object" && value.ndim !== 0) {
      throw new ShapeError(
        `fill_(): only supports 0-dimension value tensor but got tensor with ${value.ndim} dimensions.`,
      );
    }
    return fill_(input, value);
  },
);
// ---- Tensor's own methods (tensor.ts): declared here, where the signature machinery is loaded ----

/** `x.to(dtype, non_blocking=False, copy=False)`, `x.to(device=None, dtype=None, ...)`, `x.to(other, ...)` */
const toOp = overloads(
  op(
    signature("to", [self, arg("dtype", k.dtype), nonBlockingArg(), copyArg()], [], { forms: ["method"] }),
    ({ input, dtype, copy }): Tensor => toImpl(input, null, dtype, copy),
  ),
  op(
    signature(
      "to",
      [self, arg.opt("device", k.device), arg.opt("dtype", k.dtype), nonBlockingArg(), copyArg()],
      [],
      { forms: ["method"] },
    ),
    ({ input, device, dtype, copy }): Tensor => toImpl(input, device, dtype, copy),
  ),
  op(
    signature("to", [self, arg("other", k.tensor), nonBlockingArg(), copyArg()], [], { forms: ["method"] }),
    ({ input, other, copy }): Tensor => toImpl(input, other.device, other.dtype, copy),
  ),
);
function nonBlockingArg() {
  return arg("nonBlocking", k.bool, false);
}
function copyArg() {
  return arg("copy", k.bool, false);
}
/** The tensor converted and/or moved; itself when nothing changes and no copy is asked for. */
function toImpl(x: Tensor, device: string | null, dtype: DType | null, copy: boolean): Tensor {
  // a dtype Cinder lacks ("int64", "float16", ...) given where a device may stand is an unknown dtype
  if (device !== null && DTYPE_LIKE.test(device)) checkDType(device);
  let t = x;
  if (dtype !== null && dtype !== t.dtype) t = castOp(t, dtype);
  if (device !== null && getBackend(device) !== t.backend) {
    const src = t.backend;
    if (!src.readSync) {
      throw new DeviceError(
        `cannot move a ${t.device} tensor to ${device} synchronously: use \`await t.toAsync("${device}")\``,
      );
    }
    t = moveData(t, src.readSync(t.view_), device);
  } else if (copy && t === x) t = t.clone();
  return t;
}
const DTYPE_LIKE = /^(u?int|float|bfloat|complex|half|double|long|short)\d*$/;
/** `x.to(...)` with the common call `x.to("float32")` / `x.to("cpu")` taken directly (same result as parsed). */
function to(x: Tensor, ...args: unknown[]): Tensor {
  if (args.length === 1 && typeof args[0] === "string") {
    const v = args[0];
    return (DTYPES as readonly string[]).includes(v)
      ? toImpl(x, null, v as DType, false)
      : toImpl(x, v, null, false);
  }
  return (toOp as unknown as (...a: unknown[]) => Tensor)(x, ...args);
}
const toMethod = to as unknown as typeof toOp;

/** `x.backward(gradient=None, retain_graph=None, create_graph=False, inputs=None)` */
const backwardOp = op(
  signature(
    "backward",
    [
      self,
      arg.opt("gradient", k.tensor),
      arg.opt("retainGraph", k.bool),
      arg("createGraph", k.bool, false),
      arg.unsupported(
        "inputs",
        null,
        "backward(inputs=...) is not supported: use autograd.grad(outputs, inputs) for the gradients of chosen inputs",
      ),
    ],
    [],
    { forms: ["method"] },
  ),
  ({ input, gradient, retainGraph, createGraph }): void => {
    const h = autogradHooks();
    if (!h) throw new Error('backward() needs the autograd layer: import "@cinder/autograd" (or "cinder")');
    // as PyTorch: retain_graph defaults to create_graph
    h.backward(input, gradient ?? undefined, { retainGraph: retainGraph ?? createGraph, createGraph });
  },
);

/** `x.register_hook(hook)` */
const registerHookOp = op(
  signature("registerHook", [self, arg("hook", k.fn as unknown as Kind<TensorHook>)], [], {
    forms: ["method"],
  }),
  ({ input, hook }): RemovableHandle => {
    if (!input.requiresGrad)
      throw new Error("cannot register a hook on a tensor that doesn't require gradient");
    const h = autogradHooks();
    if (!h?.registerHook) {
      throw new Error('registerHook() needs the autograd layer: import "@cinder/autograd" (or "cinder")');
    }
    return h.registerHook(input, hook);
  },
);

/** tensor.ts's class methods that take no argument: `installMethods` makes an argument given an error, as in PyTorch. */
const PARAMETERLESS = [
  "item",
  "numel",
  "dim",
  "cpu",
  "float",
  "double",
  "int",
  "long",
  "short",
  "char",
  "half",
  "bfloat16",
  "byte",
  "bool",
  "tolist",
  "isFloatingPoint",
  "retainGrad",
] as const;
/** Signatures of tensor.ts's class methods: the parameterless ones, and `size` and `type` (parsed there). */
const classMethodSignatures = new Map<string, Signature<readonly AnyParam[], readonly AnyParam[]>>(
  PARAMETERLESS.map((n) => [n, signature(n, [self], [], { forms: ["method"] })]),
);
classMethodSignatures.set(
  "size",
  signature("size", [self, arg.opt("dim", k.int)], [], { forms: ["method"] }),
);
classMethodSignatures.set(
  "type",
  signature(
    "type",
    [
      self,
      arg.opt("dtype", k.or(k.dtype, k.oneOf(...Object.values(LEGACY_NAMES)))),
      arg("nonBlocking", k.bool, false),
    ],
    [],
    { forms: ["method"] },
  ),
);
/** The declared signature of one of Tensor's class methods (for its argument errors). */
export function methodSignature(name: string): Signature<readonly AnyParam[], readonly AnyParam[]> {
  const s = classMethodSignatures.get(name);
  if (!s) throw new Error(`no signature declared for Tensor.${name}`);
  return s;
}

/** `x.zero_()` */
const zeroOp = op(signature("zero_", [self], [], { forms: ["method"] }), ({ input }): Tensor => zero_(input));

type MethodTable = ReturnType<typeof methodTable>;
type Auto = { [K in keyof MethodTable]: AsMethod<MethodTable[K]> };

/**
 * The op methods of `Tensor` (`x.sum()`, `x.exp_()`, ...), generated from the op functions and the op table
 * and typed from their signatures.
 */
export interface TensorMethods extends Auto, UnaryMethods, BinaryMethods, AliasMethods {}

let installed = false;

/**
 * Install the op methods on Tensor.prototype, once. The package entry calls it at load: a call rather than a
 * side-effect import, so bundlers honouring `"sideEffects": false` keep it.
 */
export function installMethods(): void {
  if (installed) return;
  installed = true;
  const proto = Tensor.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, fn] of Object.entries(methodTable())) {
    if (typeof fn !== "function")
      throw new Error(`internal: Tensor method ${name} is not defined at install`);
    const f = fn as (self: Tensor, ...args: unknown[]) => unknown;
    // an op()/overloads() callable runs from one argument array (`methodOf`); other functions through a wrapper
    proto[name] =
      (methodOf(fn) as (...args: unknown[]) => unknown) ??
      function (this: Tensor, ...args: unknown[]) {
        return f(this, ...args);
      };
  }
  // the class's parameterless methods: an argument given goes to the signature's parser, which names the error
  for (const name of PARAMETERLESS) {
    const f = proto[name];
    const sig = methodSignature(name);
    proto[name] = function (this: Tensor) {
      if (arguments.length !== 0) sig.parse([this, ...arguments]);
      return f.call(this);
    };
  }
  installElementwise(proto);
  installAliases(proto);
}

/** Tensor's own op methods declared in this file, for the method table (`method-table.ts`). */
export const ownMethods = {
  allcloseOp,
  backwardOp,
  clampInplace,
  clampMethod,
  clipInplace,
  clipMethod,
  copyOp,
  detachInplace,
  detachOp,
  equalOp,
  fillOp,
  iscloseOp,
  registerHookOp,
  toMethod,
  whereMethod,
  zeroOp,
};

// ---- functional forms: torch.exp(x), torch.add(a, b), ... ----

export {
  add as addImpl,
  allcloseOp as allclose,
  binaryFns,
  clampFn as clamp,
  clipFn as clip,
  detachOp as detach,
  div as divImpl,
  equalOp as equal,
  iscloseOp as isclose,
  sub as subImpl,
  unaryFns,
};

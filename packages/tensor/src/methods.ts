/**
 * Tensor methods. Every op is written once as a function taking the tensor first (`sum(x, opts)`); this
 * module makes each one a method (`x.sum(opts)`) and generates the elementwise methods, their in-place `_`
 * variants and their functional forms from the op table. This is the one place Tensor.prototype is extended.
 */

import { getBackend } from "./backend";
import { checkDType, DTYPES, type DType, LEGACY_NAMES } from "./dtype";
import { DeviceError, ShapeError } from "./errors";
import { autogradHooks, needsGrad, type RemovableHandle, type TensorHook } from "./grad";
import { castOp } from "./ops/cast";
import { clampOp } from "./ops/clamp";
import { diag } from "./ops/creation";
import { binary, inplace, type Scalar, type TensorOrScalar, where } from "./ops/elementwise";
import * as ex from "./ops/elementwise-extra";
import {
  type BinaryMethods,
  binaryFns,
  installElementwise,
  type UnaryMethods,
  unaryFns,
  writeOut,
} from "./ops/elementwise-signatures";
import * as ie from "./ops/index-extra";
import * as ix from "./ops/indexing";
import { copyInto, expandTo } from "./ops/kernels";
import * as la from "./ops/linalg";
import * as ld from "./ops/linalg-decomp";
import * as lx from "./ops/linalg-extra";
import { checkIntegerDivision } from "./ops/range-check";
import * as rd from "./ops/reduce";
import { normal_, uniform_ } from "./ops/sampling";
import * as sc from "./ops/scan-extra";
import * as sr from "./ops/scatter-reduce";
import * as sx from "./ops/shape-extra";
import * as so from "./ops/sort";
import * as st from "./ops/stats";
import * as un from "./ops/unique";
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

/**
 * The methods, as a function: the table is read when `installMethods()` runs (from the package entry, after every
 * module has loaded), never while an import cycle is still evaluating (a bundle may order modules differently).
 */
const methodTable = () => ({
  /** `x.clamp(min=None, max=None)`: each element limited to [min, max] (bounds may be tensors). */
  clamp: clampMethod,
  /** `x.clip(min=None, max=None)`: alias of `clamp`. */
  clip: clipMethod,
  /** `x.clamp_(min=None, max=None)`: `clamp` in place. */
  clamp_: clampInplace,
  /** `x.clip_(min=None, max=None)`: alias of `clamp_`. */
  clip_: clipInplace,
  /** `x.where(condition, other)`: `x` where `condition` is true, else `other` (broadcast). */
  where: whereMethod,
  /** `x.maskedFill(mask, value)`: `value` where the bool `mask` (broadcast) is true, `x` elsewhere. */
  maskedFill: ix.maskedFill,
  /** `x.maskedFill_(mask, value)`: `maskedFill` in place. */
  maskedFill_: ix.maskedFill_,
  /**
   * `x.isclose(other, rtol=1e-05, atol=1e-08, equal_nan=False)`: elementwise `|x - other| <= atol + rtol *
   * |other|`, a bool tensor.
   */
  isclose: iscloseOp,
  /**
   * `x.allclose(other, rtol=1e-05, atol=1e-08, equal_nan=False)`: whether every element is close to `other`'s
   * (a JS boolean).
   */
  allclose: allcloseOp,
  /** `x.equal(other)`: whether both have the same shape and elements (a JS boolean). */
  equal: equalOp,
  /** `x.detach()`: a view of the same data that autograd does not track. */
  detach: detachOp,
  /** `x.detach_()`: detaches `x` from the graph in place (it becomes a leaf). */
  detach_: detachInplace,
  /**
   * `x.copy_(src, non_blocking=False)`: copies `src` (broadcast, converted to x's dtype) into `x` in place.
   */
  copy_: copyOp,
  /** `x.fill_(value)`: sets every element to `value`, in place. */
  fill_: fillOp,
  /** `x.zero_()`: sets every element to 0, in place. */
  zero_: zeroOp,
  uniform_,
  diag,
  normal_,
  /**
   * `x.to_(dtype)`: Cinder's unparsed dtype conversion, the same as `x.to(dtype)` (`x` itself when the dtype
   * matches). Not an in-place op despite the `_`.
   */
  to_: castOp,
  /**
   * `x.sum(dim=None, keepdim=False, *, dtype=None)`: the sum over dims (all by default); integer and bool
   * inputs sum to int32.
   */
  sum: rd.sum,
  /**
   * `x.mean(dim=None, keepdim=False, *, dtype=None)`: the mean over dims (all by default); float inputs (or a
   * float `dtype`) only.
   */
  mean: rd.mean,
  /** `x.prod(dim=None, keepdim=False, *, dtype=None)`: the product over one dim (all elements by default). */
  prod: rd.prod,
  /**
   * `x.argmax(dim=None, keepdim=False)`: the index of the first maximum (of the flattened tensor without
   * `dim`).
   */
  argmax: rd.argmax,
  /**
   * `x.argmin(dim=None, keepdim=False)`: the index of the first minimum (of the flattened tensor without
   * `dim`).
   */
  argmin: rd.argmin,
  std: rd.std,
  var: rd.variance,
  /** `x.logsumexp(dim, keepdim=False)`: `log(sum(exp(x)))` over dims, computed stably. */
  logsumexp: rd.logsumexp,
  /**
   * `x.norm(p="fro", dim=None, keepdim=False, dtype=None)`: the vector p-norm over dims (2 and Frobenius by
   * default).
   */
  norm: rd.normMethod,
  /** `x.amax(dim=(), keepdim=False)`: the maximum over dims (all dims by default). */
  amax: rd.amax,
  /** `x.amin(dim=(), keepdim=False)`: the minimum over dims (all dims by default). */
  amin: rd.amin,
  max: rd.max,
  min: rd.min,
  /** `x.all(dim=None, keepdim=False)`: whether every element (along `dim`) is true (nonzero). */
  all: rd.all,
  /** `x.any(dim=None, keepdim=False)`: whether any element (along `dim`) is true (nonzero). */
  any: rd.any,
  /** `x.cumsum(dim, dtype=None)`: cumulative sum along `dim`. */
  cumsum: rd.cumsum,
  /** `x.cumprod(dim, dtype=None)`: cumulative product along `dim`. */
  cumprod: rd.cumprod,
  /** `x.cummax(dim)` -> (values, indices): running maximum along `dim` (ties: the later index; NaN wins). */
  cummax: sc.cummax,
  /** `x.cummin(dim)` -> (values, indices): running minimum along `dim`. */
  cummin: sc.cummin,
  /** `x.logcumsumexp(dim)`: `log(cumsum(exp(x)))` along `dim`, computed stably. */
  logcumsumexp: sc.logcumsumexp,
  /** `x.median()`, `x.median(dim, keepdim=False)` -> (values, indices): the lower median. */
  median: st.median,
  /** `x.nanmedian()`, `x.nanmedian(dim, keepdim=False)`: the median ignoring NaN. */
  nanmedian: st.nanmedian,
  /** `x.mode(dim=-1, keepdim=False)` -> (values, indices): the most frequent value along `dim`. */
  mode: st.mode,
  /** `x.kthvalue(k, dim=-1, keepdim=False)` -> (values, indices): the k-th smallest along `dim`. */
  kthvalue: st.kthvalue,
  /** `x.quantile(q, dim=None, keepdim=False, *, interpolation='linear')` */
  quantile: st.quantile,
  /** `x.nanquantile(q, dim=None, keepdim=False, *, interpolation='linear')`: quantile ignoring NaN. */
  nanquantile: st.nanquantile,
  /** `x.countNonzero(dim=None)`: the number of non-zero elements over `dim`. */
  countNonzero: st.countNonzero,
  /** `x.aminmax(*, dim=None, keepdim=False)` -> (min, max). */
  aminmax: st.aminmax,
  /** `x.unique(sorted=True, return_inverse=False, return_counts=False, dim=None)` */
  unique: un.unique,
  /** `x.uniqueConsecutive(return_inverse=False, return_counts=False, dim=None)` */
  uniqueConsecutive: un.uniqueConsecutive,
  /** `x.scatterReduce(dim, index, src, reduce, *, include_self=True)` ("sum", "prod", "mean", "amax", "amin"). */
  scatterReduce: sr.scatterReduce,
  /** `x.scatterReduce_(dim, index, src, reduce, *, include_self=True)`: in place. */
  scatterReduce_: sr.scatterReduce_,
  /** `x.softmax(dim, dtype=None)`: `exp(x) / sum(exp(x))` along `dim`, computed stably. */
  softmax: rd.softmax,
  /** `x.logSoftmax(dim, dtype=None)`: `log(softmax(x))` along `dim`, computed stably. */
  logSoftmax: rd.logSoftmax,
  /** `x.matmul(other)`: matrix product with NumPy's rules for 1-D operands and broadcast batch dims. */
  matmul: la.matmul,
  /** `x.mm(mat2)`: matrix product of two 2-D tensors. */
  mm: la.mm,
  /** `x.bmm(mat2)`: batched matrix product `[B, n, m] @ [B, m, p]`. */
  bmm: la.bmm,
  /** `x.dot(other)`: inner product of two 1-D tensors. */
  dot: la.dot,
  /** `x.mv(vec)`: matrix-vector product. */
  mv: la.mv,
  /** `x.outer(vec2)`: the outer product of two 1-D tensors. */
  outer: la.outer,
  /**
   * `x.reshape(*shape)`: the same elements in a new shape (a view when the strides allow, else a copy); one
   * size may be -1.
   */
  reshape: vw.reshapeMethod,
  /**
   * `x.view(*shape)`: a view with a new shape and the same elements; fails, as PyTorch's, where the strides
   * do not allow it. One size may be -1.
   */
  view: vw.view,
  /** `x.viewAs(other)`: `x.view(other.shape)`. */
  viewAs: vw.viewAs,
  /** `x.reshapeAs(other)`: `x.reshape(other.shape)`. */
  reshapeAs: vw.reshapeAs,
  /** `x.clone()`: a copy with its own storage (recorded by autograd). */
  clone: vw.clone,
  /** `x.contiguous()`: `x` itself when row-major contiguous, else a contiguous copy. */
  contiguous: vw.contiguous,
  /** `x.squeeze(dim=None)`: a view without size-1 dims (only `dim`, if given). */
  squeeze: vw.squeeze,
  /** `x.unsqueeze(dim)`: a view with a size-1 dim inserted at `dim`. */
  unsqueeze: vw.unsqueeze,
  /** `x.permute(*dims)`: a view with the dims reordered. */
  permute: vw.permuteMethod,
  /** `x.transpose(dim0, dim1)`: a view with two dims swapped. */
  transpose: vw.transpose,
  /** `x.t()`: a 2-D tensor transposed (0-D and 1-D unchanged); a view. */
  t: vw.t,
  /** `x.flatten(start_dim=0, end_dim=-1)`: dims `startDim..endDim` merged into one (a view when possible). */
  flatten: vw.flatten,
  /** `x.unflatten(dim, sizes)`: `dim` expanded into several dims of `sizes` (a view). */
  unflatten: vw.unflatten,
  /** `x.expand(*sizes)`: a broadcast view with size-1 dims repeated (-1 keeps a size); no copy. */
  expand: vw.expand,
  /** `x.expandAs(other)`: `x.expand(other.shape)`. */
  expandAs: vw.expandAs,
  /** `x.narrow(dim, start, length)`: a view of `length` entries of `dim` from `start`. */
  narrow: vw.narrow,
  /** `x.select(dim, index)`: the view at `index` along `dim`, which is removed (`x[:, i]` for dim 1). */
  select: vw.select,
  /**
   * `x.split(split_size_or_sections, dim=0)`: views of `splitSize` entries along `dim` (the last may be
   * shorter), or of the listed sizes.
   */
  split: vw.splitMethod,
  /** `x.chunk(chunks, dim=0)`: splits into `chunks` views of (nearly) equal size along `dim`. */
  chunk: vw.chunk,
  /** `x.unbind(dim=0)`: the views along `dim`, which is removed from each. */
  unbind: vw.unbind,
  /** `x.repeat(*sizes)`: the tensor tiled `sizes[i]` times along each dim (a copy). */
  repeat: vw.repeat,
  /** `x.flip(dims)`: the elements reversed along `dims` (a copy, as in PyTorch). */
  flip: vw.flipMethod,
  /**
   * `x.at(...items)`: Python's `x[...]`: integers, slice strings (":", "1:4:2"), `"..."`, null (a new axis),
   * index lists and int or bool tensors. Basic indexing returns views.
   */
  at: ix.at,
  /**
   * `x.set([...items], value)`: Python's `x[...] = value`, in place: the same index items as `at`; `value` is
   * a tensor or a scalar, broadcast.
   */
  set: ix.set,
  /**
   * `x.gather(dim, index)`: values along `dim` picked by an int32 `index` tensor (`out[i][j] =
   * x[i][index[i][j]]` for dim 1).
   */
  gather: ix.gather,
  scatter: ix.scatter,
  /**
   * `x.scatterAdd(dim, index, src)`: a copy of `x` with `src` added at the positions `index` gives along
   * `dim`.
   */
  scatterAdd: ix.scatterAdd,
  scatter_: ix.scatter_,
  /** `x.scatterAdd_(dim, index, src)`: `scatterAdd` in place. */
  scatterAdd_: ix.scatterAdd_,
  /** `x.indexSelect(dim, index)`: the entries of `dim` listed in a 1-D int32 `index`. */
  indexSelect: ix.indexSelect,
  nonzero: ix.nonzero,
  /**
   * `x.sort(dim=-1, descending=False, *, stable=False)`: `[values, indices]` sorted along `dim` (a stable
   * sort; NaN sorts as largest).
   */
  sort: so.sort,
  /** `x.argsort(dim=-1, descending=False)`: the indices that sort the tensor along `dim` (a stable sort). */
  argsort: so.argsort,
  /**
   * `x.topk(k, dim=-1, largest=True, sorted=True)`: `[values, indices]` of the k largest (or smallest) along
   * `dim`.
   */
  topk: so.topk,
  /** `x.roll(shifts, dims=())`: elements shifted along `dims` (the flattened tensor when none), wrapping around. */
  roll: sx.roll,
  /** `x.tril(diagonal=0)`: the lower triangle of the last two dims (zeros above `diagonal`). */
  tril: sx.trilMethod,
  /** `x.triu(diagonal=0)`: the upper triangle of the last two dims (zeros below `diagonal`). */
  triu: sx.triuMethod,
  /** `x.tril_(diagonal=0)`: `tril` in place. */
  tril_: sx.tril_,
  /** `x.triu_(diagonal=0)`: `triu` in place. */
  triu_: sx.triu_,
  /** `x.diagonal(offset=0, dim1=0, dim2=1)`: a diagonal as the last dim (a view). */
  diagonal: sx.diagonal,
  /** `x.diagEmbed(offset=0, dim1=-2, dim2=-1)`: the last dim placed on diagonals of a new pair of dims. */
  diagEmbed: sx.diagEmbed,
  /** `x.trace()`: the sum of a matrix's main diagonal. */
  trace: sx.trace,
  /** `x.fliplr()`: reversed along dim 1. */
  fliplr: sx.fliplr,
  /** `x.flipud()`: reversed along dim 0. */
  flipud: sx.flipud,
  /** `x.rot90(k=1, dims=[0, 1])`: rotated by 90 degrees `k` times. */
  rot90: sx.rot90,
  /** `x.movedim(source, destination)`: dims moved to new positions (a view). */
  movedim: sx.movedim,
  /** `x.moveaxis(source, destination)`: alias of `movedim`. */
  moveaxis: sx.moveaxis,
  /** `x.tile(*dims)`: repeated along each dim (missing leading dims count as 1). */
  tile: sx.tileMethod,
  /** `x.repeatInterleave(repeats, dim=None, *, output_size=None)`: each element (slice) repeated in place. */
  repeatInterleave: sx.repeatInterleaveMethod,
  /** `x.unfold(dimension, size, step)`: sliding windows along a dim as a new last dim (a view). */
  unfold: sx.unfold,
  /** `x.take(index)`: elements of the flattened tensor at `index`. */
  take: ie.takeMethod,
  /** `x.indexAdd(dim, index, source, *, alpha=1)`: `alpha * source` added at `index` along `dim`. */
  indexAdd: ie.indexAddMethod,
  /** `x.indexAdd_(dim, index, source, *, alpha=1)`: `indexAdd` in place. */
  indexAdd_: ie.indexAdd_,
  /** `x.indexCopy(dim, index, source)`: slices at `index` along `dim` replaced by `source`'s. */
  indexCopy: ie.indexCopyMethod,
  /** `x.indexCopy_(dim, index, source)`: `indexCopy` in place. */
  indexCopy_: ie.indexCopy_,
  /** `x.indexFill(dim, index, value)`: slices at `index` along `dim` set to `value`. */
  indexFill: ie.indexFill,
  /** `x.indexFill_(dim, index, value)`: `indexFill` in place. */
  indexFill_: ie.indexFill_,
  /** `x.maskedSelect(mask)`: the elements where the bool `mask` (broadcast) is true, as 1-D. */
  maskedSelect: ie.maskedSelectMethod,
  /** `x.kron(other)`: the Kronecker product. */
  kron: lx.kronMethod,
  /** `x.cross(other, dim=None)`: the cross product of 3-vectors along `dim`. */
  cross: lx.crossMethod,
  /** `x.det()`: the determinant of each square matrix (`linalg.det`). */
  det: ld.torchDet,
  /** `x.slogdet()`: `(sign, logabsdet)` of each square matrix (`linalg.slogdet`). */
  slogdet: ld.torchSlogdet,
  /** `x.inverse()`: the inverse of each square matrix (`linalg.inv`). */
  inverse: ld.inverseMethod,
  /** `x.cholesky(upper=False)`: the Cholesky factor of each positive-definite matrix (`linalg.cholesky`). */
  cholesky: ld.choleskyMethod,
  /** `x.choleskySolve(input2, upper=False)`: X with (L L^T) X = x from the Cholesky factor `input2`. */
  choleskySolve: ld.choleskySolveMethod,
  /** `x.put(index, source, accumulate=False)`: elements of the flattened tensor at `index` set to (or incremented by) `source`'s. */
  put: ie.put,
  /** `x.put_(index, source, accumulate=False)`: `put` in place. */
  put_: ie.put_,
  to: toMethod,
  /**
   * `x.backward(gradient=None, retain_graph=None, create_graph=False)`: accumulates the gradient of `x` into
   * `.grad` of the leaves that require grad (needs `@cinder/autograd`).
   */
  backward: backwardOp,
  /**
   * `x.register_hook(hook)`: `hook(grad)` runs on the gradient w.r.t. `x` during backward (before it is accumulated
   * into a leaf's `.grad`, or flows on from a non-leaf) and may return a replacement; returns a handle whose
   * `remove()` unregisters it (needs `@cinder/autograd`).
   */
  registerHook: registerHookOp,
  /** `x.isfinite()`: where the elements are neither NaN nor ±inf, a bool tensor. */
  isfinite: ex.isfinite,
  /** `x.frac()`: the fractional part, `x - trunc(x)`. */
  frac: ex.fracMethod,
  /** `x.frac_()`: `frac` in place. */
  frac_: ex.frac_,
  /** `x.lerp(end, weight)`: linear interpolation `x + weight * (end - x)`. */
  lerp: ex.lerpMethod,
  /** `x.lerp_(end, weight)`: `lerp` in place. */
  lerp_: ex.lerp_,
  /** `x.addcmul(tensor1, tensor2, *, value=1)`: `x + value * tensor1 * tensor2`. */
  addcmul: ex.addcmulMethod,
  /** `x.addcmul_(tensor1, tensor2, *, value=1)`: `addcmul` in place. */
  addcmul_: ex.addcmul_,
  /** `x.addcdiv(tensor1, tensor2, *, value=1)`: `x + value * tensor1 / tensor2`. */
  addcdiv: ex.addcdivMethod,
  /** `x.addcdiv_(tensor1, tensor2, *, value=1)`: `addcdiv` in place. */
  addcdiv_: ex.addcdiv_,
  /** `x.logaddexp(other)`: `log(exp(x) + exp(other))` without overflow. */
  logaddexp: ex.logaddexpMethod,
  /** `x.logaddexp2(other)`: `log2(2^x + 2^other)` without overflow. */
  logaddexp2: ex.logaddexp2Method,
});

type MethodTable = ReturnType<typeof methodTable>;
type Auto = { [K in keyof MethodTable]: AsMethod<MethodTable[K]> };

/**
 * The op methods of `Tensor` (`x.sum()`, `x.exp_()`, ...), generated from the op functions and the op table
 * and typed from their signatures.
 */
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
}

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

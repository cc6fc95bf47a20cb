/**
 * Activation functions (torch.nn.functional), each with PyTorch's signature: `F.hardtanh(x, -2, 2)`,
 * `F.hardtanh(x, { minVal: -2, maxVal: 2 })` and `F.hardtanh(x, -2, { inplace: true })` are the same call.
 * Each is a composition of tensor ops, so autograd follows the parts; where a branch is not selected its input is
 * made harmless first (e.g. `expm1` of large positives in ELU), so no NaN/inf leaks into gradients.
 */
import { arg, k, op, signature, type Tensor, where } from "@cinder/tensor";
import { inputArg as self } from "../util";

/** @deprecated the options of the functions that take `inplace`; kept for the module classes' types. */
export interface InplaceOptions {
  /** Overwrite the input (PyTorch's `inplace=True`); the input must not be a leaf that requires grad. */
  inplace?: boolean;
}
export interface LeakyReluOptions extends InplaceOptions {
  negativeSlope?: number;
}
export interface EluOptions extends InplaceOptions {
  alpha?: number;
}
export interface GeluOptions {
  /** "none" (default): exact, x * Phi(x) with erf; "tanh": the tanh approximation. */
  approximate?: "none" | "tanh";
}

const inplaceArg = arg("inplace", k.bool, false);

/** Write `y` into `x` when `inplace`, else return `y`. */
function maybeInplace(x: Tensor, y: Tensor, inplace: boolean): Tensor {
  return inplace ? x.copy_(y) : y;
}

/** `relu(input, inplace=False)` */
export const relu = op(
  signature("nn.functional.relu", [self, inplaceArg]),
  ({ input, inplace }): Tensor => (inplace ? input.relu_() : input.relu()),
);

/** `relu6(input, inplace=False)`: min(max(0, x), 6). */
export const relu6 = op(
  signature("nn.functional.relu6", [self, inplaceArg]),
  ({ input, inplace }): Tensor => hardtanhImpl(input, 0, 6, inplace),
);

/** `hardtanh(input, min_val=-1., max_val=1., inplace=False)` */
export const hardtanh = op(
  signature("nn.functional.hardtanh", [
    self,
    arg("minVal", k.float, -1),
    arg("maxVal", k.float, 1),
    inplaceArg,
  ]),
  ({ input, minVal, maxVal, inplace }): Tensor => hardtanhImpl(input, minVal, maxVal, inplace),
);
function hardtanhImpl(x: Tensor, lo: number, hi: number, inplace: boolean): Tensor {
  if (lo > hi) throw new RangeError(`hardtanh(): min_val (${lo}) cannot be greater than max_val (${hi})`);
  // gradient 1 strictly inside (lo, hi) and 0 at and beyond the bounds, as PyTorch
  const inside = x.gt(lo).logicalAnd(x.lt(hi));
  const y = where(inside, x, x.detach().clamp(lo, hi));
  return maybeInplace(x, y, inplace);
}

/** `leaky_relu(input, negative_slope=0.01, inplace=False)`: x for x > 0, negative_slope * x otherwise. */
export const leakyRelu = op(
  signature("nn.functional.leakyRelu", [self, arg("negativeSlope", k.float, 0.01), inplaceArg]),
  ({ input, negativeSlope, inplace }): Tensor =>
    maybeInplace(input, where(input.gt(0), input, input.mul(negativeSlope)), inplace),
);

/** `elu(input, alpha=1.0, inplace=False)`: x for x > 0, alpha * (exp(x) - 1) otherwise. */
export const elu = op(
  signature("nn.functional.elu", [self, arg("alpha", k.float, 1.0), inplaceArg]),
  ({ input, alpha, inplace }): Tensor => maybeInplace(input, eluImpl(input, alpha, 1), inplace),
);
/** scale * (x for x > 0, alpha * (exp(x / inputScale) - 1) otherwise). */
function eluImpl(x: Tensor, alpha: number, inputScale: number): Tensor {
  const pos = x.gt(0);
  let neg = where(pos, 0, x);
  if (inputScale !== 1) neg = neg.div(inputScale);
  return where(pos, x, neg.expm1().mul(alpha));
}

/** `celu(input, alpha=1.0, inplace=False)`: max(0, x) + min(0, alpha * (exp(x / alpha) - 1)). */
export const celu = op(
  signature("nn.functional.celu", [self, arg("alpha", k.float, 1.0), inplaceArg]),
  ({ input, alpha, inplace }): Tensor => {
    if (alpha === 0) throw new RangeError("celu(): ZeroDivisionError: alpha cannot be 0 for CELU");
    return maybeInplace(input, eluImpl(input, alpha, alpha), inplace);
  },
);

/** `selu(input, inplace=False)` with PyTorch's constants. */
export const selu = op(signature("nn.functional.selu", [self, inplaceArg]), ({ input, inplace }): Tensor => {
  const alpha = 1.6732632423543772;
  const scale = 1.0507009873554805;
  return maybeInplace(input, eluImpl(input, alpha, 1).mul(scale), inplace);
});

/** `gelu(input, approximate='none')`: exact x * Phi(x) with erf, or the tanh approximation. */
export const gelu = op(
  signature("nn.functional.gelu", [self, arg("approximate", k.oneOf("none", "tanh"), "none")]),
  ({ input: x, approximate }): Tensor => {
    if (approximate === "tanh") {
      const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
      return x.mul(0.5).mul(inner.tanh().add(1));
    }
    return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
  },
);

/** `silu(input, inplace=False)`: x * sigmoid(x) (also called swish). */
export const silu = op(
  signature("nn.functional.silu", [self, inplaceArg]),
  ({ input, inplace }): Tensor => maybeInplace(input, input.mul(input.sigmoid()), inplace),
);

/** `mish(input, inplace=False)`: x * tanh(softplus(x)). */
export const mish = op(
  signature("nn.functional.mish", [self, inplaceArg]),
  ({ input, inplace }): Tensor => maybeInplace(input, input.mul(softplusImpl(input, 1, 20).tanh()), inplace),
);

/** `softplus(input, beta=1, threshold=20)`: log(1 + exp(beta x)) / beta, linear where beta x > threshold. */
export const softplus = op(
  signature("nn.functional.softplus", [self, arg("beta", k.float, 1), arg("threshold", k.float, 20)]),
  ({ input, beta, threshold }): Tensor => softplusImpl(input, beta, threshold),
);
function softplusImpl(x: Tensor, beta: number, threshold: number): Tensor {
  const bx = x.mul(beta);
  const linear = bx.gt(threshold);
  const soft = where(linear, 0, bx).exp().log1p().div(beta);
  return where(linear, x, soft);
}

/** `logsigmoid(input)`: log(1 / (1 + exp(-x))) = -softplus(-x), computed stably. */
export const logsigmoid = op(signature("nn.functional.logsigmoid", [self]), ({ input: x }): Tensor => {
  // x - log1p(exp(x)) for x < 0, -log1p(exp(-x)) otherwise: no overflow, exact gradient 1 - sigmoid(x) everywhere
  const neg = x.lt(0);
  const xn = where(neg, x, 0);
  const xp = where(neg, 0, x);
  return where(neg, xn.sub(xn.exp().log1p()), xp.neg().exp().log1p().neg());
});

/** `sigmoid(input)` */
export const sigmoid = op(signature("nn.functional.sigmoid", [self]), ({ input }): Tensor => input.sigmoid());

/** `tanh(input)` */
export const tanh = op(signature("nn.functional.tanh", [self]), ({ input }): Tensor => input.tanh());

/** PyTorch's implicit softmax dim (deprecated there): 0 for 0-, 1- and 3-D inputs, else 1. */
function softmaxDim(x: Tensor, dim: number | null): number {
  if (dim !== null) return dim;
  return x.ndim === 0 || x.ndim === 1 || x.ndim === 3 ? 0 : 1;
}

// `_stacklevel` only places PyTorch's deprecation warning for an implicit dim; it is declared to keep `dtype`'s
// position and accepts only its default
const softmaxParams = [
  self,
  arg.opt("dim", k.int),
  arg.unsupported("_stacklevel", 3, "_stacklevel is PyTorch-internal (where its warning points)"),
  arg.opt("dtype", k.dtype),
] as const;

/** `softmax(input, dim=None, _stacklevel=3, dtype=None)`: `softmax(x, 1)` or `softmax(x, { dim: 1 })`. */
export const softmax = op(
  signature("nn.functional.softmax", softmaxParams),
  ({ input, dim, dtype }): Tensor => input.softmax(softmaxDim(input, dim), dtype),
);

/** `log_softmax(input, dim=None, _stacklevel=3, dtype=None)` */
export const logSoftmax = op(
  signature("nn.functional.logSoftmax", softmaxParams),
  ({ input, dim, dtype }): Tensor => input.logSoftmax(softmaxDim(input, dim), dtype),
);

/** `softmin(input, dim=None, _stacklevel=3, dtype=None)`: softmax(-x) along `dim`. */
export const softmin = op(
  signature("nn.functional.softmin", softmaxParams),
  ({ input, dim, dtype }): Tensor => (dtype ? input.to(dtype) : input).neg().softmax(softmaxDim(input, dim)),
);

/**
 * Activation functions (torch.nn.functional). Each is a composition of tensor ops, so autograd follows the
 * parts; where a branch is not selected its input is made harmless first (e.g. `expm1` of large positives in
 * ELU), so no NaN/inf leaks into gradients.
 */
import { type Tensor, where } from "@cinder/tensor";

export interface InplaceOptions {
  /** Overwrite the input (PyTorch's `inplace=True`); the input must not be a leaf that requires grad. */
  inplace?: boolean;
}

/** Write `y` into `x` when `inplace`, else return `y`. */
function maybeInplace(x: Tensor, y: Tensor, inplace: boolean | undefined): Tensor {
  return inplace ? x.copy_(y) : y;
}

export function relu(x: Tensor, opts: InplaceOptions = {}): Tensor {
  return opts.inplace ? x.relu_() : x.relu();
}

/** `relu6`: min(max(0, x), 6). */
export function relu6(x: Tensor, opts: InplaceOptions = {}): Tensor {
  return hardtanh(x, { minVal: 0, maxVal: 6, inplace: opts.inplace });
}

export function hardtanh(
  x: Tensor,
  opts: InplaceOptions & { minVal?: number; maxVal?: number } = {},
): Tensor {
  const lo = opts.minVal ?? -1;
  const hi = opts.maxVal ?? 1;
  // gradient 1 strictly inside (lo, hi) and 0 at and beyond the bounds, as PyTorch
  const inside = x.gt(lo).logicalAnd(x.lt(hi));
  const y = where(inside, x, x.detach().clamp(lo, hi));
  return maybeInplace(x, y, opts.inplace);
}

export interface LeakyReluOptions extends InplaceOptions {
  negativeSlope?: number;
}
/** x for x > 0, negativeSlope * x otherwise (default slope 0.01). `leakyRelu(x, 0.2)` or `leakyRelu(x, { negativeSlope: 0.2 })`. */
export function leakyRelu(x: Tensor, slope: number | LeakyReluOptions = {}): Tensor {
  const o = typeof slope === "number" ? { negativeSlope: slope } : slope;
  const y = where(x.gt(0), x, x.mul(o.negativeSlope ?? 0.01));
  return maybeInplace(x, y, o.inplace);
}

export interface EluOptions extends InplaceOptions {
  alpha?: number;
}
/** x for x > 0, alpha * (exp(x) - 1) otherwise. */
export function elu(x: Tensor, alpha: number | EluOptions = {}): Tensor {
  const o = typeof alpha === "number" ? { alpha } : alpha;
  const pos = x.gt(0);
  const neg = where(pos, 0, x)
    .expm1()
    .mul(o.alpha ?? 1);
  return maybeInplace(x, where(pos, x, neg), o.inplace);
}

/** SELU with PyTorch's constants. */
export function selu(x: Tensor, opts: InplaceOptions = {}): Tensor {
  const alpha = 1.6732632423543772;
  const scale = 1.0507009873554805;
  return maybeInplace(x, elu(x, { alpha }).mul(scale), opts.inplace);
}

export interface GeluOptions {
  /** "none" (default): exact, x * Phi(x) with erf; "tanh": the tanh approximation. */
  approximate?: "none" | "tanh";
}
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const approximate = opts.approximate ?? "none";
  if (approximate === "tanh") {
    const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(0.5).mul(inner.tanh().add(1));
  }
  if (approximate !== "none")
    throw new Error(`gelu: approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`);
  return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
}

/** x * sigmoid(x) (also called swish). */
export function silu(x: Tensor, opts: InplaceOptions = {}): Tensor {
  return maybeInplace(x, x.mul(x.sigmoid()), opts.inplace);
}

/** x * tanh(softplus(x)). */
export function mish(x: Tensor, opts: InplaceOptions = {}): Tensor {
  return maybeInplace(x, x.mul(softplus(x).tanh()), opts.inplace);
}

/** log(1 + exp(beta x)) / beta, linear above `threshold` (PyTorch's defaults beta 1, threshold 20). */
export function softplus(x: Tensor, opts: { beta?: number; threshold?: number } = {}): Tensor {
  const beta = opts.beta ?? 1;
  const threshold = opts.threshold ?? 20;
  const bx = x.mul(beta);
  const linear = bx.gt(threshold);
  const soft = where(linear, 0, bx).exp().log1p().div(beta);
  return where(linear, x, soft);
}

export function sigmoid(x: Tensor): Tensor {
  return x.sigmoid();
}

export function tanh(x: Tensor): Tensor {
  return x.tanh();
}

/** PyTorch's implicit softmax dim (deprecated there): 0 for 0-, 1- and 3-D inputs, else 1. */
function softmaxDim(x: Tensor, dim: number | { dim?: number | null } | null | undefined): number {
  const d = typeof dim === "object" && dim !== null ? dim.dim : dim;
  if (d !== null && d !== undefined) return d;
  return x.ndim === 0 || x.ndim === 1 || x.ndim === 3 ? 0 : 1;
}

/** `softmax(x, 1)` or `softmax(x, { dim: 1 })`. */
export function softmax(x: Tensor, dim?: number | { dim?: number | null } | null): Tensor {
  return x.softmax(softmaxDim(x, dim));
}

export function logSoftmax(x: Tensor, dim?: number | { dim?: number | null } | null): Tensor {
  return x.logSoftmax(softmaxDim(x, dim));
}

/** softmin(x) = softmax(-x) along `dim`. */
export function softmin(x: Tensor, dim?: number | { dim?: number | null } | null): Tensor {
  return x.neg().softmax(softmaxDim(x, dim));
}

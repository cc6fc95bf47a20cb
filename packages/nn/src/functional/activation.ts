/**
 * Activation functions (torch.nn.functional), each with PyTorch's signature: `F.hardtanh(x, -2, 2)`,
 * `F.hardtanh(x, { minVal: -2, maxVal: 2 })` and `F.hardtanh(x, -2, { inplace: true })` are the same call.
 * Each is a composition of tensor ops, so autograd follows the parts; where a branch is not selected its input is
 * made harmless first (e.g. `expm1` of large positives in ELU), so no NaN/inf leaks into gradients.
 */
import { arg, k, noGrad, op, rand, signature, type Tensor, where } from "@cinder/tensor";
import { inplaceArg, inputArg as self } from "../util";

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
/** Options of `F.gelu`. */
export interface GeluOptions {
  /** "none" (default): exact, x * Phi(x) with erf; "tanh": the tanh approximation. */
  approximate?: "none" | "tanh";
}

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
  // gradient 1 strictly inside (lo, hi) and 0 at and beyond the bounds, as PyTorch; min(max(x, lo), hi) also
  // when lo > hi (the functional form does not check, so every element is then hi)
  const inside = x.gt(lo).logicalAnd(x.lt(hi));
  const y = where(inside, x, x.detach().clamp({ min: lo }).clamp({ max: hi }));
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

/** `hardsigmoid(input, inplace=False)`: relu6(x + 3) / 6. */
export const hardsigmoid = op(
  signature("nn.functional.hardsigmoid", [self, inplaceArg]),
  ({ input, inplace }): Tensor =>
    maybeInplace(input, hardtanhImpl(input.add(3), 0, 6, false).div(6), inplace),
);

/** `hardswish(input, inplace=False)`: x * relu6(x + 3) / 6. */
export const hardswish = op(
  signature("nn.functional.hardswish", [self, inplaceArg]),
  ({ input, inplace }): Tensor =>
    maybeInplace(input, input.mul(hardtanhImpl(input.add(3), 0, 6, false)).div(6), inplace),
);

/** `softsign(input)`: x / (1 + |x|). */
export const softsign = op(
  signature("nn.functional.softsign", [self]),
  ({ input }): Tensor => input.div(input.abs().add(1)),
);

/** `tanhshrink(input)`: x - tanh(x). */
export const tanhshrink = op(
  signature("nn.functional.tanhshrink", [self]),
  ({ input }): Tensor => input.sub(input.tanh()),
);

/** `hardshrink(input, lambd=0.5)`: x where |x| > lambd, else 0. */
export const hardshrink = op(
  signature("nn.functional.hardshrink", [self, arg("lambd", k.float, 0.5)]),
  ({ input, lambd }): Tensor => where(input.gt(lambd).logicalOr(input.lt(-lambd)), input, 0),
);

/** `softshrink(input, lambd=0.5)`: x - lambd above lambd, x + lambd below -lambd, else 0. */
export const softshrink = op(
  signature("nn.functional.softshrink", [self, arg("lambd", k.float, 0.5)]),
  ({ input, lambd }): Tensor => {
    if (lambd < 0)
      throw new RangeError(`softshrink(): lambda must be greater or equal to 0, but found to be ${lambd}.`);
    return where(input.gt(lambd), input.sub(lambd), where(input.lt(-lambd), input.add(lambd), 0));
  },
);

/** `threshold(input, threshold, value, inplace=False)`: x where x > threshold, else value. */
export const threshold = op(
  signature("nn.functional.threshold", [self, arg("threshold", k.float), arg("value", k.float), inplaceArg]),
  ({ input, threshold, value, inplace }): Tensor =>
    maybeInplace(input, where(input.gt(threshold), input, value), inplace),
);

/** `glu(input, dim=-1)`: a * sigmoid(b) for the two halves a, b of `input` along `dim`. */
export const glu = op(
  signature("nn.functional.glu", [self, arg("dim", k.int, -1)]),
  ({ input, dim }): Tensor => {
    if (input.ndim === 0)
      throw new Error("glu(): glu does not support scalars because halving size must be even");
    const d = dim < 0 ? dim + input.ndim : dim;
    const n = input.shape[d];
    if (n === undefined || n % 2 !== 0) {
      throw new Error(`glu(): Halving dimension must be even, but dimension ${dim} is size ${n}`);
    }
    return input.narrow(d, 0, n / 2).mul(input.narrow(d, n / 2, n / 2).sigmoid());
  },
);

/** `prelu(input, weight)`: max(0, x) + weight * min(0, x), weight one number or one per channel (dim 1). */
export const prelu = op(
  signature("nn.functional.prelu", [self, arg("weight", k.tensor)]),
  ({ input, weight }): Tensor => {
    const channels = input.ndim >= 2 ? input.shape[1] : 1;
    const n = weight.numel();
    if (n !== 1 && n !== channels) {
      throw new Error(
        `prelu(): Mismatch of parameter numbers and input channel size. Found parameter numbers = ${n} and channel size = ${channels}.`,
      );
    }
    const w = n === 1 ? weight.reshape([]) : weight.reshape(input.shape.map((d, i) => (i === 1 ? d : 1)));
    return where(input.gt(0), input, input.mul(w));
  },
);

/**
 * `rrelu(input, lower=1/8, upper=1/3, training=False, inplace=False)`: leaky ReLU with slope (lower + upper) / 2
 * when not training; when training, each negative element gets its own slope drawn from U(lower, upper) (the
 * seeded generator, not PyTorch's stream).
 */
export const rrelu = op(
  signature("nn.functional.rrelu", [
    self,
    arg("lower", k.float, 1 / 8),
    arg("upper", k.float, 1 / 3),
    arg("training", k.bool, false),
    inplaceArg,
  ]),
  ({ input, lower, upper, training, inplace }): Tensor => {
    const slope = training
      ? noGrad(() =>
          rand(input.shape, {
            dtype: input.dtype === "float64" ? "float64" : "float32",
            device: input.device,
          })
            .mul(upper - lower)
            .add(lower)
            .to(input.dtype),
        )
      : (lower + upper) / 2;
    return maybeInplace(input, where(input.ge(0), input, input.mul(slope)), inplace);
  },
);

/**
 * `gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1)`: softmax((logits + g) / tau) with g ~ Gumbel(0, 1)
 * from the seeded generator; `hard` returns the one-hot argmax with the soft sample's gradient (straight-through).
 * `eps` has no effect (deprecated in PyTorch, which warns).
 */
export const gumbelSoftmax = op(
  signature("nn.functional.gumbelSoftmax", [
    arg("logits", k.tensor),
    arg("tau", k.float, 1),
    arg("hard", k.bool, false),
    arg("eps", k.float, 1e-10),
    arg("dim", k.int, -1),
  ]),
  ({ logits, tau, hard, eps, dim }): Tensor => {
    if (eps !== 1e-10) console.warn("gumbelSoftmax: `eps` parameter is deprecated and has no effect.");
    const gumbels = noGrad(() =>
      rand(logits.shape, { dtype: logits.dtype === "float64" ? "float64" : "float32", device: logits.device })
        .clamp({ min: 1e-20 })
        .log()
        .neg()
        .log()
        .neg()
        .to(logits.dtype),
    );
    const ySoft = logits.add(gumbels).div(tau).softmax(dim);
    if (!hard) return ySoft;
    const index = noGrad(() => ySoft.argmax(dim, true));
    const yHard = noGrad(() => ySoft.mul(0).scatter(dim, index, 1));
    return yHard.sub(ySoft.detach()).add(ySoft);
  },
);

// ---- the in-place forms of torch.nn.functional (relu_, elu_, ...): the same op with inplace=True ----

/** `relu_(input)` */
export const relu_ = op(signature("nn.functional.relu_", [self]), ({ input }): Tensor => input.relu_());

/** `elu_(input, alpha=1.)` */
export const elu_ = op(
  signature("nn.functional.elu_", [self, arg("alpha", k.float, 1.0)]),
  ({ input, alpha }): Tensor => maybeInplace(input, eluImpl(input, alpha, 1), true),
);

/** `celu_(input, alpha=1.)` */
export const celu_ = op(
  signature("nn.functional.celu_", [self, arg("alpha", k.float, 1.0)]),
  ({ input, alpha }): Tensor => celu(input, alpha, true),
);

/** `selu_(input)` */
export const selu_ = op(signature("nn.functional.selu_", [self]), ({ input }): Tensor => selu(input, true));

/** `hardtanh_(input, min_val=-1., max_val=1.)` */
export const hardtanh_ = op(
  signature("nn.functional.hardtanh_", [self, arg("minVal", k.float, -1), arg("maxVal", k.float, 1)]),
  ({ input, minVal, maxVal }): Tensor => hardtanhImpl(input, minVal, maxVal, true),
);

/** `leaky_relu_(input, negative_slope=0.01)` */
export const leakyRelu_ = op(
  signature("nn.functional.leakyRelu_", [self, arg("negativeSlope", k.float, 0.01)]),
  ({ input, negativeSlope }): Tensor => leakyRelu(input, negativeSlope, true),
);

/** `rrelu_(input, lower=1./8, upper=1./3, training=False)` */
export const rrelu_ = op(
  signature("nn.functional.rrelu_", [
    self,
    arg("lower", k.float, 1 / 8),
    arg("upper", k.float, 1 / 3),
    arg("training", k.bool, false),
  ]),
  ({ input, lower, upper, training }): Tensor => rrelu(input, lower, upper, training, true),
);

/** `threshold_(input, threshold, value)` */
export const threshold_ = op(
  signature("nn.functional.threshold_", [self, arg("threshold", k.float), arg("value", k.float)]),
  ({ input, threshold: th, value }): Tensor => threshold(input, th, value, true),
);

/**
 * torch.nn.init: fill tensors in place, outside autograd, from the tensor core's seeded generator
 * (`manualSeed`), with PyTorch 1.13's signatures. Names are camelCase with the trailing `_` of in-place ops:
 * `init.kaimingUniform_(w, Math.sqrt(5))` or `init.kaimingUniform_(w, { a: Math.sqrt(5) })`. Modes and
 * nonlinearities are PyTorch's strings ("fan_in", "leaky_relu"), also accepted in camelCase ("fanIn", "leakyRelu").
 * Every in-place initialiser also takes Cinder's keyword-only `generator`.
 */
import { arg, Generator, type Kind, k, noGrad, op, signature, type Tensor } from "@cinder/tensor";
import { fmt } from "./util";

/**
 * The nonlinearities `calculateGain` and the Kaiming initialisers know, in PyTorch's snake_case or camelCase.
 */
export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "convTranspose1d"
  | "convTranspose2d"
  | "convTranspose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leakyRelu"
  | "selu"
  | "conv_transpose1d"
  | "conv_transpose2d"
  | "conv_transpose3d"
  | "leaky_relu";

/**
 * Which fan the Kaiming initialisers preserve: the input's ("fan_in", the forward pass) or the output's
 * ("fan_out", the backward pass).
 */
export type FanMode = "fanIn" | "fanOut" | "fan_in" | "fan_out";

/** The recommended gain for a nonlinearity; `param` is leaky ReLU's slope (default 0.01). */
function gain(nonlinearity: Nonlinearity, param?: number | null): number {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "convTranspose1d":
    case "convTranspose2d":
    case "convTranspose3d":
    case "conv_transpose1d":
    case "conv_transpose2d":
    case "conv_transpose3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu":
    case "leaky_relu": {
      const slope = param ?? 0.01;
      if (typeof slope !== "number" || Number.isNaN(slope))
        throw new TypeError(`negative_slope ${slope} not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new Error(`Unsupported nonlinearity ${nonlinearity}`);
  }
}

/** fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (torch's _calculate_fan_in_and_fan_out). */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) {
    throw new Error(
      `Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape ${fmt(t.shape)})`,
    );
  }
  const receptive = t.shape.slice(2).reduce((p, d) => p * d, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

function fanOf(t: Tensor, mode: FanMode): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  if (mode === "fanIn" || mode === "fan_in") return fanIn;
  if (mode === "fanOut" || mode === "fan_out") return fanOut;
  throw new Error(`Mode ${mode} not supported, please use one of fanIn, fanOut`);
}

/** Cinder's keyword-only `generator` (PyTorch 2 adds one): draw from this generator instead of the default. */
const generatorArg = arg.opt(
  "generator",
  k.where(k.any, (v) => v instanceof Generator, "Generator") as Kind<unknown> as Kind<Generator>,
);
const tensorArg = arg("tensor", k.tensor);
const floatArg = <const N extends string>(name: N, dflt: number) => arg(name, k.float, dflt);
const NONLINEARITIES = [
  "linear",
  "conv1d",
  "conv2d",
  "conv3d",
  "conv_transpose1d",
  "conv_transpose2d",
  "conv_transpose3d",
  "sigmoid",
  "tanh",
  "relu",
  "leaky_relu",
  "selu",
  "convTranspose1d",
  "convTranspose2d",
  "convTranspose3d",
  "leakyRelu",
] as const;
const nonlinearityKind = k.oneOf(...NONLINEARITIES);

/** `calculate_gain(nonlinearity, param=None)`: the recommended gain; `param` is leaky ReLU's slope (0.01). */
export const calculateGain = op(
  signature("nn.init.calculateGain", [arg("nonlinearity", nonlinearityKind), arg.opt("param", k.float)]),
  ({ nonlinearity, param }): number => gain(nonlinearity, param),
);

/** `uniform_(tensor, a=0.0, b=1.0)`: U(a, b). */
export const uniform_ = op(
  signature("nn.init.uniform_", [tensorArg, floatArg("a", 0.0), floatArg("b", 1.0)], [generatorArg]),
  ({ tensor, a, b, generator }): Tensor => uniformImpl(tensor, a, b, generator),
);
function uniformImpl(t: Tensor, a: number, b: number, generator: Generator | null): Tensor {
  return noGrad(() => t.uniform_(a, b, { generator: generator ?? undefined }));
}

/** `normal_(tensor, mean=0.0, std=1.0)`: N(mean, std^2). */
export const normal_ = op(
  signature("nn.init.normal_", [tensorArg, floatArg("mean", 0.0), floatArg("std", 1.0)], [generatorArg]),
  ({ tensor, mean, std, generator }): Tensor => normalImpl(tensor, mean, std, generator),
);
function normalImpl(t: Tensor, mean: number, std: number, generator: Generator | null): Tensor {
  return noGrad(() => t.normal_(mean, std, { generator: generator ?? undefined }));
}

/** `constant_(tensor, val)`: every element `val`. */
export const constant_ = op(
  signature("nn.init.constant_", [tensorArg, arg("val", k.float)]),
  ({ tensor, val }): Tensor => noGrad(() => tensor.fill_(val)),
);

/** `zeros_(tensor)`. */
export const zeros_ = op(
  signature("nn.init.zeros_", [tensorArg]),
  ({ tensor }): Tensor => noGrad(() => tensor.fill_(0)),
);

/** `ones_(tensor)`. */
export const ones_ = op(
  signature("nn.init.ones_", [tensorArg]),
  ({ tensor }): Tensor => noGrad(() => tensor.fill_(1)),
);

/** `eye_(tensor)`: the identity matrix (2-D tensors only). */
export const eye_ = op(signature("nn.init.eye_", [tensorArg]), ({ tensor: t }): Tensor => {
  if (t.ndim !== 2)
    throw new Error(`Only tensors with 2 dimensions are supported (got shape ${fmt(t.shape)})`);
  return noGrad(() => {
    t.fill_(0);
    const n = Math.min(t.shape[0], t.shape[1]);
    for (let i = 0; i < n; i++) t.set([i, i], 1);
    return t;
  });
});

/**
 * `dirac_(tensor, groups=1)`: the Dirac delta for 3-, 4- and 5-D convolution weights, so that the convolution
 * keeps its input's channels (per group).
 */
export const dirac_ = op(
  signature("nn.init.dirac_", [tensorArg, arg("groups", k.int, 1)]),
  ({ tensor: t, groups }): Tensor => {
    if (t.ndim < 3 || t.ndim > 5) throw new Error("Only tensors with 3, 4, or 5 dimensions are supported");
    if (t.shape[0] % groups !== 0) throw new Error("dim 0 must be divisible by groups");
    const outPerGroup = t.shape[0] / groups;
    const minDim = Math.min(outPerGroup, t.shape[1]);
    return noGrad(() => {
      t.fill_(0);
      const centre = t.shape.slice(2).map((d) => Math.floor(d / 2));
      for (let g = 0; g < groups; g++)
        for (let d = 0; d < minDim; d++) t.set([g * outPerGroup + d, d, ...centre], 1);
      return t;
    });
  },
);

/** `xavier_uniform_(tensor, gain=1.0)`: Glorot uniform, U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). */
export const xavierUniform_ = op(
  signature("nn.init.xavierUniform_", [tensorArg, floatArg("gain", 1.0)], [generatorArg]),
  ({ tensor, gain: g, generator }): Tensor => {
    const { fanIn, fanOut } = calculateFanInAndFanOut(tensor);
    const a = Math.sqrt(3) * g * Math.sqrt(2 / (fanIn + fanOut));
    return uniformImpl(tensor, -a, a, generator);
  },
);

/** `xavier_normal_(tensor, gain=1.0)`: Glorot normal, N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
export const xavierNormal_ = op(
  signature("nn.init.xavierNormal_", [tensorArg, floatArg("gain", 1.0)], [generatorArg]),
  ({ tensor, gain: g, generator }): Tensor => {
    const { fanIn, fanOut } = calculateFanInAndFanOut(tensor);
    return normalImpl(tensor, 0, g * Math.sqrt(2 / (fanIn + fanOut)), generator);
  },
);

/** `(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu')`; modes and nonlinearities also in camelCase. */
const kaimingParams = [
  tensorArg,
  floatArg("a", 0),
  arg("mode", k.oneOf("fan_in", "fan_out", "fanIn", "fanOut"), "fan_in"),
  arg("nonlinearity", nonlinearityKind, "leaky_relu"),
] as const;
function kaimingStd(t: Tensor, a: number, mode: FanMode, nonlinearity: Nonlinearity): number {
  return gain(nonlinearity, a) / Math.sqrt(fanOf(t, mode));
}

/** `kaiming_uniform_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu')`: He uniform, bound = gain * sqrt(3 / fan). */
export const kaimingUniform_ = op(
  signature("nn.init.kaimingUniform_", kaimingParams, [generatorArg]),
  ({ tensor, a, mode, nonlinearity, generator }): Tensor => {
    if (tensor.numel() === 0) return tensor;
    const bound = Math.sqrt(3) * kaimingStd(tensor, a, mode, nonlinearity);
    return uniformImpl(tensor, -bound, bound, generator);
  },
);

/** `kaiming_normal_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu')`: He normal, std = gain / sqrt(fan). */
export const kaimingNormal_ = op(
  signature("nn.init.kaimingNormal_", kaimingParams, [generatorArg]),
  ({ tensor, a, mode, nonlinearity, generator }): Tensor => {
    if (tensor.numel() === 0) return tensor;
    return normalImpl(tensor, 0, kaimingStd(tensor, a, mode, nonlinearity), generator);
  },
);

/**
 * `trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0)`: N(mean, std^2) truncated to [a, b], by redrawing the
 * samples outside (a few rounds; the rest are clamped).
 */
export const truncNormal_ = op(
  signature(
    "nn.init.truncNormal_",
    [tensorArg, floatArg("mean", 0.0), floatArg("std", 1.0), floatArg("a", -2.0), floatArg("b", 2.0)],
    [generatorArg],
  ),
  ({ tensor: t, mean, std, a, b, generator }): Tensor => {
    const g = { generator: generator ?? undefined };
    return noGrad(() => {
      t.normal_(mean, std, g);
      for (let round = 0; round < 32; round++) {
        const bad = t.lt(a).logicalOr(t.gt(b));
        if (!(bad.any().item() as boolean)) break;
        const fresh = t.clone().normal_(mean, std, g);
        t.copy_(t.where(bad.logicalNot(), fresh));
      }
      return t.clamp_(a, b);
    });
  },
);

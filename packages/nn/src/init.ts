/**
 * torch.nn.init: fill tensors in place, outside autograd, from the tensor core's seeded generator
 * (`manualSeed`). Names are camelCase with the trailing `_` of in-place ops: `init.kaimingUniform_(w, { a: Math.sqrt(5) })`.
 * Option values accept PyTorch's spellings too ("fan_in", "leaky_relu").
 */
import { type Generator, noGrad, type Tensor } from "@cinder/tensor";
import { fmt } from "./util";

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

export type FanMode = "fanIn" | "fanOut" | "fan_in" | "fan_out";

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); `param` is leaky ReLU's slope (default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
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

export interface GeneratorOption {
  generator?: Generator;
}

/** Uniform on [a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, opts: GeneratorOption = {}): Tensor {
  return noGrad(() => t.uniform_(a, b, { generator: opts.generator }));
}

export function normal_(t: Tensor, mean = 0, std = 1, opts: GeneratorOption = {}): Tensor {
  return noGrad(() => t.normal_(mean, std, { generator: opts.generator }));
}

export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** The identity matrix (2-D tensors only). */
export function eye_(t: Tensor): Tensor {
  if (t.ndim !== 2)
    throw new Error(`Only tensors with 2 dimensions are supported (got shape ${fmt(t.shape)})`);
  return noGrad(() => {
    t.fill_(0);
    const n = Math.min(t.shape[0], t.shape[1]);
    for (let i = 0; i < n; i++) t.set([i, i], 1);
    return t;
  });
}

export interface XavierOptions extends GeneratorOption {
  gain?: number;
}

/** Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). `xavierUniform_(w)` or `xavierUniform_(w, { gain })`. */
export function xavierUniform_(t: Tensor, gain: number | XavierOptions = {}): Tensor {
  const o = typeof gain === "number" ? { gain } : gain;
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const std = (o.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  const a = Math.sqrt(3) * std;
  return uniform_(t, -a, a, o);
}

/** Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain: number | XavierOptions = {}): Tensor {
  const o = typeof gain === "number" ? { gain } : gain;
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, (o.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), o);
}

export interface KaimingOptions extends GeneratorOption {
  /** Negative slope of the rectifier after this layer (leaky ReLU only). Default 0. */
  a?: number;
  /** "fanIn" (default) preserves the forward pass's variance, "fanOut" the backward pass's. */
  mode?: FanMode;
  /** Default "leakyRelu", as PyTorch. */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const fan = fanOf(t, o.mode ?? "fanIn");
  const gain = calculateGain(o.nonlinearity ?? "leakyRelu", o.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t;
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound, opts);
}

/** He normal: N(0, std^2) with std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t;
  return normal_(t, 0, kaimingStd(t, opts), opts);
}

/** Normal(mean, std) truncated to [a, b], by redrawing the samples outside (a few rounds; the rest are clamped). */
export function truncNormal_(
  t: Tensor,
  opts: GeneratorOption & { mean?: number; std?: number; a?: number; b?: number } = {},
): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  const a = opts.a ?? -2;
  const b = opts.b ?? 2;
  return noGrad(() => {
    t.normal_(mean, std, { generator: opts.generator });
    for (let round = 0; round < 32; round++) {
      const bad = t.lt(a).logicalOr(t.gt(b));
      if (!(bad.any().item() as boolean)) break;
      const fresh = t.clone().normal_(mean, std, { generator: opts.generator });
      t.copy_(t.where(bad.logicalNot(), fresh));
    }
    return t.clamp_(a, b);
  });
}

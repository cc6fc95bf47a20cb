/** batchNorm, layerNorm, groupNorm and normalize (torch.nn.functional), composed from tensor ops. */
import { noGrad, type Tensor } from "@cinder/tensor";
import { fmt } from "../util";

/** Shape [1, C, 1, ...] to broadcast a per-channel vector over an [N, C, ...] input. */
function channelShape(x: Tensor): number[] {
  return x.shape.map((d, i) => (i === 1 ? d : 1));
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Use batch statistics (and update the running ones) instead of the running statistics. Default false. */
  training?: boolean;
  /** Weight of the new batch statistics in the running averages (default 0.1). */
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over [N, C, ...] per channel C. Training: normalise with the batch mean and biased
 * variance and, when running tensors are given, update them in place with the unbiased variance, as PyTorch.
 * Otherwise normalise with `runningMean` / `runningVar`.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  opts: BatchNormOptions = {},
): Tensor {
  const training = opts.training ?? false;
  const eps = opts.eps ?? 1e-5;
  if (x.ndim < 2)
    throw new Error(`batchNorm: expected an input of at least 2 dims [N, C, ...], got ${fmt(x.shape)}`);
  const C = x.shape[1];
  for (const [name, t] of [
    ["runningMean", runningMean],
    ["runningVar", runningVar],
    ["weight", opts.weight],
    ["bias", opts.bias],
  ] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) {
      throw new Error(
        `batchNorm: ${name} should have ${C} elements (the input's channels), got shape ${fmt(t.shape)}`,
      );
    }
  }
  const cs = channelShape(x);
  let xhat: Tensor;
  if (training) {
    const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const n = x.numel() / C;
    if (n <= 1)
      throw new Error(`Expected more than 1 value per channel when training, got input size ${fmt(x.shape)}`);
    const mean = x.mean({ dim: dims, keepdim: true });
    const v = x.var({ dim: dims, correction: 0, keepdim: true });
    const m = opts.momentum ?? 0.1;
    noGrad(() => {
      if (runningMean) runningMean.mul_(1 - m).add_(mean.detach().reshape(C).mul(m).to(runningMean.dtype));
      if (runningVar)
        runningVar.mul_(1 - m).add_(
          v
            .detach()
            .reshape(C)
            .mul((m * n) / (n - 1))
            .to(runningVar.dtype),
        );
    });
    xhat = x.sub(mean).mul(v.add(eps).rsqrt());
  } else {
    if (!runningMean || !runningVar)
      throw new Error("batchNorm: runningMean and runningVar are required when not training");
    xhat = x.sub(runningMean.reshape(cs)).mul(runningVar.reshape(cs).add(eps).rsqrt());
  }
  if (opts.weight) xhat = xhat.mul(opts.weight.reshape(cs));
  if (opts.bias) xhat = xhat.add(opts.bias.reshape(cs));
  return xhat;
}

export interface LayerNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  eps?: number;
}

/** Normalise over the last `normalizedShape.length` dims (biased variance), then scale and shift elementwise. */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  opts: LayerNormOptions = {},
): Tensor {
  const ns = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  const k = ns.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k > x.ndim || tail.some((d, i) => d !== ns[i])) {
    throw new Error(
      `layerNorm: given normalized_shape=${fmt(ns)}, expected input with shape [*, ${ns.join(", ")}], but got input of size ${fmt(x.shape)}`,
    );
  }
  const dims = ns.map((_, i) => x.ndim - k + i);
  const mean = x.mean({ dim: dims, keepdim: true });
  const v = x.var({ dim: dims, correction: 0, keepdim: true });
  let y = x.sub(mean).mul(v.add(opts.eps ?? 1e-5).rsqrt());
  if (opts.weight) y = y.mul(opts.weight);
  if (opts.bias) y = y.add(opts.bias);
  return y;
}

export interface GroupNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  eps?: number;
}

/** Split the C channels of [N, C, ...] into `numGroups` groups, normalise each group per sample, then affine per channel. */
export function groupNorm(x: Tensor, numGroups: number, opts: GroupNormOptions = {}): Tensor {
  if (x.ndim < 2)
    throw new Error(`groupNorm: expected an input of at least 2 dims [N, C, ...], got ${fmt(x.shape)}`);
  const [N, C] = x.shape;
  if (!Number.isInteger(numGroups) || numGroups <= 0 || C % numGroups !== 0) {
    throw new Error(
      `groupNorm: expected number of channels in input (${C}) to be divisible by num_groups (${numGroups})`,
    );
  }
  const g = x.reshape(N, numGroups, -1);
  const mean = g.mean({ dim: 2, keepdim: true });
  const v = g.var({ dim: 2, correction: 0, keepdim: true });
  let y = g
    .sub(mean)
    .mul(v.add(opts.eps ?? 1e-5).rsqrt())
    .reshape(x.shape);
  const cs = channelShape(x);
  if (opts.weight) y = y.mul(opts.weight.reshape(cs));
  if (opts.bias) y = y.add(opts.bias.reshape(cs));
  return y;
}

/** x / max(||x||_p, eps) along `dim` (default p 2, dim 1). */
export function normalize(x: Tensor, opts: { p?: number; dim?: number; eps?: number } = {}): Tensor {
  const n = x.norm({ p: opts.p ?? 2, dim: opts.dim ?? 1, keepdim: true });
  return x.div(n.clamp({ min: opts.eps ?? 1e-12 }).expandAs(x));
}

/** batchNorm, instanceNorm, layerNorm, groupNorm and normalize (torch.nn.functional), composed from tensor ops. */
import { arg, cat, k, noGrad, op, signature, type Tensor } from "@cinder/tensor";
import { fmt, inputArg } from "../util";

const optTensor = <const N extends string>(name: N) => arg.opt(name, k.tensor);
const epsArg = arg("eps", k.float, 1e-5);

/** Shape [1, C, 1, ...] to broadcast a per-channel vector over an [N, C, ...] input. */
function channelShape(x: Tensor): number[] {
  return x.shape.map((d, i) => (i === 1 ? d : 1));
}

/** `y * weight + bias` with the per-channel (dim 1) `weight` and `bias` of an [N, C, ...] result, when given. */
function channelAffine(
  y: Tensor,
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
): Tensor {
  const cs = channelShape(y);
  if (weight) y = y.mul(weight.reshape(cs));
  if (bias) y = y.add(bias.reshape(cs));
  return y;
}

/** @deprecated the options of `batchNorm`; kept for the module classes' types. */
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
 * `batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05)`:
 * batch normalisation over [N, C, ...] per channel C. Training: normalise with the batch mean and biased variance
 * and, when running tensors are given, update them in place with the unbiased variance, as PyTorch. Otherwise
 * normalise with `runningMean` / `runningVar`.
 */
export const batchNorm = op(
  signature("nn.functional.batchNorm", [
    inputArg,
    arg("runningMean", k.opt(k.tensor)),
    arg("runningVar", k.opt(k.tensor)),
    optTensor("weight"),
    optTensor("bias"),
    arg("training", k.bool, false),
    arg("momentum", k.float, 0.1),
    epsArg,
  ]),
  (a): Tensor =>
    batchNormImpl(a.input, a.runningMean, a.runningVar, a.weight, a.bias, a.training, a.momentum, a.eps),
);

function batchNormImpl(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  training: boolean,
  momentum: number,
  eps: number,
): Tensor {
  const opts = { weight, bias, momentum };
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
    const m = opts.momentum;
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
  return channelAffine(xhat, opts.weight, opts.bias);
}

/** @deprecated the options of `layerNorm`; kept for the module classes' types. */
export interface LayerNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  eps?: number;
}

/**
 * `layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05)`: normalise over the last
 * `normalizedShape.length` dims (biased variance), then scale and shift elementwise.
 */
export const layerNorm = op(
  signature("nn.functional.layerNorm", [
    inputArg,
    arg("normalizedShape", k.ints),
    optTensor("weight"),
    optTensor("bias"),
    epsArg,
  ]),
  (a): Tensor => layerNormImpl(a.input, a.normalizedShape, a),
);

function layerNormImpl(
  x: Tensor,
  normalizedShape: number | readonly number[],
  opts: { weight: Tensor | null; bias: Tensor | null; eps: number },
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
  let y = x.sub(mean).mul(v.add(opts.eps).rsqrt());
  if (opts.weight) y = y.mul(opts.weight);
  if (opts.bias) y = y.add(opts.bias);
  return y;
}

/** @deprecated the options of `groupNorm`; kept for the module classes' types. */
export interface GroupNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  eps?: number;
}

/**
 * `group_norm(input, num_groups, weight=None, bias=None, eps=1e-05)`: split the C channels of [N, C, ...] into
 * `numGroups` groups, normalise each group per sample, then affine per channel.
 */
export const groupNorm = op(
  signature("nn.functional.groupNorm", [
    inputArg,
    arg("numGroups", k.int),
    optTensor("weight"),
    optTensor("bias"),
    epsArg,
  ]),
  (a): Tensor => groupNormImpl(a.input, a.numGroups, a),
);

function groupNormImpl(
  x: Tensor,
  numGroups: number,
  opts: { weight: Tensor | null; bias: Tensor | null; eps: number },
): Tensor {
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
  return channelAffine(g.sub(mean).mul(v.add(opts.eps).rsqrt()).reshape(x.shape), opts.weight, opts.bias);
}

/**
 * `instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
 * momentum=0.1, eps=1e-05)`: normalise each channel of each sample of [N, C, ...] over its spatial dims (batch
 * norm with the batch and channel dims merged); the running statistics, when given, are updated with the mean over
 * the batch, as PyTorch.
 */
export const instanceNorm = op(
  signature("nn.functional.instanceNorm", [
    inputArg,
    optTensor("runningMean"),
    optTensor("runningVar"),
    optTensor("weight"),
    optTensor("bias"),
    arg("useInputStats", k.bool, true),
    arg("momentum", k.float, 0.1),
    epsArg,
  ]),
  (a): Tensor => {
    const x = a.input;
    if (x.ndim < 3) {
      throw new Error(
        `instanceNorm: expected an input of at least 3 dims [N, C, ...] (unbatched inputs are handled by InstanceNorm modules), got ${fmt(x.shape)}`,
      );
    }
    const [N, C] = x.shape;
    if (!a.useInputStats) {
      if (!a.runningMean || !a.runningVar)
        throw new Error(
          "instanceNorm: Expected running_mean and running_var to be defined when use_input_stats is false",
        );
      return batchNormImpl(x, a.runningMean, a.runningVar, a.weight, a.bias, false, a.momentum, a.eps);
    }
    const spatial = x.shape.slice(2);
    const merged = x.reshape(1, N * C, ...spatial);
    const rm = a.runningMean ? a.runningMean.repeat(N) : null;
    const rv = a.runningVar ? a.runningVar.repeat(N) : null;
    const y = batchNormImpl(merged, rm, rv, null, null, true, a.momentum, a.eps).reshape(x.shape);
    noGrad(() => {
      if (a.runningMean && rm) a.runningMean.copy_(rm.reshape(N, C).mean({ dim: 0 }));
      if (a.runningVar && rv) a.runningVar.copy_(rv.reshape(N, C).mean({ dim: 0 }));
    });
    return channelAffine(y, a.weight, a.bias);
  },
);

/**
 * `normalize(input, p=2.0, dim=1, eps=1e-12, out=None)`: x / max(||x||_p, eps) along `dim`; p = 0 counts the
 * non-zero entries (PyTorch's 0-"norm").
 */
export const normalize = op(
  signature("nn.functional.normalize", [
    inputArg,
    arg("p", k.float, 2.0),
    arg("dim", k.int, 1),
    arg("eps", k.float, 1e-12),
    arg.unsupported("out", null, "out= is not supported"),
  ]),
  ({ input: x, p, dim, eps }): Tensor => {
    const n =
      p === 0
        ? x.ne(0).sum({ dim, keepdim: true }).to(x.dtype)
        : p === Number.NEGATIVE_INFINITY
          ? x.abs().amin(dim, true)
          : x.norm({ p, dim, keepdim: true });
    return x.div(n.clamp({ min: eps }).expandAs(x));
  },
);

/**
 * `local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0)`: x / (k + alpha * mean of x^2 over `size`
 * neighbouring channels (zero padded))^beta, over [N, C, ...].
 */
export const localResponseNorm = op(
  signature("nn.functional.localResponseNorm", [
    inputArg,
    arg("size", k.int),
    arg("alpha", k.float, 1e-4),
    arg("beta", k.float, 0.75),
    arg("k", k.float, 1.0),
  ]),
  ({ input: x, size, alpha, beta, k: kk }): Tensor => {
    if (x.ndim < 3) {
      throw new Error(
        `localResponseNorm: Expected 3D or higher dimensionality input (got ${x.ndim} dimensions)`,
      );
    }
    if (x.numel() === 0) return x;
    const C = x.shape[1];
    const sq = x.mul(x);
    const before = Math.floor(size / 2);
    const after = Math.floor((size - 1) / 2);
    const zeros = (n: number) =>
      sq
        .narrow(1, 0, 1)
        .mul(0)
        .expand([x.shape[0], n, ...x.shape.slice(2)]);
    const parts = [before > 0 ? zeros(before) : null, sq, after > 0 ? zeros(after) : null].filter(
      (t): t is Tensor => t !== null,
    );
    const padded = parts.length > 1 ? cat(parts, 1) : sq;
    let sum = padded.narrow(1, 0, C);
    for (let j = 1; j < size; j++) sum = sum.add(padded.narrow(1, j, C));
    return x.div(sum.div(size).mul(alpha).add(kk).pow(beta));
  },
);

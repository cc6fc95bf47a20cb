/**
 * Loss functions (torch.nn.functional). Most are compositions of tensor ops; the two binary cross entropies
 * record their own derivative (PyTorch's formulas), because the composed gradient is wrong at the clamp
 * (BCE at 0 or 1) or at the kink of |x| (BCE with logits at x = 0).
 */
import {
  arg,
  DTypeError,
  fmtShape,
  k,
  noGrad,
  op,
  recordOp,
  signature,
  type Tensor,
  where,
  zerosLike,
} from "@cinder/tensor";
import {
  fmt,
  inputArg,
  legacyReduction,
  type Reduction,
  reduce,
  reduceArg,
  reductionArg,
  sizeAverageArg,
  targetArg,
} from "../util";

const weightArg = arg.opt("weight", k.tensor);
const ignoreIndexArg = arg("ignoreIndex", k.int, -100);

/** @deprecated the options of the losses; kept for the module classes' types. */
export interface LossOptions {
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

function sameShapeOrWarn(input: Tensor, target: Tensor, what: string): void {
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    // PyTorch broadcasts with a warning; a silent broadcast hides bugs, so say so once
    if (!warned.has(what)) {
      warned.add(what);
      console.warn(
        `${what}: using a target size (${fmt(target.shape)}) that is different to the input size (${fmt(input.shape)}). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.`,
      );
    }
  }
}
const warned = new Set<string>();

/** The legacy `(input, target, size_average=None, reduce=None, reduction='mean')` of the simple losses. */
const simpleLoss = [inputArg, targetArg, sizeAverageArg, reduceArg, reductionArg] as const;

/** `mse_loss(input, target, size_average=None, reduce=None, reduction='mean')` */
export const mseLoss = op(signature("nn.functional.mseLoss", simpleLoss), (a): Tensor => {
  const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "mseLoss");
  sameShapeOrWarn(a.input, a.target, "mseLoss");
  return reduce(a.input.sub(a.target).square(), r);
});

/** `l1_loss(input, target, size_average=None, reduce=None, reduction='mean')` */
export const l1Loss = op(signature("nn.functional.l1Loss", simpleLoss), (a): Tensor => {
  const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "l1Loss");
  sameShapeOrWarn(a.input, a.target, "l1Loss");
  return reduce(a.input.sub(a.target).abs(), r);
});

/**
 * `smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0)`:
 * 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta 0 is L1).
 */
export const smoothL1Loss = op(
  signature("nn.functional.smoothL1Loss", [...simpleLoss, arg("beta", k.float, 1.0)]),
  (a): Tensor => {
    const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "smoothL1Loss");
    const beta = a.beta;
    if (beta < 0)
      throw new RangeError(
        `smoothL1Loss: smooth_l1_loss does not support negative values for beta, got ${beta}`,
      );
    sameShapeOrWarn(a.input, a.target, "smoothL1Loss");
    const d = a.input.sub(a.target);
    const abs = d.abs();
    if (beta === 0) return reduce(abs, r);
    return reduce(where(abs.lt(beta), d.square().mul(0.5 / beta), abs.sub(0.5 * beta)), r);
  },
);

/** `huber_loss(input, target, reduction='mean', delta=1.0)`: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta). */
export const huberLoss = op(
  signature("nn.functional.huberLoss", [inputArg, targetArg, reductionArg, arg("delta", k.float, 1.0)]),
  ({ input, target, reduction, delta }): Tensor => {
    if (delta <= 0)
      throw new RangeError(
        `huberLoss: huber_loss does not support non-positive values for delta, got ${delta}`,
      );
    sameShapeOrWarn(input, target, "huberLoss");
    const d = input.sub(target);
    const a = d.abs();
    return reduce(where(a.lt(delta), d.square().mul(0.5), a.sub(0.5 * delta).mul(delta)), reduction);
  },
);

/** @deprecated the options of `nllLoss`; kept for the module classes' types. */
export interface NllLossOptions extends LossOptions {
  /** Per-class rescaling weight, shape [C]. */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing, also not to the mean's denominator (default -100). */
  ignoreIndex?: number;
}

/** Unreduced NLL and the per-element target weights (0 where ignored); inputs already [N, C, ...]. */
function nllParts(
  logp: Tensor,
  target: Tensor,
  weight: Tensor | null | undefined,
  ignoreIndex: number,
  what: string,
) {
  if (target.isFloatingPoint() || target.dtype === "bool") {
    throw new DTypeError(
      `${what}: expected scalar type Long but found ${pyType(target.dtype)}: expected an integer (int32) class-index target, got ${target.dtype}${what === "crossEntropy" ? " (class probabilities need the input's shape)" : ""}`,
    );
  }
  const C = logp.shape[1];
  const expected = [logp.shape[0], ...logp.shape.slice(2)];
  if (target.ndim !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
    if (target.ndim === 1 && logp.ndim === 2) {
      throw new Error(
        `${what}: Expected input batch_size (${logp.shape[0]}) to match target batch_size (${target.shape[0]}).`,
      );
    }
    throw new Error(`${what}: expected target size ${fmt(expected)}, got ${fmt(target.shape)}`);
  }
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== C)) {
    throw new Error(
      `${what}: weight tensor should be defined either for all ${C} classes or no classes but got weight tensor of shape ${fmt(weight.shape)}`,
    );
  }
  const t = target.to("int32");
  const valid = t.ne(ignoreIndex);
  if (t.backend.readSync) {
    const d = t.data();
    for (let i = 0; i < d.length; i++) {
      if (d[i] !== ignoreIndex && (d[i] < 0 || d[i] >= C))
        throw new Error(`${what}: Target ${d[i]} is out of bounds (${C} classes).`);
    }
  }
  const safe = where(valid, t, 0);
  const picked = logp.gather(1, safe.unsqueeze(1)).squeeze(1);
  let w: Tensor = valid.to(logp.dtype);
  if (weight) w = weight.to(logp.dtype).indexSelect(0, safe.reshape(-1)).reshape(t.shape).mul(w);
  return { loss: picked.neg().mul(w), w, valid };
}

/** PyTorch's scalar type name of a dtype, for messages that read like its own. */
function pyType(dtype: string): string {
  return (
    (
      {
        float32: "Float",
        float64: "Double",
        int64: "Long",
        int32: "Int",
        uint8: "Byte",
        bool: "Bool",
      } as Record<string, string>
    )[dtype] ?? dtype
  );
}

/** Losses over scores or log-probabilities need floating point input (PyTorch: "not implemented for 'Long'"). */
function checkFloatInput(input: Tensor, what: string, kernel: string): void {
  if (!input.isFloatingPoint()) {
    throw new DTypeError(
      `${what}: "${kernel}" not implemented for '${pyType(input.dtype)}': expected a floating point input (expected scalar type Float), got ${input.dtype}`,
    );
  }
}

/** `(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean')` of nllLoss and crossEntropy. */
const classParams = [
  inputArg,
  targetArg,
  weightArg,
  sizeAverageArg,
  ignoreIndexArg,
  reduceArg,
  reductionArg,
] as const;

/**
 * `nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean')`:
 * negative log likelihood of class-index targets given log-probabilities [N, C, ...] (or [C]).
 */
export const nllLoss = op(signature("nn.functional.nllLoss", classParams), (a): Tensor => {
  const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "nllLoss");
  const { input, target } = a;
  checkFloatInput(input, "nllLoss", "nll_loss_out_frame");
  const unbatched = input.ndim === 1;
  const x = unbatched ? input.unsqueeze(0) : input;
  const t = unbatched ? target.reshape(1) : target;
  if (x.ndim < 2) throw new Error(`nllLoss: expected an input of 1 or more dims, got ${fmt(input.shape)}`);
  const { loss, w } = nllParts(x, t, a.weight, a.ignoreIndex, "nllLoss");
  if (r === "none") return unbatched ? loss.reshape([]) : loss;
  if (r === "sum") return loss.sum();
  return loss.sum().div(w.sum());
});

/** @deprecated the options of `crossEntropy`; kept for the module classes' types. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Mix the target with the uniform distribution: (1 - s) target + s / C (default 0). */
  labelSmoothing?: number;
}

/**
 * `cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean',
 * label_smoothing=0.0)`: cross entropy of unnormalised scores [N, C, ...] (or [C]) against class indices (int32,
 * [N, ...]) or class probabilities (float, the input's shape), exactly as PyTorch: weighted "mean" divides by the
 * summed target weights for class indices, by the element count for probabilities.
 */
export const crossEntropy = op(
  signature("nn.functional.crossEntropy", [...classParams, arg("labelSmoothing", k.float, 0.0)]),
  (a): Tensor =>
    crossEntropyImpl(
      a.input,
      a.target,
      a.weight,
      a.ignoreIndex,
      legacyReduction(a.sizeAverage, a.reduce, a.reduction, "crossEntropy"),
      a.labelSmoothing,
    ),
);

function crossEntropyImpl(
  input: Tensor,
  target: Tensor,
  weightArg: Tensor | null,
  ignoreIndex: number,
  r: Reduction,
  ls: number,
): Tensor {
  if (!(ls >= 0 && ls <= 1))
    throw new RangeError(`crossEntropy: label_smoothing must be between 0.0 and 1.0. Got: ${ls}`);
  checkFloatInput(input, "crossEntropy", "log_softmax_lastdim_kernel_impl");
  const unbatched = input.ndim === 1;
  const x = unbatched ? input.unsqueeze(0) : input;
  const probs = input.ndim === target.ndim && input.shape.every((d, i) => d === target.shape[i]);
  const t = unbatched ? target.unsqueeze(0) : target;
  if (x.ndim < 2)
    throw new Error(`crossEntropy: expected an input of 1 or more dims, got ${fmt(input.shape)}`);
  if (!probs && !weightArg && ls === 0 && x.ndim === 2) {
    const fused = fusedCrossEntropy(x, t, ignoreIndex, r);
    if (fused) return unbatched && r === "none" ? fused.reshape([]) : fused;
  }
  const C = x.shape[1];
  const logp = x.logSoftmax(1);
  const cs = x.shape.map((d, i) => (i === 1 ? d : 1));
  const weight = weightArg ? weightArg.to(x.dtype) : null;
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== C)) {
    throw new Error(
      `crossEntropy: weight tensor should be defined either for all ${C} classes or no classes but got weight tensor of shape ${fmt(weight.shape)}`,
    );
  }
  let out: Tensor;
  if (probs) {
    if (!target.isFloatingPoint())
      throw new TypeError(
        `crossEntropy: a target of the input's shape holds probabilities and must be floating point, got ${target.dtype}`,
      );
    if (ignoreIndex >= 0) {
      throw new Error("crossEntropy: ignoreIndex is not supported for floating point (probability) targets");
    }
    const tt = ls > 0 ? t.mul(1 - ls).add(ls / C) : t;
    let prod = logp.mul(tt);
    if (weight) prod = prod.mul(weight.reshape(cs));
    out =
      r === "none"
        ? prod.sum({ dim: 1 }).neg()
        : r === "sum"
          ? prod.sum().neg()
          : prod
              .sum()
              .neg()
              .div(x.numel() / C);
  } else {
    const { loss, w, valid } = nllParts(logp, t, weight, ignoreIndex, "crossEntropy");
    const nll = r === "none" ? loss : r === "sum" ? loss.sum() : loss.sum().div(w.sum());
    if (ls > 0) {
      let smooth = (weight ? logp.mul(weight.reshape(cs)) : logp).sum({ dim: 1 }).neg();
      smooth = smooth.maskedFill(valid.logicalNot(), 0);
      // a weighted mean divides by the summed target weights, as the NLL part does
      const ret =
        r === "none" ? smooth : r === "sum" ? smooth.sum() : smooth.sum().div(weight ? w.sum() : valid.sum());
      out = nll.mul(1 - ls).add(ret.mul(ls / C));
    } else out = nll;
  }
  return unbatched && r === "none" ? out.reshape([]) : out;
}

/** How many `crossEntropy` calls took the fused log-softmax + NLL path (tests check that it is the one taken). */
export const crossEntropyStats = { fused: 0 };

/**
 * The common case, [N, C] scores against in-range class indices with no weight, ignored target or label smoothing,
 * as PyTorch runs it: log-softmax (one backend kernel), one gather, and one backward node for both (the general
 * path records ~10 ops forward and ~5 backward). Its gradient softmax(x) * s - onehot * s (s = g / N for "mean") is
 * what the general path computes, g_nll - exp(logp) * rowsum(g_nll) with g_nll = -s at the target, bit for bit.
 * Returns null where the general path must run (it also raises the errors for bad targets).
 */
function fusedCrossEntropy(x: Tensor, target: Tensor, ignoreIndex: number, r: Reduction): Tensor | null {
  const [n, c] = x.shape;
  if (!x.backend.readSync || target.isFloatingPoint() || target.dtype === "bool") return null;
  if (target.ndim !== 1 || target.shape[0] !== n) return null;
  // int64 (PyTorch's and MNIST's labels) indexes as it is: no int32 copy per step
  const t = target.dtype === "int64" ? target : target.to("int32");
  const d = t.data();
  for (let i = 0; i < n; i++) if (d[i] === ignoreIndex || !(d[i] >= 0 && d[i] < c)) return null;
  const idx = t.unsqueeze(1);
  const logp = noGrad(() => x.logSoftmax(1));
  const loss = noGrad(() => {
    const nll = logp.gather(1, idx).squeeze(1).neg();
    return r === "none" ? nll : r === "sum" ? nll.sum() : nll.sum().div(n);
  });
  crossEntropyStats.fused++;
  return recordOp({
    name: "NllLossBackward0",
    inputs: [x],
    output: loss,
    saved: [logp],
    backward: crossEntropyBackward(logp, idx, r),
  });
}

// made by a function, not written inline (see bceBackward)
function crossEntropyBackward(logp: Tensor, idx: Tensor, r: Reduction) {
  return (g: Tensor) => {
    const s = r === "none" ? g.unsqueeze(1) : r === "sum" ? g : g.div(logp.shape[0]);
    const onehot = zerosLike(logp).scatter_(1, idx, 1);
    // one fused elementwise program: exp(logp) s - onehot s (subtracting 0 off the target keeps the bits)
    return [logp.exp().mul(s).sub(onehot.mul(s))];
  };
}

/** @deprecated the options of `binaryCrossEntropy`; kept for the module classes' types. */
export interface BCEOptions extends LossOptions {
  /** Rescaling weight, broadcast to the input's shape. */
  weight?: Tensor | null;
}

function checkSameSize(input: Tensor, target: Tensor, what: string): void {
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(
      `${what}: Using a target size (${fmt(target.shape)}) that is different to the input size (${fmt(input.shape)}) is not supported. Please ensure they have the same size.`,
    );
  }
}

/**
 * `binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction='mean')`: binary
 * cross entropy of probabilities: -w (t log x + (1 - t) log(1 - x)), each log clamped to >= -100 as in PyTorch
 * (BinaryCrossEntropyBackward0, with PyTorch's derivative (x - t) / max(x (1 - x), 1e-12)).
 */
export const binaryCrossEntropy = op(
  signature("nn.functional.binaryCrossEntropy", [
    inputArg,
    targetArg,
    weightArg,
    sizeAverageArg,
    reduceArg,
    reductionArg,
  ]),
  (a): Tensor =>
    bceImpl(
      a.input,
      a.target,
      a.weight,
      legacyReduction(a.sizeAverage, a.reduce, a.reduction, "binaryCrossEntropy"),
    ),
);

function bceImpl(input: Tensor, target: Tensor, weight: Tensor | null, r: Reduction): Tensor {
  checkSameSize(input, target, "binaryCrossEntropy");
  if (input.backend.readSync && input.numel() > 0) {
    const lo = input.min().item() as number;
    const hi = input.max().item() as number;
    if (!(lo >= 0 && hi <= 1))
      throw new RangeError(
        `binaryCrossEntropy: all elements of input should be between 0 and 1 (got values in [${lo}, ${hi}])`,
      );
  }
  const w = weight;
  const { loss, l0, l1 } = noGrad(() => {
    const l1 = input.log().clamp({ min: -100 });
    const l0 = input.neg().add(1).log().clamp({ min: -100 }); // log(1 - x), as PyTorch (not log1p)
    let l = target.sub(1).mul(l0).sub(target.mul(l1));
    if (w) l = l.mul(w);
    return { loss: l, l0, l1 };
  });
  recordOp({
    name: "BinaryCrossEntropyBackward0",
    inputs: [input, target],
    output: loss,
    saved: [input, target],
    backward: bceBackward(input, target, w, l0, l1),
  });
  return reduce(loss, r);
}

// The derivative closures are made by functions, not written inline: esbuild's keepNames (tsup's build, tsx)
// wraps an inline closure bound to a name in `__name()`, a defineProperty per call.
function bceBackward(input: Tensor, target: Tensor, w: Tensor | null, l0: Tensor, l1: Tensor) {
  return (g: Tensor) => {
    const gw = w ? g.mul(w) : g;
    const denom = input.neg().add(1).mul(input).clamp({ min: 1e-12 });
    return [gw.mul(input.sub(target)).div(denom), gw.mul(l0.sub(l1))];
  };
}

/** @deprecated the options of `binaryCrossEntropyWithLogits`; kept for the module classes' types. */
export interface BCEWithLogitsOptions extends BCEOptions {
  /** Weight of positive examples, broadcast along the last dim (one per class). */
  posWeight?: Tensor | null;
}

/**
 * `binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction='mean',
 * pos_weight=None)`: sigmoid then binary cross entropy, in the numerically stable form PyTorch uses:
 * (1 - t) x + lw (log(1 + exp(-|x|)) + max(-x, 0)) with lw = 1 + (posWeight - 1) t.
 */
export const binaryCrossEntropyWithLogits = op(
  signature("nn.functional.binaryCrossEntropyWithLogits", [
    inputArg,
    targetArg,
    weightArg,
    sizeAverageArg,
    reduceArg,
    reductionArg,
    arg.opt("posWeight", k.tensor),
  ]),
  (a): Tensor =>
    bceWithLogitsImpl(
      a.input,
      a.target,
      a.weight,
      a.posWeight,
      legacyReduction(a.sizeAverage, a.reduce, a.reduction, "binaryCrossEntropyWithLogits"),
    ),
);

function bceWithLogitsImpl(
  input: Tensor,
  target: Tensor,
  weight: Tensor | null,
  posWeight: Tensor | null,
  r: Reduction,
): Tensor {
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(
      `binaryCrossEntropyWithLogits: Target size (${fmtShape(target.shape)}) must be the same as input size (${fmtShape(input.shape)})`,
    );
  }
  const w = weight;
  const pw = posWeight;
  const { loss, sp } = noGrad(() => {
    // softplus(-x) = log(1 + exp(-x)), computed stably
    const maxVal = input.neg().clamp({ min: 0 });
    const sp = maxVal.neg().exp().add(input.neg().sub(maxVal).exp()).log().add(maxVal);
    const lw = pw ? pw.sub(1).mul(target).add(1) : null;
    let l = target
      .neg()
      .add(1)
      .mul(input)
      .add(lw ? lw.mul(sp) : sp);
    if (w) l = l.mul(w);
    return { loss: l, sp };
  });
  recordOp({
    name: "BinaryCrossEntropyWithLogitsBackward0",
    inputs: [input, target],
    output: loss,
    saved: [input, target],
    backward: bceWithLogitsBackward(input, target, w, pw, sp),
  });
  return reduce(loss, r);
}

function bceWithLogitsBackward(
  input: Tensor,
  target: Tensor,
  w: Tensor | null,
  pw: Tensor | null,
  sp: Tensor,
) {
  return (g: Tensor) => {
    const gw = w ? g.mul(w) : g;
    const s = input.sigmoid();
    if (pw) {
      const pt = pw.mul(target);
      return [gw.mul(pt.add(1).sub(target).mul(s).sub(pt)), gw.mul(input.neg().add(pw.sub(1).mul(sp)))];
    }
    return [gw.mul(s.sub(target)), gw.mul(input.neg())];
  };
}

/** @deprecated the options of `klDiv`; kept for the module classes' types. */
export interface KLDivOptions {
  /** "mean" (default; the mean over all elements, as PyTorch), "batchmean" (sum / batch size: the true KL), "sum" or "none". */
  reduction?: Reduction | "batchmean";
  /** The target is given as log-probabilities. */
  logTarget?: boolean;
}

/**
 * `kl_div(input, target, size_average=None, reduce=None, reduction='mean', log_target=False)`: KL divergence with
 * log-probability `input`: t (log t - input), 0 where t = 0 (xlogy), or exp(t) (t - input) with logTarget.
 * "mean" is the mean over all elements, as PyTorch (which warns); "batchmean" (sum / batch size) is the true KL.
 */
export const klDiv = op(
  signature("nn.functional.klDiv", [
    inputArg,
    targetArg,
    sizeAverageArg,
    reduceArg,
    arg("reduction", k.oneOf("mean", "batchmean", "sum", "none"), "mean"),
    arg("logTarget", k.bool, false),
  ]),
  (a): Tensor =>
    klDivImpl(a.input, a.target, legacyReduction(a.sizeAverage, a.reduce, a.reduction, "klDiv"), a.logTarget),
);

function klDivImpl(input: Tensor, target: Tensor, r: Reduction | "batchmean", logTarget: boolean): Tensor {
  let out: Tensor;
  if (logTarget) out = target.exp().mul(target.sub(input));
  else {
    const zero = target.eq(0);
    const xlogy = where(zero, 0, target.mul(where(zero, 1, target).log()));
    out = xlogy.sub(target.mul(input));
  }
  if (r === "batchmean") return input.ndim === 0 ? out.sum() : out.sum().div(input.shape[0]);
  return reduce(out, r);
}

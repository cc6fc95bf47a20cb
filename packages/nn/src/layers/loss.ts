/**
 * Loss modules, constructed with PyTorch's signatures: `new nn.CrossEntropyLoss({ labelSmoothing: 0.1 })` or
 * `new nn.CrossEntropyLoss(weight)`, then `criterion(output, target)`. The deprecated `size_average` and `reduce`
 * keep their positions and accept only null (use `reduction`). Tensor arguments (weight, posWeight) are
 * registered as buffers, as PyTorch does, so `to()` moves them.
 */
import { arg, type CallsOf, type Kind, k, signature, type Tensor } from "@cinder/tensor";
import * as F from "../functional/loss";
import * as G from "../functional/loss-more";
import { buffer, Module } from "../module";
import type { Reduction } from "../util";
import { legacyArg, parseBy, reductionArg } from "./args";
import { PairwiseDistance } from "./distance";

const weightArg = arg.opt("weight", k.tensor);
const sizeAverageArg = legacyArg("sizeAverage");
const reduceArg = legacyArg("reduce");
const ignoreIndexArg = arg("ignoreIndex", k.int, -100);
/** `(size_average=None, reduce=None, reduction='mean')`. */
const simpleLoss = [sizeAverageArg, reduceArg, reductionArg] as const;

/** Shared by the losses of `(size_average=None, reduce=None, reduction='mean')`. */
abstract class ReductionLoss extends Module {
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof L1_LOSS>) {
    super();
    this.reduction = parseBy<typeof L1_LOSS>(new.target, args).reduction;
  }
}
/** Shared by the losses of `(weight=None, size_average=None, reduce=None, reduction='mean')`. */
abstract class WeightedLoss extends Module {
  weight: Tensor | null;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof BCE_LOSS>) {
    super();
    const a = parseBy<typeof BCE_LOSS>(new.target, args);
    this.weight = a.weight ? buffer(a.weight) : null;
    this.reduction = a.reduction;
  }
}
/** Shared by the losses of `(margin, size_average=None, reduce=None, reduction='mean')`. */
abstract class MarginLoss extends Module {
  readonly margin: number;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof MARGIN_RANKING_LOSS>) {
    super();
    const a = parseBy<typeof MARGIN_RANKING_LOSS>(new.target, args);
    this.margin = a.margin;
    this.reduction = a.reduction;
  }
}

const L1_LOSS = signature("nn.L1Loss", simpleLoss);
/** `L1Loss(size_average=None, reduce=None, reduction='mean')`: mean absolute error. */
export class L1Loss extends ReductionLoss {
  static override readonly name: string = "L1Loss";
  static readonly signature = L1_LOSS;
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, { reduction: this.reduction });
  }
}

const MSE_LOSS = signature("nn.MSELoss", simpleLoss);
/** `MSELoss(size_average=None, reduce=None, reduction='mean')`: mean squared error. */
export class MSELoss extends ReductionLoss {
  static override readonly name: string = "MSELoss";
  static readonly signature = MSE_LOSS;
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

const SMOOTH_L1_LOSS = signature("nn.SmoothL1Loss", [...simpleLoss, arg("beta", k.float, 1.0)]);
/** `SmoothL1Loss(size_average=None, reduce=None, reduction='mean', beta=1.0)`. */
export class SmoothL1Loss extends Module {
  static override readonly name: string = "SmoothL1Loss";
  static readonly signature = SMOOTH_L1_LOSS;
  readonly reduction: Reduction;
  readonly beta: number;
  constructor(...args: CallsOf<typeof SMOOTH_L1_LOSS>) {
    super();
    const a = SMOOTH_L1_LOSS.parse(args);
    this.reduction = a.reduction;
    this.beta = a.beta;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

const HUBER_LOSS = signature("nn.HuberLoss", [reductionArg, arg("delta", k.float, 1.0)]);
/** `HuberLoss(reduction='mean', delta=1.0)`. */
export class HuberLoss extends Module {
  static override readonly name: string = "HuberLoss";
  static readonly signature = HUBER_LOSS;
  readonly reduction: Reduction;
  readonly delta: number;
  constructor(...args: CallsOf<typeof HUBER_LOSS>) {
    super();
    const a = HUBER_LOSS.parse(args);
    this.reduction = a.reduction;
    this.delta = a.delta;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/** `(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean')` of NLLLoss, CrossEntropyLoss. */
const classLoss = [weightArg, sizeAverageArg, ignoreIndexArg, reduceArg, reductionArg] as const;
const NLL_LOSS = signature("nn.NLLLoss", classLoss);
/** `NLLLoss(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean')`. */
export class NLLLoss extends Module {
  static override readonly name: string = "NLLLoss";
  static readonly signature = NLL_LOSS;
  weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof NLL_LOSS>) {
    super();
    const a = NLL_LOSS.parse(args);
    this.weight = a.weight ? buffer(a.weight) : null;
    this.ignoreIndex = a.ignoreIndex;
    this.reduction = a.reduction;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
    });
  }
}

const CROSS_ENTROPY_LOSS = signature("nn.CrossEntropyLoss", [
  ...classLoss,
  arg("labelSmoothing", k.float, 0.0),
]);
/**
 * `CrossEntropyLoss(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean',
 * label_smoothing=0.0)`: log-softmax then NLL; targets are class indices (int32) or class probabilities.
 */
export class CrossEntropyLoss extends Module {
  static override readonly name: string = "CrossEntropyLoss";
  static readonly signature = CROSS_ENTROPY_LOSS;
  weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  constructor(...args: CallsOf<typeof CROSS_ENTROPY_LOSS>) {
    super();
    const a = CROSS_ENTROPY_LOSS.parse(args);
    this.weight = a.weight ? buffer(a.weight) : null;
    this.ignoreIndex = a.ignoreIndex;
    this.reduction = a.reduction;
    this.labelSmoothing = a.labelSmoothing;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

const BCE_LOSS = signature("nn.BCELoss", [weightArg, ...simpleLoss]);
/** `BCELoss(weight=None, size_average=None, reduce=None, reduction='mean')`: binary cross entropy of probabilities. */
export class BCELoss extends WeightedLoss {
  static override readonly name: string = "BCELoss";
  static readonly signature = BCE_LOSS;
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

const BCE_WITH_LOGITS_LOSS = signature("nn.BCEWithLogitsLoss", [
  weightArg,
  ...simpleLoss,
  arg.opt("posWeight", k.tensor),
]);
/** `BCEWithLogitsLoss(weight=None, size_average=None, reduce=None, reduction='mean', pos_weight=None)`. */
export class BCEWithLogitsLoss extends Module {
  static override readonly name: string = "BCEWithLogitsLoss";
  static readonly signature = BCE_WITH_LOGITS_LOSS;
  static override stateNames = { posWeight: "pos_weight" };
  weight: Tensor | null;
  readonly reduction: Reduction;
  posWeight: Tensor | null;
  constructor(...args: CallsOf<typeof BCE_WITH_LOGITS_LOSS>) {
    super();
    const a = BCE_WITH_LOGITS_LOSS.parse(args);
    this.weight = a.weight ? buffer(a.weight) : null;
    this.reduction = a.reduction;
    this.posWeight = a.posWeight ? buffer(a.posWeight) : null;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, {
      weight: this.weight,
      posWeight: this.posWeight,
      reduction: this.reduction,
    });
  }
}

const KL_DIV_LOSS = signature("nn.KLDivLoss", [
  sizeAverageArg,
  reduceArg,
  arg("reduction", k.oneOf("mean", "batchmean", "sum", "none"), "mean"),
  arg("logTarget", k.bool, false),
]);
/** `KLDivLoss(size_average=None, reduce=None, reduction='mean', log_target=False)`. */
export class KLDivLoss extends Module {
  static override readonly name: string = "KLDivLoss";
  static readonly signature = KL_DIV_LOSS;
  readonly reduction: Reduction | "batchmean";
  readonly logTarget: boolean;
  constructor(...args: CallsOf<typeof KL_DIV_LOSS>) {
    super();
    const a = KL_DIV_LOSS.parse(args);
    this.reduction = a.reduction;
    this.logTarget = a.logTarget;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}

const SOFT_MARGIN_LOSS = signature("nn.SoftMarginLoss", simpleLoss);
/** `SoftMarginLoss(size_average=None, reduce=None, reduction='mean')`: log(1 + exp(-y x)). */
export class SoftMarginLoss extends ReductionLoss {
  static override readonly name: string = "SoftMarginLoss";
  static readonly signature = SOFT_MARGIN_LOSS;
  override forward(input: Tensor, target: Tensor): Tensor {
    return G.softMarginLoss(input, target, { reduction: this.reduction });
  }
}

const marginArg = (dflt: number) => arg("margin", k.float, dflt);

const MARGIN_RANKING_LOSS = signature("nn.MarginRankingLoss", [marginArg(0.0), ...simpleLoss]);
/** `MarginRankingLoss(margin=0.0, size_average=None, reduce=None, reduction='mean')`: max(0, -y (x1 - x2) + margin). */
export class MarginRankingLoss extends MarginLoss {
  static override readonly name: string = "MarginRankingLoss";
  static readonly signature = MARGIN_RANKING_LOSS;
  override forward(input1: Tensor, input2: Tensor, target: Tensor): Tensor {
    return G.marginRankingLoss(input1, input2, target, { margin: this.margin, reduction: this.reduction });
  }
}

const HINGE_EMBEDDING_LOSS = signature("nn.HingeEmbeddingLoss", [marginArg(1.0), ...simpleLoss]);
/** `HingeEmbeddingLoss(margin=1.0, size_average=None, reduce=None, reduction='mean')`. */
export class HingeEmbeddingLoss extends MarginLoss {
  static override readonly name: string = "HingeEmbeddingLoss";
  static readonly signature = HINGE_EMBEDDING_LOSS;
  override forward(input: Tensor, target: Tensor): Tensor {
    return G.hingeEmbeddingLoss(input, target, { margin: this.margin, reduction: this.reduction });
  }
}

const COSINE_EMBEDDING_LOSS = signature("nn.CosineEmbeddingLoss", [marginArg(0.0), ...simpleLoss]);
/** `CosineEmbeddingLoss(margin=0.0, size_average=None, reduce=None, reduction='mean')`. */
export class CosineEmbeddingLoss extends MarginLoss {
  static override readonly name: string = "CosineEmbeddingLoss";
  static readonly signature = COSINE_EMBEDDING_LOSS;
  override forward(input1: Tensor, input2: Tensor, target: Tensor): Tensor {
    return G.cosineEmbeddingLoss(input1, input2, target, { margin: this.margin, reduction: this.reduction });
  }
}

const MULTILABEL_SOFT_MARGIN_LOSS = signature("nn.MultiLabelSoftMarginLoss", [weightArg, ...simpleLoss]);
/** `MultiLabelSoftMarginLoss(weight=None, size_average=None, reduce=None, reduction='mean')`. */
export class MultiLabelSoftMarginLoss extends WeightedLoss {
  static override readonly name: string = "MultiLabelSoftMarginLoss";
  static readonly signature = MULTILABEL_SOFT_MARGIN_LOSS;
  override forward(input: Tensor, target: Tensor): Tensor {
    return G.multilabelSoftMarginLoss(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

const POISSON_NLL_LOSS = signature("nn.PoissonNLLLoss", [
  arg("logInput", k.bool, true),
  arg("full", k.bool, false),
  sizeAverageArg,
  arg("eps", k.float, 1e-8),
  reduceArg,
  reductionArg,
]);
/** `PoissonNLLLoss(log_input=True, full=False, size_average=None, eps=1e-08, reduce=None, reduction='mean')`. */
export class PoissonNLLLoss extends Module {
  static override readonly name: string = "PoissonNLLLoss";
  static readonly signature = POISSON_NLL_LOSS;
  readonly logInput: boolean;
  readonly full: boolean;
  readonly eps: number;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof POISSON_NLL_LOSS>) {
    super();
    const a = POISSON_NLL_LOSS.parse(args);
    this.logInput = a.logInput;
    this.full = a.full;
    this.eps = a.eps;
    this.reduction = a.reduction;
  }
  override forward(logInput: Tensor, target: Tensor): Tensor {
    return G.poissonNllLoss(logInput, target, {
      logInput: this.logInput,
      full: this.full,
      eps: this.eps,
      reduction: this.reduction,
    });
  }
}

const GAUSSIAN_NLL_LOSS = signature(
  "nn.GaussianNLLLoss",
  [],
  [arg("full", k.bool, false), arg("eps", k.float, 1e-6), reductionArg],
);
/** `GaussianNLLLoss(*, full=False, eps=1e-06, reduction='mean')`; `forward(input, target, var)`. */
export class GaussianNLLLoss extends Module {
  static override readonly name: string = "GaussianNLLLoss";
  static readonly signature = GAUSSIAN_NLL_LOSS;
  readonly full: boolean;
  readonly eps: number;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof GAUSSIAN_NLL_LOSS>) {
    super();
    const a = GAUSSIAN_NLL_LOSS.parse(args);
    this.full = a.full;
    this.eps = a.eps;
    this.reduction = a.reduction;
  }
  override forward(input: Tensor, target: Tensor, variance: Tensor): Tensor {
    return G.gaussianNllLoss(input, target, variance, {
      full: this.full,
      eps: this.eps,
      reduction: this.reduction,
    });
  }
}

const TRIPLET_MARGIN_LOSS = signature("nn.TripletMarginLoss", [
  marginArg(1.0),
  arg("p", k.float, 2.0),
  arg("eps", k.float, 1e-6),
  arg("swap", k.bool, false),
  ...simpleLoss,
]);
/** `TripletMarginLoss(margin=1.0, p=2.0, eps=1e-06, swap=False, size_average=None, reduce=None, reduction='mean')`. */
export class TripletMarginLoss extends Module {
  static override readonly name: string = "TripletMarginLoss";
  static readonly signature = TRIPLET_MARGIN_LOSS;
  readonly margin: number;
  readonly p: number;
  readonly eps: number;
  readonly swap: boolean;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof TRIPLET_MARGIN_LOSS>) {
    super();
    const a = TRIPLET_MARGIN_LOSS.parse(args);
    this.margin = a.margin;
    this.p = a.p;
    this.eps = a.eps;
    this.swap = a.swap;
    this.reduction = a.reduction;
  }
  override forward(anchor: Tensor, positive: Tensor, negative: Tensor): Tensor {
    return G.tripletMarginLoss(anchor, positive, negative, {
      margin: this.margin,
      p: this.p,
      eps: this.eps,
      swap: this.swap,
      reduction: this.reduction,
    });
  }
}

const MULTI_MARGIN_LOSS = signature("nn.MultiMarginLoss", [
  arg("p", k.int, 1),
  marginArg(1.0),
  weightArg,
  ...simpleLoss,
]);
/** `MultiMarginLoss(p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction='mean')`. */
export class MultiMarginLoss extends Module {
  static override readonly name: string = "MultiMarginLoss";
  static readonly signature = MULTI_MARGIN_LOSS;
  readonly p: number;
  readonly margin: number;
  weight: Tensor | null;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof MULTI_MARGIN_LOSS>) {
    super();
    const a = MULTI_MARGIN_LOSS.parse(args);
    if (a.p !== 1 && a.p !== 2) throw new RangeError("MultiMarginLoss: only p == 1 and p == 2 supported");
    this.p = a.p;
    this.margin = a.margin;
    this.weight = a.weight ? buffer(a.weight) : null;
    this.reduction = a.reduction;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return G.multiMarginLoss(input, target, {
      p: this.p,
      margin: this.margin,
      weight: this.weight,
      reduction: this.reduction,
    });
  }
}

const MULTILABEL_MARGIN_LOSS = signature("nn.MultiLabelMarginLoss", simpleLoss);
/** `MultiLabelMarginLoss(size_average=None, reduce=None, reduction='mean')`: targets are class indices, -1 ends them. */
export class MultiLabelMarginLoss extends ReductionLoss {
  static override readonly name: string = "MultiLabelMarginLoss";
  static readonly signature = MULTILABEL_MARGIN_LOSS;
  override forward(input: Tensor, target: Tensor): Tensor {
    return G.multilabelMarginLoss(input, target, { reduction: this.reduction });
  }
}

const CTC_LOSS = signature("nn.CTCLoss", [
  arg("blank", k.int, 0),
  reductionArg,
  arg("zeroInfinity", k.bool, false),
]);
/**
 * `CTCLoss(blank=0, reduction='mean', zero_infinity=False)`: the connectionist temporal classification loss;
 * `forward(logProbs, targets, inputLengths, targetLengths)`.
 */
export class CTCLoss extends Module {
  static override readonly name: string = "CTCLoss";
  static readonly signature = CTC_LOSS;
  readonly blank: number;
  readonly reduction: Reduction;
  readonly zeroInfinity: boolean;
  constructor(...args: CallsOf<typeof CTC_LOSS>) {
    super();
    const a = CTC_LOSS.parse(args);
    this.blank = a.blank;
    this.reduction = a.reduction;
    this.zeroInfinity = a.zeroInfinity;
  }
  override forward(
    logProbs: Tensor,
    targets: Tensor,
    inputLengths: Tensor | readonly number[],
    targetLengths: Tensor | readonly number[],
  ): Tensor {
    return G.ctcLoss(logProbs, targets, inputLengths, targetLengths, {
      blank: this.blank,
      reduction: this.reduction,
      zeroInfinity: this.zeroInfinity,
    });
  }
}

type Distance = (x1: Tensor, x2: Tensor) => Tensor;
const TRIPLET_MARGIN_WITH_DISTANCE_LOSS = signature(
  "nn.TripletMarginWithDistanceLoss",
  [],
  [
    arg.opt("distanceFunction", k.fn as Kind<unknown> as Kind<Distance>),
    marginArg(1.0),
    arg("swap", k.bool, false),
    reductionArg,
  ],
);
/**
 * `TripletMarginWithDistanceLoss(*, distance_function=None, margin=1.0, swap=False, reduction='mean')`: the triplet
 * loss under any distance (a function or a module; PairwiseDistance by default, a child module then).
 */
export class TripletMarginWithDistanceLoss extends Module {
  static override readonly name: string = "TripletMarginWithDistanceLoss";
  static readonly signature = TRIPLET_MARGIN_WITH_DISTANCE_LOSS;
  static override stateNames = { distanceFunction: "distance_function" };
  readonly distanceFunction: Distance;
  readonly margin: number;
  readonly swap: boolean;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof TRIPLET_MARGIN_WITH_DISTANCE_LOSS>) {
    super();
    const a = TRIPLET_MARGIN_WITH_DISTANCE_LOSS.parse(args);
    this.distanceFunction = a.distanceFunction ?? (new PairwiseDistance() as unknown as Distance);
    this.margin = a.margin;
    this.swap = a.swap;
    this.reduction = a.reduction;
  }
  override forward(anchor: Tensor, positive: Tensor, negative: Tensor): Tensor {
    return G.tripletMarginWithDistanceLoss(anchor, positive, negative, {
      distanceFunction: this.distanceFunction,
      margin: this.margin,
      swap: this.swap,
      reduction: this.reduction,
    });
  }
}

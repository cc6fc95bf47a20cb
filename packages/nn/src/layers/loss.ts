/**
 * Loss modules, constructed with PyTorch's signatures: `new nn.CrossEntropyLoss({ labelSmoothing: 0.1 })` or
 * `new nn.CrossEntropyLoss(weight)`, then `criterion(output, target)`. The deprecated `size_average` and `reduce`
 * keep their positions and accept only null (use `reduction`). Tensor arguments (weight, posWeight) are
 * registered as buffers, as PyTorch does, so `to()` moves them.
 */
import { arg, type CallsOf, k, signature, type Tensor } from "@cinder/tensor";
import * as F from "../functional/loss";
import { buffer, Module } from "../module";
import type { Reduction } from "../util";
import { legacyArg, reductionArg } from "./args";

const weightArg = arg.opt("weight", k.tensor);
const sizeAverageArg = legacyArg("sizeAverage");
const reduceArg = legacyArg("reduce");
const ignoreIndexArg = arg("ignoreIndex", k.int, -100);
/** `(size_average=None, reduce=None, reduction='mean')`. */
const simpleLoss = [sizeAverageArg, reduceArg, reductionArg] as const;

const L1_LOSS = signature("nn.L1Loss", simpleLoss);
/** `L1Loss(size_average=None, reduce=None, reduction='mean')`: mean absolute error. */
export class L1Loss extends Module {
  static readonly signature = L1_LOSS;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof L1_LOSS>) {
    super();
    this.reduction = L1_LOSS.parse(args).reduction;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, { reduction: this.reduction });
  }
}

const MSE_LOSS = signature("nn.MSELoss", simpleLoss);
/** `MSELoss(size_average=None, reduce=None, reduction='mean')`: mean squared error. */
export class MSELoss extends Module {
  static readonly signature = MSE_LOSS;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof MSE_LOSS>) {
    super();
    this.reduction = MSE_LOSS.parse(args).reduction;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

const SMOOTH_L1_LOSS = signature("nn.SmoothL1Loss", [...simpleLoss, arg("beta", k.float, 1.0)]);
/** `SmoothL1Loss(size_average=None, reduce=None, reduction='mean', beta=1.0)`. */
export class SmoothL1Loss extends Module {
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

const NLL_LOSS = signature("nn.NLLLoss", [
  weightArg,
  sizeAverageArg,
  ignoreIndexArg,
  reduceArg,
  reductionArg,
]);
/** `NLLLoss(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean')`. */
export class NLLLoss extends Module {
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
  weightArg,
  sizeAverageArg,
  ignoreIndexArg,
  reduceArg,
  reductionArg,
  arg("labelSmoothing", k.float, 0.0),
]);
/**
 * `CrossEntropyLoss(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean',
 * label_smoothing=0.0)`: log-softmax then NLL; targets are class indices (int32) or class probabilities.
 */
export class CrossEntropyLoss extends Module {
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
export class BCELoss extends Module {
  static readonly signature = BCE_LOSS;
  weight: Tensor | null;
  readonly reduction: Reduction;
  constructor(...args: CallsOf<typeof BCE_LOSS>) {
    super();
    const a = BCE_LOSS.parse(args);
    this.weight = a.weight ? buffer(a.weight) : null;
    this.reduction = a.reduction;
  }
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

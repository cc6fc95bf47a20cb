/**
 * Loss modules: `new nn.CrossEntropyLoss({ labelSmoothing: 0.1 })`, then `criterion(output, target)`.
 * Tensor options (weight, posWeight) are registered as buffers, as PyTorch does, so `to()` moves them.
 */
import type { Tensor } from "@cinder/tensor";
import * as F from "../functional/loss";
import { buffer, Module } from "../module";
import type { Reduction } from "../util";

abstract class Loss extends Module {
  readonly reduction: Reduction;
  constructor(opts: F.LossOptions = {}) {
    super();
    this.reduction = opts.reduction ?? "mean";
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
}

export class MSELoss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

export class L1Loss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, { reduction: this.reduction });
  }
}

export class SmoothL1Loss extends Loss {
  readonly beta: number;
  constructor(opts: F.LossOptions & { beta?: number } = {}) {
    super(opts);
    this.beta = opts.beta ?? 1;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

export class HuberLoss extends Loss {
  readonly delta: number;
  constructor(opts: F.LossOptions & { delta?: number } = {}) {
    super(opts);
    this.delta = opts.delta ?? 1;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

export class NLLLoss extends Loss {
  weight: Tensor | null;
  readonly ignoreIndex: number;
  constructor(opts: F.NllLossOptions = {}) {
    super(opts);
    this.weight = opts.weight ? buffer(opts.weight) : null;
    this.ignoreIndex = opts.ignoreIndex ?? -100;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
    });
  }
}

/** Log-softmax then NLL; targets are class indices (int32) or class probabilities (the input's shape). */
export class CrossEntropyLoss extends Loss {
  weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(opts: F.CrossEntropyOptions = {}) {
    super(opts);
    this.weight = opts.weight ? buffer(opts.weight) : null;
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.labelSmoothing = opts.labelSmoothing ?? 0;
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

export class BCELoss extends Loss {
  weight: Tensor | null;
  constructor(opts: F.BCEOptions = {}) {
    super(opts);
    this.weight = opts.weight ? buffer(opts.weight) : null;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends Loss {
  weight: Tensor | null;
  posWeight: Tensor | null;
  static override stateNames = { posWeight: "pos_weight" };
  constructor(opts: F.BCEWithLogitsOptions = {}) {
    super(opts);
    this.weight = opts.weight ? buffer(opts.weight) : null;
    this.posWeight = opts.posWeight ? buffer(opts.posWeight) : null;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, {
      weight: this.weight,
      posWeight: this.posWeight,
      reduction: this.reduction,
    });
  }
}

export class KLDivLoss extends Module {
  readonly reduction: Reduction | "batchmean";
  readonly logTarget: boolean;
  constructor(opts: F.KLDivOptions = {}) {
    super();
    this.reduction = opts.reduction ?? "mean";
    this.logTarget = opts.logTarget ?? false;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}

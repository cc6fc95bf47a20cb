/** The step-based schedulers, each its chainable `getLr` and, where PyTorch has one, its closed form. */
import { arg, type CallsOf, k } from "@cinder/tensor";
import { checkPositiveInt, LRScheduler, pyMod, schedulerSignature } from "./base";

/** Options every step-based scheduler takes. */
export interface SchedulerOptions {
  /** Index of the last epoch when resuming (default -1: start). */
  lastEpoch?: number;
  /** Print every lr change (default false). */
  verbose?: boolean;
}

/** `StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1, verbose=False)`. */
const STEP_LR = schedulerSignature("StepLR", [arg("stepSize", k.int), arg("gamma", k.float, 0.1)]);
/** `MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1, verbose=False)`. */
const MULTI_STEP_LR = schedulerSignature("MultiStepLR", [
  arg("milestones", k.ints),
  arg("gamma", k.float, 0.1),
]);
/** `ExponentialLR(optimizer, gamma, last_epoch=-1, verbose=False)`. */
const EXPONENTIAL_LR = schedulerSignature("ExponentialLR", [arg("gamma", k.float)]);
/**
 * `CosineAnnealingLR(optimizer, T_max, eta_min=0, last_epoch=-1, verbose=False)`; PyTorch's `T_max` is `tMax`
 * (camelCase cannot keep the capital).
 */
const COSINE_ANNEALING_LR = schedulerSignature("CosineAnnealingLR", [
  arg("tMax", k.int),
  arg("etaMin", k.float, 0),
]);
/** `LambdaLR(optimizer, lr_lambda, last_epoch=-1, verbose=False)`. */
const LAMBDA_LR = schedulerSignature("LambdaLR", [
  arg(
    "lrLambda",
    k.test<LrLambda | readonly LrLambda[]>(
      "a function or a list of functions (one per parameter group)",
      (v) => typeof v === "function" || (Array.isArray(v) && v.every((f) => typeof f === "function")),
    ),
  ),
]);

export interface StepLROptions extends SchedulerOptions {
  /** Decay every `stepSize` steps. */
  stepSize: number;
  /** Multiplicative factor (default 0.1). */
  gamma?: number;
}

/** Multiply each group's lr by `gamma` every `stepSize` steps (torch.optim.lr_scheduler.StepLR). */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  static readonly signature = STEP_LR;
  constructor(...args: CallsOf<typeof STEP_LR>) {
    const a = STEP_LR.parse(args);
    super(a.optimizer, a.lastEpoch, a.verbose);
    checkPositiveInt("StepLR", "stepSize", a.stepSize);
    this.stepSize = a.stepSize;
    this.gamma = a.gamma;
    this.initialStep();
  }
  getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((lr) => lr * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

export interface MultiStepLROptions extends SchedulerOptions {
  /** Steps at which to decay; a milestone listed twice decays twice. */
  milestones: readonly number[];
  /** Multiplicative factor (default 0.1). */
  gamma?: number;
}

/** Multiply each group's lr by `gamma` at each milestone (torch.optim.lr_scheduler.MultiStepLR). */
export class MultiStepLR extends LRScheduler {
  /** Sorted; repeats count (PyTorch's Counter). */
  milestones: number[];
  gamma: number;
  static readonly signature = MULTI_STEP_LR;
  constructor(...args: CallsOf<typeof MULTI_STEP_LR>) {
    const a = MULTI_STEP_LR.parse(args);
    super(a.optimizer, a.lastEpoch, a.verbose);
    this.milestones = [...a.milestones].sort((x, y) => x - y);
    this.gamma = a.gamma;
    this.initialStep();
  }
  getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma ** hits);
  }
  protected override closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((lr) => lr * this.gamma ** passed);
  }
}

export interface ExponentialLROptions extends SchedulerOptions {
  /** Multiplicative factor per step. */
  gamma: number;
}

/** Multiply each group's lr by `gamma` every step (torch.optim.lr_scheduler.ExponentialLR). */
export class ExponentialLR extends LRScheduler {
  gamma: number;
  static readonly signature = EXPONENTIAL_LR;
  constructor(...args: CallsOf<typeof EXPONENTIAL_LR>) {
    const a = EXPONENTIAL_LR.parse(args);
    super(a.optimizer, a.lastEpoch, a.verbose);
    this.gamma = a.gamma;
    this.initialStep();
  }
  getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((lr) => lr * this.gamma ** this.lastEpoch);
  }
}

export interface CosineAnnealingLROptions extends SchedulerOptions {
  /** Half-period of the cosine, in steps (PyTorch's T_max). */
  tMax: number;
  /** Minimum lr (PyTorch's eta_min, default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `tMax` steps, and back up after (SGDR without restarts;
 * torch.optim.lr_scheduler.CosineAnnealingLR). `step()` uses PyTorch's recursive (chainable) form.
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;
  static readonly signature = COSINE_ANNEALING_LR;
  constructor(...args: CallsOf<typeof COSINE_ANNEALING_LR>) {
    const a = COSINE_ANNEALING_LR.parse(args);
    super(a.optimizer, a.lastEpoch, a.verbose);
    checkPositiveInt("CosineAnnealingLR", "tMax", a.tMax);
    this.tMax = a.tMax;
    this.etaMin = a.etaMin;
    this.initialStep();
  }
  getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return groups.map((g) => g.lr);
    if (this._stepCount === 1 && e > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if (pyMod(e - 1 - T, 2 * T) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return groups.map(
      (g) =>
        ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) +
        etaMin,
    );
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map(
      (base) =>
        this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2,
    );
  }
}

/** A multiplicative factor of the initial lr, given the step index. */
export type LrLambda = (epoch: number) => number;

export interface LambdaLROptions extends SchedulerOptions {
  /** One function for all groups, or one per group. */
  lrLambda: LrLambda | readonly LrLambda[];
}

/**
 * Each group's lr is its initial lr times `lrLambda(step)` (torch.optim.lr_scheduler.LambdaLR):
 * `new LambdaLR(opt, (e) => 0.95 ** e)`, `new LambdaLR(opt, [f, g])` or `new LambdaLR(opt, { lrLambda: f })`. The lambdas are not part of
 * the state dict.
 */
export class LambdaLR extends LRScheduler {
  lrLambdas: LrLambda[];
  static readonly signature = LAMBDA_LR;
  constructor(...args: CallsOf<typeof LAMBDA_LR>) {
    const a = LAMBDA_LR.parse(args);
    super(a.optimizer, a.lastEpoch, a.verbose);
    const n = a.optimizer.paramGroups.length;
    const lrLambda = a.lrLambda;
    if (Array.isArray(lrLambda)) {
      if (lrLambda.length !== n)
        throw new RangeError(
          `LambdaLR: expected ${n} lrLambdas (one per parameter group), but got ${lrLambda.length}`,
        );
      this.lrLambdas = [...lrLambda];
    } else this.lrLambdas = Array.from({ length: n }, () => lrLambda as LrLambda);
    this.initialStep();
  }
  getLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.lrLambdas[i](this.lastEpoch));
  }
}

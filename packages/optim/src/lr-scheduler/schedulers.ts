/** The step-based schedulers, each its chainable `getLr` and, where PyTorch has one, its closed form. */
import type { Optimizer } from "../optimizer";
import { describe } from "../optimizer";
import { checkPositiveInt, LRScheduler, pyMod } from "./base";

/** Options every step-based scheduler takes. */
export interface SchedulerOptions {
  /** Index of the last epoch when resuming (default -1: start). */
  lastEpoch?: number;
}

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
  constructor(optimizer: Optimizer, options: StepLROptions) {
    super(optimizer, options?.lastEpoch);
    checkPositiveInt("StepLR", "stepSize", options.stepSize);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
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
  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    super(optimizer, options?.lastEpoch);
    if (!Array.isArray(options.milestones)) {
      throw new TypeError(
        `MultiStepLR: expected milestones to be an array of step indices, got ${describe(options.milestones)}`,
      );
    }
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
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
  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    super(optimizer, options?.lastEpoch);
    if (typeof options.gamma !== "number")
      throw new TypeError(`ExponentialLR: expected gamma to be a number, got ${describe(options.gamma)}`);
    this.gamma = options.gamma;
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
  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super(optimizer, options?.lastEpoch);
    checkPositiveInt("CosineAnnealingLR", "tMax", options.tMax);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
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
 * `new LambdaLR(opt, (e) => 0.95 ** e)` or `new LambdaLR(opt, { lrLambda: [f, g] })`. The lambdas are not part of
 * the state dict.
 */
export class LambdaLR extends LRScheduler {
  lrLambdas: LrLambda[];
  constructor(optimizer: Optimizer, options: LrLambda | readonly LrLambda[] | LambdaLROptions) {
    const o: LambdaLROptions =
      typeof options === "function" || Array.isArray(options)
        ? { lrLambda: options as LrLambda }
        : (options as LambdaLROptions);
    super(optimizer, o?.lastEpoch);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(o.lrLambda)) {
      if (o.lrLambda.length !== n)
        throw new RangeError(
          `LambdaLR: expected ${n} lrLambdas (one per parameter group), but got ${o.lrLambda.length}`,
        );
      this.lrLambdas = [...o.lrLambda];
    } else if (typeof o.lrLambda === "function")
      this.lrLambdas = Array.from({ length: n }, () => o.lrLambda as LrLambda);
    else
      throw new TypeError(
        `LambdaLR: expected lrLambda to be a function or an array of functions, got ${describe(o.lrLambda)}`,
      );
    this.initialStep();
  }
  getLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.lrLambdas[i](this.lastEpoch));
  }
}

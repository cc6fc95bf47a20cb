import { arg, type CallsOf, k, Signature, signature, type Tensor } from "@cinder/tensor";
import { describe, type Optimizer } from "../optimizer";
import {
  fmtE4,
  fmtEpoch,
  loadPlainState,
  optimizerArg,
  plainState,
  type SchedulerStateDict,
  verboseArg,
} from "./base";

/** `step(metrics, epoch=None)` (not registered: PyTorch's fixture has no scheduler methods). */
const PLATEAU_STEP = new Signature(
  "step",
  [arg("metrics", k.tensorOrScalar), arg.opt("epoch", k.int)] as const,
  [] as const,
);

/**
 * `ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, threshold=0.0001, threshold_mode='rel',
 * cooldown=0, min_lr=0, eps=1e-08, verbose=False)`.
 */
const REDUCE_LR_ON_PLATEAU = signature("optim.lrScheduler.ReduceLROnPlateau", [
  optimizerArg,
  arg("mode", k.oneOf("min", "max"), "min"),
  arg("factor", k.float, 0.1),
  arg("patience", k.int, 10),
  arg("threshold", k.float, 1e-4),
  arg("thresholdMode", k.oneOf("rel", "abs"), "rel"),
  arg("cooldown", k.int, 0),
  arg("minLr", k.or(k.float, k.floats), 0),
  arg("eps", k.float, 1e-8),
  verboseArg,
]);

/** Options of `new ReduceLROnPlateau(optimizer, options)`, PyTorch's keyword arguments in camelCase. */
export interface ReduceLROnPlateauOptions {
  /** "min" (default): reduce when the metric stops decreasing; "max": when it stops increasing. */
  mode?: "min" | "max";
  /** new lr = lr * factor (default 0.1; must be < 1). */
  factor?: number;
  /** Steps without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimum change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** "rel" (default): relative to the best value; "abs": absolute. */
  thresholdMode?: "rel" | "abs";
  /** Steps to wait after a reduction before counting bad steps again (default 0). */
  cooldown?: number;
  /** Lower bound on the lr, for all groups or one per group (default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than eps are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduce the lr when a metric has stopped improving (torch.optim.lr_scheduler.ReduceLROnPlateau): call
 * `step(validationLoss)` after each epoch. As in PyTorch 1.13 it is not an LRScheduler subclass.
 */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  factor: number;
  minLrs: number[];
  patience: number;
  cooldown: number;
  cooldownCounter = 0;
  mode: "min" | "max";
  threshold: number;
  thresholdMode: "rel" | "abs";
  best = Number.POSITIVE_INFINITY;
  numBadEpochs = 0;
  modeWorse = Number.POSITIVE_INFINITY;
  eps: number;
  verbose: boolean;
  lastEpoch = 0;
  protected _lastLr: number[];

  static readonly signature = REDUCE_LR_ON_PLATEAU;
  constructor(...args: CallsOf<typeof REDUCE_LR_ON_PLATEAU>) {
    const options = REDUCE_LR_ON_PLATEAU.parse(args);
    const { optimizer, factor } = options;
    if (!(factor < 1)) throw new RangeError(`ReduceLROnPlateau: factor should be < 1.0, got ${factor}`);
    this.factor = factor;
    this.optimizer = optimizer;
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr;
    if (Array.isArray(minLr)) {
      if (minLr.length !== n)
        throw new RangeError(
          `ReduceLROnPlateau: expected ${n} minLrs (one per parameter group), got ${minLr.length}`,
        );
      this.minLrs = [...minLr];
    } else this.minLrs = Array.from({ length: n }, () => minLr as number);
    this.patience = options.patience;
    this.cooldown = options.cooldown;
    this.mode = options.mode;
    this.threshold = options.threshold;
    this.thresholdMode = options.thresholdMode;
    this.eps = options.eps;
    this.verbose = options.verbose;
    this.initIsBetter();
    this.reset();
    this._lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private reset(): void {
    this.best = this.modeWorse;
    this.cooldownCounter = 0;
    this.numBadEpochs = 0;
  }

  /** Record one metric value (a number or a one-element tensor); reduce the lrs after `patience` bad steps. */
  step(
    ...args:
      | [metrics: number | Tensor, epoch?: number | null]
      | [metrics: number | Tensor, options: { epoch?: number | null }]
      | [options: { metrics: number | Tensor; epoch?: number | null }]
  ): void {
    const parsed = PLATEAU_STEP.parse(args);
    const metrics = parsed.metrics as number | Tensor;
    const epoch = parsed.epoch ?? undefined;
    const current = typeof metrics === "number" ? metrics : Number(metrics.item());
    this.lastEpoch = epoch ?? this.lastEpoch + 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // ignore bad epochs in cooldown
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this._lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const oldLr = g.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]);
      if (oldLr - newLr > this.eps) {
        g.lr = newLr;
        if (this.verbose)
          console.log(
            `Epoch ${fmtEpoch(this.lastEpoch)}: reducing learning rate of group ${i} to ${fmtE4(newLr)}.`,
          );
      }
    });
  }

  /** True while the cooldown after a reduction lasts. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Whether metric `a` beats `best` by more than the threshold, in the configured mode. */
  isBetter(a: number, best: number): boolean {
    if (this.mode === "min" && this.thresholdMode === "rel") return a < best * (1 - this.threshold);
    if (this.mode === "min") return a < best - this.threshold;
    if (this.thresholdMode === "rel") return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  private initIsBetter(): void {
    if (this.mode !== "min" && this.mode !== "max") {
      throw new RangeError(
        `ReduceLROnPlateau: mode ${describe(this.mode)} is unknown: expected "min" or "max"`,
      );
    }
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs") {
      throw new RangeError(
        `ReduceLROnPlateau: threshold mode ${describe(this.thresholdMode)} is unknown: expected "rel" or "abs"`,
      );
    }
    this.modeWorse = this.mode === "min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** The groups' lrs after the last step (before any step: their current lrs). */
  getLastLr(): number[] {
    return [...this._lastLr];
  }

  /** The scheduler's fields, as in PyTorch's `state_dict()`. */
  stateDict(): SchedulerStateDict {
    return plainState(this);
  }

  /** Restores the fields saved by `stateDict()`. */
  loadStateDict(stateDict: SchedulerStateDict): void {
    loadPlainState(this, stateDict);
    this.initIsBetter();
  }
}

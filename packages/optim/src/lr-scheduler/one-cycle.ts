import { arg, type CallsOf, k } from "@cinder/tensor";
import { describe, type Optimizer, type ParamGroup } from "../optimizer";
import { checkPositiveInt, LRScheduler, schedulerSignature } from "./base";
import type { SchedulerOptions } from "./schedulers";

export interface OneCycleLROptions extends SchedulerOptions {
  /** Peak lr, for all groups or one per group. */
  maxLr: number | readonly number[];
  /** Length of the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** "cos" (default) or "linear". */
  annealStrategy?: "cos" | "linear";
  /** Cycle momentum (SGD's `momentum`, Adam's `betas[0]`) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Momentum at the lr peak (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** Momentum at the start and end (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to initialLr, anneal to minLr) instead of two (default false). */
  threePhase?: boolean;
}

const floatOrFloats = k.or(k.float, k.floats);

/**
 * `OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
 * anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
 * final_div_factor=10000.0, three_phase=False, last_epoch=-1, verbose=False)`.
 */
const ONE_CYCLE_LR = schedulerSignature("OneCycleLR", [
  arg("maxLr", floatOrFloats),
  arg.opt("totalSteps", k.int),
  arg.opt("epochs", k.int),
  arg.opt("stepsPerEpoch", k.int),
  arg("pctStart", k.float, 0.3),
  arg("annealStrategy", k.oneOf("cos", "linear"), "cos"),
  arg("cycleMomentum", k.bool, true),
  arg("baseMomentum", floatOrFloats, 0.85),
  arg("maxMomentum", floatOrFloats, 0.95),
  arg("divFactor", k.float, 25),
  arg("finalDivFactor", k.float, 1e4),
  arg("threePhase", k.bool, false),
]);

type GroupKey = "initialLr" | "maxLr" | "minLr" | "maxMomentum" | "baseMomentum";

interface Phase {
  endStep: number;
  startLr: GroupKey;
  endLr: GroupKey;
  startMomentum: GroupKey;
  endMomentum: GroupKey;
}

type MomentumGroup = ParamGroup & { momentum?: number; betas?: number[] };

function perGroup(name: string, optimizer: Optimizer, v: number | readonly number[]): number[] {
  const n = optimizer.paramGroups.length;
  if (Array.isArray(v)) {
    if (v.length !== n)
      throw new RangeError(
        `OneCycleLR: expected ${n} values for ${name} (one per parameter group), got ${v.length}`,
      );
    return [...v];
  }
  if (typeof v !== "number")
    throw new TypeError(
      `OneCycleLR: expected ${name} to be a number or an array of numbers, got ${describe(v)}`,
    );
  return Array.from({ length: n }, () => v as number);
}

/**
 * The 1cycle policy (torch.optim.lr_scheduler.OneCycleLR): the lr rises from maxLr / divFactor to maxLr over
 * `pctStart` of the cycle, then anneals to minLr; momentum cycles the opposite way. Step it after every batch.
 * Like PyTorch it stores `initialLr`, `maxLr`, `minLr` (and `maxMomentum`, `baseMomentum`) in the groups.
 */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  annealStrategy: "cos" | "linear";
  cycleMomentum: boolean;
  useBeta1: boolean;
  protected schedulePhases: Phase[];

  static readonly signature = ONE_CYCLE_LR;
  constructor(...args: CallsOf<typeof ONE_CYCLE_LR>) {
    const options = ONE_CYCLE_LR.parse(args);
    const { optimizer, lastEpoch } = options;
    let totalSteps: number;
    if (options.totalSteps === null && options.epochs === null && options.stepsPerEpoch === null) {
      throw new Error("OneCycleLR: you must define either totalSteps OR (epochs AND stepsPerEpoch)");
    } else if (options.totalSteps !== null) {
      checkPositiveInt("OneCycleLR", "totalSteps", options.totalSteps);
      totalSteps = options.totalSteps;
    } else {
      checkPositiveInt("OneCycleLR", "epochs", options.epochs);
      checkPositiveInt("OneCycleLR", "stepsPerEpoch", options.stepsPerEpoch);
      totalSteps = options.epochs! * options.stepsPerEpoch!;
    }
    const pctStart = options.pctStart;
    if (typeof pctStart !== "number" || !(pctStart >= 0 && pctStart <= 1)) {
      throw new RangeError(
        `OneCycleLR: expected pctStart to be a number between 0 and 1, got ${describe(pctStart)}`,
      );
    }
    const annealStrategy = options.annealStrategy;
    const cycleMomentum = options.cycleMomentum;
    const useBeta1 = "betas" in optimizer.defaults;
    if (cycleMomentum && !useBeta1 && !("momentum" in optimizer.defaults)) {
      throw new Error(
        `OneCycleLR: optimizer must support momentum with the cycleMomentum option enabled: expected an optimizer with a momentum or betas option, got ${describe(optimizer)}; pass cycleMomentum: false`,
      );
    }
    if (lastEpoch === -1) {
      const maxLrs = perGroup("maxLr", optimizer, options.maxLr);
      const divFactor = options.divFactor;
      const finalDivFactor = options.finalDivFactor;
      optimizer.paramGroups.forEach((g, i) => {
        g.initialLr = maxLrs[i] / divFactor;
        g.maxLr = maxLrs[i];
        g.minLr = g.initialLr / finalDivFactor;
      });
      if (cycleMomentum) {
        const maxM = perGroup("maxMomentum", optimizer, options.maxMomentum);
        const baseM = perGroup("baseMomentum", optimizer, options.baseMomentum);
        optimizer.paramGroups.forEach((group, i) => {
          const g = group as MomentumGroup;
          if (useBeta1) g.betas = [maxM[i], ...(g.betas ?? [0.999]).slice(1)];
          else g.momentum = maxM[i];
          g.maxMomentum = maxM[i];
          g.baseMomentum = baseM[i];
        });
      }
    }
    super(optimizer, lastEpoch, options.verbose);
    this.totalSteps = totalSteps;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.schedulePhases = options.threePhase
      ? [
          {
            endStep: pctStart * totalSteps - 1,
            startLr: "initialLr",
            endLr: "maxLr",
            startMomentum: "maxMomentum",
            endMomentum: "baseMomentum",
          },
          {
            endStep: 2 * pctStart * totalSteps - 2,
            startLr: "maxLr",
            endLr: "initialLr",
            startMomentum: "baseMomentum",
            endMomentum: "maxMomentum",
          },
          {
            endStep: totalSteps - 1,
            startLr: "initialLr",
            endLr: "minLr",
            startMomentum: "maxMomentum",
            endMomentum: "maxMomentum",
          },
        ]
      : [
          {
            endStep: pctStart * totalSteps - 1,
            startLr: "initialLr",
            endLr: "maxLr",
            startMomentum: "maxMomentum",
            endMomentum: "baseMomentum",
          },
          {
            endStep: totalSteps - 1,
            startLr: "maxLr",
            endLr: "minLr",
            startMomentum: "baseMomentum",
            endMomentum: "maxMomentum",
          },
        ];
    this.initialStep();
  }

  /**
   * Interpolates from `start` to `end` at `pct` in [0, 1], linearly or along a half cosine
   * (`annealStrategy`).
   */
  protected anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "linear") return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new Error(
        `OneCycleLR: tried to step ${stepNum + 1} times, but the specified number of total steps is ${this.totalSteps} ` +
          "(expected at most totalSteps scheduler.step() calls after construction)",
      );
    }
    const phases = this.schedulePhases;
    return this.optimizer.paramGroups.map((group) => {
      const g = group as MomentumGroup;
      let startStep = 0;
      let lr = 0;
      let momentum = 0;
      for (let i = 0; i < phases.length; i++) {
        const phase = phases[i];
        if (stepNum <= phase.endStep || i === phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          lr = this.anneal(g[phase.startLr]!, g[phase.endLr]!, pct);
          if (this.cycleMomentum) momentum = this.anneal(g[phase.startMomentum]!, g[phase.endMomentum]!, pct);
          break;
        }
        startStep = phase.endStep;
      }
      if (this.cycleMomentum) {
        if (this.useBeta1) g.betas = [momentum, ...(g.betas ?? [0.999]).slice(1)];
        else g.momentum = momentum;
      }
      return lr;
    });
  }
}

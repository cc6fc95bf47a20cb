/**
 * The lr scheduler base (PyTorch 1.13's `_LRScheduler`): schedulers write each group's `lr` in the chainable
 * form (the next lr from the current one), so several schedulers can drive one optimizer.
 */
import { type AnyParam, arg, k, Signature, signature } from "@cinder/tensor";
import { describe, Optimizer } from "../optimizer";

/** The parameters every scheduler has: `optimizer` first, `last_epoch=-1, verbose=False` last. */
export const optimizerArg = arg("optimizer", k.instance(Optimizer, "Optimizer"));
export const lastEpochArg = arg("lastEpoch", k.int, -1);
export const verboseArg = arg("verbose", k.bool, false);

/**
 * The signature of `optim.lrScheduler.<name>(optimizer, ...params, last_epoch=-1, verbose=False)`: a step-based
 * scheduler's own parameters between the ones every scheduler has.
 */
export function schedulerSignature<const P extends readonly AnyParam[]>(name: string, params: P) {
  return signature(`optim.lrScheduler.${name}`, [optimizerArg, ...params, lastEpochArg, verboseArg] as const);
}

/** `step(epoch=None)` (not registered: PyTorch's fixture has no scheduler methods); misuse is an ArgumentError. */
const STEP = new Signature("step", [arg.opt("epoch", k.float)] as const, [] as const);

/** Python's `{:.4e}`: 1.0000e-01. */
export function fmtE4(x: number): string {
  return x.toExponential(4).replace(/e([+-])(\d)$/, "e$10$2");
}

/** The epoch of a verbose message: Python's `{:05d}` for an integer, `{:.2f}` otherwise. */
export function fmtEpoch(epoch: number): string {
  return Number.isInteger(epoch) ? String(epoch).padStart(5, "0") : epoch.toFixed(2);
}

export type SchedulerStateDict = Record<string, unknown>;

export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** Each group's `initialLr`, the lr the schedule starts from. */
  baseLrs: number[];
  /** Index of the last step taken (-1 before the construction step). */
  lastEpoch: number;
  protected _stepCount = 0;
  protected _lastLr: number[] = [];
  /** Print each lr change, as PyTorch 1.13's `verbose=True` does ("Adjusting learning rate of group 0 to ..."). */
  verbose: boolean;

  /**
   * Records each group's `initialLr` (when `lastEpoch` is -1) or requires it (when resuming). Subclasses set
   * their own fields, then call `this.initialStep()` at the end of their constructor, as PyTorch's base
   * constructor does after the subclass has set its fields.
   */
  constructor(optimizer: Optimizer, lastEpoch = -1, verbose = false) {
    const who = new.target.name;
    if (!(optimizer instanceof Optimizer))
      throw new TypeError(`${who}: expected an Optimizer, got ${describe(optimizer)}`);
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) {
          throw new Error(
            `${who}: param 'initialLr' is not specified in paramGroups[${i}] when resuming an optimizer (lastEpoch ${lastEpoch}); ` +
              "expected it to be set by an earlier scheduler or a loaded optimizer state dict",
          );
        }
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
    this.verbose = verbose;
  }

  /** PyTorch's `_initial_step`: reset the step count and take the construction step. */
  protected initialStep(): void {
    this._stepCount = 0;
    this.step();
  }

  /** The lrs for `lastEpoch` in the chainable form, computed from the groups' current lrs. */
  abstract getLr(): number[];
  /** The lrs for `lastEpoch` in closed form, used by `step(epoch)` where a scheduler has one. */
  protected closedFormLr?(): number[];

  /**
   * Advance one step and write the new lrs into the optimizer's groups. `step(epoch)` (deprecated in PyTorch)
   * jumps to `epoch`, using the closed form where the scheduler has one.
   */
  step(...args: [epoch?: number | null] | [options: { epoch?: number | null }]): void {
    const epoch = STEP.parse(args).epoch ?? undefined;
    this._stepCount += 1;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr ? this.closedFormLr() : this.getLr();
    }
    const groups = this.optimizer.paramGroups;
    for (let i = 0; i < groups.length && i < values.length; i++) {
      groups[i].lr = values[i];
      if (this.verbose) this.printLr(i, values[i], epoch);
    }
    this._lastLr = groups.map((g) => g.lr);
  }

  /** PyTorch's `print_lr`, for `verbose`. */
  protected printLr(group: number, lr: number, epoch?: number): void {
    if (epoch === undefined) console.log(`Adjusting learning rate of group ${group} to ${fmtE4(lr)}.`);
    else console.log(`Epoch ${fmtEpoch(epoch)}: adjusting learning rate of group ${group} to ${fmtE4(lr)}.`);
  }

  /** The lrs the last `step()` set, one per group. */
  getLastLr(): number[] {
    return [...this._lastLr];
  }

  /** Every field but the optimizer (and functions, such as LambdaLR's lambdas), copied. */
  stateDict(): SchedulerStateDict {
    return plainState(this);
  }

  /** Restores the fields saved by `stateDict()`. */
  loadStateDict(stateDict: SchedulerStateDict): void {
    loadPlainState(this, stateDict);
  }
}

/** The own fields of a scheduler except the optimizer and functions, arrays copied. */
export function plainState(o: object): SchedulerStateDict {
  const out: SchedulerStateDict = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === "optimizer" || isFunctionLike(v)) continue;
    out[k] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

export function loadPlainState(o: object, stateDict: SchedulerStateDict): void {
  if (stateDict === null || typeof stateDict !== "object") {
    throw new TypeError(
      `${o.constructor.name}: loadStateDict expected an object from stateDict(), got ${describe(stateDict)}`,
    );
  }
  for (const [k, v] of Object.entries(stateDict)) {
    if (k === "optimizer" || isFunctionLike(v)) continue;
    (o as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
  }
}

function isFunctionLike(v: unknown): boolean {
  return typeof v === "function" || (Array.isArray(v) && v.some((x) => typeof x === "function"));
}

/** Python's `%` (the result takes the divisor's sign). */
export function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

export function checkPositiveInt(who: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new RangeError(`${who}: expected ${name} to be a positive integer, got ${describe(v)}`);
  }
}

/** BatchNorm1d, BatchNorm2d, LayerNorm and GroupNorm. */
import { empty, noGrad, type Tensor, tensor, zeros } from "@cinder/tensor";
import { batchNorm, groupNorm, layerNorm } from "../functional/normalization";
import * as init from "../init";
import { buffer, Module, Parameter } from "../module";
import { type FactoryOptions, fmt, pyBool, pyFloat, pyOptFloat, pyTuple } from "../util";

export interface BatchNormOptions extends FactoryOptions {
  eps?: number;
  /** Weight of each new batch in the running statistics (default 0.1); null: cumulative average over all batches. */
  momentum?: number | null;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running mean/variance and use them in eval mode (default true). */
  trackRunningStats?: boolean;
}

/**
 * Shared by BatchNorm1d/2d, as PyTorch's _BatchNorm. Training normalises with the batch statistics and updates
 * `runningMean`, `runningVar` (unbiased) and `numBatchesTracked`; eval uses the running statistics.
 * State dict names are PyTorch's: running_mean, running_var, num_batches_tracked.
 */
export abstract class BatchNorm extends Module {
  static override stateNames = {
    runningMean: "running_mean",
    runningVar: "running_var",
    numBatchesTracked: "num_batches_tracked",
  };
  readonly numFeatures: number;
  readonly eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  /** int32 (PyTorch: int64). */
  numBatchesTracked: Tensor | null;

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const f = { device: opts.device, dtype: opts.dtype ?? "float32" };
    this.weight = this.affine ? new Parameter(empty([numFeatures], f)) : null;
    this.bias = this.affine ? new Parameter(empty([numFeatures], f)) : null;
    if (this.trackRunningStats) {
      this.runningMean = buffer(zeros([numFeatures], f));
      this.runningVar = buffer(zeros([numFeatures], f));
      this.numBatchesTracked = buffer(tensor(0, { dtype: "int32", device: opts.device }));
    } else {
      this.runningMean = null;
      this.runningVar = null;
      this.numBatchesTracked = null;
    }
    this.resetParameters();
  }

  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight && this.bias) {
      init.ones_(this.weight);
      init.zeros_(this.bias);
    }
  }

  protected abstract checkInputDim(x: Tensor): void;

  override forward(x: Tensor): Tensor {
    this.checkInputDim(x);
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked) {
      const n = this.numBatchesTracked;
      noGrad(() => n.add_(1));
      if (this.momentum === null) factor = 1 / (n.item() as number);
    }
    const useBatchStats = this.training || this.runningMean === null;
    // running stats are updated only when training and tracking
    const track = !this.training || this.trackRunningStats;
    return batchNorm(x, track ? this.runningMean : null, track ? this.runningVar : null, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: factor,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${pyOptFloat(this.momentum)}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/** Batch normalisation of [N, C] or [N, C, L] inputs. */
export class BatchNorm1d extends BatchNorm {
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3)
      throw new Error(`BatchNorm1d: expected 2D or 3D input (got ${x.ndim}D input of shape ${fmt(x.shape)})`);
  }
}

/** Batch normalisation of [N, C, H, W] inputs. */
export class BatchNorm2d extends BatchNorm {
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 4)
      throw new Error(`BatchNorm2d: expected 4D input (got ${x.ndim}D input of shape ${fmt(x.shape)})`);
  }
}

export interface LayerNormOptions extends FactoryOptions {
  eps?: number;
  /** Learn an elementwise scale and shift over normalizedShape (default true). */
  elementwiseAffine?: boolean;
  /** Learn the shift (default true; needs elementwiseAffine). */
  bias?: boolean;
}

/** Normalise over the last dims (`normalizedShape`) of each sample. */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    const f = { device: opts.device, dtype: opts.dtype ?? "float32" };
    this.weight = this.elementwiseAffine ? new Parameter(init.ones_(empty(this.normalizedShape, f))) : null;
    this.bias =
      this.elementwiseAffine && (opts.bias ?? true)
        ? new Parameter(init.zeros_(empty(this.normalizedShape, f)))
        : null;
  }

  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

export interface GroupNormOptions extends FactoryOptions {
  eps?: number;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
}

/** Normalise groups of channels of [N, C, ...] inputs per sample. */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, opts: GroupNormOptions = {}) {
    super();
    if (numChannels % numGroups !== 0)
      throw new Error(
        `GroupNorm: num_channels (${numChannels}) must be divisible by num_groups (${numGroups})`,
      );
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = opts.eps ?? 1e-5;
    this.affine = opts.affine ?? true;
    const f = { device: opts.device, dtype: opts.dtype ?? "float32" };
    this.weight = this.affine ? new Parameter(init.ones_(empty([numChannels], f))) : null;
    this.bias = this.affine ? new Parameter(init.zeros_(empty([numChannels], f))) : null;
  }

  override forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}`;
  }
}

/** BatchNorm1d, BatchNorm2d, LayerNorm and GroupNorm. */
import {
  arg,
  type CallsOf,
  type DType,
  empty,
  k,
  noGrad,
  signature,
  type Tensor,
  tensor,
  zeros,
} from "@cinder/tensor";
import {
  batchNorm,
  groupNorm,
  instanceNorm,
  layerNorm,
  localResponseNorm,
} from "../functional/normalization";
import * as init from "../init";
import { buffer, Module, Parameter } from "../module";
import { fmt, pyBool, pyFloat, pyOptFloat, pyTuple } from "../util";
import { deviceArg, dtypeArg } from "./args";

const epsArg = arg("eps", k.float, 1e-5);
/**
 * `(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None)`.
 * momentum: the weight of each new batch in the running statistics; null: cumulative average over all batches.
 */
const batchNormParams = [
  arg("numFeatures", k.int),
  epsArg,
  arg("momentum", k.opt(k.float), 0.1),
  arg("affine", k.bool, true),
  arg("trackRunningStats", k.bool, true),
  deviceArg,
  dtypeArg,
] as const;
const BATCH_NORM1D = signature("nn.BatchNorm1d", batchNormParams);
const BATCH_NORM2D = signature("nn.BatchNorm2d", batchNormParams);
const BATCH_NORM3D = signature("nn.BatchNorm3d", batchNormParams);

/** The parsed arguments of BatchNorm1d/2d. */
interface BatchNormArgs {
  numFeatures: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  trackRunningStats: boolean;
  device: string | null;
  dtype: DType | null;
}

/**
 * Shared by BatchNorm1d/2d, as PyTorch's _BatchNorm. Training normalises with the batch statistics and updates
 * `runningMean`, `runningVar` (unbiased) and `numBatchesTracked`; eval uses the running statistics.
 * State dict names are PyTorch's: running_mean, running_var, num_batches_tracked.
 */
export abstract class BatchNorm extends Module {
  static override readonly name: string = "BatchNorm";
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

  protected constructor(a: BatchNormArgs) {
    super();
    const numFeatures = a.numFeatures;
    this.numFeatures = numFeatures;
    this.eps = a.eps;
    this.momentum = a.momentum;
    this.affine = a.affine;
    this.trackRunningStats = a.trackRunningStats;
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    this.weight = this.affine ? new Parameter(empty([numFeatures], f)) : null;
    this.bias = this.affine ? new Parameter(empty([numFeatures], f)) : null;
    if (this.trackRunningStats) {
      this.runningMean = buffer(zeros([numFeatures], f));
      this.runningVar = buffer(zeros([numFeatures], f));
      this.numBatchesTracked = buffer(tensor(0, { device: f.device })); // the device's default integer: int64 as PyTorch's
    } else {
      this.runningMean = null;
      this.runningVar = null;
      this.numBatchesTracked = null;
    }
    this.resetParameters();
  }

  /** Resets the running statistics: mean 0, variance 1, no batches tracked. */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  /** Resets the running statistics, and the affine weight to 1 and bias to 0. */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight && this.bias) {
      init.ones_(this.weight);
      init.zeros_(this.bias);
    }
  }

  /** Throws when the input's rank does not suit the layer (e.g. BatchNorm2d wants `[N, C, H, W]`). */
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

/**
 * `BatchNorm1d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, device=None,
 * dtype=None)`: batch normalisation of [N, C] or [N, C, L] inputs.
 */
export class BatchNorm1d extends BatchNorm {
  static override readonly name: string = "BatchNorm1d";
  static readonly signature = BATCH_NORM1D;
  constructor(...args: CallsOf<typeof BATCH_NORM1D>) {
    super(BATCH_NORM1D.parse(args));
  }
  /** Throws unless the input is `[N, C]` or `[N, C, L]`. */
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3)
      throw new Error(`BatchNorm1d: expected 2D or 3D input (got ${x.ndim}D input of shape ${fmt(x.shape)})`);
  }
}

/**
 * `BatchNorm2d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, device=None,
 * dtype=None)`: batch normalisation of [N, C, H, W] inputs.
 */
export class BatchNorm2d extends BatchNorm {
  static override readonly name: string = "BatchNorm2d";
  static readonly signature = BATCH_NORM2D;
  constructor(...args: CallsOf<typeof BATCH_NORM2D>) {
    super(BATCH_NORM2D.parse(args));
  }
  /** Throws unless the input is `[N, C, H, W]`. */
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 4)
      throw new Error(`BatchNorm2d: expected 4D input (got ${x.ndim}D input of shape ${fmt(x.shape)})`);
  }
}

/**
 * `BatchNorm3d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, device=None,
 * dtype=None)`: batch normalisation of [N, C, D, H, W] inputs.
 */
export class BatchNorm3d extends BatchNorm {
  static override readonly name: string = "BatchNorm3d";
  static readonly signature = BATCH_NORM3D;
  constructor(...args: CallsOf<typeof BATCH_NORM3D>) {
    super(BATCH_NORM3D.parse(args));
  }
  /** Throws unless the input is `[N, C, D, H, W]`. */
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 5)
      throw new Error(`BatchNorm3d: expected 5D input (got ${x.ndim}D input of shape ${fmt(x.shape)})`);
  }
}

const LAYER_NORM = signature("nn.LayerNorm", [
  arg("normalizedShape", k.intOrInts),
  epsArg,
  arg("elementwiseAffine", k.bool, true),
  deviceArg,
  dtypeArg,
]);

/**
 * `LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True, device=None, dtype=None)`: normalise over the
 * last dims (`normalizedShape`) of each sample, with a learnt elementwise scale and shift unless
 * `elementwiseAffine` is false.
 */
export class LayerNorm extends Module {
  static override readonly name: string = "LayerNorm";
  static readonly signature = LAYER_NORM;
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(...args: CallsOf<typeof LAYER_NORM>) {
    super();
    const a = LAYER_NORM.parse(args);
    const shape = a.normalizedShape;
    this.normalizedShape = typeof shape === "number" ? [shape] : [...shape];
    this.eps = a.eps;
    this.elementwiseAffine = a.elementwiseAffine;
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    this.weight = this.elementwiseAffine ? new Parameter(init.ones_(empty(this.normalizedShape, f))) : null;
    this.bias = this.elementwiseAffine ? new Parameter(init.zeros_(empty(this.normalizedShape, f))) : null;
  }

  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

const GROUP_NORM = signature("nn.GroupNorm", [
  arg("numGroups", k.int),
  arg("numChannels", k.int),
  epsArg,
  arg("affine", k.bool, true),
  deviceArg,
  dtypeArg,
]);

/**
 * `GroupNorm(num_groups, num_channels, eps=1e-05, affine=True, device=None, dtype=None)`: normalise groups of
 * channels of [N, C, ...] inputs per sample.
 */
export class GroupNorm extends Module {
  static override readonly name: string = "GroupNorm";
  static readonly signature = GROUP_NORM;
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(...args: CallsOf<typeof GROUP_NORM>) {
    super();
    const { numGroups, numChannels, eps, affine, device, dtype } = GROUP_NORM.parse(args);
    if (numChannels % numGroups !== 0)
      throw new Error(
        `GroupNorm: num_channels (${numChannels}) must be divisible by num_groups (${numGroups})`,
      );
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = eps;
    this.affine = affine;
    const f = { device: device ?? undefined, dtype: dtype ?? "float32" };
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

/** `(num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False, device=None, dtype=None)`. */
const instanceNormParams = [
  arg("numFeatures", k.int),
  epsArg,
  arg("momentum", k.float, 0.1),
  arg("affine", k.bool, false),
  arg("trackRunningStats", k.bool, false),
  deviceArg,
  dtypeArg,
] as const;
const INSTANCE_NORM1D = signature("nn.InstanceNorm1d", instanceNormParams);
const INSTANCE_NORM2D = signature("nn.InstanceNorm2d", instanceNormParams);
const INSTANCE_NORM3D = signature("nn.InstanceNorm3d", instanceNormParams);

/**
 * Shared by InstanceNorm1d/2d, as PyTorch's _InstanceNorm: each channel of each sample normalised over its
 * spatial dims; running statistics (when tracked) are used in eval mode. Unbatched inputs are accepted.
 */
export abstract class InstanceNorm extends Module {
  static override readonly name: string = "InstanceNorm";
  static override stateNames = BatchNorm.stateNames;
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  /** int32 (PyTorch: int64). */
  numBatchesTracked: Tensor | null;
  /** The number of dims of an unbatched input ([C, L]: 2, [C, H, W]: 3). */
  protected abstract readonly noBatchDims: number;

  protected constructor(a: {
    numFeatures: number;
    eps: number;
    momentum: number;
    affine: boolean;
    trackRunningStats: boolean;
    device: string | null;
    dtype: DType | null;
  }) {
    super();
    this.numFeatures = a.numFeatures;
    this.eps = a.eps;
    this.momentum = a.momentum;
    this.affine = a.affine;
    this.trackRunningStats = a.trackRunningStats;
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    this.weight = a.affine ? new Parameter(init.ones_(empty([a.numFeatures], f))) : null;
    this.bias = a.affine ? new Parameter(init.zeros_(empty([a.numFeatures], f))) : null;
    if (a.trackRunningStats) {
      this.runningMean = buffer(zeros([a.numFeatures], f));
      this.runningVar = buffer(init.ones_(empty([a.numFeatures], f)));
      this.numBatchesTracked = buffer(tensor(0, { device: f.device })); // the device's default integer: int64 as PyTorch's
    } else {
      this.runningMean = null;
      this.runningVar = null;
      this.numBatchesTracked = null;
    }
  }

  override forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    const n = this.noBatchDims;
    if (x.ndim !== n && x.ndim !== n + 1)
      throw new Error(`${name}: expected ${n}D or ${n + 1}D input (got ${x.ndim}D input)`);
    const channels = x.shape[x.ndim - n];
    if (channels !== this.numFeatures && this.affine)
      throw new Error(
        `${name}: expected input's size at dim=${x.ndim - n} to match num_features (${this.numFeatures}), but got: ${channels}.`,
      );
    const batched = x.ndim === n ? x.unsqueeze(0) : x;
    const y = instanceNorm(batched, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      useInputStats: this.training || !this.trackRunningStats,
      momentum: this.momentum,
      eps: this.eps,
    });
    return x.ndim === n ? y.squeeze(0) : y;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${pyFloat(this.momentum)}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/**
 * `InstanceNorm1d(num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False, device=None,
 * dtype=None)` over [N, C, L] (or [C, L]).
 */
export class InstanceNorm1d extends InstanceNorm {
  static override readonly name: string = "InstanceNorm1d";
  static readonly signature = INSTANCE_NORM1D;
  protected readonly noBatchDims = 2;
  constructor(...args: CallsOf<typeof INSTANCE_NORM1D>) {
    super(INSTANCE_NORM1D.parse(args));
  }
}

/**
 * `InstanceNorm2d(num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False, device=None,
 * dtype=None)` over [N, C, H, W] (or [C, H, W]).
 */
export class InstanceNorm2d extends InstanceNorm {
  static override readonly name: string = "InstanceNorm2d";
  static readonly signature = INSTANCE_NORM2D;
  protected readonly noBatchDims = 3;
  constructor(...args: CallsOf<typeof INSTANCE_NORM2D>) {
    super(INSTANCE_NORM2D.parse(args));
  }
}

/**
 * `InstanceNorm3d(num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False, device=None,
 * dtype=None)` over [N, C, D, H, W] (or [C, D, H, W]).
 */
export class InstanceNorm3d extends InstanceNorm {
  static override readonly name: string = "InstanceNorm3d";
  static readonly signature = INSTANCE_NORM3D;
  protected readonly noBatchDims = 4;
  constructor(...args: CallsOf<typeof INSTANCE_NORM3D>) {
    super(INSTANCE_NORM3D.parse(args));
  }
}

const LOCAL_RESPONSE_NORM = signature("nn.LocalResponseNorm", [
  arg("size", k.int),
  arg("alpha", k.float, 1e-4),
  arg("beta", k.float, 0.75),
  arg("k", k.float, 1.0),
]);
/** `LocalResponseNorm(size, alpha=0.0001, beta=0.75, k=1.0)`: normalisation across neighbouring channels. */
export class LocalResponseNorm extends Module {
  static override readonly name: string = "LocalResponseNorm";
  static readonly signature = LOCAL_RESPONSE_NORM;
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  constructor(...args: CallsOf<typeof LOCAL_RESPONSE_NORM>) {
    super();
    const a = LOCAL_RESPONSE_NORM.parse(args);
    this.size = a.size;
    this.alpha = a.alpha;
    this.beta = a.beta;
    this.k = a.k;
  }
  override forward(x: Tensor): Tensor {
    return localResponseNorm(x, this.size, { alpha: this.alpha, beta: this.beta, k: this.k });
  }
  override extraRepr(): string {
    return `${this.size}, alpha=${pyFloat(this.alpha)}, beta=${pyFloat(this.beta)}, k=${pyFloat(this.k)}`;
  }
}

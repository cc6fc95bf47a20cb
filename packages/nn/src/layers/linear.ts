/** Linear, Identity, Flatten and Unflatten. */
import { empty, type Tensor } from "@cinder/tensor";
import { linear } from "../functional/linear";
import * as init from "../init";
import { Module, Parameter } from "../module";
import { type FactoryOptions, pyBool, pyTuple } from "../util";

/** Returns its input unchanged (constructor arguments are accepted and ignored, as PyTorch). */
export class Identity extends Module {
  constructor(..._args: unknown[]) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x;
  }
}

export interface LinearOptions extends FactoryOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * y = x W^T + b, with W [outFeatures, inFeatures] and b [outFeatures]. Initialised as PyTorch: W by
 * kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)), and b by U(-1/sqrt(in), 1/sqrt(in)).
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions | boolean = {}) {
    super();
    const o = typeof opts === "boolean" ? { bias: opts } : opts;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const f = { device: o.device, dtype: o.dtype ?? "float32" };
    this.weight = new Parameter(empty([outFeatures, inFeatures], f));
    this.bias = (o.bias ?? true) ? new Parameter(empty([outFeatures], f)) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }

  override forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** Flatten dims startDim..endDim (default 1..-1: everything but the batch dim). */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;
  constructor(startDim: number | { startDim?: number; endDim?: number } = 1, endDim = -1) {
    super();
    const o = typeof startDim === "number" ? { startDim, endDim } : startDim;
    this.startDim = o.startDim ?? 1;
    this.endDim = o.endDim ?? -1;
  }
  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Expand dim `dim` into `unflattenedSize`. */
export class Unflatten extends Module {
  readonly dim: number;
  readonly unflattenedSize: readonly number[];
  constructor(dim: number, unflattenedSize: readonly number[]) {
    super();
    this.dim = dim;
    this.unflattenedSize = [...unflattenedSize];
  }
  override forward(x: Tensor): Tensor {
    return x.unflatten(this.dim, this.unflattenedSize);
  }
  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyTuple(this.unflattenedSize)}`;
  }
}

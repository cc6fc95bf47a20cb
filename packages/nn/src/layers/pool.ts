/** MaxPool2d, AvgPool2d and AdaptiveAvgPool2d. */
import type { Tensor } from "@cinder/tensor";
import {
  type AdaptiveSize,
  type AvgPool2dOptions,
  adaptiveAvgPool2d,
  avgPool2d,
  type MaxPool2dOptions,
  maxPool2d,
} from "../functional/pool";
import { pyIntOrTuple, type Size2 } from "../functional/windows";
import { Module } from "../module";
import { pyBool } from "../util";

/**
 * 2-D max pooling: `new nn.MaxPool2d(2)` (stride defaults to the kernel size). With `{ returnIndices: true }`
 * the module returns `[output, indices]`.
 */
export class MaxPool2d<R extends boolean = false> extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly dilation: Size2;
  readonly returnIndices: R;
  readonly ceilMode: boolean;

  constructor(kernelSize: Size2, opts: Omit<MaxPool2dOptions, "returnIndices"> & { returnIndices?: R } = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.returnIndices = (opts.returnIndices ?? false) as R;
    this.ceilMode = opts.ceilMode ?? false;
  }

  override forward(x: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    const o = {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    };
    const r = this.returnIndices
      ? maxPool2d(x, this.kernelSize, { ...o, returnIndices: true })
      : maxPool2d(x, this.kernelSize, o);
    return r as R extends true ? [Tensor, Tensor] : Tensor;
  }

  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}, dilation=${pyIntOrTuple(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

/** 2-D average pooling: `new nn.AvgPool2d(3, { stride: 2, countIncludePad: false })`. */
export class AvgPool2d extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: Size2, opts: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.ceilMode = opts.ceilMode ?? false;
    this.countIncludePad = opts.countIncludePad ?? true;
    this.divisorOverride = opts.divisorOverride ?? null;
  }

  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}`;
  }
}

/** 2-D adaptive average pooling to a fixed output size: `new nn.AdaptiveAvgPool2d([5, 7])` or `(7)`. */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: AdaptiveSize;
  constructor(outputSize: AdaptiveSize) {
    super();
    this.outputSize = outputSize;
  }
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}

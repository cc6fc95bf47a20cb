/** Max, average and adaptive average pooling, 1-D and 2-D. */
import { arg, type CallsOf, type Kind, k, signature, type Tensor } from "@cinder/tensor";
import {
  type AdaptiveSize,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  avgPool1d,
  avgPool2d,
  maxPool1d,
  maxPool2d,
} from "../functional/pool";
import { pyIntOrTuple, type Size2 } from "../functional/windows";
import { Module } from "../module";
import { pyBool, pyTuple } from "../util";
import { size1, size2 } from "./args";

const MAX_POOL2D = signature("nn.MaxPool2d", [
  arg("kernelSize", size2),
  arg.opt("stride", size2),
  arg("padding", size2, 0),
  arg("dilation", size2, 1),
  arg("returnIndices", k.bool, false),
  arg("ceilMode", k.bool, false),
]);

type SizeArg = number | readonly number[];
interface MaxPoolOptions {
  stride?: SizeArg | null;
  padding?: SizeArg;
  dilation?: SizeArg;
  ceilMode?: boolean;
}

/**
 * `MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)`:
 * `new nn.MaxPool2d(2)` (stride defaults to the kernel size). With `returnIndices` the module returns
 * `[output, indices]`.
 */
export class MaxPool2d<R extends boolean = false> extends Module {
  static readonly signature = MAX_POOL2D;
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly dilation: Size2;
  readonly returnIndices: R;
  readonly ceilMode: boolean;

  /** With `returnIndices: true` (as an option or in its position) the module's type returns `[output, indices]`. */
  constructor(kernelSize: SizeArg, opts: MaxPoolOptions & { returnIndices: R });
  constructor(
    kernelSize: SizeArg,
    stride: SizeArg | null | undefined,
    padding: SizeArg | undefined,
    dilation: SizeArg | undefined,
    returnIndices: R,
    ceilMode?: boolean | { ceilMode?: boolean },
  );
  constructor(...args: CallsOf<typeof MAX_POOL2D>);
  constructor(...args: unknown[]) {
    super();
    const a = MAX_POOL2D.parse(args as never);
    this.kernelSize = a.kernelSize as Size2;
    this.stride = (a.stride ?? a.kernelSize) as Size2;
    this.padding = a.padding as Size2;
    this.dilation = a.dilation as Size2;
    this.returnIndices = a.returnIndices as R;
    this.ceilMode = a.ceilMode;
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

const AVG_POOL2D = signature("nn.AvgPool2d", [
  arg("kernelSize", size2),
  arg.opt("stride", size2),
  arg("padding", size2, 0),
  arg("ceilMode", k.bool, false),
  arg("countIncludePad", k.bool, true),
  arg.opt("divisorOverride", k.int),
]);

/**
 * `AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)`:
 * `new nn.AvgPool2d(3, 2)` or `new nn.AvgPool2d(3, { stride: 2, countIncludePad: false })`.
 */
export class AvgPool2d extends Module {
  static readonly signature = AVG_POOL2D;
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(...args: CallsOf<typeof AVG_POOL2D>) {
    super();
    const a = AVG_POOL2D.parse(args);
    this.kernelSize = a.kernelSize as Size2;
    this.stride = (a.stride ?? a.kernelSize) as Size2;
    this.padding = a.padding as Size2;
    this.ceilMode = a.ceilMode;
    this.countIncludePad = a.countIncludePad;
    this.divisorOverride = a.divisorOverride;
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

/** An int, or a pair whose entries are ints or null (keep the input's size): PyTorch's `_size_2_opt_t`. */
const adaptiveSize: Kind<AdaptiveSize> = {
  ...k.where(
    k.any,
    (v) =>
      (typeof v === "number" && Number.isInteger(v)) ||
      (Array.isArray(v) && v.length === 2 && v.every((x) => x === null || Number.isInteger(x))),
    "int or (int | None)[2]",
  ),
  takesObjects: false,
} as Kind<AdaptiveSize>;
const ADAPTIVE_AVG_POOL2D = signature("nn.AdaptiveAvgPool2d", [arg("outputSize", adaptiveSize)]);

/** `AdaptiveAvgPool2d(output_size)`: average pooling to a fixed output size: `new nn.AdaptiveAvgPool2d([5, 7])` or `(7)`. */
export class AdaptiveAvgPool2d extends Module {
  static readonly signature = ADAPTIVE_AVG_POOL2D;
  readonly outputSize: AdaptiveSize;
  constructor(...args: CallsOf<typeof ADAPTIVE_AVG_POOL2D>) {
    super();
    this.outputSize = ADAPTIVE_AVG_POOL2D.parse(args).outputSize;
  }
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}

const MAX_POOL1D = signature("nn.MaxPool1d", [
  arg("kernelSize", size1),
  arg.opt("stride", size1),
  arg("padding", size1, 0),
  arg("dilation", size1, 1),
  arg("returnIndices", k.bool, false),
  arg("ceilMode", k.bool, false),
]);

/**
 * `MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)` over
 * [N, C, L] (or [C, L]); with `returnIndices` the module returns `[output, indices]`.
 */
export class MaxPool1d<R extends boolean = false> extends Module {
  static readonly signature = MAX_POOL1D;
  readonly kernelSize: SizeArg;
  readonly stride: SizeArg;
  readonly padding: SizeArg;
  readonly dilation: SizeArg;
  readonly returnIndices: R;
  readonly ceilMode: boolean;

  /** With `returnIndices: true` (as an option or in its position) the module's type returns `[output, indices]`. */
  constructor(kernelSize: SizeArg, opts: MaxPoolOptions & { returnIndices: R });
  constructor(
    kernelSize: SizeArg,
    stride: SizeArg | null | undefined,
    padding: SizeArg | undefined,
    dilation: SizeArg | undefined,
    returnIndices: R,
    ceilMode?: boolean | { ceilMode?: boolean },
  );
  constructor(...args: CallsOf<typeof MAX_POOL1D>);
  constructor(...args: unknown[]) {
    super();
    const a = MAX_POOL1D.parse(args as never);
    this.kernelSize = a.kernelSize;
    this.stride = a.stride ?? a.kernelSize;
    this.padding = a.padding;
    this.dilation = a.dilation;
    this.returnIndices = a.returnIndices as R;
    this.ceilMode = a.ceilMode;
  }

  override forward(x: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    const o = {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    };
    const r = this.returnIndices
      ? maxPool1d(x, this.kernelSize, { ...o, returnIndices: true })
      : maxPool1d(x, this.kernelSize, o);
    return r as R extends true ? [Tensor, Tensor] : Tensor;
  }

  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}, dilation=${pyIntOrTuple(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

const AVG_POOL1D = signature("nn.AvgPool1d", [
  arg("kernelSize", size1),
  arg.opt("stride", size1),
  arg("padding", size1, 0),
  arg("ceilMode", k.bool, false),
  arg("countIncludePad", k.bool, true),
]);
const single = (v: number | readonly number[]): number[] => (typeof v === "number" ? [v] : [...v]);

/** `AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)` over [N, C, L]. */
export class AvgPool1d extends Module {
  static readonly signature = AVG_POOL1D;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  constructor(...args: CallsOf<typeof AVG_POOL1D>) {
    super();
    const a = AVG_POOL1D.parse(args);
    // PyTorch keeps these as 1-tuples (and prints them so)
    this.kernelSize = single(a.kernelSize);
    this.stride = single(a.stride ?? a.kernelSize);
    this.padding = single(a.padding);
    this.ceilMode = a.ceilMode;
    this.countIncludePad = a.countIncludePad;
  }
  override forward(x: Tensor): Tensor {
    return avgPool1d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
    });
  }
  override extraRepr(): string {
    return `kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}, padding=${pyTuple(this.padding)}`;
  }
}

const ADAPTIVE_AVG_POOL1D = signature("nn.AdaptiveAvgPool1d", [arg("outputSize", size1)]);
/** `AdaptiveAvgPool1d(output_size)`: average pooling of [N, C, L] to a fixed length. */
export class AdaptiveAvgPool1d extends Module {
  static readonly signature = ADAPTIVE_AVG_POOL1D;
  readonly outputSize: SizeArg;
  constructor(...args: CallsOf<typeof ADAPTIVE_AVG_POOL1D>) {
    super();
    this.outputSize = ADAPTIVE_AVG_POOL1D.parse(args).outputSize;
  }
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool1d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}

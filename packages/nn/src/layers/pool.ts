/** Pooling modules: max, average, adaptive, LP and max-unpooling, 1-D to 3-D. */
import { arg, type CallsOf, type Kind, k, signature, type Tensor } from "@cinder/tensor";
import {
  type AdaptiveSize,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  lpPool1d,
  lpPool2d,
  maxPool1d,
  maxPool2d,
  maxPool3d,
  maxUnpool1d,
  maxUnpool2d,
  maxUnpool3d,
} from "../functional/pool";
import { pyIntOrTuple, type Size2 } from "../functional/windows";
import { Module } from "../module";
import { pyBool, pyTuple } from "../util";
import { optSizeKind, parseBy, size1, size2, size3 } from "./args";

type SizeArg = number | readonly number[];
interface MaxPoolOptions {
  stride?: SizeArg | null;
  padding?: SizeArg;
  dilation?: SizeArg;
  ceilMode?: boolean;
}
interface AvgPoolOptions {
  stride: SizeArg;
  padding: SizeArg;
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number | null;
}
type Pooled<R> = R extends true ? [Tensor, Tensor] : Tensor;

/**
 * Shared by MaxPool1d/2d/3d: `(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
 * ceil_mode=False)`; with `returnIndices` the module returns `[output, indices]`.
 */
abstract class MaxPoolNd<R extends boolean> extends Module {
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
  constructor(...args: CallsOf<typeof MAX_POOL2D>);
  constructor(...args: unknown[]) {
    super();
    const a = parseBy<typeof MAX_POOL2D>(new.target, args);
    this.kernelSize = a.kernelSize;
    this.stride = a.stride ?? a.kernelSize;
    this.padding = a.padding;
    this.dilation = a.dilation;
    this.returnIndices = a.returnIndices as R;
    this.ceilMode = a.ceilMode;
  }

  /** maxPool1d, maxPool2d or maxPool3d. */
  protected abstract pool(
    x: Tensor,
    kernelSize: SizeArg,
    o: MaxPoolOptions & { returnIndices: boolean },
  ): Tensor;

  override forward(x: Tensor): Pooled<R> {
    return this.pool(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
      returnIndices: this.returnIndices,
    }) as unknown as Pooled<R>;
  }

  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}, dilation=${pyIntOrTuple(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

/** `(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)` of MaxPool1d/2d/3d. */
const maxPoolParams = (size: Kind<number | readonly number[]>) =>
  [
    arg("kernelSize", size),
    arg.opt("stride", size),
    arg("padding", size, 0),
    arg("dilation", size, 1),
    arg("returnIndices", k.bool, false),
    arg("ceilMode", k.bool, false),
  ] as const;
const MAX_POOL1D = signature("nn.MaxPool1d", maxPoolParams(size1));
const MAX_POOL2D = signature("nn.MaxPool2d", maxPoolParams(size2));
const MAX_POOL3D = signature("nn.MaxPool3d", maxPoolParams(size3));

/**
 * `MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)` over
 * [N, C, L] (or [C, L]); with `returnIndices` the module returns `[output, indices]`.
 */
export class MaxPool1d<R extends boolean = false> extends MaxPoolNd<R> {
  static override readonly name: string = "MaxPool1d";
  static readonly signature = MAX_POOL1D;
  protected pool(x: Tensor, kernelSize: SizeArg, o: MaxPoolOptions & { returnIndices: boolean }): Tensor {
    return maxPool1d(x, kernelSize, o);
  }
}

/**
 * `MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)`:
 * `new nn.MaxPool2d(2)` (stride defaults to the kernel size). With `returnIndices` the module returns
 * `[output, indices]`.
 */
export class MaxPool2d<R extends boolean = false> extends MaxPoolNd<R> {
  static override readonly name: string = "MaxPool2d";
  static readonly signature = MAX_POOL2D;
  declare readonly kernelSize: Size2;
  declare readonly stride: Size2;
  declare readonly padding: Size2;
  declare readonly dilation: Size2;
  protected pool(x: Tensor, kernelSize: SizeArg, o: MaxPoolOptions & { returnIndices: boolean }): Tensor {
    return maxPool2d(x, kernelSize, o);
  }
}

/**
 * `MaxPool3d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)` over
 * [N, C, D, H, W] (or [C, D, H, W]); with `returnIndices` the module returns `[output, indices]`.
 */
export class MaxPool3d<R extends boolean = false> extends MaxPoolNd<R> {
  static override readonly name: string = "MaxPool3d";
  static readonly signature = MAX_POOL3D;
  protected pool(x: Tensor, kernelSize: SizeArg, o: MaxPoolOptions & { returnIndices: boolean }): Tensor {
    return maxPool3d(x, kernelSize, o);
  }
}

/** Shared by AvgPool2d/3d: `(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)`. */
abstract class AvgPoolNd extends Module {
  readonly kernelSize: SizeArg;
  readonly stride: SizeArg;
  readonly padding: SizeArg;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;
  constructor(...args: CallsOf<typeof AVG_POOL2D>) {
    super();
    const a = parseBy<typeof AVG_POOL2D>(new.target, args);
    this.kernelSize = a.kernelSize;
    this.stride = a.stride ?? a.kernelSize;
    this.padding = a.padding;
    this.ceilMode = a.ceilMode;
    this.countIncludePad = a.countIncludePad;
    this.divisorOverride = a.divisorOverride;
  }

  /** avgPool2d or avgPool3d. */
  protected abstract pool(x: Tensor, kernelSize: SizeArg, o: AvgPoolOptions): Tensor;

  override forward(x: Tensor): Tensor {
    return this.pool(x, this.kernelSize, {
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

/** `(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)` of AvgPool1d/2d/3d. */
const avgPoolParams = (size: Kind<number | readonly number[]>) =>
  [
    arg("kernelSize", size),
    arg.opt("stride", size),
    arg("padding", size, 0),
    arg("ceilMode", k.bool, false),
    arg("countIncludePad", k.bool, true),
  ] as const;
const divisorOverrideArg = arg.opt("divisorOverride", k.int);
const AVG_POOL1D = signature("nn.AvgPool1d", avgPoolParams(size1));
const AVG_POOL2D = signature("nn.AvgPool2d", [...avgPoolParams(size2), divisorOverrideArg]);
const AVG_POOL3D = signature("nn.AvgPool3d", [...avgPoolParams(size3), divisorOverrideArg]);

/**
 * `AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)`:
 * `new nn.AvgPool2d(3, 2)` or `new nn.AvgPool2d(3, { stride: 2, countIncludePad: false })`.
 */
export class AvgPool2d extends AvgPoolNd {
  static override readonly name: string = "AvgPool2d";
  static readonly signature = AVG_POOL2D;
  declare readonly kernelSize: Size2;
  declare readonly stride: Size2;
  declare readonly padding: Size2;
  protected pool(x: Tensor, kernelSize: SizeArg, o: AvgPoolOptions): Tensor {
    return avgPool2d(x, kernelSize, o);
  }
}

/**
 * `AvgPool3d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)`
 * over [N, C, D, H, W] (or [C, D, H, W]).
 */
export class AvgPool3d extends AvgPoolNd {
  static override readonly name: string = "AvgPool3d";
  static readonly signature = AVG_POOL3D;
  protected pool(x: Tensor, kernelSize: SizeArg, o: AvgPoolOptions): Tensor {
    return avgPool3d(x, kernelSize, o);
  }
}

const single = (v: number | readonly number[]): number[] => (typeof v === "number" ? [v] : [...v]);

/** `AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)` over [N, C, L]. */
export class AvgPool1d extends Module {
  static override readonly name: string = "AvgPool1d";
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

/** Shared by AdaptiveAvgPool1d/2d/3d: `(output_size)`. */
abstract class AdaptiveAvgPoolNd extends Module {
  readonly outputSize: number | readonly (number | null)[];
  constructor(...args: CallsOf<typeof ADAPTIVE_AVG_POOL2D>) {
    super();
    this.outputSize = parseBy<typeof ADAPTIVE_AVG_POOL2D>(new.target, args).outputSize;
  }
  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}
const ADAPTIVE_AVG_POOL1D = signature("nn.AdaptiveAvgPool1d", [arg("outputSize", size1)]);
/** PyTorch's `_size_2_opt_t`: an int, or a pair whose entries are ints or null (keep the input's size). */
const ADAPTIVE_AVG_POOL2D = signature("nn.AdaptiveAvgPool2d", [
  arg("outputSize", optSizeKind(2) as Kind<AdaptiveSize>),
]);
const ADAPTIVE_AVG_POOL3D = signature("nn.AdaptiveAvgPool3d", [arg("outputSize", optSizeKind(3))]);

/** `AdaptiveAvgPool1d(output_size)`: average pooling of [N, C, L] to a fixed length. */
export class AdaptiveAvgPool1d extends AdaptiveAvgPoolNd {
  static override readonly name: string = "AdaptiveAvgPool1d";
  static readonly signature = ADAPTIVE_AVG_POOL1D;
  declare readonly outputSize: SizeArg;
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool1d(x, this.outputSize);
  }
}
/** `AdaptiveAvgPool2d(output_size)`: average pooling to a fixed output size: `new nn.AdaptiveAvgPool2d([5, 7])` or `(7)`. */
export class AdaptiveAvgPool2d extends AdaptiveAvgPoolNd {
  static override readonly name: string = "AdaptiveAvgPool2d";
  static readonly signature = ADAPTIVE_AVG_POOL2D;
  declare readonly outputSize: AdaptiveSize;
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
/** `AdaptiveAvgPool3d(output_size)`: average pooling of [N, C, D, H, W] to a fixed size (null keeps a dim). */
export class AdaptiveAvgPool3d extends AdaptiveAvgPoolNd {
  static override readonly name: string = "AdaptiveAvgPool3d";
  static readonly signature = ADAPTIVE_AVG_POOL3D;
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool3d(x, this.outputSize as never);
  }
}

/** Shared by AdaptiveMaxPool1d/2d/3d: `(output_size, return_indices=False)`. */
abstract class AdaptiveMaxPool<R extends boolean> extends Module {
  readonly outputSize: number | readonly (number | null)[];
  readonly returnIndices: R;
  constructor(...args: CallsOf<typeof ADAPTIVE_MAX_POOL2D>) {
    super();
    const a = parseBy<typeof ADAPTIVE_MAX_POOL2D>(new.target, args);
    this.outputSize = a.outputSize;
    this.returnIndices = a.returnIndices as R;
  }
  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}
const adaptiveMaxParams = (n: number) =>
  [arg("outputSize", optSizeKind(n)), arg("returnIndices", k.bool, false)] as const;
const ADAPTIVE_MAX_POOL1D = signature("nn.AdaptiveMaxPool1d", adaptiveMaxParams(1));
const ADAPTIVE_MAX_POOL2D = signature("nn.AdaptiveMaxPool2d", adaptiveMaxParams(2));
const ADAPTIVE_MAX_POOL3D = signature("nn.AdaptiveMaxPool3d", adaptiveMaxParams(3));

/** `AdaptiveMaxPool1d(output_size, return_indices=False)` over [N, C, L]. */
export class AdaptiveMaxPool1d<R extends boolean = false> extends AdaptiveMaxPool<R> {
  static override readonly name: string = "AdaptiveMaxPool1d";
  static readonly signature = ADAPTIVE_MAX_POOL1D;
  override forward(x: Tensor): Pooled<R> {
    return adaptiveMaxPool1d(x, this.outputSize as never, { returnIndices: this.returnIndices }) as Pooled<R>;
  }
}
/** `AdaptiveMaxPool2d(output_size, return_indices=False)` over [N, C, H, W]. */
export class AdaptiveMaxPool2d<R extends boolean = false> extends AdaptiveMaxPool<R> {
  static override readonly name: string = "AdaptiveMaxPool2d";
  static readonly signature = ADAPTIVE_MAX_POOL2D;
  override forward(x: Tensor): Pooled<R> {
    return adaptiveMaxPool2d(x, this.outputSize as never, { returnIndices: this.returnIndices }) as Pooled<R>;
  }
}
/** `AdaptiveMaxPool3d(output_size, return_indices=False)` over [N, C, D, H, W]. */
export class AdaptiveMaxPool3d<R extends boolean = false> extends AdaptiveMaxPool<R> {
  static override readonly name: string = "AdaptiveMaxPool3d";
  static readonly signature = ADAPTIVE_MAX_POOL3D;
  override forward(x: Tensor): Pooled<R> {
    return adaptiveMaxPool3d(x, this.outputSize as never, { returnIndices: this.returnIndices }) as Pooled<R>;
  }
}

/** Shared by LPPool1d/2d: `(norm_type, kernel_size, stride=None, ceil_mode=False)`. */
abstract class LPPool extends Module {
  readonly normType: number;
  readonly kernelSize: SizeArg;
  readonly stride: SizeArg | null;
  readonly ceilMode: boolean;
  constructor(...args: CallsOf<typeof LP_POOL2D>) {
    super();
    const a = parseBy<typeof LP_POOL2D>(new.target, args);
    this.normType = a.normType;
    this.kernelSize = a.kernelSize;
    this.stride = a.stride;
    this.ceilMode = a.ceilMode;
  }
  override extraRepr(): string {
    const stride = this.stride === null ? "None" : pyIntOrTuple(this.stride);
    return `norm_type=${this.normType}, kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${stride}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}
const lpParams = (size: Kind<number | readonly number[]>) =>
  [
    arg("normType", k.float),
    arg("kernelSize", size),
    arg.opt("stride", size),
    arg("ceilMode", k.bool, false),
  ] as const;
const LP_POOL1D = signature("nn.LPPool1d", lpParams(size1));
const LP_POOL2D = signature("nn.LPPool2d", lpParams(size2));
/** `LPPool1d(norm_type, kernel_size, stride=None, ceil_mode=False)`: the p-norm of each window. */
export class LPPool1d extends LPPool {
  static override readonly name: string = "LPPool1d";
  static readonly signature = LP_POOL1D;
  override forward(x: Tensor): Tensor {
    return lpPool1d(x, this.normType, this.kernelSize, { stride: this.stride, ceilMode: this.ceilMode });
  }
}
/** `LPPool2d(norm_type, kernel_size, stride=None, ceil_mode=False)`: the p-norm of each window. */
export class LPPool2d extends LPPool {
  static override readonly name: string = "LPPool2d";
  static readonly signature = LP_POOL2D;
  override forward(x: Tensor): Tensor {
    return lpPool2d(x, this.normType, this.kernelSize, { stride: this.stride, ceilMode: this.ceilMode });
  }
}

/** Shared by MaxUnpool1d/2d/3d: `(kernel_size, stride=None, padding=0)`, kept as tuples (and printed so). */
abstract class MaxUnpool extends Module {
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  protected constructor(n: number, a: { kernelSize: SizeArg; stride: SizeArg | null; padding: SizeArg }) {
    super();
    const tuple = (v: SizeArg): number[] => (typeof v === "number" ? new Array<number>(n).fill(v) : [...v]);
    this.kernelSize = tuple(a.kernelSize);
    this.stride = tuple(a.stride ?? a.kernelSize);
    this.padding = tuple(a.padding);
  }
  /** `forward(input, indices, outputSize?)` by maxUnpool1d/2d/3d (the kernel size holds one entry a dim). */
  override forward(x: Tensor, indices: Tensor, outputSize: readonly number[] | null = null): Tensor {
    const unpool = [maxUnpool1d, maxUnpool2d, maxUnpool3d][this.kernelSize.length - 1];
    return unpool(x, indices, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      outputSize,
    });
  }
  override extraRepr(): string {
    return `kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}, padding=${pyTuple(this.padding)}`;
  }
}
const unpoolParams = (size: Kind<number | readonly number[]>) =>
  [arg("kernelSize", size), arg.opt("stride", size), arg("padding", size, 0)] as const;
const MAX_UNPOOL1D = signature("nn.MaxUnpool1d", unpoolParams(size1));
const MAX_UNPOOL2D = signature("nn.MaxUnpool2d", unpoolParams(size2));
const MAX_UNPOOL3D = signature("nn.MaxUnpool3d", unpoolParams(size3));
/** `MaxUnpool1d(kernel_size, stride=None, padding=0)`: `forward(input, indices, outputSize?)`. */
export class MaxUnpool1d extends MaxUnpool {
  static override readonly name: string = "MaxUnpool1d";
  static readonly signature = MAX_UNPOOL1D;
  constructor(...args: CallsOf<typeof MAX_UNPOOL1D>) {
    super(1, MAX_UNPOOL1D.parse(args));
  }
}
/** `MaxUnpool2d(kernel_size, stride=None, padding=0)`: `forward(input, indices, outputSize?)`. */
export class MaxUnpool2d extends MaxUnpool {
  static override readonly name: string = "MaxUnpool2d";
  static readonly signature = MAX_UNPOOL2D;
  constructor(...args: CallsOf<typeof MAX_UNPOOL2D>) {
    super(2, MAX_UNPOOL2D.parse(args));
  }
}
/** `MaxUnpool3d(kernel_size, stride=None, padding=0)`: `forward(input, indices, outputSize?)`. */
export class MaxUnpool3d extends MaxUnpool {
  static override readonly name: string = "MaxUnpool3d";
  static readonly signature = MAX_UNPOOL3D;
  constructor(...args: CallsOf<typeof MAX_UNPOOL3D>) {
    super(3, MAX_UNPOOL3D.parse(args));
  }
}

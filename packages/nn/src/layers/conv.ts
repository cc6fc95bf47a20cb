/** Conv1d/2d/3d, ConvTranspose1d/2d/3d, Unfold and Fold. */
import { arg, type CallsOf, type DType, empty, type Kind, k, signature, type Tensor } from "@cinder/tensor";
import {
  conv1d,
  conv2d,
  convTranspose1d,
  convTranspose2d,
  fold,
  type Size2,
  unfold,
} from "../functional/conv";
import { conv3d, convTranspose3d } from "../functional/conv3d";
import { type PadMode, pad } from "../functional/pad";
import { pyIntOrTuple } from "../functional/windows";
import * as init from "../init";
import { Module, Parameter } from "../module";
import { pyTuple } from "../util";
import { deviceArg, dtypeArg, size1, size2, size3 } from "./args";

/**
 * How convolution layers pad their input (`paddingMode`): zeros, or the input reflected, replicated or
 * wrapped around.
 */
export type PaddingMode = "zeros" | "reflect" | "replicate" | "circular";

const paddingModeArg = arg("paddingMode", k.oneOf("zeros", "reflect", "replicate", "circular"), "zeros");
const convParams = (size: Kind<number | readonly number[]>) =>
  [
    arg("inChannels", k.int),
    arg("outChannels", k.int),
    arg("kernelSize", size),
    arg("stride", size, 1),
    arg("padding", k.or(k.oneOf("same", "valid"), size), 0),
    arg("dilation", size, 1),
    arg("groups", k.int, 1),
    arg("bias", k.bool, true),
    paddingModeArg,
    deviceArg,
    dtypeArg,
  ] as const;
const convTransposeParams = (size: Kind<number | readonly number[]>) =>
  [
    arg("inChannels", k.int),
    arg("outChannels", k.int),
    arg("kernelSize", size),
    arg("stride", size, 1),
    arg("padding", size, 0),
    arg("outputPadding", size, 0),
    arg("groups", k.int, 1),
    arg("bias", k.bool, true),
    arg("dilation", size, 1),
    paddingModeArg,
    deviceArg,
    dtypeArg,
  ] as const;
const CONV1D = signature("nn.Conv1d", convParams(size1));
const CONV2D = signature("nn.Conv2d", convParams(size2));
const CONV_TRANSPOSE1D = signature("nn.ConvTranspose1d", convTransposeParams(size1));
const CONV_TRANSPOSE2D = signature("nn.ConvTranspose2d", convTransposeParams(size2));
const CONV3D = signature("nn.Conv3d", convParams(size3));
const CONV_TRANSPOSE3D = signature("nn.ConvTranspose3d", convTransposeParams(size3));

/** The parsed arguments of any convolution layer's constructor. */
interface ConvArgs {
  inChannels: number;
  outChannels: number;
  kernelSize: number | readonly number[];
  stride: number | readonly number[];
  padding: number | readonly number[] | "same" | "valid";
  dilation: number | readonly number[];
  outputPadding?: number | readonly number[];
  groups: number;
  bias: boolean;
  paddingMode: PaddingMode;
  device: string | null;
  dtype: DType | null;
}

/** A size argument (already checked by its kind) as one int per spatial dim. */
function tuple(v: number | readonly number[], n: number): number[] {
  return typeof v === "number" ? new Array<number>(n).fill(v) : [...v];
}

/**
 * Shared by every convolution layer, as PyTorch's _ConvNd: the hyper-parameters as tuples, `weight` and
 * `bias`, PyTorch's default initialisation and printing.
 */
export abstract class ConvNd extends Module {
  static override readonly name: string = "ConvNd";
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | "same" | "valid";
  readonly dilation: number[];
  readonly transposed: boolean;
  readonly outputPadding: number[];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  /** [out, in/groups, ...kernel] (transposed: [in, out/groups, ...kernel]). */
  weight: Parameter;
  bias: Parameter | null;

  protected constructor(name: string, spatial: number, transposed: boolean, o: ConvArgs) {
    super();
    const { inChannels, outChannels, groups } = o;
    if (groups <= 0) throw new RangeError(`${name}: groups must be a positive integer, got ${groups}`);
    if (inChannels % groups !== 0)
      throw new RangeError(`${name}: in_channels (${inChannels}) must be divisible by groups (${groups})`);
    if (outChannels % groups !== 0)
      throw new RangeError(`${name}: out_channels (${outChannels}) must be divisible by groups (${groups})`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = tuple(o.kernelSize, spatial);
    this.stride = tuple(o.stride, spatial);
    const p = o.padding;
    if (typeof p === "string") {
      if (p === "same" && this.stride.some((s) => s !== 1)) {
        throw new Error(`${name}: padding="same" is not supported for strided convolutions`);
      }
      this.padding = p;
    } else {
      this.padding = tuple(p, spatial);
    }
    this.dilation = tuple(o.dilation, spatial);
    this.transposed = transposed;
    this.outputPadding = tuple(o.outputPadding ?? 0, spatial);
    this.groups = groups;
    const mode = o.paddingMode;
    if (transposed && mode !== "zeros")
      throw new Error(`Only "zeros" padding mode is supported for ${name}, got ${JSON.stringify(mode)}`);
    this.paddingMode = mode;
    const f = { device: o.device ?? undefined, dtype: o.dtype ?? "float32" };
    const shape = transposed
      ? [inChannels, outChannels / groups, ...this.kernelSize]
      : [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = new Parameter(empty(shape, f));
    this.bias = o.bias ? new Parameter(empty([outChannels], f)) : null;
    this.resetParameters();
  }

  /** kaiming_uniform_(a = sqrt(5)) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias. */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const { fanIn } = init.calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) {
        const bound = 1 / Math.sqrt(fanIn);
        init.uniform_(this.bias, -bound, bound);
      }
    }
  }

  /** F.pad amounts for a non-zero padding mode: [left, right] of the last dim first (PyTorch's reversed order). */
  protected reversedPadding(): number[] {
    const out: number[] = [];
    for (let i = this.kernelSize.length - 1; i >= 0; i--) {
      if (this.padding === "valid") out.push(0, 0);
      else if (this.padding === "same") {
        const total = this.dilation[i] * (this.kernelSize[i] - 1);
        out.push(Math.floor(total / 2), total - Math.floor(total / 2));
      } else out.push(this.padding[i], this.padding[i]);
    }
    return out;
  }

  /** The input padded by `paddingMode` when it is not "zeros" (the convolution then pads nothing itself). */
  protected padded(x: Tensor): { x: Tensor; padding: number[] | "same" | "valid" } {
    if (this.paddingMode === "zeros") return { x, padding: this.padding };
    return {
      x: pad(x, this.reversedPadding(), { mode: this.paddingMode as PadMode }),
      padding: this.kernelSize.map(() => 0),
    };
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === "string") s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.outputPadding.some((p) => p !== 0)) s += `, output_padding=${pyTuple(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ", bias=False";
    if (this.paddingMode !== "zeros") s += `, padding_mode=${this.paddingMode}`;
    return s;
  }
}

/**
 * `Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
 * padding_mode='zeros', device=None, dtype=None)` over [N, C_in, L] (or [C_in, L]): `new nn.Conv1d(16, 33, 3, 2)`
 * or `new nn.Conv1d(16, 33, 3, { stride: 2 })`.
 */
export class Conv1d extends ConvNd {
  static override readonly name: string = "Conv1d";
  static readonly signature = CONV1D;
  constructor(...args: CallsOf<typeof CONV1D>) {
    super("Conv1d", 1, false, CONV1D.parse(args));
  }
  override forward(x: Tensor): Tensor {
    const { x: xp, padding } = this.padded(x);
    return conv1d(xp, this.weight, this.bias, {
      stride: this.stride as [number],
      padding: typeof padding === "string" ? padding : (padding as [number]),
      dilation: this.dilation as [number],
      groups: this.groups,
    });
  }
}

/**
 * `Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
 * padding_mode='zeros', device=None, dtype=None)` over [N, C_in, H, W] (or [C_in, H, W]):
 * `new nn.Conv2d(1, 32, 3, 1, 1)` or `new nn.Conv2d(1, 32, 3, { padding: 1 })`.
 */
export class Conv2d extends ConvNd {
  static override readonly name: string = "Conv2d";
  static readonly signature = CONV2D;
  constructor(...args: CallsOf<typeof CONV2D>) {
    super("Conv2d", 2, false, CONV2D.parse(args));
  }
  override forward(x: Tensor): Tensor {
    const { x: xp, padding } = this.padded(x);
    return conv2d(xp, this.weight, this.bias, {
      stride: this.stride as [number, number],
      padding: typeof padding === "string" ? padding : (padding as [number, number]),
      dilation: this.dilation as [number, number],
      groups: this.groups,
    });
  }
}

/** PyTorch's _ConvTransposeNd._output_padding: the output padding that yields `outputSize`. */
function outputPaddingFor(m: ConvNd, x: Tensor, outputSize: readonly number[] | undefined): number[] {
  if (!outputSize) return m.outputPadding;
  const n = m.kernelSize.length;
  const want = outputSize.length > n ? outputSize.slice(-n) : [...outputSize];
  if (want.length !== n)
    throw new Error(`outputSize must have ${n} or ${n + 2} elements (got ${outputSize.length})`);
  const pad = m.padding as number[];
  return want.map((size, d) => {
    const inp = x.shape[x.ndim - n + d];
    const min = (inp - 1) * m.stride[d] - 2 * pad[d] + m.dilation[d] * (m.kernelSize[d] - 1) + 1;
    const max = min + m.stride[d] - 1;
    if (size < min || size > max) {
      throw new Error(
        `requested an output size of ${pyTuple(want)}, but valid sizes range from ${min} to ${max} in dim ${d} (for an input of ${pyTuple(x.shape.slice(-n))})`,
      );
    }
    return size - min;
  });
}

/**
 * `ConvTranspose1d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
 * bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None)`: weight [C_in, C_out/groups, k].
 * `forward(x, outputSize?)`.
 */
export class ConvTranspose1d extends ConvNd {
  static override readonly name: string = "ConvTranspose1d";
  static readonly signature = CONV_TRANSPOSE1D;
  constructor(...args: CallsOf<typeof CONV_TRANSPOSE1D>) {
    super("ConvTranspose1d", 1, true, CONV_TRANSPOSE1D.parse(args));
  }
  override forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    return convTranspose1d(x, this.weight, this.bias, {
      stride: this.stride as [number],
      padding: this.padding as [number],
      outputPadding: outputPaddingFor(this, x, outputSize) as [number],
      groups: this.groups,
      dilation: this.dilation as [number],
    });
  }
}

/**
 * `ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
 * bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None)`: weight [C_in, C_out/groups, kH, kW].
 * `forward(x, outputSize?)`.
 */
export class ConvTranspose2d extends ConvNd {
  static override readonly name: string = "ConvTranspose2d";
  static readonly signature = CONV_TRANSPOSE2D;
  constructor(...args: CallsOf<typeof CONV_TRANSPOSE2D>) {
    super("ConvTranspose2d", 2, true, CONV_TRANSPOSE2D.parse(args));
  }
  override forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride as [number, number],
      padding: this.padding as [number, number],
      outputPadding: outputPaddingFor(this, x, outputSize) as [number, number],
      groups: this.groups,
      dilation: this.dilation as [number, number],
    });
  }
}

/**
 * `Conv3d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
 * padding_mode='zeros', device=None, dtype=None)` over [N, C_in, D, H, W] (or [C_in, D, H, W]).
 */
export class Conv3d extends ConvNd {
  static override readonly name: string = "Conv3d";
  static readonly signature = CONV3D;
  constructor(...args: CallsOf<typeof CONV3D>) {
    super("Conv3d", 3, false, CONV3D.parse(args));
  }
  override forward(x: Tensor): Tensor {
    const { x: xp, padding } = this.padded(x);
    return conv3d(xp, this.weight, this.bias, {
      stride: this.stride,
      padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

/**
 * `ConvTranspose3d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
 * bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None)`: weight [C_in, C_out/groups, kD, kH, kW].
 * `forward(x, outputSize?)`.
 */
export class ConvTranspose3d extends ConvNd {
  static override readonly name: string = "ConvTranspose3d";
  static readonly signature = CONV_TRANSPOSE3D;
  constructor(...args: CallsOf<typeof CONV_TRANSPOSE3D>) {
    super("ConvTranspose3d", 3, true, CONV_TRANSPOSE3D.parse(args));
  }
  override forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    return convTranspose3d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding as number[],
      outputPadding: outputPaddingFor(this, x, outputSize),
      groups: this.groups,
      dilation: this.dilation,
    });
  }
}

const UNFOLD = signature("nn.Unfold", [
  arg("kernelSize", size2),
  arg("dilation", size2, 1),
  arg("padding", size2, 0),
  arg("stride", size2, 1),
]);
/** `Unfold(kernel_size, dilation=1, padding=0, stride=1)`: sliding blocks [N, C, H, W] -> [N, C * kH * kW, L]. */
export class Unfold extends Module {
  static override readonly name: string = "Unfold";
  static readonly signature = UNFOLD;
  readonly kernelSize: Size2;
  readonly dilation: Size2;
  readonly padding: Size2;
  readonly stride: Size2;
  constructor(...args: CallsOf<typeof UNFOLD>) {
    super();
    const a = UNFOLD.parse(args);
    this.kernelSize = a.kernelSize as Size2;
    this.dilation = a.dilation as Size2;
    this.padding = a.padding as Size2;
    this.stride = a.stride as Size2;
  }
  override forward(x: Tensor): Tensor {
    return unfold(x, this.kernelSize, {
      dilation: this.dilation,
      padding: this.padding,
      stride: this.stride,
    });
  }
  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, dilation=${pyIntOrTuple(this.dilation)}, padding=${pyIntOrTuple(this.padding)}, stride=${pyIntOrTuple(this.stride)}`;
  }
}

const FOLD = signature("nn.Fold", [
  arg("outputSize", size2),
  arg("kernelSize", size2),
  arg("dilation", size2, 1),
  arg("padding", size2, 0),
  arg("stride", size2, 1),
]);
/** `Fold(output_size, kernel_size, dilation=1, padding=0, stride=1)`: sum sliding blocks back into an image. */
export class Fold extends Module {
  static override readonly name: string = "Fold";
  static readonly signature = FOLD;
  readonly outputSize: Size2;
  readonly kernelSize: Size2;
  readonly dilation: Size2;
  readonly padding: Size2;
  readonly stride: Size2;
  constructor(...args: CallsOf<typeof FOLD>) {
    super();
    const a = FOLD.parse(args);
    this.outputSize = a.outputSize as Size2;
    this.kernelSize = a.kernelSize as Size2;
    this.dilation = a.dilation as Size2;
    this.padding = a.padding as Size2;
    this.stride = a.stride as Size2;
  }
  override forward(x: Tensor): Tensor {
    return fold(x, this.outputSize, this.kernelSize, {
      dilation: this.dilation,
      padding: this.padding,
      stride: this.stride,
    });
  }
  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}, kernel_size=${pyIntOrTuple(this.kernelSize)}, dilation=${pyIntOrTuple(this.dilation)}, padding=${pyIntOrTuple(this.padding)}, stride=${pyIntOrTuple(this.stride)}`;
  }
}

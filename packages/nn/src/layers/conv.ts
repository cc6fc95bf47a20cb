/** Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Unfold and Fold. */
import { empty, type Tensor } from "@cinder/tensor";
import {
  conv1d,
  conv2d,
  convTranspose1d,
  convTranspose2d,
  fold,
  type Size1,
  type Size2,
  type UnfoldOptions,
  unfold,
} from "../functional/conv";
import { type PadMode, pad } from "../functional/pad";
import { pyIntOrTuple } from "../functional/windows";
import * as init from "../init";
import { Module, Parameter } from "../module";
import { type FactoryOptions, pyTuple } from "../util";

export type PaddingMode = "zeros" | "reflect" | "replicate" | "circular";

export interface ConvOptions<S> extends FactoryOptions {
  stride?: S;
  /** Padding on both sides; "valid" (none) or "same" (output size = input size; stride 1 only). */
  padding?: S | "same" | "valid";
  dilation?: S;
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** How the padding is filled (default "zeros"). */
  paddingMode?: PaddingMode;
}
export type Conv1dOptions = ConvOptions<Size1>;
export type Conv2dOptions = ConvOptions<Size2>;

export interface ConvTransposeOptions<S> extends FactoryOptions {
  stride?: S;
  padding?: S;
  outputPadding?: S;
  groups?: number;
  bias?: boolean;
  dilation?: S;
  /** Only "zeros", as in PyTorch. */
  paddingMode?: "zeros";
}
export type ConvTranspose1dOptions = ConvTransposeOptions<Size1>;
export type ConvTranspose2dOptions = ConvTransposeOptions<Size2>;

function tuple(v: number | readonly number[] | undefined, n: number, dflt: number, what: string): number[] {
  const xs =
    v === undefined
      ? new Array<number>(n).fill(dflt)
      : typeof v === "number"
        ? new Array<number>(n).fill(v)
        : [...v];
  if (xs.length !== n || !xs.every((x) => Number.isInteger(x))) {
    throw new TypeError(`${what} must be an integer or a list of ${n} integers, got ${JSON.stringify(v)}`);
  }
  return xs;
}

/**
 * Shared by every convolution layer, as PyTorch's _ConvNd: the hyper-parameters as tuples, `weight` and
 * `bias`, PyTorch's default initialisation and printing.
 */
export abstract class ConvNd extends Module {
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

  protected constructor(
    name: string,
    spatial: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    transposed: boolean,
    o: ConvOptions<number | readonly number[]> & { outputPadding?: number | readonly number[] },
  ) {
    super();
    const groups = o.groups ?? 1;
    if (!Number.isInteger(groups) || groups <= 0)
      throw new RangeError(`${name}: groups must be a positive integer, got ${groups}`);
    if (inChannels % groups !== 0)
      throw new RangeError(`${name}: in_channels (${inChannels}) must be divisible by groups (${groups})`);
    if (outChannels % groups !== 0)
      throw new RangeError(`${name}: out_channels (${outChannels}) must be divisible by groups (${groups})`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = tuple(kernelSize, spatial, 1, `${name}: kernelSize`);
    this.stride = tuple(o.stride, spatial, 1, `${name}: stride`);
    const p = o.padding;
    if (typeof p === "string") {
      if (p !== "same" && p !== "valid")
        throw new Error(
          `${name}: invalid padding string ${JSON.stringify(p)}, should be one of "valid", "same"`,
        );
      if (p === "same" && this.stride.some((s) => s !== 1)) {
        throw new Error(`${name}: padding="same" is not supported for strided convolutions`);
      }
      this.padding = p;
    } else {
      this.padding = tuple(p, spatial, 0, `${name}: padding`);
    }
    this.dilation = tuple(o.dilation, spatial, 1, `${name}: dilation`);
    this.transposed = transposed;
    this.outputPadding = tuple(o.outputPadding, spatial, 0, `${name}: outputPadding`);
    this.groups = groups;
    const mode = o.paddingMode ?? "zeros";
    if (!["zeros", "reflect", "replicate", "circular"].includes(mode)) {
      throw new Error(
        `${name}: paddingMode must be one of "zeros", "reflect", "replicate", "circular", got ${JSON.stringify(mode)}`,
      );
    }
    if (transposed && mode !== "zeros") throw new Error(`${name}: only "zeros" padding mode is supported`);
    this.paddingMode = mode;
    const f = { device: o.device, dtype: o.dtype ?? "float32" };
    const shape = transposed
      ? [inChannels, outChannels / groups, ...this.kernelSize]
      : [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = new Parameter(empty(shape, f));
    this.bias = (o.bias ?? true) ? new Parameter(empty([outChannels], f)) : null;
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

/** 1-D convolution over [N, C_in, L] (or [C_in, L]): `new nn.Conv1d(16, 33, 3, { stride: 2 })`. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size1, opts: Conv1dOptions = {}) {
    super("Conv1d", 1, inChannels, outChannels, kernelSize, false, opts);
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

/** 2-D convolution over [N, C_in, H, W] (or [C_in, H, W]): `new nn.Conv2d(1, 32, 3, { padding: 1 })`. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size2, opts: Conv2dOptions = {}) {
    super("Conv2d", 2, inChannels, outChannels, kernelSize, false, opts);
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

/** Transposed 1-D convolution: weight [C_in, C_out/groups, k]. `forward(x, outputSize?)`. */
export class ConvTranspose1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size1, opts: ConvTranspose1dOptions = {}) {
    super("ConvTranspose1d", 1, inChannels, outChannels, kernelSize, true, opts);
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

/** Transposed 2-D convolution: weight [C_in, C_out/groups, kH, kW]. `forward(x, outputSize?)`. */
export class ConvTranspose2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size2, opts: ConvTranspose2dOptions = {}) {
    super("ConvTranspose2d", 2, inChannels, outChannels, kernelSize, true, opts);
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

/** Extract sliding blocks [N, C, H, W] -> [N, C * kH * kW, L] (F.unfold as a module). */
export class Unfold extends Module {
  readonly kernelSize: Size2;
  readonly dilation: Size2;
  readonly padding: Size2;
  readonly stride: Size2;
  constructor(kernelSize: Size2, opts: UnfoldOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.dilation = opts.dilation ?? 1;
    this.padding = opts.padding ?? 0;
    this.stride = opts.stride ?? 1;
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

/** Sum sliding blocks back into an image [N, C * kH * kW, L] -> [N, C, H, W] (F.fold as a module). */
export class Fold extends Module {
  readonly outputSize: Size2;
  readonly kernelSize: Size2;
  readonly dilation: Size2;
  readonly padding: Size2;
  readonly stride: Size2;
  constructor(outputSize: Size2, kernelSize: Size2, opts: UnfoldOptions = {}) {
    super();
    this.outputSize = outputSize;
    this.kernelSize = kernelSize;
    this.dilation = opts.dilation ?? 1;
    this.padding = opts.padding ?? 0;
    this.stride = opts.stride ?? 1;
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

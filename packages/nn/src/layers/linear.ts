/** Linear, Bilinear, Identity, Flatten and Unflatten. */
import {
  type AnyParam,
  arg,
  type CallsOf,
  empty,
  fmtShape,
  k,
  type Param,
  signature,
  type Tensor,
} from "@cinder/tensor";
import { linear } from "../functional/linear";
import * as init from "../init";
import { Module, Parameter } from "../module";
import { pyBool, pyTuple } from "../util";
import { deviceArg, dtypeArg } from "./args";

/** `*args, **kwargs`: anything, ignored (Identity's arguments). */
const anything: Param<"args", readonly unknown[], true> = {
  name: "args",
  kind: k.where(k.any, Array.isArray, "anything") as Param<"args", readonly unknown[], true>["kind"],
  optional: true,
  default: [],
  varargs: true,
};
const IDENTITY = signature("nn.Identity", [anything] as readonly AnyParam[]);

/** `Identity(*args, **kwargs)`: returns its input unchanged (its arguments are accepted and ignored, as PyTorch's). */
export class Identity extends Module {
  static override readonly name: string = "Identity";
  static readonly signature = IDENTITY;
  constructor(..._args: unknown[]) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x;
  }
}

const LINEAR = signature("nn.Linear", [
  arg("inFeatures", k.int),
  arg("outFeatures", k.int),
  arg("bias", k.bool, true),
  deviceArg,
  dtypeArg,
]);

/**
 * `Linear(in_features, out_features, bias=True, device=None, dtype=None)`: y = x W^T + b, with W [out, in] and
 * b [out]. Initialised as PyTorch: W by kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)), and b by
 * U(-1/sqrt(in), 1/sqrt(in)).
 */
export class Linear extends Module {
  static override readonly name: string = "Linear";
  static readonly signature = LINEAR;
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(...args: CallsOf<typeof LINEAR>) {
    super();
    const a = LINEAR.parse(args);
    this.inFeatures = a.inFeatures;
    this.outFeatures = a.outFeatures;
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    this.weight = new Parameter(empty([a.outFeatures, a.inFeatures], f));
    this.bias = a.bias ? new Parameter(empty([a.outFeatures], f)) : null;
    this.resetParameters();
  }

  /**
   * Re-initialises weight and bias as PyTorch does (Kaiming-uniform weight, uniform bias in
   * ±1/sqrt(in_features)).
   */
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

const BILINEAR = signature("nn.Bilinear", [
  arg("in1Features", k.int),
  arg("in2Features", k.int),
  arg("outFeatures", k.int),
  arg("bias", k.bool, true),
  deviceArg,
  dtypeArg,
]);

/**
 * `Bilinear(in1_features, in2_features, out_features, bias=True, device=None, dtype=None)`:
 * y[o] = x1^T W[o] x2 + b[o], with W [out, in1, in2], both initialised U(-1/sqrt(in1), 1/sqrt(in1)).
 */
export class Bilinear extends Module {
  static override readonly name: string = "Bilinear";
  static readonly signature = BILINEAR;
  readonly in1Features: number;
  readonly in2Features: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(...args: CallsOf<typeof BILINEAR>) {
    super();
    const a = BILINEAR.parse(args);
    this.in1Features = a.in1Features;
    this.in2Features = a.in2Features;
    this.outFeatures = a.outFeatures;
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    this.weight = new Parameter(empty([a.outFeatures, a.in1Features, a.in2Features], f));
    this.bias = a.bias ? new Parameter(empty([a.outFeatures], f)) : null;
    this.resetParameters();
  }

  /** Re-initialises weight and bias uniformly in ±1/sqrt(in1_features), as PyTorch does. */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.weight.shape[1]);
    init.uniform_(this.weight, -bound, bound);
    if (this.bias) init.uniform_(this.bias, -bound, bound);
  }

  /** x1 [..., in1], x2 [..., in2] -> [..., out]. */
  override forward(x1: Tensor, x2: Tensor): Tensor {
    const [o, i1, i2] = this.weight.shape;
    if (x1.shape[x1.ndim - 1] !== i1 || x2.shape[x2.ndim - 1] !== i2)
      throw new Error(
        `Bilinear: input1 size ${fmtShape(x1.shape)} and input2 size ${fmtShape(x2.shape)} do not match in1_features=${i1}, in2_features=${i2}`,
      );
    const lead = x1.shape.slice(0, -1);
    const a = x1.reshape([-1, i1]);
    const b = x2.reshape([-1, i2]);
    // (a @ W viewed [in1, out * in2]) -> [n, out, in2], times x2, summed over in2
    const w = this.weight.permute([1, 0, 2]).reshape([i1, o * i2]);
    let y = a.matmul(w).reshape([-1, o, i2]).mul(b.unsqueeze(1)).sum(-1);
    if (this.bias) y = y.add(this.bias);
    return y.reshape([...lead, o]);
  }

  override extraRepr(): string {
    return `in1_features=${this.in1Features}, in2_features=${this.in2Features}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

const FLATTEN = signature("nn.Flatten", [arg("startDim", k.int, 1), arg("endDim", k.int, -1)]);
/** `Flatten(start_dim=1, end_dim=-1)`: flatten dims startDim..endDim (by default all but the batch dim). */
export class Flatten extends Module {
  static override readonly name: string = "Flatten";
  static readonly signature = FLATTEN;
  readonly startDim: number;
  readonly endDim: number;
  constructor(...args: CallsOf<typeof FLATTEN>) {
    super();
    const a = FLATTEN.parse(args);
    this.startDim = a.startDim;
    this.endDim = a.endDim;
  }
  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

const UNFLATTEN = signature("nn.Unflatten", [arg("dim", k.int), arg("unflattenedSize", k.ints)]);
/** `Unflatten(dim, unflattened_size)`: expand dim `dim` into `unflattenedSize`. */
export class Unflatten extends Module {
  static override readonly name: string = "Unflatten";
  static readonly signature = UNFLATTEN;
  readonly dim: number;
  readonly unflattenedSize: readonly number[];
  constructor(...args: CallsOf<typeof UNFLATTEN>) {
    super();
    const a = UNFLATTEN.parse(args);
    this.dim = a.dim;
    this.unflattenedSize = [...a.unflattenedSize];
  }
  override forward(x: Tensor): Tensor {
    return x.unflatten(this.dim, this.unflattenedSize);
  }
  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyTuple(this.unflattenedSize)}`;
  }
}

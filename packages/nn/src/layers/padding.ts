/** Padding modules: ZeroPad2d, ConstantPad1d/2d/3d, ReflectionPad1d/2d/3d, ReplicationPad1d/2d/3d (F.pad as modules). */
import { arg, type CallsOf, type Kind, k, signature, type Tensor } from "@cinder/tensor";
import { pad } from "../functional/pad";
import { Module } from "../module";
import { pyFloat, pyTuple } from "../util";

/** An int (every side) or 2n ints [left, right, (top, bottom)]. */
function paddingKind(n: number): Kind<number | readonly number[]> {
  return k.where(k.intOrInts, (v) => typeof v === "number" || v.length === 2 * n, `int or int[${2 * n}]`);
}
const amounts = (v: number | readonly number[], n: number): number[] =>
  typeof v === "number" ? new Array<number>(2 * n).fill(v) : [...v];

const ZERO_PAD2D = signature("nn.ZeroPad2d", [arg("padding", paddingKind(2))]);
/** `ZeroPad2d(padding)`: pad the last two dims with zeros; padding (left, right, top, bottom). */
export class ZeroPad2d extends Module {
  static override readonly name: string = "ZeroPad2d";
  static readonly signature = ZERO_PAD2D;
  readonly padding: number[];
  constructor(...args: CallsOf<typeof ZERO_PAD2D>) {
    super();
    this.padding = amounts(ZERO_PAD2D.parse(args).padding, 2);
  }
  override forward(x: Tensor): Tensor {
    return pad(x, this.padding, { mode: "constant", value: 0 });
  }
  override extraRepr(): string {
    return pyTuple(this.padding);
  }
}

/** Constant padding of the last n dims: `(padding, value)`. */
abstract class ConstantPad extends Module {
  readonly padding: number[];
  readonly value: number;
  protected constructor(a: { padding: number | readonly number[]; value: number }, n: number) {
    super();
    this.padding = amounts(a.padding, n);
    this.value = a.value;
  }
  override forward(x: Tensor): Tensor {
    return pad(x, this.padding, { mode: "constant", value: this.value });
  }
  override extraRepr(): string {
    return `padding=${pyTuple(this.padding)}, value=${pyFloat(this.value)}`;
  }
}

const CONSTANT_PAD1D = signature("nn.ConstantPad1d", [arg("padding", paddingKind(1)), arg("value", k.float)]);
const CONSTANT_PAD2D = signature("nn.ConstantPad2d", [arg("padding", paddingKind(2)), arg("value", k.float)]);
const CONSTANT_PAD3D = signature("nn.ConstantPad3d", [arg("padding", paddingKind(3)), arg("value", k.float)]);
/** `ConstantPad1d(padding, value)`: pad the last dim with `value`. */
export class ConstantPad1d extends ConstantPad {
  static override readonly name: string = "ConstantPad1d";
  static readonly signature = CONSTANT_PAD1D;
  constructor(...args: CallsOf<typeof CONSTANT_PAD1D>) {
    super(CONSTANT_PAD1D.parse(args), 1);
  }
}
/** `ConstantPad2d(padding, value)`: pad the last two dims with `value`. */
export class ConstantPad2d extends ConstantPad {
  static override readonly name: string = "ConstantPad2d";
  static readonly signature = CONSTANT_PAD2D;
  constructor(...args: CallsOf<typeof CONSTANT_PAD2D>) {
    super(CONSTANT_PAD2D.parse(args), 2);
  }
}

/** Reflection and replication padding of the last n dims. */
abstract class ModePad extends Module {
  readonly padding: number[];
  protected constructor(
    padding: number | readonly number[],
    n: number,
    private readonly mode: "reflect" | "replicate",
  ) {
    super();
    this.padding = amounts(padding, n);
  }
  override forward(x: Tensor): Tensor {
    return pad(x, this.padding, { mode: this.mode });
  }
  override extraRepr(): string {
    return pyTuple(this.padding);
  }
}

const REFLECTION_PAD1D = signature("nn.ReflectionPad1d", [arg("padding", paddingKind(1))]);
const REFLECTION_PAD2D = signature("nn.ReflectionPad2d", [arg("padding", paddingKind(2))]);
const REPLICATION_PAD1D = signature("nn.ReplicationPad1d", [arg("padding", paddingKind(1))]);
const REPLICATION_PAD2D = signature("nn.ReplicationPad2d", [arg("padding", paddingKind(2))]);
/** `ReflectionPad1d(padding)`: pad the last dim with its reflection (the edge not repeated). */
export class ReflectionPad1d extends ModePad {
  static override readonly name: string = "ReflectionPad1d";
  static readonly signature = REFLECTION_PAD1D;
  constructor(...args: CallsOf<typeof REFLECTION_PAD1D>) {
    super(REFLECTION_PAD1D.parse(args).padding, 1, "reflect");
  }
}
/** `ReflectionPad2d(padding)`: pad the last two dims with their reflection. */
export class ReflectionPad2d extends ModePad {
  static override readonly name: string = "ReflectionPad2d";
  static readonly signature = REFLECTION_PAD2D;
  constructor(...args: CallsOf<typeof REFLECTION_PAD2D>) {
    super(REFLECTION_PAD2D.parse(args).padding, 2, "reflect");
  }
}
/** `ReplicationPad1d(padding)`: pad the last dim by repeating its edge values. */
export class ReplicationPad1d extends ModePad {
  static override readonly name: string = "ReplicationPad1d";
  static readonly signature = REPLICATION_PAD1D;
  constructor(...args: CallsOf<typeof REPLICATION_PAD1D>) {
    super(REPLICATION_PAD1D.parse(args).padding, 1, "replicate");
  }
}
/** `ReplicationPad2d(padding)`: pad the last two dims by repeating their edge values. */
export class ReplicationPad2d extends ModePad {
  static override readonly name: string = "ReplicationPad2d";
  static readonly signature = REPLICATION_PAD2D;
  constructor(...args: CallsOf<typeof REPLICATION_PAD2D>) {
    super(REPLICATION_PAD2D.parse(args).padding, 2, "replicate");
  }
}
/** `ConstantPad3d(padding, value)`: pad the last three dims with `value`. */
export class ConstantPad3d extends ConstantPad {
  static override readonly name: string = "ConstantPad3d";
  static readonly signature = CONSTANT_PAD3D;
  constructor(...args: CallsOf<typeof CONSTANT_PAD3D>) {
    super(CONSTANT_PAD3D.parse(args), 3);
  }
}

const REFLECTION_PAD3D = signature("nn.ReflectionPad3d", [arg("padding", paddingKind(3))]);
const REPLICATION_PAD3D = signature("nn.ReplicationPad3d", [arg("padding", paddingKind(3))]);
/** `ReflectionPad3d(padding)`: pad the last three dims with their reflection. */
export class ReflectionPad3d extends ModePad {
  static override readonly name: string = "ReflectionPad3d";
  static readonly signature = REFLECTION_PAD3D;
  constructor(...args: CallsOf<typeof REFLECTION_PAD3D>) {
    super(REFLECTION_PAD3D.parse(args).padding, 3, "reflect");
  }
}
/** `ReplicationPad3d(padding)`: pad the last three dims by repeating their edge values. */
export class ReplicationPad3d extends ModePad {
  static override readonly name: string = "ReplicationPad3d";
  static readonly signature = REPLICATION_PAD3D;
  constructor(...args: CallsOf<typeof REPLICATION_PAD3D>) {
    super(REPLICATION_PAD3D.parse(args).padding, 3, "replicate");
  }
}

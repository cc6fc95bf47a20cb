/**
 * Activation modules: thin wrappers over the functional forms, constructed with PyTorch's signatures
 * (`new nn.LeakyReLU(0.2)`, `new nn.LeakyReLU({ negativeSlope: 0.2, inplace: true })`) and printing like PyTorch's.
 */
import { arg, type CallsOf, full, k, noGrad, signature, type Tensor } from "@cinder/tensor";
import * as F from "../functional/activation";
import { Module, Parameter } from "../module";
import { pyFloat } from "../util";
import { deviceArg, dtypeArg, inplaceArg } from "./args";

function inplaceRepr(inplace: boolean): string {
  return inplace ? "inplace=True" : "";
}

const RELU = signature("nn.ReLU", [inplaceArg]);
/** `ReLU(inplace=False)`: max(0, x). */
export class ReLU extends Module {
  static override readonly name: string = "ReLU";
  static readonly signature = RELU;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof RELU>) {
    super();
    this.inplace = RELU.parse(args).inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.relu(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace);
  }
}

const RELU6 = signature("nn.ReLU6", [inplaceArg]);
/** `ReLU6(inplace=False)`: min(max(0, x), 6). */
export class ReLU6 extends Module {
  static override readonly name: string = "ReLU6";
  static readonly signature = RELU6;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof RELU6>) {
    super();
    this.inplace = RELU6.parse(args).inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.relu6(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace);
  }
}

const HARDTANH = signature("nn.Hardtanh", [
  arg("minVal", k.float, -1),
  arg("maxVal", k.float, 1),
  inplaceArg,
  arg.unsupported("minValue", null, "deprecated in PyTorch: use minVal"),
  arg.unsupported("maxValue", null, "deprecated in PyTorch: use maxVal"),
]);
/** `Hardtanh(min_val=-1.0, max_val=1.0, inplace=False)`: x clamped to [minVal, maxVal]. */
export class Hardtanh extends Module {
  static override readonly name: string = "Hardtanh";
  static readonly signature = HARDTANH;
  readonly minVal: number;
  readonly maxVal: number;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof HARDTANH>) {
    super();
    const a = HARDTANH.parse(args);
    if (a.maxVal <= a.minVal)
      throw new RangeError(`Hardtanh: max_val (${a.maxVal}) must be greater than min_val (${a.minVal})`);
    this.minVal = a.minVal;
    this.maxVal = a.maxVal;
    this.inplace = a.inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.hardtanh(x, { minVal: this.minVal, maxVal: this.maxVal, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `min_val=${pyFloat(this.minVal)}, max_val=${pyFloat(this.maxVal)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

const LEAKY_RELU = signature("nn.LeakyReLU", [arg("negativeSlope", k.float, 0.01), inplaceArg]);
/** `LeakyReLU(negative_slope=0.01, inplace=False)`. */
export class LeakyReLU extends Module {
  static override readonly name: string = "LeakyReLU";
  static readonly signature = LEAKY_RELU;
  readonly negativeSlope: number;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof LEAKY_RELU>) {
    super();
    const a = LEAKY_RELU.parse(args);
    this.negativeSlope = a.negativeSlope;
    this.inplace = a.inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.leakyRelu(x, { negativeSlope: this.negativeSlope, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

const ELU_SIG = signature("nn.ELU", [arg("alpha", k.float, 1.0), inplaceArg]);
/** `ELU(alpha=1.0, inplace=False)`. */
export class ELU extends Module {
  static override readonly name: string = "ELU";
  static readonly signature = ELU_SIG;
  readonly alpha: number;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof ELU_SIG>) {
    super();
    const a = ELU_SIG.parse(args);
    this.alpha = a.alpha;
    this.inplace = a.inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.elu(x, { alpha: this.alpha, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

const CELU_SIG = signature("nn.CELU", [arg("alpha", k.float, 1.0), inplaceArg]);
/** `CELU(alpha=1.0, inplace=False)`: max(0, x) + min(0, alpha * (exp(x / alpha) - 1)). */
export class CELU extends Module {
  static override readonly name: string = "CELU";
  static readonly signature = CELU_SIG;
  readonly alpha: number;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof CELU_SIG>) {
    super();
    const a = CELU_SIG.parse(args);
    this.alpha = a.alpha;
    this.inplace = a.inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.celu(x, { alpha: this.alpha, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

const SELU_SIG = signature("nn.SELU", [inplaceArg]);
/** `SELU(inplace=False)`. */
export class SELU extends Module {
  static override readonly name: string = "SELU";
  static readonly signature = SELU_SIG;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof SELU_SIG>) {
    super();
    this.inplace = SELU_SIG.parse(args).inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.selu(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace);
  }
}

const GELU_SIG = signature("nn.GELU", [arg("approximate", k.oneOf("none", "tanh"), "none")]);
/** `GELU(approximate='none')`; `new GELU("tanh")` (or `{ approximate: "tanh" }`) for the tanh approximation. */
export class GELU extends Module {
  static override readonly name: string = "GELU";
  static readonly signature = GELU_SIG;
  readonly approximate: "none" | "tanh";
  constructor(...args: CallsOf<typeof GELU_SIG>) {
    super();
    this.approximate = GELU_SIG.parse(args).approximate;
  }
  override forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

const SILU = signature("nn.SiLU", [inplaceArg]);
/** `SiLU(inplace=False)`: x * sigmoid(x). */
export class SiLU extends Module {
  static override readonly name: string = "SiLU";
  static readonly signature = SILU;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof SILU>) {
    super();
    this.inplace = SILU.parse(args).inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.silu(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace);
  }
}

const MISH = signature("nn.Mish", [inplaceArg]);
/** `Mish(inplace=False)`: x * tanh(softplus(x)). */
export class Mish extends Module {
  static override readonly name: string = "Mish";
  static readonly signature = MISH;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof MISH>) {
    super();
    this.inplace = MISH.parse(args).inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.mish(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace);
  }
}

const SOFTPLUS = signature("nn.Softplus", [arg("beta", k.float, 1), arg("threshold", k.float, 20)]);
/** `Softplus(beta=1, threshold=20)`: log(1 + exp(beta * x)) / beta, linear above the threshold. */
export class Softplus extends Module {
  static override readonly name: string = "Softplus";
  static readonly signature = SOFTPLUS;
  readonly beta: number;
  readonly threshold: number;
  constructor(...args: CallsOf<typeof SOFTPLUS>) {
    super();
    const a = SOFTPLUS.parse(args);
    this.beta = a.beta;
    this.threshold = a.threshold;
  }
  override forward(x: Tensor): Tensor {
    return F.softplus(x, { beta: this.beta, threshold: this.threshold });
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

const SIGMOID = signature("nn.Sigmoid", []);
/** `Sigmoid()`. */
export class Sigmoid extends Module {
  static override readonly name: string = "Sigmoid";
  static readonly signature = SIGMOID;
  constructor(...args: CallsOf<typeof SIGMOID>) {
    super();
    SIGMOID.parse(args);
  }
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

const LOG_SIGMOID = signature("nn.LogSigmoid", []);
/** `LogSigmoid()`: log(sigmoid(x)), computed stably. */
export class LogSigmoid extends Module {
  static override readonly name: string = "LogSigmoid";
  static readonly signature = LOG_SIGMOID;
  constructor(...args: CallsOf<typeof LOG_SIGMOID>) {
    super();
    LOG_SIGMOID.parse(args);
  }
  override forward(x: Tensor): Tensor {
    return F.logsigmoid(x);
  }
}

const TANH = signature("nn.Tanh", []);
/** `Tanh()`. */
export class Tanh extends Module {
  static override readonly name: string = "Tanh";
  static readonly signature = TANH;
  constructor(...args: CallsOf<typeof TANH>) {
    super();
    TANH.parse(args);
  }
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

const dimArg = arg.opt("dim", k.int);
const SOFTMAX = signature("nn.Softmax", [dimArg]);
/** `Softmax(dim=None)`: `new Softmax(1)` or `new Softmax({ dim: 1 })`. */
export class Softmax extends Module {
  static override readonly name: string = "Softmax";
  static readonly signature = SOFTMAX;
  readonly dim: number | null;
  constructor(...args: CallsOf<typeof SOFTMAX>) {
    super();
    this.dim = SOFTMAX.parse(args).dim;
  }
  override forward(x: Tensor): Tensor {
    return F.softmax(x, { dim: this.dim });
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

const LOG_SOFTMAX = signature("nn.LogSoftmax", [dimArg]);
/** `LogSoftmax(dim=None)`. */
export class LogSoftmax extends Module {
  static override readonly name: string = "LogSoftmax";
  static readonly signature = LOG_SOFTMAX;
  readonly dim: number | null;
  constructor(...args: CallsOf<typeof LOG_SOFTMAX>) {
    super();
    this.dim = LOG_SOFTMAX.parse(args).dim;
  }
  override forward(x: Tensor): Tensor {
    return F.logSoftmax(x, { dim: this.dim });
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

const SOFTMIN = signature("nn.Softmin", [dimArg]);
/** `Softmin(dim=None)`: softmax(-x). */
export class Softmin extends Module {
  static override readonly name: string = "Softmin";
  static readonly signature = SOFTMIN;
  readonly dim: number | null;
  constructor(...args: CallsOf<typeof SOFTMIN>) {
    super();
    this.dim = SOFTMIN.parse(args).dim;
  }
  override forward(x: Tensor): Tensor {
    return F.softmin(x, { dim: this.dim });
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

const HARDSIGMOID = signature("nn.Hardsigmoid", [inplaceArg]);
/** `Hardsigmoid(inplace=False)`: relu6(x + 3) / 6. */
export class Hardsigmoid extends Module {
  static override readonly name: string = "Hardsigmoid";
  static readonly signature = HARDSIGMOID;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof HARDSIGMOID>) {
    super();
    this.inplace = HARDSIGMOID.parse(args).inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.hardsigmoid(x, { inplace: this.inplace });
  }
}

const HARDSWISH = signature("nn.Hardswish", [inplaceArg]);
/** `Hardswish(inplace=False)`: x * relu6(x + 3) / 6. */
export class Hardswish extends Module {
  static override readonly name: string = "Hardswish";
  static readonly signature = HARDSWISH;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof HARDSWISH>) {
    super();
    this.inplace = HARDSWISH.parse(args).inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.hardswish(x, { inplace: this.inplace });
  }
}

const SOFTSIGN = signature("nn.Softsign", []);
/** `Softsign()`: x / (1 + |x|). */
export class Softsign extends Module {
  static override readonly name: string = "Softsign";
  static readonly signature = SOFTSIGN;
  constructor(...args: CallsOf<typeof SOFTSIGN>) {
    super();
    SOFTSIGN.parse(args);
  }
  override forward(x: Tensor): Tensor {
    return F.softsign(x);
  }
}

const TANHSHRINK = signature("nn.Tanhshrink", []);
/** `Tanhshrink()`: x - tanh(x). */
export class Tanhshrink extends Module {
  static override readonly name: string = "Tanhshrink";
  static readonly signature = TANHSHRINK;
  constructor(...args: CallsOf<typeof TANHSHRINK>) {
    super();
    TANHSHRINK.parse(args);
  }
  override forward(x: Tensor): Tensor {
    return F.tanhshrink(x);
  }
}

const HARDSHRINK = signature("nn.Hardshrink", [arg("lambd", k.float, 0.5)]);
/** `Hardshrink(lambd=0.5)`: x where |x| > lambd, else 0. */
export class Hardshrink extends Module {
  static override readonly name: string = "Hardshrink";
  static readonly signature = HARDSHRINK;
  readonly lambd: number;
  constructor(...args: CallsOf<typeof HARDSHRINK>) {
    super();
    this.lambd = HARDSHRINK.parse(args).lambd;
  }
  override forward(x: Tensor): Tensor {
    return F.hardshrink(x, { lambd: this.lambd });
  }
  override extraRepr(): string {
    return pyFloat(this.lambd);
  }
}

const SOFTSHRINK = signature("nn.Softshrink", [arg("lambd", k.float, 0.5)]);
/** `Softshrink(lambd=0.5)`: x - lambd above lambd, x + lambd below -lambd, else 0. */
export class Softshrink extends Module {
  static override readonly name: string = "Softshrink";
  static readonly signature = SOFTSHRINK;
  readonly lambd: number;
  constructor(...args: CallsOf<typeof SOFTSHRINK>) {
    super();
    this.lambd = SOFTSHRINK.parse(args).lambd;
  }
  override forward(x: Tensor): Tensor {
    return F.softshrink(x, { lambd: this.lambd });
  }
  override extraRepr(): string {
    return pyFloat(this.lambd);
  }
}

const THRESHOLD = signature("nn.Threshold", [arg("threshold", k.float), arg("value", k.float), inplaceArg]);
/** `Threshold(threshold, value, inplace=False)`: x where x > threshold, else value. */
export class Threshold extends Module {
  static override readonly name: string = "Threshold";
  static readonly signature = THRESHOLD;
  readonly threshold: number;
  readonly value: number;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof THRESHOLD>) {
    super();
    const a = THRESHOLD.parse(args);
    this.threshold = a.threshold;
    this.value = a.value;
    this.inplace = a.inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.threshold(x, { threshold: this.threshold, value: this.value, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `threshold=${pyFloat(this.threshold)}, value=${pyFloat(this.value)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

const GLU_SIG = signature("nn.GLU", [arg("dim", k.int, -1)]);
/** `GLU(dim=-1)`: a * sigmoid(b) for the halves a, b of the input along `dim`. */
export class GLU extends Module {
  static override readonly name: string = "GLU";
  static readonly signature = GLU_SIG;
  readonly dim: number;
  constructor(...args: CallsOf<typeof GLU_SIG>) {
    super();
    this.dim = GLU_SIG.parse(args).dim;
  }
  override forward(x: Tensor): Tensor {
    return F.glu(x, { dim: this.dim });
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

const PRELU = signature("nn.PReLU", [
  arg("numParameters", k.int, 1),
  arg("init", k.float, 0.25),
  deviceArg,
  dtypeArg,
]);
/** `PReLU(num_parameters=1, init=0.25, device=None, dtype=None)`: leaky ReLU with a learnt slope (per channel). */
export class PReLU extends Module {
  static override readonly name: string = "PReLU";
  static readonly signature = PRELU;
  readonly numParameters: number;
  readonly init: number;
  weight: Parameter;
  constructor(...args: CallsOf<typeof PRELU>) {
    super();
    const a = PRELU.parse(args);
    this.numParameters = a.numParameters;
    this.init = a.init;
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    this.weight = new Parameter(full([a.numParameters], a.init, f));
  }
  /** Refills the weight with its initial value `init` (default 0.25). */
  resetParameters(): void {
    noGrad(() => this.weight.fill_(this.init));
  }
  override forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }
  override extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}

const RRELU = signature("nn.RReLU", [arg("lower", k.float, 1 / 8), arg("upper", k.float, 1 / 3), inplaceArg]);
/**
 * `RReLU(lower=0.125, upper=0.3333333333333333, inplace=False)`: in training, a random slope from U(lower, upper)
 * per element for negative inputs; in eval mode the slope (lower + upper) / 2.
 */
export class RReLU extends Module {
  static override readonly name: string = "RReLU";
  static readonly signature = RRELU;
  readonly lower: number;
  readonly upper: number;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof RRELU>) {
    super();
    const a = RRELU.parse(args);
    this.lower = a.lower;
    this.upper = a.upper;
    this.inplace = a.inplace;
  }
  override forward(x: Tensor): Tensor {
    return F.rrelu(x, {
      lower: this.lower,
      upper: this.upper,
      training: this.training,
      inplace: this.inplace,
    });
  }
  override extraRepr(): string {
    return `lower=${pyFloat(this.lower)}, upper=${pyFloat(this.upper)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

const SOFTMAX2D = signature("nn.Softmax2d", []);
/** `Softmax2d()`: softmax over the channels of [N, C, H, W] (or [C, H, W]) at each location. */
export class Softmax2d extends Module {
  static override readonly name: string = "Softmax2d";
  static readonly signature = SOFTMAX2D;
  constructor(...args: CallsOf<typeof SOFTMAX2D>) {
    super();
    SOFTMAX2D.parse(args);
  }
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 3 && x.ndim !== 4)
      throw new Error(`Softmax2d: expected input to be 3D or 4D, got ${x.ndim}D instead`);
    return F.softmax(x, { dim: -3 });
  }
}

/** Activation modules: thin wrappers over the functional forms, printing like PyTorch's. */
import type { Tensor } from "@cinder/tensor";
import * as F from "../functional/activation";
import { Module } from "../module";
import { pyFloat } from "../util";

function inplaceRepr(inplace: boolean): string {
  return inplace ? "inplace=True" : "";
}

export class ReLU extends Module {
  readonly inplace: boolean;
  constructor(inplace: boolean | { inplace?: boolean } = false) {
    super();
    this.inplace = typeof inplace === "boolean" ? inplace : (inplace.inplace ?? false);
  }
  override forward(x: Tensor): Tensor {
    return F.relu(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace);
  }
}

export class ReLU6 extends Module {
  readonly inplace: boolean;
  constructor(inplace: boolean | { inplace?: boolean } = false) {
    super();
    this.inplace = typeof inplace === "boolean" ? inplace : (inplace.inplace ?? false);
  }
  override forward(x: Tensor): Tensor {
    return F.relu6(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace);
  }
}

export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  readonly inplace: boolean;
  constructor(negativeSlope: number | F.LeakyReluOptions = 0.01, inplace = false) {
    super();
    const o = typeof negativeSlope === "number" ? { negativeSlope, inplace } : negativeSlope;
    this.negativeSlope = o.negativeSlope ?? 0.01;
    this.inplace = o.inplace ?? false;
  }
  override forward(x: Tensor): Tensor {
    return F.leakyRelu(x, { negativeSlope: this.negativeSlope, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

export class ELU extends Module {
  readonly alpha: number;
  readonly inplace: boolean;
  constructor(alpha: number | F.EluOptions = 1, inplace = false) {
    super();
    const o = typeof alpha === "number" ? { alpha, inplace } : alpha;
    this.alpha = o.alpha ?? 1;
    this.inplace = o.inplace ?? false;
  }
  override forward(x: Tensor): Tensor {
    return F.elu(x, { alpha: this.alpha, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}${this.inplace ? ", inplace=True" : ""}`;
  }
}

/** GELU; `new GELU({ approximate: "tanh" })` (or `new GELU("tanh")`) for the tanh approximation. */
export class GELU extends Module {
  readonly approximate: "none" | "tanh";
  constructor(approximate: "none" | "tanh" | F.GeluOptions = "none") {
    super();
    this.approximate = typeof approximate === "string" ? approximate : (approximate.approximate ?? "none");
    if (this.approximate !== "none" && this.approximate !== "tanh") {
      throw new Error(`GELU: approximate must be "none" or "tanh", got ${JSON.stringify(this.approximate)}`);
    }
  }
  override forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

export class SiLU extends Module {
  readonly inplace: boolean;
  constructor(inplace: boolean | { inplace?: boolean } = false) {
    super();
    this.inplace = typeof inplace === "boolean" ? inplace : (inplace.inplace ?? false);
  }
  override forward(x: Tensor): Tensor {
    return F.silu(x, { inplace: this.inplace });
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace);
  }
}

export class Softplus extends Module {
  readonly beta: number;
  readonly threshold: number;
  constructor(opts: { beta?: number; threshold?: number } = {}) {
    super();
    this.beta = opts.beta ?? 1;
    this.threshold = opts.threshold ?? 20;
  }
  override forward(x: Tensor): Tensor {
    return F.softplus(x, { beta: this.beta, threshold: this.threshold });
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

type DimArg = number | null | { dim?: number | null };
const dimOf = (d: DimArg): number | null => (typeof d === "object" && d !== null ? (d.dim ?? null) : d);

/** Softmax over `dim`: `new Softmax(1)` or `new Softmax({ dim: 1 })`. */
export class Softmax extends Module {
  readonly dim: number | null;
  constructor(dim: DimArg = null) {
    super();
    this.dim = dimOf(dim);
  }
  override forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

export class LogSoftmax extends Module {
  readonly dim: number | null;
  constructor(dim: DimArg = null) {
    super();
    this.dim = dimOf(dim);
  }
  override forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

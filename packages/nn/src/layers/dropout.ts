/** Dropout. */
import type { Tensor } from "@cinder/tensor";
import { dropout } from "../functional/linear";
import { Module } from "../module";
import { checkProbability, pyBool, pyFloat } from "../util";

export interface DropoutOptions {
  /** Probability of an element to be zeroed (default 0.5). */
  p?: number;
  inplace?: boolean;
}

/**
 * In training mode, zero each element with probability p (from the seeded generator) and scale the rest by
 * 1/(1-p); in eval mode, the identity.
 */
export class Dropout extends Module {
  readonly p: number;
  readonly inplace: boolean;
  constructor(p: number | DropoutOptions = {}, inplace = false) {
    super();
    const o = typeof p === "number" ? { p, inplace } : p;
    this.p = o.p ?? 0.5;
    this.inplace = o.inplace ?? false;
    checkProbability(this.p, "dropout");
  }
  override forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(this.inplace)}`;
  }
}

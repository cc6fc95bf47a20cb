/** Dropout. */
import { arg, type CallsOf, k, signature, type Tensor } from "@cinder/tensor";
import { dropout } from "../functional/linear";
import { Module } from "../module";
import { checkProbability, pyBool, pyFloat } from "../util";
import { inplaceArg } from "./args";

const DROPOUT = signature("nn.Dropout", [arg("p", k.float, 0.5), inplaceArg]);

/**
 * `Dropout(p=0.5, inplace=False)`: in training mode, zero each element with probability p (from the seeded
 * generator) and scale the rest by 1/(1-p); in eval mode, the identity.
 */
export class Dropout extends Module {
  static readonly signature = DROPOUT;
  readonly p: number;
  readonly inplace: boolean;
  constructor(...args: CallsOf<typeof DROPOUT>) {
    super();
    const a = DROPOUT.parse(args);
    checkProbability(a.p, "dropout");
    this.p = a.p;
    this.inplace = a.inplace;
  }
  override forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(this.inplace)}`;
  }
}

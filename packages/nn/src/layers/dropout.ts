/** Dropout. */
import { arg, type CallsOf, k, signature, type Tensor } from "@cinder/tensor";
import {
  alphaDropout,
  dropout,
  dropout1d,
  dropout2d,
  dropout3d,
  featureAlphaDropout,
} from "../functional/linear";
import { Module } from "../module";
import { checkProbability, pyBool, pyFloat } from "../util";
import { inplaceArg } from "./args";

const DROPOUT = signature("nn.Dropout", [arg("p", k.float, 0.5), inplaceArg]);

/**
 * `Dropout(p=0.5, inplace=False)`: in training mode, zero each element with probability p (from the seeded
 * generator) and scale the rest by 1/(1-p); in eval mode, the identity.
 */
export class Dropout extends Module {
  static override readonly name: string = "Dropout";
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

const DROPOUT1D = signature("nn.Dropout1d", [arg("p", k.float, 0.5), inplaceArg]);
const DROPOUT2D = signature("nn.Dropout2d", [arg("p", k.float, 0.5), inplaceArg]);
const DROPOUT3D = signature("nn.Dropout3d", [arg("p", k.float, 0.5), inplaceArg]);

/** Channel dropout: whole channels zeroed with probability p in training (F.dropout1d/2d/3d). */
abstract class ChannelDropout extends Module {
  readonly p: number;
  readonly inplace: boolean;
  protected constructor(a: { p: number; inplace: boolean }) {
    super();
    checkProbability(a.p, "dropout");
    this.p = a.p;
    this.inplace = a.inplace;
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(this.inplace)}`;
  }
}
/** `Dropout1d(p=0.5, inplace=False)`: zero whole channels of [N, C, L] (or [C, L]) inputs. */
export class Dropout1d extends ChannelDropout {
  static override readonly name: string = "Dropout1d";
  static readonly signature = DROPOUT1D;
  constructor(...args: CallsOf<typeof DROPOUT1D>) {
    super(DROPOUT1D.parse(args));
  }
  override forward(x: Tensor): Tensor {
    return dropout1d(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
}
/** `Dropout2d(p=0.5, inplace=False)`: zero whole channels of [N, C, H, W] (or [C, H, W]) inputs. */
export class Dropout2d extends ChannelDropout {
  static override readonly name: string = "Dropout2d";
  static readonly signature = DROPOUT2D;
  constructor(...args: CallsOf<typeof DROPOUT2D>) {
    super(DROPOUT2D.parse(args));
  }
  override forward(x: Tensor): Tensor {
    return dropout2d(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
}
/** `Dropout3d(p=0.5, inplace=False)`: zero whole channels of [N, C, D, H, W] (or [C, D, H, W]) inputs. */
export class Dropout3d extends ChannelDropout {
  static override readonly name: string = "Dropout3d";
  static readonly signature = DROPOUT3D;
  constructor(...args: CallsOf<typeof DROPOUT3D>) {
    super(DROPOUT3D.parse(args));
  }
  override forward(x: Tensor): Tensor {
    return dropout3d(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
}

const ALPHA_DROPOUT = signature("nn.AlphaDropout", [arg("p", k.float, 0.5), inplaceArg]);
const FEATURE_ALPHA_DROPOUT = signature("nn.FeatureAlphaDropout", [arg("p", k.float, 0.5), inplaceArg]);
/** `AlphaDropout(p=0.5, inplace=False)`: dropout keeping SELU's self-normalising mean and variance. */
export class AlphaDropout extends ChannelDropout {
  static override readonly name: string = "AlphaDropout";
  static readonly signature = ALPHA_DROPOUT;
  constructor(...args: CallsOf<typeof ALPHA_DROPOUT>) {
    super(ALPHA_DROPOUT.parse(args));
  }
  override forward(x: Tensor): Tensor {
    return alphaDropout(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
}
/** `FeatureAlphaDropout(p=0.5, inplace=False)`: alpha dropout of whole channels. */
export class FeatureAlphaDropout extends ChannelDropout {
  static override readonly name: string = "FeatureAlphaDropout";
  static readonly signature = FEATURE_ALPHA_DROPOUT;
  constructor(...args: CallsOf<typeof FEATURE_ALPHA_DROPOUT>) {
    super(FEATURE_ALPHA_DROPOUT.parse(args));
  }
  override forward(x: Tensor): Tensor {
    return featureAlphaDropout(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
}

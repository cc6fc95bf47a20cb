/** CosineSimilarity and PairwiseDistance. */
import { arg, type CallsOf, k, signature, type Tensor } from "@cinder/tensor";
import { cosineSimilarity, pairwiseDistance } from "../functional/distance";
import { Module } from "../module";

const COSINE_SIMILARITY = signature("nn.CosineSimilarity", [arg("dim", k.int, 1), arg("eps", k.float, 1e-8)]);
/** `CosineSimilarity(dim=1, eps=1e-08)`: x1 . x2 / max(||x1|| ||x2||, eps) along `dim`. */
export class CosineSimilarity extends Module {
  static override readonly name: string = "CosineSimilarity";
  static readonly signature = COSINE_SIMILARITY;
  readonly dim: number;
  readonly eps: number;
  constructor(...args: CallsOf<typeof COSINE_SIMILARITY>) {
    super();
    const a = COSINE_SIMILARITY.parse(args);
    this.dim = a.dim;
    this.eps = a.eps;
  }
  override forward(x1: Tensor, x2: Tensor): Tensor {
    return cosineSimilarity(x1, x2, { dim: this.dim, eps: this.eps });
  }
}

const PAIRWISE_DISTANCE = signature("nn.PairwiseDistance", [
  arg("p", k.float, 2.0),
  arg("eps", k.float, 1e-6),
  arg("keepdim", k.bool, false),
]);
/** `PairwiseDistance(p=2.0, eps=1e-06, keepdim=False)`: ||x1 - x2 + eps||_p over the last dim. */
export class PairwiseDistance extends Module {
  static override readonly name: string = "PairwiseDistance";
  static readonly signature = PAIRWISE_DISTANCE;
  readonly norm: number;
  readonly eps: number;
  readonly keepdim: boolean;
  constructor(...args: CallsOf<typeof PAIRWISE_DISTANCE>) {
    super();
    const a = PAIRWISE_DISTANCE.parse(args);
    this.norm = a.p;
    this.eps = a.eps;
    this.keepdim = a.keepdim;
  }
  override forward(x1: Tensor, x2: Tensor): Tensor {
    return pairwiseDistance(x1, x2, { p: this.norm, eps: this.eps, keepdim: this.keepdim });
  }
}

/** cosineSimilarity and pairwiseDistance (torch.nn.functional), composed from tensor ops. */
import { arg, broadcastShapes, k, op, signature, type Tensor } from "@cinder/tensor";

/**
 * `cosine_similarity(x1, x2, dim=1, eps=1e-8)`: x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along `dim`
 * (the two broadcast together).
 */
export const cosineSimilarity = op(
  signature("nn.functional.cosineSimilarity", [
    arg("x1", k.tensor),
    arg("x2", k.tensor),
    arg("dim", k.int, 1),
    arg("eps", k.float, 1e-8),
  ]),
  ({ x1: a, x2: b, dim, eps }): Tensor => {
    const shape = broadcastShapes(a.shape, b.shape, "cosineSimilarity");
    const x1 = a.expand(shape);
    const x2 = b.expand(shape);
    const n1 = x1.norm({ p: 2, dim, keepdim: true }).clamp({ min: eps });
    const n2 = x2.norm({ p: 2, dim, keepdim: true }).clamp({ min: eps });
    return x1.div(n1).mul(x2.div(n2)).sum({ dim });
  },
);

/** `pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False)`: ||x1 - x2 + eps||_p along the last dim. */
export const pairwiseDistance = op(
  signature("nn.functional.pairwiseDistance", [
    arg("x1", k.tensor),
    arg("x2", k.tensor),
    arg("p", k.float, 2.0),
    arg("eps", k.float, 1e-6),
    arg("keepdim", k.bool, false),
  ]),
  ({ x1, x2, p, eps, keepdim }): Tensor => {
    const d = x1.sub(x2).add(eps);
    const dim = Math.max(x1.ndim, x2.ndim) - 1;
    if (dim < 0) return d.abs();
    return p === 0
      ? d.ne(0).sum({ dim, keepdim }).to(d.dtype)
      : p === Number.NEGATIVE_INFINITY
        ? d.abs().amin(dim, keepdim)
        : d.norm({ p, dim, keepdim });
  },
);

/** cosineSimilarity and pairwiseDistance (torch.nn.functional), composed from tensor ops. */
import { arg, broadcastShapes, k, op, signature, type Tensor, tensor } from "@cinder/tensor";

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

/** `pdist(input, p=2)`: the p-norm distance between every pair of rows i < j of [N, M], as [N (N - 1) / 2]. */
export const pdist = op(
  signature("nn.functional.pdist", [arg("input", k.tensor), arg("p", k.float, 2)]),
  ({ input, p }): Tensor => {
    if (input.ndim !== 2) {
      throw new Error(`pdist(): only supports 2D tensors, got: ${input.ndim}D`);
    }
    if (p < 0) throw new RangeError("pdist(): only supports non-negative p values");
    const n = input.shape[0];
    const is: number[] = [];
    const js: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        is.push(i);
        js.push(j);
      }
    }
    const rows = (ix: number[]) =>
      input.indexSelect(0, tensor(Int32Array.from(ix), { device: input.device }));
    const d = rows(is).sub(rows(js));
    if (p === 0) return d.ne(0).sum({ dim: 1 }).to(d.dtype);
    return d.norm({ p, dim: 1 });
  },
);

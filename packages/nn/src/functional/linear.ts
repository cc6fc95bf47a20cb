/** linear, dropout, embedding and oneHot (torch.nn.functional). */
import {
  arange,
  fmtShape,
  IndexError,
  noGrad,
  rand,
  recordOp,
  type Tensor,
  where,
  zerosLike,
} from "@cinder/tensor";
import { checkProbability } from "../util";

/** y = x W^T + b, for input [..., in] and weight [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== weight.shape[weight.ndim - 1]) {
    const k = x.ndim ? x.shape[x.ndim - 1] : 0;
    throw new Error(
      `linear: mat1 and mat2 shapes cannot be multiplied (${x.ndim ? x.numel() / k : 1}x${k} and ${weight.shape[weight.ndim - 1]}x${weight.shape[0]}): input of shape ${fmtShape(x.shape)}, weight of shape ${fmtShape(weight.shape)}`,
    );
  }
  const y = x.matmul(weight.t());
  return bias ? y.add(bias) : y;
}

export interface DropoutOptions {
  /** Probability of an element to be zeroed (default 0.5). */
  p?: number;
  /** Apply dropout (default true in the functional form, as PyTorch). */
  training?: boolean;
  inplace?: boolean;
}

/**
 * Zero each element with probability p and scale the rest by 1/(1-p); the identity when not training.
 * The mask comes from the seeded generator (`manualSeed`). `dropout(x, 0.2)` or `dropout(x, { p, training })`.
 */
export function dropout(x: Tensor, p: number | DropoutOptions = {}): Tensor {
  const o = typeof p === "number" ? { p } : p;
  const prob = o.p ?? 0.5;
  checkProbability(prob, "dropout");
  if (!(o.training ?? true) || prob === 0) return x;
  const keep =
    prob === 1
      ? zerosLike(x)
      : noGrad(() =>
          rand(x.shape, { device: x.device, dtype: x.dtype === "float64" ? "float64" : "float32" })
            .ge(prob)
            .to(x.dtype)
            .mul(1 / (1 - prob)),
        );
  return o.inplace ? x.mul_(keep) : x.mul(keep);
}

export interface EmbeddingOptions {
  /** Rows at this index get no gradient (their value is still looked up). */
  paddingIdx?: number | null;
  /** Rows looked up are renormalised in place to this maximum norm first (PyTorch's max_norm). */
  maxNorm?: number | null;
  normType?: number;
}

/** Look up rows of `weight` ([num, dim]) by the integer tensor `input`: result [...input.shape, dim] (EmbeddingBackward0). */
export function embedding(input: Tensor, weight: Tensor, opts: EmbeddingOptions = {}): Tensor {
  if (input.isFloatingPoint()) {
    throw new TypeError(`embedding: expected an integer index tensor (int32), got ${input.dtype}`);
  }
  if (weight.ndim !== 2)
    throw new Error(
      `embedding: weight must be 2-D [num_embeddings, embedding_dim], got ${fmtShape(weight.shape)}`,
    );
  const [num, dim] = weight.shape;
  const flat = input.reshape(-1).to("int32");
  checkIndexRange(flat, num, "embedding");
  let pad = opts.paddingIdx ?? null;
  if (pad !== null) {
    if (pad < -num || pad >= num)
      throw new Error(`embedding: paddingIdx must be within num_embeddings (${num}), got ${pad}`);
    if (pad < 0) pad += num;
  }
  if (opts.maxNorm !== undefined && opts.maxNorm !== null)
    renorm(weight, flat, opts.maxNorm, opts.normType ?? 2);
  const out = noGrad(() => weight.indexSelect(0, flat)).reshape([...input.shape, dim]);
  return recordOp({
    name: "EmbeddingBackward0",
    inputs: [weight],
    output: out,
    backward: (g) => {
      const g2 = g.reshape(-1, dim);
      const idx = flat.unsqueeze(1).expand(flat.shape[0], dim);
      const gw = zerosLike(weight, { dtype: g.dtype }).scatterAdd(0, idx, g2);
      return [
        pad === null ? gw : gw.maskedFill(arange(num, { device: weight.device }).eq(pad).unsqueeze(1), 0),
      ];
    },
  });
}

/** torch.embedding_renorm_: scale the referenced rows whose norm exceeds maxNorm, in place. */
function renorm(weight: Tensor, idx: Tensor, maxNorm: number, normType: number): void {
  noGrad(() => {
    const rows = weight.indexSelect(0, idx);
    const norms = rows.norm({ p: normType, dim: 1, keepdim: true });
    const scale = where(norms.gt(maxNorm), norms.add(1e-7).reciprocal().mul(maxNorm), 1);
    weight.set([idx], rows.mul(scale));
  });
}

function checkIndexRange(idx: Tensor, n: number, what: string): void {
  if (!idx.backend.readSync || idx.numel() === 0) return;
  const d = idx.data();
  for (let i = 0; i < d.length; i++) {
    if (d[i] < 0 || d[i] >= n)
      throw new IndexError(
        `${what}: index ${d[i]} is out of range for ${n} rows (index out of range in self)`,
      );
  }
}

/**
 * One-hot encoding of an integer tensor: [..., numClasses], int32 (PyTorch gives int64; Cinder has no int64).
 * numClasses -1 (default) means max(input) + 1.
 */
export function oneHot(input: Tensor, numClasses = -1): Tensor {
  if (input.isFloatingPoint()) throw new TypeError(`oneHot: expected an integer tensor, got ${input.dtype}`);
  let n = numClasses;
  if (n === -1) n = input.numel() === 0 ? 0 : (input.max().item() as number) + 1;
  if (input.numel() > 0) {
    const lo = input.min().item() as number;
    const hi = input.max().item() as number;
    if (lo < 0) throw new RangeError("oneHot: class values must be non-negative");
    if (hi >= n)
      throw new RangeError(`oneHot: class values must be smaller than numClasses (${n}), got ${hi}`);
  }
  return input
    .unsqueeze(-1)
    .eq(arange(n, { device: input.device }))
    .to("int32");
}

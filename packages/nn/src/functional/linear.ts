/** linear, dropout (and its channel-wise forms), embedding and oneHot (torch.nn.functional), with PyTorch's signatures. */
import {
  arange,
  arg,
  cat,
  defaultIntDtype,
  fmtShape,
  IndexError,
  k,
  noGrad,
  onesLike,
  op,
  rand,
  recordOp,
  signature,
  type Tensor,
  tensor,
  where,
  zeros,
  zerosLike,
} from "@cinder/tensor";
import { checkProbability, inplaceArg, inputArg } from "../util";

/** `linear(input, weight, bias=None)`: y = x W^T + b, for input [..., in] and weight [out, in]. */
export const linear = op(
  signature("nn.functional.linear", [inputArg, arg("weight", k.tensor), arg.opt("bias", k.tensor)]),
  ({ input, weight, bias }): Tensor => linearImpl(input, weight, bias),
);

function linearImpl(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== weight.shape[weight.ndim - 1]) {
    const k = x.ndim ? x.shape[x.ndim - 1] : 0;
    throw new Error(
      `linear: mat1 and mat2 shapes cannot be multiplied (${x.ndim ? x.numel() / k : 1}x${k} and ${weight.shape[weight.ndim - 1]}x${weight.shape[0]}): input of shape ${fmtShape(x.shape)}, weight of shape ${fmtShape(weight.shape)}`,
    );
  }
  const y = x.matmul(weight.t());
  return bias ? y.add(bias) : y;
}

/**
 * `bilinear(input1, input2, weight, bias=None)`: y_k = x1^T W_k x2 + b_k, for input1 [..., in1], input2
 * [..., in2] and weight [out, in1, in2].
 */
export const bilinear = op(
  signature("nn.functional.bilinear", [
    arg("input1", k.tensor),
    arg("input2", k.tensor),
    arg("weight", k.tensor),
    arg.opt("bias", k.tensor),
  ]),
  ({ input1, input2, weight, bias }): Tensor => {
    if (
      weight.ndim !== 3 ||
      input1.shape.at(-1) !== weight.shape[1] ||
      input2.shape.at(-1) !== weight.shape[2]
    ) {
      throw new Error(
        `bilinear(): expected weight [out, in1, in2] matching input1 [..., in1] and input2 [..., in2], got input1 ${fmtShape(input1.shape)}, input2 ${fmtShape(input2.shape)} and weight ${fmtShape(weight.shape)}`,
      );
    }
    const [out, in1, in2] = weight.shape;
    // x1 @ W as [in1, out * in2], then the dot with x2 per output
    const t = input1.matmul(weight.permute([1, 0, 2]).reshape([in1, out * in2]));
    const y = t
      .reshape([...t.shape.slice(0, -1), out, in2])
      .mul(input2.unsqueeze(-2))
      .sum({ dim: -1 });
    return bias ? y.add(bias) : y;
  },
);

/** @deprecated the options of `dropout`; kept for the module classes' types. */
export interface DropoutOptions {
  /** Probability of an element to be zeroed (default 0.5). */
  p?: number;
  /** Apply dropout (default true in the functional form, as PyTorch). */
  training?: boolean;
  inplace?: boolean;
}

const dropoutParams = [inputArg, arg("p", k.float, 0.5), arg("training", k.bool, true), inplaceArg] as const;

/**
 * `dropout(input, p=0.5, training=True, inplace=False)`: zero each element with probability p and scale the rest
 * by 1/(1-p); the identity when not training. The mask comes from the seeded generator (`manualSeed`).
 */
export const dropout = op(
  signature("nn.functional.dropout", dropoutParams),
  ({ input, p, training, inplace }): Tensor => dropoutImpl(input, p, training, inplace, "dropout", null),
);

/** The mask's shape for channel-wise dropout: the batch and channel dims kept, every spatial dim 1. */
function featureMaskShape(x: Tensor, spatial: number): number[] {
  return x.shape.map((d, i) => (i < x.ndim - spatial ? d : 1));
}

function dropoutImpl(
  x: Tensor,
  prob: number,
  training: boolean,
  inplace: boolean,
  what: string,
  maskShape: number[] | null,
): Tensor {
  checkProbability(prob, what);
  if (!training || prob === 0) return x;
  const shape = maskShape ?? x.shape;
  const keep =
    prob === 1
      ? zeros(shape, { dtype: x.dtype, device: x.device })
      : noGrad(() =>
          rand(shape, { device: x.device, dtype: x.dtype === "float64" ? "float64" : "float32" })
            .ge(prob)
            .to(x.dtype)
            .mul(1 / (1 - prob)),
        );
  return inplace ? x.mul_(keep) : x.mul(keep);
}

/**
 * `dropout1d(input, p=0.5, training=True, inplace=False)`: zero whole channels of [N, C, L] (or unbatched
 * [C, L]) with probability p.
 */
export const dropout1d = op(
  signature("nn.functional.dropout1d", dropoutParams),
  ({ input, p, training, inplace }): Tensor => {
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new RangeError(
        `dropout1d: Expected 2D or 3D input, but received a ${input.ndim}D input. Note that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).`,
      );
    }
    return dropoutImpl(input, p, training, inplace, "dropout1d", featureMaskShape(input, 1));
  },
);

/** PyTorch's warning for a dropout2d/3d input of another rank (which then gets element-wise dropout). */
function warnRank(n: 2 | 3, ndim: number): void {
  const name = `dropout${n}d`;
  console.warn(
    `${name}: Received a ${ndim}-D input to ${name}, which is deprecated and will result in an error in a future release. To retain the behavior and silence this warning, please use dropout instead. Note that ${name} exists to provide channel-wise dropout on inputs with ${n} spatial dimensions, a channel dimension, and an optional batch dimension (i.e. ${n + 1}D or ${n + 2}D inputs).`,
  );
}

/**
 * `dropout2d(input, p=0.5, training=True, inplace=False)`: zero whole channels of [N, C, H, W] (or unbatched
 * [C, H, W]) with probability p. A 3-D input is taken as [N, C, L], as PyTorch 1.13 does (with its warning).
 */
export const dropout2d = op(
  signature("nn.functional.dropout2d", dropoutParams),
  ({ input, p, training, inplace }): Tensor => {
    if (input.ndim !== 3 && input.ndim !== 4) {
      warnRank(2, input.ndim);
      return dropoutImpl(input, p, training, inplace, "dropout2d", null);
    }
    if (input.ndim === 3) {
      console.warn(
        "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change in a future release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
      );
      return dropoutImpl(input, p, training, inplace, "dropout2d", featureMaskShape(input, 1));
    }
    return dropoutImpl(input, p, training, inplace, "dropout2d", featureMaskShape(input, 2));
  },
);

/**
 * `dropout3d(input, p=0.5, training=True, inplace=False)`: zero whole channels of [N, C, D, H, W] (or unbatched
 * [C, D, H, W]) with probability p.
 */
export const dropout3d = op(
  signature("nn.functional.dropout3d", dropoutParams),
  ({ input, p, training, inplace }): Tensor => {
    if (input.ndim !== 4 && input.ndim !== 5) {
      warnRank(3, input.ndim);
      return dropoutImpl(input, p, training, inplace, "dropout3d", null);
    }
    return dropoutImpl(input, p, training, inplace, "dropout3d", featureMaskShape(input, 3));
  },
);

/**
 * Alpha dropout as ATen's `_dropout_impl`: x * mask * a + (mask - 1) * alpha * a + alpha * a * p, with
 * a = 1 / sqrt((alpha^2 p + 1)(1 - p)), which keeps SELU's zero mean and unit variance.
 */
function alphaDropoutImpl(
  x: Tensor,
  p: number,
  training: boolean,
  inplace: boolean,
  what: string,
  maskShape: number[] | null,
): Tensor {
  checkProbability(p, what);
  if (p === 0 || !training || x.numel() === 0) return x;
  if (p === 1) return inplace ? x.mul_(0) : x.mul(0);
  const alpha = 1.7580993408473766;
  const a = 1 / Math.sqrt((alpha * alpha * p + 1) * (1 - p));
  const mask = noGrad(() =>
    rand(maskShape ?? x.shape, { device: x.device, dtype: x.dtype === "float64" ? "float64" : "float32" })
      .ge(p)
      .to(x.dtype),
  );
  const b = mask
    .sub(1)
    .mul(alpha * a)
    .add(alpha * a * p);
  const m = mask.mul(a);
  return inplace ? x.mul_(m).add_(b) : x.mul(m).add(b);
}

/** `alpha_dropout(input, p=0.5, training=False, inplace=False)`: dropout for SELU networks (note: training defaults to false, as PyTorch). */
export const alphaDropout = op(
  signature("nn.functional.alphaDropout", [
    inputArg,
    arg("p", k.float, 0.5),
    arg("training", k.bool, false),
    inplaceArg,
  ]),
  ({ input, p, training, inplace }): Tensor =>
    alphaDropoutImpl(input, p, training, inplace, "alpha_dropout", null),
);

/** `feature_alpha_dropout(input, p=0.5, training=False, inplace=False)`: alpha dropout of whole channels of [N, C, ...]. */
export const featureAlphaDropout = op(
  signature("nn.functional.featureAlphaDropout", [
    inputArg,
    arg("p", k.float, 0.5),
    arg("training", k.bool, false),
    inplaceArg,
  ]),
  ({ input, p, training, inplace }): Tensor => {
    if (input.ndim < 2) {
      throw new Error(
        `feature_alpha_dropout: Feature dropout requires at least 2 dimensions in the input (got ${input.ndim})`,
      );
    }
    const mask = input.shape.map((d, i) => (i < 2 ? d : 1));
    return alphaDropoutImpl(input, p, training, inplace, "feature_alpha_dropout", mask);
  },
);

/** @deprecated the options of `embedding`; kept for the module classes' types. */
export interface EmbeddingOptions {
  /** Rows at this index get no gradient (their value is still looked up). */
  paddingIdx?: number | null;
  /** Rows looked up are renormalised in place to this maximum norm first (PyTorch's max_norm). */
  maxNorm?: number | null;
  normType?: number;
  scaleGradByFreq?: boolean;
}

/**
 * `embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
 * sparse=False)`: look up rows of `weight` ([num, dim]) by the integer tensor `input`: result
 * [...input.shape, dim] (EmbeddingBackward0). `scaleGradByFreq` divides each row's gradient by how often its index
 * occurs in `input`. Sparse gradients do not exist in Cinder (`sparse` accepts only false).
 */
export const embedding = op(
  signature("nn.functional.embedding", [
    inputArg,
    arg("weight", k.tensor),
    arg.opt("paddingIdx", k.int),
    arg.opt("maxNorm", k.float),
    arg("normType", k.float, 2.0),
    arg("scaleGradByFreq", k.bool, false),
    arg.unsupported("sparse", false, "Cinder has no sparse gradients"),
  ]),
  (a): Tensor => embeddingImpl(a.input, a.weight, a.paddingIdx, a.maxNorm, a.normType, a.scaleGradByFreq),
);

function embeddingImpl(
  input: Tensor,
  weight: Tensor,
  paddingIdx: number | null,
  maxNorm: number | null,
  normType: number,
  scaleGradByFreq: boolean,
): Tensor {
  if (input.isFloatingPoint()) {
    throw new TypeError(
      `embedding(): Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got ${input.dtype} instead (expected an integer index tensor)`,
    );
  }
  if (weight.ndim !== 2)
    throw new Error(
      `embedding: weight must be 2-D [num_embeddings, embedding_dim], got ${fmtShape(weight.shape)}`,
    );
  const [num, dim] = weight.shape;
  const flat = input.reshape(-1).to("int32");
  checkIndexRange(flat, num, "embedding");
  let pad = paddingIdx;
  if (pad !== null) {
    if (pad < -num || pad >= num)
      throw new Error(`embedding: Padding_idx must be within num_embeddings (${num}), got ${pad}`);
    if (pad < 0) pad += num;
  }
  if (maxNorm !== null) renorm(weight, flat, maxNorm, normType);
  const out = noGrad(() => weight.indexSelect(0, flat)).reshape([...input.shape, dim]);
  return recordOp({
    name: "EmbeddingBackward0",
    inputs: [weight],
    output: out,
    backward: embeddingBackward(weight, flat, pad, scaleGradByFreq),
  });
}

// made by a function, not written inline: esbuild's keepNames (tsup's build, tsx) wraps an inline closure bound to
// a name in `__name()`, a defineProperty per call
function embeddingBackward(weight: Tensor, flat: Tensor, pad: number | null, scaleGradByFreq: boolean) {
  const [num, dim] = weight.shape;
  return (g: Tensor) => {
    let g2 = g.reshape(-1, dim);
    if (scaleGradByFreq) {
      const counts = zerosLike(flat).scatterAdd(0, flat, onesLike(flat));
      g2 = g2.div(counts.indexSelect(0, flat).to(g2.dtype).unsqueeze(1));
    }
    const idx = flat.unsqueeze(1).expand(flat.shape[0], dim);
    const gw = zerosLike(weight, { dtype: g.dtype }).scatterAdd(0, idx, g2);
    return [
      pad === null ? gw : gw.maskedFill(arange(num, { device: weight.device }).eq(pad).unsqueeze(1), 0),
    ];
  };
}

/**
 * `embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode='mean',
 * sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None)`: the sum, mean or max of
 * the embeddings of each bag, without the intermediate [..., dim] tensor of `embedding` followed by a reduction in
 * user code. Bags are the rows of a 2-D `input`, or the runs of a 1-D `input` starting at `offsets`. Entries equal
 * to `paddingIdx` are left out (also of a mean's count); an empty bag gives zeros.
 */
export const embeddingBag = op(
  signature("nn.functional.embeddingBag", [
    inputArg,
    arg("weight", k.tensor),
    arg.opt("offsets", k.tensor),
    arg.opt("maxNorm", k.float),
    arg("normType", k.float, 2),
    arg("scaleGradByFreq", k.bool, false),
    arg("mode", k.oneOf("sum", "mean", "max"), "mean"),
    arg.unsupported("sparse", false, "Cinder has no sparse gradients"),
    arg.opt("perSampleWeights", k.tensor),
    arg("includeLastOffset", k.bool, false),
    arg.opt("paddingIdx", k.int),
  ]),
  (a): Tensor => {
    const { input, weight, mode } = a;
    if (input.isFloatingPoint()) {
      throw new TypeError(`embedding_bag(): expected an integer (int32) index tensor, got ${input.dtype}`);
    }
    if (weight.ndim !== 2) {
      throw new Error(
        `embedding_bag(): weight has to be a 2D Tensor, but got Tensor of dimension ${weight.ndim}`,
      );
    }
    const psw = a.perSampleWeights;
    if (psw && mode !== "sum") {
      throw new Error(
        `embedding_bag(): per_sample_weights was not None. per_sample_weights is only supported for mode='sum' (got mode='${mode}'). Please open a feature request on GitHub.`,
      );
    }
    if (psw && (psw.ndim !== input.ndim || psw.shape.some((d, i) => d !== input.shape[i]))) {
      throw new Error(
        `embedding_bag(): embedding_bag: If per_sample_weights (${fmtShape(psw.shape)}) is not None, then it must have the same shape as the input (${fmtShape(input.shape)})`,
      );
    }
    // the bags as [start, end) runs of the flat input
    const T = input.numel();
    let starts: number[];
    let ends: number[];
    if (input.ndim === 2) {
      if (a.offsets !== null)
        throw new Error(
          "embedding_bag(): if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences.",
        );
      const [B, L] = input.shape;
      starts = Array.from({ length: B }, (_, b) => b * L);
      ends = starts.map((s0) => s0 + L);
    } else if (input.ndim === 1) {
      if (a.offsets === null) throw new Error("embedding_bag(): offsets has to be a 1D Tensor but got None");
      if (a.offsets.ndim !== 1) throw new Error("embedding_bag(): offsets has to be a 1D Tensor");
      const off = Array.from(a.offsets.to("int32").data() as Int32Array);
      if (off.length > 0 && off[0] !== 0) {
        throw new Error(
          `embedding_bag(): offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, got ${off[0]}`,
        );
      }
      const bounds = a.includeLastOffset ? off : [...off, T];
      starts = bounds.slice(0, -1);
      ends = bounds.slice(1).map((e) => Math.min(e, T));
    } else {
      throw new Error(
        `embedding_bag(): input has to be 1D or 2D Tensor, but got Tensor of dimension ${input.ndim}`,
      );
    }
    const flat = input.reshape(-1);
    const [num, dim] = weight.shape;
    let pad = a.paddingIdx;
    if (pad !== null && pad < 0) pad += num;
    const e = embeddingImpl(flat, weight, null, a.maxNorm, a.normType, a.scaleGradByFreq);
    // [B, Lmax] positions into the embeddings, T (an extra zero row) where a bag is shorter or an entry is padding
    const idx = Array.from(flat.to("int32").data() as Int32Array);
    const B = starts.length;
    const Lmax = Math.max(0, ...starts.map((s0, b) => ends[b] - s0));
    const table = new Int32Array(B * Lmax).fill(T);
    const counts = new Float64Array(B);
    starts.forEach((s0, b) => {
      for (let i = s0; i < ends[b]; i++) {
        if (pad !== null && idx[i] === pad) continue;
        table[b * Lmax + counts[b]] = i;
        counts[b]++;
      }
    });
    const fill = mode === "max" ? Number.NEGATIVE_INFINITY : 0;
    const extra = zeros([1, dim], { dtype: weight.dtype, device: weight.device }).add(fill);
    let rows = cat([e, extra], 0);
    if (psw)
      rows = rows.mul(
        cat([
          psw.reshape(-1).to(weight.dtype),
          zeros([1], { dtype: weight.dtype, device: weight.device }),
        ]).unsqueeze(1),
      );
    const g = rows.indexSelect(0, tensor(table, { device: weight.device })).reshape([B, Lmax, dim]);
    const n = tensor(counts, { dtype: "float64", device: weight.device }).to(weight.dtype).unsqueeze(1);
    if (Lmax === 0) return zeros([B, dim], { dtype: weight.dtype, device: weight.device });
    if (mode === "max") return where(n.gt(0), g.amax(1), 0);
    const sum = g.sum({ dim: 1 });
    return mode === "sum" ? sum : sum.div(n.clamp({ min: 1 }));
  },
);

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
 * `one_hot(input, num_classes=-1)`: one-hot encoding of an integer tensor: [..., num_classes], int64 as PyTorch's
 * (int32 on a backend without int64). num_classes -1 means max(input) + 1. (PyTorch's docs call the tensor
 * `tensor`; the callable takes `input=`.)
 */
export const oneHot = op(
  signature("nn.functional.oneHot", [inputArg, arg("numClasses", k.int, -1)]),
  ({ input, numClasses }): Tensor => oneHotImpl(input, numClasses),
);

function oneHotImpl(input: Tensor, numClasses: number): Tensor {
  if (input.isFloatingPoint())
    throw new TypeError(`one_hot is only applicable to index tensor (an integer tensor), got ${input.dtype}`);
  let n = numClasses;
  if (n === -1) n = input.numel() === 0 ? 0 : (input.max().item() as number) + 1;
  if (input.numel() > 0) {
    const lo = input.min().item() as number;
    const hi = input.max().item() as number;
    if (lo < 0) throw new RangeError("one_hot: Class values must be non-negative.");
    if (hi >= n)
      throw new RangeError(`one_hot: Class values must be smaller than num_classes (${n}), got ${hi}.`);
  }
  return input
    .unsqueeze(-1)
    .eq(arange(n, { device: input.device }))
    .to(defaultIntDtype(input.backend)); // PyTorch's int64 (int32 on a backend without int64)
}

/**
 * The other losses of torch.nn.functional (margin, embedding, Poisson and Gaussian NLL, triplet, multi-margin),
 * each with PyTorch's signature and its formula as written in ATen / torch/nn/functional.py.
 */
import { arange, arg, cat, fmtShape, k, noGrad, op, signature, Tensor, tensor, where } from "@cinder/tensor";
import {
  inputArg,
  legacyReduction,
  reduce,
  reduceArg,
  reductionArg,
  sizeAverageArg,
  targetArg,
} from "../util";
import { logsigmoid } from "./activation";
import { pairwiseDistance } from "./distance";

const legacy = [sizeAverageArg, reduceArg, reductionArg] as const;

/** `soft_margin_loss(input, target, size_average=None, reduce=None, reduction='mean')`: log(1 + exp(-y x)). */
export const softMarginLoss = op(
  signature("nn.functional.softMarginLoss", [inputArg, targetArg, ...legacy]),
  (a): Tensor => {
    const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "softMarginLoss");
    return reduce(logsigmoid(a.input.mul(a.target)).neg(), r);
  },
);

/** `(input1, input2, target, margin=0, size_average=None, reduce=None, reduction='mean')` of the pair losses. */
const pairParams = [
  arg("input1", k.tensor),
  arg("input2", k.tensor),
  targetArg,
  arg("margin", k.float, 0),
  ...legacy,
] as const;

/**
 * `margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction='mean')`:
 * max(0, -y (x1 - x2) + margin).
 */
export const marginRankingLoss = op(signature("nn.functional.marginRankingLoss", pairParams), (a): Tensor => {
  const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "marginRankingLoss");
  if (a.input1.ndim !== a.input2.ndim || a.input1.ndim !== a.target.ndim) {
    throw new Error(
      `marginRankingLoss: All input tensors should have same dimension but got sizes: input1: ${fmtShape(a.input1.shape)}, input2: ${fmtShape(a.input2.shape)}, target: ${fmtShape(a.target.shape)}`,
    );
  }
  return reduce(a.target.neg().mul(a.input1.sub(a.input2)).add(a.margin).clamp({ min: 0 }), r);
});

/**
 * `hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction='mean')`:
 * x where y = 1, max(0, margin - x) where y = -1 (and both terms for other targets, as ATen).
 */
export const hingeEmbeddingLoss = op(
  signature("nn.functional.hingeEmbeddingLoss", [
    inputArg,
    targetArg,
    arg("margin", k.float, 1.0),
    ...legacy,
  ]),
  (a): Tensor => {
    const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "hingeEmbeddingLoss");
    const { input, target } = a;
    const marginPart = where(target.ne(1), input.neg().add(a.margin).clamp({ min: 0 }), 0);
    const selfPart = where(target.ne(-1), input, 0);
    return reduce(marginPart.add(selfPart), r);
  },
);

/**
 * `cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction='mean')`:
 * 1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (cos with ATen's 1e-12 in each norm).
 */
export const cosineEmbeddingLoss = op(
  signature("nn.functional.cosineEmbeddingLoss", pairParams),
  (a): Tensor => {
    const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "cosineEmbeddingLoss");
    const { input1: x1, input2: x2, target } = a;
    if (x1.ndim !== x2.ndim || x1.shape.some((d, i) => d !== x2.shape[i]) || x1.ndim < 1 || x1.ndim > 2) {
      throw new Error(
        `cosineEmbeddingLoss: expected 1-D or 2-D inputs of the same size, got input1 ${fmtShape(x1.shape)} and input2 ${fmtShape(x2.shape)}`,
      );
    }
    if (target.ndim !== x1.ndim - 1) {
      throw new Error(
        `cosineEmbeddingLoss: ${x1.ndim}D target tensor expected, multi-target not supported (got target ${fmtShape(target.shape)})`,
      );
    }
    const dim = x1.ndim - 1;
    const prod = x1.mul(x2).sum({ dim });
    const m1 = x1.mul(x1).sum({ dim }).add(1e-12);
    const m2 = x2.mul(x2).sum({ dim }).add(1e-12);
    const cos = prod.div(m1.mul(m2).sqrt());
    const pos = where(target.eq(1), cos.neg().add(1), 0);
    const neg = where(target.eq(-1), cos.sub(a.margin).clamp({ min: 0 }), 0);
    return reduce(pos.add(neg), r);
  },
);

/**
 * `multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction='mean')`:
 * -(y logsigmoid(x) + (1 - y) logsigmoid(-x)) averaged over the classes (the last dim).
 */
export const multilabelSoftMarginLoss = op(
  signature("nn.functional.multilabelSoftMarginLoss", [
    inputArg,
    targetArg,
    arg.opt("weight", k.tensor),
    ...legacy,
  ]),
  (a): Tensor => {
    const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "multilabelSoftMarginLoss");
    const { input, target } = a;
    let loss = target
      .mul(logsigmoid(input))
      .add(target.neg().add(1).mul(logsigmoid(input.neg())))
      .neg();
    if (a.weight) loss = loss.mul(a.weight);
    const classDim = input.ndim - 1;
    loss = loss.sum({ dim: classDim }).div(input.shape[classDim]);
    return reduce(loss, r);
  },
);

/**
 * `poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-08, reduce=None,
 * reduction='mean')`: exp(x) - y x (log input), or x - y log(x + eps); `full` adds Stirling's term where y > 1.
 */
export const poissonNllLoss = op(
  signature("nn.functional.poissonNllLoss", [
    inputArg,
    targetArg,
    arg("logInput", k.bool, true),
    arg("full", k.bool, false),
    sizeAverageArg,
    arg("eps", k.float, 1e-8),
    reduceArg,
    reductionArg,
  ]),
  (a): Tensor => {
    const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "poissonNllLoss");
    const { input, target } = a;
    let loss = a.logInput
      ? input.exp().sub(target.mul(input))
      : input.sub(target.mul(input.add(a.eps).log()));
    if (a.full) {
      const big = target.gt(1);
      const t = where(big, target, 2); // harmless where masked out
      const stirling = t
        .mul(t.log())
        .sub(t)
        .add(
          t
            .mul(2 * Math.PI)
            .log()
            .mul(0.5),
        );
      loss = loss.add(where(big, stirling, 0));
    }
    return reduce(loss, r);
  },
);

/**
 * `gaussian_nll_loss(input, target, var, full=False, eps=1e-06, reduction='mean')`:
 * 0.5 (log(max(var, eps)) + (x - y)^2 / max(var, eps)) (+ 0.5 log(2 pi) when `full`); `var` may have the input's
 * shape, lack its last dim, or have a last dim of 1 (homoscedastic), as PyTorch.
 */
export const gaussianNllLoss = op(
  signature("nn.functional.gaussianNllLoss", [
    inputArg,
    targetArg,
    arg("var", k.tensor),
    arg("full", k.bool, false),
    arg("eps", k.float, 1e-6),
    reductionArg,
  ]),
  (a): Tensor => {
    const { input, target } = a;
    let v = a.var;
    const same = (x: readonly number[], y: readonly number[]) =>
      x.length === y.length && x.every((d, i) => d === y[i]);
    if (!same(v.shape, input.shape)) {
      if (same(input.shape.slice(0, -1), v.shape)) v = v.unsqueeze(-1);
      else if (!(same(input.shape.slice(0, -1), v.shape.slice(0, -1)) && v.shape[v.ndim - 1] === 1)) {
        throw new Error("gaussianNllLoss: var is of incorrect size");
      }
    }
    if (noGrad(() => v.lt(0).any().item()))
      throw new RangeError("gaussianNllLoss: var has negative entry/entries");
    // the clamp is not differentiated, as PyTorch's in-place clamp under no_grad
    const floor = noGrad(() => v.clamp({ min: a.eps }).sub(v));
    const vc = v.add(floor);
    let loss = vc.log().add(input.sub(target).square().div(vc)).mul(0.5);
    if (a.full) loss = loss.add(0.5 * Math.log(2 * Math.PI));
    return reduce(loss, a.reduction);
  },
);

/**
 * `triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, size_average=None,
 * reduce=None, reduction='mean')`: max(0, margin + d(a, p) - d(a, n)) with the pairwise p-norm distance; `swap`
 * uses min(d(a, n), d(p, n)).
 */
export const tripletMarginLoss = op(
  signature("nn.functional.tripletMarginLoss", [
    arg("anchor", k.tensor),
    arg("positive", k.tensor),
    arg("negative", k.tensor),
    arg("margin", k.float, 1.0),
    arg("p", k.float, 2),
    arg("eps", k.float, 1e-6),
    arg("swap", k.bool, false),
    ...legacy,
  ]),
  (a): Tensor => {
    const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "tripletMarginLoss");
    const { anchor, positive, negative } = a;
    if (anchor.ndim !== positive.ndim || anchor.ndim !== negative.ndim) {
      throw new Error(
        `tripletMarginLoss: All inputs should have same dimension but got ${anchor.ndim}D, ${positive.ndim}D and ${negative.ndim}D inputs.`,
      );
    }
    const dPos = pairwiseDistance(anchor, positive, a.p, a.eps);
    let dNeg = pairwiseDistance(anchor, negative, a.p, a.eps);
    if (a.swap) dNeg = dNeg.minimum(pairwiseDistance(positive, negative, a.p, a.eps));
    return reduce(dPos.sub(dNeg).add(a.margin).clamp({ min: 0 }), r);
  },
);

/**
 * `multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
 * reduction='mean')`: sum over i != y of w[y] max(0, margin - x[y] + x[i])^p / C, per sample of [N, C] (or [C]).
 */
export const multiMarginLoss = op(
  signature("nn.functional.multiMarginLoss", [
    inputArg,
    targetArg,
    arg("p", k.int, 1),
    arg("margin", k.float, 1.0),
    arg.opt("weight", k.tensor),
    ...legacy,
  ]),
  (a): Tensor => {
    const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "multiMarginLoss");
    if (a.p !== 1 && a.p !== 2) throw new Error("multiMarginLoss: only p == 1 and p == 2 supported");
    if (a.target.isFloatingPoint()) {
      throw new TypeError(
        `multiMarginLoss: expected an integer (int32) class-index target, got ${a.target.dtype}`,
      );
    }
    const unbatched = a.input.ndim <= 1;
    const x = unbatched ? a.input.reshape(1, -1) : a.input;
    const t = a.target.reshape(-1).to("int32");
    const C = x.shape[1];
    if (x.ndim !== 2 || t.shape[0] !== x.shape[0]) {
      throw new Error(
        `multiMarginLoss: inconsistent target size: ${fmtShape(a.target.shape)} for input of size: ${fmtShape(a.input.shape)}`,
      );
    }
    const xy = x.gather(1, t.unsqueeze(1));
    let m = x.sub(xy).add(a.margin).clamp({ min: 0 });
    if (a.p === 2) m = m.square();
    if (a.weight) m = m.mul(a.weight.indexSelect(0, t).unsqueeze(1));
    const notTarget = t.unsqueeze(1).ne(arange(C, { device: x.device }));
    const loss = where(notTarget, m, 0).sum({ dim: 1 }).div(C);
    if (r === "none") return unbatched ? loss.reshape(a.target.shape) : loss;
    return reduce(loss, r);
  },
);

/**
 * `multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction='mean')`: for each sample,
 * the sum over its target classes j (the entries of `target` before the first -1) and the non-target classes i of
 * max(0, 1 - (x[j] - x[i])), divided by C.
 */
export const multilabelMarginLoss = op(
  signature("nn.functional.multilabelMarginLoss", [inputArg, targetArg, ...legacy]),
  (a): Tensor => {
    const r = legacyReduction(a.sizeAverage, a.reduce, a.reduction, "multilabelMarginLoss");
    const { input, target } = a;
    if (target.isFloatingPoint()) {
      throw new TypeError(`multilabelMarginLoss: expected an integer (int32) target, got ${target.dtype}`);
    }
    if (input.ndim > 2 || target.ndim !== input.ndim || target.shape.some((d, i) => d !== input.shape[i])) {
      throw new Error(
        `multilabelMarginLoss: inconsistent target size: ${fmtShape(target.shape)} for input of size: ${fmtShape(input.shape)}`,
      );
    }
    const x = input.ndim === 2 ? input : input.reshape(1, -1);
    const [N, C] = x.shape;
    // how often each class is listed as a target, up to the first -1 (ATen counts duplicates each time)
    const t = target.reshape(N, C).to("int32").data();
    const counts = new Float64Array(N * C);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < C; j++) {
        const c = t[n * C + j];
        if (c < 0) break;
        if (c >= C) throw new Error(`multilabelMarginLoss: target ${c} is out of bounds (${C} classes)`);
        counts[n * C + c] += 1;
      }
    }
    const cnt = tensor(counts, { dtype: "float64", device: x.device }).to(x.dtype).reshape(N, C);
    const other = cnt.eq(0).to(x.dtype);
    const pair = x.unsqueeze(2).neg().add(x.unsqueeze(1)).add(1).clamp({ min: 0 });
    const loss = pair
      .mul(cnt.unsqueeze(2))
      .mul(other.unsqueeze(1))
      .sum({ dim: [1, 2] })
      .div(C);
    const out = input.ndim === 2 ? loss : loss.reshape([]);
    return reduce(out, r);
  },
);

/**
 * `triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
 * swap=False, reduction='mean')`: max(0, margin + d(a, p) - d(a, n)) with any distance function (default
 * `pairwiseDistance`); `swap` uses min(d(a, n), d(p, n)).
 */
export const tripletMarginWithDistanceLoss = op(
  signature(
    "nn.functional.tripletMarginWithDistanceLoss",
    [arg("anchor", k.tensor), arg("positive", k.tensor), arg("negative", k.tensor)],
    [
      arg.opt("distanceFunction", k.fn),
      arg("margin", k.float, 1.0),
      arg("swap", k.bool, false),
      reductionArg,
    ],
  ),
  (a): Tensor => {
    const { anchor, positive, negative } = a;
    const dist =
      (a.distanceFunction as ((x: Tensor, y: Tensor) => Tensor) | null) ??
      ((x: Tensor, y: Tensor) => pairwiseDistance(x, y));
    const dPos = dist(anchor, positive);
    let dNeg = dist(anchor, negative);
    if (a.swap) dNeg = dNeg.minimum(dist(positive, negative));
    return reduce(dPos.sub(dNeg).add(a.margin).clamp({ min: 0 }), a.reduction);
  },
);

/** log(exp(a) + exp(b) + ...), -inf when every term is -inf, with no NaN in its gradient. */
function logAddExp(terms: Tensor[]): Tensor {
  let m = terms[0];
  for (const t of terms.slice(1)) m = m.maximum(t);
  const { allInf, mSafe } = noGrad(() => {
    const allInf = m.eq(Number.NEGATIVE_INFINITY);
    return { allInf, mSafe: where(allInf, 0, m) };
  });
  let s = terms[0].sub(mSafe).exp();
  for (const t of terms.slice(1)) s = s.add(t.sub(mSafe).exp());
  const safe = where(allInf, 1, s);
  return where(allInf, Number.NEGATIVE_INFINITY, safe.log().add(mSafe));
}

const lengthsKind = k.or(k.tensor, k.ints);

/**
 * `ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean', zero_infinity=False)`:
 * the connectionist temporal classification loss of log-probabilities [T, N, C] (or [T, C]) against targets
 * [N, S] (padded) or one concatenated 1-D list, by the forward (alpha) recursion in log space; gradients follow by
 * composition. "mean" divides each loss by its target length, then averages over the batch, as PyTorch.
 */
export const ctcLoss = op(
  signature("nn.functional.ctcLoss", [
    arg("logProbs", k.tensor),
    arg("targets", k.tensor),
    arg("inputLengths", lengthsKind),
    arg("targetLengths", lengthsKind),
    arg("blank", k.int, 0),
    reductionArg,
    arg("zeroInfinity", k.bool, false),
  ]),
  (a): Tensor => {
    const unbatched = a.logProbs.ndim === 2;
    const lp = unbatched ? a.logProbs.unsqueeze(1) : a.logProbs;
    if (lp.ndim !== 3) {
      throw new Error(
        `ctc_loss(): expected log_probs of shape [T, N, C] or [T, C], got ${fmtShape(a.logProbs.shape)}`,
      );
    }
    const [T, N, C] = lp.shape;
    const list = (v: Tensor | readonly number[]): number[] =>
      v instanceof Tensor ? Array.from(v.reshape(-1).to("int32").data()) : [...v];
    const inLens = list(a.inputLengths);
    const tgLens = list(a.targetLengths);
    if (inLens.length !== N || tgLens.length !== N) {
      throw new Error(
        `ctc_loss(): Expected input_lengths and target_lengths to have ${N} elements (the batch size), got ${inLens.length} and ${tgLens.length}`,
      );
    }
    if (a.blank < 0 || a.blank >= C)
      throw new Error(`ctc_loss(): blank must be in label range, got ${a.blank}`);
    if (a.targets.isFloatingPoint()) {
      throw new TypeError(`ctc_loss(): expected an integer (int32) targets tensor, got ${a.targets.dtype}`);
    }
    const tg = Array.from(a.targets.reshape(-1).to("int32").data());
    const S = Math.max(0, ...tgLens);
    const concat = !unbatched && a.targets.ndim === 1;
    const L = 2 * S + 1;
    // extended labels [N, L]: blank, l1, blank, l2, ..., blank (blank past each sample's own length)
    const ext = new Int32Array(N * L).fill(a.blank);
    const skip = new Uint8Array(N * L); // the s - 2 transition is allowed
    let at = 0;
    for (let n = 0; n < N; n++) {
      if (inLens[n] > T || inLens[n] < 0) {
        throw new Error(
          `ctc_loss(): Expected input_lengths to have value at most ${T}, but got value ${inLens[n]}`,
        );
      }
      const base = concat ? at : n * (unbatched ? 0 : (a.targets.shape[1] ?? 0));
      for (let j = 0; j < tgLens[n]; j++) {
        const c = tg[base + j];
        if (c === undefined)
          throw new Error("ctc_loss(): targets has fewer entries than target_lengths ask for");
        ext[n * L + 2 * j + 1] = c;
        if (j > 0 && c !== tg[base + j - 1]) skip[n * L + 2 * j + 1] = 1;
      }
      at += tgLens[n];
    }
    const dev = lp.device;
    const extT = tensor(ext, { device: dev });
    const skipT = tensor(skip, { device: dev }).to("bool");
    const lenT = tensor(Int32Array.from(inLens), { device: dev });
    const ninf = Number.NEGATIVE_INFINITY;
    const emit = (t: number) => lp.select(0, t).gather(1, extT.reshape(N, L));
    const shift = (x: Tensor, by: number) =>
      cat([x.narrow(1, 0, by).mul(0).add(ninf), x.narrow(1, 0, L - by)], 1);
    // alpha_0: the first blank and the first label
    const first = tensor(
      Int32Array.from({ length: L }, (_, s) => (s < 2 ? 1 : 0)),
      { device: dev },
    ).to("bool");
    let alpha = where(first.unsqueeze(0), emit(0), ninf);
    for (let t = 1; t < T; t++) {
      const prev = alpha;
      const s1 = L > 1 ? shift(prev, 1) : prev.mul(0).add(ninf);
      const s2 = L > 2 ? where(skipT.reshape(N, L), shift(prev, 2), ninf) : prev.mul(0).add(ninf);
      const next = logAddExp([prev, s1, s2]).add(emit(t));
      alpha = where(lenT.gt(t).unsqueeze(1), next, prev);
    }
    // the end: the last label or the final blank of each sample
    const endIdx = tensor(
      Int32Array.from({ length: N * 2 }, (_, i) => {
        const n = Math.floor(i / 2);
        return Math.max(0, 2 * tgLens[n] - (i % 2));
      }),
      { device: dev },
    ).reshape(N, 2);
    const ends = alpha.gather(1, endIdx);
    const oneLabel = tensor(
      Uint8Array.from({ length: N * 2 }, (_, i) => (i % 2 === 1 && tgLens[Math.floor(i / 2)] === 0 ? 0 : 1)),
      { device: dev },
    )
      .to("bool")
      .reshape(N, 2);
    const e = where(oneLabel, ends, ninf);
    let loss = logAddExp([e.select(1, 0), e.select(1, 1)]).neg();
    // a sample with input length 0 has no alignment unless its target is empty
    loss = where(
      lenT.eq(0),
      tensor(
        Float64Array.from(tgLens, (l) => (l === 0 ? 0 : Number.POSITIVE_INFINITY)),
        { device: dev },
      ).to(loss.dtype),
      loss,
    );
    if (a.zeroInfinity) loss = where(loss.eq(Number.POSITIVE_INFINITY), 0, loss);
    if (a.reduction === "none") return unbatched ? loss.reshape([]) : loss;
    if (a.reduction === "sum") return loss.sum();
    const tl = tensor(
      Float64Array.from(tgLens, (l) => Math.max(l, 1)),
      { device: dev },
    ).to(loss.dtype);
    return loss.div(tl).mean();
  },
);

/**
 * Finite-difference gradient checks (float64): every op with its own derivative (embedding, the two binary
 * cross entropies) and a set of composites (losses, normalisations, activations, padding).
 */
import { gradcheck } from "@cinder/autograd";
import { manualSeed, rand, randn, type Tensor, tensor } from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { F } from "../src";
import "./helpers";

const f64 = { dtype: "float64" as const };
const leaf = (x: Tensor) => x.requiresGrad_(true);

beforeAll(() => manualSeed(42));

describe("gradcheck: ops with their own derivative", () => {
  it("embedding (repeated indices; paddingIdx deliberately has no gradient, so it is checked in the golden tests)", () => {
    const w = leaf(randn(5, 3, f64));
    const idx = tensor([
      [0, 2, 2],
      [4, 1, 0],
    ]);
    expect(gradcheck((w) => F.embedding(idx, w), [w])).toBe(true);
    expect(gradcheck((w) => F.embedding(idx, w, { paddingIdx: 3 }), [w])).toBe(true);
  });
  it("binaryCrossEntropy w.r.t. input and target, with weight", () => {
    const x = leaf(rand(3, 4, f64).mul(0.8).add(0.1).detach());
    const y = leaf(rand(3, 4, f64));
    const w = rand(4, f64).add(0.5);
    expect(gradcheck((x, y) => F.binaryCrossEntropy(x, y, { weight: w, reduction: "none" }), [x, y])).toBe(
      true,
    );
    expect(gradcheck((x, y) => F.binaryCrossEntropy(x, y), [x, y])).toBe(true);
  });
  it("binaryCrossEntropyWithLogits w.r.t. input and target, with weight and posWeight", () => {
    const x = leaf(randn(3, 4, f64).mul(3).detach());
    const y = leaf(rand(3, 4, f64));
    const w = rand(4, f64).add(0.5);
    const pw = rand(4, f64).mul(3);
    expect(
      gradcheck(
        (x, y) => F.binaryCrossEntropyWithLogits(x, y, { weight: w, posWeight: pw, reduction: "none" }),
        [x, y],
      ),
    ).toBe(true);
    expect(gradcheck((x, y) => F.binaryCrossEntropyWithLogits(x, y, { reduction: "sum" }), [x, y])).toBe(
      true,
    );
  });
});

describe("gradcheck: composites", () => {
  it("crossEntropy with class indices, weight, ignoreIndex and label smoothing", () => {
    const x = leaf(randn(5, 4, f64));
    const y = tensor([0, 3, 1, 3, 2]);
    const w = tensor([0.5, 1, 2, 0.25], f64);
    expect(
      gradcheck((x) => F.crossEntropy(x, y, { weight: w, ignoreIndex: 3, labelSmoothing: 0.1 }), [x]),
    ).toBe(true);
    expect(gradcheck((x) => F.crossEntropy(x, y, { reduction: "none" }), [x])).toBe(true);
  });
  it("crossEntropy with probability targets (w.r.t. both) and K-dim inputs", () => {
    const x = leaf(randn(2, 3, 2, f64));
    const p = leaf(randn(2, 3, 2, f64).softmax(1).detach());
    expect(gradcheck((x, p) => F.crossEntropy(x, p, { labelSmoothing: 0.2 }), [x, p])).toBe(true);
    expect(
      gradcheck(
        (x) =>
          F.crossEntropy(
            x,
            tensor([
              [0, 2],
              [1, 1],
            ]),
          ),
        [x],
      ),
    ).toBe(true);
  });
  it("nllLoss, klDiv, smoothL1Loss, huberLoss", () => {
    const x = leaf(randn(4, 3, f64));
    const y = leaf(randn(4, 3, f64));
    expect(
      gradcheck(
        (x) => F.nllLoss(x.logSoftmax(1), tensor([0, 2, 1, 2]), { weight: tensor([1, 2, 3], f64) }),
        [x],
      ),
    ).toBe(true);
    const p = leaf(randn(4, 3, f64).softmax(1).detach());
    expect(gradcheck((x, p) => F.klDiv(x.logSoftmax(1), p, { reduction: "batchmean" }), [x, p])).toBe(true);
    expect(gradcheck((x, p) => F.klDiv(x, p, { logTarget: true }), [x, y])).toBe(true);
    expect(gradcheck((x, y) => F.smoothL1Loss(x, y, { beta: 0.5 }), [x, y])).toBe(true);
    expect(gradcheck((x, y) => F.huberLoss(x, y, { delta: 0.7, reduction: "sum" }), [x, y])).toBe(true);
  });
  it("batchNorm in training (input, weight, bias) and layerNorm", () => {
    const x = leaf(randn(4, 3, 2, f64));
    const w = leaf(randn(3, f64));
    const b = leaf(randn(3, f64));
    expect(
      gradcheck((x, w, b) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }), [x, w, b]),
    ).toBe(true);
    const w2 = leaf(randn(3, 2, f64));
    const b2 = leaf(randn(3, 2, f64));
    expect(gradcheck((x, w, b) => F.layerNorm(x, [3, 2], { weight: w, bias: b }), [x, w2, b2])).toBe(true);
  });
  it("groupNorm", () => {
    const x = leaf(randn(2, 4, 3, f64));
    const w = leaf(randn(4, f64));
    const b = leaf(randn(4, f64));
    expect(gradcheck((x, w, b) => F.groupNorm(x, 2, { weight: w, bias: b }), [x, w, b])).toBe(true);
  });
  it("linear (input, weight, bias)", () => {
    const x = leaf(randn(2, 3, 4, f64));
    const w = leaf(randn(5, 4, f64));
    const b = leaf(randn(5, f64));
    expect(gradcheck((x, w, b) => F.linear(x, w, b), [x, w, b])).toBe(true);
  });
  it("activations: gelu (both forms), elu, silu, softplus, mish, leakyRelu, logSoftmax", () => {
    // away from the kinks at 0 where finite differences are undefined
    const x = leaf(tensor([-2.5, -1.2, -0.3, 0.4, 1.1, 3], f64));
    for (const fn of [
      (x: Tensor) => F.gelu(x),
      (x: Tensor) => F.gelu(x, { approximate: "tanh" }),
      (x: Tensor) => F.elu(x, 1.3),
      (x: Tensor) => F.silu(x),
      (x: Tensor) => F.softplus(x, { beta: 2 }),
      (x: Tensor) => F.mish(x),
      (x: Tensor) => F.leakyRelu(x, 0.2),
      (x: Tensor) => F.selu(x),
      (x: Tensor) => F.logSoftmax(x.reshape(2, 3), 1),
    ]) {
      expect(gradcheck(fn, [x])).toBe(true);
    }
  });
  it("pad in every mode", () => {
    const x = leaf(randn(1, 2, 3, 4, f64));
    expect(gradcheck((x) => F.pad(x, [1, 2, -1, 1], { value: 0.5 }), [x])).toBe(true);
    expect(gradcheck((x) => F.pad(x, [2, 1, 1, 2], "reflect"), [x])).toBe(true);
    expect(gradcheck((x) => F.pad(x, [2, 1, 1, 0], "replicate"), [x])).toBe(true);
    expect(gradcheck((x) => F.pad(x, [2, 3], "circular"), [x])).toBe(true);
  });
});

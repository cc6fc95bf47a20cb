/**
 * nn.functional with PyTorch's signatures: gradients of the functions added or changed with the conversion
 * (finite differences, and PyTorch 1.13's values where a rule is PyTorch's own), and the call forms in TypeScript.
 */
import { gradcheck } from "@cinder/autograd";
import { ArgumentError, manualSeed, randn, type Tensor, tensor } from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { F } from "../src";
import "./helpers";

const f64 = { dtype: "float64" as const };
const leaf = (x: Tensor) => x.requiresGrad_(true);

beforeAll(() => manualSeed(7));

describe("gradients", () => {
  it("logsigmoid, celu, elu, softplus, hardtanh with their parameters", () => {
    const x = leaf(randn(2, 5, f64).mul(3).detach());
    for (const fn of [
      (x: Tensor) => F.logsigmoid(x),
      (x: Tensor) => F.celu(x, 0.7),
      (x: Tensor) => F.elu(x, { alpha: 1.5 }),
      (x: Tensor) => F.softplus(x, 2, 1),
      (x: Tensor) => F.hardtanh(x, -2.5, 2.5),
      (x: Tensor) => F.softmin(x, 1, { dtype: "float64" }),
    ]) {
      expect(gradcheck(fn, [x])).toBe(true);
    }
  });
  it("the added activations, distances and bilinear", () => {
    const x = leaf(randn(2, 4, f64).mul(3).detach());
    const y = leaf(randn(2, 4, f64));
    const w = leaf(randn(4, f64));
    const bw = leaf(randn(3, 4, 4, f64));
    for (const fn of [
      (x: Tensor) => F.hardsigmoid(x),
      (x: Tensor) => F.softsign(x),
      (x: Tensor) => F.tanhshrink(x),
      (x: Tensor) => F.softshrink(x, 0.3),
      (x: Tensor) => F.glu(x, 1),
      (x: Tensor) => F.rrelu(x, 0.1, 0.3),
    ]) {
      expect(gradcheck(fn, [x])).toBe(true);
    }
    expect(gradcheck((x, w) => F.prelu(x, w), [x, w])).toBe(true);
    expect(gradcheck((x, y) => F.cosineSimilarity(x, y), [x, y])).toBe(true);
    expect(gradcheck((x, y) => F.pairwiseDistance(x, y, 3), [x, y])).toBe(true);
    expect(gradcheck((x, y, bw) => F.bilinear(x, y, bw), [x, y, bw])).toBe(true);
  });
  it("interpolate in its interpolating modes", () => {
    const x = leaf(randn(1, 2, 3, 4, f64));
    expect(gradcheck((x) => F.interpolate(x, [5, 7], null, "bilinear"), [x])).toBe(true);
    expect(
      gradcheck((x) => F.interpolate(x, { scaleFactor: 1.5, mode: "bicubic", alignCorners: true }), [x]),
    ).toBe(true);
    expect(gradcheck((x) => F.interpolate(x, { size: [2, 3], mode: "area" }), [x])).toBe(true);
  });
  it("adaptive max pooling, power-average pooling, local response norm, pixel shuffle", () => {
    const x = leaf(randn(1, 2, 5, 6, f64));
    expect(gradcheck((x) => F.adaptiveMaxPool2d(x, [2, 4]), [x])).toBe(true);
    expect(gradcheck((x) => F.lpPool2d(x.abs().add(0.5), 2, 2), [x])).toBe(true);
    expect(gradcheck((x) => F.localResponseNorm(x, 3, 0.5), [x])).toBe(true);
    const y = leaf(randn(1, 4, 2, 3, f64));
    expect(gradcheck((y) => F.pixelShuffle(y, 2), [y])).toBe(true);
    const [out, idx] = F.adaptiveMaxPool2d(x, 2, true);
    expect(out.shape).toEqual([1, 2, 2, 2]);
    expect(idx.dtype).toBe("int64");
  });
  it("maxUnpool2d puts gradients back through the indices; pdist; multilabelMarginLoss", () => {
    const x = leaf(randn(1, 2, 4, 6, f64));
    const [pooled, idx] = F.maxPool2d(x.detach(), 2, { returnIndices: true });
    const p = leaf(pooled);
    expect(gradcheck((p) => F.maxUnpool2d(p, idx, 2), [p])).toBe(true);
    const r = leaf(randn(4, 3, f64));
    expect(gradcheck((r) => F.pdist(r, 3), [r])).toBe(true);
    const t = tensor([
      [3, 0, -1, 1],
      [1, 2, 3, -1],
    ]);
    const m = leaf(randn(2, 4, f64));
    expect(gradcheck((m) => F.multilabelMarginLoss(m, t), [m])).toBe(true);
  });
  it("tripletMarginWithDistanceLoss takes a distance function as a keyword-only option", () => {
    const [a, p, n] = [randn(3, 4), randn(3, 4), randn(3, 4)];
    const l1 = (u: Tensor, v: Tensor) => u.sub(v).abs().sum({ dim: 1 });
    const got = F.tripletMarginWithDistanceLoss(a, p, n, { distanceFunction: l1, margin: 0.5 });
    const want = l1(a, p).sub(l1(a, n)).add(0.5).clamp({ min: 0 }).mean();
    expect(got.item()).toBeCloseTo(want.item() as number, 6);
    // keyword-only: a fourth positional argument is an error
    expect(() =>
      (F.tripletMarginWithDistanceLoss as unknown as (...a: unknown[]) => Tensor)(a, p, n, l1),
    ).toThrow(/takes 3 positional arguments/);
  });
  it("embeddingBag in every mode", () => {
    const w = leaf(randn(5, 3, f64));
    const bag = tensor([0, 2, 1, 3, 3, 4]);
    const offs = tensor([0, 2, 2]);
    const psw = leaf(randn(6, f64));
    expect(gradcheck((w) => F.embeddingBag(bag, w, offs), [w])).toBe(true);
    expect(gradcheck((w) => F.embeddingBag(bag, w, offs, { mode: "max" }), [w])).toBe(true);
    expect(
      gradcheck((w, psw) => F.embeddingBag(bag, w, offs, { mode: "sum", perSampleWeights: psw }), [w, psw]),
    ).toBe(true);
    expect(gradcheck((w) => F.embeddingBag(bag, w, offs, { paddingIdx: 3 }), [w])).toBe(true);
  });
  it("affineGrid and gridSample: gradients reach the input, the grid and theta", () => {
    const x = leaf(randn(1, 2, 4, 5, f64));
    const theta = leaf(
      tensor(
        [
          [
            [0.9, -0.2, 0.1],
            [0.3, 1.1, -0.2],
          ],
        ],
        f64,
      ),
    );
    for (const [mode, paddingMode] of [
      ["bilinear", "zeros"],
      ["bilinear", "reflection"],
      ["bicubic", "border"],
    ] as const) {
      expect(
        gradcheck(
          (x, theta) => F.gridSample(x, F.affineGrid(theta, [1, 2, 3, 3], false), mode, paddingMode, false),
          [x, theta],
        ),
        `${mode} ${paddingMode}`,
      ).toBe(true);
    }
  });
  it("ctcLoss: the composed gradient is the true one, and zeroInfinity gives zero (not NaN) gradients", () => {
    const x = leaf(randn(5, 2, 4, f64));
    const targets = tensor([
      [1, 2, 2],
      [3, 1, 0],
    ]);
    expect(gradcheck((x) => F.ctcLoss(x.logSoftmax(2), targets, [5, 4], [3, 2]), [x])).toBe(true);
    const y = leaf(randn(2, 1, 4, f64));
    const loss = F.ctcLoss(y.logSoftmax(2), tensor([[1, 1, 1]]), [2], [3], { zeroInfinity: true });
    expect(loss.item()).toBe(0);
    loss.backward();
    expect(Array.from(y.grad!.data()).every((g) => g === 0)).toBe(true);
  });
  it("conv3d and convTranspose3d", () => {
    const x = leaf(randn(1, 2, 4, 3, 3, f64));
    const w = leaf(randn(2, 2, 2, 2, 2, f64));
    const b = leaf(randn(2, f64));
    expect(gradcheck((x, w, b) => F.conv3d(x, w, b, 1, [1, 0, 1], [2, 1, 1]), [x, w, b])).toBe(true);
    expect(gradcheck((x, w, b) => F.convTranspose3d(x, w, b, 2, 1, [1, 0, 0]), [x, w, b])).toBe(true);
  });
  it("3-D pooling", () => {
    const x = leaf(randn(1, 2, 4, 3, 5, f64));
    expect(gradcheck((x) => F.maxPool3d(x, 2, 1, 1), [x])).toBe(true);
    expect(gradcheck((x) => F.avgPool3d(x, 3, 2, 1, true, false), [x])).toBe(true);
    expect(gradcheck((x) => F.adaptiveAvgPool3d(x, [3, 2, 2]), [x])).toBe(true);
    expect(gradcheck((x) => F.adaptiveMaxPool3d(x, [3, 2, 2]), [x])).toBe(true);
    const [p, i] = F.maxPool3d(x.detach(), 2, { returnIndices: true });
    expect(F.maxUnpool3d(p, i, 2, { outputSize: [4, 3, 5] }).shape).toEqual([1, 2, 4, 3, 5]);
  });
  it("fractional max pooling", () => {
    const x = leaf(randn(1, 2, 7, 8, f64));
    const samples = tensor(
      [
        [
          [0.3, 0.7],
          [0.9, 0.1],
        ],
      ],
      f64,
    );
    expect(gradcheck((x) => F.fractionalMaxPool2d(x, 2, [3, 4], null, false, samples), [x])).toBe(true);
    const [y, i] = F.fractionalMaxPool2d(x.detach(), 2, { outputRatio: 0.5, returnIndices: true });
    expect(y.shape).toEqual([1, 2, 3, 4]);
    expect(i.dtype).toBe("int64");
  });
  it("multiHeadAttentionForward", () => {
    const q = leaf(randn(3, 2, 4, f64));
    const kv = randn(5, 2, 4, f64);
    const w = leaf(randn(12, 4, f64).mul(0.5).detach());
    const ow = randn(4, 4, f64);
    const kpm = tensor([
      [false, false, true, false, true],
      [false, false, false, false, false],
    ]);
    expect(
      gradcheck(
        (q, w) => {
          const [out, weights] = F.multiHeadAttentionForward(
            q,
            kv,
            kv,
            4,
            2,
            w,
            null,
            null,
            null,
            true,
            0,
            ow,
            null,
            {
              keyPaddingMask: kpm,
            },
          );
          return out.sum().add(weights!.square().sum());
        },
        [q, w],
      ),
    ).toBe(true);
  });
  it("the added losses", () => {
    const x = leaf(randn(3, 4, f64));
    const x2 = leaf(randn(3, 4, f64));
    const sign = randn(3, 4, f64).sign();
    const t = tensor([1, 3, 0]);
    const v = leaf(randn(3, 4, f64).abs().add(0.1).detach());
    expect(gradcheck((x) => F.softMarginLoss(x, sign), [x])).toBe(true);
    expect(gradcheck((x, x2) => F.marginRankingLoss(x, x2, sign, 0.1), [x, x2])).toBe(true);
    expect(gradcheck((x) => F.hingeEmbeddingLoss(x, sign, 0.5), [x])).toBe(true);
    expect(gradcheck((x, x2) => F.cosineEmbeddingLoss(x, x2, tensor([1, -1, -1], f64)), [x, x2])).toBe(true);
    expect(gradcheck((x) => F.multilabelSoftMarginLoss(x, sign.clamp({ min: 0 })), [x])).toBe(true);
    expect(gradcheck((x) => F.poissonNllLoss(x, sign.add(2), true, true), [x])).toBe(true);
    expect(gradcheck((x, v) => F.gaussianNllLoss(x, x2.detach(), v), [x, v])).toBe(true);
    expect(gradcheck((x, x2) => F.tripletMarginLoss(x, x2, x2.flip(0), 1, 2, 1e-6, true), [x, x2])).toBe(
      true,
    );
    expect(gradcheck((x) => F.multiMarginLoss(x, t, 2, 0.5), [x])).toBe(true);
  });
  it("logsigmoid: 1 - sigmoid(x) everywhere, also at 0 and far out", () => {
    const x = leaf(tensor([-100, -1, 0, 1, 100], f64));
    F.logsigmoid(x).sum().backward();
    const want = [1, 1 - 1 / (1 + Math.exp(1)), 0.5, 1 - 1 / (1 + Math.exp(-1)), 0];
    Array.from(x.grad!.data()).forEach((g, i) => {
      expect(g).toBeCloseTo(want[i], 12);
    });
    const far = Array.from(F.logsigmoid(tensor([-100, 100], f64)).data());
    expect(far[0]).toBe(-100);
    expect(far[1]).toBeCloseTo(0, 40);
  });
  it("instanceNorm and batchNorm with weight and bias", () => {
    const x = leaf(randn(2, 3, 4, f64));
    const w = leaf(randn(3, f64));
    const b = leaf(randn(3, f64));
    expect(gradcheck((x, w, b) => F.instanceNorm(x, null, null, w, b), [x, w, b])).toBe(true);
    expect(gradcheck((x, w, b) => F.batchNorm(x, null, null, w, b, true), [x, w, b])).toBe(true);
  });
  it("pad with negative amounts in every mode (PyTorch 1.13's gradients)", () => {
    const cases = {
      reflect: [3, 6, 1, 0, 0],
      replicate: [6, 4, 0, 0, 0],
      circular: [4, 6, 0, 0, 0],
    } as const;
    for (const [mode, want] of Object.entries(cases)) {
      const x = leaf(tensor([[[1, 2, 3, 4, 5]]], f64));
      F.pad(x, [2, -3], mode as "reflect")
        .mul(tensor([1, 2, 3, 4], f64))
        .sum()
        .backward();
      expect(Array.from(x.grad!.data()), mode).toEqual(want);
    }
    const y = leaf(randn(1, 2, 4, 5, f64));
    expect(gradcheck((y) => F.pad(y, [-1, 2, 1, -2], "reflect"), [y])).toBe(true);
    expect(gradcheck((y) => F.pad(y, [2, -1, -1, 1], "circular"), [y])).toBe(true);
  });
  it("embedding with scaleGradByFreq divides each row's gradient by its count (PyTorch's values)", () => {
    const w = leaf(
      tensor(
        [
          [0.5, -1, 2],
          [1, 0.25, -0.5],
          [3, 4, 0],
          [-1, 0.5, 0.5],
        ],
        f64,
      ),
    );
    const idx = tensor([
      [0, 2, 3],
      [3, 3, 1],
    ]);
    F.embedding(idx, w, { scaleGradByFreq: true })
      .mul(
        tensor(
          Array.from({ length: 18 }, (_, i) => i),
          f64,
        ).reshape(2, 3, 3),
      )
      .sum()
      .backward();
    expect(w.grad!.toArray()).toEqual([
      [0, 1, 2],
      [15, 16, 17],
      [3, 4, 5],
      [9, 10, 11],
    ]);
  });
  it("dropout2d zeroes whole channels and scales the rest", () => {
    const x = randn(4, 8, 3, 3).abs().add(1);
    const y = F.dropout2d(x, 0.5);
    const kept = y
      .ne(0)
      .float()
      .sum({ dim: [2, 3] });
    for (const v of kept.data()) expect([0, 9]).toContain(v);
    expect(y.div(x).maskedFill(y.eq(0), 2).allclose(tensor(2).expandAs(y))).toBe(true);
  });
});

describe("TypeScript call forms", () => {
  it("positional, options and mixed give the same result", () => {
    const x = randn(2, 3, 5, 5);
    const w = randn(4, 3, 3, 3);
    const a = F.conv2d(x, w, null, 2, 1);
    const b = F.conv2d(x, w, { stride: 2, padding: 1 });
    const c = F.conv2d(x, w, null, { padding: 1, stride: 2 });
    expect(a.allclose(b)).toBe(true);
    expect(a.allclose(c)).toBe(true);
    const [out, idx] = F.maxPool2d(x, 2, { returnIndices: true });
    expect(out.shape).toEqual([2, 3, 2, 2]);
    expect(idx.dtype).toBe("int64");
    const [out2] = F.maxPool2d(x, 2, null, 0, 1, false, true);
    expect(out2.allclose(out)).toBe(true);
    expect(F.maxPool2d(x, 3, 2).shape).toEqual([2, 3, 2, 2]);
  });
  it("misuse throws an ArgumentError", () => {
    const x = randn(2, 3);
    // @ts-expect-error: an unknown option
    expect(() => F.relu(x, { inPlace: true })).toThrow(ArgumentError);
    // @ts-expect-error: a string where a float goes
    expect(() => F.dropout(x, "0.5")).toThrow(/argument "p" must be float, got str "0.5"/);
    // @ts-expect-error: too many arguments
    expect(() => F.sigmoid(x, 1)).toThrow(/takes 1 positional argument \(input\) but 2 were given/);
  });
});

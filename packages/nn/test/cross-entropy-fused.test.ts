/**
 * crossEntropy's fused path ([N, C] scores, in-range class indices, no weight, ignored target or label smoothing):
 * it is the one taken (a counter, and one NllLossBackward0 node straight to the scores) and gives the bits of the
 * general path, nllLoss(logSoftmax(x)), forward and backward; anything else still takes the general path.
 */
import { gradcheck } from "@cinder/autograd";
import { randn, signature, type Tensor, tensor, zerosLike } from "@cinder/tensor";
import { describe, expect, it, vi } from "vitest";
import * as nn from "../src";
import "./helpers";

const { F } = nn;
const y = tensor([0, 4, 2, 2, 1, 3], { dtype: "int32" });

function gradOf(loss: Tensor, x: Tensor, g: Tensor): Tensor {
  x.grad = null;
  loss.backward(g);
  return x.grad as unknown as Tensor;
}

describe("crossEntropy: fused log-softmax + NLL", () => {
  for (const dtype of ["float32", "float64"] as const) {
    for (const reduction of ["mean", "sum", "none"] as const) {
      it(`${dtype}, reduction ${reduction}: taken, and the general path's bits`, () => {
        const x = randn([6, 5], { dtype }).mul(4).requiresGrad_();
        const before = F.crossEntropyStats.fused;
        const fused = F.crossEntropy(x, y, { reduction });
        expect(F.crossEntropyStats.fused).toBe(before + 1);
        expect(fused.gradFn?.name).toBe("NllLossBackward0");
        expect(fused.gradFn?.nextFunctions.map(([n]) => n?.name ?? null)).toEqual(["AccumulateGrad"]);
        const general = F.nllLoss(x.logSoftmax(1), y, { reduction });
        expect(F.crossEntropyStats.fused).toBe(before + 1);
        expect(fused.equal(general)).toBe(true);
        const g = randn(fused.shape, { dtype });
        expect(gradOf(fused, x, g).equal(gradOf(general, x, g))).toBe(true);
      });
    }
  }

  it("int64 targets (PyTorch's, MNIST's) take it, indexing as they are: the int32 targets' bits", () => {
    const x = randn([6, 5]).mul(4).requiresGrad_();
    const before = F.crossEntropyStats.fused;
    const got = F.crossEntropy(x, y.long());
    expect(F.crossEntropyStats.fused).toBe(before + 1);
    const want = F.crossEntropy(x, y);
    expect(got.equal(want)).toBe(true);
    const g = randn([]);
    expect(gradOf(got, x, g).equal(gradOf(want, x, g))).toBe(true);
    expect(() => F.crossEntropy(x, tensor([0, 9, 0, 0, 0, 0], { dtype: "int64" }))).toThrow();
  });

  it("the module, an unbatched input and gradcheck take it too", () => {
    const before = F.crossEntropyStats.fused;
    const x = randn(3, 4, { dtype: "float64" }).requiresGrad_();
    const t = tensor([3, 0, 1], { dtype: "int32" });
    expect(gradcheck((x) => F.crossEntropy(x, t), [x])).toBe(true);
    expect(gradcheck((x) => F.crossEntropy(x, t, { reduction: "none" }), [x])).toBe(true);
    const v = randn(4);
    expect(F.crossEntropy(v, tensor(2), { reduction: "none" }).shape).toEqual([]);
    expect(new nn.CrossEntropyLoss()(x, t).item()).toBeCloseTo(
      F.nllLoss(x.logSoftmax(1), t).item() as number,
      12,
    );
    expect(F.crossEntropyStats.fused).toBeGreaterThan(before + 3);
  });

  it("weights, ignored targets, label smoothing, K-dim inputs and bad targets take the general path", () => {
    const x = randn(6, 5);
    const before = F.crossEntropyStats.fused;
    F.crossEntropy(x, y, { weight: randn(5).abs() });
    F.crossEntropy(x, tensor([0, -100, 2, 2, 1, 3], { dtype: "int32" }));
    F.crossEntropy(x, y, { labelSmoothing: 0.1 });
    F.crossEntropy(
      randn(6, 5, 2),
      tensor(
        [
          [0, 1],
          [4, 4],
          [2, 0],
          [2, 2],
          [1, 1],
          [3, 3],
        ],
        { dtype: "int32" },
      ),
    );
    expect(() => F.crossEntropy(x, tensor([0, 5, 2, 2, 1, 3], { dtype: "int32" }))).toThrow(
      /Target 5 is out of bounds/,
    );
    expect(F.crossEntropyStats.fused).toBe(before);
  });
});

describe("the loss modules' calls take the signature's fast parser", () => {
  it("CrossEntropyLoss, NLLLoss (general path) forward and backward, zerosLike: no general parser", () => {
    const x = randn([6, 5]).requiresGrad_();
    const ce = new nn.CrossEntropyLoss();
    const nll = new nn.NLLLoss({ ignoreIndex: 1 });
    const ref = [F.crossEntropy(x, y), F.nllLoss(x.logSoftmax(1), y, { ignoreIndex: 1 })];
    const general = vi.spyOn(Object.getPrototypeOf(signature("probe", [])), "parseGeneral");
    try {
      const out = [ce(x, y), nll(x.logSoftmax(1), y)];
      out[0].add(out[1]).backward();
      expect(out[0].equal(ref[0])).toBe(true);
      expect(out[1].equal(ref[1])).toBe(true);
      expect(zerosLike(x, { dtype: "float64" }).dtype).toBe("float64"); // options skipping memoryFormat
      expect(general).not.toHaveBeenCalled();
    } finally {
      general.mockRestore();
    }
  });
});

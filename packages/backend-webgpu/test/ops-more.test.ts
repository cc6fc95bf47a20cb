/**
 * The rest of issue 14 on webgpu: random sampling draws the same values as on the cpu for a seed (the counter-based
 * stream is the same on every device), the aliases and the composite linalg functions run through the primitives
 * (outputs and gradients equal the cpu's), and the functions whose kernels run on the host (multinomial, poisson,
 * matrix_exp's scaling, lu, matrix_rank) fail with an error naming the async way instead. Small shapes: SwiftShader
 * is slow.
 */
import "@cinder/autograd";
import * as torch from "@cinder/tensor";
import { assertClose } from "@cinder/tensor/testing";
import { describe, expect, it } from "vitest";
import { compareWithGrad, data, type TensorFn } from "./helpers";
import { gpu } from "./setup";

const tol = { rtol: 1e-4, atol: 1e-5 };

/** `draw(device)` after seeding, on webgpu and on the cpu: the same values. */
async function sameDraw(what: string, draw: (device: string) => torch.Tensor): Promise<void> {
  torch.manualSeed(5);
  const g = draw("webgpu");
  torch.manualSeed(5);
  const c = draw("cpu");
  expect(g.device, what).toBe("webgpu");
  assertClose(await g.dataAsync(), c.data(), tol, what);
}

describe.skipIf(!gpu)("random sampling on webgpu draws the cpu's values", () => {
  it("normal, bernoulli, bernoulli_ and the in-place fills", async () => {
    const on = (d: string, v: number[]) => torch.tensor(v, { dtype: "float32", device: d });
    await sameDraw("normal(tensor, tensor)", (d) => torch.normal(on(d, [0, 1, 2]), on(d, [1, 0.5, 2])));
    await sameDraw("normal(float, float, size)", (d) => torch.normal(1, 2, [2, 3], { device: d }));
    await sameDraw("bernoulli", (d) => torch.bernoulli(on(d, [0.1, 0.5, 0.9, 0.3])));
    await sameDraw("bernoulli_", (d) => torch.zeros(2, 3, { device: d }).bernoulli_(0.4));
    await sameDraw("exponential_", (d) => torch.zeros(5, { device: d }).exponential_(2));
    await sameDraw("geometric_", (d) => torch.zeros(5, { device: d }).geometric_(0.3));
    await sameDraw("logNormal_", (d) => torch.zeros(5, { device: d }).logNormal_(0, 0.5));
    await sameDraw("cauchy_", (d) => torch.zeros(5, { device: d }).cauchy_());
    await sameDraw("random_", (d) => torch.zeros(5, { dtype: "int32", device: d }).random_(0, 10));
    await sameDraw("random_ (31 bits)", (d) => torch.zeros(5, { dtype: "int32", device: d }).random_());
  });
  it("out-of-range tensor parameters give NaN there (no synchronous check on webgpu)", async () => {
    const d = "webgpu";
    const y = torch.normal(
      torch.zeros(3, { device: d }),
      torch.tensor([1, -1, 1], { dtype: "float32", device: d }),
    );
    expect(Array.from(await y.dataAsync(), Number.isNaN)).toEqual([false, true, false]);
    const b = torch.bernoulli(torch.tensor([0.5, 1.5], { dtype: "float32", device: d }));
    expect(Array.from(await b.dataAsync(), Number.isNaN)).toEqual([false, true]);
  });
  it("multinomial and poisson run on the host: an error naming toAsync", () => {
    const p = torch.ones(4, { device: "webgpu" });
    expect(() => torch.multinomial(p, 2)).toThrow(/toAsync\("cpu"\)/);
    expect(() => torch.poisson(p)).toThrow(/toAsync\("cpu"\)/);
  });
});

describe.skipIf(!gpu)("aliases and composite linalg on webgpu equal the cpu's", () => {
  const cases: [string, number[][], TensorFn][] = [
    [
      "arccos + arctan2 + multiply",
      [
        [2, 3],
        [2, 3],
      ],
      (x, y) => torch.arccos(x.mul(0.9)).add(torch.arctan2(x, y)).multiply(y),
    ],
    [
      "swapaxes + greater + fix",
      [[2, 3]],
      (x) =>
        x
          .swapaxes(0, 1)
          .mul(x.t().greater(0))
          .add(torch.fix(x.t().mul(3))),
    ],
    ["matrixPower", [[3, 3]], (x) => torch.linalg.matrixPower(x, 3)],
    ["multiDot", [[3], [3, 2], [2, 4]], (a, b, c) => torch.linalg.multiDot([a, b, c])],
    [
      "vander + vecdot",
      [[2, 3]],
      (x) => torch.linalg.vander(x).sum(-1).add(torch.linalg.vecdot(x, x).unsqueeze(-1)),
    ],
    ["householderProduct", [[3, 2], [2]], (a, t) => torch.linalg.householderProduct(a, t)],
  ];
  for (const [name, shapes, fn] of cases) {
    it(name, () => compareWithGrad(name, fn, shapes, (n, i) => data(n, 31 + i)));
  }
  it("host-kernel linalg (matrixExp, lu, matrixRank) names toAsync", () => {
    const A = torch.eye(3, { device: "webgpu" });
    expect(() => torch.linalg.matrixExp(A)).toThrow(/itemAsync|toAsync/);
    expect(() => torch.linalg.lu(A)).toThrow(/toAsync\("cpu"\)/);
    expect(() => torch.linalg.matrixRank(A)).toThrow(/toAsync\("cpu"\)/);
  });
});

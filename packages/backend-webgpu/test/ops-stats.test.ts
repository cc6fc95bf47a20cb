/**
 * The statistics, order statistics, extra scans and scatter_reduce of issue 14 run on webgpu through the
 * primitives they are built from (sort, gather, scatter, elementwise, log-depth scans): outputs, indices and
 * gradients equal the cpu's (their PyTorch values are checked on the cpu by tests/test/ops-stats.test.ts). Small
 * shapes: SwiftShader is slow.
 */
import "@cinder/autograd";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { compareWithGrad, data, pair, same, type TensorFn } from "./helpers";
import { gpu } from "./setup";

type Fn = TensorFn;

/** Forward and backward on webgpu and on the cpu, compared (values rounded to quarters: ties included). */
const compare = (name: string, fn: Fn, shapes: number[][]) =>
  compareWithGrad(name, fn, shapes, (n, i) => data(n, 21 + i, -2, 2).map((v) => Math.round(v * 4) / 4));

const on = (x: torch.Tensor, values: number[] | number[][]) => torch.tensor(values, { device: x.device });

describe.skipIf(!gpu)("issue 14 statistics and scans on webgpu equal the cpu's", () => {
  const cases: [string, number[][], Fn][] = [
    ["cummax", [[3, 6]], (x) => x.cummax(1).values],
    ["cummin (dim 0)", [[5, 2]], (x) => x.cummin(0).values],
    ["logcumsumexp", [[2, 7]], (x) => x.mul(3).logcumsumexp(1)],
    ["median along a dim", [[3, 5]], (x) => x.median(1).values],
    ["nanmedian with NaN", [[3, 4]], (x) => x.maskedFill(x.gt(1.2), Number.NaN).nanmedian(1).values],
    ["median of all", [[4, 3]], (x) => x.median()],
    ["kthvalue", [[4, 5]], (x) => x.kthvalue(2, 0).values],
    ["mode", [[3, 6]], (x) => x.mode(1).values],
    ["quantile (linear, two q, dim)", [[3, 5]], (x) => x.quantile(on(x, [0.2, 0.75]).float(), 1)],
    ["nanquantile (midpoint)", [[6]], (x) => x.nanquantile(0.4, { interpolation: "midpoint" })],
    ["stdMean", [[3, 4]], (x) => torch.stdMean(x, 1)[0].add(torch.stdMean(x, 1)[1])],
    [
      "scatterReduce sum + amax",
      [
        [3, 4],
        [3, 3],
      ],
      (x, s) => {
        const idx = on(x, [
          [0, 3, 3],
          [1, 1, 1],
          [2, 0, 2],
        ]);
        return x
          .scatterReduce(1, idx, s, "sum")
          .add(x.scatterReduce(1, idx, s, "amax", { includeSelf: false }));
      },
    ],
    [
      "scatterReduce prod + mean",
      [[5], [6]],
      (x, s) => {
        const idx = on(x, [0, 4, 4, 2, 0, 4]);
        return x.scatterReduce(0, idx, s, "prod").add(x.scatterReduce(0, idx, s, "mean"));
      },
    ],
    ["scatterReduce amin", [[4], [5]], (x, s) => x.scatterReduce(0, on(x, [3, 3, 1, 0, 3]), s, "amin")],
  ];
  for (const [name, shapes, fn] of cases) it(name, () => compare(name, fn, shapes));

  it("indices, integer inputs and counts", async () => {
    const x = pair(
      data(24, 31, -3, 3, true).map((v) => v),
      [4, 6],
    );
    const xi = pair(data(24, 32, 0, 4, true), [4, 6], "int32");
    await same("cummax indices", [x], (t) => t.cummax(1).indices, { rtol: 0, atol: 0 });
    await same("median indices", [x], (t) => t.median(0).indices, { rtol: 0, atol: 0 });
    await same("mode of ints", [xi], (t) => t.mode(1).values, { rtol: 0, atol: 0 });
    await same("mode indices", [xi], (t) => t.mode(1).indices, { rtol: 0, atol: 0 });
    await same("kthvalue indices", [x], (t) => t.kthvalue(3).indices, { rtol: 0, atol: 0 });
    await same("countNonzero", [xi], (t) => t.countNonzero(1), { rtol: 0, atol: 0 });
    await same("aminmax", [x], (t) => torch.cat(torch.aminmax(t, { dim: 0 }) as unknown as torch.Tensor[]));
    await same("scatterReduce amax of ints", [xi], (t) =>
      t.scatterReduce(
        1,
        torch
          .tensor([[0, 0, 5]], { device: t.device })
          .expand(4, 3)
          .contiguous(),
        t,
        "amax",
      ),
    );
  });

  it("unique needs synchronous reads and says how to get them", () => {
    const g = torch.tensor([3, 1, 3], { device: "webgpu" });
    expect(() => torch.unique(g)).toThrow(/toAsync\("cpu"\)/);
  });
});
